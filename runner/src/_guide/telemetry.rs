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
//! The `otel` feature (of the examples package; the library itself needs no
//! OpenTelemetry crate) adds 16 crates: `opentelemetry`, `opentelemetry_sdk`,
//! `opentelemetry-stdout` 0.33 and `tracing-opentelemetry` 0.34, which move
//! together, and their dependencies (`chrono`, `rand`, `thiserror`, ...). A
//! clean build of them took 78 s on a 2-core machine busy with other builds.
