//! Message Batches, the Models API and token counting end to end against
//! the scripted server on loopback: the exact requests (compared with the
//! official Python SDK's), a batch polled through `in_progress` to `ended`
//! with each kind of result, cancelling, expiry, bad input refused before
//! sending, broken results files, a wait that runs out, and platforms
//! without these APIs.

use crate::support;

use support::*;

use std::time::Duration;

use futures_util::TryStreamExt;
use serde_json::{Value, json};
use toolrunner::platform::{Bedrock, Foundry, Vertex};
use toolrunner::testing::{BatchOutcome, Recorded, Reply, ScriptedBatch, ScriptedServer, Sequence};
use toolrunner::types::{BatchRequest, BatchResponse, BatchResult, ProcessingStatus};
use toolrunner::{Client, MessageParams, Polling, Thinking, models};

fn body(recorded: &Recorded) -> Value {
    serde_json::from_str(&recorded.body).unwrap()
}

/// Three requests, `q1` to `q3`.
fn requests() -> Vec<BatchRequest> {
    ["q1", "q2", "q3"]
        .iter()
        .map(|id| {
            let params = MessageParams::new("claude-test", 64).user(format!("Question {id}."));
            BatchRequest::new(*id, params)
        })
        .collect()
}

/// Polls fast enough for a test.
fn quick() -> Polling {
    Polling::default()
        .delays(Duration::from_millis(1), Duration::from_millis(5))
        .within(Duration::from_secs(30))
}

/// A script that answers `q2` with an error and the others with their
/// question back.
fn answering() -> impl FnMut(&Value) -> Reply + Send + 'static {
    |request: &Value| {
        let question = request["messages"][0]["content"]
            .as_str()
            .unwrap_or_default();
        if question.contains("q2") {
            Reply::error(529, "overloaded_error", "scripted overload")
        } else {
            Reply::text(format!("Answer to {question}"))
        }
    }
}

