//! The lifecycle as a [`RunState`], and back.
//!
//! A snapshot copies the fields that decide what the loop does and sends
//! next; what only lives while a request is in flight (its span, its
//! container) and the runner's settings that are code (hooks, compaction)
//! are left out: a resumed runner is given those again. The fallback
//! models are data, and kept.

use super::{CompactAsk, LastReply, Lifecycle, Stage};
use crate::error::Error;
use crate::runner::open_telemetry::Telemetry;
use crate::runner::request::RequestBuilder;
use crate::runner::state::{Expired, RunState, Saved, SavedTools, SavedTurn};
use crate::runner::telemetry;
use crate::runner::tool_changes::ToolChanges;
use crate::toolset::Toolset;
use crate::types::ContentBlock;

impl Lifecycle {
    /// The state to keep, as it stands.
    pub(crate) fn state(&self) -> RunState {
        let names = |tools: &Toolset| tools.names().map(str::to_owned).collect();
        let turn = self.turn.as_ref().map(|t| {
            // Input errors are kept beside the message, as it serializes
            // without them: a state reads the same before and after a store.
            let mut message = t.message.clone();
            let mut input_errors = Vec::new();
            for block in &mut message.content {
                if let ContentBlock::ToolUse(call) = block
                    && let Some(error) = call.input_error.take()
                {
                    input_errors.push((call.id.clone(), error));
                }
            }
            SavedTurn {
                message,
                tool_response: t.tool_response.clone(),
                appended: t.appended,
                finished: t.finished.clone(),
                approvals: t.approvals.clone(),
                input_errors,
            }
        });
        RunState {
            saved: Saved {
                params: self.params.clone(),
                iterations: self.iterations,
                max_iterations: self.max_iterations,
                turn,
                thread: self.thread.clone(),
                caching: self.caching.clone(),
                usage: self.usage,
                tools: SavedTools {
                    declared: names(&self.declared),
                    live: names(&self.toolset),
                    declared_sent: self.declared_sent,
                    pending_changes: self.changes.pending().to_vec(),
                    search_added: self.changes.search_added(),
                    configured_code_version: self.requests.configured_code_version(),
                    code_version: self.requests.code_version().to_owned(),
                    tool_search: self.requests.tool_search(),
                },
                fallbacks: self.fallbacks.clone(),
                taken_over: self.taken_over,
                touched: self.touched,
                compact_due: self.compact_due,
                compact_requested: self.compact_asked != CompactAsk::No,
                last_context_tokens: self.last_context_tokens,
                compaction_forced: self.compact_asked == CompactAsk::Firing,
                paused: self.paused,
                expired: self.expired.clone().map(|container| Expired { container }),
                finished: self.is_finished(),
                batch: self.batch_record.clone(),
            },
        }
    }

    /// The lifecycle `state` was taken from, running the tools of
    /// `toolset` (which must hold every tool the state names).
    #[cfg(test)]
    pub(crate) fn restore(state: RunState, toolset: Toolset) -> Result<Self, Error> {
        Lifecycle::restore_in(state, toolset, &Telemetry::default())
    }

    /// As [`restore`](Self::restore), under a client's `telemetry` settings.
    pub(crate) fn restore_in(
        state: RunState,
        toolset: Toolset,
        settings: &Telemetry,
    ) -> Result<Self, Error> {
        let Saved {
            params,
            iterations,
            max_iterations,
            turn,
            thread,
            caching,
            usage,
            tools,
            fallbacks,
            taken_over,
            touched,
            compact_due,
            compact_requested,
            last_context_tokens,
            compaction_forced,
            paused,
            expired,
            finished,
            batch,
        } = state.saved;
        let declared = only(&toolset, &tools.declared)?;
        let live = only(&toolset, &tools.live)?;
        let mut requests = RequestBuilder::new();
        requests.restore(
            tools.configured_code_version,
            tools.code_version,
            tools.tool_search,
        );
        let turn = turn.map(|mut t| {
            for (id, error) in t.input_errors {
                let call = t.message.content.iter_mut().find_map(|block| match block {
                    ContentBlock::ToolUse(call) if call.id == id => Some(call),
                    _ => None,
                });
                if let Some(call) = call {
                    call.input_error = Some(error);
                }
            }
            LastReply {
                message: t.message,
                tool_response: t.tool_response,
                appended: t.appended,
                finished: t.finished,
                approvals: t.approvals,
            }
        });
        let run_span = telemetry::run_span(settings, &params.model);
        // The resumed run's span carries on the count where it stood.
        if !usage.total().is_empty() {
            telemetry::record_run_usage(&run_span, &usage);
        }
        let mut core = Lifecycle {
            run_span,
            params,
            toolset: live,
            declared,
            changes: ToolChanges::restore(tools.pending_changes, tools.search_added),
            declared_sent: tools.declared_sent,
            requests,
            max_iterations,
            compaction: None,
            iterations,
            turn,
            taken_over,
            touched,
            thread,
            // A `fallback_models` on the resumed runner replaces the list.
            fallbacks,
            caching,
            usage,
            compact_due,
            // The saved form keeps the two flags it always had.
            compact_asked: match (compact_requested, compaction_forced) {
                (false, _) => CompactAsk::No,
                (true, false) => CompactAsk::Asked,
                (true, true) => CompactAsk::Firing,
            },
            last_context_tokens,
            paused,
            expired: expired.map(|e| e.container),
            in_flight_container: None,
            request_span: None,
            recording: super::telemetry::Recording::default(),
            conversation: None,
            // Stopped at the limit is not kept: the resumed runner's limit
            // decides whether the run goes on.
            stage: if finished {
                Stage::Finished { end_kept: false }
            } else {
                Stage::Running
            },
            // The toolset given to resume is checked as a new one would be.
            state_checked: false,
            batch_record: batch,
        };
        core.set_telemetry(settings);
        Ok(core)
    }
}

/// `toolset` cut down to `names`, in `toolset`'s order (the order the
/// runner declared them in, given the same toolset).
fn only(toolset: &Toolset, names: &[String]) -> Result<Toolset, Error> {
    if let Some(missing) = names.iter().find(|n| !toolset.contains(n)) {
        let given: Vec<&str> = toolset.names().collect();
        return Err(Error::run_state(format!(
            "the run state needs tool `{missing}`, and the toolset given to resume it has only: {}",
            if given.is_empty() {
                "no tools".to_owned()
            } else {
                given.join(", ")
            }
        )));
    }
    let mut kept = toolset.clone();
    let extra: Vec<String> = toolset
        .names()
        .filter(|n| !names.iter().any(|k| k == n))
        .map(str::to_owned)
        .collect();
    for name in extra {
        kept.remove(&name);
    }
    Ok(kept)
}
