//! Hooks around tool calls: approve, deny or rewrite a call before it runs,
//! and rewrite its result after.
//!
//! A hook is a closure, cloned for each call: the async closure
//! `async move |call: PendingCall| { ... }` and the closure returning a future
//! `move |call: PendingCall| async move { ... }` both work, and may capture
//! what they need (an `Arc`, a channel's sender). Since each call gets its own
//! clone, a captured value should be cheap to clone. The toolset's shared
//! state is at hand too, without capturing anything: [`PendingCall::state`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::Value;

use super::state::Approval;
use crate::tool::{CallGate, Caller, State, StateMap, ToolCall, ToolOutput};
use crate::toolset::Toolset;

/// A tool call about to run, as a hook sees it.
#[derive(Clone)]
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
    /// The shared state of the toolset that runs the call.
    states: Arc<StateMap>,
}

impl PendingCall {
    pub(crate) fn new(
        id: String,
        name: String,
        input: Value,
        caller: Caller,
        states: Arc<StateMap>,
    ) -> Self {
        PendingCall {
            id,
            name,
            input,
            caller,
            states,
        }
    }

    /// The toolset's shared state of type `T` (given with
    /// [`Toolset::with_state`](crate::Toolset::with_state)), as a tool's
    /// [`State<T>`] parameter would get it; `None` when the toolset has no `T`.
    ///
    /// ```
    /// use std::collections::HashSet;
    /// use std::sync::Mutex;
    /// use toolrunner::{Decision, PendingCall};
    ///
    /// /// Tools a human approved for the whole session.
    /// struct Approved(Mutex<HashSet<String>>);
    ///
    /// // Captures nothing: the approvals live in the toolset.
    /// let hook = async |call: PendingCall| {
    ///     let approved = call
    ///         .state::<Approved>()
    ///         .is_some_and(|approved| approved.0.lock().unwrap().contains(&call.name));
    ///     if approved {
    ///         Decision::allow()
    ///     } else {
    ///         Decision::deny(format!("`{}` was not approved", call.name))
    ///     }
    /// };
    /// # fn takes(_: impl toolrunner::BeforeToolCall) {}
    /// # takes(hook);
    /// ```
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<State<T>> {
        self.states.get::<T>()
    }
}

impl fmt::Debug for PendingCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingCall")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("input", &self.input)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

/// Two calls are equal when their id, name, input and caller are; the
/// toolset's state is not compared.
impl PartialEq for PendingCall {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.name == other.name
            && self.input == other.input
            && self.caller == other.caller
    }
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
    ///
    /// A call from a code-mode program ([`Caller::CodeMode`]) cannot wait:
    /// the program runs on while its calls are answered, and cannot be
    /// kept for days nor taken up in another process. Deferring such a call
    /// denies it: it does not run, and the program gets an error saying the
    /// tool needs a human's approval, as for any failed call.
    Defer,
}

impl Decision {
    /// Runs the call as it is: [`Decision::Allow`].
    pub fn allow() -> Self {
        Decision::Allow
    }

    /// Denies the call with a message for the model: [`Decision::Deny`].
    pub fn deny(message: impl Into<String>) -> Self {
        Decision::Deny(message.into())
    }

    /// Runs the call with `input` in place of the model's:
    /// [`Decision::Replace`]. The history keeps the call as the model wrote it.
    pub fn replace(input: impl Into<Value>) -> Self {
        Decision::Replace(input.into())
    }
}

type HookFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A hook that runs before each tool call.
///
/// Implemented for closures that take a [`PendingCall`] and return a
/// `Send` future of a [`Decision`]: async closures
/// (`async move |call: PendingCall| ...`) and closures returning an async
/// block (`move |call: PendingCall| async move { ... }`). They may capture
/// state, as long as it is `Clone + Send + Sync`: the closure is cloned for
/// each call, so capture an `Arc` rather than what it holds. A type of your
/// own can implement the trait too.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use toolrunner::{Decision, PendingCall};
///
/// // Every call the hook saw, shared with the rest of the program.
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = Arc::clone(&seen);
/// let hook = async move |call: PendingCall| {
///     log.lock().unwrap().push(call.name.clone());
///     if call.name == "delete_everything" {
///         Decision::deny("this tool needs a human's approval, and none was given")
///     } else {
///         Decision::allow()
///     }
/// };
/// # fn takes(_: impl toolrunner::BeforeToolCall) {}
/// # takes(hook);
/// # assert!(seen.lock().unwrap().is_empty());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a before-call hook",
    label = "expected `async |call: PendingCall| -> Decision`",
    note = "a before-call hook is a `Clone + Send + Sync + 'static` closure taking a `PendingCall` and returning a `Send` future of a `Decision`"
)]
pub trait BeforeToolCall: Send + Sync + 'static {
    /// Decides about `call`.
    fn before(&self, call: PendingCall) -> HookFuture<Decision>;
}

// `FnOnce` on a clone, not `Fn`: an async closure whose body uses what it
// captured implements only `AsyncFn`, whose future's `Send`-ness cannot be
// named on stable Rust, and a closure whose async block moves a capture
// implements only `FnOnce`. Calling a fresh clone serves both, and plain
// closures as before.
impl<F, Fut> BeforeToolCall for F
where
    F: FnOnce(PendingCall) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Decision> + Send + 'static,
{
    fn before(&self, call: PendingCall) -> HookFuture<Decision> {
        Box::pin((self.clone())(call))
    }
}

