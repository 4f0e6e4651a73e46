//! Typed answers everywhere: `create_parsed` and `stream_parsed` on the
//! client, and each runner turn's text parsed, over a scripted server. The
//! requests carry exactly `T`'s format; a bad answer keeps its text and
//! the field path, as `until_done_parsed`'s does.

use crate::support;

use support::*;

use futures_util::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{MessageParams, tool, toolset};

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Score {
    points: i32,
    note: Option<String>,
}

fn score_format() -> Value {
    json!({"type": "json_schema", "schema": {
        "type": "object",
        "properties": {
            "points": {"type": "integer", "description": "{format: \"int32\"}"},
            "note": {"type": ["string", "null"]}
        },
        "required": ["points"],
        "additionalProperties": false
    }})
}

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn answer(id: &str, text_: &str) -> Value {
    message(id, json!([text(text_)]), "end_turn")
}

#[tokio::test]
async fn create_parsed_sends_the_format_with_the_other_output_config_fields() {
    let server = server(vec![answer("msg_1", r#"{"points": 7, "note": null}"#)]).await;
    let params = params().extra("output_config", json!({"effort": "low"}));
    let answer = client(&server)
        .create_parsed::<Score>(&params)
        .await
        .expect("parsed");
    assert_eq!(
        answer.parsed,
        Score {
            points: 7,
            note: None
        }
    );
    assert_eq!(answer.message.id, "msg_1");
    let mut config = score_format();
    config = json!({"effort": "low", "format": config});
    assert_eq!(
        server.requests(),
        [json!({"model": "claude-test", "max_tokens": 256,
            "messages": [{"role": "user", "content": "Go."}], "output_config": config})]
    );
}

#[tokio::test]
async fn a_bad_answer_keeps_its_text_and_path() {
    let server = server(vec![answer("msg_1", r#"{"points": "seven"}"#)]).await;
    let error = client(&server)
        .create_parsed::<Score>(&params())
        .await
        .expect_err("not a score");
    assert!(error.is_parse());
    assert_eq!(error.parse_text(), Some(r#"{"points": "seven"}"#));
    assert_eq!(error.parse_path(), Some("points"));
}

#[tokio::test]
async fn a_format_of_the_callers_own_is_refused_before_sending() {
    let server = server(vec![]).await;
    let params = params().extra(
        "output_config",
        json!({"format": {"type": "json_schema", "schema": {}}}),
    );
    let error = client(&server)
        .create_parsed::<Score>(&params)
        .await
        .expect_err("refused");
    assert!(error.is_invalid_request());
    assert!(
        error.to_string().contains("output_config.format"),
        "{error}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn stream_parsed_streams_then_parses() {
    let server = ScriptedServer::start(Sequence::new([Reply::stream_message(answer(
        "msg_1",
        r#"{"points": 3, "note": "ok"}"#,
    ))]))
    .await
    .unwrap();
    let mut stream = client(&server)
        .stream_parsed::<Score>(&params())
        .await
        .expect("stream");
    let mut events = 0;
    while let Some(event) = stream.next().await {
        event.expect("event");
        events += 1;
    }
    assert!(events > 0);
    assert_eq!(
        stream.parsed().await.expect("parsed"),
        Score {
            points: 3,
            note: Some("ok".into())
        }
    );
    assert_eq!(
        server.requests(),
        [json!({"model": "claude-test", "max_tokens": 256,
            "messages": [{"role": "user", "content": "Go."}],
            "output_config": {"format": score_format()}, "stream": true})]
    );
}

#[tokio::test]
async fn each_runner_turn_with_text_is_parsed() {
    let server = server(vec![
        message(
            "msg_1",
            json!([
                text(r#"{"points": 1, "note": "adding"}"#),
                tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))
            ]),
            "tool_use",
        ),
        message(
            "msg_2",
            json!([tool_use("toolu_2", "add", json!({"a": 3, "b": 3}))]),
            "tool_use",
        ),
        answer("msg_3", r#"{"points": 6, "note": null}"#),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false)
        .output_format::<Score>();
    assert!(runner.parsed::<Score>().is_none());
    let mut parsed = Vec::new();
    while let Some(message) = runner.next().await {
        message.expect("reply");
        parsed.push(runner.parsed::<Score>().map(|p| p.expect("a score").points));
    }
    assert_eq!(parsed, [Some(1), None, Some(6)]);
    for request in server.requests() {
        assert_eq!(request["output_config"], json!({"format": score_format()}));
    }
}

#[tokio::test]
async fn a_streamed_turn_is_parsed_and_no_format_means_no_parse() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(answer("msg_1", r#"{"points": 2}"#)),
        Reply::message(answer("msg_2", r#"{"points": 2}"#)),
    ]))
    .await
    .unwrap();
    let client = client(&server);
    let mut runner = client
        .tool_runner(params(), toolset![])
        .message_threads(false)
        .output_format::<Score>()
        .streaming();
    let turn = runner.next_turn().await.expect("turn").expect("turn");
    let score = turn.parsed::<Score>().await.expect("read").expect("text");
    assert_eq!(score.expect("a score").points, 2);
    // Without a format, a turn's text is nobody's JSON.
    let mut runner = client
        .tool_runner(
            MessageParams::new("claude-test", 256).user("Go."),
            toolset![],
        )
        .message_threads(false);
    runner.next().await.expect("reply").expect("reply");
    assert!(runner.parsed::<Score>().is_none());
}