async fn results_of(client: &Client, batch_id: &str) -> Vec<BatchResponse> {
    client
        .batches()
        .results(batch_id)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn create_sends_each_request_and_the_merged_betas() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let client = client(&server);
    let mut requests = requests();
    requests[0].params.betas = vec!["beta-a".into()];
    requests[2].params.betas = vec!["beta-b".into(), "beta-a".into()];
    let batch = client.batches().create(&requests).await.unwrap();
    assert_eq!(batch.processing_status, ProcessingStatus::InProgress);
    assert_eq!(batch.request_counts.processing, 3);
    assert!(batch.results_url.is_none());

    let sent = &server.recorded()[0];
    assert_eq!(
        (sent.method.as_str(), sent.target.as_str()),
        ("POST", "/v1/messages/batches")
    );
    assert_eq!(sent.header("anthropic-beta"), Some("beta-a,beta-b"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("x-api-key"), Some("test-key"));
    assert_eq!(
        body(sent),
        json!({"requests": [
            {"custom_id": "q1", "params": {"model": "claude-test", "max_tokens": 64,
                "messages": [{"role": "user", "content": "Question q1."}]}},
            {"custom_id": "q2", "params": {"model": "claude-test", "max_tokens": 64,
                "messages": [{"role": "user", "content": "Question q2."}]}},
            {"custom_id": "q3", "params": {"model": "claude-test", "max_tokens": 64,
                "messages": [{"role": "user", "content": "Question q3."}]}},
        ]})
    );
    // Messages requests alone are in `requests()`.
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_batch_polls_through_in_progress_to_ended_with_each_kind_of_result() {
    let server = ScriptedServer::start(answering()).await.unwrap();
    server.set_batch_polls(Some(2));
    server.set_batch_outcome("q4", BatchOutcome::Canceled);
    server.set_batch_outcome("q5", BatchOutcome::Expired);
    let client = client(&server);
    let mut requests = requests();
    for id in ["q4", "q5"] {
        requests.push(BatchRequest::new(
            id,
            MessageParams::new("claude-test", 64).user(id),
        ));
    }
    let batch = client.batches().create(&requests).await.unwrap();

    let mut seen = Vec::new();
    let ended = client
        .batches()
        .wait_with(&batch.id, &quick(), |b| seen.push(b.processing_status))
        .await
        .unwrap();
    use ProcessingStatus::{Ended, InProgress};
    assert_eq!(seen, [InProgress, InProgress, Ended]);
    let counts = ended.request_counts;
    assert_eq!(
        (
            counts.succeeded,
            counts.errored,
            counts.canceled,
            counts.expired,
            counts.processing
        ),
        (2, 1, 1, 1, 0)
    );

    let ids: Vec<&str> = requests.iter().map(|r| r.custom_id.as_str()).collect();
    let results: Vec<BatchResponse> = client
        .batches()
        .results_of(&ended)
        .await
        .unwrap()
        .expect_ids(ids)
        .try_collect()
        .await
        .unwrap();
    let by_id = |id: &str| &results.iter().find(|r| r.custom_id == id).unwrap().result;
    match by_id("q1") {
        BatchResult::Succeeded { message } => assert_eq!(message.text(), "Answer to Question q1."),
        other => panic!("{other:?}"),
    }
    match by_id("q2") {
        BatchResult::Errored { error } => {
            assert_eq!(error.error.kind, "overloaded_error");
            assert_eq!(error.error.message, "scripted overload");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(by_id("q3").kind(), "succeeded");
    assert_eq!(by_id("q4"), &BatchResult::Canceled);
    assert_eq!(by_id("q5"), &BatchResult::Expired);

    let results_request = server.recorded().pop().unwrap();
    assert_eq!(
        results_request.target,
        format!("/v1/messages/batches/{}/results", batch.id)
    );
    assert_eq!(results_request.header("accept"), Some("application/binary"));
}

#[tokio::test]
async fn cancel_ends_the_batch_with_canceled_results_and_delete_removes_it() {
    let server = ScriptedServer::start(answering()).await.unwrap();
    server.set_batch_polls(None);
    let client = client(&server);
    let batch = client.batches().create(&requests()).await.unwrap();
    let early = client.batches().delete(&batch.id).await.unwrap_err();
    assert_eq!(early.status().map(|s| s.as_u16()), Some(400));

    let canceling = client.batches().cancel(&batch.id).await.unwrap();
    assert_eq!(canceling.processing_status, ProcessingStatus::Canceling);
    assert!(canceling.cancel_initiated_at.is_some());
    let ended = client.batches().wait(&batch.id, &quick()).await.unwrap();
    assert_eq!(ended.request_counts.canceled, 3);
    let results = results_of(&client, &batch.id).await;
    assert!(
        results.iter().all(|r| r.result == BatchResult::Canceled),
        "{results:?}"
    );

    let deleted = client.batches().delete(&batch.id).await.unwrap();
    assert_eq!(deleted.id, batch.id);
    let gone = client.batches().retrieve(&batch.id).await.unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
    let sent: Vec<(String, String)> = server
        .recorded()
        .iter()
        .map(|r| (r.method.clone(), r.target.clone()))
        .collect();
    let cancel = (
        "POST".to_owned(),
        format!("/v1/messages/batches/{}/cancel", batch.id),
    );
    let delete = (
        "DELETE".to_owned(),
        format!("/v1/messages/batches/{}", batch.id),
    );
    assert!(sent.contains(&cancel) && sent.contains(&delete), "{sent:?}");
}

#[tokio::test]
async fn an_expired_batch_has_expired_results_then_none_once_archived() {
    let server = ScriptedServer::start(answering()).await.unwrap();
    server.set_batch_polls(None);
    let client = client(&server);
    let batch = client.batches().create(&requests()).await.unwrap();
    assert!(server.expire_batch(&batch.id));
    let ended = client.batches().wait(&batch.id, &quick()).await.unwrap();
    assert_eq!(ended.request_counts.expired, 3);
    let results = results_of(&client, &batch.id).await;
    assert!(
        results.iter().all(|r| r.result == BatchResult::Expired),
        "{results:?}"
    );

    assert!(server.archive_batch(&batch.id));
    let sent_before = server.recorded().len();
    let e = client.batches().results(&batch.id).await.unwrap_err();
    assert!(e.is_batch_expired(), "{e:?}");
    assert_eq!(e.batch_id(), Some(batch.id.as_str()));
    assert_eq!(
        e.to_string(),
        format!(
            "the results of batch `{}` have expired (archived at 2027-01-04T12:00:00Z)",
            batch.id
        )
    );
    // Only the retrieve was sent, not a request for the results.
    assert_eq!(server.recorded().len(), sent_before + 1);
}

#[tokio::test]
async fn results_of_a_batch_still_processing_are_refused() {
    let server = ScriptedServer::start(answering()).await.unwrap();
    server.set_batch_polls(None);
    let client = client(&server);
    let batch = client.batches().create(&requests()).await.unwrap();
    let e = client.batches().results(&batch.id).await.unwrap_err();
    assert!(e.is_batch_not_ended(), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "batch `{}` has no results yet: it is in_progress, not ended",
            batch.id
        )
    );
}

#[tokio::test]
async fn a_batch_that_never_ends_fails_the_bounded_wait() {
    let server = ScriptedServer::start(answering()).await.unwrap();
    server.set_batch_polls(None);
    let client = client(&server);
    let batch = client.batches().create(&requests()).await.unwrap();
    let polling = Polling::default()
        .delays(Duration::from_millis(1), Duration::from_millis(20))
        .within(Duration::from_millis(200));
    let e = client
        .batches()
        .wait(&batch.id, &polling)
        .await
        .unwrap_err();
    assert!(e.is_batch_not_ended(), "{e:?}");
    assert!(e.is_retryable());
    assert_eq!(
        e.to_string(),
        format!(
            "batch `{}` did not end within 200ms: it is still in_progress",
            batch.id
        )
    );
    let polls = server
        .recorded()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert!(polls >= 2, "{polls} polls");
}

#[tokio::test]
async fn duplicate_custom_ids_are_refused_before_sending() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let client = client(&server);
    let mut requests = requests();
    requests[2].custom_id = "q1".into();
    let e = client.batches().create(&requests).await.unwrap_err();
    assert!(e.is_invalid_request(), "{e:?}");
    assert_eq!(
        e.to_string(),
        "invalid request: duplicate custom_id \"q1\": requests 0 and 2"
    );
    assert!(server.recorded().is_empty());
}

#[tokio::test]
async fn custom_ids_the_api_would_refuse_are_refused_before_sending() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let client = client(&server);
    for bad in ["", "has space", "dots.are.out", &"x".repeat(65)] {
        let mut requests = requests();
        requests[1].custom_id = bad.to_owned();
        let e = client.batches().create(&requests).await.unwrap_err();
        assert!(e.is_invalid_request(), "{bad:?}: {e:?}");
        assert!(
            e.to_string().starts_with(&format!(
                "invalid request: invalid custom_id {bad:?} (request 1)"
            )),
            "{e}"
        );
    }
    let e = client.batches().create(&[]).await.unwrap_err();
    assert!(e.is_invalid_request(), "{e:?}");
    assert!(server.recorded().is_empty());
}

#[tokio::test]
async fn a_results_line_that_is_not_json_names_its_line() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    server.add_batch(ScriptedBatch::with_lines(
        "msgbatch_broken",
        [
            r#"{"custom_id": "a", "result": {"type": "canceled"}}"#,
            "",
            r#"{"custom_id": "b", "result": {"type": "expi"#,
            r#"{"custom_id": "c", "result": {"type": "expired"}}"#,
        ],
    ));
    let client = client(&server);
    let mut results = client.batches().results("msgbatch_broken").await.unwrap();
    let first = results.try_next().await.unwrap().unwrap();
    assert_eq!(first.custom_id, "a");
    let e = results.try_next().await.unwrap_err();
    assert!(e.is_batch_results(), "{e:?}");
    assert_eq!(e.line(), Some(3));
    assert!(
        e.to_string()
            .starts_with("results of batch `msgbatch_broken`, line 3: not JSON: "),
        "{e}"
    );
    // The stream ends after its error.
    assert!(results.try_next().await.unwrap().is_none());
}

