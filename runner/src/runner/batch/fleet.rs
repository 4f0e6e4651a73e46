//! The fleet: every run of a [`BatchRunner`](super::BatchRunner), and the
//! rounds that advance them together. Each call to [`Fleet::step`] carries
//! out one phase of a round and returns what happened:
//!
//! 1. **Load** (once): each run's state is loaded from the store, or the
//!    run starts from its parameters. A batch some runs have in flight
//!    is waited for (step 3), never submitted again.
//! 2. **Prepare**: every running run carries out its core's actions up to
//!    its next request: the last turn's tools run first (concurrently,
//!    with the hooks, a checkpoint after each call). Runs that end leave.
//!    Every request goes into one batch, and as soon as the API created
//!    it each run keeps the batch id and its `custom_id` in its state.
//! 3. **Wait**: the batch is polled, with a growing delay, until it ends;
//!    a cancelled fleet asks the API to cancel it, and waits on.
//! 4. **Read**: each result goes to its run's core as it is read (a
//!    reply, or an error that sends the request into the next round), and
//!    the run is saved. Back to step 2; a cancelled fleet stops here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, FuturesUnordered};
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::runner::dispatch::Dispatcher;
use crate::runner::lifecycle::Lifecycle;
use crate::runner::store::Checkpoint;
use crate::runner::{RunId, RunState, RunStore};
use crate::types::MessageParams;

use super::api::{BatchApi, Item, ItemResult};
use super::event::{BatchEvent, Progress};
use super::member::{Member, Status};
use super::setup::Setup;

/// Every run, and where the rounds stand.
pub(super) struct Fleet {
    pub(super) api: Arc<dyn BatchApi>,
    pub(super) setup: Setup,
    pub(super) members: Vec<Member>,
    pub(super) phase: Phase,
    /// Rounds submitted by this fleet.
    pub(super) rounds: u32,
    pub(super) cancel: CancellationToken,
}

/// The phase the next step carries out.
pub(super) enum Phase {
    /// Load these runs, or start them from their parameters.
    Load(Vec<(RunId, MessageParams)>),
    Prepare,
    Wait {
        batch_id: String,
        /// Polls made so far.
        polls: u32,
        since: Instant,
        /// Whether the API was asked to cancel the batch.
        cancel_sent: bool,
    },
    Read {
        batch_id: String,
    },
    Done,
}

