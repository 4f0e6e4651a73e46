//! Telemetry in the OpenTelemetry GenAI semantic conventions, as `tracing`
//! spans whose fields carry the conventions' attribute names, so that
//! `tracing-opentelemetry` exports them unchanged.
//!
//! The span tree of a run: one `invoke_agent` span; under it, a `chat`
//! span per model request and an `execute_tool` span per tool call.
//! Message contents, tool arguments and results may hold secrets, so they
//! are recorded only when the caller opts in.

use serde::Serialize;
use tracing::Span;
use tracing::field::Empty;

use super::open_telemetry::{DEFAULT_MAX_CONTENT_BYTES, Telemetry};
use crate::error::Error;
use crate::tool::ToolOutput;
use crate::types::{Message, MessageParam, StopReason};
use crate::usage::RunUsage;

/// Whether there are GenAI spans at all, and what they record of contents:
/// nothing, or at most `limit` bytes of JSON per attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Recording {
    pub(crate) spans: bool,
    pub(crate) content: bool,
    pub(crate) limit: usize,
}

impl Default for Recording {
    fn default() -> Self {
        Recording {
            spans: true,
            content: false,
            limit: DEFAULT_MAX_CONTENT_BYTES,
        }
    }
}

impl Recording {
    /// What a client's `telemetry` says to record.
    pub(crate) fn of(telemetry: &Telemetry) -> Self {
        Recording {
            spans: telemetry.is_enabled(),
            content: telemetry.records_content(),
            limit: telemetry.content_limit(),
        }
    }
}

/// The `gen_ai.provider.name` of every span.
pub(crate) const PROVIDER: &str = "anthropic";

/// The span of a whole run.
pub(crate) fn run_span(settings: &Telemetry, model: &str) -> Span {
    if !settings.is_enabled() {
        return Span::none();
    }
    tracing::info_span!(
        "invoke_agent",
        otel.name = "invoke_agent toolrunner",
        gen_ai.operation.name = "invoke_agent",
        gen_ai.provider.name = PROVIDER,
        gen_ai.agent.name = "toolrunner",
        gen_ai.request.model = model,
        gen_ai.conversation.id = Empty,
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

/// The span of one Messages call made outside a run (by the client itself
/// or a message thread), under the current span; `None` when the client's
/// telemetry is off.
pub(crate) fn call_span(
    telemetry: &Telemetry,
    model: &str,
    input: &[MessageParam],
) -> Option<Span> {
    if !telemetry.is_enabled() {
        return None;
    }
    let recording = Recording::of(telemetry);
    Some(chat_span(
        &Span::current(),
        model,
        input,
        recording,
        telemetry.conversation(),
    ))
}

/// Records what came of a call in its span.
pub(crate) fn record_result(span: &Span, result: Result<&Message, &Error>, recording: Recording) {
    match result {
        Ok(message) => record_response(span, message, recording),
        Err(error) => record_error(span, error),
    }
}

/// The span of one model request, under `parent` (a run's, or the
/// caller's). With `recording.content`, the messages the model is shown.
pub(crate) fn chat_span(
    parent: &Span,
    model: &str,
    input: &[MessageParam],
    recording: Recording,
    conversation: Option<&str>,
) -> Span {
    let span = tracing::info_span!(
        parent: parent,
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
        gen_ai.conversation.id = conversation,
        anthropic.content.truncated = Empty,
        error.type = Empty,
    );
    // Recorded as one JSON string: `tracing` fields hold no nested values.
    if recording.content {
        record_messages(&span, "gen_ai.input.messages", input, recording.limit);
    }
    span
}

/// Records `messages` in `field` as one JSON array within `limit` bytes:
/// the newest that fit, whole, so that the JSON stays valid; the span says
/// when some were left out.
fn record_messages<T: Serialize>(span: &Span, field: &str, messages: &[T], limit: usize) {
    let items: Vec<String> = messages
        .iter()
        .filter_map(|m| serde_json::to_string(m).ok())
        .collect();
    // The brackets, then each item with the comma before it.
    let mut size = 2;
    let mut first = items.len();
    while first > 0 {
        let grown = size + items[first - 1].len() + usize::from(first < items.len());
        if grown > limit {
            break;
        }
        size = grown;
        first -= 1;
    }
    span.record(field, format!("[{}]", items[first..].join(",")));
    if first > 0 {
        span.record("anthropic.content.truncated", true);
    }
}

/// Records a reply on its request's span.
pub(crate) fn record_response(span: &Span, message: &Message, recording: Recording) {
    // `record` on a span no subscriber takes drops the value, but only
    // after it was made: the finish reason's `format!` each turn, say.
    if span.is_disabled() {
        return;
    }
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
    if recording.content {
        let output = [MessageParam::from(message.clone())];
        record_messages(span, "gen_ai.output.messages", &output, recording.limit);
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
        anthropic.content.truncated = Empty,
        error.type = Empty,
    )
}

/// Records a tool call's outcome on its span; its input and result only
/// when the caller opted in.
pub(crate) fn record_tool_output(
    span: &Span,
    input: &serde_json::Value,
    output: &ToolOutput,
    recording: Recording,
) {
    span.record("is_error", output.is_error);
    if output.is_error {
        // The model sees the message; the span says only that it failed.
        span.record("error.type", "tool_error");
    }
    if recording.content {
        let arguments = input.to_string();
        let mut result = output.text_content();
        // Arguments are JSON, left out whole past the limit; the result is
        // text, cut at a character boundary.
        let truncated = arguments.len() > recording.limit || result.len() > recording.limit;
        if arguments.len() <= recording.limit {
            span.record("gen_ai.tool.call.arguments", arguments);
        }
        if result.len() > recording.limit {
            let cut = (0..=recording.limit)
                .rev()
                .find(|&i| result.is_char_boundary(i))
                .unwrap_or(0);
            result.truncate(cut);
        }
        span.record("gen_ai.tool.call.result", result);
        if truncated {
            span.record("anthropic.content.truncated", true);
        }
    }
}
