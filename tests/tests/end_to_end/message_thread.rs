//! Standalone message threads (`client.thread(params)`) against the
//! scripted server, which keeps each thread's conversation: exact request
//! bodies and headers for send, append, update, fork, stream and parse,
//! the fallbacks they share with the runner, and a runner's thread forked.

use crate::support;

use support::*;

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{MessageParam, MessageParams, StreamEvent, toolset};

const BETA: &str = "message-threads-2026-08-12";

fn thread_params() -> MessageParams {
    MessageParams::new("claude-test", 256).system("Be brief.")
}

fn user(text_: &str) -> Value {
    json!({"role": "user", "content": text_})
}

fn said(text_: &str) -> Value {
    json!({"role": "assistant", "content": [text(text_)]})
}

fn answer(id: &str, text_: &str) -> Value {
    message(id, json!([text(text_)]), "end_turn")
}

fn continues(id: &str) -> Value {
    json!({"type": "continue", "previous_message_id": id})
}

fn history(messages: &[MessageParam]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| serde_json::to_value(m).unwrap())
        .collect()
}

#[tokio::test]
async fn send_creates_then_continues_with_only_the_new_messages() {
    let server = server(vec![answer("msg_1", "2"), answer("msg_2", "3")]).await;
    let mut thread = client(&server).thread(thread_params());
    assert_eq!(thread.previous_message_id(), None);
    let first = thread.send([MessageParam::user("A prime?")]).await.unwrap();
    assert_eq!(first.text(), "2");
    assert_eq!(thread.previous_message_id(), Some("msg_1"));
    thread.append([MessageParam::user("Another?")]);
    thread.update(|params| params.max_tokens = 64).unwrap();
    thread.send([]).await.unwrap();
    assert_eq!(
        server.requests(),
        [
            json!({"model": "claude-test", "max_tokens": 256, "messages": [user("A prime?")],
                "system": "Be brief.", "thread": {"type": "create"}}),
            json!({"model": "claude-test", "max_tokens": 64, "messages": [user("Another?")],
                "thread": continues("msg_1")}),
        ]
    );
    for request in server.recorded() {
        assert_eq!(request.header("anthropic-beta"), Some(BETA));
    }
    assert_eq!(
        server.conversation("msg_2").expect("held"),
        history(thread.messages())
    );
}

#[tokio::test]
async fn update_refuses_what_the_server_holds_and_the_messages() {
    let server = server(vec![answer("msg_1", "ok")]).await;
    let mut thread = client(&server).thread(thread_params());
    // Before the thread exists, the system prompt may change.
    thread.update(|params| params.system = None).unwrap();
    thread.send([MessageParam::user("Hi.")]).await.unwrap();
    let error = thread
        .update(|params| params.system = Some("Be long.".into()))
        .expect_err("held by the server");
    assert!(error.is_invalid_request());
    assert!(error.to_string().contains("`system`"), "{error}");
    let error = thread
        .update(|params| params.messages.clear())
        .expect_err("messages");
    assert!(error.to_string().contains("append"), "{error}");
    assert_eq!(thread.params().system, None);
    assert_eq!(thread.messages().len(), 2);
}

#[tokio::test]
async fn a_fork_starts_its_own_thread_and_the_original_goes_on() {
    let server = server(vec![
        answer("msg_1", "2"),
        answer("msg_2", "fork"),
        answer("msg_3", "original"),
    ])
    .await;
    let mut thread = client(&server).thread(thread_params());
    thread.send([MessageParam::user("A prime?")]).await.unwrap();
    let mut fork = thread.fork();
    assert_eq!(fork.previous_message_id(), None);
    fork.send([MessageParam::user("Fork.")]).await.unwrap();
    thread
        .send([MessageParam::user("Original.")])
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(
        requests[1],
        json!({"model": "claude-test", "max_tokens": 256,
            "messages": [user("A prime?"), said("2"), user("Fork.")],
            "system": "Be brief.", "thread": {"type": "create"}})
    );
    assert_eq!(
        requests[2],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [user("Original.")],
            "thread": continues("msg_1")})
    );
    assert_eq!(fork.messages().len(), 4);
    assert_eq!(thread.messages().len(), 4);
}

#[tokio::test]
async fn a_streamed_turn_joins_the_history_and_the_next_turn_continues_it() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(answer("msg_1", "streamed")),
        Reply::message(answer("msg_2", "sent")),
    ]))
    .await
    .unwrap();
    let mut thread = client(&server).thread(thread_params());
    let mut stream = thread.stream([MessageParam::user("Hi.")]).await.unwrap();
    while let Some(event) = stream.next().await {
        event.unwrap();
    }
    drop(stream);
    assert_eq!(thread.previous_message_id(), Some("msg_1"));
    thread.send([MessageParam::user("Again.")]).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests[0]["stream"], true);
    assert_eq!(
        requests[1],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [user("Again.")],
            "thread": continues("msg_1")})
    );
    assert_eq!(
        server.conversation("msg_2").expect("held"),
        history(thread.messages())
    );
}

#[derive(Debug, PartialEq, serde::Deserialize, schemars::JsonSchema)]
struct Prime {
    value: u32,
}