impl Fleet {
    /// Carries out the next phase.
    ///
    /// # Errors
    ///
    /// A failed load, save or API request. The fleet stays in the phase
    /// that failed (what came before it is kept), so that the next step
    /// tries it again.
    pub(super) async fn step(&mut self) -> Result<Vec<BatchEvent>, Error> {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Load(runs) => self.load(runs).await,
            Phase::Prepare => self.prepare().await,
            Phase::Wait {
                batch_id,
                polls,
                since,
                cancel_sent,
            } => self.wait(batch_id, polls, since, cancel_sent).await,
            Phase::Read { batch_id } => self.read(batch_id).await,
            Phase::Done => Ok(Vec::new()),
        }
    }

    pub(super) fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Where the runs stand.
    pub(super) fn progress(&self) -> Progress {
        let mut progress = Progress {
            rounds: self.rounds,
            ..Progress::default()
        };
        for member in &self.members {
            match member.status {
                Status::Running => progress.running += 1,
                Status::Done => progress.done += 1,
                Status::AwaitingApproval => progress.awaiting_approval += 1,
                Status::Failed(_) => progress.failed += 1,
            }
            progress.usage += member.core.usage();
        }
        progress
    }

    async fn load(&mut self, runs: Vec<(RunId, MessageParams)>) -> Result<Vec<BatchEvent>, Error> {
        // Two runs of one id would share a state in the store, and each
        // overwrite the other's.
        let mut ids = std::collections::HashSet::new();
        if let Some((twice, _)) = runs.iter().find(|(id, _)| !ids.insert(id)) {
            return Err(Error::invalid_request(format!(
                "run `{twice}` was added to the batch runner twice"
            )));
        }
        let loads: Vec<BoxFuture<'static, Result<Option<RunState>, Error>>> = runs
            .iter()
            .map(|(id, _)| {
                let (store, id) = (self.setup.store.clone(), id.clone());
                Box::pin(async move {
                    match store {
                        Some(store) => store.load(&id).await,
                        None => Ok(None),
                    }
                }) as BoxFuture<'static, _>
            })
            .collect();
        let states = in_order(loads, self.setup.runs_at_once).await;
        let mut members = Vec::with_capacity(runs.len());
        for ((id, params), state) in runs.iter().zip(states) {
            let core = match state {
                Ok(Some(state)) => {
                    Lifecycle::restore_in(state, self.setup.toolset.clone(), &self.setup.telemetry)
                }
                Ok(None) => Ok(Lifecycle::new_in(
                    params.clone(),
                    self.setup.toolset.clone(),
                    &self.setup.telemetry,
                )),
                Err(error) => Err(error),
            };
            match core {
                Ok(core) => members.push(member(&self.setup, id.clone(), core)),
                Err(error) => {
                    self.phase = Phase::Load(runs);
                    return Err(error);
                }
            }
        }
        self.members = members;
        Ok(self.after_read())
    }

    /// Prepares every running run's next request, then submits them all
    /// in one batch.
    async fn prepare(&mut self) -> Result<Vec<BatchEvent>, Error> {
        if self.cancel.is_cancelled() {
            return Ok(Vec::new());
        }
        let running: Vec<BoxFuture<'_, Result<Option<BatchEvent>, Error>>> = self
            .members
            .iter_mut()
            .filter(|m| m.is_running())
            .map(|m| Box::pin(m.prepare()) as BoxFuture<'_, _>)
            .collect();
        // In run order, so that the events of a step are too.
        let prepared = in_order(running, self.setup.runs_at_once).await;
        let mut events = Vec::new();
        let mut failed = None;
        for outcome in prepared {
            match outcome {
                Ok(event) => events.extend(event),
                Err(error) => {
                    failed.get_or_insert(error);
                }
            }
        }
        if let Some(error) = failed {
            // Runs that prepared keep their requests; the others go on
            // from their kept results.
            self.phase = Phase::Prepare;
            return Err(error);
        }
        self.submit(&mut events).await?;
        Ok(events)
    }

    /// Submits the prepared requests as one batch, and keeps its id in
    /// each run's state.
    async fn submit(&mut self, events: &mut Vec<BatchEvent>) -> Result<(), Error> {
        let ready: Vec<usize> = (0..self.members.len())
            .filter(|&i| self.members[i].next.is_some())
            .collect();
        if ready.is_empty() {
            return Ok(());
        }
        let items = ready
            .iter()
            .filter_map(|&i| {
                let (_, request) = self.members[i].next.as_ref()?;
                Some(Item {
                    custom_id: custom_id(i),
                    request: request.clone(),
                })
            })
            .collect();
        let batch_id = match self.api.create(items).await {
            Ok(id) => id,
            Err(error) => {
                self.phase = Phase::Prepare;
                return Err(error);
            }
        };
        self.rounds += 1;
        tracing::info!(
            round = self.rounds,
            batch_id,
            requests = ready.len(),
            "batch submitted"
        );
        for &i in &ready {
            self.members[i].submit(&batch_id, custom_id(i));
        }
        events.push(BatchEvent::Submitted {
            round: self.rounds,
            batch_id: batch_id.clone(),
            requests: ready.len(),
        });
        self.phase = Phase::Wait {
            batch_id,
            polls: 0,
            since: Instant::now(),
            cancel_sent: false,
        };
        // The batch exists: whatever happens to these saves, the fleet
        // waits for it. A run whose save failed keeps the id in memory,
        // and its next save carries it.
        let saves: Vec<_> = ready
            .iter()
            .filter_map(|&i| self.members[i].save())
            .collect();
        let saved = as_ready(saves, self.setup.runs_at_once).await;
        saved.into_iter().collect()
    }

    /// Waits for batch `batch_id` once, and polls it.
    async fn wait(
        &mut self,
        batch_id: String,
        polls: u32,
        since: Instant,
        mut cancel_sent: bool,
    ) -> Result<Vec<BatchEvent>, Error> {
        let mut events = Vec::new();
        // The first poll of a batch waits too: one just created has not ended.
        let delay = self.setup.polling.delay(polls.saturating_add(1));
        if !cancel_sent {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.cancel.cancelled() => {}
            }
        } else {
            tokio::time::sleep(delay).await;
        }
        let waiting = |cancel_sent| Phase::Wait {
            batch_id: batch_id.clone(),
            polls,
            since,
            cancel_sent,
        };
        if self.cancel.is_cancelled() && !cancel_sent {
            if let Err(error) = self.api.cancel(&batch_id).await {
                self.phase = waiting(false);
                return Err(error);
            }
            tracing::info!(batch_id, "batch cancel requested");
            cancel_sent = true;
            events.push(BatchEvent::Cancelling {
                batch_id: batch_id.clone(),
            });
        }
        let standing = match self.api.retrieve(&batch_id).await {
            Ok(standing) => standing,
            Err(error) => {
                self.phase = waiting(cancel_sent);
                return Err(error);
            }
        };
        let counts = standing.counts;
        tracing::debug!(
            batch_id,
            processing = counts.processing,
            succeeded = counts.succeeded,
            errored = counts.errored,
            ended = standing.ended,
            "batch polled"
        );
        events.push(BatchEvent::Polled {
            batch_id: batch_id.clone(),
            counts,
            ended: standing.ended,
        });
        if standing.ended {
            self.phase = Phase::Read { batch_id };
            return Ok(events);
        }
        let waited = since.elapsed();
        self.phase = Phase::Wait {
            batch_id: batch_id.clone(),
            polls: polls.saturating_add(1),
            since,
            cancel_sent,
        };
        if waited > self.setup.polling.timeout() {
            return Err(Error::batch_not_ended(
                &batch_id,
                standing.status,
                Some(waited),
                polls.saturating_add(1),
            ));
        }
        Ok(events)
    }

    /// Reads batch `batch_id`'s results and hands each to its run.
    async fn read(&mut self, batch_id: String) -> Result<Vec<BatchEvent>, Error> {
        // Only runs still waiting for this batch: a result a run took in
        // before the process died is not taken in twice.
        let mut waiting: HashMap<String, usize> = self
            .members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let in_flight = m.in_flight()?;
                (in_flight.batch_id == batch_id).then(|| (in_flight.custom_id.clone(), i))
            })
            .collect();
        let mut results = match self.api.results(&batch_id).await {
            Ok(results) => results,
            Err(error) => {
                self.phase = Phase::Read { batch_id };
                return Err(error);
            }
        };
        let max_retries = self.setup.max_retries;
        let mut events = Vec::new();
        let mut saves = FuturesUnordered::new();
        let mut failed = None;
        while let Some(line) = results.next().await {
            let (custom_id, result) = match line {
                Ok(line) => line,
                Err(error) => {
                    failed = Some(error);
                    break;
                }
            };
            let Some(i) = waiting.remove(&custom_id) else {
                tracing::debug!(batch_id, custom_id, "a result no run waits for: skipped");
                continue;
            };
            let member = &mut self.members[i];
            events.extend(member.on_result(result, max_retries));
            if let Some(save) = member.save() {
                saves.push(save);
            }
            // Saves overlap with reading, a bounded number at a time.
            while saves.len() >= self.setup.runs_at_once {
                if let Some(Err(error)) = saves.next().await {
                    failed.get_or_insert(error);
                }
            }
        }
        drop(results);
        if failed.is_none() {
            // A run the results said nothing of is not left waiting forever.
            for (custom_id, i) in waiting.drain() {
                let error = Error::batch(format!(
                    "batch `{batch_id}` ended without a result for request `{custom_id}`"
                ));
                let member = &mut self.members[i];
                events.extend(member.on_result(ItemResult::Errored(error), max_retries));
                if let Some(save) = member.save() {
                    saves.push(save);
                }
            }
        }
        while let Some(saved) = saves.next().await {
            if let Err(error) = saved {
                failed.get_or_insert(error);
            }
        }
        if let Some(error) = failed {
            self.phase = Phase::Read { batch_id };
            return Err(error);
        }
        tracing::info!(round = self.rounds, batch_id, "batch results read");
        events.push(BatchEvent::RoundEnded { round: self.rounds });
        events.extend(self.after_read());
        Ok(events)
    }

    /// What follows reading a batch (or loading): another batch some runs
    /// have in flight is waited for; else the next round, unless the
    /// fleet was cancelled.
    fn after_read(&mut self) -> Vec<BatchEvent> {
        let in_flight = self
            .members
            .iter()
            .filter(|m| m.is_running())
            .find_map(|m| m.in_flight().map(|f| f.batch_id.clone()));
        if let Some(batch_id) = in_flight {
            let requests = self
                .members
                .iter()
                .filter(|m| m.in_flight().is_some_and(|f| f.batch_id == batch_id))
                .count();
            tracing::info!(batch_id, requests, "waiting for a batch submitted before");
            self.phase = Phase::Wait {
                batch_id: batch_id.clone(),
                polls: 0,
                since: Instant::now(),
                cancel_sent: false,
            };
            return vec![BatchEvent::Resumed { batch_id, requests }];
        }
        self.phase = if self.cancel.is_cancelled() || !self.members.iter().any(Member::is_running) {
            Phase::Done
        } else {
            Phase::Prepare
        };
        Vec::new()
    }
}

