//! The agentic loop: [`ToolRunner`].
//!
//! Each iteration follows the published tool-runner lifecycle:
//!
//! 1. Send the request with the runner's current state; yield the response.
//! 2. The loop body runs. It may read the message and change the state.
//! 3. Unless the body took over the history, append the assistant message,
//!    then run its tools and append one user message answering every
//!    `tool_use`, in call order. Without tool calls the loop ends.
//! 4. If the body took over (with [`push_messages`](ToolRunner::push_messages),
//!    [`set_messages`](ToolRunner::set_messages) or
//!    [`params_mut`](ToolRunner::params_mut)), nothing is appended: the
//!    body's state is sent unchanged.

mod artifacts;
mod compaction;
mod compaction_split;
mod dispatch;
mod hooks;
mod lifecycle;
mod log;
mod programmatic;
mod request;
mod shared;
mod streaming;
mod structured;
mod telemetry;
mod thread;
mod tool_changes;
mod tool_search;
mod turn;

pub use artifacts::Artifacts;
pub use compaction::{Compaction, DEFAULT_COMPACTION_PROMPT, DEFAULT_COMPACTION_THRESHOLD};
pub use hooks::{AfterToolCall, BeforeToolCall, Decision, PendingCall};
pub use streaming::StreamingToolRunner;
pub use tool_search::ToolSearch;
pub(crate) use tool_search::with_defer_loading;
pub use turn::Turn;

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::{Stream, StreamExt};
use tracing::Instrument;

use crate::client::Client;
use crate::error::Error;
use crate::toolset::Toolset;
use crate::types::{Message, MessageParam, MessageParams};
use dispatch::Dispatcher;
use lifecycle::{Action, Lifecycle};

/// The number of requests a runner sends unless told otherwise.
pub const DEFAULT_MAX_ITERATIONS: usize = 50;

/// The number of tool calls of one turn that run at once unless told otherwise.
pub const DEFAULT_TOOL_CONCURRENCY: usize = 16;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Client {
    /// A runner that carries on the conversation in `params`, running the
    /// tools of `toolset` whenever the model asks, until the model is done.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use toolrunner::{tool, toolset, Client, MessageParams};
    ///
    /// /// Add two integers.
    /// #[tool]
    /// fn add(a: i64, b: i64) -> i64 {
    ///     a + b
    /// }
    ///
    /// # async fn run() -> Result<(), toolrunner::Error> {
    /// let client = Client::from_env()?;
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("What is 2 + 40?");
    /// let mut runner = client.tool_runner(params, toolset![add]).max_iterations(10);
    /// while let Some(message) = runner.next().await {
    ///     println!("{}", message?.text());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn tool_runner(&self, params: MessageParams, toolset: Toolset) -> ToolRunner {
        ToolRunner::new(self.clone(), params, toolset)
    }
}

/// Runs the agentic loop: a [`Stream`] of the model's messages, one per request.
///
/// Each iteration:
///
/// 1. The runner sends the request with its current state and yields the response.
/// 2. Your loop body runs. It may read the message and change the state.
/// 3. Unless the body took over the history, the runner appends the
///    assistant message, then runs its tools and appends one user message
///    answering every `tool_use`, in call order. Without tool calls the
///    loop ends.
/// 4. If the body took over (with [`push_messages`](Self::push_messages),
///    [`set_messages`](Self::set_messages) or [`params_mut`](Self::params_mut)),
///    nothing is appended: the body's state is sent unchanged. Appending a
///    plain message while tools are pending is therefore safe: the pending
///    calls are dropped with the turn, not answered forever.
///
/// Stop reasons: `tool_use` runs tools; `pause_turn` and `compaction` send
/// the turn back as it is, with no tool run; every other stop reason ends the
/// loop, and its `tool_use` blocks are never run.
///
/// The stream ends after a message without tool calls. Errors are yielded
/// as they happen: after a request error the stream may be polled again to
/// resend the same request. Reaching [`max_iterations`](Self::max_iterations)
/// is yielded as an error ([`Error::is_max_iterations`]) and ends the stream.
///
/// Dropping the runner cancels it: the request in flight and running async
/// tools are dropped, and every tool's [`ToolCall::cancellation`](crate::ToolCall::cancellation)
/// token is cancelled (synchronous tools already on the blocking pool run to
/// their end, but their results are discarded).
#[must_use = "a runner does nothing until it is polled"]
pub struct ToolRunner {
    client: Client,
    core: Lifecycle,
    dispatcher: Dispatcher,
    /// The action being carried out.
    phase: Phase,
    span: tracing::Span,
}

