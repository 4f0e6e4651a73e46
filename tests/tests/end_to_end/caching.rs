//! Automatic prompt caching and usage totals, over loopback: the cache
//! marks each whole-history request carries (exact bodies), what the
//! scripted server's prompt cache then reports, cache-miss diagnostics in
//! `tracing`, and `runner.usage()` over compaction and a save and resume.

use crate::support;
use support::*;

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::platform::Bedrock;
use toolrunner::testing::{
    AwsPlatform, Reply, ScriptedAws, ScriptedServer, Sequence, TEST_ACCESS_KEY, TEST_REGION,
    TEST_SECRET_KEY,
};
use toolrunner::usage::{RunUsage, TokenUsage};
use toolrunner::{Client, Compaction, MessageParams, RunState, TextBlock, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn ephemeral() -> Value {
    json!({"type": "ephemeral"})
}

/// Three turns: two calls of `add`, then an answer; usage counted by the
/// server.
fn three_turns() -> Sequence {
    Sequence::new([
        Reply::tool_use("add", json!({"a": 1, "b": 2})),
        Reply::tool_use("add", json!({"a": 3, "b": 4})),
        Reply::text("3 and 7."),
    ])
}

async fn start(script: Sequence) -> ScriptedServer {
    ScriptedServer::start(script).await.expect("bind loopback")
}

/// Runs `runner` to its end, returning every message it yielded.
async fn run_all(mut runner: toolrunner::ToolRunner) -> (Vec<toolrunner::Message>, RunUsage) {
    let mut messages = Vec::new();
    while let Some(message) = runner.next().await {
        messages.push(message.expect("turn"));
    }
    (messages, runner.usage())
}

fn call_id(message: &toolrunner::Message) -> String {
    message.tool_uses().next().expect("a call").id.clone()
}

#[tokio::test]
async fn without_threads_each_request_carries_the_top_level_cache_control() {
    let server = start(three_turns()).await;
    let (messages, usage) = run_all(
        client(&server)
            .tool_runner(params(), toolset![add])
            .message_threads(false),
    )
    .await;
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let tools = requests[0]["tools"].clone();
    let (first, second) = (call_id(&messages[0]), call_id(&messages[1]));
    let turn = |id: &str, a: i64, b: i64, result: &str| {
        [
            json!({"role": "assistant", "content": [
                {"type": "tool_use", "id": id, "name": "add", "input": {"a": a, "b": b}}]}),
            json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": id, "content": result}]}),
        ]
    };
    let mut history = vec![json!({"role": "user", "content": "Go."})];
    let body = |history: &[Value], previous: Option<&str>| {
        let mut body = json!({
            "model": "claude-test", "max_tokens": 256, "messages": history,
            "tools": tools, "cache_control": {"type": "ephemeral"},
        });
        if let Some(id) = previous {
            body["diagnostics"] = json!({"previous_message_id": id});
        }
        body
    };
    assert_eq!(requests[0], body(&history, None));
    history.extend(turn(&first, 1, 2, "3"));
    assert_eq!(requests[1], body(&history, Some(&messages[0].id)));
    history.extend(turn(&second, 3, 4, "7"));
    assert_eq!(requests[2], body(&history, Some(&messages[1].id)));

    // Each turn reads all the previous one wrote, and writes the rest.
    for pair in messages.windows(2) {
        let (before, after) = (&pair[0].usage, &pair[1].usage);
        assert_eq!(
            after.cache_read_input_tokens.unwrap(),
            before.cache_read_input_tokens.unwrap() + before.cache_creation_input_tokens.unwrap()
        );
        assert!(after.cache_creation_input_tokens.unwrap() > 0);
        assert_eq!(after.input_tokens, 0);
        // The prefix was kept: the server saw no cache miss.
        assert_eq!(pair[1].extra.get("diagnostics"), Some(&Value::Null));
    }
    // The totals are the replies' usage summed.
    let summed: TokenUsage = messages.iter().map(|m| TokenUsage::of(&m.usage)).sum();
    assert_eq!(usage.turns, summed);
    assert_eq!(usage.turns.requests, 3);
    assert!(usage.compaction.is_empty());
}

#[tokio::test]
async fn with_threads_no_breakpoint_is_added() {
    let server = start(Sequence::new([
        Reply::tool_use("add", json!({"a": 1, "b": 2})),
        Reply::text("3."),
    ]))
    .await;
    let (messages, _) = run_all(client(&server).tool_runner(params(), toolset![add])).await;
    assert_eq!(messages.len(), 2);
    let requests = server.requests();
    assert_eq!(requests[1]["thread"]["type"], "continue");
    for request in &requests {
        assert_eq!(request.get("cache_control"), None, "{request}");
        assert_eq!(request.get("diagnostics"), None, "{request}");
        assert!(!request.to_string().contains("cache_control"), "{request}");
    }
}

#[tokio::test]
async fn prompt_caching_false_sends_no_mark() {
    let server = start(three_turns()).await;
    let (_, usage) = run_all(
        client(&server)
            .tool_runner(params(), toolset![add])
            .message_threads(false)
            .prompt_caching(false),
    )
    .await;
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert!(!request.to_string().contains("cache_control"), "{request}");
        assert_eq!(request.get("diagnostics"), None, "{request}");
    }
    // Without a mark nothing is cached: every token is billed in full.
    assert_eq!(usage.turns.cache_read_input_tokens, 0);
    assert_eq!(usage.turns.cache_creation_input_tokens, 0);
    assert!(usage.turns.input_tokens > 0);
}

