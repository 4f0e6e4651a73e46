//! Streaming on the wire: server-sent events, typed [`StreamEvent`]s, and
//! [`MessageStream`], one streamed reply. Nothing here runs tools: the
//! streamed turn of a runner, which may, is [`Turn`](crate::Turn).

mod accumulate;
mod event;
mod message_stream;
mod partial_json;
mod sse;

pub use event::{Delta, StreamEvent};
pub use message_stream::MessageStream;
pub(crate) use message_stream::Sending;
