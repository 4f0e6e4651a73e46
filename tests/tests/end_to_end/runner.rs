//! The agentic loop, end to end over HTTP against a scripted server on
//! loopback. Every test checks the request bodies the runner sent.

use crate::support;

use support::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{Client, ContentBlock, MessageParam, Role, State, ToolCall, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Get the weather.
#[tool]
async fn weather(
    /// The city.
    city: String,
) -> String {
    format!("sunny in {city}")
}

#[tokio::test]
async fn multi_turn_with_parallel_calls_sends_exact_bodies() {
    let server = server(vec![
        message(
            "msg_1",
            json!([
                text("Checking."),
                tool_use("toolu_1", "weather", json!({"city": "Paris"})),
                tool_use("toolu_2", "weather", json!({"city": "Oslo"}))
            ]),
            "tool_use",
        ),
        message(
            "msg_2",
            json!([tool_use("toolu_3", "add", json!({"a": 2, "b": 40}))]),
            "tool_use",
        ),
        message("msg_3", json!([text("Done: 42.")]), "end_turn"),
    ])
    .await;
    let runner = client(&server)
        .tool_runner(params(), toolset![weather, add])
        .message_threads(false);
    let last = runner.until_done().await.expect("run");
    assert_eq!(last.text(), "Done: 42.");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let tools = json!([
        {"name": "weather", "description": "Get the weather.", "input_schema": {
            "type": "object", "properties": {"city": {"type": "string", "description": "The city."}},
            "required": ["city"], "additionalProperties": false}},
        {"name": "add", "description": "Add two integers.", "input_schema": {
            "type": "object", "properties": {"a": {"type": "integer", "format": "int64"}, "b": {"type": "integer", "format": "int64"}},
            "required": ["a", "b"], "additionalProperties": false}}
    ]);
    // Without a thread, each request is marked for prompt caching.
    assert_eq!(
        requests[0],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [{"role": "user", "content": "Go."}], "tools": tools,
            "cache_control": {"type": "ephemeral"}})
    );
    assert_eq!(
        requests[1]["messages"],
        json!([
            {"role": "user", "content": "Go."},
            {"role": "assistant", "content": [text("Checking."), tool_use("toolu_1", "weather", json!({"city": "Paris"})), tool_use("toolu_2", "weather", json!({"city": "Oslo"}))]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny in Paris"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "sunny in Oslo"}
            ]}
        ])
    );
    assert_eq!(requests[1]["tools"], tools);
    assert_eq!(
        requests[2]["messages"].as_array().unwrap()[3..],
        [
            json!({"role": "assistant", "content": [tool_use("toolu_3", "add", json!({"a": 2, "b": 40}))]}),
            json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_3", "content": "42"}]}),
        ]
    );
}

#[tokio::test]
async fn each_message_is_yielded_and_history_ends_with_final_answer() {
    let server = server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 1}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("2")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server).tool_runner(params(), toolset![add]);
    let mut ids = Vec::new();
    while let Some(message) = runner.next().await {
        ids.push(message.expect("message").id);
    }
    assert_eq!(ids, ["msg_1", "msg_2"]);
    assert_eq!(runner.iterations(), 2);
    // The final answer is kept in the history so the conversation can go on.
    assert_eq!(runner.messages().len(), 4);
    assert_eq!(runner.messages()[3].role, Role::Assistant);
    assert!(
        runner.next().await.is_none(),
        "a finished runner stays finished"
    );
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Always panics.
#[tool]
async fn explode() -> String {
    PANICS.fetch_add(1, Ordering::SeqCst);
    panic!("kaboom")
}

/// Fails with an error.
#[tool]
fn fails() -> Result<String, std::io::Error> {
    Err(std::io::Error::other("disk on fire"))
}

