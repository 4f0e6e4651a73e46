//! Compaction, on the client and on the server, with the exact requests
//! sent around it.

use crate::support;

use support::*;

use std::sync::{Arc, Mutex};

use serde_json::json;
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{
    Compaction, DEFAULT_COMPACTION_PROMPT, MessageParam, MessageParams, tool, toolset,
};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn params() -> MessageParams {
    MessageParams::new("claude-test", 512)
        .system("You add numbers.")
        .user("Add things up.")
}

#[tokio::test]
async fn a_large_turn_is_summarised_and_its_tool_results_kept() {
    let turn1 = message_with_usage(
        "msg_1",
        json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
        "tool_use",
        100,
        20,
    );
    let turn2 = message_with_usage(
        "msg_2",
        json!([
            text("Next."),
            tool_use("toolu_2", "add", json!({"a": 3, "b": 4}))
        ]),
        "tool_use",
        900,
        150,
    );
    let server = ScriptedServer::start(Sequence::new([
        Reply::message(turn1.clone()),
        Reply::message(turn2.clone()),
        Reply::message(message_with_usage(
            "msg_s",
            json!([text("The user wants sums; 1+2=3 so far.")]),
            "end_turn",
            50,
            10,
        )),
        Reply::message(message_with_usage(
            "msg_3",
            json!([text("7 and 3.")]),
            "end_turn",
            60,
            5,
        )),
    ]))
    .await
    .unwrap();
    type Histories = Vec<(Vec<MessageParam>, Vec<MessageParam>)>;
    let seen: Arc<Mutex<Histories>> = Arc::default();
    let log = Arc::clone(&seen);
    let last = client(&server)
        .tool_runner(params(), toolset![add])
        .compaction(
            Compaction::new()
                .threshold(1000)
                .on_compact(move |before, after| {
                    log.lock().unwrap().push((before.to_vec(), after.to_vec()));
                }),
        )
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "7 and 3.");

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    let tools = requests[0]["tools"].clone();
    // The summary request: the history before the large turn, then the prompt.
    assert_eq!(
        requests[2],
        json!({
            "model": "claude-test", "max_tokens": 512,
            "messages": [
                {"role": "user", "content": "Add things up."},
                {"role": "assistant", "content": [tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "3"}]},
                {"role": "user", "content": DEFAULT_COMPACTION_PROMPT}
            ],
            "system": "You add numbers.",
            "tools": tools,
            "tool_choice": {"type": "none"}
        })
    );
    // The next request: the summary, then the large turn and its results.
    assert_eq!(
        requests[3]["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text":
                "This conversation continues an earlier one that was cut to save space. Summary of the earlier part:\n\n<summary>\nThe user wants sums; 1+2=3 so far.\n</summary>"}]},
            {"role": "assistant", "content": turn2["content"]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "7"}]}
        ])
    );
    assert_eq!(requests[3]["system"], "You add numbers.");
    assert_eq!(requests[3]["tools"], tools);
    assert_eq!(requests[3].get("tool_choice"), None);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0.len(), 5);
    assert_eq!(seen[0].1.len(), 3);
}

#[tokio::test]
async fn turns_below_the_threshold_and_a_custom_prompt() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::message(message_with_usage(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
            10,
            10,
        )),
        Reply::message(message_with_usage(
            "msg_2",
            json!([tool_use("toolu_2", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
            10,
            10,
        )),
        Reply::message(message_with_usage(
            "msg_3",
            json!([text("done")]),
            "end_turn",
            10,
            10,
        )),
    ]))
    .await
    .unwrap();
    client(&server)
        .tool_runner(params(), toolset![add])
        .compaction(
            Compaction::new()
                .threshold(1000)
                .prompt("Summarise, briefly."),
        )
        .until_done()
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "no summary request below the threshold");
    assert!(
        requests
            .iter()
            .all(|r| !r.to_string().contains("Summarise, briefly."))
    );
}

