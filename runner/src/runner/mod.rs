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
mod batch;
mod caching;
mod compaction;
mod compaction_split;
mod conversation;
pub(crate) mod dispatch;
mod fallback;
mod hooks;
pub(crate) mod lifecycle;
mod log;
mod message_thread;
mod mode;
pub(crate) mod open_telemetry;
mod parsed;
mod programmatic;
mod request;
mod shared;
mod state;
mod store;
mod streaming;
mod structured;
pub(crate) mod telemetry;
pub(crate) mod thread;
mod tool_changes;
mod tool_search;
mod turn;

pub use artifacts::Artifacts;
pub use batch::{
    BatchEvent, BatchReport, BatchRunner, DEFAULT_BATCH_RETRIES, DEFAULT_RUNS_AT_ONCE, Progress,
    RunOutcome, RunReport,
};
pub use compaction::{Compaction, DEFAULT_COMPACTION_PROMPT, DEFAULT_COMPACTION_THRESHOLD};
pub use hooks::{AfterToolCall, BeforeToolCall, Decision, PendingCall};
pub use message_thread::{MessageThread, ThreadStream};
pub use mode::{Messages, Mode, Turns};
pub use open_telemetry::{DEFAULT_MAX_CONTENT_BYTES, Telemetry};
pub use parsed::{ParsedMessage, ParsedStream};
pub use shared::ToolRunner;
pub use state::RunState;
pub use store::{FileStore, RunId, RunStore, StoreFuture};
pub use streaming::StreamingToolRunner;
pub use tool_search::ToolSearch;
pub use turn::Turn;

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use tracing::Instrument;

use crate::client::Client;
use crate::error::Error;
use crate::toolset::Toolset;
use crate::types::{Message, MessageParams};
use dispatch::{Dispatcher, Outcome};
use lifecycle::{Action, Lifecycle, Received};

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
        let mut core = Lifecycle::new_in(params, toolset, self.telemetry());
        if !thread::offered_by(self) {
            core.set_message_threads(false);
        }
        core.set_caching_target(caching::target_of(self));
        ToolRunner::from_core(self.clone(), core)
    }

    /// A runner that goes on with a run kept as a [`RunState`], running the
    /// tools of `toolset`: calls that finished are not run again, and the
    /// next request is the one the run would have sent (on the same message
    /// thread). Call [`streaming`](ToolRunner::streaming) on it to stream.
    ///
    /// The state keeps data, not code: set the hooks, compaction and tool
    /// concurrency again, and [`checkpoint`](ToolRunner::checkpoint) to go
    /// on keeping the run. The iteration limit and the message-thread,
    /// tool-search and code-execution settings come from the state; a run
    /// that stopped at its limit goes on under a higher
    /// [`max_iterations`](ToolRunner::max_iterations): the last turn's
    /// calls run, then the next request goes out.
    ///
    /// When a human approved or denied deferred calls on the state
    /// ([`RunState::approve`], [`RunState::deny`]), the runner first
    /// yields the turn that made them again (a streaming runner: a
    /// [`Turn`] with no events, whose [`message`](Turn::message) is that
    /// turn), so that [`tool_results`](ToolRunner::tool_results) reports
    /// what came of the decided calls, as after any turn; the next request
    /// follows.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use toolrunner::{toolset, Client, FileStore, RunId, RunStore};
    ///
    /// # async fn run() -> Result<(), toolrunner::Error> {
    /// let client = Client::from_env()?;
    /// let store = FileStore::new("runs");
    /// let run = RunId::new("order-7")?;
    /// if let Some(state) = store.load(&run).await? {
    ///     let mut runner = client.resume(state, toolset![])?.checkpoint(store, run);
    ///     while let Some(message) = runner.next().await {
    ///         println!("{}", message?.text());
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// A run-state error ([`Error::is_run_state`]) when `toolset` lacks a
    /// tool the run declared or runs, naming it.
    pub fn resume(&self, state: RunState, toolset: Toolset) -> Result<ToolRunner, Error> {
        let mut core = Lifecycle::restore_in(state, toolset, self.telemetry())?;
        if !thread::offered_by(self) {
            core.set_message_threads(false);
        }
        core.set_caching_target(caching::target_of(self));
        let mut runner = ToolRunner::from_core(self.clone(), core);
        // The turn a human decided about is shown again, so that the
        // results of its calls, run now, have their message: `tool_results`
        // after the first `next` reports them.
        if let Some(decided) = runner.core.decided_turn() {
            runner.mode.phase = Phase::Yielding(Box::new(decided.clone()));
        }
        Ok(runner)
    }
}

