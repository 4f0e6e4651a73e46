//! Automatic prompt caching, for requests that send the whole history.
//!
//! Without a message thread every request sends the whole conversation,
//! and without a cache breakpoint the API bills all of it at the full
//! input price each turn. [`PromptCaching`] marks each such request so
//! that it writes its prefix to the cache and the next request, which
//! begins with the same prefix, reads it: the top-level `cache_control`
//! where the platform takes it (the API puts the breakpoint on the last
//! cacheable block itself), otherwise a breakpoint on the last block of
//! the history. The mark is made on the wire only: the history keeps no
//! breakpoint of the runner's, so breakpoints never pile up.
//!
//! The user's own breakpoints are never moved or removed, and they count
//! against the API's limit of [`MAX_BREAKPOINTS`]: when they use every
//! slot, or already mark the end of the request, nothing is added.
//!
//! Where the platform offers cache diagnostics, each request names the
//! previous reply (`diagnostics.previous_message_id`), and a reply that
//! reports why the cache missed is logged with the reason.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::thread::KEYS_THAT_HOLD_BLOCKS;
use crate::client::Client;
use crate::platform::Feature;
use crate::toolset::Toolset;
use crate::types::{Content, ContentBlock, Message, MessageParam, MessageParams, System};

/// The most cache breakpoints the API accepts in one request, in `tools`,
/// `system` and `messages` together, the automatic one included.
pub(crate) const MAX_BREAKPOINTS: usize = 4;

/// Whether the runner caches, and what it remembers between requests.
/// Kept in a [`RunState`](crate::RunState) (absent from states written
/// before it: caching on, as for a new run).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct PromptCaching {
    enabled: bool,
    /// The id of the last reply, named by the next request's diagnostics.
    previous_reply: Option<String>,
    /// What the platform takes; set from the client, never kept.
    #[serde(skip)]
    target: Target,
}

/// What the platform takes, from its [`Feature`](crate::platform::Feature)s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Target {
    /// The top-level `cache_control`.
    pub(crate) top_level: bool,
    /// `diagnostics` in requests and replies.
    pub(crate) diagnostics: bool,
}

/// What one request adds for caching.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct CachePlan {
    /// The top-level `cache_control` to send.
    pub(crate) cache_control: Option<Value>,
    /// The last message of the history as sent, with a breakpoint on its
    /// last block.
    pub(crate) last_message: Option<Value>,
    /// The `diagnostics` field to send.
    pub(crate) diagnostics: Option<Value>,
}

/// Two states are alike whatever platform each was set for: that is not
/// kept.
impl PartialEq for PromptCaching {
    fn eq(&self, other: &Self) -> bool {
        self.enabled == other.enabled && self.previous_reply == other.previous_reply
    }
}

/// How `client`'s platform takes prompt caching.
pub(crate) fn target_of(client: &Client) -> Target {
    Target {
        top_level: client.offers(Feature::AutomaticCaching),
        diagnostics: client.offers(Feature::CacheDiagnostics),
    }
}

impl Default for PromptCaching {
    fn default() -> Self {
        PromptCaching {
            enabled: true,
            previous_reply: None,
            target: Target::default(),
        }
    }
}

impl PromptCaching {
    /// Turns automatic caching on or off.
    pub(crate) fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Says what the platform takes.
    pub(crate) fn set_target(&mut self, target: Target) {
        self.target = target;
    }

    /// What a request that sends the whole history of `params`, with the
    /// `declared` tools, adds for caching. Nothing when caching is off.
    pub(crate) fn plan(&self, params: &MessageParams, declared: &Toolset) -> CachePlan {
        if !self.enabled {
            return CachePlan::default();
        }
        let diagnostics = match &self.previous_reply {
            Some(id) if self.target.diagnostics && !params.extra.contains_key("diagnostics") => {
                Some(json!({"previous_message_id": id}))
            }
            _ => None,
        };
        let mut plan = CachePlan {
            diagnostics,
            ..CachePlan::default()
        };
        // The user's top-level mark does this already.
        if params.cache_control.is_some() {
            return plan;
        }
        let Some(last) = params.messages.last() else {
            return plan;
        };
        let Some(at) = last_cacheable(last) else {
            return plan;
        };
        if let Content::Blocks(blocks) = &last.content
            && breakpoints_in_block(&blocks[at]) > 0
        {
            // The user marked the end already: the request writes it.
            return plan;
        }
        let used = breakpoints(params, declared);
        if used >= MAX_BREAKPOINTS {
            tracing::debug!(
                breakpoints = used,
                "the request uses every cache breakpoint; the runner adds none"
            );
            return plan;
        }
        if self.target.top_level {
            plan.cache_control = Some(ephemeral());
        } else {
            plan.last_message = marked(last, at);
        }
        plan
    }

