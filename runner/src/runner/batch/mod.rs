//! [`BatchRunner`]: many agent runs advanced together through the Message
//! Batches API, at batch prices.
//!
//! Another thin driver of the same loop core as
//! [`ToolRunner`](crate::ToolRunner): each run is a
//! [`Lifecycle`](super::lifecycle::Lifecycle) that says what to do next.
//! Where the plain runner sends a request, the batch runner puts it into
//! the round's batch with every other run's; where it runs tools, the
//! batch runner runs them the same way (the runner's dispatcher, hooks
//! and checkpoints). The rounds are told in order in `fleet.rs`.

mod api;
mod client_api;
mod event;
mod fleet;
mod member;
mod record;
mod report;
mod setup;

#[cfg(test)]
mod tests;

pub use event::{BatchEvent, Progress};
pub(crate) use record::BatchRecord;
pub use report::{BatchReport, RunOutcome, RunReport};
pub use setup::{DEFAULT_BATCH_RETRIES, DEFAULT_RUNS_AT_ONCE};

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_util::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::error::Error;
use crate::runner::{RunId, RunStore};
use crate::toolset::Toolset;
use crate::types::MessageParams;

use api::BatchApi;
use fleet::{Fleet, Phase};
use setup::Setup;

const _: () = {
    const fn assert_send<T: Send + 'static>() {}
    assert_send::<BatchRunner>();
};

type Step = Pin<Box<dyn Future<Output = (Box<Fleet>, Result<Vec<BatchEvent>, Error>)> + Send>>;

/// Many agent runs advanced together through the Message Batches API: a
/// [`Stream`] of [`BatchEvent`]s.
///
/// Each round puts every unfinished run's next request into one batch,
/// polls it until it ends (with a growing delay), hands each result to its
/// run, runs the tools the model asked for here (each run's calls
/// concurrently, [`runs_at_once`](Self::runs_at_once) runs at a time,
/// with the hooks and approvals of a [`ToolRunner`](crate::ToolRunner)),
/// and starts the next round. Runs that finish leave; the others go on.
///
/// - **Durable** with a [`store`](Self::store): every run is a
///   [`RunState`](crate::RunState), saved after each result, each tool
///   call and at its end, with the id of the batch its request is in. A
///   process that dies while a batch processes is replaced by one that
///   polls that batch: its requests are never submitted again, and a run
///   whose result was kept never sends that request again. Tool calls
///   carry idempotency keys (`<run id>:<tool_use id>`). The one window:
///   killed after the API created a batch and before the runs' states
///   said so, the requests go out again in a new batch.
/// - **Retries**: a request that errored or expired goes into the next
///   round, [`max_retries`](Self::max_retries) times in a row at most;
///   then that run fails with the error, and the others go on.
/// - **Cancelling** ([`cancel_token`](Self::cancel_token)) asks the API
///   to cancel the batch in flight; the results that came before it ended
///   are read and kept, and the stream ends. Resumed, the cancelled
///   requests go out again.
/// - **Progress**: runs done, running and failed, rounds, and usage so
///   far, in [`progress`](Self::progress) and in `tracing`; usage per run
///   in the [`BatchReport`]. Usage is the loop core's own
///   [`RunUsage`](crate::usage::RunUsage), as [`ToolRunner::usage`](crate::ToolRunner::usage)
///   and [`RunState::usage`](crate::RunState::usage) report it: turns and
///   compaction apart, summed over runs.
///
/// Message threads do not apply: a batch's request cannot continue a
/// server-held thread, so every request carries the whole conversation.
///
/// Errors are yielded as they happen (a failed save or API request); the
/// stream may be polled again to go on from the step that failed.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use toolrunner::{tool, toolset, BatchEvent, Client, FileStore, MessageParams, RunId};
///
/// /// Add two integers.
/// #[tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// # async fn run() -> Result<(), toolrunner::Error> {
/// let client = Client::from_env()?;
/// let mut fleet = client.batch_runner(toolset![add]).store(FileStore::new("runs"));
/// for i in 0..100 {
///     let params = MessageParams::new(toolrunner::models::CURRENT, 1024)
///         .user(format!("What is {i} + 42?"));
///     fleet = fleet.run(RunId::new(format!("sum-{i}"))?, params);
/// }
/// while let Some(event) = fleet.next().await {
///     if let BatchEvent::RoundEnded { round } = event? {
///         let p = fleet.progress();
///         println!("round {round}: {} done, {} running, {} failed", p.done, p.running, p.failed);
///     }
/// }
/// for run in fleet.into_report().runs {
///     println!("{}: {:?} ({} output tokens)", run.id, run.outcome, run.usage.total().output_tokens);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a batch runner does nothing until it is polled"]
pub struct BatchRunner {
    /// The runs, between steps; inside the step while one runs.
    fleet: Option<Box<Fleet>>,
    step: Option<Step>,
    /// Events of the last step, to yield.
    queue: VecDeque<BatchEvent>,
    /// Where the fleet stood after the last step.
    progress: Progress,
    cancel: CancellationToken,
    span: tracing::Span,
}

