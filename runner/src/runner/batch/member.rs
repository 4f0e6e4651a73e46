//! One run of a batch fleet: its loop core, the dispatcher that runs its
//! tools, and where it stands. The member carries out the core's actions
//! as the plain runner does, except that a request is not sent: it is
//! handed to the fleet to go into the round's batch.

use std::collections::HashMap;

use crate::client::Request;
use crate::error::Error;
use crate::runner::dispatch::Dispatcher;
use crate::runner::lifecycle::{Action, Lifecycle};
use crate::runner::{RunId, run_pending_tools};

use super::api::ItemResult;
use super::event::BatchEvent;
use super::record::{InFlight, ItemKind};

/// One run of the fleet.
pub(super) struct Member {
    pub(super) id: RunId,
    pub(super) core: Lifecycle,
    /// Runs the run's tools, with the hooks and its checkpoint.
    pub(super) dispatcher: Dispatcher,
    pub(super) status: Status,
    /// The request the core asked to send, not yet in a batch.
    pub(super) next: Option<(ItemKind, Request)>,
}

/// Where a run stands.
pub(super) enum Status {
    Running,
    Done,
    AwaitingApproval,
    Failed(Error),
}

impl Member {
    pub(super) fn new(id: RunId, core: Lifecycle, dispatcher: Dispatcher) -> Self {
        // A run failed for good in a batch before stays failed.
        let status = match core.batch_record().and_then(|r| r.failed.clone()) {
            Some(reason) => Status::Failed(Error::batch(reason)),
            None if core.is_finished() => Status::Done,
            None => Status::Running,
        };
        Member {
            id,
            core,
            dispatcher,
            status,
            next: None,
        }
    }

    pub(super) fn is_running(&self) -> bool {
        matches!(self.status, Status::Running)
    }

    pub(super) fn in_flight(&self) -> Option<&InFlight> {
        self.core.batch_record()?.in_flight.as_ref()
    }

    /// Carries out the core's actions up to its next request (kept in
    /// `next`) or its end: the last turn's tools run here, with a
    /// checkpoint after each call. Nothing to do while a request of the
    /// run's is in a batch.
    ///
    /// # Errors
    ///
    /// A failed save; the calls' results are kept all the same, and
    /// preparing again goes on from them.
    pub(super) async fn prepare(&mut self) -> Result<Option<BatchEvent>, Error> {
        if !self.is_running() || self.next.is_some() || self.in_flight().is_some() {
            return Ok(None);
        }
        loop {
            match self.core.next_action() {
                Action::Send(request) => {
                    self.next = Some((ItemKind::Turn, request));
                    return Ok(None);
                }
                Action::Compact(request) => {
                    self.next = Some((ItemKind::Summary, request));
                    return Ok(None);
                }
                Action::RunTools(_) => {
                    run_pending_tools(&mut self.core, &self.dispatcher, HashMap::new()).await?;
                }
                Action::Fail(error) => {
                    let event = BatchEvent::RunFailed {
                        run: self.id.clone(),
                        error: error.to_string(),
                    };
                    self.status = Status::Failed(error);
                    self.keep_end().await?;
                    return Ok(Some(event));
                }
                Action::Finish => {
                    let run = self.id.clone();
                    let event = if self.core.pending_approvals().is_empty() {
                        self.status = Status::Done;
                        BatchEvent::RunFinished { run }
                    } else {
                        self.status = Status::AwaitingApproval;
                        BatchEvent::RunAwaitingApproval { run }
                    };
                    self.keep_end().await?;
                    return Ok(Some(event));
                }
            }
        }
    }

    /// Takes the request the core asked for, marking it in flight in
    /// `batch_id` as `custom_id`.
    pub(super) fn submit(&mut self, batch_id: &str, custom_id: String) -> Option<Request> {
        let (kind, request) = self.next.take()?;
        self.core.batch_record_mut().in_flight = Some(InFlight {
            batch_id: batch_id.to_owned(),
            custom_id,
            kind,
        });
        Some(request)
    }

    /// Hands what came of the run's request in the batch to its core, and
    /// says what it means for the run. An errored or expired request goes
    /// into the next round, unless it failed `max_retries` times in a row
    /// already; a cancelled one goes again without counting.
    pub(super) fn on_result(&mut self, result: ItemResult, max_retries: u32) -> Option<BatchEvent> {
        let in_flight = self.core.batch_record_mut().in_flight.take()?;
        let error = match result {
            ItemResult::Succeeded(message) => {
                // The core sums the reply's usage as it takes it in.
                self.core.batch_record_mut().retries = 0;
                match in_flight.kind {
                    // A refused turn (`Received::FellBack`) is asked again by
                    // the core's next action, into the next round's batch.
                    ItemKind::Turn => {
                        self.core.on_response(*message);
                    }
                    ItemKind::Summary => self.core.on_summary(&message),
                }
                return None;
            }
            ItemResult::Canceled => {
                self.ask_again(in_flight.kind);
                return None;
            }
            ItemResult::Errored(error) => error,
            ItemResult::Expired => Error::batch(format!(
                "request `{}` of batch `{}` expired before it was processed",
                in_flight.custom_id, in_flight.batch_id
            )),
        };
        let record = self.core.batch_record_mut();
        record.retries += 1;
        let retry = record.retries;
        if retry > max_retries {
            tracing::warn!(run = %self.id, retries = max_retries, error = %error, "batch request failed past its retries");
            record.failed = Some(error.to_string());
            let event = BatchEvent::RunFailed {
                run: self.id.clone(),
                error: error.to_string(),
            };
            self.status = Status::Failed(error);
            return Some(event);
        }
        tracing::info!(run = %self.id, retry, error = %error, "batch request failed; it goes into the next round");
        self.ask_again(in_flight.kind);
        Some(BatchEvent::Retrying {
            run: self.id.clone(),
            retry,
            reason: error.to_string(),
        })
    }

    /// Makes the core ask for the same request again. A turn is asked
    /// for again by itself (no reply came); a summary is asked for anew.
    fn ask_again(&mut self, kind: ItemKind) {
        if kind == ItemKind::Summary {
            // Only fails for a caller's own compaction edit, which a
            // summary request could not have been built with.
            let _ = self.core.compact_before_next_turn();
        }
    }

    /// The save of the run's state as it stands, when the fleet keeps runs.
    pub(super) fn save(&self) -> Option<crate::runner::StoreFuture<'static, ()>> {
        let checkpoint = self.dispatcher.checkpoint.as_ref()?;
        Some(checkpoint.save(self.core.state()))
    }

    /// Keeps the run's end, once, so that the store says it is over.
    async fn keep_end(&mut self) -> Result<(), Error> {
        if self.core.take_end_to_keep()
            && let Some(save) = self.save()
        {
            save.await?;
        }
        Ok(())
    }
}
