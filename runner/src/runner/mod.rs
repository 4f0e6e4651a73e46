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
mod compaction_split;
mod dispatch;
mod hooks;
mod lifecycle;
mod log;
mod programmatic;
mod request;
mod streaming;
mod structured;
mod telemetry;
mod thread;
mod tool_changes;
mod tool_search;
mod turn;

pub use artifacts::Artifacts;
pub use compaction::{Compaction, DEFAULT_COMPACTION_PROMPT, DEFAULT_COMPACTION_THRESHOLD};
pub use hooks::{AfterToolCall, BeforeToolCall, Decision, PendingCall};
pub use streaming::StreamingToolRunner;
pub use tool_search::ToolSearch;
pub(crate) use tool_search::with_defer_loading;
pub use turn::Turn;

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_util::{Stream, StreamExt};
use tracing::Instrument;

use crate::client::Client;
use crate::error::Error;
use crate::toolset::Toolset;
use crate::types::{CodeExecution, Message, MessageParam, MessageParams};
use dispatch::Dispatcher;
use lifecycle::{Action, Lifecycle};

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
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("What is 2 + 40?");
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
    core: Lifecycle,
    dispatcher: Dispatcher,
    /// The action being carried out.
    phase: Phase,
    span: tracing::Span,
}

/// What the plain runner is waiting for.
enum Phase {
    Idle,
    Compacting(BoxFuture<Result<Message, Error>>),
    Sending(BoxFuture<Result<Message, Error>>),
    RunningTools(BoxFuture<MessageParam>),
}

impl ToolRunner {
    fn new(client: Client, params: MessageParams, toolset: Toolset) -> Self {
        let core = Lifecycle::new(params, toolset);
        let span = core.span().clone();
        ToolRunner {
            client,
            core,
            dispatcher: Dispatcher::new(DEFAULT_TOOL_CONCURRENCY),
            phase: Phase::Idle,
            span,
        }
    }

    /// Sets the most requests the runner sends (default
    /// [`DEFAULT_MAX_ITERATIONS`]). When the limit is reached the runner
    /// yields an error instead of sending another request, and does not run
    /// tools whose results could not be sent.
    pub fn max_iterations(mut self, max: usize) -> Self {
        self.core.set_max_iterations(max);
        self
    }

    /// Sets how many tool calls of one turn run at once (default
    /// [`DEFAULT_TOOL_CONCURRENCY`]; at least 1). Results keep call order.
    pub fn tool_concurrency(mut self, n: usize) -> Self {
        self.dispatcher.concurrency = n.max(1);
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
        self.dispatcher.before = Some(Arc::new(hook));
        self
    }

    /// Runs `hook` after each tool call that ran; what it returns is sent in
    /// place of the tool's result.
    pub fn after_tool_call(mut self, hook: impl AfterToolCall) -> Self {
        self.dispatcher.after = Some(Arc::new(hook));
        self
    }

    /// Compacts the conversation when it grows: on the client
    /// ([`Compaction::new`]: the runner asks for a summary past a token
    /// threshold) or on the server ([`Compaction::server`]: each request
    /// carries the API's `compact_20260112` edit). A `compaction` stop
    /// reason is handled like `pause_turn`.
    pub fn compaction(mut self, compaction: Compaction) -> Self {
        self.core.set_compaction(compaction);
        self
    }