#[tokio::test]
async fn server_side_compaction_passes_through_and_its_blocks_go_back_as_received() {
    let compaction_block = r#"{"type":"compaction","content":"Earlier: the user asked for sums.","encrypted":"AbC=="}"#;
    let body = format!(
        r#"{{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{compaction_block}],"stop_reason":"compaction","stop_sequence":null,"usage":{{"input_tokens":5,"output_tokens":5}}}}"#
    );
    let server = ScriptedServer::start(Sequence::new([
        Reply::raw(200, "application/json", body),
        Reply::message(message_with_usage(
            "msg_2",
            json!([text("3")]),
            "end_turn",
            5,
            5,
        )),
    ]))
    .await
    .unwrap();
    let management = json!({"edits": [{"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": 100000}}]});
    let params = params()
        .context_management(management.clone())
        .beta("compact-2026-01-12");
    client(&server)
        .tool_runner(params, toolset![add])
        .message_threads(false)
        .until_done()
        .await
        .unwrap();
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    let requests = server.requests();
    assert_eq!(requests[0]["context_management"], management);
    assert_eq!(requests[1]["context_management"], management);
    assert_eq!(
        recorded[0].header("anthropic-beta"),
        Some("compact-2026-01-12")
    );
    // The compaction turn is sent back exactly as received, and nothing else is added.
    assert!(
        recorded[1].body.contains(compaction_block),
        "{}",
        recorded[1].body
    );
    assert_eq!(requests[1]["messages"].as_array().unwrap().len(), 2);
}

/// Total sales of a region, for code.
#[tool(allowed_callers = ["direct", "code"])]
fn sales(region: String) -> u64 {
    region.len() as u64
}

#[tokio::test]
async fn compaction_waits_for_a_code_run_and_never_cuts_it_apart() {
    let code_call = |id: &str| {
        json!({"type": "tool_use", "id": id, "name": "sales", "input": {"region": "north"},
               "caller": {"type": "code_execution_20260120", "tool_id": "srvtoolu_1"}})
    };
    let replies = [
        message_with_usage(
            "msg_1",
            json!([tool_use("toolu_0", "sales", json!({"region": "x"}))]),
            "tool_use",
            10,
            5,
        ),
        // Over the threshold, while code waits for a result.
        message_with_usage(
            "msg_2",
            json!([{"type": "server_tool_use", "id": "srvtoolu_1", "name": "code_execution", "input": {"code": "..."}},
                   code_call("toolu_1")]),
            "tool_use",
            900,
            150,
        ),
        message_with_usage("msg_3", json!([code_call("toolu_2")]), "tool_use", 10, 5),
        // The code run is over: now compaction may happen.
        message_with_usage(
            "msg_4",
            json!([{"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_1", "content": {
                       "type": "code_execution_result", "stdout": "10", "stderr": "", "return_code": 0, "content": []}},
                   tool_use("toolu_3", "sales", json!({"region": "south"}))]),
            "tool_use",
            10,
            5,
        ),
        message_with_usage(
            "msg_s",
            json!([text("Sales were looked up.")]),
            "end_turn",
            10,
            5,
        ),
        message_with_usage("msg_5", json!([text("Done.")]), "end_turn", 10, 5),
    ];
    let server = ScriptedServer::start(Sequence::new(replies.map(|m| {
        let mut m = m;
        m["container"] = json!({"id": "container_1", "expires_at": "2026-11-21T12:00:00Z"});
        Reply::message(m)
    })))
    .await
    .unwrap();
    client(&server)
        .tool_runner(params(), toolset![sales])
        .message_threads(false)
        .compaction(Compaction::new().threshold(1000))
        .until_done()
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 6);
    for waiting in &requests[2..4] {
        assert_ne!(
            waiting["tool_choice"],
            json!({"type": "none"}),
            "no summary while code waits"
        );
    }
    let summary = &requests[4];
    assert_eq!(summary["tool_choice"], json!({"type": "none"}));
    let summarised = summary["messages"].as_array().unwrap();
    // Only what came before the code run is summarised, and the prompt
    // follows a message that answers a direct call.
    assert_eq!(summarised.len(), 4);
    assert_eq!(summarised[2]["content"][0]["tool_use_id"], "toolu_0");
    assert_eq!(summarised[3]["content"], DEFAULT_COMPACTION_PROMPT);
    let after = requests[5]["messages"].as_array().unwrap();
    assert_eq!(
        after.len(),
        7,
        "summary, then the whole code run and the last turn"
    );
    assert_eq!(after[1]["content"][0]["id"], "srvtoolu_1");
    assert_eq!(after[2]["content"][0]["tool_use_id"], "toolu_1");
}