#[tokio::test]
async fn a_line_that_is_json_but_not_a_result_is_told_apart() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    server.add_batch(ScriptedBatch::with_lines(
        "msgbatch_odd",
        [r#"{"custom_id": "a", "result": {"type": "vanished"}}"#],
    ));
    let client = client(&server);
    let mut results = client.batches().results("msgbatch_odd").await.unwrap();
    let e = results.try_next().await.unwrap_err();
    assert_eq!(e.line(), Some(1));
    assert!(
        e.to_string().contains("line 1: not a batch result: "),
        "{e}"
    );
}

#[tokio::test]
async fn a_result_for_an_unknown_id_or_a_missing_one_is_an_error() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let line = |id: &str| format!(r#"{{"custom_id": "{id}", "result": {{"type": "canceled"}}}}"#);
    server.add_batch(ScriptedBatch::with_lines(
        "msgbatch_stranger",
        [line("q1"), line("intruder")],
    ));
    server.add_batch(ScriptedBatch::with_lines("msgbatch_short", [line("q1")]));
    let client = client(&server);

    let results = client.batches().results("msgbatch_stranger").await.unwrap();
    let e = results
        .expect_ids(["q1", "q2"])
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(e.line(), Some(2));
    assert_eq!(
        e.to_string(),
        "results of batch `msgbatch_stranger`, line 2: a result for custom_id \"intruder\", \
         which the batch did not have"
    );

    let results = client.batches().results("msgbatch_short").await.unwrap();
    let e = results
        .expect_ids(["q1", "q2"])
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "results of batch `msgbatch_short`, line 1: the file ended with no result for custom_id \"q2\""
    );

    // Without expected ids, every line is simply read.
    let all = results_of(&client, "msgbatch_stranger").await;
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn a_generated_results_file_is_read_line_by_line() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let count = 20_000;
    server.add_batch(ScriptedBatch::generated("msgbatch_large", count, |i| {
        format!(r#"{{"custom_id": "r{i}", "result": {{"type": "expired"}}}}"#)
    }));
    let client = client(&server);
    let ids: Vec<String> = (0..count).map(|i| format!("r{i}")).collect();
    let results = client.batches().results("msgbatch_large").await.unwrap();
    let read: Vec<BatchResponse> = results.expect_ids(ids).try_collect().await.unwrap();
    assert_eq!(read.len() as u64, count);
    assert_eq!(
        read[count as usize - 1].custom_id,
        format!("r{}", count - 1)
    );
}

