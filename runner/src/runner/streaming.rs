//! [`StreamingToolRunner`]: the loop, with each turn streamed.

use std::collections::HashMap;

use tracing::Instrument;

use super::lifecycle::{Action, Received};
use super::mode::Turns;
use super::turn::{EarlyStart, Ending, Turn};
use super::{ToolRunner, run_pending_tools};
use crate::error::Error;
use crate::types::{Message, StopReason};

/// The agentic loop with each turn streamed: [`next_turn`](Self::next_turn)
/// yields a [`Turn`], a stream of typed events that also builds the turn's
/// message. It is [`ToolRunner`] in the [`Turns`] mode: the lifecycle,
/// the settings and the accessors are the plain runner's, only the driving
/// differs (`next` there, [`next_turn`](ToolRunner::next_turn) here), so
/// settings made before or after [`streaming`](ToolRunner::streaming) are
/// the same.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use toolrunner::stream::{Delta, StreamEvent};
/// use toolrunner::{tool, toolset, Client, MessageParams};
///
/// /// Add two integers.
/// #[tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// # async fn run() -> Result<(), toolrunner::Error> {
/// let client = Client::from_env()?;
/// let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("What is 2 + 40?");
/// let mut runner = client.tool_runner(params, toolset![add]).streaming().early_tool_start(true);
/// while let Some(turn) = runner.next_turn().await {
///     let turn = turn?;
///     while let Some(event) = turn.next().await {
///         if let StreamEvent::ContentBlockDelta { delta: Delta::Text(text), .. } = event? {
///             print!("{text}");
///         }
///     }
///     let message = turn.message().await?;
///     println!("\n[{:?}]", message.stop_reason);
/// }
/// # Ok(()) }
/// ```
pub type StreamingToolRunner = ToolRunner<Turns>;

impl ToolRunner<Turns> {
    /// Starts each tool as soon as its `tool_use` block is complete in the
    /// stream, while the model is still writing the rest of the turn (off by
    /// default). The result is reused when the turn ends; no tool runs
    /// twice. If the turn then ends without asking for tools (`max_tokens`,
    /// say, or a refusal, which [fallback models](crate::ToolRunner::fallback_models)
    /// send again), or you take over the history, the early results are
    /// discarded; calls still running are stopped when the turn ends (their
    /// tasks aborted at their next `.await`). A call that finished had its
    /// effects: start early only tools that may run for a turn the model
    /// does not keep.
    pub fn early_tool_start(mut self, enabled: bool) -> Self {
        self.mode.early_start = enabled;
        self
    }

    /// The next turn, after the previous one has been read to its end and
    /// its tools run; `None` when the loop is over.
    ///
    /// # Errors
    ///
    /// As [`ToolRunner`](crate::ToolRunner)'s stream; also errors of the previous turn's
    /// stream when it was not read to its end.
    pub async fn next_turn(&mut self) -> Option<Result<&mut Turn, Error>> {
        let span = self.span.clone();
        if let Err(e) = self.finish_turn().instrument(span.clone()).await {
            return Some(Err(e));
        }
        if let Some(message) = self.mode.kept.take() {
            return Some(Ok(self.mode.turn.insert(Turn::kept(message))));
        }
        loop {
            match self.core.next_action() {
                Action::Finish => {
                    // The end is kept too, so that the store says the run is over.
                    if self.core.take_end_to_keep()
                        && let Some(checkpoint) = &self.dispatcher.checkpoint
                        && let Err(error) = checkpoint.save(self.core.state()).await
                    {
                        return Some(Err(error));
                    }
                    return None;
                }
                Action::Fail(error) => return Some(Err(error)),
                Action::RunTools(_) => {
                    let early = std::mem::take(&mut self.mode.early);
                    let ran = run_pending_tools(&mut self.core, &self.dispatcher, early)
                        .instrument(span.clone())
                        .await;
                    // A failed checkpoint; the results are kept, and the
                    // next call goes on.
                    if let Err(error) = ran {
                        return Some(Err(error));
                    }
                }
                Action::Compact(request) => {
                    let request_span = self.core.request_span();
                    match self
                        .client
                        .complete(&request)
                        .instrument(request_span)
                        .await
                    {
                        Ok(summary) => {
                            self.core.on_summary(&summary);
                            // A summary is paid for like a turn: kept too.
                            if let Some(checkpoint) = &self.dispatcher.checkpoint
                                && let Err(error) = checkpoint.save(self.core.state()).await
                            {
                                return Some(Err(error));
                            }
                        }
                        Err(error) => {
                            if let Action::Fail(error) = self.core.on_summary_error(error) {
                                return Some(Err(error));
                            }
                        }
                    }
                }
                Action::Send(request) => {
                    let opened = self
                        .client
                        .open_stream(&request)
                        .instrument(self.core.request_span())
                        .await;
                    let stream = match opened {
                        Ok(stream) => stream,
                        Err(error) => match self.core.on_send_error(error) {
                            Some(error) => return Some(Err(error)),
                            // A thread the server rejected: send the turn again.
                            None => continue,
                        },
                    };
                    self.mode.early.clear();
                    let early = self.mode.early_start.then(|| EarlyStart {
                        toolset: self.core.toolset().clone(),
                        config: self.dispatcher.config(self.core.code_version()),
                        cancel: self.dispatcher.cancellation().clone(),
                        started: HashMap::new(),
                        span: self.span.clone(),
                    });
                    let turn = Turn::new(stream, request.container, early);
                    return Some(Ok(self.mode.turn.insert(turn)));
                }
            }
        }
    }

    /// Reads the open turn to its end and hands its message to the loop.
    pub(super) async fn finish_turn(&mut self) -> Result<(), Error> {
        let Some(turn) = self.mode.turn.take() else {
            return Ok(());
        };
        match turn.finish().await {
            Ending::Complete(message, early) => {
                let asks_for_tools = message.stop_reason == Some(StopReason::ToolUse);
                // A refused turn was streamed to the caller already; after a
                // fallback the next turn is the next model's.
                let received = self.core.on_response(*message);
                // Calls started early for a turn whose tools will not run
                // (refused, cut off, or done) are stopped now (dropping
                // them aborts their tasks), not when the next turn opens or
                // the runner is dropped: the run may stop before either.
                if received == Received::Turn && asks_for_tools {
                    self.mode.early = early;
                }
                match &self.dispatcher.checkpoint {
                    Some(checkpoint) => checkpoint.save(self.core.state()).await,
                    None => Ok(()),
                }
            }
            // Worth sending again, if the error says so: the next call
            // requests the turn anew.
            Ending::Failed(error, started) => Err(self.core.on_stream_error(error, started)),
            // The loop has this turn already.
            Ending::Kept => Ok(()),
        }
    }

    /// Runs the loop to its end, reading every turn, and returns the last message.
    ///
    /// # Errors
    ///
    /// As [`ToolRunner::until_done`](crate::ToolRunner::until_done),
    /// calls waiting for approval included.
    pub async fn until_done(mut self) -> Result<Message, Error> {
        let mut last = None;
        while let Some(turn) = self.next_turn().await {
            last = Some(turn?.message().await?.clone());
        }
        self.core.outcome(last)
    }
}
