//! How a streamed reply is framed on the wire, and the decoder for each
//! framing: both yield the same `(event, data)` pairs, so everything above
//! (event parsing, the message accumulator) is the same on every platform.

#[cfg(feature = "bedrock")]
use super::event_stream::EventStreamDecoder;
use super::sse::{SseEvent, SseParser};
use crate::error::Error;

/// The framing of a streamed reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Server-sent events: the first-party API and most platforms.
    Sse,
    /// AWS event-stream binary frames: Amazon Bedrock.
    #[cfg(feature = "bedrock")]
    AwsEventStream,
}

/// An incremental decoder for one [`Framing`].
#[derive(Debug)]
pub(crate) enum Decoder {
    Sse(SseParser),
    #[cfg(feature = "bedrock")]
    AwsEventStream(EventStreamDecoder),
}

impl Decoder {
    pub(crate) fn new(framing: Framing) -> Self {
        match framing {
            Framing::Sse => Decoder::Sse(SseParser::default()),
            #[cfg(feature = "bedrock")]
            Framing::AwsEventStream => Decoder::AwsEventStream(EventStreamDecoder::default()),
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
            #[cfg(feature = "bedrock")]
            Decoder::AwsEventStream(decoder) => decoder.feed(chunk, out),
        }
    }
}