#[tokio::test]
async fn batches_list_pages_by_last_id() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let client = client(&server);
    for _ in 0..3 {
        client.batches().create(&requests()).await.unwrap();
    }
    let listed: Vec<String> = client
        .batches()
        .list()
        .limit(2)
        .items()
        .map_ok(|b| b.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        listed,
        [
            "msgbatch_scripted_0003",
            "msgbatch_scripted_0002",
            "msgbatch_scripted_0001"
        ]
    );
    let targets: Vec<String> = server
        .recorded()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.target.clone())
        .collect();
    assert_eq!(
        targets,
        [
            "/v1/messages/batches?limit=2",
            "/v1/messages/batches?limit=2&after_id=msgbatch_scripted_0002"
        ]
    );
}

#[tokio::test]
async fn models_are_listed_by_page_and_retrieved() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let client = client(&server);
    let ids: Vec<String> = client
        .models()
        .list()
        .limit(2)
        .items()
        .map_ok(|m| m.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], models::CURRENT);
    let model = client.models().retrieve(models::CURRENT).await.unwrap();
    assert_eq!(model.display_name, "Claude Opus 5.5");
    assert_eq!(model.max_input_tokens, Some(1_000_000));
    let missing = client.models().retrieve("claude-none").await.unwrap_err();
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
    let targets: Vec<String> = server.recorded().iter().map(|r| r.target.clone()).collect();
    assert_eq!(
        targets,
        [
            "/v1/models?limit=2".to_owned(),
            format!("/v1/models?limit=2&after_id={}", ids[1]),
            format!("/v1/models/{}", models::CURRENT),
            "/v1/models/claude-none".to_owned(),
        ]
    );
}

