//! How a streamed reply is framed on the wire, and the decoder for each
//! framing: both yield the same `(event, data)` pairs, so everything above
//! (event parsing, the message accumulator) is the same on every platform.

use super::sse::{SseEvent, SseParser};
use crate::error::Error;

/// The framing of a streamed reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Server-sent events: the first-party API and most platforms.
    Sse,
}

/// An incremental decoder for one [`Framing`].
#[derive(Debug)]
pub(crate) enum Decoder {
    Sse(SseParser),
}

impl Decoder {
    pub(crate) fn new(framing: Framing) -> Self {
        match framing {
            Framing::Sse => Decoder::Sse(SseParser::default()),
        }
    }

    /// Feeds a chunk and appends the events it completes to `out`.
    ///
    /// # Errors
    ///
    /// A frame that is not valid in this framing, or one that carries an
    /// error from the platform instead of an event.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), Error> {
        match self {
            Decoder::Sse(parser) => {
                parser.feed(chunk, out);
                Ok(())
            }
        }
    }
}
