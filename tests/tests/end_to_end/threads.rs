//! Message threads, end to end against a scripted server that keeps each
//! thread's conversation: every test checks the exact request bodies and
//! headers, and that the conversation the server holds is the runner's
//! `messages()`.

use crate::support;

use support::*;

use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{Part, Reply, ScriptedServer, Sequence, sse_events};
use toolrunner::{Compaction, Message, MessageParam, MessageParams, ToolRunner, tool, toolset};

const BETA: &str = "message-threads-2026-08-12";

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn threaded_params() -> MessageParams {
    MessageParams::new("claude-test", 256)
        .system("Be brief.")
        .user("Go.")
}

fn create() -> Value {
    json!({"type": "create"})
}

fn continues(id: &str) -> Value {
    json!({"type": "continue", "previous_message_id": id})
}

fn result(id: &str, content: &str) -> Value {
    json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": content}]})
}

fn assistant(message: &Value) -> Value {
    json!({"role": "assistant", "content": message["content"]})
}

fn adding(id: &str, call: &str, a: i64) -> Value {
    message(
        id,
        json!([tool_use(call, "add", json!({"a": a, "b": 1}))]),
        "tool_use",
    )
}

/// The runner's history as JSON, to compare with what the server holds.
fn history(messages: &[MessageParam]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| serde_json::to_value(m).unwrap())
        .collect()
}

fn beta_header(server: &ScriptedServer, request: usize) -> Option<String> {
    server.recorded()[request]
        .header("anthropic-beta")
        .map(str::to_owned)
}

/// Every reply of a run, read one by one; `between` runs after each.
async fn drive(runner: &mut ToolRunner, mut between: impl FnMut(&mut ToolRunner, &Value)) {
    while let Some(message) = runner.next().await {
        let message = serde_json::to_value(message.expect("reply")).unwrap();
        between(runner, &message);
    }
}

#[tokio::test]
async fn create_continue_resume_lost_thread_and_replay() {
    let msg_1 = adding("msg_1", "toolu_1", 1);
    let msg_2 = message("msg_2", json!([text("Still working.")]), "pause_turn");
    let msg_3 = adding("msg_3", "toolu_2", 2);
    let msg_4 = message("msg_4", json!([text("Done.")]), "end_turn");
    let server = server(vec![
        msg_1.clone(),
        msg_2.clone(),
        msg_3.clone(),
        msg_4.clone(),
    ])
    .await;
    let mut runner = client(&server).tool_runner(threaded_params(), toolset![add]);
    drive(&mut runner, |_, message| {
        // The server loses every thread after the third reply.
        if message["id"] == "msg_3" {
            server.forget_threads();
        }
    })
    .await;

    let requests = server.requests();
    assert_eq!(requests.len(), 5);
    // The first request creates the thread with everything.
    assert_eq!(
        requests[0],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [{"role": "user", "content": "Go."}],
            "system": "Be brief.", "tools": add_tool(), "thread": create()})
    );
    // Then only the tool results, without `system` and `tools`.
    assert_eq!(
        requests[1],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [result("toolu_1", "2")],
            "thread": continues("msg_1")})
    );
    // After `pause_turn`: nothing at all.
    assert_eq!(
        requests[2],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [], "thread": continues("msg_2")})
    );
    // The server lost the thread: `thread_not_found`.
    assert_eq!(
        requests[3],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [result("toolu_2", "3")],
            "thread": continues("msg_3")})
    );
    // The turn again, under a new thread, with the whole history.
    let whole = json!([
        {"role": "user", "content": "Go."},
        assistant(&msg_1),
        result("toolu_1", "2"),
        assistant(&msg_2),
        assistant(&msg_3),
        result("toolu_2", "3"),
    ]);
    assert_eq!(
        requests[4],
        json!({"model": "claude-test", "max_tokens": 256, "messages": whole,
            "system": "Be brief.", "tools": add_tool(), "thread": create()})
    );
    for request in 0..5 {
        assert_eq!(beta_header(&server, request).as_deref(), Some(BETA));
    }
    assert_eq!(runner.messages().len(), 7);
    assert_eq!(
        server.conversation("msg_4").expect("held"),
        history(runner.messages())
    );
}

