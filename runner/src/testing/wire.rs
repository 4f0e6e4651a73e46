//! The stream's parsers, open to tests: the bytes of a body, split however
//! they arrive, in; typed events out.

use crate::stream::StreamEvent;
use crate::stream::sse_events_of;

/// The events that `chunks`, read in order as one SSE body, carry: each
/// parsed, or the message of why it could not be (an `error` event
/// included). Never panics, whatever the bytes.
pub fn parse_sse<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<Result<StreamEvent, String>> {
    sse_events_of(chunks)
}
