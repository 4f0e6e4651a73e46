//! What the `otel` example exports: the runner's spans through
//! `tracing-opentelemetry`, collected by an in-memory exporter in place of
//! the stdout one, with their OpenTelemetry names, parents and GenAI
//! attributes.

use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use serde_json::json;
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{Client, MessageParams, tool, toolset};
use tracing_subscriber::layer::SubscriberExt;

/// Keeps every exported span.
#[derive(Clone, Debug, Default)]
struct Collect(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collect {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

/// Look up the stock of a product.
#[tool]
fn stock(
    /// The product's SKU.
    sku: String,
) -> Result<u32, String> {
    match sku.as_str() {
        "A-100" => Ok(42),
        _ => Err(format!("no product `{sku}`")),
    }
}

fn reply(id: &str, content: serde_json::Value, stop_reason: &str, input: u64) -> Reply {
    Reply::message(json!({
        "id": id, "type": "message", "role": "assistant", "model": "claude-test",
        "content": content, "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": input, "output_tokens": 7}
    }))
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|KeyValue { key: k, .. }| k.as_str() == key)
        .map(|kv| &kv.value)
}

fn string(s: &str) -> Value {
    Value::from(s.to_owned())
}

#[tokio::test]
async fn the_runner_spans_export_with_their_genai_attributes() {
    let server = ScriptedServer::start(Sequence::new([
        reply(
            "msg_1",
            json!([
                {"type": "tool_use", "id": "toolu_a", "name": "stock", "input": {"sku": "A-100"}},
                {"type": "tool_use", "id": "toolu_b", "name": "stock", "input": {"sku": "Z-9"}}
            ]),
            "tool_use",
            100,
        ),
        reply(
            "msg_2",
            json!([{"type": "text", "text": "42."}]),
            "end_turn",
            150,
        ),
    ]))
    .await
    .unwrap();
    let client = Client::builder()
        .api_key("scripted")
        .base_url(server.url())
        .build()
        .unwrap();

    let exported = Collect::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exported.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .with(tracing_subscriber::EnvFilter::new("toolrunner=info"));
    let guard = tracing::subscriber::set_default(subscriber);
    client
        .tool_runner(
            MessageParams::new("claude-test", 256).user("Stock?"),
            toolset![stock],
        )
        .until_done()
        .await
        .unwrap();
    drop(guard);
    provider.shutdown().unwrap();

    let spans = exported.0.lock().unwrap().clone();
    let named =
        |name: &str| -> Vec<&SpanData> { spans.iter().filter(|s| s.name == name).collect() };

    let runs = named("invoke_agent toolrunner");
    assert_eq!(
        runs.len(),
        1,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let run = runs[0];
    assert_eq!(
        attribute(run, "gen_ai.operation.name"),
        Some(&string("invoke_agent"))
    );
    assert_eq!(
        attribute(run, "gen_ai.provider.name"),
        Some(&string("anthropic"))
    );

    let chats = named("chat claude-test");
    assert_eq!(chats.len(), 2);
    for (chat, (id, input, reason)) in chats.iter().zip([
        ("msg_1", 100, r#"["tool_use"]"#),
        ("msg_2", 150, r#"["end_turn"]"#),
    ]) {
        assert_eq!(chat.parent_span_id, run.span_context.span_id());
        assert_eq!(chat.span_context.trace_id(), run.span_context.trace_id());
        assert_eq!(
            attribute(chat, "gen_ai.operation.name"),
            Some(&string("chat"))
        );
        assert_eq!(
            attribute(chat, "gen_ai.provider.name"),
            Some(&string("anthropic"))
        );
        assert_eq!(
            attribute(chat, "gen_ai.request.model"),
            Some(&string("claude-test"))
        );
        assert_eq!(attribute(chat, "gen_ai.response.id"), Some(&string(id)));
        assert_eq!(
            attribute(chat, "gen_ai.response.finish_reasons"),
            Some(&string(reason))
        );
        // Integers, as the conventions have them, not strings.
        assert_eq!(
            attribute(chat, "gen_ai.usage.input_tokens"),
            Some(&Value::I64(input))
        );
        assert_eq!(
            attribute(chat, "gen_ai.usage.output_tokens"),
            Some(&Value::I64(7))
        );
        assert_eq!(
            attribute(chat, "gen_ai.input.messages"),
            None,
            "contents are opt-in"
        );
    }

    let mut tools = named("execute_tool stock");
    assert_eq!(tools.len(), 2);
    // The two calls run concurrently, so their spans may end, and be
    // exported, in either order: compare them in the order of their ids.
    tools.sort_by_key(|tool| format!("{:?}", attribute(tool, "gen_ai.tool.call.id")));
    for (tool, id) in tools.iter().zip(["toolu_a", "toolu_b"]) {
        assert_eq!(tool.parent_span_id, run.span_context.span_id());
        assert_eq!(
            attribute(tool, "gen_ai.operation.name"),
            Some(&string("execute_tool"))
        );
        assert_eq!(attribute(tool, "gen_ai.tool.name"), Some(&string("stock")));
        assert_eq!(attribute(tool, "gen_ai.tool.call.id"), Some(&string(id)));
    }
    assert_eq!(attribute(tools[0], "error.type"), None);
    assert_eq!(
        attribute(tools[1], "error.type"),
        Some(&string("tool_error"))
    );
}
