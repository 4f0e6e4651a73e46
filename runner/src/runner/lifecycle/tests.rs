//! The lifecycle on its own: no server, no runtime.

use serde_json::{Value, json};

use super::*;
use crate::types::Role;

fn reply(id: &str, stop: &str, content: Value) -> Message {
    serde_json::from_value(json!({
        "id": id, "type": "message", "role": "assistant", "model": "m",
        "content": content, "stop_reason": stop, "stop_sequence": null,
        "usage": {"input_tokens": 1, "output_tokens": 1}
    }))
    .unwrap()
}

fn tool_call(id: &str) -> Message {
    reply(
        id,
        "tool_use",
        json!([{"type": "tool_use", "id": format!("toolu_{id}"), "name": "add", "input": {}}]),
    )
}

fn answer(id: &str) -> Message {
    reply(id, "end_turn", json!([{"type": "text", "text": "done"}]))
}

fn results(calls: &[ToolUseBlock]) -> MessageParam {
    MessageParam::blocks(
        Role::User,
        calls
            .iter()
            .map(|c| {
                ContentBlock::ToolResult(crate::types::ToolResultBlock::new(c.id.clone(), None))
            })
            .collect(),
    )
}

fn body(action: &Action) -> Value {
    match action {
        Action::Send(request) | Action::Compact(request) => {
            serde_json::from_slice(&request.body).unwrap()
        }
        other => panic!("expected a request, got {other:?}"),
    }
}

/// A lifecycle sending the whole history each time.
fn core() -> Lifecycle {
    let mut core = Lifecycle::new(MessageParams::new("m", 10).user("hi"), Toolset::new());
    core.set_message_threads(false);
    core
}

#[test]
fn a_tool_turn_then_an_answer() {
    let mut core = core();
    let first = core.next_action();
    assert_eq!(body(&first)["messages"].as_array().unwrap().len(), 1);
    core.on_response(tool_call("msg_1"));
    let Action::RunTools(calls) = core.next_action() else {
        panic!("expected tools to run");
    };
    assert_eq!(calls[0].id, "toolu_msg_1");
    core.on_tool_results(results(&calls));
    let second = core.next_action();
    let messages = body(&second)["messages"].clone();
    assert_eq!(messages.as_array().unwrap().len(), 3);
    assert_eq!(messages[2]["content"][0]["tool_use_id"], "toolu_msg_1");
    core.on_response(answer("msg_2"));
    assert!(matches!(core.next_action(), Action::Finish));
    assert!(matches!(core.next_action(), Action::Finish));
    assert_eq!(core.params().messages.len(), 4);
    assert_eq!(core.iterations(), 2);
}

#[test]
fn pause_turn_is_sent_back_without_running_tools() {
    let mut core = core();
    core.next_action();
    core.on_response(reply("msg_1", "pause_turn", json!([])));
    let again = core.next_action();
    assert_eq!(body(&again)["messages"][1]["role"], "assistant");
}

#[test]
fn the_limit_stops_before_tools_whose_results_could_not_be_sent() {
    let mut core = core();
    core.set_max_iterations(1);
    core.next_action();
    core.on_response(tool_call("msg_1"));
    let Action::Fail(error) = core.next_action() else {
        panic!("expected the limit");
    };
    assert!(error.is_max_iterations());
    assert!(matches!(core.next_action(), Action::Finish));
}

#[test]
fn taking_over_drops_the_turn_and_sends_the_callers_state() {
    let mut core = core();
    core.next_action();
    core.on_response(tool_call("msg_1"));
    core.push_messages([MessageParam::user("never mind")]);
    let action = core.next_action();
    let messages = body(&action)["messages"].clone();
    assert_eq!(messages.as_array().unwrap().len(), 2);
    assert_eq!(messages[1]["content"], "never mind");
}

#[test]
fn a_retryable_error_resends_and_any_other_ends_the_loop() {
    let api = |status: u16, retryable: bool| {
        Error::api(
            reqwest::StatusCode::from_u16(status).unwrap(),
            &reqwest::header::HeaderMap::new(),
            bytes::Bytes::from_static(br#"{"type":"error","error":{"type":"x","message":"y"}}"#),
            1,
            retryable,
        )
    };
    let mut core = core();
    core.next_action();
    let error = core.on_send_error(api(529, true)).expect("yielded");
    assert!(error.is_retryable());
    assert!(matches!(core.next_action(), Action::Send(_)));
    core.on_send_error(api(400, false));
    assert!(matches!(core.next_action(), Action::Finish));
}

#[test]
fn on_a_thread_each_request_sends_only_what_is_new() {
    let mut core = Lifecycle::new(MessageParams::new("m", 10).user("hi"), Toolset::new());
    let Action::Send(first) = core.next_action() else {
        panic!("expected a request");
    };
    assert!(
        first
            .betas
            .iter()
            .any(|b| b == "message-threads-2026-08-12")
    );
    assert_eq!(
        body(&Action::Send(first))["thread"],
        json!({"type": "create"})
    );
    core.on_response(tool_call("msg_1"));
    let Action::RunTools(calls) = core.next_action() else {
        panic!("expected tools to run");
    };
    core.on_tool_results(results(&calls));
    let second = body(&core.next_action());
    assert_eq!(
        second["thread"],
        json!({"type": "continue", "previous_message_id": "msg_1"})
    );
    assert_eq!(second["messages"].as_array().unwrap().len(), 1);
    assert_eq!(
        second["messages"][0]["content"][0]["tool_use_id"],
        "toolu_msg_1"
    );
    core.on_response(reply("msg_2", "pause_turn", json!([])));
    let resumed = body(&core.next_action());
    assert_eq!(resumed["messages"], json!([]));
    // The whole conversation is still the runner's.
    assert_eq!(core.params().messages.len(), 4);
}
