//! How a [`ToolRunner`] is driven: its mode, a type parameter. The plain
//! runner ([`Messages`]) is a stream of whole messages; the streaming one
//! ([`Turns`]) yields each turn as it streams. Everything else, settings
//! and accessors, is written once for both (`shared.rs`).

use std::collections::HashMap;
use std::fmt;

use super::dispatch::Early;
use super::turn::Turn;
use super::{Phase, ToolRunner, run_pending_tools};
use crate::error::Error;
use crate::types::Message;

/// How a [`ToolRunner`] is driven: [`Messages`] (the default: a
/// [`Stream`](futures_util::Stream) of messages) or [`Turns`] (each turn
/// streamed, see [`StreamingToolRunner`](crate::StreamingToolRunner)).
/// Sealed: the runner has these two modes only.
pub trait Mode: Drive + fmt::Debug + Send + 'static {}

/// The plain runner's mode: [`ToolRunner`] is a
/// [`Stream`](futures_util::Stream) of the model's messages, one per request.
pub struct Messages {
    /// The action being carried out.
    pub(super) phase: Phase,
}

/// The streaming runner's mode: [`next_turn`](ToolRunner::next_turn)
/// yields each [`Turn`] as it streams. Made by
/// [`streaming`](ToolRunner::streaming).
pub struct Turns {
    /// The turn handed out last, until the runner reads it to its end.
    pub(super) turn: Option<Turn>,
    /// Calls of the last turn started while it streamed, by `tool_use` id.
    pub(super) early: HashMap<String, Early>,
    /// A decided turn of a resumed run, to yield first (see
    /// [`Client::resume`](crate::Client::resume)).
    pub(super) kept: Option<Box<Message>>,
    /// Whether each tool starts as soon as its `tool_use` block is complete.
    pub(super) early_start: bool,
}

impl Mode for Messages {}
impl Mode for Turns {}

/// What a mode adds to the shared methods. In a private module, so that
/// no other crate can implement [`Mode`].
mod sealed {
    use super::{Error, Message, ToolRunner};

    /// How a mode settles the current turn and runs the loop to its end.
    pub trait Drive: Sized {
        /// Finishes the current turn (a streaming runner reads it to its
        /// end) and runs its calls that have not run. A failed checkpoint
        /// is returned once the calls are done.
        fn settle(runner: &mut ToolRunner<Self>) -> impl Future<Output = Result<(), Error>> + Send;

        /// The mode's `until_done`.
        fn run_to_end(
            runner: ToolRunner<Self>,
        ) -> impl Future<Output = Result<Message, Error>> + Send;
    }
}

pub(super) use sealed::Drive;

impl Drive for Messages {
    /// Nothing to finish, since a plain runner yields only complete
    /// messages, and no call starts early.
    async fn settle(runner: &mut ToolRunner<Self>) -> Result<(), Error> {
        run_pending_tools(&mut runner.core, &runner.dispatcher, HashMap::new()).await
    }

    async fn run_to_end(runner: ToolRunner<Self>) -> Result<Message, Error> {
        runner.until_done().await
    }
}

impl Drive for Turns {
    /// Reads the current turn to its end and hands the calls it started
    /// early to the dispatcher.
    async fn settle(runner: &mut ToolRunner<Self>) -> Result<(), Error> {
        runner.finish_turn().await?;
        let early = std::mem::take(&mut runner.mode.early);
        run_pending_tools(&mut runner.core, &runner.dispatcher, early).await
    }

    async fn run_to_end(runner: ToolRunner<Self>) -> Result<Message, Error> {
        runner.until_done().await
    }
}

impl fmt::Debug for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages").finish_non_exhaustive()
    }
}

impl fmt::Debug for Turns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Turns")
            .field("turn", &self.turn)
            .field("early_start", &self.early_start)
            .finish_non_exhaustive()
    }
}
