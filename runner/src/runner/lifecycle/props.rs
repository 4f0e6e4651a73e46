//! The lifecycle driven through random runs: model replies with any number
//! of calls and any stop reason, tool outcomes (ok, error, deferred), send
//! errors, and between turns the caller's moves (tools added and removed,
//! compaction asked for, the limit raised, the run kept and resumed,
//! deferred calls decided, the history taken over). Whatever the run, the
//! loop's promises hold:
//!
//! - every `tool_use` sent is answered once, in call order, by the user
//!   message right after it, and no call runs twice;
//! - a paused turn is the last message of the request that resumes it, and
//!   a turn whose calls wait for a human is the last message of the history;
//! - once the loop finished, no request follows, and a `Finish` is followed
//!   by another;
//! - no request goes out at the iteration limit, so the count never exceeds it.

use std::collections::HashSet;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::runner::state::{Approval, RunState};
use crate::types::Role;
use crate::{Tool, ToolContext, ToolDefinition, ToolFuture, ToolOutput};

/// How a reply stops.
#[derive(Clone, Copy, Debug)]
enum Stop {
    ToolUse,
    EndTurn,
    PauseTurn,
    MaxTokens,
}

/// What comes back for a request.
#[derive(Clone, Debug)]
enum Reply {
    /// A message with this many `tool_use` blocks.
    Message { calls: usize, stop: Stop },
    /// An error, worth sending again or not.
    Error { retryable: bool },
}

/// What came of one call.
#[derive(Clone, Copy, Debug)]
enum CallOutcome {
    Ok,
    Error,
    Deferred,
}

/// What the caller does after an action.
#[derive(Clone, Debug)]
enum Move {
    Nothing,
    AddTool(usize),
    RemoveTool(usize),
    Compact,
    RaiseLimit(usize),
    /// Keeps the run's state (through JSON) and resumes it.
    KeepAndResume,
    /// Approves (or denies) every call waiting for a human, on the kept
    /// state, and resumes it.
    Decide {
        approve: bool,
    },
    /// Appends a user message: takes over the history.
    PushUser,
}

/// One round: an action of the loop, and what answers it.
#[derive(Clone, Debug)]
struct Round {
    reply: Reply,
    outcomes: Vec<CallOutcome>,
    caller: Move,
}

fn stop() -> impl Strategy<Value = Stop> {
    prop_oneof![
        4 => Just(Stop::ToolUse),
        2 => Just(Stop::EndTurn),
        2 => Just(Stop::PauseTurn),
        1 => Just(Stop::MaxTokens),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        8 => (0..4usize, stop()).prop_map(|(calls, stop)| Reply::Message { calls, stop }),
        1 => any::<bool>().prop_map(|retryable| Reply::Error { retryable }),
    ]
}

fn outcome() -> impl Strategy<Value = CallOutcome> {
    prop_oneof![
        4 => Just(CallOutcome::Ok),
        2 => Just(CallOutcome::Error),
        1 => Just(CallOutcome::Deferred),
    ]
}

fn caller_move() -> impl Strategy<Value = Move> {
    prop_oneof![
        8 => Just(Move::Nothing),
        1 => (0..3usize).prop_map(Move::AddTool),
        1 => (0..3usize).prop_map(Move::RemoveTool),
        1 => Just(Move::Compact),
        1 => (1..4usize).prop_map(Move::RaiseLimit),
        1 => Just(Move::KeepAndResume),
        2 => any::<bool>().prop_map(|approve| Move::Decide { approve }),
        1 => Just(Move::PushUser),
    ]
}

fn round() -> impl Strategy<Value = Round> {
    (
        reply(),
        prop::collection::vec(outcome(), 1..4),
        caller_move(),
    )
        .prop_map(|(reply, outcomes, caller)| Round {
            reply,
            outcomes,
            caller,
        })
}

/// A tool the lifecycle declares; it never runs here.
struct Noop(ToolDefinition);

