//! Hooks before and after tool calls, end to end.

use crate::support;

use support::*;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{Caller, Decision, PendingCall, ToolOutput, tool, toolset};

async fn two_turns(first: Value) -> ScriptedServer {
    ScriptedServer::start(Sequence::new([
        Reply::message(message("msg_1", first, "tool_use")),
        Reply::message(message(
            "msg_2",
            json!([{"type": "text", "text": "ok"}]),
            "end_turn",
        )),
    ]))
    .await
    .unwrap()
}

static DELETES: AtomicUsize = AtomicUsize::new(0);

/// Delete a file.
#[tool]
fn delete_file(path: String) -> String {
    DELETES.fetch_add(1, Ordering::SeqCst);
    format!("deleted {path}")
}

/// Echo the text back.
#[tool(allowed_callers = ["direct", "code"])]
fn echo(text: String) -> String {
    text
}

#[tokio::test]
async fn a_denied_call_never_runs_and_the_model_sees_why() {
    let server = two_turns(json!([
        tool_use("toolu_1", "delete_file", json!({"path": "/etc/passwd"})),
        tool_use("toolu_2", "echo", json!({"text": "hi"}))
    ]))
    .await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    client(&server)
        .tool_runner(params(), toolset![delete_file, echo])
        .message_threads(false)
        .before_tool_call(move |call: PendingCall| {
            log.lock()
                .unwrap()
                .push((call.id.clone(), call.name.clone(), call.input.clone()));
            async move {
                if call.name == "delete_file" {
                    Decision::deny(format!("a human declined deleting {}", call.input["path"]))
                } else {
                    Decision::Allow
                }
            }
        })
        .until_done()
        .await
        .unwrap();
    assert_eq!(DELETES.load(Ordering::SeqCst), 0);
    assert_eq!(
        server.requests()[1]["messages"][2]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a human declined deleting \"/etc/passwd\"", "is_error": true},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "hi"}
        ])
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0],
        (
            "toolu_1".into(),
            "delete_file".into(),
            json!({"path": "/etc/passwd"})
        )
    );
}

#[tokio::test]
async fn a_hook_may_replace_the_input_and_an_after_hook_the_result() {
    let server = two_turns(json!([tool_use(
        "toolu_1",
        "echo",
        json!({"text": "rude words"})
    )]))
    .await;
    client(&server)
        .tool_runner(params(), toolset![echo])
        .message_threads(false)
        .before_tool_call(|call: PendingCall| async move {
            let text = call.input["text"]
                .as_str()
                .unwrap_or_default()
                .replace("rude", "kind");
            Decision::Replace(json!({ "text": text }))
        })
        .after_tool_call(|call: PendingCall, output: ToolOutput| async move {
            // The after hook sees the input that actually ran.
            assert_eq!(call.input, json!({"text": "kind words"}));
            ToolOutput::text(format!("[checked] {}", output.text_content()))
        })
        .until_done()
        .await
        .unwrap();
    let requests = server.requests();
    // The model's own call stays as it wrote it in the history.
    assert_eq!(
        requests[1]["messages"][1]["content"][0]["input"],
        json!({"text": "rude words"})
    );
    assert_eq!(
        requests[1]["messages"][2]["content"][0]["content"],
        "[checked] kind words"
    );
}

#[tokio::test]
async fn hooks_see_the_caller_and_never_see_refused_calls() {
    let server = two_turns(json!([
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "code_execution", "input": {"code": "echo()"}},
        {"type": "tool_use", "id": "toolu_1", "name": "echo", "input": {"text": "from code"},
         "caller": {"type": "code_execution_20260120", "tool_id": "srvtoolu_1"}},
        {"type": "tool_use", "id": "toolu_2", "name": "delete_file", "input": {"path": "x"},
         "caller": {"type": "code_execution_20260120", "tool_id": "srvtoolu_1"}}
    ]))
    .await;
    let callers = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&callers);
    client(&server)
        .tool_runner(params(), toolset![echo, delete_file])
        .message_threads(false)
        .before_tool_call(move |call: PendingCall| {
            log.lock()
                .unwrap()
                .push((call.name.clone(), call.caller.clone()));
            async { Decision::Allow }
        })
        .until_done()
        .await
        .unwrap();
    let callers = callers.lock().unwrap().clone();
    assert_eq!(
        callers,
        [(
            "echo".to_owned(),
            Caller::CodeExecution {
                version: "code_execution_20260120".into(),
                tool_id: "srvtoolu_1".into()
            }
        )]
    );
    let results = &server.requests()[1]["messages"][2]["content"];
    assert_eq!(
        results[1]["is_error"], true,
        "delete_file may not be called from code"
    );
}