#[tokio::test]
async fn every_tool_use_gets_exactly_one_result_even_when_it_fails() {
    let server = server(vec![
        message(
            "msg_1",
            json!([
                tool_use("toolu_1", "add", json!({"a": 1, "b": "x"})),
                tool_use("toolu_2", "nope", json!({})),
                tool_use("toolu_3", "explode", json!({})),
                tool_use("toolu_4", "fails", json!({"x": 1})),
                tool_use("toolu_5", "fails", json!({})),
                tool_use("toolu_6", "add", json!({"a": 1, "b": 2, "c": 3})),
            ]),
            "tool_use",
        ),
        message("msg_2", json!([text("I see the errors.")]), "end_turn"),
    ])
    .await;
    let runner = client(&server)
        .tool_runner(params(), toolset![add, explode, fails])
        .message_threads(false);
    runner.until_done().await.expect("the loop keeps going");
    let results = server.requests()[1]["messages"][2]["content"].clone();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 6);
    let ids: Vec<_> = results
        .iter()
        .map(|r| r["tool_use_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "toolu_1", "toolu_2", "toolu_3", "toolu_4", "toolu_5", "toolu_6"
        ]
    );
    for r in results {
        assert_eq!(r["is_error"], true, "{r}");
    }
    let text = |i: usize| results[i]["content"].as_str().unwrap().to_owned();
    assert_eq!(
        text(0),
        r#"invalid input for tool `add`: b: "x" is not of type "integer""#
    );
    assert_eq!(
        text(1),
        "unknown tool `nope`; available tools: add, explode, fails"
    );
    assert_eq!(text(2), "tool `explode` panicked: kaboom");
    assert_eq!(
        text(3),
        "invalid input for tool `fails`: x: unknown field, this tool takes no input"
    );
    assert_eq!(text(4), "disk on fire");
    assert!(
        text(5).starts_with("invalid input for tool `add`: c: unknown field"),
        "{}",
        text(5)
    );
    assert_eq!(PANICS.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn taking_over_sends_the_callers_state_unchanged() {
    let server = server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("Sure, 3.")]), "end_turn"),
        message("msg_3", json!([text("Bye.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false);
    let mut seen = 0;
    while let Some(message) = runner.next().await {
        let message = message.expect("message");
        seen += 1;
        match seen {
            // Replace the pending tool call with a plain follow-up: the
            // runner must not append the assistant turn nor run the tool.
            1 => runner.push_messages([MessageParam::user("Actually, never mind the tool.")]),
            // After an end_turn, a pushed message carries the conversation on.
            2 => {
                runner.push_messages([MessageParam::from(message), MessageParam::user("Thanks!")]);
            }
            _ => {}
        }
    }
    assert_eq!(seen, 3);
    let requests = server.requests();
    assert_eq!(
        requests[1]["messages"],
        json!([
            {"role": "user", "content": "Go."},
            {"role": "user", "content": "Actually, never mind the tool."}
        ])
    );
    assert_eq!(
        requests[2]["messages"],
        json!([
            {"role": "user", "content": "Go."},
            {"role": "user", "content": "Actually, never mind the tool."},
            {"role": "assistant", "content": [text("Sure, 3.")]},
            {"role": "user", "content": "Thanks!"}
        ])
    );
}

static COUNTED: AtomicUsize = AtomicUsize::new(0);

/// Counts its calls.
#[tool]
fn counted() -> String {
    COUNTED.fetch_add(1, Ordering::SeqCst);
    "counted".into()
}

#[tokio::test]
async fn tool_response_runs_tools_once_and_edits_are_sent() {
    let server = server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "counted", json!({}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("ok")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![counted])
        .message_threads(false);
    let first = runner.next().await.unwrap().unwrap();
    assert_eq!(first.id, "msg_1");
    {
        let response = runner.tool_response().await.unwrap().expect("tools wanted");
        let toolrunner::types::Content::Blocks(blocks) = &mut response.content else {
            panic!("tool results are blocks");
        };
        let ContentBlock::ToolResult(result) = &mut blocks[0] else {
            panic!("a tool result");
        };
        result.cache_control = Some(json!({"type": "ephemeral"}));
    }
    // A second call reuses the cached result.
    let again = runner.tool_response().await.unwrap().expect("cached");
    assert_eq!(
        again.content_blocks()[0].as_tool_result().unwrap().text(),
        "counted"
    );
    let second = runner.next().await.unwrap().unwrap();
    assert_eq!(second.id, "msg_2");
    assert!(runner.next().await.is_none());
    assert_eq!(COUNTED.load(Ordering::SeqCst), 1, "the tool ran once");
    assert_eq!(
        server.requests()[1]["messages"][2],
        json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "counted", "cache_control": {"type": "ephemeral"}}]})
    );
}

