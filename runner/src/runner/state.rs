//! [`RunState`]: a run, kept to go on with later, in another process.
//!
//! The state is a snapshot of the lifecycle's fields (see
//! `lifecycle/snapshot.rs`), serialized inside an envelope that carries
//! the format version, so that a state written by another version of the
//! format is refused with both versions named rather than misread.

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::batch::BatchRecord;
use super::caching::PromptCaching;
use super::fallback::Fallbacks;
use super::hooks::PendingCall;
use super::thread::ThreadState;
use super::tool_search::ToolSearch;
use crate::error::Error;
use crate::types::{Message, MessageParam, MessageParams, ToolResultBlock};
use crate::usage::RunUsage;

/// Everything a run needs to go on: the conversation and parameters, the
/// iteration count, the current turn with the results of its calls that
/// already finished, the container, where the server-held message thread
/// stands, the calls waiting for a human's approval, whether requests are
/// marked for prompt caching, and the tokens used so far
/// ([`usage`](Self::usage)).
///
/// Take it from a runner between iterations ([`ToolRunner::state`](crate::ToolRunner::state)),
/// keep it (it is `serde`-serializable; a [`RunStore`](crate::RunStore)
/// does this for you with [`ToolRunner::checkpoint`](crate::ToolRunner::checkpoint)),
/// and go on with [`Client::resume`](crate::Client::resume), in this
/// process or another: calls that finished are not run again, and the next
/// request is the one the run would have sent.
///
/// The state holds data, not code: hooks, compaction settings and tool
/// concurrency are set again on the resumed runner, as on the first one.
/// The [fallback models](crate::ToolRunner::fallback_models) are data and
/// kept (setting them on the resumed runner replaces them).
///
/// ```
/// use toolrunner::RunState;
///
/// // A state written by a future format version is refused, naming both.
/// let newer = br#"{"format_version": 999, "run": {}}"#;
/// let error = RunState::from_json(newer).unwrap_err();
/// assert!(error.is_run_state());
/// assert!(error.to_string().contains("999"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RunState {
    pub(crate) saved: Saved,
}

impl RunState {
    /// The format version this build writes and reads. It changes whenever
    /// the serialized shape does; a state of another version is refused.
    pub const FORMAT_VERSION: u32 = 1;

    /// Reads a state from JSON, as [`to_json`](Self::to_json) writes it.
    ///
    /// # Errors
    ///
    /// A run-state error ([`Error::is_run_state`]) for a state of another
    /// format version (naming both versions) or JSON that is not a state.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let envelope: Envelope = serde_json::from_slice(bytes)
            .map_err(|e| Error::run_state(format!("could not read the run state: {e}")))?;
        envelope.open().map_err(Error::run_state)
    }

    /// The state as JSON.
    ///
    /// # Errors
    ///
    /// An encoding error; it cannot happen with the crate's own types.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(self).map_err(Error::encode)
    }

    /// The conversation so far.
    pub fn messages(&self) -> &[MessageParam] {
        &self.saved.params.messages
    }

    /// The parameters of the next request, including the history.
    pub fn params(&self) -> &MessageParams {
        &self.saved.params
    }

    /// The number of requests answered so far.
    pub fn iterations(&self) -> usize {
        self.saved.iterations
    }

    /// The tokens the run used so far (see [`ToolRunner::usage`](crate::ToolRunner::usage)).
    pub fn usage(&self) -> RunUsage {
        self.saved.usage
    }

    /// Whether the run is over: resuming it yields nothing more. A run that
    /// stopped at its iteration limit is not: resumed with a higher
    /// [`max_iterations`](crate::ToolRunner::max_iterations), it goes on.
    pub fn is_finished(&self) -> bool {
        self.saved.finished
    }

    /// The calls a before-call hook deferred ([`Decision::Defer`](crate::Decision::Defer))
    /// that no one has approved or denied yet, in call order.
    pub fn pending_approvals(&self) -> Vec<PendingCall> {
        let Some(turn) = &self.saved.turn else {
            return Vec::new();
        };
        turn.message
            .tool_uses()
            .filter(|call| {
                turn.approvals
                    .iter()
                    .any(|a| a.id == call.id && a.decision.is_none())
            })
            // A state holds data only: the calls it lists carry no toolset
            // states (a runner's `pending_approvals` has them).
            .map(|call| {
                PendingCall::new(
                    call.id.clone(),
                    call.name.clone(),
                    call.input.clone(),
                    call.caller(),
                    std::sync::Arc::default(),
                )
            })
            .collect()
    }

    /// Approves the deferred call `call_id`: when the state is resumed, the
    /// call runs (the before-call hook is not asked again).
    ///
    /// # Errors
    ///
    /// A run-state error ([`Error::is_run_state`]) naming `call_id` when no
    /// call of that id waits for approval.
    pub fn approve(&mut self, call_id: &str) -> Result<(), Error> {
        self.decide(call_id, Approval::Approved)
    }

    /// Denies the deferred call `call_id`: when the state is resumed, the
    /// call does not run and the model gets `message` as an `is_error`
    /// result.
    ///
    /// # Errors
    ///
    /// As [`approve`](Self::approve).
    pub fn deny(&mut self, call_id: &str, message: impl Into<String>) -> Result<(), Error> {
        self.decide(
            call_id,
            Approval::Denied {
                message: message.into(),
            },
        )
    }

    /// Records a decision about a deferred call; deciding again replaces it.
    fn decide(&mut self, call_id: &str, decision: Approval) -> Result<(), Error> {
        let deferred = self
            .saved
            .turn
            .as_mut()
            .and_then(|turn| turn.approvals.iter_mut().find(|a| a.id == call_id));
        match deferred {
            Some(deferred) => {
                deferred.decision = Some(decision);
                Ok(())
            }
            None => {
                let waiting: Vec<String> = self
                    .pending_approvals()
                    .into_iter()
                    .map(|call| format!("`{}`", call.id))
                    .collect();
                let waiting = if waiting.is_empty() {
                    "none".to_owned()
                } else {
                    waiting.join(", ")
                };
                Err(Error::run_state(format!(
                    "no call `{call_id}` waits for approval in this run state (waiting: {waiting})"
                )))
            }
        }
    }
}

