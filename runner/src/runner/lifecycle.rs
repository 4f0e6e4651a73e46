//! [`Lifecycle`]: the tool-runner loop with no I/O.
//!
//! It holds the conversation and everything the loop counts and remembers,
//! answers "what next?" with an [`Action`], and takes back what came of it.
//! The plain runner ([`ToolRunner`](super::ToolRunner)) and the streaming
//! one ([`StreamingToolRunner`](super::StreamingToolRunner)) only carry
//! actions out, so both run the same loop; and the loop can be tested
//! without a server or a runtime.
//!
//! The lifecycle, in order:
//!
//! 1. [`next_action`](Lifecycle::next_action) applies the previous turn to
//!    the history (see step 4), then says [`Action::Send`] with the request
//!    for the current state, or [`Action::Compact`] first when the last turn
//!    grew past the compaction threshold, or [`Action::Fail`] when the
//!    iteration limit is reached (the loop stops there unfinished: a higher
//!    limit goes on from that point).
//! 2. The driver sends it and hands back the reply
//!    ([`on_response`](Lifecycle::on_response)), which becomes the current
//!    turn, or the error ([`on_send_error`](Lifecycle::on_send_error)).
//!    The driver yields the reply; the caller may change the state.
//! 3. If the turn stopped for `tool_use`, the next action is
//!    [`Action::RunTools`]; the driver runs them and hands back what came
//!    of each as it finishes ([`on_call`](Lifecycle::on_call)), then says
//!    the batch is over ([`on_calls_done`](Lifecycle::on_calls_done)): the
//!    results become the user message answering the turn. Calls a hook
//!    deferred wait for a human: the turn goes into the history, and the
//!    next action is [`Action::Finish`] until a resumed state brings the
//!    decisions.
//! 4. Unless the caller took over the history, the turn and its tool
//!    results are appended, and the loop goes back to step 1. A turn that
//!    stopped for `pause_turn` or `compaction` is appended and sent back
//!    as it is; any other stop reason ends the loop ([`Action::Finish`]).
//!    After a taken-over turn, the caller's state is sent unchanged.

use crate::client::Request;
use crate::error::Error;
use crate::toolset::Toolset;
use crate::types::{
    CodeExecution, Content, ContentBlock, Message, MessageParam, MessageParams, StopReason,
    ToolResultBlock, ToolUseBlock, code_executions,
};

use super::batch::BatchRecord;
use super::caching::{self, PromptCaching};
use super::compaction::{self, Compaction};
use super::conversation;
use super::dispatch::{self, Batch, Outcome};
use super::fallback::Fallbacks;
use super::hooks::PendingCall;
use super::open_telemetry::Telemetry;
use super::request::{self, RequestBuilder, Wire};
use super::state::Deferred;
use super::structured;
use super::telemetry;
use super::thread::ThreadState;
use super::tool_changes::ToolChanges;
use super::tool_search;
use super::{DEFAULT_MAX_ITERATIONS, log};
use crate::usage::RunUsage;

/// What the driver is to do next.
#[derive(Debug)]
pub(crate) enum Action {
    /// Send this request; hand back the reply or the error.
    Send(Request),
    /// Send this summary request; hand back the summary or the error.
    Compact(Request),
    /// Run these calls of the current turn; hand back what came of each.
    RunTools(Batch),
    /// Yield this error. Whether the loop is over is decided already.
    Fail(Error),
    /// The loop is over.
    Finish,
}