#[tokio::test]
async fn count_tokens_sends_what_counts_with_the_betas_in_the_header() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let client = client(&server);
    let mut params = MessageParams::new("claude-test", 4096)
        .system("Be brief.")
        .user("What is 2+2?")
        .beta("beta-x");
    params.thinking = Some(Thinking::enabled(2048));
    params.temperature = Some(1.0);
    params.tools =
        vec![json!({"name": "add", "description": "Add.", "input_schema": {"type": "object"}})];
    let count = client.count_tokens(&params).await.unwrap();
    assert!(count.input_tokens > 0);
    let sent = &server.recorded()[0];
    assert_eq!(
        (sent.method.as_str(), sent.target.as_str()),
        ("POST", "/v1/messages/count_tokens")
    );
    assert_eq!(sent.header("anthropic-beta"), Some("beta-x"));
    assert_eq!(
        body(sent),
        json!({
            "model": "claude-test",
            "messages": [{"role": "user", "content": "What is 2+2?"}],
            "system": "Be brief.",
            "tools": [{"name": "add", "description": "Add.", "input_schema": {"type": "object"}}],
            "thinking": {"type": "enabled", "budget_tokens": 2048},
        })
    );
    // A longer request counts more.
    let longer = client
        .count_tokens(&params.clone().user("And 3+3, and then 4+4?"))
        .await
        .unwrap();
    assert!(longer.input_tokens > count.input_tokens);
}

#[tokio::test]
async fn platforms_without_these_apis_refuse_before_sending() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let bedrock = Bedrock::new()
        .region("us-east-1")
        .base_url(server.url())
        .credentials("AKIDEXAMPLE", "secret", None)
        .build()
        .unwrap();
    let vertex = Vertex::new()
        .region("us-east5")
        .project_id("p")
        .base_url(server.url())
        .access_token("token")
        .build()
        .unwrap();
    let foundry = Foundry::new()
        .base_url(server.url())
        .api_key("key")
        .build()
        .unwrap();
    let params = MessageParams::new("claude-test", 64).user("Hi");

    let e = bedrock.count_tokens(&params).await.unwrap_err();
    assert!(e.is_unsupported(), "{e:?}");
    assert_eq!(
        e.to_string(),
        "token counting is not offered on Amazon Bedrock"
    );
    for (client, platform) in [
        (&bedrock, "Amazon Bedrock"),
        (&vertex, "Vertex AI"),
        (&foundry, "Microsoft Foundry"),
    ] {
        let e = client.batches().create(&requests()).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("the Message Batches API is not offered on {platform}")
        );
        let e = client.batches().results("msgbatch_1").await.unwrap_err();
        assert!(e.is_unsupported(), "{e:?}");
        let e = client
            .models()
            .list()
            .pages()
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("the Models API is not offered on {platform}")
        );
    }
    assert!(server.recorded().is_empty());
}

