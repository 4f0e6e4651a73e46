//! Building the final message of a streamed turn from its events.

use std::collections::HashMap;

use serde_json::Value;

use super::event::{Delta, StreamEvent};
use crate::error::Error;
use crate::types::{Container, ContentBlock, Message, OtherBlock, Usage};

/// Applies events, in order, to the message they describe.
#[derive(Debug, Default)]
pub(crate) struct Accumulator {
    message: Option<Message>,
    /// Tool input streamed so far, by block index, parsed when the block stops.
    partial_json: HashMap<usize, String>,
    stopped: bool,
}

impl Accumulator {
    /// Applies one event.
    ///
    /// # Errors
    ///
    /// A broken-stream error when the events do not fit together (a delta
    /// before its block, a block that never started).
    pub(crate) fn apply(&mut self, event: &StreamEvent) -> Result<(), Error> {
        match event {
            StreamEvent::MessageStart { message } => self.message = Some(message.clone()),
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                let message = self.message_mut("content_block_start")?;
                if *index != message.content.len() {
                    return Err(Error::stream_broken(format!(
                        "content block {index} started, but the message has {} blocks",
                        message.content.len()
                    )));
                }
                message.content.push(content_block.clone());
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                if let Delta::InputJson(fragment) = delta {
                    self.partial_json
                        .entry(*index)
                        .or_default()
                        .push_str(fragment);
                    return Ok(());
                }
                let block = self.block_mut(*index)?;
                match (block, delta) {
                    (ContentBlock::Text(text), Delta::Text(more)) => text.text.push_str(more),
                    (ContentBlock::Text(text), Delta::Citation(citation)) => {
                        let citations = text
                            .extra
                            .entry("citations")
                            .or_insert(Value::Array(Vec::new()));
                        if !citations.is_array() {
                            *citations = Value::Array(Vec::new());
                        }
                        if let Value::Array(list) = citations {
                            list.push(citation.clone());
                        }
                    }
                    (ContentBlock::Thinking(thinking), Delta::Thinking(more)) => {
                        thinking.thinking.push_str(more)
                    }
                    (ContentBlock::Thinking(thinking), Delta::Signature(signature)) => {
                        thinking.signature.clone_from(signature);
                    }
                    (ContentBlock::Other(other), Delta::Compaction(fields))
                        if other.kind() == "compaction" =>
                    {
                        set_fields(other, fields)?;
                    }
                    // A block this crate does not model keeps every delta it
                    // was sent, so that nothing streamed is lost.
                    (ContentBlock::Other(other), delta) => other.push_delta(delta.to_value()),
                    (block, delta) => {
                        tracing::debug!(
                            kind = block.kind(),
                            ?delta,
                            "stream delta not applied to its block"
                        );
                    }
                }
            }
            StreamEvent::ContentBlockStop { index } => {
                if let Some(json) = self.partial_json.remove(index) {
                    let (input, error) = parse_input(&json);
                    let block = self.block_mut(*index)?;
                    if let (ContentBlock::ToolUse(call), Some(error)) = (&mut *block, &error) {
                        tracing::debug!(id = %call.id, %error, "streamed tool input is not valid JSON");
                        call.input_error = Some(error.clone());
                    }
                    set_input(block, input)?;
                }
            }
            StreamEvent::MessageDelta {
                stop_reason,
                stop_sequence,
                usage,
                raw,
                extra,
            } => {
                let message = self.message_mut("message_delta")?;
                if stop_reason.is_some() {
                    message.stop_reason.clone_from(stop_reason);
                }
                if stop_sequence.is_some() {
                    message.stop_sequence.clone_from(stop_sequence);
                }
                if let Some(usage) = usage {
                    merge_usage(message, usage);
                }
                if let Some(container) = raw.get("container").filter(|c| !c.is_null()) {
                    message.container = serde_json::from_value::<Container>(container.clone()).ok();
                }
                // The non-streamed message carries these at its top level:
                // `stop_details` from the delta, the rest from the event.
                if let Some(details) = raw.get("stop_details") {
                    message
                        .extra
                        .insert("stop_details".to_owned(), details.clone());
                }
                for (key, value) in extra {
                    if !value.is_null() {
                        message.extra.insert(key.clone(), value.clone());
                    }
                }
            }
            StreamEvent::MessageStop => self.stopped = true,
            StreamEvent::Ping | StreamEvent::Other { .. } => {}
        }
        Ok(())
    }

    /// Whether `message_stop` has been applied.
    pub(crate) fn is_complete(&self) -> bool {
        self.stopped
    }

    /// The block at `index`, once complete (for early tool start).
    pub(crate) fn block(&self, index: usize) -> Option<&ContentBlock> {
        self.message.as_ref()?.content.get(index)
    }

    /// The finished message.
    ///
    /// # Errors
    ///
    /// A broken-stream error when `message_stop` never came.
    pub(crate) fn finish(self) -> Result<Message, Error> {
        match self.message {
            Some(message) if self.stopped => Ok(message),
            _ => Err(Error::stream_broken(
                "the stream ended before `message_stop`",
            )),
        }
    }

    fn message_mut(&mut self, event: &str) -> Result<&mut Message, Error> {
        self.message.as_mut().ok_or_else(|| {
            Error::stream_broken(format!("`{event}` arrived before `message_start`"))
        })
    }

    fn block_mut(&mut self, index: usize) -> Result<&mut ContentBlock, Error> {
        self.message_mut("content_block_delta")?
            .content
            .get_mut(index)
            .ok_or_else(|| {
                Error::stream_broken(format!(
                    "an event for content block {index}, which never started"
                ))
            })
    }
}