    /// Takes in a reply: the next request names it, and its diagnostics,
    /// if it has any, are logged.
    pub(crate) fn on_reply(&mut self, reply: &Message) {
        if let Some(reason) = reply
            .extra
            .get("diagnostics")
            .and_then(|d| d.get("cache_miss_reason"))
            .filter(|r| !r.is_null())
        {
            let kind = reason
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            let missed = reason
                .get("cache_missed_input_tokens")
                .and_then(Value::as_u64);
            tracing::info!(
                reason = kind,
                cache_missed_input_tokens = missed,
                previous_message_id = self.previous_reply.as_deref(),
                message_id = %reply.id,
                "the prompt cache missed part of the previous request's prefix: {kind}"
            );
        }
        self.previous_reply = Some(reply.id.clone());
    }

    /// Forgets the previous reply: after compaction the next request does
    /// not extend it, and a diagnosis would only say so.
    pub(crate) fn on_compacted(&mut self) {
        self.previous_reply = None;
    }
}

fn ephemeral() -> Value {
    json!({"type": "ephemeral"})
}

/// Blocks of kinds this crate keeps as they come whose parameters take no
/// `cache_control` (the SDKs' `*BlockParam` types say which).
const TAKE_NO_BREAKPOINT: &[&str] = &["fallback", "mcp_tool_listing"];

/// The index of the block of `message` a breakpoint can go on: the last
/// one, past blocks that take none (thinking, say) and empty text. `0` for
/// a message of plain text; `None` when no block can take one.
fn last_cacheable(message: &MessageParam) -> Option<usize> {
    match &message.content {
        Content::Text(text) => (!text.is_empty()).then_some(0),
        Content::Blocks(blocks) => blocks.iter().rposition(|block| match block {
            ContentBlock::Thinking(_) | ContentBlock::RedactedThinking(_) => false,
            ContentBlock::Text(text) => !text.text.is_empty(),
            ContentBlock::Other(other) => !TAKE_NO_BREAKPOINT.contains(&other.kind()),
            _ => true,
        }),
    }
}

/// `message` as sent, with a breakpoint on block `at`.
fn marked(message: &MessageParam, at: usize) -> Option<Value> {
    let mut value = serde_json::to_value(message).ok()?;
    match value.get_mut("content")? {
        Value::String(text) => {
            let text = std::mem::take(text);
            value["content"] =
                json!([{"type": "text", "text": text, "cache_control": ephemeral()}]);
        }
        Value::Array(blocks) => {
            blocks
                .get_mut(at)?
                .as_object_mut()?
                .insert("cache_control".into(), ephemeral());
        }
        _ => return None,
    }
    Some(value)
}

/// The breakpoints the user set in the tools, the system prompt and the
/// messages of `params`.
fn breakpoints(params: &MessageParams, declared: &Toolset) -> usize {
    let tools = params.tools.iter().map(breakpoints_in_value).sum::<usize>()
        + declared
            .definitions()
            .filter(|def| def.cache_control.is_some())
            .count();
    let system = match &params.system {
        None | Some(System::Text(_)) => 0,
        Some(System::Blocks(blocks)) => blocks.iter().filter(|b| b.cache_control.is_some()).count(),
        Some(System::Other(value)) => breakpoints_in_value(value),
    };
    let messages = params
        .messages
        .iter()
        .map(|message| match &message.content {
            Content::Text(_) => 0,
            Content::Blocks(blocks) => blocks.iter().map(breakpoints_in_block).sum(),
        })
        .sum::<usize>();
    tools + system + messages
}