impl Tool for Noop {
    fn definition(&self) -> &ToolDefinition {
        &self.0
    }
    fn call<'a>(&'a self, _input: Value, _cx: ToolContext) -> ToolFuture<'a> {
        Box::pin(async { ToolOutput::text("ok") })
    }
}

fn tool_name(k: usize) -> String {
    format!("t{k}")
}

fn tools(names: impl IntoIterator<Item = usize>) -> Toolset {
    let mut toolset = Toolset::new();
    for k in names {
        let schema = json!({"type": "object", "properties": {}});
        let definition = ToolDefinition::new(tool_name(k), "A tool.", schema);
        toolset.add(Noop(definition)).unwrap();
    }
    toolset
}

/// Every tool any run may name, for resuming a kept state.
fn every_tool() -> Toolset {
    tools(0..3)
}

fn message(id: usize, calls: &[String], stop: Stop) -> Message {
    let mut content = vec![json!({"type": "text", "text": format!("turn {id}")})];
    for (i, call) in calls.iter().enumerate() {
        content.push(json!({
            "type": "tool_use", "id": call, "name": tool_name(i % 3), "input": {"n": i}
        }));
    }
    let stop = match stop {
        Stop::ToolUse => "tool_use",
        Stop::EndTurn => "end_turn",
        Stop::PauseTurn => "pause_turn",
        Stop::MaxTokens => "max_tokens",
    };
    serde_json::from_value(json!({
        "id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": "m",
        "content": content, "stop_reason": stop, "stop_sequence": null,
        "usage": {"input_tokens": 1, "output_tokens": 1}
    }))
    .unwrap()
}

fn summary(id: usize) -> Message {
    serde_json::from_value(json!({
        "id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "compaction", "content": "what happened so far"}],
        "stop_reason": "compaction", "stop_sequence": null,
        "usage": {"input_tokens": 1, "output_tokens": 1}
    }))
    .unwrap()
}