/// A Bedrock client for `server`: a platform without the top-level mark.
fn bedrock(server: &ScriptedAws) -> Client {
    Bedrock::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, None)
        .client(Client::builder().max_retries(0))
        .build()
        .expect("bedrock client")
}

#[tokio::test]
async fn where_the_top_level_mark_is_not_taken_the_last_block_is_marked() {
    let server = ScriptedAws::start(AwsPlatform::Bedrock, three_turns())
        .await
        .expect("bind loopback");
    let runner = bedrock(&server).tool_runner(params(), toolset![add]);
    let (messages, usage) = run_all(runner).await;
    assert_eq!(messages.len(), 3);
    let bodies: Vec<Value> = server
        .recorded()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 3);
    let (first, second) = (call_id(&messages[0]), call_id(&messages[1]));
    let result = |id: &str, content: &str, marked: bool| {
        let mut block = json!({"type": "tool_result", "tool_use_id": id, "content": content});
        if marked {
            block["cache_control"] = ephemeral();
        }
        json!({"role": "user", "content": [block]})
    };
    let call = |id: &str, a: i64, b: i64| {
        json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": id, "name": "add", "input": {"a": a, "b": b}}]})
    };
    let go = |marked: bool| match marked {
        true => json!({"role": "user", "content": [
            {"type": "text", "text": "Go.", "cache_control": {"type": "ephemeral"}}]}),
        false => json!({"role": "user", "content": "Go."}),
    };
    // Only the last block of each request is marked: the history keeps none.
    assert_eq!(bodies[0]["messages"], json!([go(true)]));
    assert_eq!(
        bodies[1]["messages"],
        json!([go(false), call(&first, 1, 2), result(&first, "3", true)])
    );
    assert_eq!(
        bodies[2]["messages"],
        json!([
            go(false),
            call(&first, 1, 2),
            result(&first, "3", false),
            call(&second, 3, 4),
            result(&second, "7", true)
        ])
    );
    for body in &bodies {
        assert_eq!(body.get("cache_control"), None, "{body}");
        assert_eq!(body.get("diagnostics"), None, "{body}");
    }
    assert!(
        usage.turns.cache_read_input_tokens > 0,
        "{usage:?} {messages:?}"
    );
}

/// Parameters with `n` breakpoints of the user's: on the system prompt,
/// then on a tool, then on the first user message.
fn with_user_breakpoints(n: usize) -> MessageParams {
    let mut system = Vec::new();
    for i in 0..n.min(2) {
        system.push(TextBlock {
            cache_control: Some(ephemeral()),
            ..TextBlock::new(format!("Rule {i}."))
        });
    }
    let mut params = MessageParams::new("claude-test", 256).system(system);
    if n > 2 {
        params = params.tool(json!({"name": "lookup", "description": "d",
            "input_schema": {"type": "object"}, "cache_control": ephemeral()}));
    }
    let mut go = TextBlock::new("Go.");
    if n > 3 {
        go.cache_control = Some(ephemeral());
    }
    params.message(toolrunner::MessageParam::blocks(
        toolrunner::Role::User,
        vec![
            toolrunner::ContentBlock::Text(go),
            toolrunner::ContentBlock::text("Now."),
        ],
    ))
}

