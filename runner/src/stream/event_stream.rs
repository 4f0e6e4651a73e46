//! The AWS event-stream framing of Bedrock's streamed replies, decoded by
//! `aws-smithy-eventstream` into the same `(event, data)` pairs as SSE.
//!
//! Each `chunk` event carries `{"bytes": "<base64>"}`, the base64 of one
//! Messages stream event in JSON; the event's name is its `type`. An
//! `exception` frame (`throttlingException`, say) or an `error` frame is the
//! platform's error in the middle of the stream.

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::BytesMut;

use super::sse::SseEvent;
use crate::error::Error;

/// An incremental event-stream decoder: frames may arrive split across
/// network chunks at any byte.
#[derive(Debug, Default)]
pub(crate) struct EventStreamDecoder {
    frames: MessageFrameDecoder,
    buffer: BytesMut,
}

impl EventStreamDecoder {
    /// Feeds a chunk and appends the events it completes to `out`.
    ///
    /// # Errors
    ///
    /// A frame that does not decode (its checksum, say), a chunk that is
    /// not base64 of JSON, or an exception or error frame, which becomes a
    /// stream error named after the exception.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), Error> {
        self.buffer.extend_from_slice(chunk);
        loop {
            let frame = self
                .frames
                .decode_frame(&mut self.buffer)
                .map_err(|e| Error::stream_broken(format!("malformed event-stream frame: {e}")))?;
            match frame {
                DecodedFrame::Incomplete => return Ok(()),
                DecodedFrame::Complete(message) => {
                    if let Some(event) = event_of(&message)? {
                        out.push(event);
                    }
                }
            }
        }
    }
}

/// The Messages event a frame carries, if any.
fn event_of(message: &Message) -> Result<Option<SseEvent>, Error> {
    let header = |name: &str| {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| match h.value() {
                HeaderValue::String(s) => Some(s.as_str().to_owned()),
                _ => None,
            })
    };
    match header(":message-type").as_deref() {
        Some("event") => {}
        Some("exception") => {
            let kind = header(":exception-type").unwrap_or_else(|| "exception".to_owned());
            let message = serde_json::from_slice::<serde_json::Value>(message.payload())
                .ok()
                .and_then(|v| {
                    let text = v.get("message").or_else(|| v.get("Message"))?;
                    text.as_str().map(str::to_owned)
                })
                .unwrap_or_else(|| String::from_utf8_lossy(message.payload()).into_owned());
            return Err(Error::stream_error(kind, message));
        }
        Some("error") => {
            let code = header(":error-code").unwrap_or_else(|| "error".to_owned());
            let text = header(":error-message").unwrap_or_default();
            return Err(Error::stream_error(code, text));
        }
        other => {
            let other = other.unwrap_or("none");
            return Err(Error::stream_broken(format!(
                "event-stream frame of unknown message type {other:?}"
            )));
        }
    }
    if header(":event-type").as_deref() != Some("chunk") {
        // Other event types carry nothing of the message.
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    struct Chunk {
        bytes: String,
    }
    let malformed =
        |detail: String| Error::stream_broken(format!("malformed `chunk` event: {detail}"));
    let chunk: Chunk =
        serde_json::from_slice(message.payload()).map_err(|e| malformed(e.to_string()))?;
    let data = aws_smithy_types::base64::decode(&chunk.bytes)
        .map_err(|e| malformed(format!("`bytes` is not base64: {e}")))?;
    let data = String::from_utf8(data).map_err(|e| malformed(e.to_string()))?;
    #[derive(serde::Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        kind: String,
    }
    let typed: Typed = serde_json::from_str(&data).map_err(|e| malformed(e.to_string()))?;
    Ok(Some(SseEvent {
        event: typed.kind,
        data,
    }))
}