/// The loop's state and its rules.
pub(crate) struct Lifecycle {
    /// The parameters of the next request, with the whole history.
    params: MessageParams,
    /// The tools the runner runs now.
    toolset: Toolset,
    /// The tools the `tools` parameter declares: fixed once a request went
    /// out, so that changes do not miss the prompt cache.
    declared: Toolset,
    /// Tools added or removed since the last request.
    changes: ToolChanges,
    /// Whether a request was built, fixing `declared`.
    declared_sent: bool,
    /// Builds each request from the parameters and the declared tools.
    requests: RequestBuilder,
    /// The most requests the loop sends.
    max_iterations: usize,
    /// How the conversation is compacted as it grows, if at all.
    compaction: Option<Compaction>,
    /// The number of requests answered so far.
    iterations: usize,
    /// The last reply, with its tool results once they have run.
    turn: Option<LastReply>,
    /// Whether the caller changed the history since the last reply: the
    /// turn is then dropped, not applied, and the caller's history is sent
    /// as it is. Done with once the turn is applied or a request built.
    taken_over: bool,
    /// Whether the caller may have changed what the server's thread holds
    /// since the last request: the next request's thread plan reads it
    /// (and clears it) to decide whether the thread goes on.
    touched: bool,
    /// Where the conversation stands on a server-held thread.
    thread: ThreadState,
    /// The models a refused or overloaded turn falls back to.
    fallbacks: Fallbacks,
    /// Automatic prompt caching, for requests without a thread.
    caching: PromptCaching,
    /// The tokens the run used so far.
    usage: RunUsage,
    /// Whether the last turn was large enough to compact before the next
    /// request (the [`Compaction`]'s threshold; apart from any asking).
    compact_due: bool,
    /// Where the caller's request for compaction before the next turn
    /// stands.
    compact_asked: CompactAsk,
    /// The tokens of the last reply's turn, input and output: at least
    /// what the next request holds, for a server-side compaction asked for.
    last_context_tokens: u64,
    /// Whether the last turn paused mid-turn and must stay last, so that
    /// compaction waits until it is resumed.
    paused: bool,
    /// The container a reply reported expired, to be reported as an error.
    expired: Option<Option<String>>,
    /// The container the request in flight named, for its errors.
    in_flight_container: Option<String>,
    /// The span of the whole run.
    run_span: tracing::Span,
    /// The span of the request in flight.
    request_span: Option<tracing::Span>,
    /// What spans record of message contents.
    recording: telemetry::Recording,
    /// The conversation the run's spans are linked to.
    conversation: Option<String>,
    /// Whether the loop goes on, and if not, why not.
    stage: Stage,
    /// Whether the toolset was checked for the states its tools need.
    state_checked: bool,
    /// What a batch driver keeps with the run (its request in a batch,
    /// its usage): carried into every state so that each save keeps it;
    /// the loop itself never reads it.
    batch_record: Option<BatchRecord>,
}

/// Whether the loop goes on, and if not, why not. Calls waiting for a
/// human are not a stage of their own: the current turn's approvals say
/// so, and the loop is [`Running`](Stage::Running) until they are decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The next action applies the last turn and goes on from it.
    Running,
    /// Stopped at the iteration limit: over for this limit, not finished;
    /// a higher limit goes on from here.
    AtLimit {
        /// Whether the driver was told to keep this end's state.
        end_kept: bool,
    },
    /// The loop is over: no request follows.
    Finished {
        /// Whether the driver was told to keep this end's state.
        end_kept: bool,
    },
}

/// Where the caller's request for compaction before the next turn stands
/// ([`Lifecycle::compact_before_next_turn`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CompactAsk {
    /// Not asked for, or done.
    No,
    /// Asked for, to be carried out before the next turn (a paused turn is
    /// resumed first).
    Asked,
    /// Asked for, with server-side compaction: the request in flight
    /// carries the edit made to fire now. Done once a reply comes; a
    /// request sent again after an error fires too.
    Firing,
}

/// The last reply, as the loop holds it.
struct LastReply {
    /// The reply as the model sent it.
    message: Message,
    /// The user message answering the reply's calls, once all have results.
    tool_response: Option<MessageParam>,
    /// Whether the message is in the history already (the loop ended on it).
    appended: bool,
    /// Results of the turn's calls that finished, in the order they did,
    /// until all have and they become `tool_response`.
    finished: Vec<ToolResultBlock>,
    /// Calls a hook deferred to a human, and what the human decided.
    approvals: Vec<Deferred>,
}

impl LastReply {
    fn new(message: Message) -> Self {
        LastReply {
            message,
            tool_response: None,
            appended: false,
            finished: Vec::new(),
            approvals: Vec::new(),
        }
    }

    /// Whether this turn's tools are to be run: only for `tool_use` stops.
    fn wants_tools(&self) -> bool {
        self.message.stop_reason == Some(StopReason::ToolUse)
            && self.message.tool_uses().next().is_some()
    }

    fn has_result(&self, id: &str) -> bool {
        self.finished.iter().any(|r| r.tool_use_id == id)
    }

    /// Whether call `id` waits for a human's decision.
    fn awaits_approval(&self, id: &str) -> bool {
        self.approvals
            .iter()
            .any(|a| a.id == id && a.decision.is_none())
    }

    /// The calls still to run, with the decisions about deferred ones.
    fn batch(&self) -> Batch {
        let calls = self
            .message
            .tool_uses()
            .filter(|c| !self.has_result(&c.id) && !self.awaits_approval(&c.id))
            .cloned()
            .collect();
        let approvals = self
            .approvals
            .iter()
            .filter_map(|a| Some((a.id.clone(), a.decision.clone()?)))
            .collect();
        Batch { calls, approvals }
    }
}

