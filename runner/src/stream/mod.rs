//! Streaming: server-sent events, typed [`StreamEvent`]s, and the [`Turn`]
//! a streaming runner yields.

mod accumulate;
mod event;
mod sse;
mod turn;

pub use event::{Delta, StreamEvent};
pub(crate) use turn::EarlyStart;
pub use turn::Turn;
