//! Compaction, on the client or on the server.
//!
//! On the client, when a turn grows past a token threshold, the runner asks
//! the model for a summary of the conversation so far and goes on from that
//! summary. On the server, the request carries the API's compaction edit
//! and the API compacts by itself; the runner only sends its blocks back.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::compaction_split::split_point;
use super::tool_changes::standing_changes;
use crate::error::Error;
use crate::toolset::Toolset;
use crate::types::{ContentBlock, Message, MessageParam, MessageParams, Role, TextBlock};

/// The API's compaction edit, for `context_management.edits`.
pub(crate) const COMPACT_EDIT: &str = "compact_20260112";

/// The beta the compaction edit needs.
pub(crate) const COMPACT_BETA: &str = "compact-2026-01-12";

/// The smallest trigger the API accepts for the compaction edit, in input
/// tokens (its documented minimum; the default is 150,000).
pub(crate) const SERVER_MIN_TRIGGER: u64 = 50_000;

/// The beta a one-off `compaction` request needs
/// ([`ToolRunner::compact_before_next_turn`](crate::ToolRunner::compact_before_next_turn)
/// without client-side compaction).
pub(crate) const SUMMARIZE_BETA: &str = "compact-2026-09-04";

/// The prompt that asks for a summary, unless replaced.
pub const DEFAULT_COMPACTION_PROMPT: &str = "The conversation so far is about to be cut to save space. \
Write a summary that lets you carry on the task without it: the task and what the user asked for, \
what has been done and found (with the exact names, values and identifiers that matter), \
what is left to do, and anything the user said to keep in mind. Write only the summary.";

/// The number of tokens a turn may use (input and output) before the
/// conversation is compacted, unless set otherwise.
pub const DEFAULT_COMPACTION_THRESHOLD: u64 = 100_000;

type Callback = Arc<dyn Fn(&[MessageParam], &[MessageParam]) + Send + Sync>;

/// Client-side compaction settings, for
/// [`ToolRunner::compaction`](crate::ToolRunner::compaction).
///
/// After a turn whose input and output tokens reach the threshold, and
/// whose tool calls have run, the runner sends one more request: the
/// history before that turn, then the summary prompt, with the same model,
/// system prompt and tools (and `tool_choice: none`). It then replaces the
/// history with the summary, followed by that last turn and its tool
/// results, so no pending call loses its result. The system prompt and
/// tools stay as they were. The summary request counts as an iteration.
///
/// Tools added or removed mid-run
/// ([`add_tools`](crate::ToolRunner::add_tools)) are told to the model in
/// `system`-role messages, which the summary replaces too; so the changes
/// that still stand there are told again, in one `system` message of
/// `tool_addition` / `tool_removal` blocks between the summary and the
/// kept turn: each tool's last change, a removal only for a tool `tools`
/// declares, nothing for a tool added and removed again. (Server-side
/// compaction needs none of this: the API's `compaction` block carries
/// the changes it summarised, and goes back as received.)
///
/// Programmatic tool calling is kept intact: while code the model wrote is
/// waiting for tool results, compaction waits for the code run to finish;
/// the prompt is never merged into a message answering calls from code; and
/// the `server_tool_use` block of a code run stays as long as a kept call
/// names it (more of the history is kept then).
///
/// ```
/// use toolrunner::Compaction;
///
/// let compaction = Compaction::new()
///     .threshold(50_000)
///     .on_compact(|before, after| println!("{} messages -> {}", before.len(), after.len()));
/// # let _ = compaction;
/// ```
///
/// [`Compaction::server`] leaves the work to the API instead.
#[derive(Clone)]
pub struct Compaction {
    pub(crate) side: Side,
    /// `None`: the default of the side ([`DEFAULT_COMPACTION_THRESHOLD`] on
    /// the client, the API's own on the server).
    pub(crate) threshold: Option<u64>,
    pub(crate) prompt: String,
    pub(crate) instructions: Option<String>,
    pub(crate) pause_after: bool,
    pub(crate) max_tokens: Option<u32>,
    pub(crate) on_compact: Option<Callback>,
}

/// Where the summary is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

impl Default for Compaction {
    fn default() -> Self {
        Self::new()
    }
}

impl Compaction {
    /// Compaction at [`DEFAULT_COMPACTION_THRESHOLD`] tokens with
    /// [`DEFAULT_COMPACTION_PROMPT`].
    pub fn new() -> Self {
        Compaction {
            side: Side::Client,
            threshold: None,
            prompt: DEFAULT_COMPACTION_PROMPT.to_owned(),
            instructions: None,
            pause_after: false,
            max_tokens: None,
            on_compact: None,
        }
    }

