//! The response message and its parts.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::block_de::Key;
use super::content::{ContentBlock, ToolUseBlock};
use super::params::Role;
use super::response::{ResponseSlot, response_accessors};

/// A message returned by the Messages API.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    /// The message id (`msg_...`).
    pub id: String,
    /// Always `message`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always [`Role::Assistant`].
    pub role: Role,
    /// The model that answered.
    pub model: String,
    /// The content blocks, in order.
    pub content: Vec<ContentBlock>,
    /// Why the model stopped; `None` only in streaming snapshots.
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that was hit, if any.
    pub stop_sequence: Option<String>,
    /// Token usage.
    pub usage: Usage,
    /// The code-execution container, when one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// Fields this crate does not model (such as `context_management`), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The response the message came in; not part of the message.
    #[serde(skip)]
    response: ResponseSlot,
}

response_accessors!(Message);

impl Message {
    /// The message's `tool_use` blocks, in order.
    pub fn tool_uses(&self) -> impl Iterator<Item = &ToolUseBlock> {
        self.content.iter().filter_map(ContentBlock::as_tool_use)
    }

    /// The text of all text blocks, concatenated.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect()
    }
}

// Written out rather than derived: `#[serde(flatten)]` would buffer `content`,
// and content blocks must be read from the original text to be kept exactly.
impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MessageVisitor;

        impl<'de> Visitor<'de> for MessageVisitor {
            type Value = Message;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a message object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Message, A::Error> {
                let mut id = None;
                let mut kind = None;
                let mut role = None;
                let mut model = None;
                let mut content = None;
                let mut stop_reason = None;
                let mut stop_sequence = None;
                let mut usage = None;
                let mut container = None;
                let mut extra = Map::new();
                // Keys are borrowed from the input: only an unknown one,
                // kept in `extra`, is copied.
                while let Some(Key(key)) = map.next_key()? {
                    match &*key {
                        "id" => id = Some(map.next_value()?),
                        "type" => kind = Some(map.next_value()?),
                        "role" => role = Some(map.next_value()?),
                        "model" => model = Some(map.next_value()?),
                        "content" => content = Some(map.next_value()?),
                        "stop_reason" => stop_reason = map.next_value()?,
                        "stop_sequence" => stop_sequence = map.next_value()?,
                        "usage" => usage = Some(map.next_value()?),
                        "container" => container = map.next_value()?,
                        _ => {
                            let value = map.next_value()?;
                            extra.insert(key.into_owned(), value);
                        }
                    }
                }
                Ok(Message {
                    id: id.ok_or_else(|| de::Error::missing_field("id"))?,
                    kind: kind.unwrap_or_else(|| "message".to_owned()),
                    role: role.unwrap_or(Role::Assistant),
                    model: model.unwrap_or_default(),
                    content: content.ok_or_else(|| de::Error::missing_field("content"))?,
                    stop_reason,
                    stop_sequence,
                    usage: usage.unwrap_or_default(),
                    container,
                    extra,
                    response: ResponseSlot::default(),
                })
            }
        }

        deserializer.deserialize_map(MessageVisitor)
    }
}

/// Why the model stopped.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The model finished its turn.
    EndTurn,
    /// The `max_tokens` limit was reached.
    MaxTokens,
    /// A stop sequence was produced.
    StopSequence,
    /// The model asks for client tools to be run.
    ToolUse,
    /// A long server-tool turn was paused; send it back to let it continue.
    PauseTurn,
    /// The model declined to answer.
    Refusal,
    /// The context window filled up.
    ModelContextWindowExceeded,
    /// The server compacted the context; send the turn back to continue.
    Compaction,
    /// A stop reason this crate does not know yet, kept as received.
    Other(String),
}

impl StopReason {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            StopReason::EndTurn => "end_turn",
            StopReason::MaxTokens => "max_tokens",
            StopReason::StopSequence => "stop_sequence",
            StopReason::ToolUse => "tool_use",
            StopReason::PauseTurn => "pause_turn",
            StopReason::Refusal => "refusal",
            StopReason::ModelContextWindowExceeded => "model_context_window_exceeded",
            StopReason::Compaction => "compaction",
            StopReason::Other(other) => other,
        }
    }

    fn from_wire(s: &str) -> Self {
        match s {
            "end_turn" => StopReason::EndTurn,
            "max_tokens" => StopReason::MaxTokens,
            "stop_sequence" => StopReason::StopSequence,
            "tool_use" => StopReason::ToolUse,
            "pause_turn" => StopReason::PauseTurn,
            "refusal" => StopReason::Refusal,
            "model_context_window_exceeded" => StopReason::ModelContextWindowExceeded,
            "compaction" => StopReason::Compaction,
            other => StopReason::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StopReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StopReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(StopReason::from_wire(&s))
    }
}

/// Token usage of one response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens not read from or written to the cache.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Usage {
    /// All input tokens, cached or not.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens
            + self.cache_creation_input_tokens.unwrap_or(0)
            + self.cache_read_input_tokens.unwrap_or(0)
    }
}

/// The code-execution container a response ran in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Container {
    /// The container id (`container_...`); name it in the next request to keep its state.
    pub id: String,
    /// When the container expires (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Field names are borrowed while read; one written with escapes is
    /// read as its text, and an unknown one is kept under that text.
    #[test]
    fn escaped_and_unknown_field_names_are_read_as_their_text() {
        let message: Message = serde_json::from_str(
            r#"{"\u0069d":"msg_1","content":[],"brand_\u006eew":{"x":1},"model":"m"}"#,
        )
        .unwrap();
        assert_eq!(message.id, "msg_1");
        assert_eq!(message.model, "m");
        assert_eq!(message.extra.keys().collect::<Vec<_>>(), ["brand_new"]);
        assert_eq!(message.extra["brand_new"], serde_json::json!({"x": 1}));
    }
}
