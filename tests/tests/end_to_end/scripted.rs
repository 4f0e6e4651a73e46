//! The `testing` module's reply builders and its failures: built replies
//! carry unique ids and usage, a script that runs out says so at once, and
//! a reply the client cannot decode says why; a script keyed on the
//! conversation answers a run resumed on another server.

use crate::support;

use support::*;

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{ByTurn, Reply, ScriptedServer, Sequence};
use toolrunner::{Decision, MessageParams, PendingCall, StopReason, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn params() -> MessageParams {
    MessageParams::new("claude-test", 64).user("Add things.")
}

#[tokio::test]
async fn built_replies_drive_a_runner_with_unique_ids() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::tool_uses([
            ("add", json!({"a": 1, "b": 2})),
            ("add", json!({"a": 3, "b": 4})),
        ])
        .with_text("Adding."),
        Reply::tool_use("add", json!({"a": 3, "b": 7})),
        Reply::text("10."),
    ]))
    .await
    .unwrap();
    let mut runner = client(&server).tool_runner(params(), toolset![add]);
    let mut messages = Vec::new();
    while let Some(message) = runner.next().await {
        messages.push(message.unwrap());
    }
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0].text(), "Adding.");
    assert_eq!(messages[0].tool_uses().count(), 2);
    assert_eq!(messages[0].stop_reason, Some(StopReason::ToolUse));
    assert_eq!(messages[2].stop_reason, Some(StopReason::EndTurn));
    assert_eq!(messages[2].text(), "10.");
    assert!(messages[2].usage.output_tokens > 0);

    let mut ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    ids.extend(
        messages
            .iter()
            .flat_map(|m| m.tool_uses().map(|u| u.id.as_str())),
    );
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "ids repeat: {ids:?}");

    let requests = server.requests();
    let results = &last_message(&requests[1])["content"];
    assert_eq!(results[0]["content"], "3");
    assert_eq!(results[1]["content"], "7");
}

#[tokio::test]
async fn stop_reason_usage_and_streaming_can_be_set() {
    let reply = Reply::text("Cut sh").stop_reason("max_tokens").usage(7, 64);
    let message = reply.scripted_message().unwrap().clone();
    assert_eq!(message["stop_reason"], "max_tokens");
    assert_eq!(
        message["usage"],
        json!({"input_tokens": 7, "output_tokens": 64})
    );

    let server = ScriptedServer::start(Sequence::new([
        Reply::tool_use("add", json!({"a": 1, "b": 1})).streamed(),
        reply.streamed(),
    ]))
    .await
    .unwrap();
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .streaming();
    let mut last = None;
    while let Some(turn) = runner.next_turn().await {
        last = Some(turn.unwrap().message().await.unwrap().clone());
    }
    let last = last.unwrap();
    assert_eq!(last.text(), "Cut sh");
    assert_eq!(last.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(last.usage.output_tokens, 64);
}

#[tokio::test]
async fn the_builders_take_values_and_references_alike() {
    let body = message("msg_1", json!([text("Hi.")]), "end_turn");
    let replies = [
        Reply::message(&body),
        Reply::message(body.clone()),
        Reply::stream_message(&body),
        Reply::stream_message(body.clone()),
        Reply::json(200, &body),
        Reply::json(200, body.clone()),
    ];
    assert!(
        replies
            .iter()
            .all(|r| r.scripted_message().is_none_or(|m| *m == body))
    );
}

#[tokio::test]
async fn a_script_that_runs_out_fails_at_once_saying_so() {
    let server = ScriptedServer::start(Sequence::new([Reply::tool_use(
        "add",
        json!({"a": 1, "b": 2}),
    )]))
    .await
    .unwrap();
    // Retries are allowed, and none happens.
    let mut runner = client_with_retries(&server, 3).tool_runner(params(), toolset![add]);
    assert!(runner.next().await.unwrap().is_ok());
    let started = std::time::Instant::now();
    let error = runner.next().await.unwrap().unwrap_err();
    assert!(error.is_api(), "{error:?}");
    assert!(!error.is_retryable());
    assert!(
        error
            .to_string()
            .contains("the script has no reply for request 2"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 2);
    assert!(started.elapsed() < std::time::Duration::from_millis(400));
}

#[tokio::test]
async fn a_reply_that_does_not_decode_names_the_cause() {
    let mut body = message("msg_1", json!([text("Hi.")]), "end_turn");
    body.as_object_mut().unwrap().remove("id");
    let server = ScriptedServer::start(Sequence::new([Reply::json(200, &body)]))
        .await
        .unwrap();
    let error = client(&server).create_message(&params()).await.unwrap_err();
    assert!(error.is_decode(), "{error:?}");
    let shown = error.to_string();
    assert!(
        shown.starts_with("could not decode 200 response body as a message: missing field `id`"),
        "{shown}"
    );
    let _: Value = body;
}

/// A durable run across two processes, each with a server of its own: the
/// second server holds no thread, so the runner's continuation is refused
/// with `thread_not_found` and it sends the whole conversation on a new
/// thread, which the keyed script answers with the second turn's reply.
#[tokio::test]
async fn a_keyed_script_answers_a_run_resumed_on_a_new_server() {
    let script = || {
        ByTurn::new([
            Reply::tool_use("add", json!({"a": 2, "b": 3})),
            Reply::text("5."),
        ])
    };
    let first = ScriptedServer::start(script()).await.unwrap();
    let mut runner = client(&first)
        .tool_runner(params(), toolset![add])
        .before_tool_call(async |_: PendingCall| Decision::Defer);
    while let Some(message) = runner.next().await {
        message.unwrap();
    }
    let mut state = runner.state();
    let id = state.pending_approvals()[0].id.clone();
    state.approve(&id).unwrap();
    drop((runner, first));

    let second = ScriptedServer::start(script()).await.unwrap();
    let last = client(&second)
        .resume(state, toolset![add])
        .unwrap()
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "5.");
    let sent = second.requests();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_eq!(sent[0]["thread"]["type"], "continue");
    assert_eq!(sent[1]["thread"], json!({"type": "create"}));
    let messages = sent[1]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3, "{:#}", sent[1]);
    assert_eq!(messages[0]["content"], "Add things.");
    assert_eq!(messages[1]["content"][0]["name"], "add");
    assert_eq!(messages[2]["content"][0]["content"], "5");
}

#[tokio::test]
async fn a_sequence_restarted_on_a_new_server_answers_the_wrong_turn() {
    // Why `ByTurn` exists: a `Sequence` counts requests, so a resumed run's
    // first request on a new server gets the first turn's reply again.
    let second = ScriptedServer::start(Sequence::new([
        Reply::tool_use("add", json!({"a": 2, "b": 3})),
        Reply::text("5."),
    ]))
    .await
    .unwrap();
    let asked = params().assistant("Adding.").user("Go on.");
    let message = client(&second).create_message(&asked).await.unwrap();
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    let keyed = ScriptedServer::start(ByTurn::new([
        Reply::tool_use("add", json!({"a": 2, "b": 3})),
        Reply::text("5."),
    ]))
    .await
    .unwrap();
    let message = client(&keyed).create_message(&asked).await.unwrap();
    assert_eq!(message.text(), "5.");
}
