//! The agentic loop: [`ToolRunner`].
//!
//! Each iteration follows the published tool-runner lifecycle:
//!
//! 1. Send the request with the runner's current state; yield the response.
//! 2. The loop body runs. It may read the message and change the state.
//! 3. Unless the body took over the history, append the assistant message,
//!    then run its tools and append one user message answering every
//!    `tool_use`, in call order. Without tool calls the loop ends.
//! 4. If the body took over (with [`push_messages`](ToolRunner::push_messages),
//!    [`set_messages`](ToolRunner::set_messages) or
//!    [`params_mut`](ToolRunner::params_mut)), nothing is appended: the
//!    body's state is sent unchanged.

mod artifacts;
mod compaction;
mod dispatch;
mod hooks;
mod programmatic;
mod request;
mod streaming;

pub use artifacts::Artifacts;
pub use compaction::{Compaction, DEFAULT_COMPACTION_PROMPT, DEFAULT_COMPACTION_THRESHOLD};
pub(crate) use dispatch::{DispatchConfig, Early, start_early};
pub use hooks::{AfterToolCall, BeforeToolCall, Decision, PendingCall};
pub(crate) use request::classify_container_error;
pub use streaming::StreamingToolRunner;

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_util::{Stream, StreamExt};
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use crate::client::Client;
use crate::error::Error;
use crate::toolset::Toolset;
use crate::types::{
    CodeExecution, ContentBlock, Message, MessageParam, MessageParams, StopReason, code_executions,
};
use bytes::Bytes;

/// The number of requests a runner sends unless told otherwise.
pub const DEFAULT_MAX_ITERATIONS: usize = 50;

/// The number of tool calls of one turn that run at once unless told otherwise.
pub const DEFAULT_TOOL_CONCURRENCY: usize = 16;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Client {
    /// A runner that carries on the conversation in `params`, running the
    /// tools of `toolset` whenever the model asks, until the model is done.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
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
    /// let mut runner = client.tool_runner(params, toolset![add]).max_iterations(10);
    /// while let Some(message) = runner.next().await {
    ///     println!("{}", message?.text());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn tool_runner(&self, params: MessageParams, toolset: Toolset) -> ToolRunner {
        ToolRunner::new(self.clone(), params, toolset)
    }
}

/// Runs the agentic loop: a [`Stream`] of the model's messages, one per request.
///
/// Each iteration:
///
/// 1. The runner sends the request with its current state and yields the response.
/// 2. Your loop body runs. It may read the message and change the state.
/// 3. Unless the body took over the history, the runner appends the
///    assistant message, then runs its tools and appends one user message
///    answering every `tool_use`, in call order. Without tool calls the
///    loop ends.
/// 4. If the body took over (with [`push_messages`](Self::push_messages),
///    [`set_messages`](Self::set_messages) or [`params_mut`](Self::params_mut)),
///    nothing is appended: the body's state is sent unchanged. Appending a
///    plain message while tools are pending is therefore safe: the pending
///    calls are dropped with the turn, not answered forever.
///
/// Stop reasons: `tool_use` runs tools; `pause_turn` and `compaction` send
/// the turn back as it is, with no tool run; every other stop reason ends the
/// loop, and its `tool_use` blocks are never run.
///
/// The stream ends after a message without tool calls. Errors are yielded
/// as they happen: after a request error the stream may be polled again to
/// resend the same request. Reaching [`max_iterations`](Self::max_iterations)
/// is yielded as an error ([`Error::is_max_iterations`]) and ends the stream.
///
/// Dropping the runner cancels it: the request in flight and running async
/// tools are dropped, and every tool's [`ToolCall::cancellation`](crate::ToolCall::cancellation)
/// token is cancelled (synchronous tools already on the blocking pool run to
/// their end, but their results are discarded).
#[must_use = "a runner does nothing until it is polled"]
pub struct ToolRunner {
    client: Client,
    params: MessageParams,
    toolset: Toolset,
    max_iterations: usize,
    concurrency: usize,
    before: Option<Arc<dyn BeforeToolCall>>,
    after: Option<Arc<dyn AfterToolCall>>,
    compaction: Option<Compaction>,
    /// Whether the last turn was large enough to compact before the next request.
    compact_due: bool,
    /// The code-execution version `"code"` stands for, when set explicitly.
    code_version: Option<String>,
    /// The version `"code"` stood for in the last request, for checking callers.
    code_version_in_use: String,
    /// The toolset's definitions, serialized once for the code-execution
    /// version they were written with.
    wire_tools: Option<(String, Arc<[Box<RawValue>]>)>,
    iterations: usize,
    /// The last message yielded, with its tool results once they have run.
    turn: Option<Turn>,
    taken_over: bool,
    /// The container a response reported expired, to be reported as an error.
    expired: Option<Option<String>>,
    phase: Phase,
    finished: bool,
    cancel: CancellationToken,
    span: tracing::Span,
}