/// The streamed input text of a block as JSON; no text means `{}`.
///
/// Text that is not valid JSON is normal when the model ran out of tokens
/// mid-input, so it is not an error of the stream: the input is what could
/// be read of it, and the second value says why it is not the whole.
fn parse_input(json: &str) -> (Value, Option<String>) {
    if json.trim().is_empty() {
        return (Value::Object(serde_json::Map::new()), None);
    }
    match serde_json::from_str(json) {
        Ok(input) => (input, None),
        Err(e) => {
            // The API requires an object as a tool's input in the history.
            let partial = super::partial_json::parse_partial(json)
                .filter(Value::is_object)
                .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
            (partial, Some(format!("{e}")))
        }
    }
}

fn set_input(block: &mut ContentBlock, input: Value) -> Result<(), Error> {
    match block {
        ContentBlock::ToolUse(call) => call.input = input,
        ContentBlock::ServerToolUse(call) => call.input = input,
        // A block this crate does not model (an MCP tool use, say) keeps
        // its exact text except for the input it was streamed.
        ContentBlock::Other(other) => {
            let mut value = other.to_value();
            if let Some(object) = value.as_object_mut() {
                object.insert("input".to_owned(), input);
            }
            let text = serde_json::to_string(&value).map_err(Error::encode)?;
            *other = OtherBlock::from_json(&text).map_err(Error::encode)?;
        }
        _ => {}
    }
    Ok(())
}

/// Replaces fields of an unmodelled block, keeping its other fields and
/// their order; a null field does not erase one already there.
fn set_fields(
    block: &mut OtherBlock,
    fields: &serde_json::Map<String, Value>,
) -> Result<(), Error> {
    let mut value = block.to_value();
    if let Some(object) = value.as_object_mut() {
        for (key, field) in fields {
            if !field.is_null() || !object.contains_key(key) {
                object.insert(key.clone(), field.clone());
            }
        }
    }
    let text = serde_json::to_string(&value).map_err(Error::encode)?;
    let deltas = block.deltas().to_vec();
    *block = OtherBlock::from_json(&text).map_err(Error::encode)?;
    for delta in deltas {
        block.push_delta(delta);
    }
    Ok(())
}

/// Usage in a `message_delta` is cumulative: the counts it carries replace
/// the start's. A count it leaves out reads as 0 and keeps the start's
/// value; a cumulative count never goes back to 0.
fn merge_usage(message: &mut Message, delta: &Usage) {
    let usage = &mut message.usage;
    if delta.input_tokens != 0 {
        usage.input_tokens = delta.input_tokens;
    }
    if delta.output_tokens != 0 {
        usage.output_tokens = delta.output_tokens;
    }
    if delta.cache_creation_input_tokens.is_some() {
        usage.cache_creation_input_tokens = delta.cache_creation_input_tokens;
    }
    if delta.cache_read_input_tokens.is_some() {
        usage.cache_read_input_tokens = delta.cache_read_input_tokens;
    }
    for (key, value) in &delta.extra {
        if !value.is_null() {
            usage.extra.insert(key.clone(), value.clone());
        }
    }
}