#[tokio::test]
async fn pause_turn_is_sent_back_as_is_without_running_tools() {
    let server_block = json!({"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "rust"}});
    let server = server(vec![
        message(
            "msg_1",
            json!([text("Searching..."), server_block.clone()]),
            "pause_turn",
        ),
        message("msg_2", json!([text("Found it.")]), "end_turn"),
    ])
    .await;
    let runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false);
    runner.until_done().await.expect("run");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1]["messages"],
        json!([
            {"role": "user", "content": "Go."},
            {"role": "assistant", "content": [text("Searching..."), server_block]}
        ])
    );
}

static REFUSED_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Must never run after a refusal.
#[tool]
fn dangerous() -> String {
    REFUSED_RUNS.fetch_add(1, Ordering::SeqCst);
    "ran".into()
}

#[tokio::test]
async fn terminal_stop_reasons_end_the_loop_without_running_tools() {
    for stop in [
        "refusal",
        "end_turn",
        "max_tokens",
        "stop_sequence",
        "model_context_window_exceeded",
        "something_new",
    ] {
        let server = server(vec![message(
            "msg_1",
            json!([tool_use("toolu_1", "dangerous", json!({}))]),
            stop,
        )])
        .await;
        let mut runner = client(&server).tool_runner(params(), toolset![dangerous]);
        let first = runner.next().await.unwrap().unwrap();
        assert_eq!(
            first
                .stop_reason
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .as_deref(),
            Some(stop)
        );
        assert!(
            runner.tool_response().await.unwrap().is_none(),
            "{stop}: no tools to run"
        );
        assert!(runner.next().await.is_none(), "{stop}: the loop ends");
        assert_eq!(server.requests().len(), 1);
    }
    assert_eq!(REFUSED_RUNS.load(Ordering::SeqCst), 0);
}

static LIMITED_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Counts its calls.
#[tool]
fn limited() -> String {
    LIMITED_RUNS.fetch_add(1, Ordering::SeqCst);
    "again".into()
}

#[tokio::test]
async fn max_iterations_is_reported_and_unanswerable_tools_are_not_run() {
    let turns = (1..=5)
        .map(|i| {
            message(
                &format!("msg_{i}"),
                json!([tool_use(&format!("toolu_{i}"), "limited", json!({}))]),
                "tool_use",
            )
        })
        .collect();
    let server = server(turns).await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![limited])
        .max_iterations(2);
    let mut ok = 0;
    let mut error = None;
    while let Some(item) = runner.next().await {
        match item {
            Ok(_) => ok += 1,
            Err(e) => error = Some(e),
        }
    }
    let error = error.expect("the limit is reported");
    assert!(error.is_max_iterations(), "{error}");
    assert!(error.to_string().contains('2'), "{error}");
    assert_eq!(ok, 2);
    assert_eq!(server.requests().len(), 2);
    // The first turn's tool ran (its result was sent); the second's could never be sent.
    assert_eq!(LIMITED_RUNS.load(Ordering::SeqCst), 1);

    let server2 = server_for_until_done().await;
    let err = client(&server2)
        .tool_runner(params(), toolset![add])
        .max_iterations(1)
        .until_done()
        .await
        .unwrap_err();
    assert!(err.is_max_iterations());
}

async fn server_for_until_done() -> ScriptedServer {
    server(vec![message(
        "msg_1",
        json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 1}))]),
        "tool_use",
    )])
    .await
}