/// What became of a reply handed to [`Lifecycle::on_response`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Received {
    /// The reply is the current turn: the driver yields it.
    Turn,
    /// The model refused and the turn goes to a fallback model: the reply
    /// is not the conversation's, and the next action sends the turn
    /// again. A driver that has not shown it yet does not.
    FellBack,
}

/// What applying the previous turn leads to.
enum Step {
    Send,
    RunTools,
    Finish,
    LimitReached,
    ContainerExpired(Option<String>),
    /// The turn's calls that could run have; the rest wait for a human.
    AwaitApproval,
}

impl Lifecycle {
    /// A lifecycle with the default telemetry settings.
    #[cfg(test)]
    pub(crate) fn new(params: MessageParams, toolset: Toolset) -> Self {
        Lifecycle::new_in(params, toolset, &Telemetry::default())
    }

    /// A lifecycle under a client's `telemetry` settings: with them off,
    /// the run has no spans at all.
    pub(crate) fn new_in(params: MessageParams, toolset: Toolset, settings: &Telemetry) -> Self {
        let mut core = Lifecycle {
            run_span: telemetry::run_span(settings, &params.model),
            params,
            declared: toolset.clone(),
            toolset,
            changes: ToolChanges::default(),
            declared_sent: false,
            requests: RequestBuilder::new(),
            max_iterations: DEFAULT_MAX_ITERATIONS,
            compaction: None,
            iterations: 0,
            turn: None,
            taken_over: false,
            touched: false,
            thread: ThreadState::new(true),
            fallbacks: Fallbacks::default(),
            caching: PromptCaching::default(),
            usage: RunUsage::default(),
            compact_due: false,
            compact_asked: CompactAsk::No,
            last_context_tokens: 0,
            paused: false,
            expired: None,
            in_flight_container: None,
            request_span: None,
            recording: telemetry::Recording::default(),
            conversation: None,
            stage: Stage::Running,
            state_checked: false,
            batch_record: None,
        };
        core.set_telemetry(settings);
        core
    }

    /// Sets the iteration limit; a loop stopped at the old one goes on
    /// under a higher one.
    pub(crate) fn set_max_iterations(&mut self, max: usize) {
        self.max_iterations = max;
        if matches!(self.stage, Stage::AtLimit { .. }) && self.iterations < max {
            self.stage = Stage::Running;
        }
    }

    pub(crate) fn set_compaction(&mut self, compaction: Compaction) {
        if compaction.is_server() {
            compaction.install(&mut self.params);
        }
        self.compaction = Some(compaction);
    }

    /// Runs `added`'s tools from now on (in place of tools of the same
    /// name); the next request tells the model in a `system`-role message.
    /// Before any request, they simply join the declared tools.
    pub(crate) fn add_tools(&mut self, added: Toolset) -> Result<(), Error> {
        // The added tools' state comes with them; one still missing is the
        // program's mistake, reported here rather than to the model.
        self.toolset
            .take_states_for(&added)
            .map_err(|missing| Error::config_with(missing.to_string(), missing))?;
        if !self.declared_sent {
            for tool in added.tools() {
                let name = &tool.definition().name;
                self.toolset.remove(name);
                self.declared.remove(name);
                let _ = self.toolset.add_arc(tool.clone());
                let _ = self.declared.add_arc(tool.clone());
            }
            return Ok(());
        }
        let version = self.requests.code_version().to_owned();
        // A deferred tool is found with a search tool: one comes with it
        // unless the `tools` sent offer one.
        let search = (!tool_search::in_tools(&self.params, &self.declared))
            .then(|| self.requests.tool_search());
        self.changes.add(&mut self.toolset, added, &version, search)
    }

