//! How a [`BatchRunner`](super::BatchRunner) sets up each run, and how it
//! waits and retries: its settings, as the builder methods leave them.

use std::sync::Arc;

use crate::runner::caching;
use crate::runner::hooks::{AfterToolCall, BeforeToolCall};
use crate::runner::open_telemetry::Telemetry;
use crate::runner::{Compaction, DEFAULT_TOOL_CONCURRENCY, RunStore};
use crate::toolset::Toolset;

use crate::client::Polling;

/// The number of runs that run their tools (or load and save) at once
/// unless told otherwise.
pub const DEFAULT_RUNS_AT_ONCE: usize = 16;

/// The number of times in a row a run's request may error or expire and
/// go into the next round, unless told otherwise.
pub const DEFAULT_BATCH_RETRIES: u32 = 2;

/// The fleet's settings.
pub(super) struct Setup {
    pub(super) toolset: Toolset,
    pub(super) store: Option<Arc<dyn RunStore>>,
    /// Each run's iteration limit; `None` keeps a resumed run's own (and
    /// a new run's default).
    pub(super) max_iterations: Option<usize>,
    /// How each run's conversation is compacted as it grows, if at all.
    pub(super) compaction: Option<Compaction>,
    pub(super) tool_concurrency: usize,
    pub(super) runs_at_once: usize,
    pub(super) before: Option<Arc<dyn BeforeToolCall>>,
    pub(super) after: Option<Arc<dyn AfterToolCall>>,
    pub(super) record_content: bool,
    pub(super) polling: Polling,
    pub(super) max_retries: u32,
    /// The client's telemetry settings, which each run's spans follow.
    pub(super) telemetry: Telemetry,
    /// How the platform takes prompt caching. Cache diagnostics stay off:
    /// they name the previous reply of a conversation, which a batch
    /// request is not asked to continue.
    pub(super) caching: caching::Target,
}

impl Setup {
    pub(super) fn new(toolset: Toolset) -> Self {
        Setup {
            toolset,
            store: None,
            max_iterations: None,
            compaction: None,
            tool_concurrency: DEFAULT_TOOL_CONCURRENCY,
            runs_at_once: DEFAULT_RUNS_AT_ONCE,
            before: None,
            after: None,
            record_content: false,
            polling: Polling::default(),
            max_retries: DEFAULT_BATCH_RETRIES,
            telemetry: Telemetry::default(),
            caching: caching::Target::default(),
        }
    }
}