#[tokio::test]
async fn a_panicking_hook_fails_the_call_not_the_run() {
    let server = two_turns(json!([tool_use("toolu_1", "echo", json!({"text": "hi"}))])).await;
    client(&server)
        .tool_runner(params(), toolset![echo])
        .message_threads(false)
        .after_tool_call(
            |_call: PendingCall, _output: ToolOutput| async move { panic!("hook bug") },
        )
        .until_done()
        .await
        .expect("the loop goes on");
    let result = &server.requests()[1]["messages"][2]["content"][0];
    assert_eq!(result["is_error"], true);
    assert_eq!(
        result["content"],
        "the after-call hook for tool `echo` failed: hook bug"
    );
}

/// Fail without saying why.
#[tool]
fn fail_silently(how: String) -> Result<ToolOutput, String> {
    match how.as_str() {
        "err" => Err(String::new()),
        _ => Ok(ToolOutput::error("")),
    }
}

#[tokio::test]
async fn error_results_without_a_message_never_go_out_empty() {
    // The API rejects `is_error: true` with empty content, and the bad
    // result would stay in the history.
    let server = two_turns(json!([
        tool_use("toolu_1", "fail_silently", json!({"how": "err"})),
        tool_use("toolu_2", "fail_silently", json!({"how": "output"})),
        tool_use("toolu_3", "echo", json!({"text": "denied"})),
    ]))
    .await;
    client(&server)
        .tool_runner(params(), toolset![fail_silently, echo])
        .message_threads(false)
        .before_tool_call(|call: PendingCall| async move {
            if call.name == "echo" {
                Decision::deny("")
            } else {
                Decision::Allow
            }
        })
        .until_done()
        .await
        .unwrap();
    let failed = "the tool failed without an error message";
    assert_eq!(
        server.requests()[1]["messages"][2]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": failed, "is_error": true},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": failed, "is_error": true},
            {"type": "tool_result", "tool_use_id": "toolu_3", "content": failed, "is_error": true}
        ])
    );
}

/// The tools a human approved, kept in the toolset's state.
struct Approved(Vec<&'static str>);

#[tokio::test]
async fn hooks_capture_state_and_read_the_toolsets() {
    let server = two_turns(json!([
        tool_use("toolu_1", "delete_file", json!({"path": "/tmp/x"})),
        tool_use("toolu_2", "echo", json!({"text": "rude words"}))
    ]))
    .await;
    let deletes_before = DELETES.load(Ordering::SeqCst);
    // Captured by an async closure whose body uses it: no clone inside.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    // Captured by a closure whose async block moves it.
    let outputs = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&outputs);
    client(&server)
        .tool_runner(
            params(),
            toolset![delete_file, echo].with_state(Approved(vec!["echo"])),
        )
        .message_threads(false)
        .before_tool_call(async move |call: PendingCall| {
            log.lock().unwrap().push(call.name.clone());
            let approved = call.state::<Approved>().expect("the toolset's state");
            if !approved.0.contains(&call.name.as_str()) {
                return Decision::deny(format!("`{}` is not approved", call.name));
            }
            let text = call.input["text"].as_str().unwrap_or_default();
            Decision::replace(json!({ "text": text.replace("rude", "kind") }))
        })
        .after_tool_call(move |call: PendingCall, output: ToolOutput| async move {
            count.fetch_add(1, Ordering::SeqCst);
            assert!(call.state::<Approved>().is_some());
            output
        })
        .until_done()
        .await
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), ["delete_file", "echo"]);
    assert_eq!(outputs.load(Ordering::SeqCst), 1, "only the call that ran");
    assert_eq!(DELETES.load(Ordering::SeqCst), deletes_before);
    assert_eq!(
        server.requests()[1]["messages"][2]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "`delete_file` is not approved", "is_error": true},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "kind words"}
        ])
    );
}

#[test]
fn decisions_have_constructors() {
    assert_eq!(Decision::allow(), Decision::Allow);
    assert_eq!(Decision::deny("no"), Decision::Deny("no".into()));
    assert_eq!(
        Decision::replace(json!({"a": 1})),
        Decision::Replace(json!({"a": 1}))
    );
}

/// Refund an order.
#[tool]
fn refund(order: u32) -> String {
    format!("refunded order {order}")
}

/// Holds every refund for a human.
async fn refunds_wait(call: PendingCall) -> Decision {
    if call.name == "refund" {
        Decision::Defer
    } else {
        Decision::Allow
    }
}