struct Turn {
    message: Message,
    tool_response: Option<MessageParam>,
    /// Whether the message is in the history already (the loop ended on it).
    appended: bool,
    /// Calls started while the turn was streaming, by `tool_use` id.
    early: HashMap<String, Early>,
}

impl Turn {
    fn new(message: Message, early: HashMap<String, Early>) -> Self {
        Turn {
            message,
            tool_response: None,
            appended: false,
            early,
        }
    }
}

impl Turn {
    /// Whether this turn's tools are to be run: only for `tool_use` stops.
    fn wants_tools(&self) -> bool {
        self.message.stop_reason == Some(StopReason::ToolUse)
            && self.message.tool_uses().next().is_some()
    }
}

enum Phase {
    Idle,
    Compacting(BoxFuture<Result<Message, Error>>),
    Sending(BoxFuture<Result<Message, Error>>),
    RunningTools(BoxFuture<MessageParam>),
}

enum Step {
    Send,
    RunTools,
    Finish,
    LimitReached,
    ContainerExpired(Option<String>),
}

impl ToolRunner {
    fn new(client: Client, params: MessageParams, toolset: Toolset) -> Self {
        let span = tracing::info_span!("tool_runner", model = %params.model);
        ToolRunner {
            client,
            params,
            toolset,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            concurrency: DEFAULT_TOOL_CONCURRENCY,
            before: None,
            after: None,
            compaction: None,
            compact_due: false,
            code_version: None,
            code_version_in_use: crate::tool::DEFAULT_CODE_EXECUTION.to_owned(),
            wire_tools: None,
            iterations: 0,
            turn: None,
            taken_over: false,
            expired: None,
            phase: Phase::Idle,
            finished: false,
            cancel: CancellationToken::new(),
            span,
        }
    }

    /// Sets the most requests the runner sends (default
    /// [`DEFAULT_MAX_ITERATIONS`]). When the limit is reached the runner
    /// yields an error instead of sending another request, and does not run
    /// tools whose results could not be sent.
    pub fn max_iterations(mut self, max: usize) -> Self {
        self.max_iterations = max;
        self
    }

    /// Sets how many tool calls of one turn run at once (default
    /// [`DEFAULT_TOOL_CONCURRENCY`]; at least 1). Results keep call order.
    pub fn tool_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Runs `hook` before each tool call: it sees the tool's name, input and
    /// caller, and may allow the call, deny it (the model sees the message
    /// as an `is_error` result) or replace its input. Calls a tool's
    /// `allowed_callers` refuse never reach the hook.
    ///
    /// ```no_run
    /// # use toolrunner::{toolset, Client, Decision, MessageParams, PendingCall};
    /// # fn f(client: Client, params: MessageParams) {
    /// let runner = client
    ///     .tool_runner(params, toolset![])
    ///     .before_tool_call(|call: PendingCall| async move {
    ///         if call.name.starts_with("delete") {
    ///             Decision::deny("deleting needs a human's approval")
    ///         } else {
    ///             Decision::Allow
    ///         }
    ///     });
    /// # }
    /// ```
    pub fn before_tool_call(mut self, hook: impl BeforeToolCall) -> Self {
        self.before = Some(Arc::new(hook));
        self
    }

