//! The typed events of a streamed response.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::types::{ContentBlock, Message, StopReason, Usage};

/// One event of a streamed response, in the order the API sends them.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// The message begins; its content is still empty.
    MessageStart {
        /// The message so far: id, model, initial usage.
        message: Message,
    },
    /// A content block begins at `index`.
    ContentBlockStart {
        /// The block's position in the message's content.
        index: usize,
        /// The block as it starts (text empty, tool input not yet streamed).
        content_block: ContentBlock,
    },
    /// More of the block at `index`.
    ContentBlockDelta {
        /// The block's position.
        index: usize,
        /// What was added.
        delta: Delta,
    },
    /// The block at `index` is complete.
    ContentBlockStop {
        /// The block's position.
        index: usize,
    },
    /// Top-level changes: the stop reason and the final usage.
    MessageDelta {
        /// Why the model stopped, once known.
        stop_reason: Option<StopReason>,
        /// The stop sequence that was hit, if any.
        stop_sequence: Option<String>,
        /// Usage so far, typed as [`Message::usage`]; counts are cumulative,
        /// and a count the event leaves out reads as 0 here (the message
        /// keeps its earlier value). `None` when the event has no usage.
        usage: Option<Usage>,
        /// The whole `delta` object, with any fields this crate does not model
        /// (such as `stop_details` and `container`).
        raw: Value,
        /// The event's other fields besides `type`, `delta` and `usage`, such
        /// as `context_management` and `input_transformations`.
        extra: Map<String, Value>,
    },
    /// The message is complete.
    MessageStop,
    /// A keep-alive; carries nothing.
    Ping,
    /// An event this crate does not know yet, kept as received.
    Other {
        /// The SSE event name.
        event: String,
        /// The event's data.
        data: Value,
    },
}

/// What a `content_block_delta` adds to its block.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Delta {
    /// More text of a text block.
    Text(String),
    /// More reasoning of a thinking block.
    Thinking(String),
    /// The signature of a thinking block.
    Signature(String),
    /// More of a tool's input, as a fragment of JSON text; the input is
    /// parsed once the block stops.
    InputJson(String),
    /// A citation to add to a text block.
    Citation(Value),
    /// The summary of a server-side `compaction` block: the delta's fields
    /// besides `type` (`content`, `encrypted_content`), which replace the
    /// block's.
    Compaction(Map<String, Value>),
    /// A delta this crate does not know yet, kept as received.
    Other(Value),
}

/// Parses the data of one SSE event; an `error` event is an `Err`.
pub(crate) fn parse_event(event: &str, data: &str) -> Result<StreamEvent, ParseError> {
    #[derive(Deserialize)]
    struct Start {
        message: Message,
    }
    #[derive(Deserialize)]
    struct BlockStart {
        index: usize,
        content_block: ContentBlock,
    }
    #[derive(Deserialize)]
    struct BlockDelta {
        index: usize,
        delta: Value,
    }
    #[derive(Deserialize)]
    struct BlockStop {
        index: usize,
    }
    #[derive(Deserialize)]
    struct MsgDelta {
        #[serde(default)]
        delta: Value,
        #[serde(default)]
        usage: Option<Value>,
        #[serde(flatten)]
        extra: Map<String, Value>,
    }
    #[derive(Deserialize)]
    struct ApiError {
        error: ErrorBody,
    }
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(rename = "type", default)]
        kind: String,
        #[serde(default)]
        message: String,
    }

    let bad = |e: serde_json::Error| ParseError::Malformed {
        event: event.to_owned(),
        detail: e.to_string(),
    };
    Ok(match event {
        "message_start" => StreamEvent::MessageStart {
            message: serde_json::from_str::<Start>(data).map_err(bad)?.message,
        },
        "content_block_start" => {
            let start: BlockStart = serde_json::from_str(data).map_err(bad)?;
            StreamEvent::ContentBlockStart {
                index: start.index,
                content_block: start.content_block,
            }
        }
        "content_block_delta" => {
            let d: BlockDelta = serde_json::from_str(data).map_err(bad)?;
            StreamEvent::ContentBlockDelta {
                index: d.index,
                delta: read_delta(d.delta),
            }
        }
        "content_block_stop" => StreamEvent::ContentBlockStop {
            index: serde_json::from_str::<BlockStop>(data).map_err(bad)?.index,
        },
        "message_delta" => {
            let mut d: MsgDelta = serde_json::from_str(data).map_err(bad)?;
            d.extra.shift_remove("type");
            let stop_reason = d
                .delta
                .get("stop_reason")
                .filter(|v| !v.is_null())
                .map(|v| StopReason::deserialize(v).map_err(bad))
                .transpose()?;
            let stop_sequence = d
                .delta
                .get("stop_sequence")
                .and_then(Value::as_str)
                .map(str::to_owned);
            StreamEvent::MessageDelta {
                stop_reason,
                stop_sequence,
                // Usage the crate cannot read is left out rather than
                // failing the whole event.
                usage: d
                    .usage
                    .filter(|usage| !usage.is_null())
                    .and_then(|usage| serde_json::from_value::<Usage>(usage).ok()),
                raw: d.delta,
                extra: d.extra,
            }
        }
        "message_stop" => StreamEvent::MessageStop,
        "ping" => StreamEvent::Ping,
        "error" => {
            let e: ApiError = serde_json::from_str(data).map_err(bad)?;
            return Err(ParseError::Api {
                error_type: e.error.kind,
                message: e.error.message,
            });
        }
        other => StreamEvent::Other {
            event: other.to_owned(),
            data: serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.to_owned())),
        },
    })
}

