//! What a batch-driven run keeps in its [`RunState`](crate::RunState)
//! beside the loop's own fields: the request it has in a batch and how
//! often its request failed in a row. What it used is the loop's own
//! [`RunUsage`], kept with the loop's fields.
//!
//! Kept in the state (not beside it) so that every save of the run, a
//! tool call's included, carries it, and a process that dies anywhere
//! finds it again with the conversation it belongs to.

use serde::{Deserialize, Serialize};

use crate::usage::{RunUsage, TokenUsage};

/// A batch-driven run's own record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct BatchRecord {
    /// The run's request in a batch, whose result is not in yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) in_flight: Option<InFlight>,
    /// The usage the batch runner once summed apart from the loop's own
    /// (`UsageTotals`, whose fields [`TokenUsage`] shares): read from
    /// records written then, never written again. See
    /// [`adopt_legacy_usage`](Self::adopt_legacy_usage).
    #[serde(default, rename = "usage", skip_serializing)]
    pub(crate) legacy_usage: Option<TokenUsage>,
    /// How many times in a row the run's request errored or expired.
    #[serde(default)]
    pub(crate) retries: u32,
    /// Why the run failed for good in a batch: it is not sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failed: Option<String>,
}

impl BatchRecord {
    /// Drops the usage a record of the earlier format summed apart, once
    /// read, keeping it as the run's when the run's own is empty: a state
    /// written by the batch runner before the loop core summed usage has
    /// only this sum. It did not tell compaction apart, so it all counts
    /// as turns. When the run has its own, both summed the same replies,
    /// and the run's (which keeps compaction apart) stands.
    pub(crate) fn adopt_legacy_usage(&mut self, run: &mut RunUsage) {
        if let Some(legacy) = self.legacy_usage.take()
            && run.total().is_empty()
        {
            run.turns = legacy;
        }
    }
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
