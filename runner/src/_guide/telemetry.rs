//! Logging and telemetry: `tracing` spans that follow the OpenTelemetry GenAI
//! conventions.
//!
//! # Logging
//!
//! The runner emits `tracing` spans for the run, each request and each tool
//! call (name, duration, error). Install any `tracing` subscriber to see them.
//! The examples install one that honours `ANTHROPIC_LOG=info|debug`; at `debug`
//! a failing tool's full error is logged:
//!
//! ```sh
//! ANTHROPIC_LOG=debug cargo run --example quickstart
//! ```
//!
//! # Telemetry
//!
//! The runner's spans follow the OpenTelemetry GenAI conventions, as `tracing`
//! fields that `tracing-opentelemetry` exports unchanged: `invoke_agent` for
//! the run; under it `chat` per model request (`gen_ai.operation.name`,
//! `gen_ai.provider.name = "anthropic"`, `gen_ai.request.model`,
//! `gen_ai.response.id`, `gen_ai.usage.input_tokens` / `output_tokens`,
//! `gen_ai.response.finish_reasons`, `error.type`) and `execute_tool` per call
//! (`gen_ai.tool.name`, `gen_ai.tool.call.id`, `error.type = "tool_error"`).
//! Message contents, tool arguments and results may hold secrets: they are
//! recorded only with [`.record_content(true)`](crate::ToolRunner::record_content).
//! Token counts and durations are `i64` fields, so that they export as integer
//! attributes.
//!
//! To export them, add a `tracing-opentelemetry` layer with your tracer; the
//! `otel` example does so with the stdout exporter, offline against the
//! scripted model, and prints each span as it ends:
//!
//! ```sh
//! cargo run -p toolrunner-examples --features otel --example otel
//! ```
//!
//! The examples' `otel` feature adds 16 crates: `opentelemetry`, `opentelemetry_sdk`,
//! `opentelemetry-stdout` 0.33 and `tracing-opentelemetry` 0.34, which move
//! together, and their dependencies (`chrono`, `rand`, `thiserror`, ...). A
//! clean build of them took 78 s on a 2-core machine busy with other builds.
//!
//! # Every call, not only the runner's
//!
//! A Messages call the client makes itself
//! ([`create_message`](crate::Client::create_message),
//! [`stream_message`](crate::Client::stream_message), the parsed calls, a
//! [`MessageThread`](crate::MessageThread)'s turns) runs in a `chat` span of
//! its own with the same attributes, under whatever span is current; a
//! stream's span records the reply once the stream has it. Every other
//! API call runs in a span named after its operation (`files.upload`,
//! `messages.count_tokens`, `messages.batches.create`, `models.list`, ...)
//! with `error.type` on failure and, unless telemetry is off,
//! `gen_ai.provider.name` and `gen_ai.conversation.id`; a token count's
//! span also has `gen_ai.operation.name = "count_tokens"` and
//! `gen_ai.request.model`.
//!
//! What the spans record is the client's [`Telemetry`](crate::Telemetry),
//! set with [`Client::with_telemetry`](crate::Client::with_telemetry), which
//! shares the connection pool, and read by a runner made from the client:
//!
//! - `enabled(false)`: no GenAI spans at all, the runner's included;
//! - `record_content(true)`: contents, as `.record_content(true)` does for
//!   one run;
//! - `max_content_bytes(n)` (default 750,000, as the SDKs): past it, the
//!   oldest messages are left out whole, so what is recorded stays JSON, and
//!   the span has `anthropic.content.truncated = true`;
//! - `conversation_id(id)`: `gen_ai.conversation.id` on every span of the
//!   client's, never sent to the API;
//! - `propagation(false)`: no trace context on requests (below).
//!
//! [`Client::from_env`](crate::Client::from_env) reads them as the official
//! SDKs do: `ANTHROPIC_OPEN_TELEMETRY=false`,
//! `ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content`,
//! `ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES=n` and
//! `ANTHROPIC_OPEN_TELEMETRY_PROPAGATION=false`.
//!
//! ```
//! use toolrunner::{Client, Telemetry};
//!
//! let client = Client::builder().api_key("sk-ant-...").build()?;
//! let support = client.with_telemetry(client.telemetry().clone().conversation_id("ticket-4711"));
//! assert_eq!(support.telemetry().conversation(), Some("ticket-4711"));
//! # Ok::<(), toolrunner::Error>(())
//! ```
//!
//! # Trace context on requests (feature `otel`)
//!
//! With the library's `otel` feature (two crates, `opentelemetry` and
//! `tracing-opentelemetry`), each attempt of each call carries the W3C trace
//! context of its span, `traceparent` (and `tracestate` when it has entries),
//! written by the propagator registered with `opentelemetry::global`, after
//! the platform signed the request, as the SDKs add it. It is sent only when
//! the span has an OpenTelemetry context, that is when a
//! `tracing-opentelemetry` layer is installed.