/// What a human decided about a deferred call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub(crate) enum Approval {
    /// Run it.
    Approved,
    /// Answer it with this message as an `is_error` result.
    Denied { message: String },
}

/// The lifecycle's fields, as kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Saved {
    #[serde(with = "saved_params")]
    pub(crate) params: MessageParams,
    pub(crate) iterations: usize,
    pub(crate) max_iterations: usize,
    pub(crate) turn: Option<SavedTurn>,
    pub(crate) thread: ThreadState,
    /// Automatic prompt caching (absent in states written before it: on).
    #[serde(default)]
    pub(crate) caching: PromptCaching,
    /// The tokens used so far (absent in states written before it: none).
    #[serde(default)]
    pub(crate) usage: RunUsage,
    pub(crate) tools: SavedTools,
    /// The fallback models and a credit token not yet redeemed (absent in
    /// states written before they were kept, and when there are none).
    #[serde(default, skip_serializing_if = "Fallbacks::is_off")]
    pub(crate) fallbacks: Fallbacks,
    pub(crate) taken_over: bool,
    pub(crate) touched: bool,
    pub(crate) compact_due: bool,
    pub(crate) compact_requested: bool,
    /// The tokens the last turn held, for a server compaction asked for
    /// with `compact_before_next_turn`.
    #[serde(default)]
    pub(crate) last_context_tokens: u64,
    /// Whether the next request's compaction edit is to fire.
    #[serde(default)]
    pub(crate) compaction_forced: bool,
    pub(crate) paused: bool,
    /// The container a reply reported expired (`Some` with no id when the
    /// id was unknown); reported by the next action.
    pub(crate) expired: Option<Expired>,
    pub(crate) finished: bool,
    /// What a [`BatchRunner`](crate::BatchRunner) keeps of the run: absent
    /// for runs no batch drove.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) batch: Option<BatchRecord>,
}

/// A container a reply reported expired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Expired {
    pub(crate) container: Option<String>,
}

/// The current turn, as kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SavedTurn {
    pub(crate) message: Message,
    pub(crate) tool_response: Option<MessageParam>,
    pub(crate) appended: bool,
    /// Results of the turn's calls that finished, in the order they did.
    pub(crate) finished: Vec<ToolResultBlock>,
    pub(crate) approvals: Vec<Deferred>,
    /// Why the input of a call was not valid JSON, by `tool_use` id: the
    /// block itself never serializes it (it is never sent), and a resumed
    /// run must still refuse to run a tool on such input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) input_errors: Vec<(String, String)>,
}

/// A call a hook deferred, and what a human decided about it, if anything yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Deferred {
    pub(crate) id: String,
    pub(crate) decision: Option<Approval>,
}

/// The runner's tools, by name, and what its requests say of them. Tools
/// are code, so the resuming caller hands them in again; the names say
/// which of them were declared and which run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SavedTools {
    /// The tools the `tools` parameter declares, in order.
    pub(crate) declared: Vec<String>,
    /// The tools the runner runs now.
    pub(crate) live: Vec<String>,
    pub(crate) declared_sent: bool,
    /// Tool changes not yet sent (`tool_addition` / `tool_removal` blocks).
    pub(crate) pending_changes: Vec<Value>,
    /// Whether a search tool was added mid-run for a deferred tool (absent
    /// in states written before it was).
    #[serde(default)]
    pub(crate) search_added: bool,
    pub(crate) configured_code_version: Option<String>,
    pub(crate) code_version: String,
    pub(crate) tool_search: ToolSearch,
}

