//! [`ToolRunner`], and what its two modes share: their configuration,
//! their state and the current turn's tool results, written once for every
//! [`Mode`]. Each mode only says how it carries out the loop's actions
//! (`next` or `next_turn`, `until_done`) and how it settles the current
//! turn (`Drive`, in `mode.rs`).

use super::dispatch::Dispatcher;
use super::lifecycle::Lifecycle;
use super::mode::{Messages, Mode};
use crate::client::Client;

/// Runs the agentic loop: a [`Stream`](futures_util::Stream) of the model's messages, one per request.
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
/// is yielded as an error ([`Error::is_max_iterations`](crate::Error::is_max_iterations)) and ends the stream
/// (a higher limit goes on from there). Calls a before-call hook deferred
/// end it too, once the turn's other calls ran: see
/// [`pending_approvals`](Self::pending_approvals).
///
/// Dropping the runner cancels it: the request in flight and running async
/// tools are dropped, and every tool's [`ToolCall::cancellation`](crate::ToolCall::cancellation)
/// token is cancelled (synchronous tools already on the blocking pool run to
/// their end, but their results are discarded).
///
/// The mode `M` says how the runner is driven: this page's `ToolRunner` is
/// `ToolRunner<Messages>`, a [`Stream`](futures_util::Stream) of messages;
/// [`streaming`](Self::streaming) makes a `ToolRunner<Turns>`
/// ([`StreamingToolRunner`](crate::StreamingToolRunner)). Settings and accessors are the same in both.
#[must_use = "a runner does nothing until it is polled"]
pub struct ToolRunner<M = Messages> {
    pub(super) client: Client,
    /// The loop's state and rules.
    pub(super) core: Lifecycle,
    /// Runs the tool calls, with the hooks and the checkpoint.
    pub(super) dispatcher: Dispatcher,
    /// The span of the whole run.
    pub(super) span: tracing::Span,
    /// What only this mode holds.
    pub(super) mode: M,
}

/// The settings and accessors of both modes: a setting made before or
/// after [`streaming`](ToolRunner::streaming) is the same.
impl<M: Mode> ToolRunner<M> {
    /// Sets the most requests the runner sends (default
    /// [`DEFAULT_MAX_ITERATIONS`](crate::DEFAULT_MAX_ITERATIONS)). When
    /// the limit is reached the runner yields an error instead of
    /// sending another request, and does not run tools whose results
    /// could not be sent. The run stops there without being over: a
    /// higher limit, set on this runner or on one resumed from its
    /// [`state`](Self::state), goes on (the last turn's calls run, then
    /// the next request).
    pub fn max_iterations(mut self, max: usize) -> Self {
        self.core.set_max_iterations(max);
        self
    }

    /// Sends every request of the run with `options` over the client's
    /// settings: headers (a workspace, an end user), timeouts, retries,
    /// extra body fields and query parameters. The runner's requests only:
    /// the client it was made from is unchanged. Options set twice add up,
    /// the later winning.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use std::time::Duration;
    /// use toolrunner::{MessageParams, RequestOptions, toolset};
    ///
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("Hi");
    /// let options = RequestOptions::new()
    ///     .user_profile_id("uprof_01")
    ///     .timeout(Duration::from_secs(90));
    /// let answer = client.tool_runner(params, toolset![]).request_options(options).until_done().await?;
    /// # drop(answer);
    /// # Ok(())
    /// # }
    /// ```
    pub fn request_options(mut self, options: crate::RequestOptions) -> Self {
        self.client = self.client.with_options(options);
        self
    }