/// A hook that runs after each tool call that ran, and may replace its result.
///
/// Implemented for closures that take a [`PendingCall`] and the
/// [`ToolOutput`] and return a `Send` future of the output to send, as
/// [`BeforeToolCall`] is: async closures and closures returning an async
/// block, cloned for each call.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use toolrunner::{PendingCall, ToolOutput};
///
/// let failures = Arc::new(AtomicUsize::new(0));
/// let count = Arc::clone(&failures);
/// let hook = async move |call: PendingCall, output: ToolOutput| {
///     if output.is_error {
///         count.fetch_add(1, Ordering::Relaxed);
///     }
///     output
/// };
/// # fn takes(_: impl toolrunner::AfterToolCall) {}
/// # takes(hook);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an after-call hook",
    label = "expected `async |call: PendingCall, output: ToolOutput| -> ToolOutput`",
    note = "an after-call hook is a `Clone + Send + Sync + 'static` closure taking a `PendingCall` and a `ToolOutput` and returning a `Send` future of a `ToolOutput`"
)]
pub trait AfterToolCall: Send + Sync + 'static {
    /// The result to send in place of `output`.
    fn after(&self, call: PendingCall, output: ToolOutput) -> HookFuture<ToolOutput>;
}

impl<F, Fut> AfterToolCall for F
where
    F: FnOnce(PendingCall, ToolOutput) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ToolOutput> + Send + 'static,
{
    fn after(&self, call: PendingCall, output: ToolOutput) -> HookFuture<ToolOutput> {
        Box::pin((self.clone())(call, output))
    }
}

/// A runner's hooks, and the one place a call meets them: every call the
/// runner makes for the model, and every call a program run by one of
/// those makes (code mode), which gets them as its [`CallGate`].
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) before: Option<Arc<dyn BeforeToolCall>>,
    pub(crate) after: Option<Arc<dyn AfterToolCall>>,
}

/// What came of a call between the hooks.
#[derive(Debug)]
pub(crate) enum Hooked {
    /// It was answered: it ran, or a hook denied it.
    Done(ToolOutput),
    /// The before-call hook deferred it to a human.
    Deferred,
}

impl Hooks {
    /// Whether there is no hook at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.before.is_none() && self.after.is_none()
    }

    /// Runs `pending` on `toolset` for `call` between the hooks. `approval`
    /// is what a human decided about it after the hook deferred it:
    /// approved calls skip the before-call hook, denied ones do not run.
    pub(crate) async fn run(
        self,
        toolset: Toolset,
        mut pending: PendingCall,
        call: ToolCall,
        approval: Option<Approval>,
    ) -> Hooked {
        // Hooks are user code: a panic in one fails this call, not the run.
        let decision = match (approval, &self.before) {
            (Some(Approval::Approved), _) | (None, None) => Decision::Allow,
            (Some(Approval::Denied { message }), _) => Decision::Deny(message),
            (None, Some(hook)) => std::panic::AssertUnwindSafe(hook.before(pending.clone()))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    Decision::Deny(hook_panicked("before", &pending.name, &*panic))
                }),
        };
        match decision {
            Decision::Defer => {
                tracing::info!(tool = %pending.name, id = %pending.id, "call deferred for approval");
                return Hooked::Deferred;
            }
            Decision::Deny(message) => {
                tracing::info!(tool = %pending.name, id = %pending.id, "call denied by a hook");
                return Hooked::Done(ToolOutput::error(message));
            }
            Decision::Replace(input) => pending.input = input,
            Decision::Allow => {}
        }
        // The input goes to the tool; a copy is kept only for an
        // after-hook, which sees the call whole.
        let input = match self.after {
            Some(_) => pending.input.clone(),
            None => std::mem::take(&mut pending.input),
        };
        // The tool waits for a slot of the runner's bound; the hooks do not.
        let output = call.run_in_slot(&toolset, &pending.name, input).await;
        Hooked::Done(match &self.after {
            Some(hook) => {
                let name = pending.name.clone();
                std::panic::AssertUnwindSafe(hook.after(pending, output))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| {
                        ToolOutput::error(hook_panicked("after", &name, &*panic))
                    })
            }
            None => output,
        })
    }
}

/// A call from a program meets the hooks as the model's calls do. It cannot
/// wait for a human, as a program cannot be paused for days and taken up
/// in another process: a call the before-call hook defers fails in the
/// program, without running, and the program may go on without it.
impl CallGate for Hooks {
    fn call(
        &self,
        toolset: &Toolset,
        tool: &str,
        input: Value,
        call: ToolCall,
    ) -> HookFuture<ToolOutput> {
        let pending = PendingCall::new(
            call.id().to_owned(),
            tool.to_owned(),
            input,
            call.caller().clone(),
            Arc::clone(toolset.state_map()),
        );
        let running = self.clone().run(toolset.clone(), pending, call, None);
        let tool = tool.to_owned();
        Box::pin(async move {
            match running.await {
                Hooked::Done(output) => output,
                Hooked::Deferred => ToolOutput::error(format!(
                    "the call to tool `{tool}` needs a human's approval, which a call from code cannot wait for; it did not run"
                )),
            }
        })
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("before", &self.before.is_some())
            .field("after", &self.after.is_some())
            .finish()
    }
}

/// The message for a hook that panicked.
pub(crate) fn hook_panicked(which: &str, tool: &str, panic: &(dyn std::any::Any + Send)) -> String {
    let message = crate::toolset::panic_message(panic);
    tracing::error!(
        hook = which,
        tool,
        panic = message,
        "tool-call hook panicked"
    );
    format!("the {which}-call hook for tool `{tool}` failed: {message}")
}