    /// Runs `hook` after each tool call that ran; what it returns is sent in
    /// place of the tool's result.
    pub fn after_tool_call(mut self, hook: impl AfterToolCall) -> Self {
        self.after = Some(Arc::new(hook));
        self
    }

    /// Compacts the conversation on the client when a turn grows past a
    /// token threshold: see [`Compaction`]. For the API's own (server-side)
    /// compaction, set [`MessageParams::context_management`] instead; its
    /// `compaction` stop reason is handled like `pause_turn`.
    pub fn compaction(mut self, compaction: Compaction) -> Self {
        self.compaction = Some(compaction);
        self
    }

    /// Streams each turn: see [`StreamingToolRunner`].
    pub fn streaming(self) -> StreamingToolRunner {
        StreamingToolRunner::new(self)
    }

    /// Sets the code-execution tool version that `allowed_callers = ["code"]`
    /// stands for, such as `code_execution_20250825`.
    ///
    /// Without it, `"code"` stands for the version of a code-execution tool
    /// declared in the parameters, else for
    /// [`DEFAULT_CODE_EXECUTION`](crate::DEFAULT_CODE_EXECUTION). When some
    /// tool may be called from code and the request declares no
    /// code-execution tool, the runner adds `{"type": VERSION, "name":
    /// "code_execution"}` and any beta header that version needs; a tool
    /// you declared is left alone.
    pub fn code_execution_version(mut self, version: impl Into<String>) -> Self {
        self.code_version = Some(version.into());
        self
    }

    /// The parameters of the next request, including the history so far.
    pub fn params(&self) -> &MessageParams {
        &self.params
    }

    /// The conversation so far.
    pub fn messages(&self) -> &[MessageParam] {
        &self.params.messages
    }

    /// The parameters, to change. This takes over the history for the
    /// current iteration: the runner appends nothing and sends your state
    /// as it is.
    pub fn params_mut(&mut self) -> &mut MessageParams {
        self.taken_over = true;
        &mut self.params
    }

    /// Appends messages, taking over the history for the current iteration:
    /// the runner appends neither the assistant message nor tool results;
    /// append them yourself if the turn should count.
    pub fn push_messages(&mut self, messages: impl IntoIterator<Item = MessageParam>) {
        self.taken_over = true;
        self.params.messages.extend(messages);
    }

    /// Replaces the history, taking over for the current iteration.
    pub fn set_messages(&mut self, messages: Vec<MessageParam>) {
        self.taken_over = true;
        self.params.messages = messages;
    }

    /// The last message the model sent.
    pub fn last_message(&self) -> Option<&Message> {
        self.turn.as_ref().map(|t| &t.message)
    }

    /// Every code-execution run of the conversation so far, in order: its
    /// code, output, return code, files and the tool calls it made. A run
    /// with a non-zero return code or an error result is a failure
    /// ([`CodeExecution::is_failure`]), whatever the model says of it.
    pub fn code_executions(&self) -> Vec<CodeExecution> {
        let history = self
            .params
            .messages
            .iter()
            .flat_map(|m| m.content_blocks().into_owned());
        let current = self
            .turn
            .iter()
            .filter(|t| !t.appended)
            .flat_map(|t| t.message.content.iter().cloned());
        let blocks: Vec<ContentBlock> = history.chain(current).collect();
        code_executions(&blocks)
    }

    /// The number of requests answered so far.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The runner's tools.
    pub fn toolset(&self) -> &Toolset {
        &self.toolset
    }