    /// Sets how many of your tools run at once (default
    /// [`DEFAULT_TOOL_CONCURRENCY`](crate::DEFAULT_TOOL_CONCURRENCY); at
    /// least 1). Results keep call order.
    ///
    /// The bound is the run's, whoever calls the tools: the model directly,
    /// code in the API's container (programmatic tool calling), or a
    /// code-mode program, whose `run_code` call does not count while its
    /// program runs (it only waits for the program's calls, which do).
    /// Calls started early, while a turn streams
    /// ([`early_tool_start`](crate::StreamingToolRunner::early_tool_start)),
    /// count as well. Hooks run outside the bound; a call waiting for a
    /// free slot has passed its before-call hook.
    pub fn tool_concurrency(mut self, n: usize) -> Self {
        self.dispatcher.set_concurrency(n);
        self
    }

    /// Runs `hook` before each tool call: it sees the tool's name, input and
    /// caller, and may allow the call, deny it (the model sees the message
    /// as an `is_error` result) or replace its input. Calls a tool's
    /// `allowed_callers` refuse never reach the hook.
    ///
    /// The hook is an async closure (or a closure returning an async block),
    /// cloned for each call. It may capture what it needs, and reads the
    /// toolset's shared state with [`PendingCall::state`](crate::PendingCall::state):
    ///
    /// ```no_run
    /// # use std::collections::HashSet;
    /// # use std::sync::{Arc, Mutex};
    /// # use toolrunner::{toolset, Client, Decision, MessageParams, PendingCall};
    /// # fn f(client: Client, params: MessageParams) {
    /// /// The tools a human approved, shared with the code that asks them.
    /// let approved = Arc::new(Mutex::new(HashSet::from(["read_file".to_owned()])));
    ///
    /// let runner = client
    ///     .tool_runner(params, toolset![])
    ///     .before_tool_call(async move |call: PendingCall| {
    ///         if approved.lock().unwrap().contains(&call.name) {
    ///             Decision::allow()
    ///         } else {
    ///             Decision::deny(format!("`{}` needs a human's approval", call.name))
    ///         }
    ///     });
    /// # }
    /// ```
    pub fn before_tool_call(mut self, hook: impl crate::BeforeToolCall) -> Self {
        self.dispatcher.before = Some(::std::sync::Arc::new(hook));
        self
    }

    /// Runs `hook` after each tool call that ran; what it returns is sent in
    /// place of the tool's result.
    pub fn after_tool_call(mut self, hook: impl crate::AfterToolCall) -> Self {
        self.dispatcher.after = Some(::std::sync::Arc::new(hook));
        self
    }