#[tokio::test]
async fn parse_asks_for_the_format_for_its_turn_only() {
    let server = server(vec![
        answer("msg_1", r#"{"value": 7}"#),
        answer("msg_2", "ok"),
    ])
    .await;
    let mut thread = client(&server).thread(thread_params());
    let parsed = thread
        .parse::<Prime>([MessageParam::user("A prime?")])
        .await
        .unwrap();
    assert_eq!(parsed.parsed, Prime { value: 7 });
    thread.send([MessageParam::user("Thanks.")]).await.unwrap();
    let requests = server.requests();
    assert_eq!(
        requests[0]["output_config"],
        json!({"format": {"type": "json_schema", "schema": {"type": "object",
            "properties": {"value": {"type": "integer", "description": "{format: \"uint32\", minimum: 0}"}},
            "required": ["value"], "additionalProperties": false}}})
    );
    assert_eq!(requests[1].get("output_config"), None);
    assert_eq!(thread.params().extra.get("output_config"), None);
}

#[tokio::test]
async fn a_failed_turn_leaves_the_history_as_it_was() {
    let server = ScriptedServer::start(Sequence::new([Reply::error(
        400,
        "invalid_request_error",
        "bad",
    )]))
    .await
    .unwrap();
    let mut thread = client(&server).thread(thread_params());
    let error = thread
        .send([MessageParam::user("Hi.")])
        .await
        .expect_err("refused");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert!(thread.messages().is_empty());
}

fn refusal(id: &str, token: &str) -> Value {
    let mut refused = message(id, json!([text("I can't")]), "refusal");
    refused["stop_details"] =
        json!({"type": "refusal", "category": null, "fallback_credit_token": token});
    refused
}

#[tokio::test]
async fn a_refused_turn_goes_to_the_fallback_model_on_a_new_thread() {
    let server = server(vec![
        answer("msg_1", "2"),
        refusal("msg_2", "tok"),
        answer("msg_3", "fine"),
    ])
    .await;
    let mut thread = client(&server)
        .thread(thread_params())
        .fallback_models(["claude-b"]);
    thread.send([MessageParam::user("A prime?")]).await.unwrap();
    let reply = thread.send([MessageParam::user("More.")]).await.unwrap();
    assert_eq!(reply.id, "msg_3");
    let requests = server.requests();
    assert_eq!(
        requests[1],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [user("More.")],
            "thread": continues("msg_1")})
    );
    assert_eq!(
        requests[2],
        json!({"model": "claude-b", "max_tokens": 256,
            "messages": [user("A prime?"), said("2"), user("More.")],
            "system": "Be brief.", "thread": {"type": "create"},
            "fallback_credit_token": {"token": "tok", "mode": "best_effort"}})
    );
    for request in server.recorded() {
        assert_eq!(
            request.header("anthropic-beta"),
            Some("message-threads-2026-08-12,fallback-credit-2026-07-01")
        );
    }
    assert_eq!(thread.messages().len(), 4);
    assert_eq!(thread.params().model, "claude-b");
}

#[tokio::test]
async fn a_streamed_refusal_goes_on_with_the_fallback_models_events() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(refusal("msg_1", "tok")),
        Reply::stream_message(answer("msg_2", "fine")),
    ]))
    .await
    .unwrap();
    let mut thread = client(&server)
        .thread(thread_params())
        .message_threads(false)
        .fallback_models(["claude-b"]);
    let mut stream = thread.stream([MessageParam::user("Hi.")]).await.unwrap();
    let mut starts = 0;
    while let Some(event) = stream.next().await {
        if let StreamEvent::MessageStart { .. } = event.unwrap() {
            starts += 1;
        }
    }
    assert_eq!(starts, 2);
    assert_eq!(stream.message().await.unwrap().id, "msg_2");
    drop(stream);
    assert_eq!(
        server.requests(),
        [
            json!({"model": "claude-test", "max_tokens": 256, "messages": [user("Hi.")],
                "system": "Be brief.", "stream": true}),
            json!({"model": "claude-b", "max_tokens": 256, "messages": [user("Hi.")],
                "system": "Be brief.", "fallback_credit_token": {"token": "tok", "mode": "best_effort"},
                "stream": true}),
        ]
    );
    assert_eq!(history(thread.messages()), [user("Hi."), said("fine")]);
}

#[tokio::test]
async fn a_runners_thread_forks_with_its_last_reply() {
    let server = server(vec![answer("msg_1", "done"), answer("msg_2", "aside")]).await;
    let client = client(&server);
    let mut runner = client.tool_runner(
        MessageParams::new("claude-test", 256)
            .system("Be brief.")
            .user("Go."),
        toolset![],
    );
    runner.next().await.unwrap().unwrap();
    let mut aside = runner.fork_thread();
    aside.send([MessageParam::user("Why?")]).await.unwrap();
    assert_eq!(
        server.requests()[1],
        json!({"model": "claude-test", "max_tokens": 256,
            "messages": [user("Go."), said("done"), user("Why?")],
            "system": "Be brief.", "thread": {"type": "create"}})
    );
    // The runner's history is its own: nothing of the fork's joins it (its
    // reply joins it when the loop goes on).
    assert_eq!(history(runner.messages()), [user("Go.")]);
}