/// What the plain runner is waiting for.
pub(super) enum Phase {
    Idle,
    Compacting(BoxFuture<Result<Message, Error>>),
    Sending(BoxFuture<Result<Message, Error>>),
    /// What came of each call, as each finishes.
    RunningTools(BoxStream<'static, Outcome>),
    /// Saving a checkpoint; then going on as `then` says.
    Saving {
        save: BoxFuture<Result<(), Error>>,
        then: AfterSave,
    },
    /// A message to yield, saved first.
    Yielding(Box<Message>),
}

/// What a runner does once a checkpoint is saved.
pub(super) enum AfterSave {
    /// Yield the message it followed.
    Yield(Box<Message>),
    /// Go on with the turn's calls.
    RunTools(BoxStream<'static, Outcome>),
    /// Go on to the next action.
    GoOn,
}

impl ToolRunner<Messages> {
    fn from_core(client: Client, core: Lifecycle) -> Self {
        let span = core.span().clone();
        let mut dispatcher = Dispatcher::new(DEFAULT_TOOL_CONCURRENCY);
        dispatcher.recording = core.recording();
        ToolRunner {
            client,
            core,
            dispatcher,
            span,
            mode: Messages { phase: Phase::Idle },
        }
    }

    /// Saves the run's [`RunState`] in `store` as `run` after every model
    /// response (compaction summaries included), every finished (or
    /// deferred) tool call, and once more when the run is over
    /// ([`RunState::is_finished`]), so that a
    /// process that dies can be replaced by one that goes on with
    /// [`Client::resume`] from the last checkpoint. A failed save is
    /// yielded as an error ([`Error::is_store`] or [`Error::is_io`]); the
    /// run goes on when polled again. Set it before
    /// [`streaming`](Self::streaming) to checkpoint a streamed run (after
    /// each turn is read to its end).
    ///
    /// What can run twice: only a tool call the process died in the middle
    /// of, after the call began and before the checkpoint that follows it.
    /// Such a call runs again on resume with the same
    /// [`ToolCall::idempotency_key`](crate::ToolCall::idempotency_key)
    /// (`<run id>:<tool_use id>`), which a tool with side effects uses to
    /// do them once. A model request the process died waiting for is sent
    /// again; one whose response was saved never is.
    ///
    /// The README's example: a run that goes on where another process
    /// left it, with refunds held for a human.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use toolrunner::{tool, toolset, Client, Decision, FileStore, MessageParams, PendingCall, RunId, RunStore, ToolCall};
    ///
    /// /// Refund an order.
    /// #[tool]
    /// async fn refund(call: ToolCall, order: u32) -> String {
    ///     // Hand the key to the payment API: a call run twice refunds once.
    ///     let key = call.idempotency_key().unwrap_or(call.id());
    ///     format!("refunded order {order} (idempotency key {key})")
    /// }
    ///
    /// async fn run(client: Client) -> Result<(), toolrunner::Error> {
    ///     let store = FileStore::new("runs");
    ///     let run = RunId::new("order-7")?;
    ///     let runner = match store.load(&run).await? {
    ///         // Another process got this far: go on where it stopped.
    ///         Some(state) => client.resume(state, toolset![refund])?,
    ///         None => {
    ///             let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("Refund order 7.");
    ///             client.tool_runner(params, toolset![refund])
    ///         }
    ///     };
    ///     let mut runner = runner
    ///         .before_tool_call(|call: PendingCall| async move {
    ///             if call.name == "refund" { Decision::Defer } else { Decision::Allow }
    ///         })
    ///         .checkpoint(store.clone(), run.clone());
    ///     while let Some(message) = runner.next().await {
    ///         println!("{}", message?.text());
    ///     }
    ///     for call in runner.pending_approvals() {
    ///         println!("waiting for a human: {} {}", call.name, call.input);
    ///     }
    ///     Ok(())
    /// }
    ///
    /// // A human approves later, from anywhere that reaches the store.
    /// async fn approve(store: FileStore, run: RunId) -> Result<(), toolrunner::Error> {
    ///     let Some(mut state) = store.load(&run).await? else { return Ok(()) };
    ///     for call in state.pending_approvals() {
    ///         state.approve(&call.id)?; // or state.deny(&call.id, "why not")?
    ///     }
    ///     store.save(&run, &state).await
    /// }
    /// ```
    pub fn checkpoint(mut self, store: impl RunStore, run: RunId) -> Self {
        self.dispatcher.checkpoint = Some(store::Checkpoint {
            store: Arc::new(store),
            run,
        });
        self
    }