#[tokio::test]
async fn a_request_the_server_cannot_thread_goes_on_unthreaded() {
    let replies = Arc::new(Mutex::new(
        vec![
            Reply::message(adding("msg_1", "toolu_1", 1)),
            Reply::message(message("msg_2", json!([text("Done.")]), "end_turn")),
        ]
        .into_iter(),
    ));
    let script = move |request: &Value| {
        if request.get("thread").is_some() {
            return Reply::error_with_details(
                400,
                "invalid_request_error",
                "threads do not support `mcp_servers`",
                json!({"error_code": "thread_unsupported_request", "unsupported": ["mcp_servers"]}),
            );
        }
        replies.lock().unwrap().next().expect("a reply left")
    };
    let server = ScriptedServer::start(script).await.unwrap();
    let runner = client(&server).tool_runner(threaded_params(), toolset![add]);
    let last = runner.until_done().await.expect("run");
    assert_eq!(last.text(), "Done.");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let first = json!({"model": "claude-test", "max_tokens": 256,
        "messages": [{"role": "user", "content": "Go."}],
        "system": "Be brief.", "tools": add_tool()});
    let mut threaded = first.clone();
    threaded["thread"] = create();
    assert_eq!(requests[0], threaded);
    assert_eq!(beta_header(&server, 0).as_deref(), Some(BETA));
    // The same turn without the thread and the beta, and so on from then
    // on; marked for prompt caching, as every request without a thread.
    let mut unthreaded = first.clone();
    unthreaded["cache_control"] = json!({"type": "ephemeral"});
    assert_eq!(requests[1], unthreaded);
    assert_eq!(beta_header(&server, 1), None);
    assert_eq!(requests[2]["messages"].as_array().unwrap().len(), 3);
    assert_eq!(requests[2].get("thread"), None);
    assert_eq!(beta_header(&server, 2), None);
}