    /// The tool results answering the current message: the user message the
    /// runner will send next. The tools run on the first call, once; later
    /// calls, and the runner itself, reuse the result, so edits made through
    /// the returned reference (adding `cache_control`, say) are what is sent.
    ///
    /// `None` when the current message asks for no tools.
    pub async fn tool_response(&mut self) -> Option<&mut MessageParam> {
        let turn = self.turn.as_mut()?;
        if !turn.wants_tools() {
            return None;
        }
        if turn.tool_response.is_none() {
            let run = dispatch::run_tools(
                self.toolset.clone(),
                turn.message.tool_uses().cloned().collect(),
                dispatch_config(
                    self.concurrency,
                    &self.code_version_in_use,
                    &self.before,
                    &self.after,
                ),
                self.cancel.clone(),
                std::mem::take(&mut turn.early),
            );
            turn.tool_response = Some(run.await);
        }
        turn.tool_response.as_mut()
    }

    /// Runs the loop to its end and returns the model's last message.
    ///
    /// # Errors
    ///
    /// The first error the loop meets: a request that failed after its
    /// retries, or the iteration limit.
    pub async fn until_done(mut self) -> Result<Message, Error> {
        let mut last = None;
        while let Some(message) = self.next().await {
            last = Some(message?);
        }
        last.ok_or_else(|| Error::max_iterations(self.max_iterations))
    }

    /// Decides what to do next, applying the previous turn to the history.
    fn step(&mut self) -> Step {
        if self.finished {
            return Step::Finish;
        }
        let Some(turn) = self.turn.as_mut() else {
            return Step::Send;
        };
        if std::mem::take(&mut self.taken_over) {
            // The body owns the history for this iteration: drop the turn,
            // whatever it asked for, and send the body's state as it is.
            self.turn = None;
            self.expired = None;
            self.compact_due = false;
            return Step::Send;
        }
        if let Some(container) = self.expired.take() {
            // Nothing more can run in that container; keep the turn in the
            // history so that a caller can start again from it.
            self.params
                .messages
                .push(MessageParam::from(turn.message.clone()));
            turn.appended = true;
            return Step::ContainerExpired(container);
        }
        if turn.wants_tools() {
            let Some(response) = turn.tool_response.take() else {
                // Results that could never be sent are not worth running.
                if self.iterations >= self.max_iterations {
                    return Step::LimitReached;
                }
                return Step::RunTools;
            };
            let message = MessageParam::from(turn.message.clone());
            self.params.messages.push(message);
            self.params.messages.push(response);
            self.turn = None;
            return Step::Send;
        }
        // Only a turn whose tool results are in the history is compacted
        // after; a paused or finished turn is not.
        self.compact_due = false;
        let resume = matches!(
            turn.message.stop_reason,
            Some(StopReason::PauseTurn | StopReason::Compaction)
        );
        // The history keeps the model's last word, so that a caller can carry
        // the conversation on after the loop.
        self.params
            .messages
            .push(MessageParam::from(turn.message.clone()));
        if resume {
            self.turn = None;
            Step::Send
        } else {
            turn.appended = true;
            Step::Finish
        }
    }

    fn start_request(&mut self) -> BoxFuture<Result<Message, Error>> {
        let prepared = self.prepare_request(false);
        self.send(prepared)
    }

    /// Sends a prepared (non-streaming) request.
    fn send(&self, prepared: Result<Prepared, Error>) -> BoxFuture<Result<Message, Error>> {
        let client = self.client.clone();
        Box::pin(async move {
            let Prepared {
                body,
                betas,
                container,
            } = prepared?;
            client
                .send_message(body, &betas)
                .await
                .map_err(|e| request::classify_container_error(e, container))
        })
    }

