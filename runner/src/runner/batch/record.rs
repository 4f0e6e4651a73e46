//! What a batch-driven run keeps in its [`RunState`](crate::RunState)
//! beside the loop's own fields: the request it has in a batch, what it
//! used so far, and how often its request failed in a row.
//!
//! Kept in the state (not beside it) so that every save of the run, a
//! tool call's included, carries it, and a process that dies anywhere
//! finds it again with the conversation it belongs to.

use serde::{Deserialize, Serialize};

use super::usage::UsageTotals;

/// A batch-driven run's own record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct BatchRecord {
    /// The run's request in a batch, whose result is not in yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) in_flight: Option<InFlight>,
    /// Usage summed over the run's replies.
    #[serde(default)]
    pub(crate) usage: UsageTotals,
    /// How many times in a row the run's request errored or expired.
    #[serde(default)]
    pub(crate) retries: u32,
    /// Why the run failed for good in a batch: it is not sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failed: Option<String>,
}

/// A request of the run's in a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct InFlight {
    /// The batch (`msgbatch_...`).
    pub(crate) batch_id: String,
    /// The request's `custom_id` in it.
    pub(crate) custom_id: String,
    /// What the request is: its result goes back to the loop accordingly.
    pub(crate) kind: ItemKind,
}

/// What a request in a batch is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ItemKind {
    /// The model's next turn.
    Turn,
    /// A compaction summary.
    Summary,
}