/// A turn with a call that runs and one that waits, then the answer;
/// streamed when asked to stream.
async fn deferring_server() -> ScriptedServer {
    ScriptedServer::start(|request: &Value| {
        let answered = request["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["role"] == "assistant"));
        let reply = if answered {
            message("msg_2", json!([text("Refunded.")]), "end_turn")
        } else {
            message(
                "msg_1",
                json!([
                    text("Refunding."),
                    tool_use("toolu_echo", "echo", json!({"text": "order 7"})),
                    tool_use("toolu_refund", "refund", json!({"order": 7}))
                ]),
                "tool_use",
            )
        };
        if request["stream"] == true {
            Reply::stream_message(&reply)
        } else {
            Reply::message(reply)
        }
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_deferred_turn_is_in_the_messages_and_until_done_says_calls_wait() {
    let server = deferring_server().await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![echo, refund])
        .before_tool_call(refunds_wait);
    while let Some(message) = futures_util::StreamExt::next(&mut runner).await {
        message.unwrap();
    }
    // The turn holding the waiting call is the conversation's last message.
    let messages = serde_json::to_value(runner.messages()).unwrap();
    assert_eq!(
        messages,
        json!([
            {"role": "user", "content": "Go."},
            {"role": "assistant", "content": [
                text("Refunding."),
                tool_use("toolu_echo", "echo", json!({"text": "order 7"})),
                tool_use("toolu_refund", "refund", json!({"order": 7}))
            ]}
        ])
    );
    assert_eq!(runner.state().messages(), runner.messages());

    // Run to its end, the run says that calls wait rather than pass the
    // turn off as the answer.
    let error = client(&server)
        .tool_runner(params(), toolset![echo, refund])
        .before_tool_call(refunds_wait)
        .until_done()
        .await
        .unwrap_err();
    assert!(error.is_awaiting_approval());
    assert!(!error.is_max_iterations());
    assert_eq!(
        error.to_string(),
        "the run stopped with 1 tool call waiting for approval: `refund` (toolu_refund)"
    );
    let ids: Vec<&str> = error
        .pending_approvals()
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(ids, ["toolu_refund"]);
    let state = error.approval_state().expect("the run's state");
    assert_eq!(state.pending_approvals(), error.pending_approvals());
    assert!(!state.is_finished());
    // Only the first request of each run went out.
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_resumed_run_shows_the_decided_turn_with_the_results_of_its_calls() {
    for streaming in [false, true] {
        let server = deferring_server().await;
        let error = client(&server)
            .tool_runner(params(), toolset![echo, refund])
            .message_threads(false)
            .before_tool_call(refunds_wait)
            .until_done()
            .await
            .unwrap_err();
        let mut state = error.approval_state().cloned().unwrap();
        state.approve("toolu_refund").unwrap();
        let resumed = client(&server)
            .resume(state, toolset![echo, refund])
            .unwrap()
            .before_tool_call(refunds_wait);

        let mut shown = Vec::new();
        let mut reported = Vec::new();
        if streaming {
            let mut runner = resumed.streaming();
            while let Some(turn) = runner.next_turn().await {
                let turn = turn.unwrap();
                let mut events = 0;
                while let Some(event) = futures_util::StreamExt::next(turn).await {
                    event.unwrap();
                    events += 1;
                }
                let message = turn.message().await.unwrap();
                shown.push((message.id.clone(), events > 0));
                for (call, result) in runner.tool_results().await.unwrap() {
                    reported.push((call.id.clone(), result.text()));
                }
            }
        } else {
            let mut runner = resumed;
            while let Some(message) = futures_util::StreamExt::next(&mut runner).await {
                shown.push((message.unwrap().id, false));
                for (call, result) in runner.tool_results().await.unwrap() {
                    reported.push((call.id.clone(), result.text()));
                }
            }
        }
        // The decided turn first (a kept turn has no events), then the answer.
        assert_eq!(
            shown,
            [("msg_1".to_owned(), false), ("msg_2".to_owned(), streaming)],
            "streaming: {streaming}"
        );
        assert_eq!(
            reported,
            [
                ("toolu_echo".to_owned(), "order 7".to_owned()),
                ("toolu_refund".to_owned(), "refunded order 7".to_owned())
            ]
        );
        // The turn went out once, followed by both results.
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(
            requests[1]["messages"],
            json!([
                {"role": "user", "content": "Go."},
                {"role": "assistant", "content": [
                    text("Refunding."),
                    tool_use("toolu_echo", "echo", json!({"text": "order 7"})),
                    tool_use("toolu_refund", "refund", json!({"order": 7}))
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_echo", "content": "order 7"},
                    {"type": "tool_result", "tool_use_id": "toolu_refund", "content": "refunded order 7"}
                ]}
            ])
        );
    }
}