/// The serialized form: the format version first, then the run.
#[derive(Serialize)]
struct EnvelopeRef<'a> {
    format_version: u32,
    run: &'a Saved,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    format_version: Option<u32>,
    /// Read as a value first, so that a state of another version is told
    /// apart by its number, not by whatever in its shape fails to parse.
    #[serde(default)]
    run: Option<Value>,
}

impl Envelope {
    fn open(self) -> Result<RunState, String> {
        let Some(version) = self.format_version else {
            return Err("not a run state: it has no `format_version`".to_owned());
        };
        if version != RunState::FORMAT_VERSION {
            return Err(format!(
                "the run state has format version {version}, and this build of toolrunner reads format version {}",
                RunState::FORMAT_VERSION
            ));
        }
        let run = self
            .run
            .ok_or_else(|| "the run state has no `run`".to_owned())?;
        let mut saved: Saved = serde_path_to_error::deserialize(run)
            .map_err(|e| format!("could not read the run state at `{}`: {e}", e.path()))?;
        if let Some(batch) = &mut saved.batch {
            batch.adopt_legacy_usage(&mut saved.usage);
        }
        Ok(RunState { saved })
    }
}

impl Serialize for RunState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        EnvelopeRef {
            format_version: RunState::FORMAT_VERSION,
            run: &self.saved,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RunState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Envelope::deserialize(deserializer)?
            .open()
            .map_err(de::Error::custom)
    }
}

/// [`MessageParams`] whole, betas included: its own `Serialize` writes the
/// request body, which leaves the betas (a header) out.
mod saved_params {
    use super::*;
    use crate::types::{Metadata, ServiceTier, Speed, System, Thinking, ToolChoice};

    #[derive(Deserialize)]
    struct Fields {
        model: String,
        max_tokens: u32,
        messages: Vec<MessageParam>,
        system: Option<System>,
        tools: Vec<Value>,
        tool_choice: Option<ToolChoice>,
        temperature: Option<f64>,
        top_p: Option<f64>,
        top_k: Option<u32>,
        stop_sequences: Vec<String>,
        metadata: Option<Metadata>,
        thinking: Option<Thinking>,
        // Fields added after the first format: absent in older states.
        #[serde(default)]
        service_tier: Option<ServiceTier>,
        #[serde(default)]
        speed: Option<Speed>,
        #[serde(default)]
        inference_geo: Option<String>,
        #[serde(default)]
        cache_control: Option<Value>,
        container: Option<Value>,
        context_management: Option<Value>,
        betas: Vec<String>,
        extra: Map<String, Value>,
    }

    /// The same fields, borrowed, so that saving does not copy the conversation.
    #[derive(Serialize)]
    struct FieldsRef<'a> {
        model: &'a str,
        max_tokens: u32,
        messages: &'a [MessageParam],
        system: &'a Option<System>,
        tools: &'a [Value],
        tool_choice: &'a Option<ToolChoice>,
        temperature: Option<f64>,
        top_p: Option<f64>,
        top_k: Option<u32>,
        stop_sequences: &'a [String],
        metadata: &'a Option<Metadata>,
        thinking: &'a Option<Thinking>,
        service_tier: &'a Option<ServiceTier>,
        speed: &'a Option<Speed>,
        inference_geo: &'a Option<String>,
        cache_control: &'a Option<Value>,
        container: &'a Option<Value>,
        context_management: &'a Option<Value>,
        betas: &'a [String],
        extra: &'a Map<String, Value>,
    }

    pub(super) fn serialize<S: Serializer>(
        p: &MessageParams,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        FieldsRef {
            model: &p.model,
            max_tokens: p.max_tokens,
            messages: &p.messages,
            system: &p.system,
            tools: &p.tools,
            tool_choice: &p.tool_choice,
            temperature: p.temperature,
            top_p: p.top_p,
            top_k: p.top_k,
            stop_sequences: &p.stop_sequences,
            metadata: &p.metadata,
            thinking: &p.thinking,
            service_tier: &p.service_tier,
            speed: &p.speed,
            inference_geo: &p.inference_geo,
            cache_control: &p.cache_control,
            container: &p.container,
            context_management: &p.context_management,
            betas: &p.betas,
            extra: &p.extra,
        }
        .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<MessageParams, D::Error> {
        let f = Fields::deserialize(deserializer)?;
        let mut params = MessageParams::new(f.model, f.max_tokens);
        params.messages = f.messages;
        params.system = f.system;
        params.tools = f.tools;
        params.tool_choice = f.tool_choice;
        params.temperature = f.temperature;
        params.top_p = f.top_p;
        params.top_k = f.top_k;
        params.stop_sequences = f.stop_sequences;
        params.metadata = f.metadata;
        params.thinking = f.thinking;
        params.service_tier = f.service_tier;
        params.speed = f.speed;
        params.inference_geo = f.inference_geo;
        params.cache_control = f.cache_control;
        params.container = f.container;
        params.context_management = f.context_management;
        params.betas = f.betas;
        params.extra = f.extra;
        Ok(params)
    }
}

#[cfg(test)]
mod tests;