    /// Compacts the conversation when it grows: on the client
    /// ([`Compaction::new`](crate::Compaction::new): the runner asks for a summary past a token
    /// threshold) or on the server
    /// ([`Compaction::server`](crate::Compaction::server): each request
    /// carries the API's `compact_20260112` edit). A `compaction` stop
    /// reason is handled like `pause_turn`.
    pub fn compaction(mut self, compaction: crate::Compaction) -> Self {
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
    /// configuration error ([`Error::is_config`](crate::Error::is_config))
    /// naming an added tool and a state it needs that neither toolset
    /// holds. Nothing is added then.
    pub fn add_tools(&mut self, toolset: crate::Toolset) -> Result<(), crate::Error> {
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
    ) -> Result<(), crate::Error> {
        self.core.remove_tools(names)
    }

    /// Compacts the conversation before the model's next turn, once the
    /// current turn's tools have run (a paused turn is resumed first).
    /// With [`Compaction::new`](crate::Compaction::new) this is the
    /// client-side summary, whatever the threshold. With
    /// [`Compaction::server`](crate::Compaction::server) the next
    /// request's compaction edit is made to fire: its trigger is set to
    /// the tokens the last turn held (at least the API's smallest
    /// trigger, 50,000 input tokens, so a smaller conversation is
    /// compacted once it gets there), for that request only; no extra
    /// request is sent. Otherwise the runner sends one request with the
    /// whole history and `compaction: {"type": "summarize"}` (beta
    /// `compact-2026-09-04`), and goes on from the `compaction` block
    /// the API returns. That request counts as an iteration and is not
    /// yielded.
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
    /// An invalid-request error when the parameters carry a compaction
    /// edit of the caller's own and no [`Compaction`](crate::Compaction)
    /// is set: the API does not accept a summarized conversation with one.
    pub fn compact_before_next_turn(&mut self) -> Result<(), crate::Error> {
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
    /// the server cannot thread a request, the runner goes on without. On a
    /// platform that does not offer threads (Amazon Bedrock, say), they
    /// stay off, and no request asks for one. Without a thread, each
    /// request is marked for prompt caching instead (see
    /// [`prompt_caching`](Self::prompt_caching)).
    ///
    /// ```no_run
    /// # use toolrunner::{toolset, Client, MessageParams};
    /// # fn f(client: Client, params: MessageParams) {
    /// // Send the whole history with every request instead.
    /// let runner = client.tool_runner(params, toolset![]).message_threads(false);
    /// # }
    /// ```
    pub fn message_threads(mut self, enabled: bool) -> Self {
        let offered = super::thread::offered_by(&self.client);
        self.core.set_message_threads(enabled && offered);
        self
    }

    /// Falls back to `models`, in order, when the model refuses a turn
    /// (`stop_reason: "refusal"`) or the API is overloaded (status 529, or
    /// an `overloaded_error` in a stream, once the client's retries are
    /// used up): the turn is sent again, with the same history, to the next
    /// model of the list, and the conversation stays on the model that took
    /// it. The refused reply is not yielded by a plain runner and never
    /// enters the history; a streaming runner has streamed it already, and
    /// its next turn is the fallback model's. Each move is logged at `warn`
    /// with `from`, `to` and `trigger`.
    ///
    /// Every request then carries the beta `fallback-credit-2026-07-01`,
    /// under which a refusal mints a `fallback_credit_token`; the request
    /// that follows a refusal redeems it (`{"token": ..., "mode":
    /// "best_effort"}`), as the official SDKs' refusal-fallback middleware
    /// does. With message threads, the turn after a refusal starts a new
    /// thread with the whole history, since the server may hold the refused
    /// turn. See the [fallback guide](crate::_guide::fallback).
    ///
    /// The list is kept in the run's [`RunState`](crate::RunState): a
    /// resumed runner falls back as the saved one did, and this method
    /// called on it replaces the list.
    ///
    /// ```no_run
    /// # use toolrunner::{toolset, Client, MessageParams};
    /// # fn f(client: Client, params: MessageParams) {
    /// let runner = client
    ///     .tool_runner(params, toolset![])
    ///     .fallback_models(["claude-sonnet-4-5", "claude-haiku-4-5"]);
    /// # }
    /// ```
    pub fn fallback_models<S: Into<String>>(mut self, models: impl IntoIterator<Item = S>) -> Self {
        self.core
            .set_fallback_models(models.into_iter().map(Into::into).collect());
        self
    }

    /// Whether the runner marks requests for prompt caching when it sends
    /// the whole history (message threads off, or not offered by the
    /// platform): on by default.
    ///
    /// Each such request then writes the conversation so far to the prompt
    /// cache, and the next one, which begins with it, reads it back at a
    /// tenth of the input price, rather than paying full price for the
    /// whole history every turn. Where the platform takes it, the request
    /// carries the top-level `cache_control` (the API marks the last
    /// cacheable block); elsewhere the last block of the history, as sent,
    /// carries a breakpoint. Your own breakpoints stay where they are and
    /// count against the API's limit of four: when they use all four, or
    /// one marks the end of the request already, the runner adds none.
    /// Where the platform offers cache diagnostics, each request names the
    /// previous reply, and a reply saying why the cache missed is logged
    /// (`tracing`, level `info`) with the reason.
    ///
    /// The setting is kept in the run's [`state`](Self::state). See the
    /// [cost guide](crate::_guide::cost).
    ///
    /// ```no_run
    /// # use toolrunner::{toolset, Client, MessageParams};
    /// # fn f(client: Client, params: MessageParams) {
    /// // Whole-history requests without any breakpoint of the runner's.
    /// let runner = client
    ///     .tool_runner(params, toolset![])
    ///     .message_threads(false)
    ///     .prompt_caching(false);
    /// # }
    /// ```
    pub fn prompt_caching(mut self, enabled: bool) -> Self {
        self.core.set_prompt_caching(enabled);
        self
    }

    /// Sets the tool search the runner declares when some tool has
    /// `defer_loading` (see
    /// [`Toolset::defer_loading`](crate::Toolset::defer_loading)) and the parameters
    /// declare no tool-search tool: [`ToolSearch::Regex`](crate::ToolSearch::Regex) by default.
    ///
    /// ```no_run
    /// # use toolrunner::{toolset, Client, MessageParams, ToolSearch, Toolset};
    /// # fn f(client: Client, params: MessageParams, many: Toolset) {
    /// let runner = client
    ///     .tool_runner(params, many.defer_loading(true))
    ///     .tool_search(ToolSearch::Bm25);
    /// # }
    /// ```
    pub fn tool_search(mut self, search: crate::ToolSearch) -> Self {
        self.core.set_tool_search(search);
        self
    }

    /// Whether the run's spans record message contents, tool arguments and
    /// results (`gen_ai.input.messages`, `gen_ai.output.messages`,
    /// `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`); off by
    /// default, since they may hold secrets.
    ///
    /// The default, and the most bytes recorded, come from the client's
    /// [`Telemetry`](crate::Telemetry). Unless that is turned off, the
    /// runner records spans in the OpenTelemetry GenAI conventions (with
    /// `gen_ai.conversation.id` when the client's telemetry sets one): `invoke_agent` for the run; under it, `chat` for each
    /// model request (`gen_ai.operation.name`, `gen_ai.provider.name =
    /// "anthropic"`, `gen_ai.request.model`, `gen_ai.response.id`,
    /// `gen_ai.usage.input_tokens` / `output_tokens`,
    /// `gen_ai.usage.cache_creation.input_tokens` / `cache_read.input_tokens`,
    /// `gen_ai.response.finish_reasons`, `error.type` on failure) and
    /// `execute_tool` for each tool call (`gen_ai.tool.name`,
    /// `gen_ai.tool.call.id`, `error.type`). The run's span carries the
    /// [`usage`](Self::usage) so far: the same `gen_ai.usage.*` counts over
    /// the whole run, and `toolrunner.usage.requests`,
    /// `toolrunner.usage.server_tool_uses` and
    /// `toolrunner.usage.compaction.input_tokens` / `output_tokens`.
    pub fn record_content(mut self, record: bool) -> Self {
        self.core.set_record_content(record);
        self.dispatcher.recording = self.core.recording();
        self
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
    pub fn params(&self) -> &crate::MessageParams {
        self.core.params()
    }

    /// The conversation so far. It ends on the turn whose calls wait
    /// for approval when the run stopped for them
    /// ([`pending_approvals`](Self::pending_approvals)); taking over the
    /// history then, you answer or remove that turn's calls yourself.
    pub fn messages(&self) -> &[crate::MessageParam] {
        &self.core.params().messages
    }

    /// The parameters, to change. This takes over the history for the
    /// current iteration: the runner appends nothing and sends your state
    /// as it is.
    pub fn params_mut(&mut self) -> &mut crate::MessageParams {
        self.core.params_mut()
    }

    /// Appends messages, taking over the history for the current iteration:
    /// the runner appends neither the assistant message nor tool results;
    /// append them yourself if the turn should count.
    pub fn push_messages(&mut self, messages: impl IntoIterator<Item = crate::MessageParam>) {
        self.core.push_messages(messages);
    }

    /// Replaces the history, taking over for the current iteration.
    pub fn set_messages(&mut self, messages: Vec<crate::MessageParam>) {
        self.core.set_messages(messages);
    }

    /// The last message the model sent.
    pub fn last_message(&self) -> Option<&crate::Message> {
        self.core.last_message()
    }

    /// Every code-execution run of the conversation so far, in order: its
    /// code, output, return code, files and the tool calls it made. A run
    /// with a non-zero return code or an error result is a failure
    /// ([`CodeExecution::is_failure`](crate::types::CodeExecution::is_failure)),
    /// whatever the model says of it.
    pub fn code_executions(&self) -> Vec<crate::types::CodeExecution> {
        self.core.code_executions()
    }

    /// The run's state as it stands, to keep and go on with later
    /// ([`Client::resume`](crate::Client::resume)). Take it between iterations: after a message
    /// was yielded, or once the stream has ended (with calls waiting for
    /// approval, say).
    pub fn state(&self) -> crate::RunState {
        self.core.state()
    }

    /// The calls of the current turn that a before-call hook deferred
    /// ([`Decision::Defer`](crate::Decision::Defer)) and that wait for a human, in call order. When
    /// some do, the runner's stream ends once the turn's other calls have
    /// run (and `until_done` returns an
    /// [`is_awaiting_approval`](crate::Error::is_awaiting_approval) error):
    /// keep its [`state`](Self::state), and approve or deny them on it
    /// ([`RunState::approve`](crate::RunState::approve), [`RunState::deny`](crate::RunState::deny)) before resuming.
    ///
    /// ```no_run
    /// # use futures_util::StreamExt;
    /// # use toolrunner::{toolset, Client, Decision, MessageParams, PendingCall};
    /// # async fn f(client: Client, params: MessageParams) -> Result<(), toolrunner::Error> {
    /// let mut runner = client
    ///     .tool_runner(params, toolset![])
    ///     .before_tool_call(|call: PendingCall| async move {
    ///         if call.name == "refund" { Decision::Defer } else { Decision::Allow }
    ///     });
    /// while let Some(message) = runner.next().await {
    ///     message?;
    /// }
    /// for call in runner.pending_approvals() {
    ///     println!("{} wants to run {} with {}", call.id, call.name, call.input);
    /// }
    /// let mut state = runner.state();
    /// // ... days later, perhaps in another process:
    /// for call in state.pending_approvals() {
    ///     state.deny(&call.id, "a human refused the refund")?;
    /// }
    /// let runner = client.resume(state, toolset![])?;
    /// # Ok(()) }
    /// ```
    pub fn pending_approvals(&self) -> Vec<crate::PendingCall> {
        self.core.pending_approvals()
    }

    /// The number of requests answered so far.
    pub fn iterations(&self) -> usize {
        self.core.iterations()
    }

    /// The tokens the run used so far: input, output, cache writes and
    /// reads, and server tool uses, summed over its requests, with
    /// compaction (summary requests, and compaction done by the server)
    /// listed apart. Kept in the run's [`state`](Self::state), so a resumed
    /// run goes on counting; recorded on the run's `invoke_agent` span too.
    ///
    /// ```no_run
    /// # use toolrunner::{toolset, Client, MessageParams};
    /// use toolrunner::usage::PriceTable;
    ///
    /// use futures_util::StreamExt;
    ///
    /// # async fn f(client: Client, params: MessageParams) -> Result<(), toolrunner::Error> {
    /// let mut runner = client.tool_runner(params, toolset![]);
    /// while let Some(message) = runner.next().await {
    ///     message?;
    /// }
    /// let usage = runner.usage().total();
    /// println!("{} requests, {} input tokens read from the cache", usage.requests, usage.cache_read_input_tokens);
    /// if let Some(dollars) = PriceTable::published().estimate(&runner.params().model, &usage) {
    ///     println!("about ${dollars:.4}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn usage(&self) -> crate::usage::RunUsage {
        self.core.usage()
    }

    /// The runner's tools.
    pub fn toolset(&self) -> &crate::Toolset {
        self.core.toolset()
    }

    /// The tool results answering the current message: the user message the
    /// runner will send next. The tools run on the first call, once; later
    /// calls, and the runner itself, reuse the result, so edits made through
    /// the returned reference (adding `cache_control`, say) are what is sent.
    /// A streaming runner reads the current turn to its end first.
    ///
    /// `Ok(None)` when the current message asks for no tools.
    ///
    /// # Errors
    ///
    /// The current turn's stream failed (streaming runner only).
    pub async fn tool_response(
        &mut self,
    ) -> Result<Option<&mut crate::MessageParam>, crate::Error> {
        // A failed checkpoint is the caller's to know; the results are
        // kept all the same, and asking again returns them.
        M::settle(self).await?;
        Ok(self.core.tool_response_mut())
    }

    /// The current message's tool calls, each with the result that answers
    /// it, in call order: what [`tool_response`](Self::tool_response) holds,
    /// paired by `tool_use` id. The tools run now if they have not; the
    /// runner then reuses their results. Empty when the message asks for no
    /// tools; a call whose result you removed is left out.
    ///
    /// ```no_run
    /// # use toolrunner::prelude::*;
    /// # async fn f(mut runner: toolrunner::ToolRunner) -> Result<(), toolrunner::Error> {
    /// while let Some(message) = runner.next().await {
    ///     println!("{}", message?.text());
    ///     for (call, result) in runner.tool_results().await? {
    ///         let mark = if result.is_error { "error" } else { "ok" };
    ///         println!("  {}({}) -> [{mark}] {}", call.name, call.input, result.text());
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`tool_response`](Self::tool_response).
    pub async fn tool_results(
        &mut self,
    ) -> Result<Vec<(&crate::ToolUseBlock, &crate::ToolResultBlock)>, crate::Error> {
        // A failed checkpoint is the caller's to know; the results are
        // kept all the same, and asking again returns them.
        M::settle(self).await?;
        Ok(self.core.tool_results())
    }

    /// Runs the loop to its end with every request asking for an answer
    /// shaped as `T` (structured output), and parses the last message's
    /// text into `T`. Tools run as usual on the way; a streaming runner
    /// reads every turn as a stream.
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
    /// ([`Error::is_parse`](crate::Error::is_parse)) when the last message's
    /// text is not a `T`, keeping the text
    /// ([`Error::parse_text`](crate::Error::parse_text)) and the field path
    /// where it failed ([`Error::parse_path`](crate::Error::parse_path)).
    pub async fn until_done_parsed<T>(mut self) -> Result<T, crate::Error>
    where
        T: ::serde::de::DeserializeOwned + ::schemars::JsonSchema,
    {
        self.core
            .set_output_format(crate::runner::structured::format_for::<T>());
        let message = M::run_to_end(self).await?;
        crate::runner::structured::parse(&message)
    }

    /// A standalone [`MessageThread`](crate::MessageThread) with a copy of
    /// this conversation (the history, the last reply and its tool results
    /// if they ran), the parameters and the fallback models, which starts a
    /// message thread of its own with its first turn. Sends nothing; the
    /// runner goes on unchanged.
    ///
    /// ```no_run
    /// # use futures_util::StreamExt;
    /// # use toolrunner::{toolset, Client, MessageParam, MessageParams};
    /// # async fn f(client: Client, params: MessageParams) -> Result<(), toolrunner::Error> {
    /// let mut runner = client.tool_runner(params, toolset![]);
    /// while let Some(message) = runner.next().await {
    ///     println!("{}", message?.text());
    /// }
    /// // A side question, kept out of the run.
    /// let mut aside = runner.fork_thread();
    /// let reply = aside.send([MessageParam::user("Summarize in one line.")]).await?;
    /// # Ok(()) }
    /// ```
    pub fn fork_thread(&self) -> crate::MessageThread {
        let mut params = self.core.params().clone();
        params.messages = self.core.history();
        crate::MessageThread::new(self.client.clone(), params, self.core.fallbacks().clone())
            .message_threads(self.core.is_threading())
    }

    /// Asks every request from now on for an answer shaped as `T`
    /// (structured output), as [`until_done_parsed`](Self::until_done_parsed)
    /// does, while the run is read turn by turn: read each turn's answer
    /// with [`parsed`](Self::parsed).
    ///
    /// ```no_run
    /// # use futures_util::StreamExt;
    /// # use toolrunner::{toolset, Client, MessageParams};
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Progress {
    ///     done: bool,
    ///     note: String,
    /// }
    ///
    /// # async fn f(client: Client, params: MessageParams) -> Result<(), toolrunner::Error> {
    /// let mut runner = client.tool_runner(params, toolset![]).output_format::<Progress>();
    /// while let Some(message) = runner.next().await {
    ///     message?;
    ///     if let Some(progress) = runner.parsed::<Progress>() {
    ///         println!("{}", progress?.note);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn output_format<T: ::schemars::JsonSchema>(mut self) -> Self {
        self.core
            .set_output_format(crate::runner::structured::format_for::<T>());
        self
    }

    /// The last message's text parsed as `T`, when the requests ask for a
    /// format ([`output_format`](Self::output_format), or an
    /// `output_config.format` of the parameters): `None` when they do not,
    /// before the first message, and for a message without text (a turn of
    /// tool calls only). A streaming runner has the message of a turn once
    /// it was read to its end (see [`Turn::parsed`](crate::Turn::parsed)
    /// for the turn at hand).
    ///
    /// # Errors
    ///
    /// A parse error as [`until_done_parsed`](Self::until_done_parsed)'s,
    /// keeping the text and the field path where it failed.
    pub fn parsed<T: ::serde::de::DeserializeOwned>(&self) -> Option<Result<T, crate::Error>> {
        if !crate::runner::structured::has_format(self.core.params()) {
            return None;
        }
        crate::runner::structured::parse_turn(self.core.last_message()?)
    }

    /// Downloads every file the code-execution runs of this conversation
    /// wrote (the [`output_files`](crate::types::CodeExecution::output_files)
    /// of [`code_executions`](Self::code_executions)) into `dir`, creating
    /// it if needed. Each file is named after its metadata, made safe by
    /// [`sanitize_filename`](crate::sanitize_filename); an existing file is
    /// never replaced (the new one gets a ` (1)` suffix). Files are fetched
    /// one after another, each streamed to disk.
    ///
    /// One file failing does not stop the others: see
    /// [`Artifacts::failed`](crate::Artifacts::failed).
    ///
    /// The runs are read when this is called, so the future does not
    /// borrow the runner.
    ///
    /// # Errors
    ///
    /// [`Error::is_io`](crate::Error::is_io) when `dir` cannot be created.
    /// Errors of single files are in [`Artifacts::failed`](crate::Artifacts::failed).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(mut runner: toolrunner::ToolRunner) -> Result<(), toolrunner::Error> {
    /// use futures_util::TryStreamExt;
    ///
    /// while let Some(message) = runner.try_next().await? {
    ///     println!("{}", message.text());
    /// }
    /// let artifacts = runner.download_artifacts("out").await?;
    /// for saved in &artifacts.saved {
    ///     println!("wrote {} ({} bytes)", saved.path.display(), saved.bytes);
    /// }
    /// for (file_id, error) in &artifacts.failed {
    ///     eprintln!("could not download {file_id}: {error}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn download_artifacts(
        &self,
        dir: impl AsRef<::std::path::Path>,
    ) -> impl Future<Output = Result<crate::Artifacts, crate::Error>> + Send + 'static {
        let runs = self.code_executions();
        crate::runner::artifacts::download(self.client.files(), runs, dir.as_ref())
    }
}