/// Awaits `futures`, `n` at a time; their outputs in their order.
async fn in_order<T>(futures: Vec<BoxFuture<'_, T>>, n: usize) -> Vec<T> {
    stream::iter(futures).buffered(n).collect().await
}

/// Awaits `futures`, `n` at a time; their outputs as they come.
async fn as_ready<T>(futures: Vec<BoxFuture<'_, T>>, n: usize) -> Vec<T> {
    stream::iter(futures).buffer_unordered(n).collect().await
}

/// The `custom_id` of run `i`'s request: unique in the batch, and valid
/// whatever the run's id (`custom_id`s allow fewer characters than run ids).
fn custom_id(i: usize) -> String {
    format!("r{i}")
}

/// Run `id` of the fleet, with `core`, set up as the fleet says.
fn member(setup: &Setup, id: RunId, mut core: Lifecycle) -> Member {
    // A batch request cannot continue a server-held thread: each carries
    // the whole conversation.
    core.set_message_threads(false);
    core.set_caching_target(setup.caching);
    if let Some(max) = setup.max_iterations {
        core.set_max_iterations(max);
    }
    core.set_record_content(setup.record_content);
    if let Some(compaction) = &setup.compaction {
        core.set_compaction(compaction.clone());
    }
    let mut dispatcher = Dispatcher::new(setup.tool_concurrency);
    dispatcher.before = setup.before.clone();
    dispatcher.after = setup.after.clone();
    dispatcher.recording = core.recording();
    dispatcher.checkpoint = setup.store.as_ref().map(|store| Checkpoint {
        store: Arc::clone(store) as Arc<dyn RunStore>,
        run: id.clone(),
    });
    Member::new(id, core, dispatcher)
}
