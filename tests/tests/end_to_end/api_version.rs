//! API version 2026-10-21 and bearer-token auth, over loopback HTTP: the
//! headers sent, and the requests refused before sending under the new
//! version but sent as they are under a pinned `2023-06-01`.

use crate::support;

use support::*;

use serde_json::json;
use toolrunner::testing::ScriptedServer;
use toolrunner::{Client, MessageParam, MessageParams, toolset};

fn pinned(server: &ScriptedServer) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(server.url())
        .max_retries(0)
        .anthropic_version("2023-06-01")
        .build()
        .expect("client")
}

fn done() -> serde_json::Value {
    message("msg_1", json!([text("ok")]), "end_turn")
}

/// The requests 2026-10-21 rejects, each with the words its error must hold.
fn rejected_requests() -> Vec<(MessageParams, &'static str)> {
    let assistant_document: MessageParam = serde_json::from_value(json!({
        "role": "assistant",
        "content": [{"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "d"}}]
    }))
    .unwrap();
    let user_citations: MessageParam = serde_json::from_value(json!({
        "role": "user",
        "content": [{"type": "text", "text": "quoted", "citations": [
            {"type": "char_location", "cited_text": "q", "document_index": 0,
             "start_char_index": 0, "end_char_index": 1}
        ]}]
    }))
    .unwrap();
    let search_result: MessageParam = serde_json::from_value(json!({
        "role": "user",
        "content": [{"type": "search_result", "source": "https://example.com", "title": "t",
            "content": [{"type": "text", "text": "x", "citations": [{"type": "search_result_location"}]}]}]
    }))
    .unwrap();
    let mut with_document = params();
    with_document.messages.push(assistant_document);
    with_document.messages.push(MessageParam::user("Go on."));
    let mut with_citations = MessageParams::new("claude-test", 256);
    with_citations.messages.push(user_citations);
    let mut with_search_result = MessageParams::new("claude-test", 256);
    with_search_result.messages.push(search_result);
    vec![
        (params().temperature(1.0), "`temperature`"),
        (params().top_p(0.9), "`top_p`"),
        (params().top_k(5), "`top_k`"),
        (
            with_document,
            "messages[1] is an assistant message with a `document` block",
        ),
        (
            with_citations,
            "messages[0] is a user message with a `text` block carrying `citations`",
        ),
        (
            with_search_result,
            "messages[0] is a user message with a `text` block carrying `citations`",
        ),
    ]
}

#[tokio::test]
async fn the_default_version_is_2026_10_21() {
    let server = server(vec![done()]).await;
    client(&server).create_message(&params()).await.unwrap();
    let recorded = server.recorded();
    assert_eq!(recorded[0].header("anthropic-version"), Some("2026-10-21"));
    assert_eq!(recorded[0].header("x-api-key"), Some("test-key"));
}

#[tokio::test]
async fn rejected_fields_are_refused_before_sending_under_2026_10_21() {
    let server = server(vec![]).await;
    let client = client(&server);
    for (params, expected) in rejected_requests() {
        for result in [
            client.create_message(&params).await.err(),
            client.stream_message(&params).await.err(),
        ] {
            let err = result.expect("refused");
            assert!(err.is_invalid_request(), "{err}");
            let shown = err.to_string();
            assert!(shown.contains(expected), "{shown}");
            assert!(shown.contains("2026-10-21"), "{shown}");
            assert!(
                shown.contains("anthropic_version(\"2023-06-01\")"),
                "{shown}"
            );
        }
    }
    assert!(server.recorded().is_empty(), "nothing is sent");
}

#[tokio::test]
async fn the_runner_refuses_sampling_fields_under_2026_10_21() {
    let server = server(vec![]).await;
    let runner = client(&server).tool_runner(params().temperature(0.2), toolset![]);
    let err = runner.until_done().await.unwrap_err();
    assert!(err.is_invalid_request(), "{err}");
    assert!(err.to_string().contains("`temperature`"), "{err}");
    assert!(server.recorded().is_empty());
}

#[tokio::test]
async fn a_pinned_2023_06_01_sends_the_same_requests_as_they_are() {
    let cases = rejected_requests();
    let server = server(cases.iter().map(|_| done()).collect()).await;
    let client = pinned(&server);
    for (params, _) in &cases {
        client.create_message(params).await.expect("sent");
    }
    let recorded = server.recorded();
    assert_eq!(recorded.len(), cases.len());
    for request in &recorded {
        assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    }
    let bodies = server.requests();
    assert_eq!(bodies[0]["temperature"], json!(1.0));
    assert_eq!(bodies[1]["top_p"], json!(0.9));
    assert_eq!(bodies[2]["top_k"], json!(5));
    assert_eq!(bodies[3]["messages"][1]["content"][0]["type"], "document");
    assert_eq!(
        bodies[4]["messages"][0]["content"][0]["citations"][0]["type"],
        "char_location"
    );
}

#[tokio::test]
async fn a_bearer_token_alone_is_enough() {
    let server = server(vec![done()]).await;
    let client = Client::builder()
        .auth_token("gateway-token")
        .base_url(server.url())
        .build()
        .expect("no API key is needed with a token");
    client.create_message(&params()).await.unwrap();
    let recorded = server.recorded();
    assert_eq!(
        recorded[0].header("authorization"),
        Some("Bearer gateway-token")
    );
    assert_eq!(recorded[0].header("x-api-key"), None);
    assert!(!format!("{client:?}").contains("gateway-token"));
}

#[test]
fn no_credentials_is_a_config_error() {
    let err = Client::builder().build().unwrap_err();
    assert!(err.is_config());
    assert!(err.to_string().starts_with("no credentials"), "{err}");
}