    /// Checks and builds the next request: its body, betas and container.
    fn prepare_request(&mut self, stream: bool) -> Result<Prepared, Error> {
        let setup = programmatic::setup(&self.params, &self.toolset, self.code_version.as_deref());
        programmatic::validate(&self.params, &self.toolset)?;
        let tools = match &self.wire_tools {
            Some((version, tools)) if *version == setup.version => Arc::clone(tools),
            _ => {
                let tools = request::wire_tools(&self.toolset, &setup.version);
                self.wire_tools = Some((setup.version.clone(), Arc::clone(&tools)));
                tools
            }
        };
        let body = request::body(&self.params, setup.added_tool.as_slice(), &tools, stream)?;
        self.code_version_in_use = setup.version;
        let mut betas = self.params.betas.clone();
        for beta in setup.betas {
            if !betas.iter().any(|b| b == beta) {
                betas.push((*beta).to_owned());
            }
        }
        Ok(Prepared {
            body,
            betas,
            container: request::container_id(&self.params),
        })
    }

    fn start_tools(&mut self) -> Option<BoxFuture<MessageParam>> {
        let config = self.dispatch_config();
        let turn = self.turn.as_mut()?;
        Some(Box::pin(dispatch::run_tools(
            self.toolset.clone(),
            turn.message.tool_uses().cloned().collect(),
            config,
            self.cancel.clone(),
            std::mem::take(&mut turn.early),
        )))
    }

    fn dispatch_config(&self) -> DispatchConfig {
        dispatch_config(
            self.concurrency,
            &self.code_version_in_use,
            &self.before,
            &self.after,
        )
    }

    /// Takes in a response: carries its container into the next request
    /// and makes it the current turn.
    fn accept(&mut self, message: Message, early: HashMap<String, Early>) {
        self.iterations += 1;
        if let Some(container) = &message.container {
            request::carry_container(&mut self.params, &container.id);
        }
        tracing::info!(
            iteration = self.iterations,
            stop_reason = message.stop_reason.as_ref().map(StopReason::as_str),
            tool_calls = message.tool_uses().count(),
            "model responded"
        );
        for run in code_executions(&message.content) {
            log_code_execution(&run);
            if run.error_code() == Some("container_expired") {
                let container = message
                    .container
                    .as_ref()
                    .map(|c| c.id.clone())
                    .or_else(|| request::container_id(&self.params));
                self.expired = Some(container);
            }
        }
        self.compact_due = self.compaction.as_ref().is_some_and(|c| c.is_due(&message));
        self.turn = Some(Turn::new(message, early));
    }

    /// The summary request, when compaction is due and there is something
    /// to summarise.
    fn start_compaction(&mut self) -> Option<BoxFuture<Result<Message, Error>>> {
        if !std::mem::take(&mut self.compact_due) {
            return None;
        }
        let summary_params = self.compaction.as_ref()?.request(&self.params)?;
        tracing::info!(
            messages = self.params.messages.len(),
            "compacting the conversation"
        );
        let original = std::mem::replace(&mut self.params, summary_params);
        let prepared = self.prepare_request(false);
        self.params = original;
        Some(self.send(prepared))
    }

    /// Puts the summary in place of the history it summarises.
    fn finish_compaction(&mut self, summary: &Message) {
        self.iterations += 1;
        if let Some(compaction) = &self.compaction {
            compaction.apply(&mut self.params, summary);
        }
    }
}

