//! Structured output: `until_done_parsed::<T>()` over a scripted server.
//! The requests carry `output_config.format`; the answer parses into `T`,
//! or the error keeps the text and the field path.

use crate::support;

use support::*;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Parity {
    Even,
    Odd,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Detail {
    parity: Parity,
    digits: u8,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Answer {
    sum: i64,
    detail: Detail,
    note: Option<String>,
}

/// `Answer`'s schema as sent: closed objects; bounds and number formats,
/// which structured outputs do not take, moved into descriptions.
fn answer_format() -> serde_json::Value {
    json!({"type": "json_schema", "schema": {
        "type": "object",
        "properties": {
            "sum": {"type": "integer", "description": "{format: \"int64\"}"},
            "detail": {
                "type": "object",
                "properties": {
                    "parity": {"type": "string", "enum": ["even", "odd"]},
                    "digits": {"type": "integer", "description": "{format: \"uint8\", minimum: 0, maximum: 255}"}
                },
                "required": ["parity", "digits"],
                "additionalProperties": false
            },
            "note": {"type": ["string", "null"]}
        },
        "required": ["sum", "detail"],
        "additionalProperties": false
    }})
}

fn replies(answer: &str) -> Vec<serde_json::Value> {
    vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "add", json!({"a": 2, "b": 40}))]),
            "tool_use",
        ),
        message("msg_2", json!([text(answer)]), "end_turn"),
    ]
}

#[tokio::test]
async fn parsed_answer_after_a_tool_call_with_the_format_on_every_request() {
    let server = server(replies(
        r#"{"sum": 42, "detail": {"parity": "even", "digits": 2}, "note": null}"#,
    ))
    .await;
    let answer: Answer = client(&server)
        .tool_runner(params(), toolset![add])
        .message_threads(false)
        .until_done_parsed()
        .await
        .expect("run");
    assert_eq!(
        answer,
        Answer {
            sum: 42,
            detail: Detail {
                parity: Parity::Even,
                digits: 2
            },
            note: None
        }
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request["output_config"], json!({"format": answer_format()}));
    }
    // The tool ran on the way.
    assert_eq!(
        requests[1]["messages"][2]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"})
    );
}

#[tokio::test]
async fn format_is_sent_on_a_continued_thread_and_keeps_other_output_config() {
    let server = server(replies(
        r#"{"sum": 42, "detail": {"parity": "even", "digits": 2}}"#,
    ))
    .await;
    let mut params = params();
    params
        .extra
        .insert("output_config".into(), json!({"effort": "low"}));
    let answer: Answer = client(&server)
        .tool_runner(params, toolset![add])
        .until_done_parsed()
        .await
        .expect("run");
    assert_eq!(answer.note, None);
    let requests = server.requests();
    assert!(requests[1].get("thread").is_some(), "{}", requests[1]);
    assert!(requests[1].get("tools").is_none());
    for request in &requests {
        assert_eq!(
            request["output_config"],
            json!({"effort": "low", "format": answer_format()})
        );
    }
}

#[tokio::test]
async fn an_answer_that_does_not_parse_keeps_its_text_and_path() {
    let text = r#"{"sum": 42, "detail": {"parity": "prime", "digits": 2}}"#;
    let server = server(replies(text)).await;
    let error = client(&server)
        .tool_runner(params(), toolset![add])
        .until_done_parsed::<Answer>()
        .await
        .expect_err("parity is not a variant");
    assert!(error.is_parse(), "{error:?}");
    assert_eq!(error.parse_text(), Some(text));
    assert_eq!(error.parse_path(), Some("detail.parity"));
    assert!(error.to_string().contains("`detail.parity`"), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn trailing_text_is_a_parse_error_of_the_whole_answer() {
    let answer = r#"{"sum": 1, "detail": {"parity": "odd", "digits": 1}} Hope that helps!"#;
    let server = server(vec![message("msg_1", json!([text(answer)]), "end_turn")]).await;
    let error = client(&server)
        .tool_runner(params(), toolset![])
        .until_done_parsed::<Answer>()
        .await
        .expect_err("trailing text");
    assert_eq!(error.parse_path(), Some("."));
}

#[tokio::test]
async fn streaming_runner_parses_too() {
    let answer = r#"{"sum": 42, "detail": {"parity": "even", "digits": 2}, "note": "easy"}"#;
    let server = ScriptedServer::start(Sequence::new(
        replies(answer).iter().map(Reply::stream_message),
    ))
    .await
    .expect("bind loopback");
    let answer: Answer = client(&server)
        .tool_runner(params(), toolset![add])
        .streaming()
        .until_done_parsed()
        .await
        .expect("run");
    assert_eq!(answer.note.as_deref(), Some("easy"));
    for request in server.requests() {
        assert_eq!(request["output_config"], json!({"format": answer_format()}));
    }
}