#[tokio::test]
async fn after_a_refusal_the_next_turn_starts_a_new_thread() {
    let msg_1 = adding("msg_1", "toolu_1", 1);
    let server = server(vec![
        msg_1.clone(),
        message("msg_2", json!([text("I can't help with that.")]), "refusal"),
        message("msg_3", json!([text("Fine.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server).tool_runner(threaded_params(), toolset![add]);
    drive(&mut runner, |runner, message| {
        if message["stop_reason"] == "refusal" {
            // Keeping the refused turn and appending would continue the
            // thread, but the server may not hold a refused turn.
            let refused: Message = serde_json::from_value(message.clone()).unwrap();
            runner.push_messages([
                MessageParam::from(refused),
                MessageParam::user("Then just say fine."),
            ]);
        }
    })
    .await;

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[1]["thread"], continues("msg_1"));
    assert_eq!(
        requests[2],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [
                {"role": "user", "content": "Go."},
                assistant(&msg_1),
                result("toolu_1", "2"),
                {"role": "assistant", "content": [text("I can't help with that.")]},
                {"role": "user", "content": "Then just say fine."},
            ],
            "system": "Be brief.", "tools": add_tool(), "thread": create()})
    );
    assert_eq!(
        server.conversation("msg_3").expect("held"),
        history(runner.messages())
    );
}

#[tokio::test]
async fn after_a_fallback_models_reply_the_next_turn_starts_a_new_thread() {
    let mut msg_1 = adding("msg_1", "toolu_1", 1);
    msg_1["usage"]["iterations"] = json!([
        {"type": "message", "input_tokens": 5, "output_tokens": 0},
        {"type": "fallback_message", "model": "claude-fallback", "input_tokens": 5, "output_tokens": 5,
         "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    ]);
    let server = server(vec![
        msg_1,
        message("msg_2", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server).tool_runner(threaded_params(), toolset![add]);
    drive(&mut runner, |_, _| {}).await;
    let requests = server.requests();
    assert_eq!(requests[0]["thread"], create());
    assert_eq!(requests[1]["thread"], create());
    assert_eq!(requests[1]["messages"].as_array().unwrap().len(), 3);
    assert_eq!(requests[1]["system"], "Be brief.");
    assert_eq!(beta_header(&server, 1).as_deref(), Some(BETA));
    assert_eq!(
        server.conversation("msg_2").expect("held"),
        history(runner.messages())
    );
}

#[tokio::test]
async fn taking_over_by_appending_continues_and_by_rewriting_starts_anew() {
    let msg_1 = message("msg_1", json!([text("Hello.")]), "end_turn");
    let server = server(vec![
        msg_1.clone(),
        message("msg_2", json!([text("More.")]), "end_turn"),
        message("msg_3", json!([text("Fresh.")]), "end_turn"),
    ])
    .await;
    let mut runner = client(&server).tool_runner(threaded_params(), toolset![add]);
    let first = runner.next().await.unwrap().unwrap();
    // Appending: the reply, as the runner would, then a question.
    runner.push_messages([MessageParam::from(first), MessageParam::user("And then?")]);
    runner.next().await.unwrap().unwrap();
    // Rewriting: a history the server does not hold.
    runner.set_messages(vec![MessageParam::user("Start over.")]);
    let last = runner.next().await.unwrap().unwrap();
    assert_eq!(last.text(), "Fresh.");
    assert!(runner.next().await.is_none());

    let requests = server.requests();
    assert_eq!(
        requests[1],
        json!({"model": "claude-test", "max_tokens": 256,
            "messages": [{"role": "user", "content": "And then?"}], "thread": continues("msg_1")})
    );
    assert_eq!(
        requests[2],
        json!({"model": "claude-test", "max_tokens": 256,
            "messages": [{"role": "user", "content": "Start over."}],
            "system": "Be brief.", "tools": add_tool(), "thread": create()})
    );
    assert_eq!(
        server.conversation("msg_3").expect("held"),
        history(runner.messages())
    );

    // Changing the system prompt starts anew too.
    let server = server_with_two_answers().await;
    let mut runner = client(&server).tool_runner(threaded_params(), toolset![add]);
    let first = runner.next().await.unwrap().unwrap();
    runner.push_messages([MessageParam::from(first), MessageParam::user("Again.")]);
    runner.params_mut().system = Some("Be verbose.".into());
    runner.next().await.unwrap().unwrap();
    let requests = server.requests();
    assert_eq!(requests[1]["thread"], create());
    assert_eq!(requests[1]["system"], "Be verbose.");
    assert_eq!(requests[1]["messages"].as_array().unwrap().len(), 3);
}

async fn server_with_two_answers() -> ScriptedServer {
    server(vec![
        message("msg_1", json!([text("One.")]), "end_turn"),
        message("msg_2", json!([text("Two.")]), "end_turn"),
    ])
    .await
}

#[tokio::test]
async fn streamed_turns_are_threaded() {
    let msg_1 = adding("msg_1", "toolu_1", 1);
    let msg_2 = message("msg_2", json!([text("Done.")]), "end_turn");
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(&msg_1),
        Reply::stream_message(&msg_2),
    ]))
    .await
    .unwrap();
    let mut runner = client(&server)
        .tool_runner(threaded_params(), toolset![add])
        .streaming();
    while let Some(turn) = runner.next_turn().await {
        turn.unwrap().message().await.unwrap();
    }
    let requests = server.requests();
    assert_eq!(
        requests[0],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [{"role": "user", "content": "Go."}],
            "system": "Be brief.", "tools": add_tool(), "thread": create(), "stream": true})
    );
    assert_eq!(
        requests[1],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [result("toolu_1", "2")],
            "thread": continues("msg_1"), "stream": true})
    );
    assert_eq!(beta_header(&server, 1).as_deref(), Some(BETA));
    assert_eq!(
        server.conversation("msg_2").expect("held"),
        history(runner.messages())
    );
}

#[tokio::test]
async fn a_stream_cut_after_message_start_starts_a_new_thread() {
    let msg_1 = adding("msg_1", "toolu_1", 1);
    let msg_2 = message("msg_2", json!([text("Done, finally.")]), "end_turn");
    let mut cut: Vec<Part> = sse_events(&msg_2)
        .into_iter()
        .take(2)
        .map(Part::Chunk)
        .collect();
    cut.push(Part::HangUp);
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(&msg_1),
        Reply::stream(cut),
        Reply::stream_message(&msg_2),
    ]))
    .await
    .unwrap();
    let mut runner = client(&server)
        .tool_runner(threaded_params(), toolset![add])
        .streaming();
    runner.next_turn().await.unwrap().unwrap();
    let turn = runner.next_turn().await.unwrap().unwrap();
    assert!(turn.next().await.unwrap().is_ok(), "message_start arrives");
    let broken = turn.message().await.unwrap_err();
    assert!(broken.is_stream_broken(), "{broken}");
    // The runner reports the cut once more when it moves on; polling again
    // sends the turn anew, under a new thread.
    assert!(runner.next_turn().await.unwrap().is_err());
    let turn = runner.next_turn().await.unwrap().unwrap();
    assert_eq!(turn.message().await.unwrap().text(), "Done, finally.");
    assert!(runner.next_turn().await.is_none());

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[1]["thread"], continues("msg_1"));
    assert_eq!(
        requests[2],
        json!({"model": "claude-test", "max_tokens": 256, "messages": [
                {"role": "user", "content": "Go."}, assistant(&msg_1), result("toolu_1", "2")],
            "system": "Be brief.", "tools": add_tool(), "thread": create(), "stream": true})
    );
    assert_eq!(
        server.conversation("msg_2").expect("held"),
        history(runner.messages())
    );
}