impl BatchRunner {
    /// A fleet of no runs yet, over `api`, running `toolset`'s tools.
    pub(crate) fn with_api(api: Arc<dyn BatchApi>, toolset: Toolset) -> Self {
        let cancel = CancellationToken::new();
        let fleet = Fleet {
            api,
            setup: Setup::new(toolset),
            members: Vec::new(),
            phase: Phase::Load(Vec::new()),
            rounds: 0,
            cancel: cancel.clone(),
        };
        BatchRunner {
            fleet: Some(Box::new(fleet)),
            step: None,
            queue: VecDeque::new(),
            progress: Progress::default(),
            cancel,
            span: tracing::info_span!("batch_runner"),
        }
    }

    /// Changes the settings; a fleet that started keeps the ones it had.
    fn set(mut self, change: impl FnOnce(&mut Fleet)) -> Self {
        match self.fleet.as_deref_mut() {
            Some(fleet) if matches!(fleet.phase, Phase::Load(_)) => change(fleet),
            _ => tracing::warn!("a batch runner's setting was changed after it started: ignored"),
        }
        self
    }

    /// Adds run `id`, starting from `params`. With a [`store`](Self::store)
    /// that holds a state for `id`, the run goes on from it instead (and
    /// `params` are not used): the same code starts a fleet and resumes it.
    ///
    /// Set before the runner is first polled, as every setting.
    pub fn run(self, id: RunId, params: MessageParams) -> Self {
        self.set(|fleet| {
            if let Phase::Load(runs) = &mut fleet.phase {
                runs.push((id, params));
            }
        })
    }

    /// Keeps every run in `store`, as [`ToolRunner::checkpoint`](crate::ToolRunner::checkpoint)
    /// does, with the id of the batch its request is in; runs found in it
    /// go on from there.
    pub fn store(self, store: impl RunStore) -> Self {
        let store: Arc<dyn RunStore> = Arc::new(store);
        self.set(|fleet| fleet.setup.store = Some(store))
    }

    /// Sets each run's iteration limit (default
    /// [`DEFAULT_MAX_ITERATIONS`](crate::DEFAULT_MAX_ITERATIONS); a
    /// resumed run keeps its own unless this is set). A run at its limit
    /// fails; the others go on.
    pub fn max_iterations(self, max: usize) -> Self {
        self.set(|fleet| fleet.setup.max_iterations = Some(max))
    }

    /// Compacts each run's conversation as it grows, as
    /// [`ToolRunner::compaction`](crate::ToolRunner::compaction) does: a
    /// client-side summary request goes into the round's batch like any
    /// other request (its usage counts too); server-side compaction rides
    /// on the run's requests.
    pub fn compaction(self, compaction: crate::Compaction) -> Self {
        self.set(|fleet| fleet.setup.compaction = Some(compaction))
    }

    /// Sets how many of one run's tools run at once (default
    /// [`DEFAULT_TOOL_CONCURRENCY`](crate::DEFAULT_TOOL_CONCURRENCY); at
    /// least 1), whoever called them, as
    /// [`ToolRunner::tool_concurrency`](crate::ToolRunner::tool_concurrency)
    /// does.
    pub fn tool_concurrency(self, n: usize) -> Self {
        self.set(|fleet| fleet.setup.tool_concurrency = n.max(1))
    }

    /// Sets how many runs run their tools (and load and save) at once
    /// (default [`DEFAULT_RUNS_AT_ONCE`]; at least 1): at most
    /// `runs_at_once` × [`tool_concurrency`](Self::tool_concurrency)
    /// calls run at a time.
    pub fn runs_at_once(self, n: usize) -> Self {
        self.set(|fleet| fleet.setup.runs_at_once = n.max(1))
    }

    /// Sets how many times in a row a run's request may error or expire
    /// and go into the next round (default [`DEFAULT_BATCH_RETRIES`]);
    /// past that the run fails with the error.
    pub fn max_retries(self, retries: u32) -> Self {
        self.set(|fleet| fleet.setup.max_retries = retries)
    }

