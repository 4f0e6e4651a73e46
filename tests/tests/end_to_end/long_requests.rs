//! Requests whose `max_tokens` is past what the API answers without
//! streaming (over 21,333 tokens, 8,192 for some models): the runner
//! streams those turns itself and yields the same message;
//! `create_message` refuses them before sending and says to stream.

use crate::support;

use support::*;

use serde_json::json;
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{Message, MessageParams, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn turns() -> Vec<serde_json::Value> {
    vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 2, "b": 40}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("42.")]), "end_turn"),
    ]
}

async fn run(params: MessageParams, replies: Vec<Reply>) -> (Vec<Message>, ScriptedServer) {
    let server = ScriptedServer::start(Sequence::new(replies))
        .await
        .expect("bind loopback");
    let mut runner = client(&server).tool_runner(params, toolset![add]);
    let mut messages = Vec::new();
    while let Some(message) = futures_util::StreamExt::next(&mut runner).await {
        messages.push(message.expect("turn"));
    }
    (messages, server)
}

#[tokio::test]
async fn the_runner_streams_long_turns_and_yields_the_same_messages() {
    let long = MessageParams::new("claude-test", 64_000).user("Go.");
    let (streamed, server) = run(long, turns().iter().map(Reply::stream_message).collect()).await;
    let bodies = server.requests();
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert_eq!(body["stream"], json!(true), "{body}");
        assert_eq!(body["max_tokens"], json!(64_000));
    }

    let short = MessageParams::new("claude-test", 21_333).user("Go.");
    let (plain, server) = run(short, turns().into_iter().map(Reply::message).collect()).await;
    for body in server.requests() {
        assert_eq!(body.get("stream"), None, "{body}");
    }
    assert_eq!(streamed, plain);
}

#[tokio::test]
async fn a_model_with_a_lower_cap_is_streamed_above_it() {
    let params = MessageParams::new("claude-opus-4-0", 8_193).user("Go.");
    let (_, server) = run(params, turns().iter().map(Reply::stream_message).collect()).await;
    assert!(server.requests().iter().all(|b| b["stream"] == json!(true)));
}

#[tokio::test]
async fn create_message_refuses_a_long_request_and_says_to_stream() {
    let server = server(vec![]).await;
    let params = MessageParams::new("claude-test", 21_334).user("Go.");
    let err = client(&server).create_message(&params).await.unwrap_err();
    assert!(err.is_invalid_request(), "{err}");
    let shown = err.to_string();
    assert!(shown.contains("max_tokens 21334"), "{shown}");
    assert!(shown.contains("stream_message"), "{shown}");
    assert!(server.recorded().is_empty());

    // Streaming it is fine.
    let server = ScriptedServer::start(Sequence::new([Reply::stream_message(&turns()[1])]))
        .await
        .unwrap();
    let mut stream = client(&server).stream_message(&params).await.unwrap();
    assert_eq!(stream.message().await.unwrap().text(), "42.");
}