impl Stream for ToolRunner {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let span = this.span.clone();
        let _entered = span.enter();
        loop {
            match &mut this.phase {
                Phase::Sending(request) => {
                    let result = ready!(request.as_mut().poll(cx));
                    this.phase = Phase::Idle;
                    return Poll::Ready(Some(match result {
                        Ok(message) => {
                            this.taken_over = false;
                            this.accept(message.clone(), HashMap::new());
                            Ok(message)
                        }
                        Err(error) => {
                            // Sending the same request again helps only
                            // with errors such as overload or a dropped
                            // connection; after any other the loop is over.
                            this.finished = !error.is_retryable();
                            Err(error)
                        }
                    }));
                }
                Phase::Compacting(summary) => {
                    let result = ready!(summary.as_mut().poll(cx));
                    this.phase = Phase::Idle;
                    match result {
                        Ok(summary) => this.finish_compaction(&summary),
                        Err(error) => {
                            // Polling again tries the summary again.
                            this.compact_due = error.is_retryable();
                            this.finished = !error.is_retryable();
                            return Poll::Ready(Some(Err(error)));
                        }
                    }
                }
                Phase::RunningTools(tools) => {
                    let response = ready!(tools.as_mut().poll(cx));
                    this.phase = Phase::Idle;
                    if let Some(turn) = this.turn.as_mut() {
                        turn.tool_response = Some(response);
                    }
                }
                Phase::Idle => match this.step() {
                    Step::Finish => {
                        this.finished = true;
                        return Poll::Ready(None);
                    }
                    Step::LimitReached => {
                        this.finished = true;
                        return Poll::Ready(Some(Err(this.limit_error())));
                    }
                    Step::ContainerExpired(container) => {
                        this.finished = true;
                        tracing::warn!(
                            container = container.as_deref(),
                            "code-execution container expired"
                        );
                        return Poll::Ready(Some(Err(Error::container_expired(container, None))));
                    }
                    Step::RunTools => match this.start_tools() {
                        Some(tools) => this.phase = Phase::RunningTools(tools),
                        None => {
                            this.finished = true;
                            return Poll::Ready(None);
                        }
                    },
                    Step::Send => {
                        if this.iterations >= this.max_iterations {
                            this.finished = true;
                            return Poll::Ready(Some(Err(this.limit_error())));
                        }
                        this.phase = match this.start_compaction() {
                            Some(summary) => Phase::Compacting(summary),
                            None => Phase::Sending(this.start_request()),
                        };
                    }
                },
            }
        }
    }
}

impl ToolRunner {
    fn limit_error(&self) -> Error {
        tracing::warn!(
            max_iterations = self.max_iterations,
            "iteration limit reached"
        );
        Error::max_iterations(self.max_iterations)
    }
}

/// A request ready to send.
struct Prepared {
    body: Bytes,
    betas: Vec<String>,
    container: Option<String>,
}

fn dispatch_config(
    concurrency: usize,
    code_version: &str,
    before: &Option<Arc<dyn BeforeToolCall>>,
    after: &Option<Arc<dyn AfterToolCall>>,
) -> DispatchConfig {
    DispatchConfig {
        concurrency,
        code_version: code_version.to_owned(),
        before: before.clone(),
        after: after.clone(),
    }
}

/// Logs a code-execution run that has finished.
fn log_code_execution(run: &CodeExecution) {
    use crate::types::CodeExecutionOutcome;
    match &run.outcome {
        Some(CodeExecutionOutcome::Finished {
            return_code,
            stdout,
            stderr,
            file_ids,
        }) if *return_code == 0 => tracing::info!(
            id = %run.id,
            tool_calls = run.tool_calls.len(),
            stdout_bytes = stdout.len(),
            stderr_bytes = stderr.len(),
            files = file_ids.len(),
            "code execution finished"
        ),
        Some(CodeExecutionOutcome::Finished {
            return_code,
            stderr,
            ..
        }) => tracing::warn!(id = %run.id, return_code, stderr = %stderr, "code execution failed"),
        Some(CodeExecutionOutcome::Error { error_code }) => {
            tracing::warn!(id = %run.id, error_code = %error_code, "code execution failed")
        }
        Some(CodeExecutionOutcome::Other(_)) | None => {}
    }
}

impl Drop for ToolRunner {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl fmt::Debug for ToolRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolRunner")
            .field("model", &self.params.model)
            .field("messages", &self.params.messages.len())
            .field("toolset", &self.toolset)
            .field("iterations", &self.iterations)
            .field("max_iterations", &self.max_iterations)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