    /// Sets how each batch is polled: the first delay, doubling up to the
    /// longest, and the bound on the wait (by default 5 s, 60 s and 25
    /// hours, as [`Polling::default`](crate::Polling::default): the API ends
    /// every batch within 24). Past the bound, the stream yields an
    /// [`Error::is_batch_not_ended`](crate::Error::is_batch_not_ended)
    /// error naming the batch; polling the stream again waits on.
    ///
    /// ```
    /// use std::time::Duration;
    /// use toolrunner::{Client, Polling, toolset};
    ///
    /// # fn f(client: Client) {
    /// let fleet = client
    ///     .batch_runner(toolset![])
    ///     .polling(Polling::default().delays(Duration::from_secs(30), Duration::from_secs(600)));
    /// # }
    /// ```
    pub fn polling(self, polling: crate::Polling) -> Self {
        self.set(|fleet| fleet.setup.polling = polling)
    }

    /// Runs `hook` before each tool call of every run, as
    /// [`ToolRunner::before_tool_call`](crate::ToolRunner::before_tool_call)
    /// does; a call it defers stops its run, waiting for a human
    /// ([`RunOutcome::AwaitingApproval`]).
    pub fn before_tool_call(self, hook: impl crate::BeforeToolCall) -> Self {
        let hook: Arc<dyn crate::BeforeToolCall> = Arc::new(hook);
        self.set(|fleet| fleet.setup.before = Some(hook))
    }

    /// Runs `hook` after each tool call of every run, as
    /// [`ToolRunner::after_tool_call`](crate::ToolRunner::after_tool_call) does.
    pub fn after_tool_call(self, hook: impl crate::AfterToolCall) -> Self {
        let hook: Arc<dyn crate::AfterToolCall> = Arc::new(hook);
        self.set(|fleet| fleet.setup.after = Some(hook))
    }

    /// Whether spans record message contents and tool arguments and
    /// results, as [`ToolRunner::record_content`](crate::ToolRunner::record_content).
    pub fn record_content(self, record: bool) -> Self {
        self.set(|fleet| fleet.setup.record_content = record)
    }

    /// A token that cancels the fleet: the API is asked to cancel the
    /// batch in flight, the results it did process are read and kept,
    /// and the stream ends. A fleet resumed later submits the cancelled
    /// requests again.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Where the fleet stands: runs done, running and failed, rounds, and
    /// usage summed over every run so far.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// Drives the fleet to its end and returns the report.
    ///
    /// # Errors
    ///
    /// The first error the stream yields (a failed save or API request);
    /// the runs are kept in the store as far as they got.
    pub async fn until_done(mut self) -> Result<BatchReport, Error> {
        while let Some(event) = self.next().await {
            event?;
        }
        Ok(self.into_report())
    }

    /// Every run's outcome, usage and state, once the stream ended (before,
    /// runs still going are [`RunOutcome::Unfinished`]; while a step is
    /// being carried out, its runs are not in the report).
    pub fn into_report(self) -> BatchReport {
        let runs = self
            .fleet
            .map(|fleet| fleet.members.into_iter().map(RunReport::of).collect())
            .unwrap_or_default();
        BatchReport {
            runs,
            progress: self.progress,
        }
    }
}

impl Stream for BatchRunner {
    type Item = Result<BatchEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.queue.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            if let Some(step) = &mut this.step {
                let (fleet, outcome) = ready!(step.as_mut().poll(cx));
                this.step = None;
                this.progress = fleet.progress();
                this.fleet = Some(fleet);
                let p = this.progress;
                tracing::info!(parent: &this.span, done = p.done, running = p.running, failed = p.failed,
                    awaiting_approval = p.awaiting_approval, rounds = p.rounds,
                    input_tokens = p.usage.total().total_input_tokens(), output_tokens = p.usage.total().output_tokens,
                    "batch fleet progress");
                match outcome {
                    Ok(events) => this.queue.extend(events),
                    Err(error) => return Poll::Ready(Some(Err(error))),
                }
                continue;
            }
            let Some(mut fleet) = this.fleet.take() else {
                return Poll::Ready(None);
            };
            if fleet.is_done() {
                this.fleet = Some(fleet);
                return Poll::Ready(None);
            }
            this.step = Some(Box::pin(
                async move {
                    let outcome = fleet.step().await;
                    (fleet, outcome)
                }
                .instrument(this.span.clone()),
            ));
        }
    }
}

impl fmt::Debug for BatchRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchRunner")
            .field("progress", &self.progress)
            .field("stepping", &self.step.is_some())
            .finish_non_exhaustive()
    }
}
