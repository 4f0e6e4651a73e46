//! Running one turn's tool calls: every `tool_use` gets exactly one
//! `tool_result`, in call order, whatever happens to the call.

use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::tool::{Caller, ToolCall, ToolOutput};
use crate::toolset::Toolset;
use crate::types::{ContentBlock, MessageParam, Role, ToolResultBlock, ToolUseBlock};

/// How a turn's tools are run.
#[derive(Clone, Debug)]
pub(crate) struct DispatchConfig {
    /// At most this many calls run at once.
    pub(crate) concurrency: usize,
    /// The code-execution version that `"code"` callers stood for in the request.
    pub(crate) code_version: String,
}

/// Runs the calls and returns the user message answering all of them.
pub(crate) async fn run_tools(
    toolset: Toolset,
    calls: Vec<ToolUseBlock>,
    config: DispatchConfig,
    cancel: CancellationToken,
) -> MessageParam {
    let concurrency = config.concurrency.max(1);
    let results: Vec<ToolResultBlock> = stream::iter(calls)
        .map(|call| run_one(&toolset, call, &config.code_version, &cancel))
        .buffered(concurrency)
        .collect()
        .await;
    MessageParam::blocks(
        Role::User,
        results.into_iter().map(ContentBlock::ToolResult).collect(),
    )
}

fn run_one(
    toolset: &Toolset,
    block: ToolUseBlock,
    code_version: &str,
    cancel: &CancellationToken,
) -> impl Future<Output = ToolResultBlock> + Send + 'static + use<> {
    let caller = block.caller();
    let refusal = refuse_caller(toolset, &block.name, &caller, code_version);
    let span = tracing::info_span!(
        "tool_call",
        tool = %block.name,
        id = %block.id,
        caller = %caller,
        is_error = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    let to_code_container = matches!(caller, Caller::CodeExecution { .. });
    let name = block.name.clone();
    let call = ToolCall::new(block.id.clone())
        .with_caller(caller)
        .with_cancellation(cancel.clone());
    let running = refusal.is_none().then(|| toolset.call(&block.name, block.input, call));
    let id = block.id;
    async move {
        let started = Instant::now();
        let output = match (refusal, running) {
            (Some(refused), _) => refused,
            (None, Some(running)) => running.await,
            (None, None) => ToolOutput::error("internal error: the call was neither run nor refused"),
        };
        let output = if to_code_container && output.has_non_text() {
            text_only_for_code(&name, &output)
        } else {
            output
        };
        let span = tracing::Span::current();
        span.record("is_error", output.is_error);
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        if output.is_error {
            tracing::debug!(error = %output, "tool call failed");
        }
        output.into_result_block(id)
    }
    .instrument(span)
}

/// The error result for a call its tool does not allow from this caller, or
/// `None` when the call may run. Unknown tools pass, and get the toolset's
/// own "unknown tool" result.
fn refuse_caller(toolset: &Toolset, name: &str, caller: &Caller, code_version: &str) -> Option<ToolOutput> {
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
