//! Telemetry on every call: the client's own Messages calls (and a
//! message thread's) run in GenAI `chat` spans; the conversation id, the
//! content cap and the switch of the client's `Telemetry` reach the
//! runner's spans too. Read by a small capturing `tracing` layer.

use crate::support;

use support::*;

use futures_util::StreamExt;
use serde_json::json;
use support::capture::Capture;
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{MessageParam, MessageParams, Telemetry, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn answer(id: &str) -> serde_json::Value {
    message_with_usage(id, json!([text("ok")]), "end_turn", 12, 3)
}

#[tokio::test]
async fn a_direct_call_has_a_chat_span_with_its_reply_and_conversation() {
    let capture = Capture::default();
    let _guard = capture.install();
    let server = server(vec![answer("msg_1")]).await;
    let client = client(&server).with_telemetry(Telemetry::new().conversation_id("conv-1"));
    client.create_message(&params()).await.unwrap();
    let chats = capture.named("chat");
    assert_eq!(chats.len(), 1);
    let f = &chats[0].fields;
    assert_eq!(chats[0].parent, None);
    assert_eq!(f["otel.name"], "chat claude-test");
    assert_eq!(f["gen_ai.operation.name"], "chat");
    assert_eq!(f["gen_ai.provider.name"], "anthropic");
    assert_eq!(f["gen_ai.request.model"], "claude-test");
    assert_eq!(f["gen_ai.conversation.id"], "conv-1");
    assert_eq!(f["gen_ai.response.id"], "msg_1");
    assert_eq!(f["gen_ai.usage.input_tokens"], "12");
    assert_eq!(f["gen_ai.usage.output_tokens"], "3");
    assert_eq!(f["gen_ai.response.finish_reasons"], r#"["end_turn"]"#);
    assert!(
        !f.contains_key("gen_ai.input.messages"),
        "content is opt-in"
    );
    // The HTTP attempt runs inside it.
    let attempts = capture.named("messages.create");
    assert_eq!(attempts[0].parent.as_deref(), Some("chat"));
}

#[tokio::test]
async fn a_stream_and_a_failed_call_are_recorded() {
    let capture = Capture::default();
    let _guard = capture.install();
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(answer("msg_1")),
        Reply::error(400, "invalid_request_error", "bad"),
    ]))
    .await
    .unwrap();
    let client = client(&server);
    let mut stream = client.stream_message(&params()).await.unwrap();
    // Read to the end without asking for the message.
    while let Some(event) = stream.next().await {
        event.unwrap();
    }
    client.create_message(&params()).await.unwrap_err();
    let chats = capture.named("chat");
    assert_eq!(chats.len(), 2);
    assert_eq!(chats[0].fields["gen_ai.response.id"], "msg_1");
    assert_eq!(chats[1].fields["error.type"], "invalid_request_error");
}

#[tokio::test]
async fn content_is_kept_within_the_cap_newest_first() {
    let capture = Capture::default();
    let _guard = capture.install();
    let server = server(vec![answer("msg_1")]).await;
    let older = "a".repeat(200);
    let params = MessageParams::new("claude-test", 64)
        .user(older.clone())
        .assistant("b")
        .user("Go.");
    client(&server)
        .with_telemetry(Telemetry::new().record_content(true).max_content_bytes(100))
        .create_message(&params)
        .await
        .unwrap();
    let f = &capture.named("chat")[0].fields;
    assert_eq!(
        f["gen_ai.input.messages"],
        r#"[{"role":"assistant","content":"b"},{"role":"user","content":"Go."}]"#
    );
    assert_eq!(f["anthropic.content.truncated"], "true");
    assert_eq!(
        f["gen_ai.output.messages"],
        r#"[{"role":"assistant","content":[{"type":"text","text":"ok"}]}]"#
    );
}

