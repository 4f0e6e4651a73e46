//! The durable loop: the lifecycle's actions carried out as journaled steps.
//!
//! The loop is rebuilt on every replay from the run's input: the lifecycle
//! is deterministic, and what is not (the model's replies, the tools'
//! results, a hook's decisions, a human's approvals) comes from the
//! journal, so the replayed loop reaches the same state without sending or
//! running anything it already did.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use restate_sdk::context::RunFuture;
use restate_sdk::endpoint::ContextInternal;
use restate_sdk::errors::{HandlerError, TerminalError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::payload::Payload;
use super::{AgentConfig, Approval, PendingApproval};
use crate::client::Request;
use crate::error::Error;
use crate::runner::dispatch::{self, DispatchConfig, Outcome};
use crate::runner::lifecycle::{Action, Lifecycle};
use crate::runner::{BeforeToolCall, Decision, PendingCall};
use crate::tool::{Slots, ToolOutput};
use crate::toolset::Toolset;
use crate::types::{Message, ToolResultBlock, ToolUseBlock};

/// The workflow state listing the calls that wait for approval.
pub(super) const PENDING_STATE: &str = "pending_approvals";

/// The durable promise the deferred call `call_id` waits on.
pub(super) fn approval_promise(call_id: &str) -> String {
    format!("approval:{call_id}")
}

/// Runs the agent on `input` to its end and returns the model's last
/// message. `run_id`, the workflow's key, makes the calls' idempotency keys.
pub(super) async fn run(
    agent: &AgentConfig,
    ctx: &ContextInternal,
    input: Value,
    run_id: &str,
) -> Result<Message, HandlerError> {
    let run_id: std::sync::Arc<str> = run_id.into();
    let params = (agent.params)(&input).map_err(|message| {
        TerminalError::new_with_code(400, format!("cannot start the run: {message}"))
    })?;
    let mut core = Lifecycle::new_in(params, agent.toolset.clone(), agent.client.telemetry());
    core.set_max_iterations(agent.max_iterations);
    let offered = crate::runner::thread::offered_by(&agent.client);
    core.set_message_threads(agent.message_threads && offered);
    // Tools still running when Restate drops the invocation see it cancelled.
    let cancel = CancellationToken::new();
    let _cancel_on_drop = cancel.clone().drop_guard();
    let mut requests = 0usize;
    loop {
        match core.next_action() {
            Action::Finish => {
                return core
                    .last_message()
                    .cloned()
                    .ok_or_else(|| failed(&core.limit_error()));
            }
            Action::Fail(error) => return Err(failed(&error)),
            Action::Send(request) => {
                requests += 1;
                let step = format!("model request {requests}");
                match send(agent, ctx, request, core.request_span(), step).await? {
                    Ok(message) => {
                        // After a fallback the next action sends the turn again.
                        let _ = core.on_response(message);
                    }
                    Err(error) => {
                        // `None`: a thread the server lost; the next action
                        // sends the turn again on a new one.
                        if let Some(error) = core.on_send_error(error) {
                            return Err(failed(&error));
                        }
                    }
                }
            }
            Action::Compact(request) => {
                requests += 1;
                let step = format!("compaction request {requests}");
                match send(agent, ctx, request, core.request_span(), step).await? {
                    Ok(summary) => core.on_summary(&summary),
                    Err(error) => {
                        if let Action::Fail(error) = core.on_summary_error(error) {
                            return Err(failed(&error));
                        }
                    }
                }
            }
            Action::RunTools(batch) => {
                let toolset = core.toolset().clone();
                let code_version = core.code_version().to_owned();
                let run_span = core.span().clone();
                let turn = Turn {
                    agent,
                    ctx,
                    toolset: &toolset,
                    cancel: &cancel,
                    run_span: &run_span,
                    config: DispatchConfig {
                        concurrency: 1,
                        // The turn's calls run one at a time, in journaled
                        // steps; this bounds the calls a program run by
                        // one of them makes (code mode).
                        slots: Slots::new(agent.tool_concurrency),
                        code_version,
                        // The calls of the turn were decided in journaled
                        // steps (see `Turn::call`); the hook is here for the
                        // calls a program run by one of them makes.
                        before: agent.before.clone(),
                        after: agent.after.clone(),
                        recording: Default::default(),
                        run_id: Some(std::sync::Arc::clone(&run_id)),
                    },
                };
                // Approvals are the journal's business here (durable
                // promises), so a batch carries none for this path.
                for result in turn.run(batch.calls).await? {
                    core.on_call(Outcome::Done(result));
                }
                core.on_calls_done();
            }
        }
    }
}

/// A model request's outcome, as the journal keeps it.
#[derive(Serialize, Deserialize)]
enum Reply {
    Message(Box<Message>),
    /// An API error no retry would cure: kept, because the lifecycle
    /// recovers from some (a thread the server lost).
    ApiError(JournaledError),
}

/// An API error response, enough to rebuild the [`Error`].
#[derive(Serialize, Deserialize)]
struct JournaledError {
    status: u16,
    body: String,
    request_id: Option<String>,
    attempts: u32,
}

impl JournaledError {
    fn of(error: &Error) -> Self {
        JournaledError {
            status: error.status().map_or(500, |s| s.as_u16()),
            body: String::from_utf8_lossy(error.body().unwrap_or_default()).into_owned(),
            request_id: error.request_id().map(str::to_owned),
            attempts: error.attempts(),
        }
    }

    fn into_error(self) -> Error {
        let mut headers = HeaderMap::new();
        if let Some(id) = self
            .request_id
            .and_then(|id| HeaderValue::from_str(&id).ok())
        {
            headers.insert("request-id", id);
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        Error::api(
            status,
            &headers,
            Bytes::from(self.body),
            self.attempts,
            false,
        )
    }
}

/// Sends `request` as the journaled step `step`, or takes its reply from
/// the journal. An error worth retrying fails the step, and Restate tries
/// it again with its retry policy; any other ends in the journal.
async fn send(
    agent: &AgentConfig,
    ctx: &ContextInternal,
    request: Request,
    span: tracing::Span,
    step: String,
) -> Result<Result<Message, Error>, HandlerError> {
    let client = agent.client.clone();
    let Payload(reply) = ctx
        .run(move || async move {
            match client.complete(&request).instrument(span).await {
                Ok(message) => Ok(Payload(Reply::Message(Box::new(message)))),
                Err(error) if error.is_retryable() => Err(HandlerError::from(error)),
                Err(error) if error.is_api() => {
                    Ok(Payload(Reply::ApiError(JournaledError::of(&error))))
                }
                Err(error) => Err(TerminalError::new(error.to_string()).into()),
            }
        })
        .name(step)
        .await?;
    Ok(match reply {
        Reply::Message(message) => Ok(*message),
        Reply::ApiError(error) => Err(error.into_error()),
    })
}

/// What the before-call hook decided, as the journal keeps it.
#[derive(Serialize, Deserialize)]
enum Verdict {
    Allow,
    Deny(String),
    Replace(Value),
    Defer,
}

impl From<Decision> for Verdict {
    fn from(decision: Decision) -> Self {
        match decision {
            Decision::Allow => Verdict::Allow,
            Decision::Deny(message) => Verdict::Deny(message),
            Decision::Replace(input) => Verdict::Replace(input),
            Decision::Defer => Verdict::Defer,
        }
    }
}

/// One turn's calls, run one after another, each its own step.
struct Turn<'a> {
    agent: &'a AgentConfig,
    ctx: &'a ContextInternal,
    toolset: &'a Toolset,
    cancel: &'a CancellationToken,
    /// The run's span, parent of each call's.
    run_span: &'a tracing::Span,
    config: DispatchConfig,
}

impl Turn<'_> {
    /// Runs `calls` and returns their results, in call order. Calls the
    /// hook deferred wait for their approvals after the others have run.
    async fn run(&self, calls: Vec<ToolUseBlock>) -> Result<Vec<ToolResultBlock>, HandlerError> {
        let mut verdicts = Vec::with_capacity(calls.len());
        for call in &calls {
            let verdict = match &self.agent.before {
                Some(hook)
                    if dispatch::reaches_hook(self.toolset, call, &self.config.code_version) =>
                {
                    self.decide(hook, call).await?
                }
                _ => Verdict::Allow,
            };
            verdicts.push(verdict);
        }
        let mut waiting: Vec<PendingApproval> = calls
            .iter()
            .zip(&verdicts)
            .filter(|(_, verdict)| matches!(verdict, Verdict::Defer))
            .map(|(call, _)| PendingApproval {
                call_id: call.id.clone(),
                name: call.name.clone(),
                input: call.input.clone(),
            })
            .collect();
        if !waiting.is_empty() {
            tracing::info!(calls = waiting.len(), "tool calls wait for approval");
            self.ctx.set(PENDING_STATE, Payload(waiting.clone()));
        }
        let mut results: Vec<Option<ToolResultBlock>> = Vec::with_capacity(calls.len());
        for (call, verdict) in calls.iter().zip(verdicts) {
            let result = match verdict {
                Verdict::Allow => Some(self.call(call.clone()).await?),
                Verdict::Replace(input) => {
                    let mut call = call.clone();
                    call.input = input;
                    Some(self.call(call).await?)
                }
                Verdict::Deny(message) => Some(denied(call, message)),
                Verdict::Defer => None,
            };
            results.push(result);
        }
        for (call, result) in calls.iter().zip(results.iter_mut()) {
            if result.is_some() {
                continue;
            }
            let promise = approval_promise(&call.id);
            let Payload(approval) = self.ctx.promise::<Payload<Approval>>(&promise).await?;
            waiting.retain(|pending| pending.call_id != call.id);
            self.ctx.set(PENDING_STATE, Payload(waiting.clone()));
            *result = Some(match approval {
                Approval::Approve => self.call(call.clone()).await?,
                Approval::Deny { message } => denied(call, message),
            });
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// Asks the hook about `call`, as a journaled step.
    async fn decide(
        &self,
        hook: &Arc<dyn BeforeToolCall>,
        call: &ToolUseBlock,
    ) -> Result<Verdict, HandlerError> {
        let hook = Arc::clone(hook);
        let pending = PendingCall::new(
            call.id.clone(),
            call.name.clone(),
            call.input.clone(),
            call.caller(),
            Arc::clone(self.toolset.state_map()),
        );
        let Payload(verdict) = self
            .ctx
            .run(move || async move {
                let tool = pending.name.clone();
                // Hooks are user code: a panic in one denies this call, as
                // the plain runner does.
                let decision = AssertUnwindSafe(hook.before(pending))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| {
                        Decision::Deny(dispatch::hook_panicked("before", &tool, &*panic))
                    });
                Ok(Payload(Verdict::from(decision)))
            })
            .name(format!("decide {} {}", call.name, call.id))
            .await?;
        Ok(verdict)
    }

    /// Runs `call` as a journaled step, or takes its result from the journal.
    async fn call(&self, call: ToolUseBlock) -> Result<ToolResultBlock, HandlerError> {
        let step = format!("tool {} {}", call.name, call.id);
        let (toolset, config, cancel) = (self.toolset, &self.config, self.cancel);
        let run_span = self.run_span;
        let Payload(block) = self
            .ctx
            .run(move || {
                // The hook was asked in a step of its own: the call runs as
                // one a human approved, without asking it again, so none
                // can be deferred here; were one, it would be answered,
                // not lost.
                let decided = Some(dispatch::Approval::Approved);
                dispatch::run_one(toolset, call, config, cancel, decided, run_span).map(|outcome| {
                    Ok(Payload(match outcome {
                        Outcome::Done(block) => block,
                        Outcome::Deferred(id) => ToolOutput::error(
                            "the call was deferred for approval a second time; it did not run",
                        )
                        .into_result_block(id),
                    }))
                })
            })
            .name(step)
            .await?;
        Ok(block)
    }
}

/// The result for a call a hook or a human denied.
fn denied(call: &ToolUseBlock, message: String) -> ToolResultBlock {
    tracing::info!(tool = %call.name, id = %call.id, "call denied");
    ToolOutput::error(message).into_result_block(call.id.clone())
}

/// The run's terminal failure for `error`.
fn failed(error: &Error) -> HandlerError {
    let code = error.status().map_or(500, |s| s.as_u16());
    TerminalError::new_with_code(code, error.to_string()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journaled_api_error_comes_back_as_the_same_error() {
        let body = r#"{"type":"error","error":{"type":"invalid_request_error","message":"thread not found","details":{"error_code":"thread_not_found"}}}"#;
        let mut headers = HeaderMap::new();
        headers.insert("request-id", HeaderValue::from_static("req_1"));
        let error = Error::api(StatusCode::NOT_FOUND, &headers, Bytes::from(body), 1, false);
        let journaled =
            serde_json::to_string(&Reply::ApiError(JournaledError::of(&error))).unwrap();
        let Reply::ApiError(back) = serde_json::from_str(&journaled).unwrap() else {
            panic!("not an API error: {journaled}");
        };
        let back = back.into_error();
        assert_eq!(back.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(back.request_id(), Some("req_1"));
        assert_eq!(back.api_message(), Some("thread not found"));
        assert_eq!(back.body(), Some(body.as_bytes()));
        assert!(!back.is_retryable());
    }

    #[test]
    fn a_status_that_is_not_one_becomes_bad_gateway() {
        let journaled = JournaledError {
            status: 1000,
            body: "not json".into(),
            request_id: Some("bad\nheader".into()),
            attempts: 0,
        };
        let error = journaled.into_error();
        assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
        assert_eq!(error.request_id(), None);
    }

    #[test]
    fn every_decision_has_a_verdict() {
        let json = |d: Decision| serde_json::to_value(Verdict::from(d)).unwrap();
        assert_eq!(json(Decision::Allow), serde_json::json!("Allow"));
        assert_eq!(json(Decision::Defer), serde_json::json!("Defer"));
        assert_eq!(
            json(Decision::deny("no")),
            serde_json::json!({"Deny": "no"})
        );
        assert_eq!(
            json(Decision::Replace(serde_json::json!({"a": 1}))),
            serde_json::json!({"Replace": {"a": 1}})
        );
    }
}