/// What the plain runner is waiting for.
enum Phase {
    Idle,
    Compacting(BoxFuture<Result<Message, Error>>),
    Sending(BoxFuture<Result<Message, Error>>),
    RunningTools(BoxFuture<MessageParam>),
}

impl ToolRunner {
    fn new(client: Client, params: MessageParams, toolset: Toolset) -> Self {
        let core = Lifecycle::new(params, toolset);
        let span = core.span().clone();
        ToolRunner {
            client,
            core,
            dispatcher: Dispatcher::new(DEFAULT_TOOL_CONCURRENCY),
            phase: Phase::Idle,
            span,
        }
    }

    /// Finishes the current turn: nothing to do, since a plain runner
    /// yields only complete messages, and no call starts early.
    #[allow(clippy::unused_async)]
    async fn settle_turn(&mut self) -> Result<HashMap<String, dispatch::Early>, Error> {
        Ok(HashMap::new())
    }

    /// Streams each turn: see [`StreamingToolRunner`].
    pub fn streaming(self) -> StreamingToolRunner {
        StreamingToolRunner::new(self.client, self.core, self.dispatcher, self.span)
    }

    /// Runs the loop to its end and returns the model's last message.
    ///
    /// # Errors
    ///
    /// The first error the loop meets: a request that failed after its
    /// retries, or the iteration limit.
    pub async fn until_done(mut self) -> Result<Message, Error> {
        let mut last = None;
        while let Some(message) = self.next().await {
            last = Some(message?);
        }
        last.ok_or_else(|| self.core.limit_error())
    }
}

impl ToolRunner {
    shared::shared_runner_methods!();
}

/// Runs the current turn's calls, if they have not run, and hands the
/// results to the lifecycle.
async fn run_pending_tools(
    core: &mut Lifecycle,
    dispatcher: &Dispatcher,
    early: HashMap<String, dispatch::Early>,
) {
    if let Some(calls) = core.calls_to_run() {
        let run = dispatcher.run(core.toolset(), calls, core.code_version(), early);
        core.on_tool_results(run.await);
    }
}

impl Stream for ToolRunner {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let span = this.span.clone();
        let _entered = span.enter();
        loop {
            match &mut this.phase {
                Phase::Sending(request) => {
                    let result = ready!(request.as_mut().poll(cx));
                    this.phase = Phase::Idle;
                    match result {
                        Ok(message) => {
                            this.core.on_response(message.clone());
                            return Poll::Ready(Some(Ok(message)));
                        }
                        Err(error) => {
                            // `None`: a thread the server rejected; the next
                            // action sends the turn again, as it says.
                            if let Some(error) = this.core.on_send_error(error) {
                                return Poll::Ready(Some(Err(error)));
                            }
                        }
                    }
                }
                Phase::Compacting(summary) => {
                    let result = ready!(summary.as_mut().poll(cx));
                    this.phase = Phase::Idle;
                    match result {
                        Ok(summary) => this.core.on_summary(&summary),
                        Err(error) => {
                            if let Action::Fail(error) = this.core.on_summary_error(error) {
                                return Poll::Ready(Some(Err(error)));
                            }
                        }
                    }
                }
                Phase::RunningTools(tools) => {
                    let response = ready!(tools.as_mut().poll(cx));
                    this.phase = Phase::Idle;
                    this.core.on_tool_results(response);
                }
                Phase::Idle => match this.core.next_action() {
                    Action::Finish => return Poll::Ready(None),
                    Action::Fail(error) => return Poll::Ready(Some(Err(error))),
                    Action::RunTools(calls) => {
                        let core = &this.core;
                        let run = this.dispatcher.run(
                            core.toolset(),
                            calls,
                            core.code_version(),
                            HashMap::new(),
                        );
                        this.phase = Phase::RunningTools(Box::pin(run));
                    }
                    Action::Send(request) => {
                        let client = this.client.clone();
                        let span = this.core.request_span();
                        this.phase = Phase::Sending(Box::pin(
                            async move { client.complete(&request).await }.instrument(span),
                        ));
                    }
                    Action::Compact(request) => {
                        let client = this.client.clone();
                        let span = this.core.request_span();
                        this.phase = Phase::Compacting(Box::pin(
                            async move { client.complete(&request).await }.instrument(span),
                        ));
                    }
                },
            }
        }
    }
}

impl fmt::Debug for ToolRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolRunner")
            .field("model", &self.core.params().model)
            .field("messages", &self.core.params().messages.len())
            .field("toolset", self.core.toolset())
            .field("iterations", &self.core.iterations())
            .field("max_iterations", &self.core.max_iterations())
            .field("finished", &self.core.is_finished())
            .finish_non_exhaustive()
    }
}
