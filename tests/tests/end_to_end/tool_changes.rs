//! Tools added and removed mid-run: the exact requests (a `system`-role
//! message of `tool_addition` / `tool_removal` blocks, `tools` unchanged)
//! and dispatch that follows each change at once.

use crate::support;

use support::*;

use serde_json::{Value, json};
use toolrunner::{ToolSearch, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Get the weather.
#[tool]
fn weather(
    /// The city.
    city: String,
) -> String {
    format!("sunny in {city}")
}

fn weather_definition() -> Value {
    json!({"name": "weather", "description": "Get the weather.", "input_schema": {
        "type": "object", "properties": {"city": {"type": "string", "description": "The city."}},
        "required": ["city"], "additionalProperties": false}})
}

fn changes_message() -> Value {
    json!({"role": "system", "content": [
        {"type": "tool_addition", "tool": {"type": "tool_definition", "definition": weather_definition()}},
        {"type": "tool_removal", "tool": {"type": "tool_reference", "name": "add"}}
    ]})
}

#[tokio::test]
async fn changes_go_in_a_system_message_on_a_continued_thread_and_dispatch_follows() {
    let server = server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
        ),
        message(
            "msg_2",
            json!([
                tool_use("toolu_2", "add", json!({"a": 3, "b": 4})),
                tool_use("toolu_3", "weather", json!({"city": "Oslo"}))
            ]),
            "tool_use",
        ),
        message("msg_3", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server).tool_runner(params(), toolset![add]);
    let first = futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    assert_eq!(first.id, "msg_1");
    runner.add_tools(toolset![weather]).expect("add");
    runner.remove_tools(["add"]).expect("remove");
    // The current turn's call was made before the removal, but runs after it.
    let rest: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(&mut runner).await;
    assert!(rest.iter().all(Result::is_ok));

    let requests = server.requests();
    let recorded = server.recorded();
    assert_eq!(requests.len(), 3);
    let add_definition = json!({"name": "add", "description": "Add two integers.", "input_schema": {
        "type": "object", "properties": {"a": {"type": "integer", "format": "int64"}, "b": {"type": "integer", "format": "int64"}},
        "required": ["a", "b"], "additionalProperties": false}});
    assert_eq!(requests[0]["tools"], json!([add_definition]));
    assert!(
        !recorded[0]
            .header("anthropic-beta")
            .unwrap_or_default()
            .contains("tool-changes")
    );
    assert_eq!(requests[1]["thread"]["type"], "continue");
    assert!(requests[1].get("tools").is_none());
    assert_eq!(
        requests[1]["messages"],
        json!([
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true,
              "content": "unknown tool `add`; available tools: weather"}]},
            changes_message()
        ])
    );
    for request in &recorded[1..] {
        let betas = request.header("anthropic-beta").expect("betas");
        assert!(
            betas.contains("mid-conversation-tool-changes-2026-07-01"),
            "{betas}"
        );
        assert!(betas.contains("inline-tools-2026-09-15"), "{betas}");
    }
    assert_eq!(
        requests[2]["messages"],
        json!([{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true,
             "content": "unknown tool `add`; available tools: weather"},
            {"type": "tool_result", "tool_use_id": "toolu_3", "content": "sunny in Oslo"}
        ]}])
    );
    // The server's thread holds the changes where they were sent.
    let conversation = server.conversation("msg_3").expect("thread");
    assert_eq!(conversation[3], changes_message());
}

