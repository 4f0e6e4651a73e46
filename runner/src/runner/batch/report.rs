//! What a [`BatchRunner`](super::BatchRunner) comes to: a [`BatchReport`]
//! with each run's outcome, usage and state.

use crate::error::Error;
use crate::runner::{RunId, RunState};
use crate::types::Message;

use super::event::Progress;
use super::member::{Member, Status};
use crate::usage::RunUsage;

/// Every run of a fleet once its stream ended, with the fleet's totals.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchReport {
    /// Each run, in the order they were added.
    pub runs: Vec<RunReport>,
    /// Where the fleet stands: runs done, failed, rounds, usage in total.
    pub progress: Progress,
}

/// One run of a fleet.
#[derive(Debug)]
#[non_exhaustive]
pub struct RunReport {
    /// The run.
    pub id: RunId,
    /// How it ended, if it did.
    pub outcome: RunOutcome,
    /// What it used: the loop core's [`RunUsage`], as
    /// [`RunState::usage`] reports it (over every process that drove it,
    /// when the fleet keeps runs in a store).
    pub usage: RunUsage,
    /// Its state: the conversation, and what a resumed run goes on from.
    pub state: RunState,
}

/// How a run of a fleet ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunOutcome {
    /// The model gave its last answer: this message.
    Finished(Box<Message>),
    /// The run failed: its request failed past the retries, or it hit its
    /// iteration limit.
    Failed(Error),
    /// Calls a before-call hook deferred wait for a human: decide on the
    /// [`state`](RunReport::state) and resume the fleet.
    AwaitingApproval,
    /// Not over: the fleet was cancelled, or stopped by an error.
    Unfinished,
}

impl RunReport {
    pub(super) fn of(member: Member) -> Self {
        let state = member.core.state();
        let usage = member.core.usage();
        let outcome = match member.status {
            Status::Done => match member.core.last_message() {
                Some(message) => RunOutcome::Finished(Box::new(message.clone())),
                None => RunOutcome::Unfinished,
            },
            Status::Failed(error) => RunOutcome::Failed(error),
            Status::AwaitingApproval => RunOutcome::AwaitingApproval,
            Status::Running => RunOutcome::Unfinished,
        };
        RunReport {
            id: member.id,
            outcome,
            usage,
            state,
        }
    }
}