    /// Compaction by the API: every request carries
    /// `context_management.edits = [{"type": "compact_20260112", ...}]`
    /// (other edits you set are kept) and the `compact-2026-01-12` beta.
    /// When the input grows past the trigger, the API summarises the older
    /// context into a `compaction` block, which the runner sends back as
    /// received; a `compaction` stop reason (with
    /// [`pause_after_compaction`](Self::pause_after_compaction)) resumes the
    /// turn. [`threshold`](Self::threshold) sets the trigger (in input
    /// tokens; the API's default otherwise) and
    /// [`instructions`](Self::instructions) the summary's instructions.
    ///
    /// ```
    /// use toolrunner::Compaction;
    ///
    /// let compaction = Compaction::server()
    ///     .threshold(120_000)
    ///     .instructions("Keep every file path and test name.");
    /// # let _ = compaction;
    /// ```
    pub fn server() -> Self {
        Compaction {
            side: Side::Server,
            ..Compaction::new()
        }
    }

    /// Compacts after a turn that used at least `tokens` (input, cached
    /// input and output together) on the client; on the server, sets the
    /// edit's trigger to `tokens` input tokens.
    #[must_use]
    pub fn threshold(mut self, tokens: u64) -> Self {
        self.threshold = Some(tokens);
        self
    }

    /// Instructions for the API's summary (server-side compaction only; on
    /// the client, [`prompt`](Self::prompt) replaces the whole prompt).
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Whether the API stops after compacting (`compaction` stop reason)
    /// before the model answers (server-side compaction only; default
    /// false). The runner resumes the turn either way.
    #[must_use]
    pub fn pause_after_compaction(mut self, pause: bool) -> Self {
        self.pause_after = pause;
        self
    }

    /// Whether the API compacts (see [`server`](Self::server)).
    pub fn is_server(&self) -> bool {
        self.side == Side::Server
    }

    /// The `compact_20260112` edit for the request.
    pub(crate) fn edit(&self) -> Value {
        let mut edit = Map::new();
        edit.insert("type".into(), COMPACT_EDIT.into());
        if let Some(tokens) = self.threshold {
            edit.insert(
                "trigger".into(),
                json!({"type": "input_tokens", "value": tokens}),
            );
        }
        if let Some(instructions) = &self.instructions {
            edit.insert("instructions".into(), instructions.clone().into());
        }
        if self.pause_after {
            edit.insert("pause_after_compaction".into(), true.into());
        }
        Value::Object(edit)
    }

    /// Puts the compaction edit in `params`, in place of any compaction
    /// edit there, keeping other edits; adds the beta it needs.
    pub(crate) fn install(&self, params: &mut MessageParams) {
        let management = params.context_management.get_or_insert_with(|| json!({}));
        if !management.is_object() {
            *management = json!({});
        }
        if let Value::Object(management) = management {
            let edits = management
                .entry("edits")
                .or_insert_with(|| Value::Array(Vec::new()));
            if !edits.is_array() {
                *edits = Value::Array(Vec::new());
            }
            if let Value::Array(edits) = edits {
                edits.retain(|edit| !is_compaction_edit(edit));
                edits.push(self.edit());
            }
        }
        if !params.betas.iter().any(|b| b == COMPACT_BETA) {
            params.betas.push(COMPACT_BETA.to_owned());
        }
    }

    /// Puts in `params` this edit, with a trigger that fires at the next
    /// request: `context` tokens (what the last reply's turn held, input
    /// and output; the next request holds at least as much), or the
    /// API's smallest trigger when the conversation is smaller, so that
    /// the API compacts as soon as it can. A lower configured trigger
    /// is kept.
    pub(crate) fn install_forced(&self, params: &mut MessageParams, context: u64) {
        let forced = context.max(SERVER_MIN_TRIGGER);
        if context < SERVER_MIN_TRIGGER {
            tracing::info!(
                tokens = context,
                minimum = SERVER_MIN_TRIGGER,
                "compaction asked for below the smallest trigger the API accepts; the API compacts once the conversation reaches it"
            );
        }
        let edit = Compaction {
            threshold: Some(self.threshold.map_or(forced, |t| t.min(forced))),
            ..self.clone()
        };
        edit.install(params);
    }