fn read_delta(delta: Value) -> Delta {
    let text = |key: &str| delta.get(key).and_then(Value::as_str).map(str::to_owned);
    match delta.get("type").and_then(Value::as_str) {
        Some("text_delta") => text("text").map_or(Delta::Other(delta.clone()), Delta::Text),
        Some("thinking_delta") => {
            text("thinking").map_or(Delta::Other(delta.clone()), Delta::Thinking)
        }
        Some("signature_delta") => {
            text("signature").map_or(Delta::Other(delta.clone()), Delta::Signature)
        }
        Some("input_json_delta") => {
            text("partial_json").map_or(Delta::Other(delta.clone()), Delta::InputJson)
        }
        Some("citations_delta") => {
            Delta::Citation(delta.get("citation").cloned().unwrap_or(Value::Null))
        }
        Some("compaction_delta") => match delta {
            Value::Object(mut fields) => {
                fields.shift_remove("type");
                Delta::Compaction(fields)
            }
            other => Delta::Other(other),
        },
        _ => Delta::Other(delta),
    }
}

impl Delta {
    /// The delta as the API sent it, such as
    /// `{"type": "text_delta", "text": "..."}`.
    pub fn to_value(&self) -> Value {
        let typed = |kind: &str, key: &str, value: Value| {
            let mut fields = Map::new();
            fields.insert("type".to_owned(), Value::String(kind.to_owned()));
            fields.insert(key.to_owned(), value);
            Value::Object(fields)
        };
        match self {
            Delta::Text(text) => typed("text_delta", "text", Value::String(text.clone())),
            Delta::Thinking(text) => {
                typed("thinking_delta", "thinking", Value::String(text.clone()))
            }
            Delta::Signature(text) => {
                typed("signature_delta", "signature", Value::String(text.clone()))
            }
            Delta::InputJson(text) => typed(
                "input_json_delta",
                "partial_json",
                Value::String(text.clone()),
            ),
            Delta::Citation(citation) => typed("citations_delta", "citation", citation.clone()),
            Delta::Compaction(fields) => {
                let mut all = Map::new();
                all.insert(
                    "type".to_owned(),
                    Value::String("compaction_delta".to_owned()),
                );
                all.extend(fields.clone());
                Value::Object(all)
            }
            Delta::Other(value) => value.clone(),
        }
    }
}

/// Why an event could not be read.
#[derive(Debug)]
pub(crate) enum ParseError {
    /// The API sent an `error` event.
    Api { error_type: String, message: String },
    /// The event's data is not what its name promises.
    Malformed { event: String, detail: String },
}