/// The official Python SDK and this crate send the same count, batch and
/// model requests to the scripted server: targets, bodies and headers.
#[tokio::test]
async fn requests_match_the_python_sdks() {
    let Some(python) = support::python::sdk().await else {
        return;
    };
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let mut count = MessageParams::new("claude-test", 1)
        .system("Be brief.")
        .user("What is 2+2?");
    count.thinking = Some(Thinking::enabled(2048));
    count.tools =
        vec![json!({"name": "add", "description": "Add.", "input_schema": {"type": "object"}})];
    let mut count_json = serde_json::to_value(&count).unwrap();
    count_json.as_object_mut().unwrap().remove("max_tokens");
    let requests = requests();
    let input = json!({
        "base_url": server.url(),
        "count": count_json,
        "requests": serde_json::to_value(&requests).unwrap(),
        "model": models::CURRENT,
    })
    .to_string();
    tokio::task::spawn_blocking(move || {
        support::python::run(&python, PYTHON_CALLS, &input, &[("HOME", "/nonexistent")])
    })
    .await
    .unwrap();
    let theirs_len = server.recorded().len();

    let client = client(&server);
    client
        .count_tokens(&count.clone().beta("beta-x"))
        .await
        .unwrap();
    let batch = client.batches().create(&requests).await.unwrap();
    client.batches().retrieve(&batch.id).await.unwrap();
    Box::pin(client.batches().list().limit(1).pages())
        .try_next()
        .await
        .unwrap();
    client.batches().cancel(&batch.id).await.unwrap();
    let _ = results_of(&client, &batch.id).await;
    client.batches().delete(&batch.id).await.unwrap();
    Box::pin(client.models().list().limit(2).pages())
        .try_next()
        .await
        .unwrap();
    client.models().retrieve(models::CURRENT).await.unwrap();

    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2 * theirs_len, "{recorded:#?}");
    let (theirs, ours) = recorded.split_at(theirs_len);
    // Each side made a batch of its own.
    let same_id = |target: &str| {
        target
            .replace("msgbatch_scripted_0001", "{id}")
            .replace("msgbatch_scripted_0002", "{id}")
    };
    for (theirs, ours) in theirs.iter().zip(ours) {
        assert_eq!(ours.method, theirs.method);
        assert_eq!(same_id(&ours.target), same_id(&theirs.target));
        let parsed = |r: &Recorded| serde_json::from_str::<Value>(&r.body).ok();
        assert_eq!(parsed(ours), parsed(theirs), "{}", ours.target);
        // The credential is the client's own affair (the SDK sends the
        // key as a bearer token); the rest must be alike.
        let skip = ["x-api-key", "authorization"];
        assert_eq!(
            support::python::comparable_headers(ours, &skip),
            support::python::comparable_headers(theirs, &skip),
            "{} {}",
            ours.method,
            ours.target
        );
    }
}

const PYTHON_CALLS: &str = r#"
import json, sys
from anthropic import Anthropic

data = json.load(sys.stdin)
client = Anthropic(api_key="test-key", base_url=data["base_url"], max_retries=0)
client.messages.count_tokens(**data["count"], extra_headers={"anthropic-beta": "beta-x"})
batch = client.messages.batches.create(requests=data["requests"])
client.messages.batches.retrieve(batch.id)
client.messages.batches.list(limit=1)
client.messages.batches.cancel(batch.id)
for _ in client.messages.batches.results(batch.id):
    pass
client.messages.batches.delete(batch.id)
client.models.list(limit=2)
client.models.retrieve(data["model"])
"#;