    /// Stops running the tools `names`; the next request tells the model.
    pub(crate) fn remove_tools<'a>(
        &mut self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        if !self.declared_sent {
            let names: Vec<&str> = names.into_iter().collect();
            if let Some(unknown) = names.iter().find(|n| !self.toolset.contains(n)) {
                return Err(Error::invalid_request(format!(
                    "cannot remove tool `{unknown}`: the runner has no tool of that name"
                )));
            }
            for name in names {
                self.toolset.remove(name);
                self.declared.remove(name);
            }
            return Ok(());
        }
        self.changes.remove(&mut self.toolset, &self.params, names)
    }

    /// Asks for compaction before the model's next turn: a client-side
    /// summary with [`Compaction::new`], the next request's edit made to
    /// fire with [`Compaction::server`], else a one-off `compaction`
    /// request to the API. A paused turn is resumed first.
    pub(crate) fn compact_before_next_turn(&mut self) -> Result<(), Error> {
        // With `Compaction::server()` the runner owns the edit, and makes
        // the next request's fire (see `request`); an edit of the caller's
        // own cannot be paired with a one-off `compaction` request.
        if self.compaction.is_none() && compaction::has_compaction_edit(&self.params) {
            return Err(compaction::conflicts_with_edit());
        }
        // Asked again while a fired request is in flight: it fires again
        // if sent again, as `Firing` does.
        if self.compact_asked == CompactAsk::No {
            self.compact_asked = CompactAsk::Asked;
        }
        Ok(())
    }

    /// The server-side compaction settings, when the caller asked for
    /// compaction at the next request and it may go now (a paused turn
    /// is resumed first).
    fn forced_server_compaction(&self) -> Option<&Compaction> {
        self.compaction
            .as_ref()
            .filter(|c| c.is_server() && self.compact_asked != CompactAsk::No && !self.paused)
    }

    /// Whether spans record message contents (they may hold secrets).
    pub(crate) fn set_record_content(&mut self, record: bool) {
        self.recording.content = record;
    }

    /// Takes the client's telemetry settings: whether there are spans at
    /// all, what they record, and the conversation they belong to.
    fn set_telemetry(&mut self, settings: &Telemetry) {
        self.recording = telemetry::Recording::of(settings);
        self.conversation = settings.conversation().map(str::to_owned);
        if let Some(id) = &self.conversation {
            self.run_span.record("gen_ai.conversation.id", id.as_str());
        }
    }

    /// What the run's spans record of contents, for its tool calls' spans.
    pub(crate) fn recording(&self) -> telemetry::Recording {
        self.recording
    }

    /// The span of the whole run, for the driver to enter.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.run_span
    }

    /// The span of the request in flight, for the driver to send it in.
    pub(crate) fn request_span(&self) -> tracing::Span {
        self.request_span
            .clone()
            .unwrap_or_else(tracing::Span::none)
    }

    /// Opens the span of the request about to go out.
    fn open_request_span(&mut self) {
        if !self.recording.spans {
            // The client's telemetry is off.
            return;
        }
        self.request_span = Some(telemetry::chat_span(
            &self.run_span,
            &self.params.model,
            &self.params.messages,
            self.recording,
            self.conversation.as_deref(),
        ));
    }

    /// Closes the request's span with `error`.
    fn close_request_span_with(&mut self, error: &Error) {
        if let Some(span) = self.request_span.take() {
            telemetry::record_error(&span, error);
        }
    }

    pub(crate) fn set_tool_search(&mut self, search: super::ToolSearch) {
        self.requests.set_tool_search(search);
    }

    pub(crate) fn set_code_version(&mut self, version: String) {
        self.requests.set_code_version(version);
    }

    pub(crate) fn set_message_threads(&mut self, enabled: bool) {
        self.thread.set_enabled(enabled);
    }

    /// Falls back to `models`, in order, when a turn is refused or the API
    /// is overloaded (see `fallback.rs`).
    pub(crate) fn set_fallback_models(&mut self, models: Vec<String>) {
        self.fallbacks.set_models(models);
    }

    /// Turns automatic prompt caching on or off.
    pub(crate) fn set_prompt_caching(&mut self, enabled: bool) {
        self.caching.set_enabled(enabled);
    }

    /// Says how the platform takes prompt caching.
    pub(crate) fn set_caching_target(&mut self, target: caching::Target) {
        self.caching.set_target(target);
    }

    /// The tokens the run used so far.
    pub(crate) fn usage(&self) -> RunUsage {
        self.usage
    }

    /// Asks every request from now on for an answer in `format` (an
    /// `output_config.format`). Sent with each request, threaded or not,
    /// since it is a request field rather than part of the conversation.
    pub(crate) fn set_output_format(&mut self, format: serde_json::Value) {
        structured::set_format(&mut self.params, format);
    }

    /// What to do next; applies the previous turn to the history first.
    pub(crate) fn next_action(&mut self) -> Action {
        // A forgotten `with_state` is the program's mistake, not the
        // model's: it ends the run before the first request.
        if !self.state_checked {
            self.state_checked = true;
            if let Err(missing) = self.toolset.check_state() {
                tracing::error!(error = %missing, "the toolset lacks a state its tools need");
                return self.fail(Error::config_with(missing.to_string(), missing));
            }
        }
        if matches!(self.stage, Stage::AtLimit { .. }) {
            return Action::Finish;
        }
        match self.step() {
            Step::Finish => self.finish(),
            Step::LimitReached => self.stop_at_limit(),
            Step::ContainerExpired(container) => {
                tracing::warn!(
                    container = container.as_deref(),
                    "code-execution container expired"
                );
                self.fail(Error::container_expired(container, None))
            }
            Step::RunTools => match &self.turn {
                Some(turn) => Action::RunTools(turn.batch()),
                None => self.finish(),
            },
            // Not finished: a resumed state with the decisions goes on.
            Step::AwaitApproval => Action::Finish,
            Step::Send => {
                if self.iterations >= self.max_iterations {
                    return self.stop_at_limit();
                }
                if let Some(summary) = self.summary_request() {
                    return match summary {
                        Ok(request) => {
                            self.open_request_span();
                            Action::Compact(request)
                        }
                        Err(error) => self.on_summary_error(error),
                    };
                }
                // A paused turn is sent back to be continued, so it stays
                // last; the changes wait for the turn after it.
                if !self.paused {
                    self.changes.flush(&mut self.params);
                }
                match self.request() {
                    Ok(request) => {
                        self.declared_sent = true;
                        self.open_request_span();
                        // The caller's changes are in this request; any later
                        // one is about its reply.
                        self.taken_over = false;
                        self.in_flight_container = request.container.clone();
                        Action::Send(request)
                    }
                    Err(error) => Action::Fail(self.finish_unless_retryable(error)),
                }
            }
        }
    }

    /// Takes in a reply: carries its container into the next request and
    /// makes it the current turn; or, when the model refused and a
    /// fallback model is left, moves the conversation to that model and
    /// drops the reply.
    pub(crate) fn on_response(&mut self, message: Message) -> Received {
        self.iterations += 1;
        if let Some(span) = self.request_span.take() {
            telemetry::record_response(&span, &message, self.recording);
        }
        // A refused turn is paid for too.
        self.usage.add_turn(&message.usage);
        telemetry::record_run_usage(&self.run_span, &self.usage);
        self.caching.on_reply(&message);
        if conversation::falls_back_on_reply(
            &mut self.params,
            &mut self.thread,
            &mut self.fallbacks,
            &message,
        ) {
            // The refused reply never enters the history: the turn is sent
            // again as it was, on a new thread (see `ThreadState::on_reply`).
            return Received::FellBack;
        }
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
            log::code_execution(&run);
            if run.error_code() == Some("container_expired") {
                let container = message
                    .container
                    .as_ref()
                    .map(|c| c.id.clone())
                    .or_else(|| request::container_id(&self.params));
                self.expired = Some(container);
            }
        }
        // A compaction put off for a code run stays due.
        self.compact_due |= self.compaction.as_ref().is_some_and(|c| c.is_due(&message));
        self.last_context_tokens = message.usage.total_input_tokens() + message.usage.output_tokens;
        if self.compact_asked == CompactAsk::Firing {
            self.compact_asked = CompactAsk::No;
        }
        self.turn = Some(LastReply::new(message));
        Received::Turn
    }

    /// Takes in the error of the request in flight and returns it to
    /// yield, typed when it is about the container; `None` when it was a
    /// thread rejection that the next action recovers from by itself.
    /// After an error worth sending again (overload, a dropped connection)
    /// the next action sends the same request; after any other the loop is
    /// over.
    pub(crate) fn on_send_error(&mut self, error: Error) -> Option<Error> {
        self.close_request_span_with(&error);
        // A thread the server rejected, or an overload a fallback model
        // takes over: the turn is sent again, not yielded.
        if conversation::recovers_from(
            &mut self.params,
            &mut self.thread,
            &mut self.fallbacks,
            &error,
        ) {
            return None;
        }
        let error = request::classify_container_error(error, self.in_flight_container.clone());
        Some(self.finish_unless_retryable(error))
    }

    /// Takes in the error of a streamed reply, which the caller may have
    /// seen part of, and returns it to yield. `started` says the reply had
    /// begun (`message_start` was read): the server holds all of it or
    /// none, so the next request starts a new thread.
    pub(crate) fn on_stream_error(&mut self, error: Error, started: bool) -> Error {
        self.close_request_span_with(&error);
        if started {
            self.thread.on_partial_reply();
        }
        // The caller saw the stream break: the error is yielded all the
        // same, and the next request goes to the next model.
        let _ = self.fallbacks.on_error(&mut self.params, &error);
        let error = request::classify_container_error(error, self.in_flight_container.clone());
        self.finish_unless_retryable(error)
    }

    /// Takes in the summary the compaction request returned, and puts it in
    /// place of the history it summarises.
    pub(crate) fn on_summary(&mut self, summary: &Message) {
        self.iterations += 1;
        if let Some(span) = self.request_span.take() {
            telemetry::record_response(&span, summary, self.recording);
        }
        self.usage.add_summary(&summary.usage);
        telemetry::record_run_usage(&self.run_span, &self.usage);
        self.caching.on_compacted();
        match &self.compaction {
            Some(compaction) if !compaction.is_server() => {
                compaction.apply(&mut self.params, summary, &self.declared);
                self.thread.on_compacted();
            }
            _ => {
                if compaction::apply_summarized(&mut self.params, summary) {
                    self.thread.on_compacted();
                }
            }
        }
    }

    /// Takes in the compaction request's error and says to yield it; the
    /// next action tries the summary again if the error is worth it.
    pub(crate) fn on_summary_error(&mut self, error: Error) -> Action {
        self.close_request_span_with(&error);
        let error = request::classify_container_error(error, self.in_flight_container.clone());
        if error.is_retryable() {
            // Whichever asked for it, the next action tries again.
            self.compact_asked = CompactAsk::Asked;
        }
        Action::Fail(self.finish_unless_retryable(error))
    }

    /// Takes in the user message answering the current turn's calls.
    #[cfg(test)]
    pub(crate) fn on_tool_results(&mut self, response: MessageParam) {
        if let Some(turn) = self.turn.as_mut() {
            turn.tool_response = Some(response);
        }
    }

    /// Takes in what came of one of the current turn's calls.
    pub(crate) fn on_call(&mut self, outcome: Outcome) {
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        match outcome {
            Outcome::Done(result) => {
                if !turn.has_result(&result.tool_use_id) {
                    turn.finished.push(result);
                }
            }
            Outcome::Deferred(id) => {
                if !turn.approvals.iter().any(|a| a.id == id) {
                    turn.approvals.push(Deferred { id, decision: None });
                }
            }
        }
    }

    /// Takes in the end of a batch of calls: once every call of the turn
    /// has its result, the results become the user message answering it,
    /// in call order.
    pub(crate) fn on_calls_done(&mut self) {
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        if !turn.wants_tools() || turn.tool_response.is_some() {
            return;
        }
        let ids: Vec<&str> = turn.message.tool_uses().map(|c| c.id.as_str()).collect();
        if ids.iter().all(|id| turn.has_result(id)) {
            let results = std::mem::take(&mut turn.finished);
            turn.tool_response = Some(dispatch::answer(&ids, results));
            turn.approvals.clear();
        }
    }

    /// The calls of the current turn still to run: `None` when it asks for
    /// none, they have run, or those left wait for a human's approval.
    pub(crate) fn batch(&self) -> Option<Batch> {
        let turn = self.turn.as_ref()?;
        if !turn.wants_tools() || turn.tool_response.is_some() {
            return None;
        }
        Some(turn.batch()).filter(|b| !b.calls.is_empty())
    }

    /// The calls of the current turn that a hook deferred and no one has
    /// decided about yet, in call order.
    pub(crate) fn pending_approvals(&self) -> Vec<PendingCall> {
        let Some(turn) = &self.turn else {
            return Vec::new();
        };
        turn.message
            .tool_uses()
            .filter(|c| turn.awaits_approval(&c.id))
            .map(|c| {
                PendingCall::new(
                    c.id.clone(),
                    c.name.clone(),
                    c.input.clone(),
                    c.caller(),
                    std::sync::Arc::clone(self.toolset.state_map()),
                )
            })
            .collect()
    }

    /// The current turn when a human decided about some of its deferred
    /// calls and they have not run yet: what a resumed run shows first,
    /// so that the results of the calls it runs have a message to go with.
    pub(crate) fn decided_turn(&self) -> Option<&Message> {
        let turn = self.turn.as_ref()?;
        let decided = turn.approvals.iter().any(|a| a.decision.is_some());
        (decided && turn.wants_tools() && turn.tool_response.is_none()).then_some(&turn.message)
    }

    /// What running the loop to its end comes to, given the last message
    /// it yielded: that message, or an error when calls wait for approval
    /// (with the state to decide on) or when there was no message at all.
    pub(crate) fn outcome(&self, last: Option<Message>) -> Result<Message, Error> {
        let pending = self.pending_approvals();
        if !pending.is_empty() {
            return Err(Error::awaiting_approval(pending, self.state()));
        }
        last.ok_or_else(|| self.limit_error())
    }

    /// The user message answering the current turn, once its tools ran.
    pub(crate) fn tool_response_mut(&mut self) -> Option<&mut MessageParam> {
        let turn = self.turn.as_mut()?;
        if !turn.wants_tools() {
            return None;
        }
        turn.tool_response.as_mut()
    }

    /// The current turn's calls, each with the result answering it, in call
    /// order; empty before its tools ran or when it wants none.
    pub(crate) fn tool_results(&self) -> Vec<(&ToolUseBlock, &ToolResultBlock)> {
        let Some(turn) = self.turn.as_ref().filter(|turn| turn.wants_tools()) else {
            return Vec::new();
        };
        let Some(Content::Blocks(blocks)) = turn.tool_response.as_ref().map(|r| &r.content) else {
            return Vec::new();
        };
        turn.message
            .tool_uses()
            .filter_map(|call| {
                blocks
                    .iter()
                    .filter_map(ContentBlock::as_tool_result)
                    .find(|result| result.tool_use_id == call.id)
                    .map(|result| (call, result))
            })
            .collect()
    }

    /// The error for a loop that ended without any message, or at its limit.
    pub(crate) fn limit_error(&self) -> Error {
        tracing::warn!(
            max_iterations = self.max_iterations,
            "iteration limit reached"
        );
        Error::max_iterations(self.max_iterations)
    }

    pub(crate) fn params(&self) -> &MessageParams {
        &self.params
    }

    /// The parameters, to change: the caller takes over the history.
    pub(crate) fn params_mut(&mut self) -> &mut MessageParams {
        self.taken_over = true;
        self.touched = true;
        &mut self.params
    }

    pub(crate) fn push_messages(&mut self, messages: impl IntoIterator<Item = MessageParam>) {
        self.taken_over = true;
        self.touched = true;
        self.params.messages.extend(messages);
    }

    pub(crate) fn set_messages(&mut self, messages: Vec<MessageParam>) {
        self.taken_over = true;
        self.touched = true;
        self.params.messages = messages;
    }

    /// The conversation as the caller sees it: the history, then the last
    /// reply and its tool results when they are not in it yet.
    pub(crate) fn history(&self) -> Vec<MessageParam> {
        let mut messages = self.params.messages.clone();
        if let Some(turn) = self.turn.as_ref().filter(|t| !t.appended) {
            messages.push(MessageParam::from(turn.message.clone()));
            messages.extend(turn.tool_response.clone());
        }
        messages
    }

    /// The fallback models, for a thread forked from this conversation.
    pub(crate) fn fallbacks(&self) -> &Fallbacks {
        &self.fallbacks
    }

    /// Whether requests carry a message thread.
    pub(crate) fn is_threading(&self) -> bool {
        self.thread.is_threading()
    }

    pub(crate) fn last_message(&self) -> Option<&Message> {
        self.turn.as_ref().map(|t| &t.message)
    }

    pub(crate) fn iterations(&self) -> usize {
        self.iterations
    }

    pub(crate) fn max_iterations(&self) -> usize {
        self.max_iterations
    }

    pub(crate) fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Finished { .. })
    }

    /// Whether the loop is over (or stopped at its limit) and its end is
    /// still to be kept: `true` once, for a runner that checkpoints to save
    /// its last state.
    pub(crate) fn take_end_to_keep(&mut self) -> bool {
        match &mut self.stage {
            Stage::Running => false,
            Stage::AtLimit { end_kept } | Stage::Finished { end_kept } => {
                !std::mem::replace(end_kept, true)
            }
        }
    }

    pub(crate) fn toolset(&self) -> &Toolset {
        &self.toolset
    }

    /// What a batch driver keeps with the run.
    pub(crate) fn batch_record(&self) -> Option<&BatchRecord> {
        self.batch_record.as_ref()
    }

    /// What a batch driver keeps with the run, to change (made empty the
    /// first time).
    pub(crate) fn batch_record_mut(&mut self) -> &mut BatchRecord {
        self.batch_record.get_or_insert_default()
    }

    /// The code-execution version `"code"` callers stood for in the last request.
    pub(crate) fn code_version(&self) -> &str {
        self.requests.code_version()
    }

    /// Every code-execution run of the conversation so far, in order.
    pub(crate) fn code_executions(&self) -> Vec<CodeExecution> {
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

    /// Ends the loop.
    fn finish(&mut self) -> Action {
        if !self.is_finished() {
            self.stage = Stage::Finished { end_kept: false };
        }
        Action::Finish
    }

    /// Ends the loop with `error`.
    fn fail(&mut self, error: Error) -> Action {
        self.finish();
        Action::Fail(error)
    }

    /// Ends the loop on `error` unless it is worth sending the request
    /// again, and returns it to yield.
    fn finish_unless_retryable(&mut self, error: Error) -> Error {
        if !error.is_retryable() {
            self.finish();
        }
        error
    }

    /// Stops the loop at the iteration limit, unfinished: the turn's calls
    /// that did not run and the request not sent are what a higher limit
    /// goes on with, here or in a resumed state.
    fn stop_at_limit(&mut self) -> Action {
        self.stage = Stage::AtLimit { end_kept: false };
        Action::Fail(self.limit_error())
    }

    /// Applies the previous turn to the history and says what follows.
    fn step(&mut self) -> Step {
        if self.is_finished() {
            return Step::Finish;
        }
        let Some(turn) = self.turn.as_mut() else {
            return Step::Send;
        };
        if std::mem::take(&mut self.taken_over) {
            // The caller owns the history for this iteration: drop the turn,
            // whatever it asked for, and send the caller's state as it is.
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
                if turn.batch().calls.is_empty()
                    && turn.approvals.iter().any(|a| a.decision.is_none())
                {
                    // The conversation ends on this turn until a human
                    // decides: it is in the history, for a caller showing
                    // them what they decide about.
                    if !turn.appended {
                        self.params
                            .messages
                            .push(MessageParam::from(turn.message.clone()));
                        turn.appended = true;
                    }
                    return Step::AwaitApproval;
                }
                return Step::RunTools;
            };
            // The turn is done with: its message moves into the history,
            // unless it went there while its calls waited for approval.
            if let Some(done) = self.turn.take()
                && !done.appended
            {
                self.params.messages.push(MessageParam::from(done.message));
            }
            self.params.messages.push(response);
            self.paused = false;
            return Step::Send;
        }
        // Only a turn whose tool results are in the history is compacted
        // after; a paused or finished turn is not.
        self.compact_due = false;
        let resume = matches!(
            turn.message.stop_reason,
            Some(StopReason::PauseTurn | StopReason::Compaction)
        );
        self.paused = resume;
        // The history keeps the model's last word, so that a caller can carry
        // the conversation on after the loop.
        if resume {
            if let Some(done) = self.turn.take() {
                self.params.messages.push(MessageParam::from(done.message));
            }
            Step::Send
        } else {
            self.params
                .messages
                .push(MessageParam::from(turn.message.clone()));
            turn.appended = true;
            Step::Finish
        }
    }

    /// The request for the current state, with a compaction edit that
    /// fires now when the caller asked for server-side compaction.
    fn request(&mut self) -> Result<Request, Error> {
        let Some(compaction) = self.forced_server_compaction() else {
            return self.plain_request();
        };
        // Only this request's edit fires early: the parameters keep the
        // configured one.
        let compaction = compaction.clone();
        let configured = self.params.context_management.clone();
        compaction.install_forced(&mut self.params, self.last_context_tokens);
        let request = self.plain_request();
        self.params.context_management = configured;
        // Asked for until a reply comes: a request sent again after an
        // error fires too.
        self.compact_asked = if request.is_ok() {
            CompactAsk::Firing
        } else {
            CompactAsk::Asked
        };
        request
    }

    /// The request for the current state: on a thread, only what the
    /// server lacks.
    fn plain_request(&mut self) -> Result<Request, Error> {
        conversation::request(
            &mut self.params,
            &mut self.thread,
            &self.fallbacks,
            &self.caching,
            &mut self.requests,
            &self.declared,
            std::mem::take(&mut self.touched),
        )
    }

    /// The summary request, when compaction is due and there is something
    /// to summarise.
    fn summary_request(&mut self) -> Option<Result<Request, Error>> {
        let due = self.compact_due;
        if self.compaction.as_ref().is_some_and(Compaction::is_server) {
            // The API compacts within the next request (see `request`).
            return None;
        }
        // The API cannot compact a conversation that ends mid-turn: a paused
        // turn is resumed first, and the request waits.
        let requested = self.compact_asked != CompactAsk::No && !self.paused;
        if !due && !requested {
            return None;
        }
        // Code the model wrote is waiting for these results inside the
        // container: summarising now would cut its run apart.
        if super::compaction_split::code_run_pending(&self.params.messages) {
            tracing::debug!("compaction waits for the code run to finish");
            return None;
        }
        self.compact_due = false;
        if requested {
            self.compact_asked = CompactAsk::No;
        }
        let mut summary_params = match &self.compaction {
            Some(compaction) if !compaction.is_server() => compaction.request(&self.params)?,
            _ if requested => compaction::summarize_request(&self.params),
            _ => return None,
        };
        // The summary is prose for the model, not the typed answer.
        structured::clear_format(&mut summary_params);
        tracing::info!(
            messages = self.params.messages.len(),
            "compacting the conversation"
        );
        let request = self.requests.build(
            &summary_params,
            &self.declared,
            Wire::whole(&summary_params),
        );
        if let Ok(request) = &request {
            self.in_flight_container = request.container.clone();
        }
        Some(request)
    }
}

mod snapshot;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