#[tokio::test]
async fn the_users_breakpoints_count_against_the_limit_of_four_and_stay() {
    for (users, added) in [(3, true), (4, false)] {
        let server = start(Sequence::new([Reply::text("ok")])).await;
        let params = with_user_breakpoints(users);
        let expected_messages = serde_json::to_value(&params.messages).unwrap();
        let expected_system = serde_json::to_value(&params.system).unwrap();
        run_all(
            client(&server)
                .tool_runner(params, toolset![])
                .message_threads(false),
        )
        .await;
        let request = &server.requests()[0];
        // The user's marks are sent as they are, where they are.
        assert_eq!(request["messages"], expected_messages, "{users}");
        assert_eq!(request["system"], expected_system, "{users}");
        // Three of the user's and the runner's, or the user's four.
        let marks = request.to_string().matches("cache_control").count();
        assert_eq!(marks, 4, "{request}");
        assert_eq!(
            request.get("cache_control"),
            added.then(ephemeral).as_ref(),
            "{users} of the user's"
        );
    }
    // On Bedrock, the mark goes on the last block, within the same limit.
    for (users, added) in [(3, true), (4, false)] {
        let server = ScriptedAws::start(AwsPlatform::Bedrock, Sequence::new([Reply::text("ok")]))
            .await
            .expect("bind loopback");
        run_all(bedrock(&server).tool_runner(with_user_breakpoints(users), toolset![])).await;
        let body: Value = serde_json::from_str(&server.recorded()[0].body).unwrap();
        assert_eq!(body.to_string().matches("cache_control").count(), 4);
        let last = &body["messages"][0]["content"][1];
        assert_eq!(last.get("cache_control").is_some(), added, "{body}");
        assert_eq!(
            body["messages"][0]["content"][0]
                .get("cache_control")
                .is_some(),
            users > 3
        );
    }
}

#[tokio::test]
async fn a_breakpoint_of_the_users_on_the_last_block_is_enough() {
    let server = start(Sequence::new([Reply::text("ok")])).await;
    let params = MessageParams::new("claude-test", 256).message(toolrunner::MessageParam::blocks(
        toolrunner::Role::User,
        vec![toolrunner::ContentBlock::Text(TextBlock {
            cache_control: Some(json!({"type": "ephemeral", "ttl": "1h"})),
            ..TextBlock::new("Go.")
        })],
    ));
    run_all(
        client(&server)
            .tool_runner(params, toolset![])
            .message_threads(false),
    )
    .await;
    let request = &server.requests()[0];
    assert_eq!(request.get("cache_control"), None, "{request}");
    assert_eq!(
        request["messages"][0]["content"][0]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"})
    );
}

/// A message with the usage given, as the API reports it.
fn reply_with(id: &str, content: Value, stop: &str, usage: Value) -> Value {
    let mut message = message(id, content, stop);
    message["usage"] = usage;
    message
}

#[tokio::test]
async fn usage_totals_over_a_run_list_compaction_apart() {
    let usage = |input: u64, written: u64, read: u64, output: u64| {
        json!({"input_tokens": input, "cache_creation_input_tokens": written,
               "cache_read_input_tokens": read, "output_tokens": output})
    };
    // Below the compaction threshold; the next turn is over it.
    let mut searched = usage(5, 500, 0, 100);
    searched["server_tool_use"] = json!({"web_search_requests": 2});
    let mut compacted_by_server = usage(3, 50, 1000, 20);
    compacted_by_server["iterations"] = json!([
        {"type": "compaction", "input_tokens": 700, "output_tokens": 60,
         "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        {"type": "message", "input_tokens": 3, "output_tokens": 20,
         "cache_creation_input_tokens": 50, "cache_read_input_tokens": 1000}
    ]);
    let server = server(vec![
        reply_with(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
            searched,
        ),
        reply_with(
            "msg_2",
            json!([tool_use("toolu_2", "add", json!({"a": 3, "b": 4}))]),
            "tool_use",
            compacted_by_server,
        ),
        // The summary request of client-side compaction.
        reply_with(
            "msg_s",
            json!([text("1+2=3.")]),
            "end_turn",
            usage(400, 0, 0, 30),
        ),
        reply_with("msg_3", json!([text("7.")]), "end_turn", usage(10, 0, 0, 2)),
    ])
    .await;
    let runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false)
        .compaction(Compaction::new().threshold(1000));
    let (messages, totals) = run_all(runner).await;
    assert_eq!(messages.len(), 3);
    assert_eq!(server.requests().len(), 4);
    assert_eq!(
        totals.turns,
        TokenUsage {
            requests: 3,
            input_tokens: 5 + 3 + 10,
            output_tokens: 100 + 20 + 2,
            cache_creation_input_tokens: 500 + 50,
            cache_read_input_tokens: 1000,
            server_tool_uses: 2,
        }
    );
    assert_eq!(
        totals.compaction,
        TokenUsage {
            requests: 2,
            input_tokens: 700 + 400,
            output_tokens: 60 + 30,
            ..TokenUsage::default()
        }
    );
    assert_eq!(totals.total().input_tokens, 18 + 1100);
}

