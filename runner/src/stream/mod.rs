//! Streaming on the wire: server-sent events, typed [`StreamEvent`]s, and
//! [`MessageStream`], one streamed reply. Nothing here runs tools: the
//! streamed turn of a runner, which may, is [`Turn`](crate::Turn).

mod accumulate;
mod event;
#[cfg(feature = "bedrock")]
mod event_stream;
mod framing;
mod message_stream;
mod partial_json;
mod sse;

pub use event::{Delta, StreamEvent};
pub(crate) use framing::Framing;
pub use message_stream::MessageStream;
pub(crate) use message_stream::Sending;

/// Why an event could not be parsed, for tests.
#[cfg(feature = "testing")]
fn describe(error: event::ParseError) -> String {
    match error {
        event::ParseError::Api {
            error_type,
            message,
        } => format!("{error_type}: {message}"),
        event::ParseError::Malformed { event, detail } => {
            format!("malformed `{event}` event: {detail}")
        }
    }
}

/// The events of an SSE body read in `chunks`, each parsed or the reason it
/// could not be; for tests, through `testing::parse_sse`.
#[cfg(feature = "testing")]
pub(crate) fn sse_events_of<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<Result<StreamEvent, String>> {
    let mut parser = sse::SseParser::default();
    let mut raw = Vec::new();
    for chunk in chunks {
        parser.feed(chunk, &mut raw);
    }
    raw.into_iter()
        .map(|sse| event::parse_event(&sse.event, &sse.data).map_err(describe))
        .collect()
}

/// The `(event, data)` pairs of an SSE text, for the scripted Bedrock
/// server, which sends them again in event-stream frames.
#[cfg(all(feature = "testing", feature = "bedrock"))]
pub(crate) fn sse_pairs(text: &[u8]) -> Vec<(String, String)> {
    let mut parser = sse::SseParser::default();
    let mut raw = Vec::new();
    parser.feed(text, &mut raw);
    raw.into_iter().map(|e| (e.event, e.data)).collect()
}

/// The events of an event-stream body read in `chunks`, each parsed or the
/// reason it could not be; for tests, through `testing::parse_event_stream`.
#[cfg(all(feature = "testing", feature = "bedrock"))]
pub(crate) fn event_stream_events_of<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<Result<StreamEvent, String>> {
    let mut decoder = event_stream::EventStreamDecoder::default();
    let mut out = Vec::new();
    for chunk in chunks {
        let mut raw = Vec::new();
        let fed = decoder.feed(chunk, &mut raw);
        out.extend(
            raw.into_iter()
                .map(|sse| event::parse_event(&sse.event, &sse.data).map_err(describe)),
        );
        if let Err(e) = fed {
            out.push(Err(e.to_string()));
            break;
        }
    }
    out
}