/// A compaction block as the API returns it.
fn compaction_block(summary: &str) -> serde_json::Value {
    json!({"type": "compaction", "content": summary})
}

#[tokio::test]
async fn server_compaction_sends_the_edit_and_beta_and_sends_blocks_back() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::message(message(
            "msg_1",
            json!([compaction_block("Adding things up.")]),
            "compaction",
        )),
        Reply::message(message("msg_2", json!([text("Done.")]), "end_turn")),
    ]))
    .await
    .expect("bind loopback");
    let params =
        params().context_management(json!({"edits": [{"type": "clear_tool_uses_20250919"}]}));
    let runner = client(&server)
        .tool_runner(params, toolset![add])
        .message_threads(false)
        .compaction(
            Compaction::server()
                .threshold(120_000)
                .instructions("Keep the numbers.")
                .pause_after_compaction(true),
        );
    runner.until_done().await.expect("run");

    let edits = json!({"edits": [
        {"type": "clear_tool_uses_20250919"},
        {"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": 120000},
         "instructions": "Keep the numbers.", "pause_after_compaction": true}
    ]});
    let requests = server.recorded();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        let body: serde_json::Value = serde_json::from_str(&request.body).expect("json");
        assert_eq!(body["context_management"], edits);
        assert_eq!(request.header("anthropic-beta"), Some("compact-2026-01-12"));
    }
    let second: serde_json::Value = serde_json::from_str(&requests[1].body).expect("json");
    assert_eq!(
        second["messages"],
        json!([
            {"role": "user", "content": "Add things up."},
            {"role": "assistant", "content": [compaction_block("Adding things up.")]}
        ])
    );
}

