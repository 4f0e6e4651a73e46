//! Telemetry in the OpenTelemetry GenAI semantic conventions, as `tracing`
//! spans whose fields carry the conventions' attribute names, so that
//! `tracing-opentelemetry` exports them unchanged.
//!
//! The span tree of a run: one `invoke_agent` span; under it, a `chat`
//! span per model request and an `execute_tool` span per tool call.
//! Message contents, tool arguments and results may hold secrets, so they
//! are recorded only when the caller opts in.

use tracing::Span;
use tracing::field::Empty;

use crate::error::Error;
use crate::tool::ToolOutput;
use crate::types::{Message, MessageParam, StopReason};
use crate::usage::RunUsage;

/// The `gen_ai.provider.name` of every span.
const PROVIDER: &str = "anthropic";

/// The span of a whole run.
pub(crate) fn run_span(model: &str) -> Span {
    tracing::info_span!(
        "invoke_agent",
        otel.name = "invoke_agent toolrunner",
        gen_ai.operation.name = "invoke_agent",
        gen_ai.provider.name = PROVIDER,
        gen_ai.agent.name = "toolrunner",
        gen_ai.request.model = model,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.usage.cache_creation.input_tokens = Empty,
        gen_ai.usage.cache_read.input_tokens = Empty,
        toolrunner.usage.requests = Empty,
        toolrunner.usage.server_tool_uses = Empty,
        toolrunner.usage.compaction.input_tokens = Empty,
        toolrunner.usage.compaction.output_tokens = Empty,
    )
}

/// Records the run's usage so far on its span: the conventions' token
/// counts over the whole run, compaction included (input counting cached
/// tokens, as on each `chat` span), and compaction's own share apart.
pub(crate) fn record_run_usage(span: &Span, usage: &RunUsage) {
    let total = usage.total();
    span.record("gen_ai.usage.input_tokens", int(total.total_input_tokens()));
    span.record("gen_ai.usage.output_tokens", int(total.output_tokens));
    span.record(
        "gen_ai.usage.cache_creation.input_tokens",
        int(total.cache_creation_input_tokens),
    );
    span.record(
        "gen_ai.usage.cache_read.input_tokens",
        int(total.cache_read_input_tokens),
    );
    span.record("toolrunner.usage.requests", int(total.requests));
    span.record(
        "toolrunner.usage.server_tool_uses",
        int(total.server_tool_uses),
    );
    let compaction = usage.compaction;
    span.record(
        "toolrunner.usage.compaction.input_tokens",
        int(compaction.total_input_tokens()),
    );
    span.record(
        "toolrunner.usage.compaction.output_tokens",
        int(compaction.output_tokens),
    );
}

/// The span of one model request, under the run's. With `input` (the
/// caller opted in), the messages the model is shown.
pub(crate) fn chat_span(run: &Span, model: &str, input: Option<&[MessageParam]>) -> Span {
    let span = tracing::info_span!(
        parent: run,
        "chat",
        otel.name = format!("chat {model}"),
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = PROVIDER,
        gen_ai.request.model = model,
        gen_ai.response.id = Empty,
        gen_ai.response.model = Empty,
        gen_ai.response.finish_reasons = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.usage.cache_creation.input_tokens = Empty,
        gen_ai.usage.cache_read.input_tokens = Empty,
        gen_ai.input.messages = Empty,
        gen_ai.output.messages = Empty,
        error.type = Empty,
    );
    // Recorded as one JSON string: `tracing` fields hold no nested values.
    if let Some(messages) = input
        && let Ok(json) = serde_json::to_value(messages)
    {
        span.record("gen_ai.input.messages", json.to_string());
    }
    span
}

/// Records a reply on its request's span.
pub(crate) fn record_response(span: &Span, message: &Message, content: bool) {
    span.record("gen_ai.response.id", message.id.as_str());
    span.record("gen_ai.response.model", message.model.as_str());
    if let Some(reason) = &message.stop_reason {
        // The convention's attribute is a list of strings, one per choice;
        // the API gives one choice, so this is a one-element JSON array.
        let reasons = format!("[{:?}]", StopReason::as_str(reason));
        span.record("gen_ai.response.finish_reasons", reasons);
    }
    span.record(
        "gen_ai.usage.input_tokens",
        int(message.usage.total_input_tokens()),
    );
    span.record(
        "gen_ai.usage.output_tokens",
        int(message.usage.output_tokens),
    );
    span.record(
        "gen_ai.usage.cache_creation.input_tokens",
        int(message.usage.cache_creation_input_tokens.unwrap_or(0)),
    );
    span.record(
        "gen_ai.usage.cache_read.input_tokens",
        int(message.usage.cache_read_input_tokens.unwrap_or(0)),
    );
    if content && let Ok(json) = serde_json::to_value([MessageParam::from(message.clone())]) {
        span.record("gen_ai.output.messages", json.to_string());
    }
}

/// `n` as an `i64`: `tracing-opentelemetry` exports an `i64` field as an
/// integer attribute, as the conventions want, but a `u64` as a string.
pub(crate) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Records a failed request on its span: `error.type` is the API's error
/// type when there is one, else the kind of failure.
pub(crate) fn record_error(span: &Span, error: &Error) {
    let kind = error.api_error_type().unwrap_or(if error.is_timeout() {
        "timeout"
    } else if error.is_connection() {
        "connection"
    } else if error.is_stream_error() || error.is_stream_broken() {
        "stream"
    } else {
        "_OTHER"
    });
    span.record("error.type", kind);
}

/// The span of one tool call, under the run's span `run`, whichever task
/// starts the call (a tool started early runs from the caller's polling of
/// the stream, outside the run's span).
pub(crate) fn tool_span(run: &Span, name: &str, id: &str, caller: &str) -> Span {
    tracing::info_span!(
        parent: run,
        "execute_tool",
        otel.name = format!("execute_tool {name}"),
        gen_ai.operation.name = "execute_tool",
        gen_ai.provider.name = PROVIDER,
        gen_ai.tool.name = name,
        gen_ai.tool.call.id = id,
        gen_ai.tool.type = "function",
        gen_ai.tool.call.arguments = Empty,
        gen_ai.tool.call.result = Empty,
        caller = caller,
        is_error = Empty,
        duration_ms = Empty,
        error.type = Empty,
    )
}

/// Records a tool call's outcome on its span; its input and result only
/// when the caller opted in.
pub(crate) fn record_tool_output(
    span: &Span,
    input: &serde_json::Value,
    output: &ToolOutput,
    content: bool,
) {
    span.record("is_error", output.is_error);
    if output.is_error {
        // The model sees the message; the span says only that it failed.
        span.record("error.type", "tool_error");
    }
    if content {
        span.record("gen_ai.tool.call.arguments", input.to_string());
        span.record("gen_ai.tool.call.result", output.text_content());
    }
}