    /// Gives the model more tools from the next request on, without
    /// changing the `tools` parameter (which would miss the prompt cache,
    /// and which a continued message thread does not take): the next
    /// request carries a `system`-role message of `tool_addition` blocks
    /// (`{"type": "tool_definition", "definition": ...}`) and the betas
    /// `mid-conversation-tool-changes-2026-07-01` and
    /// `inline-tools-2026-09-15`. The tools run at once, in place of tools
    /// of the same name, even for calls of the current turn not yet run.
    /// After a `pause_turn` stop the message waits for the turn after.
    /// Before the first request, the tools simply join `tools`. The added
    /// toolset's state joins the runner's (the runner's wins for a type
    /// both hold).
    ///
    /// ```no_run
    /// # use futures_util::StreamExt;
    /// # use toolrunner::{tool, toolset, Client, MessageParams};
    /// /// Deploy the build.
    /// #[tool]
    /// fn deploy() -> String { "deployed".into() }
    ///
    /// # async fn f(client: Client, params: MessageParams) -> Result<(), toolrunner::Error> {
    /// let mut runner = client.tool_runner(params, toolset![]);
    /// while let Some(message) = runner.next().await {
    ///     if message?.text().contains("ready to deploy") {
    ///         runner.add_tools(toolset![deploy])?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// An encoding error for a definition that cannot be serialized; a
    /// configuration error ([`Error::is_config`]) naming an added tool and a
    /// state it needs that neither toolset holds. Nothing is added then.
    pub fn add_tools(&mut self, toolset: Toolset) -> Result<(), Error> {
        self.core.add_tools(toolset)
    }

