//! Fallback models, end to end against the scripted server: a refused or
//! overloaded turn is sent again to the next model, with threads on and
//! off, plain and streaming. Each test checks the exact request bodies
//! and the beta header.

use crate::support;

use support::*;

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{Part, Reply, ScriptedServer, Sequence, sse_events};
use toolrunner::{MessageParams, tool, toolset};

const FALLBACK_BETA: &str = "fallback-credit-2026-07-01";
const THREADS_BETA: &str = "message-threads-2026-08-12";

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn refusal(id: &str, token: Option<&str>) -> Value {
    let mut refused = message(id, json!([text("I can't")]), "refusal");
    refused["stop_details"] = json!({"type": "refusal", "category": "cyber", "explanation": null,
        "fallback_credit_token": token});
    refused
}

fn credit(token: &str) -> Value {
    json!({"token": token, "mode": "best_effort"})
}

fn go() -> Value {
    json!([{"role": "user", "content": "Go."}])
}

/// The model of each request, in order.
fn models(server: &ScriptedServer) -> Vec<Value> {
    server
        .requests()
        .iter()
        .map(|r| r["model"].clone())
        .collect()
}

fn beta_header(server: &ScriptedServer, request: usize) -> Option<String> {
    server.recorded()[request]
        .header("anthropic-beta")
        .map(str::to_owned)
}

#[tokio::test]
async fn a_refused_turn_goes_to_the_next_model_and_is_not_yielded() {
    let server = server(vec![
        refusal("msg_1", Some("tok_1")),
        refusal("msg_2", None),
        message("msg_3", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![])
        .message_threads(false)
        // The bodies without the cache marks of whole-history requests.
        .prompt_caching(false)
        .fallback_models(["claude-b", "claude-c"]);
    let mut yielded = Vec::new();
    while let Some(message) = runner.next().await {
        yielded.push(message.expect("reply").id);
    }
    assert_eq!(yielded, ["msg_3"]);
    let requests = server.requests();
    assert_eq!(
        requests,
        [
            json!({"model": "claude-test", "max_tokens": 256, "messages": go()}),
            json!({"model": "claude-b", "max_tokens": 256, "messages": go(),
                "fallback_credit_token": credit("tok_1")}),
            // The second refusal minted no token.
            json!({"model": "claude-c", "max_tokens": 256, "messages": go()}),
        ]
    );
    for request in 0..3 {
        assert_eq!(
            beta_header(&server, request).as_deref(),
            Some(FALLBACK_BETA)
        );
    }
    assert_eq!(runner.params().model, "claude-c");
    assert_eq!(runner.messages().len(), 2);
}

#[tokio::test]
async fn with_threads_the_refused_turn_starts_a_new_thread_on_the_next_model() {
    let msg_1 = message(
        "msg_1",
        json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 1}))]),
        "tool_use",
    );
    let server = server(vec![
        msg_1.clone(),
        refusal("msg_2", Some("tok_2")),
        message(
            "msg_3",
            json!([tool_use("toolu_2", "add", json!({"a": 2, "b": 2}))]),
            "tool_use",
        ),
        message("msg_4", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let params = MessageParams::new("claude-test", 256)
        .system("Be brief.")
        .user("Go.");
    let last = client(&server)
        .tool_runner(params, toolset![add])
        .fallback_models(["claude-b"])
        .until_done()
        .await
        .expect("run");
    assert_eq!(last.id, "msg_4");
    let result = |id: &str, content: &str| json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": content}]});
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(
        requests[1],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [result("toolu_1", "2")],
            "thread": {"type": "continue", "previous_message_id": "msg_1"}})
    );
    // The same turn on the next model, on a new thread with the whole
    // history, redeeming the refusal's credit.
    assert_eq!(
        requests[2],
        json!({"model": "claude-b", "max_tokens": 256, "messages": [
                {"role": "user", "content": "Go."},
                {"role": "assistant", "content": msg_1["content"]},
                result("toolu_1", "2"),
            ],
            "system": "Be brief.", "tools": add_tool(), "thread": {"type": "create"},
            "fallback_credit_token": credit("tok_2")})
    );
    // The conversation stays on the model that took the turn.
    assert_eq!(
        requests[3],
        json!({"model": "claude-b", "max_tokens": 256, "messages": [result("toolu_2", "4")],
            "thread": {"type": "continue", "previous_message_id": "msg_3"}})
    );
    for request in 0..4 {
        assert_eq!(
            beta_header(&server, request).as_deref(),
            Some(format!("{THREADS_BETA},{FALLBACK_BETA}").as_str())
        );
    }
}