    /// Replaces the prompt that asks for the summary.
    #[must_use]
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = prompt.into();
        self
    }

    /// The most tokens the summary may take (default: the request's `max_tokens`).
    #[must_use]
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Calls `f` with the history before and after each compaction.
    #[must_use]
    pub fn on_compact(
        mut self,
        f: impl Fn(&[MessageParam], &[MessageParam]) + Send + Sync + 'static,
    ) -> Self {
        self.on_compact = Some(Arc::new(f));
        self
    }

    /// Whether a turn that used `message`'s tokens calls for compaction.
    pub(crate) fn is_due(&self, message: &Message) -> bool {
        self.side == Side::Client
            && message.usage.total_input_tokens() + message.usage.output_tokens
                >= self.threshold.unwrap_or(DEFAULT_COMPACTION_THRESHOLD)
    }

    /// The parameters of the summary request, when there is anything
    /// before the last turn to summarise. The last two messages are the
    /// turn and its tool results.
    ///
    /// With calls from code in the history, more may be kept: see
    /// [`split_point`].
    pub(crate) fn request(&self, params: &MessageParams) -> Option<MessageParams> {
        let kept = split_point(&params.messages)?;
        let mut summary = params.clone();
        summary.messages.truncate(kept);
        // Consecutive user messages are merged by the API, so the prompt
        // may follow tool results directly.
        summary
            .messages
            .push(MessageParam::user(self.prompt.clone()));
        summary.tool_choice = Some(crate::types::ToolChoice::None);
        if let Some(max_tokens) = self.max_tokens {
            summary.max_tokens = max_tokens;
        }
        Some(summary)
    }

    /// Replaces everything before the last turn with `summary`, and with
    /// the tool changes made there that still stand (`declared`: the
    /// runner's tools in `tools`).
    pub(crate) fn apply(&self, params: &mut MessageParams, summary: &Message, declared: &Toolset) {
        let before = params.messages.clone();
        let Some(kept) = split_point(&before) else {
            return;
        };
        let text = format!(
            "This conversation continues an earlier one that was cut to save space. Summary of the earlier part:\n\n<summary>\n{}\n</summary>",
            summary.text().trim()
        );
        let mut after = vec![MessageParam::blocks(
            Role::User,
            vec![ContentBlock::Text(TextBlock::new(text))],
        )];
        // The tools the model was given and taken mid-run went with the
        // messages that told it; the kept tail starts with an assistant
        // turn, so they are told again right before it, where the runner
        // sends any change.
        let declares =
            |name: &str| declared.contains(name) || params.tools.iter().any(|t| t["name"] == name);
        after.extend(standing_changes(&before[..kept], declares));
        after.extend(before[kept..].iter().cloned());
        tracing::info!(
            before = before.len(),
            after = after.len(),
            "conversation compacted"
        );
        if let Some(callback) = &self.on_compact {
            callback(&before, &after);
        }
        params.messages = after;
    }
}

/// Whether `edit` is a compaction edit (`compact_*`) of `context_management`.
fn is_compaction_edit(edit: &Value) -> bool {
    edit["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("compact_"))
}

/// Whether `params` carry a compaction edit.
pub(crate) fn has_compaction_edit(params: &MessageParams) -> bool {
    params
        .context_management
        .as_ref()
        .and_then(|m| m["edits"].as_array())
        .is_some_and(|edits| edits.iter().any(is_compaction_edit))
}

/// The parameters of a one-off `compaction` request: the whole history
/// with `compaction: {"type": "summarize"}`, without what only shapes a
/// reply (the API returns a compaction block alone, and rejects those).
pub(crate) fn summarize_request(params: &MessageParams) -> MessageParams {
    let mut request = params.clone();
    request.context_management = None;
    request.stop_sequences.clear();
    super::structured::clear_format(&mut request);
    if request
        .tool_choice
        .as_ref()
        .is_some_and(|c| matches!(c.kind(), Some("any" | "tool")))
    {
        request.tool_choice = None;
    }
    request
        .extra
        .insert("compaction".into(), json!({"type": "summarize"}));
    if !request.betas.iter().any(|b| b == SUMMARIZE_BETA) {
        request.betas.push(SUMMARIZE_BETA.to_owned());
    }
    request
}

/// Replaces the history with the compaction response, when it holds a
/// compaction block; the history is kept otherwise.
pub(crate) fn apply_summarized(params: &mut MessageParams, response: &Message) -> bool {
    let compacted = response
        .content
        .iter()
        .any(|block| block.kind() == "compaction");
    if !compacted {
        tracing::warn!("compaction returned no compaction block; keeping the conversation");
        return false;
    }
    tracing::info!(
        before = params.messages.len(),
        "conversation compacted by the API"
    );
    params.messages = vec![MessageParam::from(response.clone())];
    true
}

/// The error for a forced compaction next to a compaction edit the runner
/// did not add.
pub(crate) fn conflicts_with_edit() -> Error {
    Error::invalid_request(
        "`compact_before_next_turn()` cannot be used while `context_management` has a compaction edit of your own: the API does not accept a summarized conversation together with one; set `Compaction::server()` instead of the edit, and the next request's edit compacts",
    )
}

impl fmt::Debug for Compaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compaction")
            .field("side", &self.side)
            .field("threshold", &self.threshold)
            .field("instructions", &self.instructions)
            .field("pause_after_compaction", &self.pause_after)
            .field("prompt", &self.prompt)
            .field("max_tokens", &self.max_tokens)
            .field("on_compact", &self.on_compact.is_some())
            .finish()
    }
}
