//! Running one turn's tool calls: every `tool_use` gets exactly one
//! `tool_result`, in call order, whatever happens to the call.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::future::Either;
use futures_util::stream::{self, BoxStream};
use futures_util::{FutureExt, StreamExt};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

#[cfg(feature = "restate")]
pub(crate) use super::hooks::hook_panicked;
use super::hooks::{AfterToolCall, BeforeToolCall, Hooked, Hooks, PendingCall};
pub(crate) use super::state::Approval;
use super::store::Checkpoint;
use super::telemetry;

use crate::tool::{Caller, Slots, ToolCall, ToolOutput};
use crate::toolset::Toolset;
use crate::types::{ContentBlock, MessageParam, Role, ToolResultBlock, ToolUseBlock};

/// Runs the calls of a runner's turns: how many at once, the hooks around
/// them, and the token that cancels them all when the runner is dropped.
pub(crate) struct Dispatcher {
    concurrency: usize,
    /// The bound on tools running at once, for the whole run: every call
    /// takes a slot of it, whoever made it (see [`DispatchConfig::slots`]).
    slots: Slots,
    pub(crate) before: Option<Arc<dyn BeforeToolCall>>,
    pub(crate) after: Option<Arc<dyn AfterToolCall>>,
    /// Whether tool spans record arguments and results.
    pub(crate) recording: super::telemetry::Recording,
    /// Where the runner keeps its state, and under which run id.
    pub(crate) checkpoint: Option<Checkpoint>,
    cancel: CancellationToken,
}

/// What came of one call of a turn.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// It was answered: it ran, or was refused or denied.
    Done(ToolResultBlock),
    /// A before-call hook deferred it to a human; this is its `tool_use` id.
    Deferred(String),
}

/// Calls of the current turn to run, with what a human decided about
/// those a hook deferred before.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) calls: Vec<ToolUseBlock>,
    pub(crate) approvals: HashMap<String, Approval>,
}

impl Dispatcher {
    pub(crate) fn new(concurrency: usize) -> Self {
        Dispatcher {
            concurrency,
            slots: Slots::new(concurrency),
            before: None,
            after: None,
            recording: super::telemetry::Recording::default(),
            checkpoint: None,
            cancel: CancellationToken::new(),
        }
    }

    /// Bounds the tools running at once to `n` (at least 1), from the
    /// next call on.
    pub(crate) fn set_concurrency(&mut self, n: usize) {
        self.concurrency = n.max(1);
        self.slots = Slots::new(self.concurrency);
    }

    /// How calls run when `"code"` callers stand for `code_version`.
    pub(crate) fn config(&self, code_version: &str) -> DispatchConfig {
        DispatchConfig {
            concurrency: self.concurrency,
            slots: self.slots.clone(),
            code_version: code_version.to_owned(),
            before: self.before.clone(),
            after: self.after.clone(),
            recording: self.recording,
            run_id: self.checkpoint.as_ref().map(|c| c.run.as_arc()),
        }
    }

    /// Runs the calls of `batch`, reusing those in `early`, and yields what
    /// came of each as it finishes. The calls' spans go under `run`, the
    /// run's span, whoever polls the stream.
    pub(crate) fn run(
        &self,
        toolset: &Toolset,
        batch: Batch,
        code_version: &str,
        early: HashMap<String, Early>,
        run: &tracing::Span,
    ) -> BoxStream<'static, Outcome> {
        run_tools(
            toolset.clone(),
            batch,
            self.config(code_version),
            self.cancel.clone(),
            early,
            run.clone(),
        )
    }

    /// The token every call's [`ToolCall::cancellation`] comes from.
    pub(crate) fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        // Dropping the runner cancels every call it started.
        self.cancel.cancel();
    }
}