    /// Takes tools away from the next request on, as
    /// [`add_tools`](Self::add_tools) adds them: a `system`-role message of
    /// `tool_removal` blocks (`{"type": "tool_reference", "name": ...}`).
    /// The tools stop running at once: a later call gets an `is_error`
    /// result naming the tool.
    ///
    /// # Errors
    ///
    /// An invalid-request error naming a tool the runner has not got;
    /// nothing is removed then.
    pub fn remove_tools<'a>(
        &mut self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        self.core.remove_tools(names)
    }

    /// Compacts the conversation before the model's next turn, once the
    /// current turn's tools have run (a paused turn is resumed first).
    /// With [`Compaction::new`] this is the client-side summary, whatever
    /// the threshold. Otherwise the runner sends one request with the whole
    /// history and `compaction: {"type": "summarize"}` (beta
    /// `compact-2026-09-04`), and goes on from the `compaction` block the
    /// API returns. The compaction request counts as an iteration and is
    /// not yielded.
    ///
    /// ```no_run
    /// # use futures_util::StreamExt;
    /// # use toolrunner::{toolset, Client, MessageParams};
    /// # async fn f(client: Client, params: MessageParams) -> Result<(), toolrunner::Error> {
    /// let mut runner = client.tool_runner(params, toolset![]);
    /// while let Some(message) = runner.next().await {
    ///     if message?.usage.input_tokens > 150_000 {
    ///         runner.compact_before_next_turn()?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// An invalid-request error when the parameters carry a compaction edit
    /// (as [`Compaction::server`] adds) and no client-side compaction is
    /// set: the API does not accept a summarized conversation with one.
    pub fn compact_before_next_turn(&mut self) -> Result<(), Error> {
        self.core.compact_before_next_turn()
    }

    /// Whether requests use message threads (beta
    /// `message-threads-2026-08-12`; on by default): the server holds the
    /// conversation, and each request sends only what was added since the
    /// last reply, however long the history grows. [`messages`](Self::messages)
    /// is always the whole conversation.
    ///
    /// The runner starts a new thread, with the whole history, when the
    /// server has lost the thread, after a refusal, after a reply written by
    /// a fallback model or cut off mid-stream, after compaction, and when
    /// you change what the server holds (appending, as
    /// [`push_messages`](Self::push_messages) does, continues the thread). If
    /// the server cannot thread a request, the runner goes on without.
    ///
    /// ```no_run
    /// # use toolrunner::{toolset, Client, MessageParams};
    /// # fn f(client: Client, params: MessageParams) {
    /// // Send the whole history with every request instead.
    /// let runner = client.tool_runner(params, toolset![]).message_threads(false);
    /// # }
    /// ```
    pub fn message_threads(mut self, enabled: bool) -> Self {
        self.core.set_message_threads(enabled);
        self
    }

    /// Sets the tool search the runner declares when some tool has
    /// `defer_loading` (see [`Toolset::defer_loading`]) and the parameters
    /// declare no tool-search tool: [`ToolSearch::Regex`] by default.
    ///
    /// ```no_run
    /// # use toolrunner::{toolset, Client, MessageParams, ToolSearch, Toolset};
    /// # fn f(client: Client, params: MessageParams, many: Toolset) {
    /// let runner = client
    ///     .tool_runner(params, many.defer_loading(true))
    ///     .tool_search(ToolSearch::Bm25);
    /// # }
    /// ```
    pub fn tool_search(mut self, search: ToolSearch) -> Self {
        self.core.set_tool_search(search);
        self
    }

    /// Whether the run's spans record message contents, tool arguments and
    /// results (`gen_ai.input.messages`, `gen_ai.output.messages`,
    /// `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`); off by
    /// default, since they may hold secrets.
    ///
    /// The runner always records spans in the OpenTelemetry GenAI
    /// conventions: `invoke_agent` for the run; under it, `chat` for each
    /// model request (`gen_ai.operation.name`, `gen_ai.provider.name =
    /// "anthropic"`, `gen_ai.request.model`, `gen_ai.response.id`,
    /// `gen_ai.usage.input_tokens` / `output_tokens`,
    /// `gen_ai.response.finish_reasons`, `error.type` on failure) and
    /// `execute_tool` for each tool call (`gen_ai.tool.name`,
    /// `gen_ai.tool.call.id`, `error.type`).
    pub fn record_content(mut self, record: bool) -> Self {
        self.core.set_record_content(record);
        self.dispatcher.record_content = record;
        self
    }

    /// Streams each turn: see [`StreamingToolRunner`].
    pub fn streaming(self) -> StreamingToolRunner {
        StreamingToolRunner::new(self.client, self.core, self.dispatcher, self.span)
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
        self.core.set_code_version(version.into());
        self
    }

    /// The parameters of the next request, including the history so far.
    pub fn params(&self) -> &MessageParams {
        self.core.params()
    }

    /// The conversation so far.
    pub fn messages(&self) -> &[MessageParam] {
        &self.core.params().messages
    }

    /// The parameters, to change. This takes over the history for the
    /// current iteration: the runner appends nothing and sends your state
    /// as it is.
    pub fn params_mut(&mut self) -> &mut MessageParams {
        self.core.params_mut()
    }

    /// Appends messages, taking over the history for the current iteration:
    /// the runner appends neither the assistant message nor tool results;
    /// append them yourself if the turn should count.
    pub fn push_messages(&mut self, messages: impl IntoIterator<Item = MessageParam>) {
        self.core.push_messages(messages);
    }

    /// Replaces the history, taking over for the current iteration.
    pub fn set_messages(&mut self, messages: Vec<MessageParam>) {
        self.core.set_messages(messages);
    }

    /// The last message the model sent.
    pub fn last_message(&self) -> Option<&Message> {
        self.core.last_message()
    }

    /// Every code-execution run of the conversation so far, in order: its
    /// code, output, return code, files and the tool calls it made. A run
    /// with a non-zero return code or an error result is a failure
    /// ([`CodeExecution::is_failure`]), whatever the model says of it.
    pub fn code_executions(&self) -> Vec<CodeExecution> {
        self.core.code_executions()
    }

    /// The number of requests answered so far.
    pub fn iterations(&self) -> usize {
        self.core.iterations()
    }

    /// The runner's tools.
    pub fn toolset(&self) -> &Toolset {
        self.core.toolset()
    }

    /// The tool results answering the current message: the user message the
    /// runner will send next. The tools run on the first call, once; later
    /// calls, and the runner itself, reuse the result, so edits made through
    /// the returned reference (adding `cache_control`, say) are what is sent.
    ///
    /// `None` when the current message asks for no tools.
    pub async fn tool_response(&mut self) -> Option<&mut MessageParam> {
        run_pending_tools(&mut self.core, &self.dispatcher, HashMap::new()).await;
        self.core.tool_response_mut()
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
        last.ok_or_else(|| self.core.limit_error())
    }

    /// Runs the loop to its end with every request asking for an answer
    /// shaped as `T` (structured output), and parses the last message's
    /// text into `T`. Tools run as usual on the way.
    ///
    /// The requests carry `output_config.format = {"type": "json_schema",
    /// "schema": ...}` with `T`'s schema, adapted as for strict tools
    /// (numeric and length bounds dropped: parsing still checks them).
    ///
    /// ```no_run
    /// use serde::Deserialize;
    /// use toolrunner::{toolset, Client, MessageParams};
    ///
    /// #[derive(Deserialize, schemars::JsonSchema)]
    /// struct Verdict {
    ///     ok: bool,
    ///     reason: Option<String>,
    /// }
    ///
    /// # async fn run() -> Result<(), toolrunner::Error> {
    /// let client = Client::from_env()?;
    /// let params = MessageParams::new("claude-sonnet-4-5", 1024).user("Is 42 even?");
    /// let verdict: Verdict = client
    ///     .tool_runner(params, toolset![])
    ///     .until_done_parsed()
    ///     .await?;
    /// println!("{} ({:?})", verdict.ok, verdict.reason);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`until_done`](Self::until_done); and a parse error
    /// ([`Error::is_parse`]) when the last message's text is not a `T`,
    /// keeping the text ([`Error::parse_text`]) and the field path where it
    /// failed ([`Error::parse_path`]).
    pub async fn until_done_parsed<T>(mut self) -> Result<T, Error>
    where
        T: serde::de::DeserializeOwned + schemars::JsonSchema,
    {
        self.core.set_output_format(structured::format_for::<T>());
        let message = self.until_done().await?;
        structured::parse(&message)
    }
}