#[tokio::test]
async fn telemetry_off_means_no_genai_spans_from_the_client_or_a_runner() {
    let capture = Capture::default();
    let _guard = capture.install();
    let server = server(vec![
        answer("msg_1"),
        message(
            "msg_2",
            json!([tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
        ),
        answer("msg_3"),
    ])
    .await;
    let client = client(&server).with_telemetry(Telemetry::new().enabled(false));
    client.create_message(&params()).await.unwrap();
    client
        .tool_runner(params(), toolset![add])
        .until_done()
        .await
        .unwrap();
    assert!(capture.named("chat").is_empty());
    assert!(capture.named("invoke_agent").is_empty());
    assert!(capture.named("execute_tool").is_empty());
    assert_eq!(capture.named("messages.create").len(), 3);
}

#[tokio::test]
async fn a_runner_and_a_thread_take_the_clients_settings() {
    let capture = Capture::default();
    let _guard = capture.install();
    let server = server(vec![answer("msg_1"), answer("msg_2")]).await;
    let client = client(&server).with_telemetry(
        Telemetry::new()
            .conversation_id("conv-2")
            .record_content(true),
    );
    client
        .tool_runner(params(), toolset![])
        .until_done()
        .await
        .unwrap();
    let runs = capture.named("invoke_agent");
    assert_eq!(runs[0].fields["gen_ai.conversation.id"], "conv-2");
    let chats = capture.named("chat");
    assert_eq!(chats[0].parent.as_deref(), Some("invoke_agent"));
    assert_eq!(chats[0].fields["gen_ai.conversation.id"], "conv-2");
    assert_eq!(
        chats[0].fields["gen_ai.input.messages"],
        r#"[{"role":"user","content":"Go."}]"#
    );
    let mut thread = client.thread(MessageParams::new("claude-test", 64));
    thread.send([MessageParam::user("Hi.")]).await.unwrap();
    let chats = capture.named("chat");
    assert_eq!(chats.len(), 2);
    assert_eq!(chats[1].parent, None);
    assert_eq!(chats[1].fields["gen_ai.response.id"], "msg_2");
    assert_eq!(chats[1].fields["gen_ai.conversation.id"], "conv-2");
}

#[tokio::test]
async fn each_fallback_is_a_warn_event_in_the_run_and_each_refusal_a_chat_span() {
    let capture = Capture::default();
    let _guard = capture.install();
    let mut refused = message("msg_1", json!([text("I can't")]), "refusal");
    refused["stop_details"] = json!({"type": "refusal", "category": "cyber"});
    let server = server(vec![refused, answer("msg_2")]).await;
    client(&server)
        .tool_runner(params(), toolset![])
        .message_threads(false)
        .fallback_models(["claude-b"])
        .until_done()
        .await
        .unwrap();
    let moves = capture.events("falling back to the next model");
    assert_eq!(moves.len(), 1);
    let f = &moves[0].fields;
    assert_eq!(
        (
            f["from"].as_str(),
            f["to"].as_str(),
            f["trigger"].as_str(),
            f["category"].as_str()
        ),
        ("claude-test", "claude-b", "refusal", "cyber")
    );
    assert_eq!(moves[0].parent.as_deref(), Some("invoke_agent"));
    let chats = capture.named("chat");
    let seen: Vec<(&str, &str)> = chats
        .iter()
        .map(|c| {
            (
                c.fields["gen_ai.request.model"].as_str(),
                c.fields["gen_ai.response.finish_reasons"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("claude-test", r#"["refusal"]"#),
            ("claude-b", r#"["end_turn"]"#)
        ]
    );
}

#[tokio::test]
async fn a_files_call_is_linked_to_the_conversation_too() {
    let capture = Capture::default();
    let _guard = capture.install();
    let server = server(vec![]).await;
    server.add_file(toolrunner::testing::ScriptedFile::new(
        "file_1",
        "a.txt",
        "text/plain",
        "hi",
    ));
    let client = client(&server).with_telemetry(Telemetry::new().conversation_id("conv-3"));
    client.files().metadata("file_1").await.unwrap();
    let spans = capture.named("files.metadata");
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].fields["gen_ai.provider.name"], "anthropic");
    assert_eq!(spans[0].fields["gen_ai.conversation.id"], "conv-3");
}
