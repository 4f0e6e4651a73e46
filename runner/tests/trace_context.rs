//! W3C trace context on outgoing requests (feature `otel`): each request
//! carries the `traceparent` of its call's span, checked against the W3C
//! format and against the span's own trace, over real HTTP to the scripted
//! server; none when propagation is off or no OpenTelemetry layer is there.

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::json;
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{Client, MessageParams, Telemetry, toolset};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

fn answer(id: &str) -> Reply {
    Reply::message(json!({
        "id": id, "type": "message", "role": "assistant", "model": "claude-test",
        "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
        "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 1}
    }))
}

fn client(server: &ScriptedServer, retries: u32) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(server.url())
        .max_retries(retries)
        .build()
        .unwrap()
}

fn params() -> MessageParams {
    MessageParams::new("claude-test", 64).user("Go.")
}

/// Spans exported through tracing-opentelemetry, for this thread.
fn with_otel() -> tracing::subscriber::DefaultGuard {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = SdkTracerProvider::builder().build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
    tracing::subscriber::set_default(tracing_subscriber::registry().with(layer))
}

/// The trace id and parent id of a `traceparent` value, once it is checked
/// against the W3C Trace Context format: `version-traceid-parentid-flags`,
/// lowercase hex of 2, 32, 16 and 2 digits, version `00`, ids not all zero.
fn parse_traceparent(value: &str) -> (String, String) {
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "{value}");
    let hex = |part: &str, len: usize| {
        assert_eq!(part.len(), len, "{value}");
        assert!(
            part.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{value}"
        );
    };
    hex(parts[0], 2);
    hex(parts[1], 32);
    hex(parts[2], 16);
    hex(parts[3], 2);
    assert_eq!(parts[0], "00", "{value}");
    assert_ne!(parts[1], "0".repeat(32), "{value}");
    assert_ne!(parts[2], "0".repeat(16), "{value}");
    (parts[1].to_owned(), parts[2].to_owned())
}

#[tokio::test]
async fn each_attempt_carries_the_calls_trace_context() {
    let _otel = with_otel();
    let server = ScriptedServer::start(Sequence::new([
        Reply::error(529, "overloaded_error", "Overloaded"),
        answer("msg_1"),
    ]))
    .await
    .unwrap();
    let outer = tracing::info_span!("outer");
    let trace_id = outer.context().span().span_context().trace_id().to_string();
    client(&server, 1)
        .create_message(&params())
        .instrument(outer)
        .await
        .unwrap();
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    for request in &recorded {
        let (trace, parent) =
            parse_traceparent(request.header("traceparent").expect("traceparent"));
        assert_eq!(trace, trace_id);
        assert_ne!(parent, "0".repeat(16));
        assert_eq!(request.header("tracestate"), None);
    }
}

#[tokio::test]
async fn a_runners_requests_carry_the_runs_trace() {
    let _otel = with_otel();
    let server = ScriptedServer::start(Sequence::new([answer("msg_1")]))
        .await
        .unwrap();
    let runner = client(&server, 0).tool_runner(params(), toolset![]);
    runner.until_done().await.unwrap();
    let recorded = server.recorded();
    parse_traceparent(recorded[0].header("traceparent").expect("traceparent"));
}

#[tokio::test]
async fn nothing_is_sent_with_propagation_off_or_without_opentelemetry() {
    let server = ScriptedServer::start(Sequence::new([answer("msg_1"), answer("msg_2")]))
        .await
        .unwrap();
    {
        let _otel = with_otel();
        client(&server, 0)
            .with_telemetry(Telemetry::new().propagation(false))
            .create_message(&params())
            .await
            .unwrap();
    }
    // A subscriber without the OpenTelemetry layer: spans have no context.
    let _plain = tracing::subscriber::set_default(tracing_subscriber::registry());
    client(&server, 0).create_message(&params()).await.unwrap();
    for request in server.recorded() {
        assert_eq!(request.header("traceparent"), None);
    }
}