#[tokio::test]
async fn an_overloaded_turn_goes_to_the_next_model_once_retries_are_used_up() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::error(529, "overloaded_error", "Overloaded"),
        Reply::error(529, "overloaded_error", "Overloaded"),
        Reply::message(message("msg_1", json!([text("Done.")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let client = client_with_retries(&server, 1);
    let last = client
        .tool_runner(params(), toolset![])
        .fallback_models(["claude-b"])
        .until_done()
        .await
        .expect("run");
    assert_eq!(last.id, "msg_1");
    let requests = server.requests();
    let first = json!({"model": "claude-test", "max_tokens": 256, "messages": go(),
        "thread": {"type": "create"}});
    // The client's own retry, then the next model.
    assert_eq!(requests[0], first);
    assert_eq!(requests[1], first);
    assert_eq!(
        requests[2],
        json!({"model": "claude-b", "max_tokens": 256, "messages": go(),
            "thread": {"type": "create"}})
    );
}

#[tokio::test]
async fn an_overload_on_the_last_model_is_the_callers() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::error(529, "overloaded_error", "Overloaded"),
        Reply::error(529, "overloaded_error", "Overloaded"),
    ]))
    .await
    .unwrap();
    let error = client(&server)
        .tool_runner(params(), toolset![])
        .message_threads(false)
        .fallback_models(["claude-b"])
        .until_done()
        .await
        .expect_err("overloaded");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(529));
    let models = models(&server);
    assert_eq!(models, [json!("claude-test"), json!("claude-b")]);
}