/// How a turn's tools are run.
#[derive(Clone)]
pub(crate) struct DispatchConfig {
    /// At most this many calls of the turn are under way at once.
    pub(crate) concurrency: usize,
    /// At most this many tools run at once, counting calls started early
    /// and the calls of programs (code mode), which no turn bounds: each
    /// call takes a slot while its tool runs.
    pub(crate) slots: Slots,
    /// The code-execution version that `"code"` callers stood for in the request.
    pub(crate) code_version: String,
    pub(crate) before: Option<Arc<dyn BeforeToolCall>>,
    pub(crate) after: Option<Arc<dyn AfterToolCall>>,
    pub(crate) recording: super::telemetry::Recording,
    /// The run id, when the runner checkpoints: calls get idempotency keys.
    pub(crate) run_id: Option<Arc<str>>,
}

/// A call started while its turn was still streaming. Dropping it aborts
/// the task, so an abandoned turn leaves nothing running.
pub(crate) struct Early(JoinHandle<Outcome>);

impl Drop for Early {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Future for Early {
    type Output = Result<Outcome, tokio::task::JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Starts one call now, on its own task, for a turn still being streamed;
/// its span goes under `run`, the run's span.
pub(crate) fn start_early(
    toolset: &Toolset,
    call: ToolUseBlock,
    config: &DispatchConfig,
    cancel: &CancellationToken,
    run: &tracing::Span,
) -> Early {
    tracing::debug!(parent: run, tool = %call.name, id = %call.id, "tool started early, while the turn streams");
    Early(tokio::spawn(run_one(
        toolset, call, config, cancel, None, run,
    )))
}

/// Runs the calls and yields what came of each, as each finishes (so that
/// a checkpoint can follow every one).
///
/// Calls already started early are not run again: their results are awaited.
fn run_tools(
    toolset: Toolset,
    batch: Batch,
    config: DispatchConfig,
    cancel: CancellationToken,
    mut early: HashMap<String, Early>,
    run: tracing::Span,
) -> BoxStream<'static, Outcome> {
    let concurrency = config.concurrency.max(1);
    let Batch {
        calls,
        mut approvals,
    } = batch;
    // Each call's future is made when the stream reaches it, so that its
    // span starts when the call does, not while it waits for a slot.
    stream::iter(calls)
        .map(move |call| match early.remove(&call.id) {
            Some(started) => {
                let id = call.id;
                Either::Left(started.map(move |joined| {
                    joined.unwrap_or_else(|e| {
                        Outcome::Done(
                            ToolOutput::error(format!("the call's task failed: {e}"))
                                .into_result_block(id),
                        )
                    })
                }))
            }
            None => {
                let approval = approvals.remove(&call.id);
                Either::Right(run_one(&toolset, call, &config, &cancel, approval, &run))
            }
        })
        .buffer_unordered(concurrency)
        .boxed()
}

/// The user message answering a turn's calls: `results`, put in the order
/// of `calls`.
pub(crate) fn answer(calls: &[&str], mut results: Vec<ToolResultBlock>) -> MessageParam {
    let mut ordered = Vec::with_capacity(results.len());
    for id in calls {
        if let Some(at) = results.iter().position(|r| r.tool_use_id == *id) {
            ordered.push(ContentBlock::ToolResult(results.swap_remove(at)));
        }
    }
    MessageParam::blocks(Role::User, ordered)
}

/// Runs one call. `approval` is what a human decided about it after a hook
/// deferred it: approved calls skip the before-call hook, denied ones do
/// not run. Its span goes under `run`, the run's span.
pub(crate) fn run_one(
    toolset: &Toolset,
    block: ToolUseBlock,
    config: &DispatchConfig,
    cancel: &CancellationToken,
    approval: Option<Approval>,
    run: &tracing::Span,
) -> impl Future<Output = Outcome> + Send + 'static + use<> {
    let caller = block.caller();
    let refusal = refuse_caller(toolset, &block.name, &caller, &config.code_version);
    // A call whose input is not valid JSON never runs; it is answered like a refusal.
    let refusal = refusal.or_else(|| block.input_error.as_deref().map(|error| {
        tracing::warn!(tool = %block.name, id = %block.id, error, "tool input is not valid JSON");
        ToolOutput::error(format!(
            "the input of tool `{}` was not valid JSON ({error}); the tool did not run: call it again with a complete JSON object",
            block.name
        ))
    }));
    let recording = config.recording;
    let span = if recording.spans {
        telemetry::tool_span(run, &block.name, &block.id, &caller.to_string())
    } else {
        tracing::Span::none()
    };
    let input = recording.content.then(|| block.input.clone());
    let to_code_container = matches!(caller, Caller::CodeExecution { .. });
    let name = block.name.clone();
    let toolset = toolset.clone();
    let hooks = Hooks {
        before: config.before.clone(),
        after: config.after.clone(),
    };
    let mut call = ToolCall::new(block.id.clone())
        .with_caller(caller.clone())
        .with_cancellation(cancel.clone())
        .with_slots(config.slots.clone());
    if let Some(run) = &config.run_id {
        call = call.with_idempotency_key(format!("{run}:{}", block.id));
    }
    if !hooks.is_empty() {
        // A program this call runs (code mode) makes its calls through
        // the same hooks.
        call = call.with_gate(Arc::new(hooks.clone()));
    }
    let id = block.id;
    let pending = PendingCall::new(
        id.clone(),
        block.name,
        block.input,
        caller,
        Arc::clone(toolset.state_map()),
    );
    async move {
        let started = Instant::now();
        let output = match refusal {
            Some(refused) => refused,
            None => match hooks.run(toolset, pending, call, approval).await {
                Hooked::Done(output) => output,
                Hooked::Deferred => return Outcome::Deferred(id),
            },
        };
        let output = if to_code_container && output.has_non_text() {
            text_only_for_code(&name, &output)
        } else {
            output
        };
        let span = tracing::Span::current();
        let input = input.unwrap_or_default();
        telemetry::record_tool_output(&span, &input, &output, recording);
        span.record(
            "duration_ms",
            i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        );
        if output.is_error {
            tracing::debug!(error = %output, "tool call failed");
        }
        Outcome::Done(output.into_result_block(id))
    }
    .instrument(span)
}