#[tokio::test]
async fn client_side_compaction_starts_a_new_thread_with_the_summary() {
    let msg_1 = adding("msg_1", "toolu_1", 1);
    let msg_2 = message_with_usage(
        "msg_2",
        json!([tool_use("toolu_2", "add", json!({"a": 2, "b": 1}))]),
        "tool_use",
        5000,
        5,
    );
    let summary = message("msg_s", json!([text("Sums so far: 2.")]), "end_turn");
    let msg_3 = message("msg_3", json!([text("Done.")]), "end_turn");
    let server = server(vec![msg_1.clone(), msg_2.clone(), summary, msg_3]).await;
    let mut runner = client(&server)
        .tool_runner(threaded_params(), toolset![add])
        .compaction(Compaction::new().threshold(1000));
    drive(&mut runner, |_, _| {}).await;

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[1]["thread"], continues("msg_1"));
    // The summary request goes out on its own, with no thread.
    assert_eq!(requests[2].get("thread"), None);
    assert_eq!(requests[2]["messages"].as_array().unwrap().len(), 4);
    assert_eq!(beta_header(&server, 2), None);
    // Then a new thread with the compacted history.
    assert_eq!(requests[3]["thread"], create());
    assert_eq!(requests[3]["system"], "Be brief.");
    assert_eq!(
        requests[3]["messages"].as_array().unwrap()[1..],
        [assistant(&msg_2), result("toolu_2", "3")]
    );
    assert_eq!(
        server.conversation("msg_3").expect("held"),
        history(runner.messages())
    );
}

#[tokio::test]
async fn opting_out_sends_no_thread_and_no_beta() {
    let server = server(vec![
        adding("msg_1", "toolu_1", 1),
        message("msg_2", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let runner = client(&server)
        .tool_runner(threaded_params(), toolset![add])
        .message_threads(false);
    runner.until_done().await.expect("run");
    let requests = server.requests();
    for (i, request) in requests.iter().enumerate() {
        assert_eq!(request.get("thread"), None);
        assert_eq!(request["system"], "Be brief.");
        assert_eq!(beta_header(&server, i), None);
    }
    assert_eq!(requests[1]["messages"].as_array().unwrap().len(), 3);
}
