//! The runner's telemetry exported through OpenTelemetry: each run is an
//! `invoke_agent` span, each model request a `chat` span and each tool call
//! an `execute_tool` span, with the GenAI conventions' `gen_ai.*`
//! attributes. `tracing-opentelemetry` turns the runner's `tracing` spans
//! into OpenTelemetry spans, and the stdout exporter prints each one as it
//! ends; in production, swap the exporter for an OTLP one.
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API; without it, to a
//! built-in scripted model on loopback.
//!
//! ```sh
//! cargo run -p toolrunner-examples --features otel --example otel
//! ```

#[path = "support/mod.rs"]
mod support;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Value, json};
use toolrunner::testing::Reply;
use toolrunner::{MessageParams, tool, toolset};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Look up the stock of a product in the warehouse.
#[tool]
fn stock(
    /// The product's SKU, e.g. "A-100".
    sku: String,
) -> Result<u32, String> {
    match sku.as_str() {
        "A-100" => Ok(42),
        "B-200" => Ok(0),
        _ => Err(format!("no product `{sku}`")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Spans are exported as each one ends; a simple (unbatched) exporter
    // keeps the output in order for reading.
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();
    let tracer = provider.tracer("toolrunner-example");
    // The runner's spans are at `info`; its debug events stay out.
    let filter = tracing_subscriber::EnvFilter::new("toolrunner=info");
    // Source locations, threads and busy/idle times are left out, so that
    // the printed spans show the conventions' attributes.
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false);
    tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .init();

    let (client, _scripted) = support::client_or_scripted(scripted_model).await?;
    let params = MessageParams::new(support::model(), 1024)
        .user("How many A-100 and B-200 do we have in stock?");
    let message = client
        .tool_runner(params, toolset![stock])
        // Message contents, tool arguments and results may hold secrets:
        // they are recorded only when asked for.
        .record_content(std::env::var_os("RECORD_CONTENT").is_some())
        .until_done()
        .await?;
    println!("answer: {}\n", message.text());

    // Flushes what is left; the stdout exporter has printed the spans.
    provider.shutdown()?;
    Ok(())
}

/// The scripted model: it looks up both products at once, then answers.
fn scripted_model(request: &Value) -> Reply {
    let message = match support::assistant_turns(request) {
        0 => support::assistant(
            1,
            json!([
                {"type": "tool_use", "id": "toolu_a", "name": "stock", "input": {"sku": "A-100"}},
                {"type": "tool_use", "id": "toolu_b", "name": "stock", "input": {"sku": "B-200"}}
            ]),
            "tool_use",
        ),
        _ => support::assistant(
            2,
            json!([{"type": "text", "text": "42 of A-100; B-200 is out of stock."}]),
            "end_turn",
        ),
    };
    Reply::message(message)
}