fn blocks(message: &Value, kind: &str, key: &str) -> Vec<String> {
    let Some(content) = message["content"].as_array() else {
        return Vec::new();
    };
    content
        .iter()
        .filter(|b| b["type"] == kind)
        .map(|b| b[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every `tool_use` of the history is answered by the next message, which
/// is a user message holding one result for each, in call order; and no
/// call or result appears twice.
fn check_answered(messages: &[Value]) -> Result<(), TestCaseError> {
    let mut uses = HashSet::new();
    let mut results = HashSet::new();
    for (i, message) in messages.iter().enumerate() {
        for id in blocks(message, "tool_use", "id") {
            prop_assert!(uses.insert(id.clone()), "tool_use {id} sent twice");
        }
        for id in blocks(message, "tool_result", "tool_use_id") {
            prop_assert!(results.insert(id.clone()), "{id} answered twice");
        }
        let calls = blocks(message, "tool_use", "id");
        if calls.is_empty() {
            continue;
        }
        let next = messages.get(i + 1);
        prop_assert!(
            next.is_some(),
            "the calls {calls:?} of the last message are sent unanswered"
        );
        let next = next.unwrap();
        prop_assert_eq!(&next["role"], "user");
        prop_assert_eq!(blocks(next, "tool_result", "tool_use_id"), calls);
    }
    prop_assert_eq!(
        uses,
        results,
        "a result answers no call, or a call has no result"
    );
    Ok(())
}

fn request_messages(request: &Request) -> Vec<Value> {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    body["messages"].as_array().cloned().unwrap_or_default()
}

/// The run kept (through JSON), decided on, and resumed with its settings
/// that are code, as a resuming caller gives them again.
fn resume(
    core: &Lifecycle,
    server_compaction: bool,
    decide: impl FnOnce(&mut RunState),
) -> Lifecycle {
    let mut state = core.state();
    decide(&mut state);
    let kept = serde_json::to_string(&state).unwrap();
    let state: RunState = serde_json::from_str(&kept).unwrap();
    let mut resumed = Lifecycle::restore(state, every_tool()).unwrap();
    if server_compaction {
        resumed.set_compaction(Compaction::server());
    }
    resumed
}

/// Drives a lifecycle through `rounds`, checking the loop's promises at
/// each action.
fn run(
    max_iterations: usize,
    server_compaction: bool,
    rounds: &[Round],
) -> Result<(), TestCaseError> {
    let mut core = Lifecycle::new(MessageParams::new("m", 10).user("hi"), tools(0..2));
    core.set_message_threads(false);
    // The wire's cache breakpoints are tested apart (tests/tests/end_to_end/caching.rs);
    // here the messages are compared as the history holds them.
    core.set_prompt_caching(false);
    core.set_max_iterations(max_iterations);
    if server_compaction {
        core.set_compaction(Compaction::server());
    }
    let mut next_id = 0;
    // Calls answered (run, refused or denied), never to run again.
    let mut answered = HashSet::new();
    // The paused turn the next request resumes, as sent.
    let mut paused: Option<Value> = None;
    // Whether the loop stopped (`Finish`) and nothing since may take it up.
    let mut stays_stopped = false;
    for round in rounds {
        let finished_before = core.is_finished();
        let action = core.next_action();
        let goes_on = matches!(
            action,
            Action::Send(_) | Action::Compact(_) | Action::RunTools(_)
        );
        prop_assert!(
            !(goes_on && finished_before),
            "the loop went on after it finished"
        );
        prop_assert!(
            !(goes_on && stays_stopped),
            "the loop went on by itself after `Finish`"
        );
        let compacting = matches!(action, Action::Compact(_));
        match action {
            Action::Send(request) | Action::Compact(request) => {
                prop_assert!(
                    core.iterations() < core.max_iterations(),
                    "a request at the limit"
                );
                let messages = request_messages(&request);
                check_answered(&messages)?;
                if let Some(turn) = &paused {
                    prop_assert!(!compacting, "a paused turn was compacted");
                    prop_assert_eq!(
                        messages.last().map(|m| &m["content"]),
                        Some(&turn["content"]),
                        "the paused turn is not last"
                    );
                }
                next_id += 1;
                match &round.reply {
                    Reply::Message { .. } if compacting => core.on_summary(&summary(next_id)),
                    Reply::Message { calls, stop } => {
                        // The API pauses a turn for its own tools' sake:
                        // a paused turn holds no calls of ours.
                        let calls = if matches!(stop, Stop::PauseTurn) {
                            0
                        } else {
                            *calls
                        };
                        let calls: Vec<String> =
                            (0..calls).map(|i| format!("toolu_{next_id}_{i}")).collect();
                        let reply = message(next_id, &calls, *stop);
                        paused = matches!(stop, Stop::PauseTurn).then(|| {
                            serde_json::to_value(MessageParam::from(reply.clone())).unwrap()
                        });
                        core.on_response(reply);
                    }
                    Reply::Error { retryable } => {
                        let error = if *retryable {
                            Error::stream_broken("connection reset")
                        } else {
                            Error::invalid_request("bad request")
                        };
                        if compacting {
                            core.on_summary_error(error);
                        } else {
                            core.on_send_error(error);
                        }
                    }
                }
            }
            Action::RunTools(Batch { calls, approvals }) => {
                prop_assert!(!finished_before, "tools ran after the loop finished");
                let turn: Vec<String> = core
                    .last_message()
                    .map(|m| m.tool_uses().map(|c| c.id.clone()).collect())
                    .unwrap_or_default();
                let ids: Vec<String> = calls.iter().map(|c| c.id.clone()).collect();
                let in_order: Vec<String> =
                    turn.iter().filter(|id| ids.contains(id)).cloned().collect();
                prop_assert_eq!(
                    &ids,
                    &in_order,
                    "the batch is not the turn's calls in order"
                );
                for (i, call) in calls.iter().enumerate() {
                    prop_assert!(!answered.contains(&call.id), "{} runs twice", call.id);
                    let outcome = match approvals.get(&call.id) {
                        Some(Approval::Approved) => CallOutcome::Ok,
                        Some(Approval::Denied { .. }) => CallOutcome::Error,
                        None => round.outcomes[i % round.outcomes.len()],
                    };
                    let mut result = ToolResultBlock::new(call.id.clone(), None);
                    match outcome {
                        CallOutcome::Ok | CallOutcome::Error => {
                            result.is_error = matches!(outcome, CallOutcome::Error);
                            answered.insert(call.id.clone());
                            core.on_call(Outcome::Done(result));
                        }
                        CallOutcome::Deferred => core.on_call(Outcome::Deferred(call.id.clone())),
                    }
                }
                core.on_calls_done();
            }
            Action::Fail(error) => {
                if error.is_max_iterations() {
                    prop_assert!(core.iterations() >= core.max_iterations());
                }
            }
            Action::Finish => {
                stays_stopped = true;
                prop_assert!(
                    matches!(core.next_action(), Action::Finish),
                    "a finished loop went on by itself"
                );
                let waiting: Vec<String> =
                    core.pending_approvals().into_iter().map(|c| c.id).collect();
                if !waiting.is_empty() {
                    let last = core
                        .params()
                        .messages
                        .last()
                        .map(|m| serde_json::to_value(m).unwrap());
                    let last_calls = last
                        .map(|m| blocks(&m, "tool_use", "id"))
                        .unwrap_or_default();
                    prop_assert!(
                        waiting.iter().all(|id| last_calls.contains(id)),
                        "the turn waiting for {waiting:?} is not last"
                    );
                }
            }
        }
        prop_assert!(core.iterations() <= core.max_iterations());
        let finished = core.is_finished();
        if matches!(round.caller, Move::RaiseLimit(_) | Move::Decide { .. }) {
            stays_stopped = false;
        }
        match &round.caller {
            Move::Nothing => {}
            Move::AddTool(k) => core.add_tools(tools([*k])).unwrap(),
            Move::RemoveTool(k) => {
                let name = tool_name(*k);
                if core.toolset().contains(&name) {
                    core.remove_tools([name.as_str()]).unwrap();
                }
            }
            Move::Compact => core.compact_before_next_turn().unwrap(),
            Move::RaiseLimit(more) => {
                let max = core.max_iterations() + more;
                core.set_max_iterations(max);
            }
            Move::KeepAndResume => core = resume(&core, server_compaction, |_| {}),
            Move::Decide { approve } => {
                let waiting = core.pending_approvals();
                if !waiting.is_empty() {
                    core = resume(&core, server_compaction, |state| {
                        for call in waiting {
                            if *approve {
                                state.approve(&call.id).unwrap();
                            } else {
                                state.deny(&call.id, "no").unwrap();
                            }
                        }
                    });
                }
            }
            // Taking over while the history ends on a turn with calls (one
            // that waited for a human) leaves them to the caller to answer
            // (see `ToolRunner::messages`): not a run the loop makes
            // promises about.
            Move::PushUser => {
                let ends_on_calls = core.params().messages.last().is_some_and(|m| {
                    m.role == Role::Assistant
                        && m.content_blocks().iter().any(|b| b.as_tool_use().is_some())
                });
                if !ends_on_calls {
                    core.push_messages([MessageParam::user("go on")]);
                    paused = None;
                }
            }
        }
        prop_assert!(
            !finished || core.is_finished(),
            "a finished loop was taken up again"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_runs_keep_the_loops_promises(
        max_iterations in 1..8usize,
        server_compaction in any::<bool>(),
        rounds in prop::collection::vec(round(), 1..40),
    ) {
        run(max_iterations, server_compaction, &rounds)?;
    }
}