#[tokio::test]
async fn container_is_carried_and_merged_with_the_users_object() {
    let with_container = |id: &str, content: Value, stop: &str, container: &str| {
        let mut m = message(id, content, stop);
        m["container"] = json!({"id": container, "expires_at": "2026-11-21T12:00:00Z"});
        m
    };
    let server = server(vec![
        with_container(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 1}))]),
            "tool_use",
            "container_A",
        ),
        with_container(
            "msg_2",
            json!([tool_use("toolu_2", "add", json!({"a": 2, "b": 2}))]),
            "tool_use",
            "container_B",
        ),
        message("msg_3", json!([text("done")]), "end_turn"),
    ])
    .await;
    let params = params().container(json!({"skills": [{"type": "anthropic", "skill_id": "xlsx"}]}));
    client(&server)
        .tool_runner(params, toolset![add])
        .until_done()
        .await
        .expect("run");
    let requests = server.requests();
    assert_eq!(
        requests[0]["container"],
        json!({"skills": [{"type": "anthropic", "skill_id": "xlsx"}]})
    );
    assert_eq!(
        requests[1]["container"],
        json!({"skills": [{"type": "anthropic", "skill_id": "xlsx"}], "id": "container_A"})
    );
    assert_eq!(
        requests[2]["container"],
        json!({"skills": [{"type": "anthropic", "skill_id": "xlsx"}], "id": "container_B"})
    );

    // Without a user object, the id is sent as a string.
    let server = server_with(vec![
        with_container(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 1}))]),
            "tool_use",
            "container_C",
        ),
        message("msg_2", json!([text("done")]), "end_turn"),
    ])
    .await;
    client(&server)
        .tool_runner(self::params(), toolset![add])
        .until_done()
        .await
        .expect("run");
    assert_eq!(server.requests()[1]["container"], json!("container_C"));
}

async fn server_with(replies: Vec<Value>) -> ScriptedServer {
    server(replies).await
}

