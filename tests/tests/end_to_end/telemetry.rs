//! Telemetry: the span tree and OpenTelemetry GenAI attributes of a
//! two-turn run, read by a small capturing `tracing` layer.

use crate::support;

use support::*;

use serde_json::json;
use support::capture::Capture;
use toolrunner::{tool, toolset};
use tracing_subscriber::layer::SubscriberExt;

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Always fails.
#[tool]
fn broken() -> Result<String, String> {
    Err("disk full".into())
}

async fn two_turns(record_content: bool) -> Capture {
    let server = server(vec![
        message_with_usage(
            "msg_1",
            json!([
                tool_use("toolu_1", "add", json!({"a": 2, "b": 40})),
                tool_use("toolu_2", "broken", json!({}))
            ]),
            "tool_use",
            100,
            20,
        ),
        message_with_usage("msg_2", json!([text("42.")]), "end_turn", 150, 5),
    ])
    .await;
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _guard = support::capture::set_default(subscriber);
    client(&server)
        .tool_runner(params(), toolset![add, broken])
        .record_content(record_content)
        .until_done()
        .await
        .expect("run");
    capture
}

#[tokio::test]
async fn a_two_turn_run_has_genai_spans() {
    let capture = two_turns(false).await;

    let runs = capture.named("invoke_agent");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].parent, None);
    assert_eq!(runs[0].fields["gen_ai.operation.name"], "invoke_agent");
    assert_eq!(runs[0].fields["gen_ai.provider.name"], "anthropic");

    let chats = capture.named("chat");
    assert_eq!(chats.len(), 2);
    let expected = [
        ("msg_1", "100", "20", r#"["tool_use"]"#),
        ("msg_2", "150", "5", r#"["end_turn"]"#),
    ];
    for (chat, (id, input, output, reasons)) in chats.iter().zip(expected) {
        assert_eq!(chat.parent.as_deref(), Some("invoke_agent"));
        let f = &chat.fields;
        assert_eq!(f["otel.name"], "chat claude-test");
        assert_eq!(f["gen_ai.operation.name"], "chat");
        assert_eq!(f["gen_ai.provider.name"], "anthropic");
        assert_eq!(f["gen_ai.request.model"], "claude-test");
        assert_eq!(f["gen_ai.response.id"], id);
        assert_eq!(f["gen_ai.usage.input_tokens"], input);
        assert_eq!(f["gen_ai.usage.output_tokens"], output);
        assert_eq!(f["gen_ai.response.finish_reasons"], reasons);
        assert!(
            !f.contains_key("gen_ai.input.messages"),
            "contents are opt-in"
        );
        assert!(!f.contains_key("gen_ai.output.messages"));
    }

    let tools = capture.named("execute_tool");
    assert_eq!(tools.len(), 2);
    let (ok, failed) = (&tools[0], &tools[1]);
    assert_eq!(ok.parent.as_deref(), Some("invoke_agent"));
    assert_eq!(ok.fields["gen_ai.operation.name"], "execute_tool");
    assert_eq!(ok.fields["gen_ai.tool.name"], "add");
    assert_eq!(ok.fields["gen_ai.tool.call.id"], "toolu_1");
    assert!(!ok.fields.contains_key("error.type"));
    assert!(!ok.fields.contains_key("gen_ai.tool.call.arguments"));
    assert_eq!(failed.fields["gen_ai.tool.name"], "broken");
    assert_eq!(failed.fields["error.type"], "tool_error");
}

#[tokio::test]
async fn the_run_span_carries_the_runs_usage_totals() {
    let mut first = message_with_usage(
        "msg_1",
        json!([tool_use("toolu_1", "add", json!({"a": 2, "b": 40}))]),
        "tool_use",
        100,
        20,
    );
    first["usage"]["cache_creation_input_tokens"] = json!(1000);
    first["usage"]["server_tool_use"] = json!({"web_search_requests": 1});
    let mut second = message_with_usage("msg_2", json!([text("42.")]), "end_turn", 7, 5);
    second["usage"]["cache_read_input_tokens"] = json!(1000);
    second["usage"]["cache_creation_input_tokens"] = json!(150);
    let server = server(vec![first, second]).await;
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _guard = support::capture::set_default(subscriber);
    client(&server)
        .tool_runner(params(), toolset![add])
        .until_done()
        .await
        .expect("run");

    let runs = capture.named("invoke_agent");
    let f = &runs[0].fields;
    // Input counts cached tokens too, as on each `chat` span.
    assert_eq!(
        f["gen_ai.usage.input_tokens"],
        (100 + 1000 + 7 + 1000 + 150).to_string()
    );
    assert_eq!(f["gen_ai.usage.output_tokens"], "25");
    assert_eq!(f["gen_ai.usage.cache_creation.input_tokens"], "1150");
    assert_eq!(f["gen_ai.usage.cache_read.input_tokens"], "1000");
    assert_eq!(f["toolrunner.usage.requests"], "2");
    assert_eq!(f["toolrunner.usage.server_tool_uses"], "1");
    assert_eq!(f["toolrunner.usage.compaction.input_tokens"], "0");
    let chats = capture.named("chat");
    assert_eq!(
        chats[1].fields["gen_ai.usage.cache_read.input_tokens"],
        "1000"
    );
    assert_eq!(
        chats[1].fields["gen_ai.usage.cache_creation.input_tokens"],
        "150"
    );
}

#[tokio::test]
async fn contents_are_recorded_on_opt_in() {
    let capture = two_turns(true).await;
    let chats = capture.named("chat");
    assert_eq!(
        chats[0].fields["gen_ai.input.messages"],
        r#"[{"role":"user","content":"Go."}]"#
    );
    assert_eq!(
        chats[1].fields["gen_ai.output.messages"],
        r#"[{"role":"assistant","content":[{"type":"text","text":"42."}]}]"#
    );
    let tools = capture.named("execute_tool");
    assert_eq!(
        tools[0].fields["gen_ai.tool.call.arguments"],
        r#"{"a":2,"b":40}"#
    );
    assert_eq!(tools[0].fields["gen_ai.tool.call.result"], "42");
}

#[tokio::test]
async fn a_tool_started_early_while_streaming_has_its_span_under_the_run() {
    use futures_util::StreamExt;
    use toolrunner::testing::{Reply, Sequence};

    let server = toolrunner::testing::ScriptedServer::start(Sequence::new([
        Reply::stream_message(message_with_usage(
            "msg_1",
            json!([tool_use("toolu_early", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
            10,
            5,
        )),
        Reply::stream_message(message_with_usage(
            "msg_2",
            json!([text("3.")]),
            "end_turn",
            20,
            2,
        )),
    ]))
    .await
    .unwrap();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _guard = support::capture::set_default(subscriber);
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .streaming()
        .early_tool_start(true);
    // The caller reads each turn's events itself, outside any span of the
    // runner: the tool starts from this loop, while the turn streams.
    while let Some(turn) = runner.next_turn().await {
        let turn = turn.expect("turn");
        while let Some(event) = turn.next().await {
            event.expect("event");
        }
    }

    let tools = capture.named("execute_tool");
    assert_eq!(tools.len(), 1, "{tools:?}");
    let tool = &tools[0];
    assert_eq!(tool.parent.as_deref(), Some("invoke_agent"));
    assert_eq!(tool.fields["gen_ai.operation.name"], "execute_tool");
    assert_eq!(tool.fields["gen_ai.tool.name"], "add");
    assert_eq!(tool.fields["gen_ai.tool.call.id"], "toolu_early");
    assert_eq!(tool.fields["is_error"], "false");
    assert!(tool.fields.contains_key("duration_ms"));
    assert_eq!(capture.named("chat").len(), 2);
    assert_eq!(capture.named("invoke_agent").len(), 1);
}
