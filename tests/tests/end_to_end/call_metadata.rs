//! The calls besides Messages and Files (token counting, Models, Message
//! Batches) against the scripted server on loopback: their answers keep
//! the response's metadata, per-request options reach each of them (the
//! exact headers, query and body sent), and each runs in a span named
//! after its operation with the GenAI attributes that fit it.

use crate::support;

use support::*;

use std::time::Duration;

use futures_util::{Stream, TryStreamExt};
use serde_json::{Value, json};
use support::capture::Capture;
use toolrunner::testing::{Recorded, ScriptedBatch, ScriptedFile, ScriptedServer, Sequence};
use toolrunner::types::{BatchRequest, MessageBatch, ModelInfo, Page, TokenCount};
use toolrunner::{Client, MessageParams, RequestOptions, Telemetry, models};

async fn empty_server() -> ScriptedServer {
    ScriptedServer::start(Sequence::new([])).await.unwrap()
}

fn count_params() -> MessageParams {
    MessageParams::new("claude-test", 64).user("How many tokens?")
}

fn requests() -> Vec<BatchRequest> {
    vec![BatchRequest::new(
        "q1",
        MessageParams::new("claude-test", 64).user("Question q1."),
    )]
}

/// An ended batch with one result, for `delete` and `results`.
fn ended_batch(server: &ScriptedServer) -> &'static str {
    server.add_batch(ScriptedBatch::with_lines(
        "msgbatch_done",
        [r#"{"custom_id": "q1", "result": {"type": "expired"}}"#],
    ));
    "msgbatch_done"
}

/// The first item of `pages`.
async fn first<T>(
    pages: impl Stream<Item = Result<T, toolrunner::Error>>,
) -> Result<T, toolrunner::Error> {
    let first = std::pin::pin!(pages).try_next().await?;
    Ok(first.expect("a first page"))
}

fn body(recorded: &Recorded) -> Value {
    serde_json::from_str(&recorded.body).unwrap()
}

/// `value` serialized holds nothing of its response, and reads back equal
/// without it.
fn assert_lossless<T>(value: &T, request_id: &str)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).unwrap();
    assert!(!json.contains(request_id), "{json}");
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, value);
}

#[tokio::test]
async fn answers_carry_their_response_outside_the_value() {
    let server = empty_server().await;
    let done = ended_batch(&server);
    let client = client(&server);

    let count = client.count_tokens(&count_params()).await.unwrap();
    assert_eq!(count.request_id(), Some("req_count_tokens"));
    assert_eq!(count.response().map(|r| r.status().as_u16()), Some(200));
    assert_lossless(&count, "req_count_tokens");
    let back: TokenCount = serde_json::from_value(json!({"input_tokens": 3})).unwrap();
    assert_eq!(back.request_id(), None);

    let model = client.models().retrieve(models::CURRENT).await.unwrap();
    assert_eq!(model.request_id(), Some("req_models"));
    assert_lossless(&model, "req_models");
    let page: Page<ModelInfo> = first(client.models().list().limit(2).pages())
        .await
        .unwrap();
    assert_eq!(page.request_id(), Some("req_models"));
    assert_eq!(page.data[0].request_id(), None, "items are not responses");
    assert_lossless(&page, "req_models");

    let batches = client.batches();
    let created = batches.create(&requests()).await.unwrap();
    assert_eq!(created.request_id(), Some("req_batches"));
    assert_lossless(&created, "req_batches");
    let retrieved = batches.retrieve(&created.id).await.unwrap();
    assert_eq!(retrieved.request_id(), Some("req_batches"));
    let canceled = batches.cancel(&created.id).await.unwrap();
    assert_eq!(canceled.request_id(), Some("req_batches"));
    let page: Page<MessageBatch> = first(batches.list().pages()).await.unwrap();
    assert_eq!(page.request_id(), Some("req_batches"));
    let results = batches.results(done).await.unwrap();
    assert_eq!(results.request_id(), Some("req_results"));
    assert_eq!(results.response().status(), 200);
    assert_eq!(results.try_collect::<Vec<_>>().await.unwrap().len(), 1);
    let deleted = batches.delete(done).await.unwrap();
    assert_eq!(deleted.request_id(), Some("req_batches"));
    assert_lossless(&deleted, "req_batches");
}

/// Options that reach the wire on every call, bodiless ones included.
fn tagged() -> RequestOptions {
    RequestOptions::new()
        .header("x-trace", "t-9")
        .workspace_id("wrkspc_09")
        .extra_query("tag", "a b")
        .timeout(Duration::from_secs(30))
}