#[tokio::test]
async fn a_streamed_refusal_is_shown_and_the_next_turn_is_the_next_models() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(refusal("msg_1", Some("tok_1"))),
        Reply::stream_message(message("msg_2", json!([text("Done.")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let mut runner = client(&server)
        .tool_runner(params(), toolset![])
        .message_threads(false)
        .prompt_caching(false)
        .fallback_models(["claude-b"])
        .streaming();
    let mut turns = Vec::new();
    while let Some(turn) = runner.next_turn().await {
        let message = turn.expect("turn").message().await.expect("message");
        turns.push((message.id.clone(), message.stop_reason.clone()));
    }
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0].0, "msg_1");
    assert_eq!(turns[1].0, "msg_2");
    assert_eq!(
        server.requests(),
        [
            json!({"model": "claude-test", "max_tokens": 256, "messages": go(), "stream": true}),
            json!({"model": "claude-b", "max_tokens": 256, "messages": go(),
                "fallback_credit_token": credit("tok_1"), "stream": true}),
        ]
    );
    assert_eq!(runner.messages().len(), 2);
    assert_eq!(runner.params().model, "claude-b");
}

#[tokio::test]
async fn a_resumed_run_goes_on_down_the_list_from_its_model() {
    let server = server(vec![
        refusal("msg_1", None),
        refusal("msg_2", None),
        message("msg_3", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let client = client(&server);
    let mut runner = client
        .tool_runner(params(), toolset![])
        .message_threads(false)
        .fallback_models(["claude-b", "claude-c"])
        .max_iterations(1);
    // The refusal fell back, and the limit stops the run before the resend.
    let stopped = runner.next().await.expect("an error");
    assert!(stopped.expect_err("limit").is_max_iterations());
    let resumed = client
        .resume(runner.state(), toolset![])
        .unwrap()
        .fallback_models(["claude-b", "claude-c"])
        .max_iterations(3);
    let last = resumed.until_done().await.expect("answer");
    assert_eq!(last.id, "msg_3");
    let models = models(&server);
    assert_eq!(
        models,
        [json!("claude-test"), json!("claude-b"), json!("claude-c")]
    );
}

/// A runner stopped by its limit right after a refusal with `tok_1` fell
/// back to `claude-b` (the resend not sent), kept as JSON and read back,
/// as another process would.
async fn state_after_a_refusal(client: &toolrunner::Client) -> toolrunner::RunState {
    let mut runner = client
        .tool_runner(params(), toolset![])
        .message_threads(false)
        .prompt_caching(false)
        .fallback_models(["claude-b", "claude-c"])
        .max_iterations(1);
    let stopped = runner.next().await.expect("an error");
    assert!(stopped.expect_err("limit").is_max_iterations());
    let json = runner.state().to_json().expect("json");
    toolrunner::RunState::from_json(&json).expect("state")
}

#[tokio::test]
async fn a_resumed_run_keeps_its_fallback_models_and_the_credit_token() {
    let server = server(vec![
        refusal("msg_1", Some("tok_1")),
        refusal("msg_2", Some("tok_2")),
        message("msg_3", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let client = client(&server);
    let state = state_after_a_refusal(&client).await;
    // No `fallback_models` on the resumed runner: the state's go on.
    let last = client
        .resume(state, toolset![])
        .expect("resume")
        .max_iterations(3)
        .until_done()
        .await
        .expect("answer");
    assert_eq!(last.id, "msg_3");
    assert_eq!(
        server.requests(),
        [
            json!({"model": "claude-test", "max_tokens": 256, "messages": go()}),
            json!({"model": "claude-b", "max_tokens": 256, "messages": go(),
                "fallback_credit_token": credit("tok_1")}),
            json!({"model": "claude-c", "max_tokens": 256, "messages": go(),
                "fallback_credit_token": credit("tok_2")}),
        ]
    );
    for request in 0..3 {
        assert_eq!(
            beta_header(&server, request).as_deref(),
            Some(FALLBACK_BETA)
        );
    }
}

#[tokio::test]
async fn fallback_models_set_on_the_resumed_runner_replace_the_saved_ones() {
    let server = server(vec![
        refusal("msg_1", Some("tok_1")),
        refusal("msg_2", None),
        message("msg_3", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let client = client(&server);
    let state = state_after_a_refusal(&client).await;
    let last = client
        .resume(state, toolset![])
        .expect("resume")
        .fallback_models(["claude-z"])
        .max_iterations(3)
        .until_done()
        .await
        .expect("answer");
    assert_eq!(last.id, "msg_3");
    // The credit is the refused turn's, whichever list follows.
    assert_eq!(
        server.requests()[1],
        json!({"model": "claude-b", "max_tokens": 256, "messages": go(),
            "fallback_credit_token": credit("tok_1")})
    );
    // `claude-b` is not in the new list: its first model is next.
    assert_eq!(
        models(&server),
        [json!("claude-test"), json!("claude-b"), json!("claude-z")]
    );
}

#[tokio::test]
async fn a_streaming_runner_falls_back_on_an_overload_before_and_during_the_stream() {
    let started = message("msg_1", json!([text("Half")]), "end_turn");
    let start_event = sse_events(&started).remove(0);
    let overloaded_event = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let server = ScriptedServer::start(Sequence::new([
        // The first model is overloaded before its stream opens...
        Reply::error(529, "overloaded_error", "Overloaded"),
        // ...the second, once its stream began.
        Reply::stream([
            Part::Chunk(start_event),
            Part::Chunk(overloaded_event.into()),
        ]),
        Reply::stream_message(message("msg_2", json!([text("Done.")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let mut runner = client(&server)
        .tool_runner(params(), toolset![])
        .message_threads(false)
        .fallback_models(["claude-b", "claude-c"])
        .streaming();
    // The broken stream is the caller's to see.
    let turn = runner.next_turn().await.expect("turn").expect("opened");
    let error = turn.message().await.expect_err("overloaded mid-stream");
    assert_eq!(error.api_error_type(), Some("overloaded_error"));
    // Ending the broken turn reports its error again (as any failed turn's
    // is); the turn then goes on on the last model.
    let again = runner.next_turn().await.expect("the turn's end");
    assert_eq!(
        again.expect_err("the same error").api_error_type(),
        Some("overloaded_error")
    );
    let turn = runner.next_turn().await.expect("turn").expect("opened");
    assert_eq!(turn.message().await.expect("message").id, "msg_2");
    assert!(runner.next_turn().await.is_none());
    let models = models(&server);
    assert_eq!(
        models,
        [json!("claude-test"), json!("claude-b"), json!("claude-c")]
    );
    for request in server.requests() {
        assert_eq!(request["messages"], go());
        assert_eq!(request.get("fallback_credit_token"), None);
    }
}

/// What the test sees of a call started early: that it started, and (by
/// the sender being dropped) that it stopped.
struct Probe {
    started: tokio::sync::Notify,
    running: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

/// Launch something that takes a while.
#[tool]
async fn launch(probe: toolrunner::State<Probe>) -> String {
    let _running = probe.running.lock().unwrap().take();
    probe.started.notify_one();
    std::future::pending::<()>().await;
    "launched".into()
}

#[tokio::test]
async fn a_call_started_early_in_a_refused_streamed_turn_is_stopped_at_the_refusal() {
    let mut refused = refusal("msg_1", None);
    refused["content"] = json!([tool_use("toolu_1", "launch", json!({}))]);
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(refused),
        // The fallback model's request fails: the run stops there, and the
        // refused turn's call must not go on running meanwhile.
        Reply::error(400, "invalid_request_error", "no"),
    ]))
    .await
    .unwrap();
    let (running, stopped) = tokio::sync::oneshot::channel();
    let probe = std::sync::Arc::new(Probe {
        started: tokio::sync::Notify::new(),
        running: std::sync::Mutex::new(Some(running)),
    });
    let mut runner = client(&server)
        .tool_runner(
            params(),
            toolset![launch].with_shared_state(std::sync::Arc::clone(&probe)),
        )
        .message_threads(false)
        .prompt_caching(false)
        .fallback_models(["claude-b"])
        .streaming()
        .early_tool_start(true);
    let turn = runner.next_turn().await.expect("turn").expect("ok");
    let message = turn.message().await.expect("message");
    assert_eq!(message.stop_reason, Some(toolrunner::StopReason::Refusal));
    probe.started.notified().await;
    let error = runner
        .next_turn()
        .await
        .expect("an error")
        .expect_err("400");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    let requests = server.requests();
    assert_eq!(
        requests[1],
        json!({"model": "claude-b", "max_tokens": 256, "messages": go(),
            "tools": requests[0]["tools"], "stream": true})
    );
    // Not when the runner is dropped: it is still here.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), stopped).await;
    assert!(
        matches!(ended, Ok(Err(_))),
        "the call started early is still running"
    );
    drop(runner);
}

#[tokio::test]
async fn a_checkpointed_run_is_saved_at_the_fallback_and_resumes_on_the_next_model() {
    use toolrunner::{FileStore, RunId, RunStore};
    let server = ScriptedServer::start(Sequence::new([
        Reply::message(refusal("msg_1", Some("tok_1"))),
        // The process is gone before the next model answers.
        Reply::error(400, "invalid_request_error", "scripted stop"),
        Reply::message(message("msg_2", json!([text("Done.")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let client = client(&server);
    let dir = support::kill::temp_dir("fallback-checkpoint");
    let store = std::sync::Arc::new(FileStore::new(&dir));
    let run = RunId::new("refused-once").unwrap();
    let stopped = client
        .tool_runner(params(), toolset![])
        .message_threads(false)
        .prompt_caching(false)
        .fallback_models(["claude-b", "claude-c"])
        .checkpoint(store.clone(), run.clone())
        .until_done()
        .await
        .expect_err("the scripted stop");
    assert_eq!(stopped.status().map(|s| s.as_u16()), Some(400));

    // The refusal was kept: the stored run is on the next model, with the
    // refused turn paid for and the credit token still to be sent.
    let state = store
        .load(&run)
        .await
        .unwrap()
        .expect("a state saved at the fallback");
    assert_eq!(state.usage().turns.requests, 1);
    let last = client
        .resume(state, toolset![])
        .expect("resume")
        .message_threads(false)
        .prompt_caching(false)
        .checkpoint(store.clone(), run.clone())
        .until_done()
        .await
        .expect("answer");
    assert_eq!(last.id, "msg_2");
    let requests = server.requests();
    let resent = json!({"model": "claude-b", "max_tokens": 256, "messages": go(),
        "fallback_credit_token": credit("tok_1")});
    assert_eq!(requests[1], resent);
    assert_eq!(requests[2], resent);
    let _ = std::fs::remove_dir_all(&dir);
}
