//! The lifecycle on its own: no server, no runtime.

use serde_json::{Value, json};

use super::*;
use crate::types::{Role, ToolUseBlock};

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
    // The wire's cache breakpoints are tested apart (tests/tests/end_to_end/caching.rs);
    // here the messages are compared as the history holds them.
    core.set_prompt_caching(false);
    core
}

#[test]
fn a_tool_turn_then_an_answer() {
    let mut core = core();
    let first = core.next_action();
    assert_eq!(body(&first)["messages"].as_array().unwrap().len(), 1);
    core.on_response(tool_call("msg_1"));
    let Action::RunTools(Batch { calls, .. }) = core.next_action() else {
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
fn a_loop_stopped_at_the_limit_is_not_over_and_goes_on_under_a_higher_one() {
    let mut core = core();
    core.set_max_iterations(1);
    core.next_action();
    core.on_response(tool_call("msg_1"));
    assert!(matches!(core.next_action(), Action::Fail(_)));
    assert!(matches!(core.next_action(), Action::Finish));
    // Its end is kept once, as not finished.
    assert!(core.take_end_to_keep());
    assert!(!core.take_end_to_keep());
    assert!(!core.state().is_finished());
    // A higher limit, on this lifecycle or a restored one: the calls run,
    // then the next request.
    let mut resumed = through_state(&core);
    for core in [&mut core, &mut resumed] {
        core.set_max_iterations(2);
        let Action::RunTools(Batch { calls, .. }) = core.next_action() else {
            panic!("expected the turn's calls to run");
        };
        core.on_tool_results(results(&calls));
        let messages = body(&core.next_action())["messages"].clone();
        assert_eq!(messages[2]["content"][0]["tool_use_id"], "toolu_msg_1");
    }
}

#[test]
fn a_deferred_turn_goes_into_the_history_once() {
    let mut core = core();
    let _ = core.next_action();
    core.on_response(two_calls("msg_1"));
    let _ = core.next_action();
    core.on_call(Outcome::Deferred("toolu_b".into()));
    core.on_call(done("toolu_a", "one"));
    core.on_calls_done();
    assert!(matches!(core.next_action(), Action::Finish));
    assert!(matches!(core.next_action(), Action::Finish));
    assert_eq!(core.params().messages.len(), 2);
    assert_eq!(core.params().messages[1].role, Role::Assistant);
    assert!(core.decided_turn().is_none());

    let mut state = core.state();
    state.approve("toolu_b").unwrap();
    let mut resumed = Lifecycle::restore(state, Toolset::new()).unwrap();
    assert_eq!(resumed.decided_turn().map(|m| m.id.as_str()), Some("msg_1"));
    let _ = resumed.next_action();
    resumed.on_call(done("toolu_b", "two"));
    resumed.on_calls_done();
    assert!(resumed.decided_turn().is_none());
    let messages = body(&resumed.next_action())["messages"].clone();
    let roles: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
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
    let Action::RunTools(Batch { calls, .. }) = core.next_action() else {
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

fn two_calls(id: &str) -> Message {
    reply(
        id,
        "tool_use",
        json!([
            {"type": "tool_use", "id": "toolu_a", "name": "add", "input": {"n": 1}},
            {"type": "tool_use", "id": "toolu_b", "name": "add", "input": {"n": 2}}
        ]),
    )
}

fn done(id: &str, text: &str) -> Outcome {
    Outcome::Done(crate::ToolOutput::text(text).into_result_block(id.to_owned()))
}

/// A lifecycle on a message thread, through a kept state and back: the
/// JSON round trip included, as a store would do it.
fn through_state(core: &Lifecycle) -> Lifecycle {
    let json = core.state().to_json().unwrap();
    let state = crate::RunState::from_json(&json).unwrap();
    assert_eq!(state, core.state());
    Lifecycle::restore(state, Toolset::new()).unwrap()
}

#[test]
fn a_state_taken_mid_turn_sends_what_the_run_would_have() {
    // Two runs, one kept and resumed after the first of two calls finished.
    let mut straight = Lifecycle::new(MessageParams::new("m", 10).user("hi"), Toolset::new());
    let mut kept = Lifecycle::new(MessageParams::new("m", 10).user("hi"), Toolset::new());
    for core in [&mut straight, &mut kept] {
        let _ = core.next_action();
        core.on_response(two_calls("msg_1"));
        let Action::RunTools(batch) = core.next_action() else {
            panic!("expected tools to run");
        };
        assert_eq!(batch.calls.len(), 2);
        // The second call finishes first.
        core.on_call(done("toolu_b", "two"));
    }
    let mut resumed = through_state(&kept);
    straight.on_call(done("toolu_a", "one"));
    straight.on_calls_done();
    // Only the call that had not finished runs again.
    let Action::RunTools(batch) = resumed.next_action() else {
        panic!("expected the unfinished call to run");
    };
    let ids: Vec<&str> = batch.calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["toolu_a"]);
    resumed.on_call(done("toolu_a", "one"));
    resumed.on_calls_done();
    let (Action::Send(a), Action::Send(b)) = (straight.next_action(), resumed.next_action()) else {
        panic!("expected both to send");
    };
    assert_eq!(a.body, b.body, "the resumed request differs");
    let sent: Value = serde_json::from_slice(&b.body).unwrap();
    // On the same thread, the results in call order.
    assert_eq!(sent["thread"]["previous_message_id"], "msg_1");
    assert_eq!(sent["messages"][0]["content"][0]["tool_use_id"], "toolu_a");
    assert_eq!(sent["messages"][0]["content"][1]["tool_use_id"], "toolu_b");
    assert_eq!(resumed.iterations(), 1);
}

#[test]
fn deferred_calls_wait_and_decisions_run_or_answer_them() {
    let mut core = core();
    let _ = core.next_action();
    core.on_response(two_calls("msg_1"));
    let _ = core.next_action();
    core.on_call(Outcome::Deferred("toolu_b".into()));
    core.on_call(done("toolu_a", "one"));
    core.on_calls_done();
    // The loop waits, and is not over.
    assert!(matches!(core.next_action(), Action::Finish));
    assert!(!core.is_finished());
    let pending = core.pending_approvals();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, "toolu_b");
    assert_eq!(pending[0].input, json!({"n": 2}));

    let mut state = core.state();
    let unknown = state.approve("toolu_zz").unwrap_err();
    assert!(unknown.is_run_state());
    assert_eq!(
        unknown.to_string(),
        "no call `toolu_zz` waits for approval in this run state (waiting: `toolu_b`)"
    );
    state.deny("toolu_b", "not today").unwrap();
    assert!(state.pending_approvals().is_empty());
    let mut resumed = Lifecycle::restore(state, Toolset::new()).unwrap();
    let Action::RunTools(batch) = resumed.next_action() else {
        panic!("expected the decided call to run");
    };
    assert_eq!(batch.calls.len(), 1);
    assert_eq!(
        batch.approvals.get("toolu_b"),
        Some(&crate::runner::state::Approval::Denied {
            message: "not today".into()
        })
    );
}

#[test]
fn resuming_needs_every_tool_the_run_named() {
    let toolset = Toolset::new();
    let mut state = core().state();
    state.saved.tools.declared = vec!["charge".into()];
    let error = Lifecycle::restore(state, toolset).err().unwrap();
    assert!(error.is_run_state());
    assert_eq!(
        error.to_string(),
        "the run state needs tool `charge`, and the toolset given to resume it has only: no tools"
    );
}

#[test]
fn a_call_whose_input_was_cut_short_stays_refused_after_a_resume() {
    let mut core = core();
    let _ = core.next_action();
    let mut message = two_calls("msg_1");
    if let Some(ContentBlock::ToolUse(call)) = message.content.get_mut(0) {
        call.input_error = Some("EOF while parsing".into());
    }
    core.on_response(message);
    let resumed = through_state(&core);
    let kept = resumed.last_message().and_then(|m| m.tool_uses().next());
    assert_eq!(
        kept.and_then(|c| c.input_error.as_deref()),
        Some("EOF while parsing")
    );
}

fn betas(action: &Action) -> Vec<String> {
    match action {
        Action::Send(request) => request.betas.clone(),
        other => panic!("expected a request, got {other:?}"),
    }
}

#[test]
fn a_refused_turn_is_sent_again_to_the_next_model_with_its_token() {
    let mut core = core();
    core.set_fallback_models(vec!["b".into(), "c".into()]);
    let first = core.next_action();
    assert_eq!(betas(&first), ["fallback-credit-2026-07-01"]);
    assert_eq!(body(&first).get("fallback_credit_token"), None);
    let mut refusal = reply("msg_1", "refusal", json!([{"type": "text", "text": "no"}]));
    refusal.extra.insert(
        "stop_details".into(),
        json!({"type": "refusal", "category": "cyber", "fallback_credit_token": "tok_1"}),
    );
    assert_eq!(core.on_response(refusal), Received::FellBack);
    let second = core.next_action();
    let sent = body(&second);
    assert_eq!(sent["model"], "b");
    // The same history: the refused reply is not in it.
    assert_eq!(sent["messages"], body(&first)["messages"]);
    assert_eq!(
        sent["fallback_credit_token"],
        json!({"token": "tok_1", "mode": "best_effort"})
    );
    assert_eq!(core.on_response(answer("msg_2")), Received::Turn);
    assert!(matches!(core.next_action(), Action::Finish));
    assert_eq!(core.params().model, "b");
    assert_eq!(core.params().messages.len(), 2);
    assert_eq!(core.params().extra.get("fallback_credit_token"), None);
    assert_eq!(core.iterations(), 2);
}

#[test]
fn an_overload_sends_the_turn_to_the_next_model_and_the_last_model_yields_it() {
    let overloaded = || {
        Error::api(
            reqwest::StatusCode::from_u16(529).unwrap(),
            &reqwest::header::HeaderMap::new(),
            bytes::Bytes::from_static(
                br#"{"type":"error","error":{"type":"overloaded_error","message":"x"}}"#,
            ),
            3,
            true,
        )
    };
    let mut core = core();
    core.set_fallback_models(vec!["b".into()]);
    let first = core.next_action();
    assert!(core.on_send_error(overloaded()).is_none());
    let second = core.next_action();
    assert_eq!(body(&second)["model"], "b");
    assert_eq!(body(&second)["messages"], body(&first)["messages"]);
    assert_eq!(body(&second).get("fallback_credit_token"), None);
    // Nothing left: the overload is the caller's, as without fallbacks.
    let error = core.on_send_error(overloaded()).expect("yielded");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(529));
}