#[tokio::test]
async fn server_compaction_defaults_to_the_apis_trigger_and_works_threaded() {
    let server = server(vec![
        message(
            "msg_1",
            json!([compaction_block("So far: nothing.")]),
            "compaction",
        ),
        message("msg_2", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let runner = client(&server)
        .tool_runner(params(), toolset![add])
        .compaction(Compaction::server());
    runner.until_done().await.expect("run");
    let requests = server.recorded();
    let betas = requests[0].header("anthropic-beta").expect("betas");
    assert!(betas.contains("compact-2026-01-12"), "{betas}");
    assert!(betas.contains("message-threads"), "{betas}");
    for request in server.requests() {
        assert_eq!(
            request["context_management"],
            json!({"edits": [{"type": "compact_20260112"}]})
        );
    }
    // The second request continues the thread, which holds the block.
    assert_eq!(server.requests()[1]["thread"]["type"], "continue");
    let conversation = server.conversation("msg_2").expect("thread");
    assert_eq!(
        conversation[1],
        json!({"role": "assistant", "content": [compaction_block("So far: nothing.")]})
    );
}

#[tokio::test]
async fn compact_before_next_turn_sends_one_summarize_request_and_goes_on_from_its_block() {
    let server = server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
        ),
        message(
            "msg_c",
            json!([compaction_block("1 + 2 = 3.")]),
            "compaction",
        ),
        message("msg_2", json!([text("3.")]), "end_turn"),
    ])
    .await;
    let mut params = params();
    params
        .extra
        .insert("output_config".into(), json!({"effort": "low"}));
    params.tool_choice = Some(toolrunner::ToolChoice::any());
    let mut runner = client(&server)
        .tool_runner(params, toolset![add])
        .message_threads(false);
    let first = futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    assert_eq!(first.id, "msg_1");
    runner
        .compact_before_next_turn()
        .expect("no compaction edit");
    let rest: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(&mut runner).await;
    assert_eq!(rest.len(), 1, "the compaction is not yielded");
    assert_eq!(runner.iterations(), 3);

    let recorded = server.recorded();
    let summarize: serde_json::Value = serde_json::from_str(&recorded[1].body).expect("json");
    assert_eq!(summarize["compaction"], json!({"type": "summarize"}));
    assert_eq!(summarize["output_config"], json!({"effort": "low"}));
    assert!(summarize.get("tool_choice").is_none());
    assert_eq!(summarize["messages"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        recorded[1].header("anthropic-beta"),
        Some("compact-2026-09-04")
    );
    // The next turn goes on from the compaction block alone, without the
    // one-off parameter.
    let next: serde_json::Value = serde_json::from_str(&recorded[2].body).expect("json");
    assert_eq!(
        next["messages"],
        json!([{"role": "assistant", "content": [compaction_block("1 + 2 = 3.")]}])
    );
    assert!(next.get("compaction").is_none());
    assert_eq!(next["tool_choice"], json!({"type": "any"}));
    assert_eq!(recorded[2].header("anthropic-beta"), None);
    assert_eq!(runner.messages().len(), 2);
}

#[tokio::test]
async fn compact_before_next_turn_refuses_next_to_a_compaction_edit_of_the_callers_own() {
    let server = server(vec![]).await;
    let mut params = params();
    params.context_management = Some(json!({"edits": [{"type": "compact_20260112"}]}));
    let mut runner = client(&server).tool_runner(params, toolset![add]);
    let error = runner.compact_before_next_turn().expect_err("edit");
    assert!(error.is_invalid_request(), "{error}");
    let shown = error.to_string();
    assert!(shown.contains("compact_before_next_turn()"), "{shown}");
    assert!(shown.contains("Compaction::server()"), "{shown}");
}

/// The compaction edit of the request `n` the server got.
fn sent_edit(server: &ScriptedServer, n: usize) -> serde_json::Value {
    let body: serde_json::Value = serde_json::from_str(&server.recorded()[n].body).expect("json");
    assert!(body.get("compaction").is_none(), "no one-off request");
    body["context_management"]["edits"][0].clone()
}

#[tokio::test]
async fn compact_before_next_turn_with_server_compaction_makes_the_next_edit_fire() {
    let server = server(vec![
        message_with_usage(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
            80_000,
            500,
        ),
        message(
            "msg_2",
            json!([tool_use("toolu_2", "add", json!({"a": 3, "b": 4}))]),
            "tool_use",
        ),
        message("msg_3", json!([text("7.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .compaction(
            Compaction::server()
                .threshold(150_000)
                .instructions("Keep the sums."),
        );
    futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    runner
        .compact_before_next_turn()
        .expect("the runner owns the edit");
    let rest: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(&mut runner).await;
    assert_eq!(rest.len(), 2);
    assert_eq!(runner.iterations(), 3, "no extra request");

    let configured = json!({
        "type": "compact_20260112",
        "trigger": {"type": "input_tokens", "value": 150_000},
        "instructions": "Keep the sums."
    });
    assert_eq!(sent_edit(&server, 0), configured);
    // The request after the call fires at what the last turn held, which
    // it holds at least.
    assert_eq!(
        sent_edit(&server, 1),
        json!({
            "type": "compact_20260112",
            "trigger": {"type": "input_tokens", "value": 80_500},
            "instructions": "Keep the sums."
        })
    );
    assert_eq!(
        server.recorded()[1].header("anthropic-beta"),
        Some("compact-2026-01-12,message-threads-2026-08-12")
    );
    // Then the configured trigger again.
    assert_eq!(sent_edit(&server, 2), configured);
}

#[tokio::test]
async fn a_server_compaction_asked_for_on_a_small_conversation_uses_the_smallest_trigger() {
    let server = server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("3.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .compaction(Compaction::server());
    futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    runner.compact_before_next_turn().expect("server side");
    runner.until_done().await.expect("done");
    assert_eq!(sent_edit(&server, 0), json!({"type": "compact_20260112"}));
    assert_eq!(
        sent_edit(&server, 1),
        json!({"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": 50_000}})
    );
}

#[tokio::test]
async fn compact_before_next_turn_forces_the_client_summary() {
    let server = server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
        ),
        message(
            "msg_2",
            json!([tool_use("toolu_2", "add", json!({"a": 3, "b": 4}))]),
            "tool_use",
        ),
        message("msg_s", json!([text("Sums so far: 3.")]), "end_turn"),
        message("msg_3", json!([text("7.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false)
        .compaction(Compaction::new().threshold(u64::MAX));
    futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    runner.compact_before_next_turn().expect("client side");
    let last = futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    assert_eq!(last.text(), "7.");
    let requests = server.requests();
    assert_eq!(requests[2]["messages"].as_array().map(Vec::len), Some(4));
    assert_eq!(requests[2]["tool_choice"], json!({"type": "none"}));
}

/// Get the weather.
#[tool]
fn weather(
    /// The city.
    city: String,
) -> String {
    format!("sunny in {city}")
}

/// Take a note.
#[tool]
fn note(
    /// What to note.
    text: String,
) -> String {
    format!("noted: {text}")
}

/// The runner's next message, which must be there.
async fn next<S>(runner: &mut S) -> toolrunner::Message
where
    S: futures_util::Stream<Item = Result<toolrunner::Message, toolrunner::Error>> + Unpin,
{
    futures_util::StreamExt::next(runner)
        .await
        .expect("turn")
        .expect("ok")
}

/// Calls `weather` for `city` in one turn.
fn weather_turn(id: &str, call: &str, city: &str) -> serde_json::Value {
    message(
        id,
        json!([tool_use(call, "weather", json!({"city": city}))]),
        "tool_use",
    )
}

#[tokio::test]
async fn client_compaction_keeps_the_tool_changes_it_summarises_away() {
    let server = server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
        ),
        weather_turn("msg_2", "toolu_2", "Oslo"),
        weather_turn("msg_3", "toolu_3", "Bergen"),
        weather_turn("msg_4", "toolu_4", "Rome"),
        message("msg_s", json!([text("Weather checked.")]), "end_turn"),
        message("msg_5", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false)
        .compaction(Compaction::new().threshold(u64::MAX));
    next(&mut runner).await;
    runner.add_tools(toolset![weather, note]).expect("add");
    next(&mut runner).await;
    // `note` comes and goes before the cut; `add` was declared in `tools`.
    runner.remove_tools(["note", "add"]).expect("remove");
    next(&mut runner).await;
    next(&mut runner).await;
    runner.compact_before_next_turn().expect("client side");
    assert_eq!(next(&mut runner).await.text(), "Done.");

    let requests = server.requests();
    assert_eq!(requests.len(), 6);
    let additions = last_message(&requests[1]).clone();
    assert_eq!(additions["role"], "system");
    let weather_addition = additions["content"][0].clone();
    assert_eq!(weather_addition["tool"]["definition"]["name"], "weather");
    // The summary request summarises both change messages.
    let summarised = requests[4]["messages"].as_array().expect("messages");
    assert_eq!(summarised.len(), 10);
    assert_eq!(summarised[3], additions);
    // After the cut the model still has `weather` and still lacks `add`;
    // `note`, added and removed before it, is not mentioned.
    assert_eq!(
        requests[5]["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text":
                "This conversation continues an earlier one that was cut to save space. Summary of the earlier part:\n\n<summary>\nWeather checked.\n</summary>"}]},
            {"role": "system", "content": [
                weather_addition,
                {"type": "tool_removal", "tool": {"type": "tool_reference", "name": "add"}}
            ]},
            {"role": "assistant", "content": [tool_use("toolu_4", "weather", json!({"city": "Rome"}))]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_4", "content": "sunny in Rome"}]}
        ])
    );
    assert_eq!(requests[5]["tools"], requests[0]["tools"]);
    let betas = server.recorded()[5]
        .header("anthropic-beta")
        .unwrap_or_default()
        .to_owned();
    assert!(
        betas.contains("mid-conversation-tool-changes-2026-07-01")
            && betas.contains("inline-tools-2026-09-15"),
        "{betas}"
    );
}