#[tokio::test]
async fn options_reach_counts_models_and_every_batch_call() {
    let server = empty_server().await;
    let done = ended_batch(&server);
    let plain = client(&server);
    let client = plain.with_options(tagged());
    let with_body = plain.with_options(tagged().extra_body("x_feature", json!({"on": true})));

    with_body.count_tokens(&count_params()).await.unwrap();
    let created = with_body.batches().create(&requests()).await.unwrap();
    client.batches().retrieve(&created.id).await.unwrap();
    let listed: Vec<_> = client.batches().list().items().try_collect().await.unwrap();
    assert_eq!(listed.len(), 2);
    client.batches().cancel(&created.id).await.unwrap();
    let results = client.batches().results(done).await.unwrap();
    results.try_collect::<Vec<_>>().await.unwrap();
    client
        .models()
        .list()
        .items()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    client.models().retrieve(models::CURRENT).await.unwrap();

    let recorded = server.recorded();
    let sent: Vec<(&str, &str)> = recorded
        .iter()
        .map(|r| (r.method.as_str(), r.target.as_str()))
        .collect();
    let (batch, current) = (created.id.as_str(), models::CURRENT);
    assert_eq!(
        sent,
        [
            ("POST", "/v1/messages/count_tokens?tag=a+b"),
            ("POST", "/v1/messages/batches?tag=a+b"),
            ("GET", &*format!("/v1/messages/batches/{batch}?tag=a+b")),
            ("GET", "/v1/messages/batches?tag=a+b"),
            (
                "POST",
                &*format!("/v1/messages/batches/{batch}/cancel?tag=a+b")
            ),
            ("GET", &*format!("/v1/messages/batches/{done}?tag=a+b")),
            (
                "GET",
                &*format!("/v1/messages/batches/{done}/results?tag=a+b")
            ),
            ("GET", "/v1/models?tag=a+b"),
            ("GET", &*format!("/v1/models/{current}?tag=a+b")),
        ]
    );
    for request in &recorded {
        let headers = (
            request.header("x-trace"),
            request.header("anthropic-workspace-id"),
        );
        assert_eq!(headers, (Some("t-9"), Some("wrkspc_09")), "{request:?}");
    }
    assert_eq!(
        body(&recorded[0]),
        json!({
            "model": "claude-test",
            "messages": [{"role": "user", "content": "How many tokens?"}],
            "x_feature": {"on": true},
        })
    );
    let create = body(&recorded[1]);
    assert_eq!(create["x_feature"], json!({"on": true}));
    assert_eq!(create["requests"][0]["custom_id"], "q1");
    assert!(create["requests"][0]["params"].get("x_feature").is_none());
}