/// Whether a before-call hook would see `block`: calls refused for their
/// caller or for input that is not JSON are answered without it.
#[cfg(feature = "restate")]
pub(crate) fn reaches_hook(toolset: &Toolset, block: &ToolUseBlock, code_version: &str) -> bool {
    let allowed = toolset.get(&block.name).is_none_or(|tool| {
        tool.definition()
            .allows_caller(&block.caller(), code_version)
    });
    allowed && block.input_error.is_none()
}

/// The error result for a call its tool does not allow from this caller, or
/// `None` when the call may run. Unknown tools pass, and get the toolset's
/// own "unknown tool" result.
fn refuse_caller(
    toolset: &Toolset,
    name: &str,
    caller: &Caller,
    code_version: &str,
) -> Option<ToolOutput> {
    let def = toolset.get(name)?.definition();
    if def.allows_caller(caller, code_version) {
        return None;
    }
    let who = match caller {
        Caller::Direct => "directly by the model".to_owned(),
        Caller::CodeExecution { version, .. } => format!("from code ({version})"),
        Caller::CodeMode => "from code".to_owned(),
    };
    tracing::warn!(tool = name, caller = %caller, "call refused: caller not allowed");
    Some(ToolOutput::error(format!(
        "tool `{name}` cannot be called {who}; allowed callers: {}",
        def.describe_callers()
    )))
}

/// Code in the API's container can receive only text: the error result that
/// replaces a result with images or documents, saying why.
fn text_only_for_code(tool: &str, output: &ToolOutput) -> ToolOutput {
    let mut kinds: Vec<&str> = output
        .content
        .iter()
        .filter(|b| b.as_text().is_none())
        .map(ContentBlock::kind)
        .collect();
    kinds.dedup();
    tracing::warn!(tool, kinds = ?kinds, "non-text result for a call from code replaced by an error");
    ToolOutput::error(format!(
        "tool `{tool}` returned {} content, but a call from code can only receive text; return text (or JSON) when `ToolCall::caller()` is code",
        kinds.join(" and ")
    ))
}