#[tokio::test]
async fn changes_wait_while_a_paused_turn_must_stay_last() {
    let server = server(vec![
        message("msg_1", json!([text("Searching...")]), "pause_turn"),
        message(
            "msg_2",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
        ),
        message("msg_3", json!([text("3.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false);
    futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    runner.add_tools(toolset![weather]).expect("add");
    runner.remove_tools(["add"]).expect("remove");
    let _: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(&mut runner).await;

    let requests = server.requests();
    let messages = requests[1]["messages"].as_array().expect("messages");
    assert_eq!(messages.last().expect("last")["role"], "assistant");
    assert!(messages.iter().all(|m| m["role"] != "system"));
    let messages = requests[2]["messages"].as_array().expect("messages");
    assert_eq!(messages.last(), Some(&changes_message()));
    // `tools` is unchanged on the whole-history request too.
    assert_eq!(requests[2]["tools"], requests[0]["tools"]);
}

#[tokio::test]
async fn compaction_blocks_keep_their_tool_changes() {
    let block = json!({"type": "compaction", "content": "Summary.", "tool_changes": [
        {"type": "tool_addition", "tool": {"type": "tool_reference", "name": "weather"}}
    ]});
    let server = server(vec![
        message("msg_1", json!([block.clone()]), "compaction"),
        message("msg_2", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false);
    runner.until_done().await.expect("run");
    assert_eq!(
        server.requests()[1]["messages"][1],
        json!({"role": "assistant", "content": [block]})
    );
}

#[tokio::test]
async fn removing_an_unknown_tool_is_an_error_naming_it() {
    let server = server(vec![]).await;
    let mut runner = client(&server).tool_runner(params(), toolset![add]);
    let error = runner.remove_tools(["add", "nope"]).expect_err("unknown");
    assert!(error.is_invalid_request());
    assert!(error.to_string().contains("`nope`"), "{error}");
    assert!(runner.toolset().contains("add"), "nothing is removed");
}

#[tokio::test]
async fn changes_before_the_first_request_join_tools() {
    let server = server(vec![message("msg_1", json!([text("Hi.")]), "end_turn")]).await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false);
    runner.add_tools(toolset![weather]).expect("add");
    runner.remove_tools(["add"]).expect("remove");
    runner.until_done().await.expect("run");
    let request = &server.requests()[0];
    assert_eq!(request["tools"], json!([weather_definition()]));
    assert_eq!(request["messages"].as_array().map(Vec::len), Some(1));
}

/// Cancel a booking.
#[tool(defer_loading = true)]
fn cancel_booking(
    /// The booking's reference.
    reference: String,
) -> String {
    format!("cancelled {reference}")
}

/// Rebook a flight.
#[tool(defer_loading = true)]
fn rebook(
    /// The booking's reference.
    reference: String,
) -> String {
    format!("rebooked {reference}")
}

fn deferred_definition(name: &str, description: &str) -> Value {
    json!({"name": name, "description": description, "input_schema": {
        "type": "object", "properties": {"reference": {"type": "string", "description": "The booking's reference."}},
        "required": ["reference"], "additionalProperties": false}, "defer_loading": true})
}

fn addition(definition: Value) -> Value {
    json!({"type": "tool_addition", "tool": {"type": "tool_definition", "definition": definition}})
}

#[tokio::test]
async fn a_deferred_tool_added_mid_run_brings_the_search_tool_which_stays() {
    let turn = |id: &str, call: &str| {
        message(
            id,
            json!([tool_use(call, "weather", json!({"city": "Oslo"}))]),
            "tool_use",
        )
    };
    let server = server(vec![
        turn("msg_1", "toolu_1"),
        turn("msg_2", "toolu_2"),
        turn("msg_3", "toolu_3"),
        message("msg_4", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server).tool_runner(params(), toolset![weather]);
    let mut turns = 0;
    while let Some(message) = futures_util::StreamExt::next(&mut runner).await {
        message.expect("turn");
        turns += 1;
        match turns {
            1 => runner.add_tools(toolset![cancel_booking]).expect("add"),
            // The last deferred tool goes; the search tool stays.
            2 => runner.remove_tools(["cancel_booking"]).expect("remove"),
            // Another deferred tool: the search tool is there already.
            3 => runner.add_tools(toolset![rebook]).expect("add"),
            _ => {}
        }
    }
    assert_eq!(turns, 4);

    let requests = server.requests();
    // Nothing was deferred at first: no search tool in `tools`.
    assert_eq!(requests[0]["tools"], json!([weather_definition()]));
    let result = |id: &str| {
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": "sunny in Oslo"}]})
    };
    assert_eq!(
        requests[1]["messages"],
        json!([
            result("toolu_1"),
            {"role": "system", "content": [
                addition(json!({"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"})),
                addition(deferred_definition("cancel_booking", "Cancel a booking."))
            ]}
        ])
    );
    assert_eq!(
        requests[2]["messages"],
        json!([
            result("toolu_2"),
            {"role": "system", "content": [
                {"type": "tool_removal", "tool": {"type": "tool_reference", "name": "cancel_booking"}}
            ]}
        ])
    );
    assert_eq!(
        requests[3]["messages"],
        json!([
            result("toolu_3"),
            {"role": "system", "content": [addition(deferred_definition("rebook", "Rebook a flight."))]}
        ])
    );
}

#[tokio::test]
async fn a_search_tool_in_tools_already_is_not_added_again_and_bm25_is_kept() {
    let server = server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "weather", json!({"city": "Oslo"}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("Done.")]), "end_turn"),
        message(
            "msg_3",
            json!([tool_use("toolu_1", "weather", json!({"city": "Oslo"}))]),
            "tool_use",
        ),
        message("msg_4", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    // Deferred from the start: `tools` has the search tool.
    let mut runner = client(&server).tool_runner(params(), toolset![weather, rebook]);
    futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    runner.add_tools(toolset![cancel_booking]).expect("add");
    runner.until_done().await.expect("run");
    // Nothing deferred at first, with BM25 chosen: the addition is BM25's.
    let mut runner = client(&server)
        .tool_runner(params(), toolset![weather])
        .tool_search(ToolSearch::Bm25);
    futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    runner.add_tools(toolset![cancel_booking]).expect("add");
    runner.until_done().await.expect("run");

    let requests = server.requests();
    assert_eq!(
        requests[0]["tools"][0],
        json!({"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"})
    );
    assert_eq!(
        requests[1]["messages"][1],
        json!({"role": "system", "content": [
            addition(deferred_definition("cancel_booking", "Cancel a booking."))]})
    );
    assert_eq!(
        requests[3]["messages"][1]["content"][0],
        addition(
            json!({"type": "tool_search_tool_bm25_20251119", "name": "tool_search_tool_bm25"})
        )
    );
}

#[tokio::test]
async fn a_resumed_run_remembers_the_search_tool_it_added() {
    let turn = |id: &str, call: &str| {
        message(
            id,
            json!([tool_use(call, "weather", json!({"city": "Oslo"}))]),
            "tool_use",
        )
    };
    let server = server(vec![
        turn("msg_1", "toolu_1"),
        turn("msg_2", "toolu_2"),
        message("msg_3", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server).tool_runner(params(), toolset![weather]);
    futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    runner.add_tools(toolset![cancel_booking]).expect("add");
    futures_util::StreamExt::next(&mut runner)
        .await
        .expect("turn")
        .expect("ok");
    let kept = runner.state().to_json().expect("json");
    drop(runner);

    let state = toolrunner::RunState::from_json(&kept).expect("state");
    let mut resumed = client(&server)
        .resume(state, toolset![weather, cancel_booking])
        .expect("resume");
    resumed.add_tools(toolset![rebook]).expect("add");
    resumed.until_done().await.expect("run");
    assert_eq!(
        server.requests()[2]["messages"],
        json!([
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "sunny in Oslo"}]},
            {"role": "system", "content": [addition(deferred_definition("rebook", "Rebook a flight."))]}
        ])
    );
}
