//! Client-side compaction: when a turn grows past a token threshold, the
//! runner asks the model for a summary of the conversation so far and goes
//! on from that summary.

use std::fmt;
use std::sync::Arc;

use serde_json::json;

use super::compaction_split::split_point;
use crate::types::{ContentBlock, Message, MessageParam, MessageParams, Role, TextBlock};

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
#[derive(Clone)]
pub struct Compaction {
    pub(crate) threshold: u64,
    pub(crate) prompt: String,
    pub(crate) max_tokens: Option<u32>,
    pub(crate) on_compact: Option<Callback>,
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
            threshold: DEFAULT_COMPACTION_THRESHOLD,
            prompt: DEFAULT_COMPACTION_PROMPT.to_owned(),
            max_tokens: None,
            on_compact: None,
        }
    }

    /// Compacts after a turn that used at least `tokens` (input, cached
    /// input and output together).
    #[must_use]
    pub fn threshold(mut self, tokens: u64) -> Self {
        self.threshold = tokens;
        self
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
        message.usage.total_input_tokens() + message.usage.output_tokens >= self.threshold
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
        summary.tool_choice = Some(json!({"type": "none"}));
        if let Some(max_tokens) = self.max_tokens {
            summary.max_tokens = max_tokens;
        }
        Some(summary)
    }

    /// Replaces everything before the last turn with `summary`.
    pub(crate) fn apply(&self, params: &mut MessageParams, summary: &Message) {
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

impl fmt::Debug for Compaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compaction")
            .field("threshold", &self.threshold)
            .field("prompt", &self.prompt)
            .field("max_tokens", &self.max_tokens)
            .field("on_compact", &self.on_compact.is_some())
            .finish()
    }
}
