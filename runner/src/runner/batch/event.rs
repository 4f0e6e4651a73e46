//! What a [`BatchRunner`](super::BatchRunner) reports as it goes:
//! [`BatchEvent`]s, each with the fleet's [`Progress`].

use crate::runner::RunId;
use crate::types::RequestCounts;

use crate::usage::RunUsage;

/// One step of a [`BatchRunner`](super::BatchRunner), as its stream
/// yields it; [`BatchRunner::progress`](super::BatchRunner::progress)
/// says where the whole fleet stands after it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum BatchEvent {
    /// A round's batch was created, holding `requests` requests.
    Submitted {
        /// The round, counted from 1 by this runner.
        round: u32,
        /// The batch (`msgbatch_...`).
        batch_id: String,
        /// How many requests it holds.
        requests: usize,
    },
    /// A resumed fleet found a batch in flight, and waits for it rather
    /// than submitting its requests again.
    Resumed {
        /// The batch.
        batch_id: String,
        /// How many of its requests still wait for a result.
        requests: usize,
    },
    /// The batch in flight was polled.
    Polled {
        /// The batch.
        batch_id: String,
        /// Its request counts, as the API reported them.
        counts: RequestCounts,
        /// Whether processing is over: its results are read next.
        ended: bool,
    },
    /// The fleet was cancelled: the API was asked to cancel the batch in
    /// flight. Results that came before it ended are still read.
    Cancelling {
        /// The batch.
        batch_id: String,
    },
    /// A run's request errored or expired; it goes into the next round.
    Retrying {
        /// The run.
        run: RunId,
        /// How many times in a row it failed, this one included.
        retry: u32,
        /// What went wrong.
        reason: String,
    },
    /// A run is over: the model gave its last answer.
    RunFinished {
        /// The run.
        run: RunId,
    },
    /// A run stopped with calls a before-call hook deferred, waiting for
    /// a human (see [`RunState::approve`](crate::RunState::approve)).
    RunAwaitingApproval {
        /// The run.
        run: RunId,
    },
    /// A run failed: its request failed past the retries, or the run hit
    /// its iteration limit. The other runs go on.
    RunFailed {
        /// The run.
        run: RunId,
        /// Why, as the error displays.
        error: String,
    },
    /// A round's results were all read and handed to their runs.
    RoundEnded {
        /// The round.
        round: u32,
    },
}

/// Where a batch fleet stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Runs whose model gave its last answer.
    pub done: usize,
    /// Runs still going.
    pub running: usize,
    /// Runs that failed.
    pub failed: usize,
    /// Runs waiting for a human's approval of deferred calls.
    pub awaiting_approval: usize,
    /// Rounds submitted so far.
    pub rounds: u32,
    /// Usage summed over every run: the loop core's [`RunUsage`] of each,
    /// turns and compaction apart.
    pub usage: RunUsage,
}