/// Runs the current turn's calls, if they have not run, and hands the
/// results to the lifecycle.
async fn run_pending_tools(
    core: &mut Lifecycle,
    dispatcher: &Dispatcher,
    early: HashMap<String, dispatch::Early>,
) {
    if let Some(calls) = core.calls_to_run() {
        let run = dispatcher.run(core.toolset(), calls, core.code_version(), early);
        core.on_tool_results(run.await);
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
                    match result {
                        Ok(message) => {
                            this.core.on_response(message.clone());
                            return Poll::Ready(Some(Ok(message)));
                        }
                        Err(error) => {
                            // `None`: a thread the server rejected; the next
                            // action sends the turn again, as it says.
                            if let Some(error) = this.core.on_send_error(error) {
                                return Poll::Ready(Some(Err(error)));
                            }
                        }
                    }
                }
                Phase::Compacting(summary) => {
                    let result = ready!(summary.as_mut().poll(cx));
                    this.phase = Phase::Idle;
                    match result {
                        Ok(summary) => this.core.on_summary(&summary),
                        Err(error) => {
                            if let Action::Fail(error) = this.core.on_summary_error(error) {
                                return Poll::Ready(Some(Err(error)));
                            }
                        }
                    }
                }
                Phase::RunningTools(tools) => {
                    let response = ready!(tools.as_mut().poll(cx));
                    this.phase = Phase::Idle;
                    this.core.on_tool_results(response);
                }
                Phase::Idle => match this.core.next_action() {
                    Action::Finish => return Poll::Ready(None),
                    Action::Fail(error) => return Poll::Ready(Some(Err(error))),
                    Action::RunTools(calls) => {
                        let core = &this.core;
                        let run = this.dispatcher.run(
                            core.toolset(),
                            calls,
                            core.code_version(),
                            HashMap::new(),
                        );
                        this.phase = Phase::RunningTools(Box::pin(run));
                    }
                    Action::Send(request) => {
                        let client = this.client.clone();
                        let span = this.core.request_span();
                        this.phase = Phase::Sending(Box::pin(
                            async move { client.complete(&request).await }.instrument(span),
                        ));
                    }
                    Action::Compact(request) => {
                        let client = this.client.clone();
                        let span = this.core.request_span();
                        this.phase = Phase::Compacting(Box::pin(
                            async move { client.complete(&request).await }.instrument(span),
                        ));
                    }
                },
            }
        }
    }
}

impl fmt::Debug for ToolRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolRunner")
            .field("model", &self.core.params().model)
            .field("messages", &self.core.params().messages.len())
            .field("toolset", self.core.toolset())
            .field("iterations", &self.core.iterations())
            .field("max_iterations", &self.core.max_iterations())
            .field("finished", &self.core.is_finished())
            .finish_non_exhaustive()
    }
}