/// Vertex AI counts tokens on its own route, the body keeping `model` and
/// taking `anthropic_version`: the same request as the Python SDK's
/// `AnthropicVertex` sends.
#[tokio::test]
async fn vertex_counts_tokens_as_the_python_sdk_does() {
    let count = || Reply::json(200, json!({"input_tokens": 12}));
    let server = ScriptedServer::start(Sequence::new([count(), count()]))
        .await
        .unwrap();
    let base = format!("{}/v1", server.url());
    let params = MessageParams::new("claude-test", 1)
        .system("Be brief.")
        .user("What is 2+2?");
    let mut wire = serde_json::to_value(&params).unwrap();
    wire.as_object_mut().unwrap().remove("max_tokens");

    let python = support::python::sdk().await;
    if let Some(python) = &python {
        let input = json!({"base_url": base, "count": wire}).to_string();
        let python = python.clone();
        tokio::task::spawn_blocking(move || {
            support::python::run(
                &python,
                PYTHON_VERTEX_COUNT,
                &input,
                &[("HOME", "/nonexistent")],
            )
        })
        .await
        .unwrap();
    }
    let vertex = Vertex::new()
        .region("us-east5")
        .project_id("proj")
        .base_url(&base)
        .access_token("token")
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let counted = vertex.count_tokens(&params).await.unwrap();
    assert_eq!(counted.input_tokens, 12);

    let recorded = server.recorded();
    let ours = recorded.last().unwrap();
    assert_eq!(
        ours.target,
        "/v1/projects/proj/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict"
    );
    let mut expected = wire.clone();
    // The client's API version, as on a message.
    expected["anthropic_version"] = json!("2026-10-21");
    assert_eq!(body(ours), expected);
    assert_eq!(ours.header("authorization"), Some("Bearer token"));
    assert_eq!(ours.header("anthropic-version"), None);
    if python.is_some() {
        let theirs = &recorded[0];
        assert_eq!(theirs.target, ours.target);
        assert_eq!(body(theirs), body(ours));
        assert_eq!(
            support::python::comparable_headers(theirs, &[]),
            support::python::comparable_headers(ours, &[])
        );
    }
}

const PYTHON_VERTEX_COUNT: &str = r#"
import json, sys
from anthropic import AnthropicVertex

data = json.load(sys.stdin)
client = AnthropicVertex(region="us-east5", project_id="proj", access_token="token",
                         base_url=data["base_url"], max_retries=0)
client.messages.count_tokens(**data["count"])
"#;

/// The scripted server refuses what the API would, so that a client under
/// test that skips a check is caught: here, requests no client of this
/// crate would send, made by hand.
#[tokio::test]
async fn the_scripted_server_checks_bodies_and_headers() {
    let server = ScriptedServer::start(Sequence::new([])).await.unwrap();
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value, version: bool| {
        let mut request = http
            .post(format!("{}{path}", server.url()))
            .header("x-api-key", "k")
            .header("content-type", "application/json")
            .body(body.to_string());
        if version {
            request = request.header("anthropic-version", "2023-06-01");
        }
        request.send()
    };
    let refusal = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        (
            status,
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let params = json!({"model": "m", "max_tokens": 8, "messages": []});
    let twice = json!({"requests": [
        {"custom_id": "a", "params": params}, {"custom_id": "a", "params": params},
    ]});
    let answer = refusal(post("/v1/messages/batches", twice, true).await.unwrap()).await;
    assert_eq!(
        answer,
        (400, "requests.1.custom_id: \"a\" is not unique".to_owned())
    );

    let streamed = json!({"requests": [{"custom_id": "a", "params": {
        "model": "m", "max_tokens": 8, "messages": [], "stream": true,
    }}]});
    let answer = refusal(post("/v1/messages/batches", streamed, true).await.unwrap()).await;
    assert_eq!(answer.0, 400, "{answer:?}");

    let answer = refusal(
        post("/v1/messages/count_tokens", params.clone(), true)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        answer,
        (400, "max_tokens: Extra inputs are not permitted".to_owned())
    );

    let count = json!({"model": "m", "messages": []});
    let answer = refusal(
        post("/v1/messages/count_tokens", count, false)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        answer,
        (400, "anthropic-version: header is required".to_owned())
    );
}