#[tokio::test]
async fn usage_totals_survive_a_save_and_resume() {
    let server = start(three_turns()).await;
    let client = client(&server);
    let mut runner = client
        .tool_runner(params(), toolset![add])
        .message_threads(false);
    let first = runner.next().await.unwrap().unwrap();
    let state = runner.state();
    drop(runner);
    let saved = RunState::from_json(&state.to_json().unwrap()).unwrap();
    assert_eq!(saved.usage().turns, TokenUsage::of(&first.usage));
    let (rest, usage) = run_all(client.resume(saved, toolset![add]).unwrap()).await;
    assert_eq!(rest.len(), 2);
    let summed: TokenUsage = std::iter::once(&first)
        .chain(&rest)
        .map(|m| TokenUsage::of(&m.usage))
        .sum();
    assert_eq!(usage.turns, summed);
    // The resumed run kept caching on, and named the reply before the save.
    let requests = server.requests();
    assert_eq!(
        requests[1]["diagnostics"],
        json!({"previous_message_id": first.id})
    );
    assert_eq!(requests[1]["cache_control"], ephemeral());
    // Its second request read what the first, before the save, wrote.
    assert_eq!(
        rest[0].usage.cache_read_input_tokens,
        first.usage.cache_creation_input_tokens
    );
}

#[tokio::test]
async fn a_state_saved_before_usage_and_caching_were_kept_still_loads() {
    let server = start(three_turns()).await;
    let client = client(&server);
    let mut runner = client
        .tool_runner(params(), toolset![add])
        .message_threads(false)
        .prompt_caching(false);
    runner.next().await.unwrap().unwrap();
    let mut json: Value = serde_json::from_slice(&runner.state().to_json().unwrap()).unwrap();
    drop(runner);
    let run = json["run"].as_object_mut().unwrap();
    assert!(run.remove("usage").is_some());
    assert!(run.remove("caching").is_some());
    let old = RunState::from_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(old.usage(), RunUsage::default());
    run_all(client.resume(old, toolset![add]).unwrap()).await;
    // Caching is on for a state that does not say: the default.
    assert_eq!(server.requests()[1]["cache_control"], ephemeral());
}

#[tokio::test]
async fn a_cache_miss_reaches_tracing_with_its_reason() {
    let logged = support::capture::Written::default();
    let _guard = logged.install();

    let server = start(three_turns()).await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false);
    let first = runner.next().await.unwrap().unwrap();
    // The caller rewrites the history: the cached prefix no longer matches.
    let call = first.tool_uses().next().unwrap().clone();
    runner.set_messages(vec![
        toolrunner::MessageParam::user("Go, again."),
        toolrunner::MessageParam::from(first.clone()),
        toolrunner::MessageParam::blocks(
            toolrunner::Role::User,
            vec![toolrunner::ContentBlock::ToolResult(
                toolrunner::ToolResultBlock::new(
                    call.id.clone(),
                    Some(toolrunner::types::ToolResultContent::Text("3".into())),
                ),
            )],
        ),
    ]);
    let second = runner.next().await.unwrap().unwrap();
    let reason = &second.extra["diagnostics"]["cache_miss_reason"];
    assert_eq!(reason["type"], "messages_changed");
    assert_eq!(
        reason["cache_missed_input_tokens"],
        json!(first.usage.cache_creation_input_tokens.unwrap())
    );
    drop(runner);

    let logged = logged.text();
    let misses: Vec<&str> = logged
        .lines()
        .filter(|l| l.contains("the prompt cache missed"))
        .collect();
    assert_eq!(misses.len(), 1, "{logged}");
    assert!(misses[0].contains(" INFO "), "{logged}");
    assert!(
        misses[0].contains("reason=\"messages_changed\""),
        "{logged}"
    );
    assert!(
        misses[0].contains(&format!("previous_message_id=\"{}\"", first.id)),
        "{logged}"
    );
}

#[tokio::test]
async fn a_streaming_runner_marks_its_requests_and_reads_the_cache() {
    let server = start(Sequence::new([
        Reply::tool_use("add", json!({"a": 1, "b": 2})).streamed(),
        Reply::text("3.").streamed(),
    ]))
    .await;
    let last = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false)
        .streaming()
        .until_done()
        .await
        .expect("run");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request["stream"], json!(true));
        assert_eq!(request["cache_control"], ephemeral());
    }
    // The streamed reply's usage came from the server's prompt cache: the
    // second request read what the first wrote.
    assert!(
        last.usage.cache_read_input_tokens.unwrap() > 0,
        "{:?}",
        last.usage
    );
    assert_eq!(last.extra.get("diagnostics"), Some(&Value::Null));
}
