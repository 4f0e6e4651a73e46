//! Hooks around tool calls: approve, deny or rewrite a call before it runs,
//! and rewrite its result after.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::tool::{Caller, ToolOutput};

/// A tool call about to run, as a hook sees it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PendingCall {
    /// The `tool_use` id.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The input the model wrote (or the input a before-hook put in its place,
    /// for an after-hook).
    pub input: Value,
    /// Who made the call.
    pub caller: Caller,
}

/// What a before-call hook decides.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Decision {
    /// Run the call as it is.
    Allow,
    /// Do not run it; the model sees `message` as an `is_error` result.
    Deny(String),
    /// Run it with this input instead.
    Replace(Value),
    /// Hold the call for a human's approval; see
    /// [`ToolRunner::pending_approvals`](crate::ToolRunner::pending_approvals).
    ///
    /// The turn's other calls still run; then the runner stops (its stream
    /// ends) with the deferred calls listed, and its
    /// [`state`](crate::ToolRunner::state) can be kept. Approve or deny
    /// each call on the state ([`RunState::approve`](crate::RunState::approve),
    /// [`RunState::deny`](crate::RunState::deny)) and
    /// [`resume`](crate::Client::resume) it: an approved call runs without
    /// asking the hook again, a denied one is answered with the message as
    /// an `is_error` result.
    ///
    /// [`until_done`](crate::ToolRunner::until_done) then returns the
    /// turn's message: to keep the state, checkpoint
    /// ([`ToolRunner::checkpoint`](crate::ToolRunner::checkpoint)) or read
    /// the stream and take [`state`](crate::ToolRunner::state) after it.
    ///
    /// An agent served on Restate (feature `restate`) waits for the
    /// decision instead, on a durable promise a human resolves through
    /// Restate's ingress.
    Defer,
}

impl Decision {
    /// Denies the call with a message for the model.
    pub fn deny(message: impl Into<String>) -> Self {
        Decision::Deny(message.into())
    }
}

type HookFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A hook that runs before each tool call.
///
/// Implemented for async closures `Fn(PendingCall) -> impl Future<Output = Decision>`:
///
/// ```
/// use toolrunner::{Decision, PendingCall};
///
/// let hook = |call: PendingCall| async move {
///     if call.name == "delete_everything" {
///         Decision::deny("this tool needs a human's approval, and none was given")
///     } else {
///         Decision::Allow
///     }
/// };
/// # fn takes(_: impl toolrunner::BeforeToolCall) {}
/// # takes(hook);
/// ```
pub trait BeforeToolCall: Send + Sync + 'static {
    /// Decides about `call`.
    fn before(&self, call: PendingCall) -> HookFuture<Decision>;
}

impl<F, Fut> BeforeToolCall for F
where
    F: Fn(PendingCall) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Decision> + Send + 'static,
{
    fn before(&self, call: PendingCall) -> HookFuture<Decision> {
        Box::pin(self(call))
    }
}

/// A hook that runs after each tool call that ran, and may replace its result.
///
/// Implemented for async closures `Fn(PendingCall, ToolOutput) -> impl Future<Output = ToolOutput>`.
pub trait AfterToolCall: Send + Sync + 'static {
    /// The result to send in place of `output`.
    fn after(&self, call: PendingCall, output: ToolOutput) -> HookFuture<ToolOutput>;
}

impl<F, Fut> AfterToolCall for F
where
    F: Fn(PendingCall, ToolOutput) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ToolOutput> + Send + 'static,
{
    fn after(&self, call: PendingCall, output: ToolOutput) -> HookFuture<ToolOutput> {
        Box::pin(self(call, output))
    }
}