    /// Streams each turn: see [`StreamingToolRunner`].
    pub fn streaming(self) -> StreamingToolRunner {
        // A decided turn a resumed runner was to show first is the
        // streaming runner's first turn.
        let kept = match self.mode.phase {
            Phase::Yielding(message) => Some(message),
            _ => None,
        };
        ToolRunner {
            client: self.client,
            core: self.core,
            dispatcher: self.dispatcher,
            span: self.span,
            mode: Turns {
                turn: None,
                early: HashMap::new(),
                kept,
                early_start: false,
            },
        }
    }

    /// Runs the loop to its end and returns the model's last message: its
    /// answer.
    ///
    /// A run that stops short of an answer is an error, so that `?` never
    /// passes a turn asking for tools off as the answer: at the iteration
    /// limit, and when calls a before-call hook deferred wait for a human
    /// ([`Error::is_awaiting_approval`]). That error carries the waiting
    /// calls and the run's state to decide on and resume, since the runner
    /// is gone. An error rather than an `Ok` with a status: a caller that
    /// never defers has nothing new to match, and one that does cannot
    /// miss it. (The runner's stream itself just ends there; ask
    /// [`pending_approvals`](Self::pending_approvals).)
    ///
    /// # Errors
    ///
    /// The first error the loop meets: a request that failed after its
    /// retries, or the iteration limit; or calls waiting for approval.
    pub async fn until_done(mut self) -> Result<Message, Error> {
        let mut last = None;
        while let Some(message) = self.next().await {
            last = Some(message?);
        }
        self.core.outcome(last)
    }
}

/// Runs the current turn's calls that have not run, hands what came of
/// each to the lifecycle, and saves a checkpoint after each when the
/// runner keeps one. A failed save does not stop the calls: the first
/// such error is returned once they are done.
pub(super) async fn run_pending_tools(
    core: &mut Lifecycle,
    dispatcher: &Dispatcher,
    early: HashMap<String, dispatch::Early>,
) -> Result<(), Error> {
    let Some(batch) = core.batch() else {
        // Every call may have finished before a state was kept, with the
        // results not yet put together: do that now.
        core.on_calls_done();
        return Ok(());
    };
    let mut outcomes = dispatcher.run(
        core.toolset(),
        batch,
        core.code_version(),
        early,
        core.span(),
    );
    let mut failed = None;
    while let Some(outcome) = outcomes.next().await {
        core.on_call(outcome);
        if let Some(checkpoint) = &dispatcher.checkpoint
            && let Err(error) = checkpoint.save(core.state()).await
        {
            failed.get_or_insert(error);
        }
    }
    core.on_calls_done();
    failed.map_or(Ok(()), Err)
}

impl Stream for ToolRunner<Messages> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let span = this.span.clone();
        let _entered = span.enter();
        loop {
            match &mut this.mode.phase {
                Phase::Sending(request) => {
                    let result = ready!(request.as_mut().poll(cx));
                    this.mode.phase = Phase::Idle;
                    match result {
                        Ok(message) => {
                            // A refused turn a fallback model takes over is
                            // not shown, as the SDK's middleware hides it.
                            // It is kept, though: it was paid for, and a
                            // run resumed from here must go on with the
                            // next model and its credit token.
                            if this.core.on_response(message.clone()) == Received::FellBack {
                                if let Some(save) = this.save() {
                                    this.mode.phase = Phase::Saving {
                                        save,
                                        then: AfterSave::GoOn,
                                    };
                                }
                                continue;
                            }
                            let message = Box::new(message);
                            match this.save() {
                                Some(save) => {
                                    this.mode.phase = Phase::Saving {
                                        save,
                                        then: AfterSave::Yield(message),
                                    }
                                }
                                None => return Poll::Ready(Some(Ok(*message))),
                            }
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
                    this.mode.phase = Phase::Idle;
                    match result {
                        Ok(summary) => {
                            this.core.on_summary(&summary);
                            // A summary is paid for like a turn: kept too.
                            if let Some(save) = this.save() {
                                this.mode.phase = Phase::Saving {
                                    save,
                                    then: AfterSave::GoOn,
                                };
                            }
                        }
                        Err(error) => {
                            if let Action::Fail(error) = this.core.on_summary_error(error) {
                                return Poll::Ready(Some(Err(error)));
                            }
                        }
                    }
                }
                Phase::RunningTools(outcomes) => match ready!(outcomes.poll_next_unpin(cx)) {
                    Some(outcome) => {
                        this.core.on_call(outcome);
                        if let Some(save) = this.save()
                            && let Phase::RunningTools(outcomes) =
                                std::mem::replace(&mut this.mode.phase, Phase::Idle)
                        {
                            this.mode.phase = Phase::Saving {
                                save,
                                then: AfterSave::RunTools(outcomes),
                            };
                        }
                    }
                    None => {
                        this.mode.phase = Phase::Idle;
                        this.core.on_calls_done();
                    }
                },
                Phase::Saving { save, .. } => {
                    let saved = ready!(save.as_mut().poll(cx));
                    if let Phase::Saving { then, .. } =
                        std::mem::replace(&mut this.mode.phase, Phase::Idle)
                    {
                        this.mode.phase = match then {
                            AfterSave::Yield(message) => Phase::Yielding(message),
                            AfterSave::RunTools(outcomes) => Phase::RunningTools(outcomes),
                            AfterSave::GoOn => Phase::Idle,
                        };
                    }
                    // The error first; the message or the calls follow when
                    // polled again, so that nothing is lost.
                    if let Err(error) = saved {
                        return Poll::Ready(Some(Err(error)));
                    }
                }
                Phase::Yielding(_) => {
                    if let Phase::Yielding(message) =
                        std::mem::replace(&mut this.mode.phase, Phase::Idle)
                    {
                        return Poll::Ready(Some(Ok(*message)));
                    }
                }
                Phase::Idle => match this.core.next_action() {
                    Action::Finish => {
                        // The end is kept too, so that the store says the
                        // run is over.
                        if this.core.take_end_to_keep()
                            && let Some(save) = this.save()
                        {
                            this.mode.phase = Phase::Saving {
                                save,
                                then: AfterSave::GoOn,
                            };
                            continue;
                        }
                        return Poll::Ready(None);
                    }
                    Action::Fail(error) => return Poll::Ready(Some(Err(error))),
                    Action::RunTools(batch) => {
                        let core = &this.core;
                        let run = this.dispatcher.run(
                            core.toolset(),
                            batch,
                            core.code_version(),
                            HashMap::new(),
                            core.span(),
                        );
                        this.mode.phase = Phase::RunningTools(run);
                    }
                    Action::Send(request) => {
                        let client = this.client.clone();
                        let span = this.core.request_span();
                        this.mode.phase = Phase::Sending(Box::pin(
                            async move { client.complete(&request).await }.instrument(span),
                        ));
                    }
                    Action::Compact(request) => {
                        let client = this.client.clone();
                        let span = this.core.request_span();
                        this.mode.phase = Phase::Compacting(Box::pin(
                            async move { client.complete(&request).await }.instrument(span),
                        ));
                    }
                },
            }
        }
    }
}

impl ToolRunner<Messages> {
    /// The save of the state as it stands, when the runner checkpoints.
    fn save(&self) -> Option<BoxFuture<Result<(), Error>>> {
        let checkpoint = self.dispatcher.checkpoint.as_ref()?;
        Some(checkpoint.save(self.core.state()))
    }
}

impl<M: Mode> fmt::Debug for ToolRunner<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolRunner")
            .field("mode", &self.mode)
            .field("model", &self.core.params().model)
            .field("messages", &self.core.params().messages.len())
            .field("toolset", self.core.toolset())
            .field("iterations", &self.core.iterations())
            .field("max_iterations", &self.core.max_iterations())
            .field("finished", &self.core.is_finished())
            .finish_non_exhaustive()
    }
}