#[tokio::test]
async fn extra_body_is_refused_naming_it_on_bodiless_calls() {
    let server = empty_server().await;
    let done = ended_batch(&server);
    let client = client(&server).with_options(RequestOptions::new().extra_body("x", json!(1)));
    let refusal = |path: &str| {
        format!(
            r#"invalid request: request option extra_body field "x" cannot be sent: {path} has no JSON body"#
        )
    };
    let batches = client.batches();
    let errors = [
        (
            batches.retrieve(done).await.unwrap_err(),
            format!("/v1/messages/batches/{done}"),
        ),
        (
            batches.cancel(done).await.unwrap_err(),
            format!("/v1/messages/batches/{done}/cancel"),
        ),
        (
            batches.delete(done).await.unwrap_err(),
            format!("/v1/messages/batches/{done}"),
        ),
        (
            first(batches.list().pages()).await.unwrap_err(),
            "/v1/messages/batches".to_owned(),
        ),
        (
            client.models().retrieve("m").await.unwrap_err(),
            "/v1/models/m".to_owned(),
        ),
        (
            first(client.models().list().pages()).await.unwrap_err(),
            "/v1/models".to_owned(),
        ),
    ];
    for (error, path) in errors {
        assert!(error.is_invalid_request(), "{error}");
        assert_eq!(error.to_string(), refusal(&path));
    }
    assert!(server.recorded().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_timeout_option_bounds_each_call() {
    // A server that takes connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let holding = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    let client = Client::builder()
        .api_key("sk-test")
        .base_url(url.clone())
        .build()
        .unwrap()
        .with_options(
            RequestOptions::new()
                .timeout(Duration::from_millis(50))
                .max_retries(0),
        );
    let ended: MessageBatch = serde_json::from_value(json!({
        "id": "msgbatch_1", "processing_status": "ended",
        "request_counts": {"succeeded": 1},
        "created_at": "2026-12-06T12:00:00Z", "expires_at": "2026-12-07T12:00:00Z",
        "results_url": format!("{url}/v1/messages/batches/msgbatch_1/results"),
    }))
    .unwrap();
    let batches = client.batches();
    let errors = [
        client.count_tokens(&count_params()).await.unwrap_err(),
        client.models().retrieve("m").await.unwrap_err(),
        batches.create(&requests()).await.unwrap_err(),
        batches.retrieve("msgbatch_1").await.unwrap_err(),
        first(batches.list().pages()).await.unwrap_err(),
        // Reading results waits for the headers only.
        batches.results_of(&ended).await.unwrap_err(),
    ];
    for error in errors {
        assert!(error.is_timeout(), "{error}");
        assert!(error.to_string().contains("after 50ms"), "{error}");
    }
    holding.abort();
}

#[tokio::test]
async fn each_call_runs_in_a_span_named_after_it() {
    let capture = Capture::default();
    let _guard = capture.install();
    let server = empty_server().await;
    let done = ended_batch(&server);
    let client = client(&server).with_telemetry(Telemetry::new().conversation_id("conv-7"));

    client.count_tokens(&count_params()).await.unwrap();
    client.models().retrieve(models::CURRENT).await.unwrap();
    client.models().retrieve("claude-none").await.unwrap_err();
    first(client.models().list().pages()).await.unwrap();
    let batches = client.batches();
    let created = batches.create(&requests()).await.unwrap();
    batches.retrieve(&created.id).await.unwrap();
    batches.cancel(&created.id).await.unwrap();
    first(batches.list().pages()).await.unwrap();
    let results = batches.results(done).await.unwrap();
    results.try_collect::<Vec<_>>().await.unwrap();
    batches.delete(done).await.unwrap();

    let count = capture.named("messages.count_tokens");
    assert_eq!(count.len(), 1);
    let f = &count[0].fields;
    let genai: Vec<&str> = [
        "otel.name",
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.conversation.id",
        "attempt",
    ]
    .iter()
    .map(|k| f.get(*k).map_or("<none>", String::as_str))
    .collect();
    assert_eq!(
        genai,
        [
            "count_tokens claude-test",
            "count_tokens",
            "anthropic",
            "claude-test",
            "conv-7",
            "1"
        ]
    );
    assert!(!f.contains_key("error.type"));

    let expected = [
        ("models.retrieve", 2),
        ("models.list", 1),
        ("messages.batches.create", 1),
        // `results` retrieves the batch first.
        ("messages.batches.retrieve", 2),
        ("messages.batches.cancel", 1),
        ("messages.batches.list", 1),
        ("messages.batches.results", 1),
        ("messages.batches.delete", 1),
    ];
    for (name, n) in expected {
        let spans = capture.named(name);
        assert_eq!(spans.len(), n, "{name}");
        for span in spans {
            assert_eq!(span.parent, None, "{name}");
            assert_eq!(span.fields["gen_ai.provider.name"], "anthropic", "{name}");
            assert_eq!(span.fields["gen_ai.conversation.id"], "conv-7", "{name}");
        }
    }
    let retrieves = capture.named("models.retrieve");
    assert!(!retrieves[0].fields.contains_key("error.type"));
    assert_eq!(retrieves[1].fields["error.type"], "not_found_error");
    assert_eq!(retrieves[1].fields["model_id"], "claude-none");
}

#[tokio::test]
async fn with_telemetry_off_the_spans_have_no_genai_attributes() {
    let capture = Capture::default();
    let _guard = capture.install();
    let server = empty_server().await;
    let client =
        client(&server).with_telemetry(Telemetry::new().enabled(false).conversation_id("conv-off"));
    client.count_tokens(&count_params()).await.unwrap();
    client.models().retrieve(models::CURRENT).await.unwrap();
    server.add_file(ScriptedFile::new("file_1", "a.txt", "text/plain", "hi"));
    client.files().metadata("file_1").await.unwrap();
    for name in ["messages.count_tokens", "models.retrieve", "files.metadata"] {
        let spans = capture.named(name);
        assert_eq!(spans.len(), 1, "{name}");
        let fields = &spans[0].fields;
        assert_eq!(fields["attempt"], "1", "{name}");
        let genai: Vec<&String> = fields
            .keys()
            .filter(|k| k.starts_with("gen_ai.") || k.starts_with("otel."))
            .collect();
        assert!(genai.is_empty(), "{name}: {genai:?}");
    }
}