#[tokio::test]
async fn unknown_blocks_and_fields_round_trip_byte_for_byte() {
    // Odd key order, nesting and numbers: the block must come back exactly.
    let unknown = r#"{"zeta":1.50,"type":"brand_new_block","nested":{"b":[1,2,{"c":null}],"a":"\u00e9"},"big":12345678901234567890}"#;
    let body = format!(
        r#"{{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{unknown},{{"type":"text","text":"hi","citations":null,"new_field":{{"x":1}}}},{{"type":"tool_use","id":"toolu_1","name":"add","input":{{"b":2,"a":1}},"caller":{{"type":"direct"}}}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{{"input_tokens":1,"output_tokens":1}},"brand_new_top_level":true}}"#
    );
    let server = ScriptedServer::start(Sequence::new([
        Reply::raw(200, "application/json", body),
        Reply::message(message("msg_2", json!([text("ok")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false);
    let first = runner.next().await.unwrap().unwrap();
    assert_eq!(first.content[0].kind(), "brand_new_block");
    assert_eq!(first.extra["brand_new_top_level"], true);
    while runner.next().await.is_some() {}
    let sent = &server.recorded()[1].body;
    assert!(
        sent.contains(unknown),
        "unknown block not sent back byte for byte: {sent}"
    );
    let assistant = &server.requests()[1]["messages"][1]["content"];
    assert_eq!(
        assistant[1],
        json!({"type": "text", "text": "hi", "citations": null, "new_field": {"x": 1}})
    );
    assert_eq!(
        assistant[2],
        json!({"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"b": 2, "a": 1}, "caller": {"type": "direct"}})
    );
    // Key order of the tool input is kept too (prompt caching compares bytes).
    assert!(sent.contains(r#""input":{"b":2,"a":1}"#), "{sent}");
}

/// Waits until all four calls of the turn are running, then answers.
#[tool]
async fn rendezvous(barrier: State<tokio::sync::Barrier>, n: u32) -> u32 {
    barrier.wait().await;
    n
}

#[tokio::test]
async fn tool_calls_of_a_turn_run_concurrently_and_keep_call_order() {
    let calls: Vec<Value> = (0..4)
        .map(|i| tool_use(&format!("toolu_{i}"), "rendezvous", json!({"n": i})))
        .collect();
    let server = server(vec![
        message("msg_1", Value::Array(calls), "tool_use"),
        message("msg_2", json!([text("ok")]), "end_turn"),
    ])
    .await;
    // Each call waits for all four: run one after another, they would never finish.
    let tools = toolset![rendezvous].with_state(tokio::sync::Barrier::new(4));
    let run = client(&server)
        .tool_runner(params(), tools)
        .message_threads(false)
        .until_done();
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("calls ran concurrently")
        .expect("run");
    let results = server.requests()[1]["messages"][2]["content"].clone();
    let contents: Vec<_> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["content"].clone())
        .collect();
    assert_eq!(contents, [json!("0"), json!("1"), json!("2"), json!("3")]);
}

struct InFlight {
    now: AtomicUsize,
    max: AtomicUsize,
}

/// Tracks how many calls run at once.
#[tool]
async fn tracked(state: State<InFlight>) -> String {
    let now = state.now.fetch_add(1, Ordering::SeqCst) + 1;
    state.max.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(20)).await;
    state.now.fetch_sub(1, Ordering::SeqCst);
    "ok".into()
}

#[tokio::test]
async fn tool_concurrency_bounds_calls_in_flight() {
    let calls: Vec<Value> = (0..6)
        .map(|i| tool_use(&format!("toolu_{i}"), "tracked", json!({})))
        .collect();
    let server = server(vec![
        message("msg_1", Value::Array(calls), "tool_use"),
        message("msg_2", json!([text("ok")]), "end_turn"),
    ])
    .await;
    let state = Arc::new(InFlight {
        now: AtomicUsize::new(0),
        max: AtomicUsize::new(0),
    });
    let tools = toolset![tracked].with_shared_state(Arc::clone(&state));
    client(&server)
        .tool_runner(params(), tools)
        .tool_concurrency(2)
        .until_done()
        .await
        .expect("run");
    assert_eq!(state.max.load(Ordering::SeqCst), 2);
}

struct Flags {
    started: tokio::sync::Notify,
    cancelled: AtomicUsize,
    dropped: AtomicUsize,
}

struct SetOnDrop(Arc<Flags>);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Never finishes on its own.
#[tool]
async fn forever(flags: State<Flags>, call: ToolCall) -> String {
    let flags = flags.into_inner();
    let _guard = SetOnDrop(Arc::clone(&flags));
    let token = call.cancellation().clone();
    let watcher = Arc::clone(&flags);
    tokio::spawn(async move {
        token.cancelled().await;
        watcher.cancelled.fetch_add(1, Ordering::SeqCst);
    });
    flags.started.notify_one();
    std::future::pending::<String>().await
}

#[tokio::test]
async fn dropping_the_runner_mid_tool_cancels_cleanly() {
    let server = server(vec![message(
        "msg_1",
        json!([tool_use("toolu_1", "forever", json!({}))]),
        "tool_use",
    )])
    .await;
    let flags = Arc::new(Flags {
        started: tokio::sync::Notify::new(),
        cancelled: AtomicUsize::new(0),
        dropped: AtomicUsize::new(0),
    });
    let tools = toolset![forever].with_shared_state(Arc::clone(&flags));
    let mut runner = client(&server).tool_runner(params(), tools);
    runner.next().await.unwrap().unwrap();
    let started = flags.started.notified();
    tokio::select! {
        _ = runner.next() => panic!("the tool never finishes"),
        () = started => {}
    }
    drop(runner);
    assert_eq!(
        flags.dropped.load(Ordering::SeqCst),
        1,
        "the tool's future was dropped"
    );
    tokio::time::timeout(Duration::from_secs(5), async {
        while flags.cancelled.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the cancellation token fired");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn errors_from_the_api_surface_with_status_type_and_request_id() {
    let server = ScriptedServer::start(Sequence::new([Reply::error(
        400,
        "invalid_request_error",
        "messages: field required",
    )
    .header("request-id", "req_123")]))
    .await
    .unwrap();
    let err = client(&server)
        .tool_runner(params(), toolset![add])
        .until_done()
        .await
        .unwrap_err();
    assert!(err.is_api());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.api_error_type(), Some("invalid_request_error"));
    assert_eq!(err.request_id(), Some("req_123"));
    assert!(
        err.to_string().contains("messages: field required"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1, "a 400 is not retried");
}

#[tokio::test]
async fn a_rate_limit_is_retried_after_the_servers_delay() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::error(429, "rate_limit_error", "slow down").header("retry-after-ms", "50"),
        Reply::message(message("msg_1", json!([text("hi")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let client = Client::builder()
        .api_key("k")
        .base_url(server.url())
        .max_retries(2)
        .build()
        .unwrap();
    let last = client
        .tool_runner(params(), toolset![add])
        .until_done()
        .await
        .expect("retried");
    assert_eq!(last.text(), "hi");
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        recorded[0].body, recorded[1].body,
        "the retry resends the same body"
    );
}

#[tokio::test]
async fn request_headers_carry_key_version_and_betas() {
    let server = server(vec![message("msg_1", json!([text("hi")]), "end_turn")]).await;
    let params = params().beta("beta-one").beta("beta-two");
    client(&server)
        .tool_runner(params, toolset![add])
        .message_threads(false)
        .until_done()
        .await
        .unwrap();
    let request = &server.recorded()[0];
    assert_eq!(request.header("x-api-key"), Some("test-key"));
    assert_eq!(request.header("anthropic-version"), Some("2026-10-21"));
    assert_eq!(request.header("anthropic-beta"), Some("beta-one,beta-two"));
    assert!(
        !request.body.contains("beta-one"),
        "betas go in the header, not the body"
    );
}

#[tokio::test]
async fn overload_retries_exhausted_is_a_clear_error_and_polling_again_resends() {
    let overloaded =
        || Reply::error(529, "overloaded_error", "Overloaded").header("retry-after-ms", "1");
    let server = ScriptedServer::start(Sequence::new([
        overloaded(),
        overloaded(),
        overloaded(),
        Reply::message(message("msg_1", json!([text("finally")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let client = Client::builder()
        .api_key("k")
        .base_url(server.url())
        .max_retries(2)
        .build()
        .unwrap();
    let mut runner = client.tool_runner(params(), toolset![add]);
    let error = runner.next().await.unwrap().unwrap_err();
    assert!(error.is_api() && error.is_retryable(), "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(529));
    assert_eq!(error.attempts(), 3);
    assert!(error.to_string().contains("529"), "{error}");
    assert_eq!(server.requests().len(), 3);
    // The error is worth retrying, so the runner has not given up: the next
    // poll sends the same request again.
    let message = runner.next().await.unwrap().expect("resent");
    assert_eq!(message.text(), "finally");
    let recorded = server.recorded();
    assert_eq!(recorded[0].body, recorded[3].body);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_then_reported() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::hang_up(),
        Reply::message(message(
            "msg_1",
            json!([text("after a hang-up")]),
            "end_turn",
        )),
    ]))
    .await
    .unwrap();
    let client = Client::builder()
        .api_key("k")
        .base_url(server.url())
        .max_retries(1)
        .build()
        .unwrap();
    let last = client
        .tool_runner(params(), toolset![add])
        .until_done()
        .await
        .expect("retried");
    assert_eq!(last.text(), "after a hang-up");

    let server = ScriptedServer::start(Sequence::new([Reply::hang_up(), Reply::hang_up()]))
        .await
        .unwrap();
    let client = Client::builder()
        .api_key("k")
        .base_url(server.url())
        .max_retries(1)
        .build()
        .unwrap();
    let error = client
        .tool_runner(params(), toolset![add])
        .until_done()
        .await
        .unwrap_err();
    assert!(error.is_connection(), "{error}");
    assert_eq!(error.attempts(), 2);
}

#[tokio::test]
async fn a_body_that_is_not_a_message_is_a_decode_error_and_ends_the_loop() {
    let server = ScriptedServer::start(Sequence::new([Reply::raw(
        200,
        "text/html",
        "<html>gateway hiccup</html>",
    )]))
    .await
    .unwrap();
    let mut runner = client(&server).tool_runner(params(), toolset![add]);
    let error = runner.next().await.unwrap().unwrap_err();
    assert!(error.is_decode(), "{error}");
    assert!(format!("{error:?}").contains("gateway hiccup"), "{error:?}");
    assert!(
        runner.next().await.is_none(),
        "a decode error is not worth resending"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_retry_after_of_zero_gets_backoff_not_an_instant_retry() {
    // A zero delay would only meet the same answer: back off instead, as the
    // official SDKs do (the first backoff is 375 to 500 ms).
    let server = ScriptedServer::start(Sequence::new([
        Reply::error(429, "rate_limit_error", "slow down").header("retry-after", "0"),
        Reply::message(message("msg_1", json!([text("hi")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let client = Client::builder()
        .api_key("k")
        .base_url(server.url())
        .max_retries(1)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    client.create_message(&params()).await.expect("retried");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(350),
        "retried after {:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

/// Look up the weather.
#[tool(input_examples = [{"city": "Paris"}, {"city": "Oslo", "days": 3}], eager_input_streaming)]
fn forecast(city: String, days: Option<u32>) -> String {
    format!("{city}: sunny for {} days", days.unwrap_or(1))
}

#[tokio::test]
async fn input_examples_and_eager_streaming_go_out_in_the_documented_shape() {
    let server = ScriptedServer::start(Sequence::new([Reply::message(message(
        "msg_1",
        json!([text("hi")]),
        "end_turn",
    ))]))
    .await
    .unwrap();
    client(&server)
        .tool_runner(params(), toolset![forecast])
        .message_threads(false)
        .until_done()
        .await
        .unwrap();
    let tool = &server.requests()[0]["tools"][0];
    assert_eq!(
        tool["input_examples"],
        json!([{"city": "Paris"}, {"city": "Oslo", "days": 3}])
    );
    assert_eq!(tool["eager_input_streaming"], true);
}

#[test]
fn a_definition_keeps_the_fields_it_does_not_model() {
    let wire = json!({"name": "lookup", "description": "Look up.", "input_schema": {"type": "object"},
                      "input_examples": [{"q": "x"}], "eager_input_streaming": false,
                      "future_option": {"level": 2}});
    let def: toolrunner::ToolDefinition = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(def.to_wire("code_execution_20260120"), wire);
}

/// A label between 1 and 5 characters.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Label {
    #[schemars(length(min = 1, max = 5))]
    text: String,
}

/// Print a label, strictly.
#[tool(strict)]
fn print_label(label: Label) -> String {
    label.text
}

#[tokio::test]
async fn a_strict_tools_bounds_leave_the_wire_schema_but_are_enforced_on_read() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::message(message(
            "msg_1",
            json!([tool_use(
                "toolu_1",
                "print_label",
                json!({"label": {"text": "far too long"}})
            )]),
            "tool_use",
        )),
        Reply::message(message("msg_2", json!([text("ok")]), "end_turn")),
    ]))
    .await
    .unwrap();
    client(&server)
        .tool_runner(params(), toolset![print_label])
        .message_threads(false)
        .until_done()
        .await
        .unwrap();
    let requests = server.requests();
    let text_schema =
        &requests[0]["tools"][0]["input_schema"]["properties"]["label"]["properties"]["text"];
    assert_eq!(
        *text_schema,
        json!({"type": "string", "description": "{minLength: 1, maxLength: 5}"})
    );
    assert_eq!(
        requests[1]["messages"][2]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true,
               "content": "invalid input for tool `print_label`: label.text: \"far too long\" is longer than 5 characters"})
    );
}

#[tokio::test]
async fn tool_results_pair_each_call_with_its_result_in_call_order() {
    let server = server(vec![
        message(
            "msg_1",
            json!([
                text("Two sums and a weather."),
                tool_use("toolu_1", "add", json!({"a": 1, "b": 2})),
                tool_use("toolu_2", "weather", json!({"city": "Oslo"})),
                tool_use("toolu_3", "add", json!({"a": "x", "b": 2}))
            ]),
            "tool_use",
        ),
        message("msg_2", json!([text("done")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add, weather])
        .message_threads(false);
    runner.next().await.unwrap().unwrap();
    let pairs: Vec<(String, String, String, bool)> = runner
        .tool_results()
        .await
        .unwrap()
        .into_iter()
        .map(|(call, result)| {
            assert_eq!(call.id, result.tool_use_id);
            (
                call.id.clone(),
                call.name.clone(),
                result.text(),
                result.is_error,
            )
        })
        .collect();
    assert_eq!(pairs.len(), 3);
    assert_eq!(
        pairs[0],
        ("toolu_1".into(), "add".into(), "3".into(), false)
    );
    assert_eq!(
        pairs[1],
        (
            "toolu_2".into(),
            "weather".into(),
            "sunny in Oslo".into(),
            false
        )
    );
    assert!(pairs[2].3, "a bad input is an error result");
    // The results are reused, not run again, and the turn after wants none.
    let last = runner.next().await.unwrap().unwrap();
    assert_eq!(last.id, "msg_2");
    assert!(runner.tool_results().await.unwrap().is_empty());
    assert_eq!(
        server.requests()[1]["messages"][2]["content"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}
