//! [`StreamingToolRunner`]: the loop, with each turn streamed.

use std::collections::HashMap;
use std::fmt;

use super::{Step, ToolRunner};
use crate::error::Error;
use crate::stream::{EarlyStart, Turn};
use crate::types::{CodeExecution, Message, MessageParam, MessageParams};

/// The agentic loop with each turn streamed: [`next_turn`](Self::next_turn)
/// yields a [`Turn`], a stream of typed events that also builds the turn's
/// message. The lifecycle is [`ToolRunner`]'s.
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
/// let params = MessageParams::new("claude-sonnet-4-5", 1024).user("What is 2 + 40?");
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
pub struct StreamingToolRunner {
    inner: ToolRunner,
    turn: Option<Turn>,
    early_start: bool,
}

impl StreamingToolRunner {
    pub(super) fn new(inner: ToolRunner) -> Self {
        StreamingToolRunner {
            inner,
            turn: None,
            early_start: false,
        }
    }

    /// Starts each tool as soon as its `tool_use` block is complete in the
    /// stream, while the model is still writing the rest of the turn (off by
    /// default). The result is reused when the turn ends; no tool runs
    /// twice. If the turn then ends without asking for tools (`max_tokens`,
    /// say), or you take over the history, the early results are discarded.
    pub fn early_tool_start(mut self, enabled: bool) -> Self {
        self.early_start = enabled;
        self
    }

    /// The next turn, after the previous one has been read to its end and
    /// its tools run; `None` when the loop is over.
    ///
    /// # Errors
    ///
    /// As [`ToolRunner`]'s stream; also errors of the previous turn's
    /// stream when it was not read to its end.
    pub async fn next_turn(&mut self) -> Option<Result<&mut Turn, Error>> {
        if let Err(e) = self.finish_turn().await {
            return Some(Err(e));
        }
        loop {
            match self.inner.step() {
                Step::Finish => {
                    self.inner.finished = true;
                    return None;
                }
                Step::LimitReached => {
                    self.inner.finished = true;
                    return Some(Err(self.inner.limit_error()));
                }
                Step::ContainerExpired(container) => {
                    self.inner.finished = true;
                    return Some(Err(Error::container_expired(container, None)));
                }
                Step::RunTools => {
                    let Some(tools) = self.inner.start_tools() else {
                        self.inner.finished = true;
                        return None;
                    };
                    let response = tools.await;
                    if let Some(turn) = self.inner.turn.as_mut() {
                        turn.tool_response = Some(response);
                    }
                }
                Step::Send => {
                    if self.inner.iterations >= self.inner.max_iterations {
                        self.inner.finished = true;
                        return Some(Err(self.inner.limit_error()));
                    }
                    if let Some(summary) = self.inner.start_compaction() {
                        match summary.await {
                            Ok(summary) => {
                                self.inner.finish_compaction(&summary);
                                continue;
                            }
                            Err(e) => {
                                self.inner.compact_due = e.is_retryable();
                                self.inner.finished = !e.is_retryable();
                                return Some(Err(e));
                            }
                        }
                    }
                    let prepared = match self.inner.prepare_request(true) {
                        Ok(prepared) => prepared,
                        Err(e) => {
                            self.inner.finished = !e.is_retryable();
                            return Some(Err(e));
                        }
                    };
                    self.inner.taken_over = false;
                    let early = self.early_start.then(|| EarlyStart {
                        toolset: self.inner.toolset.clone(),
                        config: self.inner.dispatch_config(),
                        cancel: self.inner.cancel.clone(),
                        started: HashMap::new(),
                    });
                    let turn = Turn::start(
                        self.inner.client.clone(),
                        prepared.body,
                        prepared.betas,
                        prepared.container,
                        early,
                    );
                    return Some(Ok(self.turn.insert(turn)));
                }
            }
        }
    }

    /// Reads the open turn to its end and hands its message to the loop.
    async fn finish_turn(&mut self) -> Result<(), Error> {
        let Some(turn) = self.turn.take() else {
            return Ok(());
        };
        match turn.finish().await {
            Ok((message, early)) => {
                self.inner.accept(message, early);
                Ok(())
            }
            Err(e) => {
                // Worth sending again: the next call requests the turn anew.
                self.inner.finished = !e.is_retryable();
                Err(e)
            }
        }
    }

    /// The tool results answering the current turn, as
    /// [`ToolRunner::tool_response`]; the turn is read to its end first.
    ///
    /// # Errors
    ///
    /// The turn's stream failed.
    pub async fn tool_response(&mut self) -> Result<Option<&mut MessageParam>, Error> {
        self.finish_turn().await?;
        Ok(self.inner.tool_response().await)
    }

    /// Runs the loop to its end, reading every turn, and returns the last message.
    ///
    /// # Errors
    ///
    /// As [`ToolRunner::until_done`].
    pub async fn until_done(mut self) -> Result<Message, Error> {
        let mut last = None;
        while let Some(turn) = self.next_turn().await {
            last = Some(turn?.message().await?.clone());
        }
        last.ok_or_else(|| self.inner.limit_error())
    }

    /// The parameters of the next request, including the history so far.
    pub fn params(&self) -> &MessageParams {
        self.inner.params()
    }

    /// The conversation so far.
    pub fn messages(&self) -> &[MessageParam] {
        self.inner.messages()
    }

    /// As [`ToolRunner::params_mut`]: takes over the history for this iteration.
    pub fn params_mut(&mut self) -> &mut MessageParams {
        self.inner.params_mut()
    }

    /// As [`ToolRunner::push_messages`]: takes over the history for this iteration.
    pub fn push_messages(&mut self, messages: impl IntoIterator<Item = MessageParam>) {
        self.inner.push_messages(messages);
    }

    /// As [`ToolRunner::set_messages`]: takes over the history for this iteration.
    pub fn set_messages(&mut self, messages: Vec<MessageParam>) {
        self.inner.set_messages(messages);
    }

    /// The number of requests answered so far.
    pub fn iterations(&self) -> usize {
        self.inner.iterations()
    }

    /// As [`ToolRunner::code_executions`].
    pub fn code_executions(&self) -> Vec<CodeExecution> {
        self.inner.code_executions()
    }
}

impl fmt::Debug for StreamingToolRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingToolRunner")
            .field("inner", &self.inner)
            .field("turn", &self.turn)
            .field("early_start", &self.early_start)
            .finish()
    }
}