fn breakpoints_in_block(block: &ContentBlock) -> usize {
    let own = |cache_control: &Option<Value>| usize::from(cache_control.is_some());
    match block {
        ContentBlock::Text(b) => own(&b.cache_control),
        ContentBlock::Image(b) => own(&b.cache_control),
        ContentBlock::Document(b) => own(&b.cache_control),
        ContentBlock::ToolUse(b) => own(&b.cache_control),
        ContentBlock::ToolResult(b) => {
            let nested = match &b.content {
                Some(crate::types::ToolResultContent::Blocks(blocks)) => {
                    blocks.iter().map(breakpoints_in_block).sum()
                }
                _ => 0,
            };
            own(&b.cache_control) + nested
        }
        ContentBlock::Thinking(b) => usize::from(b.extra.contains_key("cache_control")),
        ContentBlock::RedactedThinking(b) => usize::from(b.extra.contains_key("cache_control")),
        ContentBlock::ServerToolUse(b) => usize::from(b.extra.contains_key("cache_control")),
        ContentBlock::Other(b) => breakpoints_in_value(&b.to_value()),
    }
}

/// The breakpoints in a block or tool written as JSON, and in the blocks
/// it holds.
fn breakpoints_in_value(value: &Value) -> usize {
    match value {
        Value::Object(object) => {
            let own = usize::from(object.get("cache_control").is_some_and(|c| !c.is_null()));
            own + object
                .iter()
                .filter(|(key, _)| KEYS_THAT_HOLD_BLOCKS.contains(&key.as_str()))
                .map(|(_, item)| breakpoints_in_value(item))
                .sum::<usize>()
        }
        Value::Array(items) => items.iter().map(breakpoints_in_value).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Role, TextBlock, ToolResultBlock};

    fn cached_text(text: &str) -> ContentBlock {
        ContentBlock::Text(TextBlock {
            cache_control: Some(ephemeral()),
            ..TextBlock::new(text)
        })
    }

    fn block_target() -> PromptCaching {
        PromptCaching::default()
    }

    #[test]
    fn a_plain_text_message_becomes_a_marked_block() {
        let params = MessageParams::new("m", 1).user("hi");
        let plan = block_target().plan(&params, &Toolset::new());
        assert_eq!(
            plan.last_message,
            Some(json!({"role": "user", "content": [
                {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}
            ]}))
        );
        assert_eq!(plan.cache_control, None);
    }

    #[test]
    fn thinking_takes_no_breakpoint_and_nested_ones_count() {
        let thinking: ContentBlock =
            serde_json::from_value(json!({"type": "thinking", "thinking": "hm", "signature": "s"}))
                .unwrap();
        let message =
            MessageParam::blocks(Role::Assistant, vec![ContentBlock::text("a"), thinking]);
        assert_eq!(last_cacheable(&message), Some(0));
        let result = ToolResultBlock {
            content: Some(crate::types::ToolResultContent::Blocks(vec![cached_text(
                "x",
            )])),
            ..ToolResultBlock::new("toolu_1", None)
        };
        assert_eq!(breakpoints_in_block(&ContentBlock::ToolResult(result)), 1);
        let other = crate::types::OtherBlock::from_json(
            r#"{"type": "web_search_tool_result", "content": [{"type": "x", "cache_control": {"type": "ephemeral"}}], "cache_control": {"type": "ephemeral"}}"#,
        )
        .unwrap();
        assert_eq!(breakpoints_in_block(&ContentBlock::Other(other)), 2);
    }

    #[test]
    fn a_diagnosis_names_the_previous_reply_only_where_offered() {
        let reply: Message = serde_json::from_value(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [], "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 1, "output_tokens": 1}
        }))
        .unwrap();
        let params = MessageParams::new("m", 1).user("hi");
        let mut caching = PromptCaching::default();
        caching.on_reply(&reply);
        assert_eq!(caching.plan(&params, &Toolset::new()).diagnostics, None);
        caching.set_target(Target {
            top_level: true,
            diagnostics: true,
        });
        let plan = caching.plan(&params, &Toolset::new());
        assert_eq!(
            plan.diagnostics,
            Some(json!({"previous_message_id": "msg_1"}))
        );
        assert_eq!(plan.cache_control, Some(ephemeral()));
        caching.on_compacted();
        assert_eq!(caching.plan(&params, &Toolset::new()).diagnostics, None);
    }
}
