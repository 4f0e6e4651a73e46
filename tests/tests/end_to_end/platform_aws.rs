//! Amazon Bedrock, Bedrock Mantle and the AWS-hosted API, end to end over
//! loopback against `testing::ScriptedAws`: what goes on the wire (paths,
//! moved body fields, headers), SigV4 signatures recomputed by botocore,
//! the official Python SDK's platform clients side by side, and runs
//! (parallel tool calls, streamed, resumed, code mode) on Bedrock.
//!
//! The botocore and SDK checks need `python3`; without it they print why
//! they are skipped (the scripted server still checks every signature).

use crate::support;
use support::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, future};
use futures_util::StreamExt;
use proptest::prelude::*;
use serde_json::{Value, json};
use toolrunner::code_mode::{CodeMode, Isolation, Worker};
use toolrunner::platform::{Aws, Bedrock, BedrockMantle};
use toolrunner::stream::StreamEvent;
use toolrunner::testing::{
    AwsCredentialSources, AwsPlatform, CONTAINER_CREDENTIALS_PATH, ISSUED_ACCESS_KEY,
    ISSUED_SECRET_KEY, ISSUED_SESSION_TOKEN, IssuedCredentials, Part, Recorded, Reply, Script,
    ScriptedAws, Sequence, TEST_ACCESS_KEY, TEST_API_KEY, TEST_ASSUMED_ROLE_ARN,
    TEST_CONTAINER_TOKEN, TEST_EXTERNAL_ID, TEST_INSTANCE_ROLE, TEST_REGION, TEST_ROLE_ARN,
    TEST_SECRET_KEY, TEST_SSO_ACCESS_TOKEN, TEST_SSO_ACCOUNT_ID, TEST_SSO_CLIENT_ID,
    TEST_SSO_CLIENT_SECRET, TEST_SSO_REFRESH_TOKEN, TEST_SSO_ROLE, TEST_WEB_IDENTITY_TOKEN,
    TEST_WORKSPACE_ID, event_stream_body, exception_frame, parse_event_stream, sse_events,
};
use toolrunner::{Client, FileStore, MessageParams, RunId, RunStore, State, tool, toolset};

/// A model id with the characters Bedrock paths must encode (`/`) or keep (`:`).
const MODEL: &str =
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-test-v1:0";
const MODEL_IN_PATH: &str =
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile%2Fus.anthropic.claude-test-v1:0";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLEsessiontoken";

async fn start(platform: AwsPlatform, script: impl Script) -> ScriptedAws {
    ScriptedAws::start(platform, script)
        .await
        .expect("bind loopback")
}

/// A Bedrock client for `server`, signing with the test credentials and a
/// session token.
fn bedrock(server: &ScriptedAws) -> Client {
    Bedrock::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, Some(SESSION_TOKEN.into()))
        .client(Client::builder().max_retries(0))
        .build()
        .expect("bedrock client")
}

/// Recomputes the signature of every signed request `server` received
/// with botocore, and checks it is the one sent, over the same headers.
fn verify_with_botocore(server: &ScriptedAws) {
    verify_with_botocore_as(server, TEST_SECRET_KEY);
}

/// [`verify_with_botocore`] for requests signed with the secret key `secret`.
fn verify_with_botocore_as(server: &ScriptedAws, secret: &str) {
    let signed: Vec<Recorded> = server
        .recorded()
        .into_iter()
        .filter(|r| {
            r.header("authorization")
                .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256"))
        })
        .collect();
    assert!(!signed.is_empty(), "no signed request to verify");
    let host = server.url();
    verify_requests_with_botocore(host.trim_end_matches("/anthropic"), &signed, secret);
}

/// Recomputes with botocore the signature of each of `signed`, requests
/// sent to `origin` and signed with the secret key `secret`, and checks it
/// is the one sent, over the same headers.
fn verify_requests_with_botocore(origin: &str, signed: &[Recorded], secret: &str) {
    let python = match python::python() {
        Ok(python) => python,
        Err(why) => {
            support::skip(format_args!("the botocore SigV4 check: {why}"));
            return;
        }
    };
    let requests: Vec<Value> = signed
        .iter()
        .map(|r| {
            let headers: serde_json::Map<String, Value> = r
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), Value::String(v.clone())))
                .collect();
            json!({
                "method": r.method,
                "url": format!("{origin}{}", r.target),
                "headers": headers,
                "body": r.body,
            })
        })
        .collect();
    let job = json!({"secret_key": secret, "requests": requests});
    let out: Vec<Value> =
        serde_json::from_str(&python::check(&python, "verify", &job)).expect("botocore's answer");
    assert_eq!(out.len(), signed.len());
    for (check, request) in out.iter().zip(signed) {
        assert!(check.get("error").is_none(), "{check}");
        assert_eq!(
            check["expected"], check["got"],
            "botocore computes another signature for {} {}",
            request.method, request.target
        );
        assert_eq!(check["signed_by_botocore"], check["signed"]);
    }
}

#[tokio::test]
async fn botocore_tells_a_tampered_request_from_a_signed_one() {
    let Ok(python) = python::python() else {
        support::skip("the botocore control: python3 is not installed");
        return;
    };
    let server = start(AwsPlatform::Bedrock, Sequence::new([Reply::text("ok")])).await;
    bedrock(&server)
        .create_message(&MessageParams::new(MODEL, 64).user("Hi"))
        .await
        .unwrap();
    let sent = &server.recorded()[0];
    let as_job = |body: &str| {
        let headers: serde_json::Map<String, Value> = sent
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect();
        json!({"secret_key": TEST_SECRET_KEY, "requests": [{
            "method": sent.method,
            "url": format!("{}{}", server.url(), sent.target),
            "headers": headers,
            "body": body,
        }]})
    };
    let verdict = |body: &str| -> Value {
        let out = python::check(&python, "verify", &as_job(body));
        serde_json::from_str::<Vec<Value>>(&out).unwrap().remove(0)
    };
    let honest = verdict(&sent.body);
    assert_eq!(honest["expected"], honest["got"]);
    let tampered = verdict(&sent.body.replace("Hi", "Ho"));
    assert_ne!(tampered["expected"], tampered["got"]);
}

/// The weather in a city.
#[tool]
fn weather(city: String) -> String {
    format!("{city}: sunny")
}

/// Tool calls counted, to show each ran once.
struct Calls(AtomicUsize);

/// The time in a city.
#[tool]
fn clock(calls: State<Arc<Calls>>, city: String) -> String {
    calls.0.fetch_add(1, Ordering::SeqCst);
    format!("{city}: noon")
}

fn two_calls() -> Value {
    message(
        "msg_1",
        json!([
            tool_use("toolu_1", "weather", json!({"city": "Oslo"})),
            tool_use("toolu_2", "clock", json!({"city": "Oslo"})),
        ]),
        "tool_use",
    )
}

#[tokio::test]
async fn a_tool_run_with_parallel_calls_goes_to_bedrock_as_bedrock_takes_it() {
    let server = start(
        AwsPlatform::Bedrock,
        Sequence::new([
            Reply::message(two_calls()),
            Reply::message(message(
                "msg_2",
                json!([text("Sunny at noon.")]),
                "end_turn",
            )),
        ]),
    )
    .await;
    let calls = Arc::new(Calls(AtomicUsize::new(0)));
    let params = MessageParams::new(MODEL, 256)
        .system("Be brief.")
        .user("Weather and time in Oslo?")
        .beta("some-beta-2025-01-01");
    let last = bedrock(&server)
        .tool_runner(params, toolset![weather, clock].with_state(calls.clone()))
        // Asked for, but Bedrock has no threads: they stay off.
        .message_threads(true)
        .until_done()
        .await
        .expect("run");
    assert_eq!(last.text(), "Sunny at noon.");
    assert_eq!(calls.0.load(Ordering::SeqCst), 1);

    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    for request in &recorded {
        assert_eq!(request.target, format!("/model/{MODEL_IN_PATH}/invoke"));
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(body["anthropic_version"], "2026-10-21");
        assert_eq!(body["anthropic_beta"], json!(["some-beta-2025-01-01"]));
        for gone in ["model", "stream", "thread"] {
            assert!(body.get(gone).is_none(), "{gone} in {body}");
        }
        assert_eq!(body["system"], "Be brief.");
        assert!(request.header("anthropic-version").is_none());
        assert_eq!(
            request.header("anthropic-beta"),
            Some("some-beta-2025-01-01")
        );
        assert_eq!(request.header("x-amz-security-token"), Some(SESSION_TOKEN));
        let auth = request.header("authorization").unwrap();
        assert!(
            auth.contains(&format!("Credential={TEST_ACCESS_KEY}/"))
                && auth.contains(&format!("/{TEST_REGION}/bedrock/aws4_request")),
            "{auth}"
        );
    }
    // Both results answer the one turn, in call order; no thread, and the
    // whole history every time.
    let second = &server.requests()[1];
    assert_eq!(second["model"], MODEL);
    let results: Vec<&str> = second["messages"][2]["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tool_use_id"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["toolu_1", "toolu_2"]);
    verify_with_botocore(&server);
}

#[tokio::test]
async fn a_streamed_turn_comes_in_event_stream_frames() {
    streamed_turn_on(AwsPlatform::Bedrock, bedrock, bedrock_wire).await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A body split anywhere decodes to the events of the whole body.
    #[test]
    fn event_stream_frames_split_anywhere_decode_alike(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
        let body = sample_body();
        let whole = parse_event_stream([body.as_slice()]);
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
        at.sort_unstable();
        let mut chunks = Vec::new();
        let mut from = 0;
        for cut in at {
            chunks.push(&body[from..cut]);
            from = cut;
        }
        chunks.push(&body[from..]);
        prop_assert_eq!(parse_event_stream(chunks), whole);
    }
}

fn sample_body() -> Vec<u8> {
    event_stream_body(&message(
        "msg_p",
        json!([
            text("naïve ☃ text"),
            tool_use("toolu_9", "weather", json!({"city": "Zürich"}))
        ]),
        "tool_use",
    ))
}

#[test]
fn event_stream_frames_split_at_every_byte_decode_alike() {
    let body = sample_body();
    let whole = parse_event_stream([body.as_slice()]);
    assert_eq!(whole.len(), 11, "{whole:?}");
    assert!(whole.iter().all(Result::is_ok), "{whole:?}");
    for cut in 0..=body.len() {
        let (a, b) = body.split_at(cut);
        assert_eq!(parse_event_stream([a, b]), whole, "split at {cut}");
    }
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    assert_eq!(parse_event_stream(bytes), whole);
}

#[tokio::test]
async fn an_exception_frame_mid_stream_is_an_error_naming_it() {
    let start_event =
        json!({"type": "message_start", "message": message("msg_x", json!([]), "end_turn")});
    let sse = format!(
        "event: message_start\ndata: {start_event}\n\n\
         event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"throttlingException\",\"message\":\"Too many tokens, please wait.\"}}}}\n\n"
    );
    let server = start(
        AwsPlatform::Bedrock,
        Sequence::new([Reply::stream([toolrunner::testing::Part::Chunk(sse)])]),
    )
    .await;
    let error = error_after_message_start(&bedrock(&server)).await;
    assert!(error.is_stream_error(), "{error:?}");
    assert_eq!(error.api_error_type(), Some("throttlingException"));
    assert!(error.to_string().contains("Too many tokens"), "{error}");
    assert!(error.is_retryable());

    // The frame itself, decoded alone, says the same.
    let frame = exception_frame("modelStreamErrorException", "boom");
    assert_eq!(
        parse_event_stream([frame.as_slice()]),
        vec![Err(
            "API error event in the stream: modelStreamErrorException: boom".to_owned()
        )]
    );
}

/// A throttled request is retried as on the first-party client, signed
/// anew: botocore checks both attempts.
#[tokio::test]
async fn a_throttled_bedrock_request_is_retried_and_signed_again() {
    let throttled = Reply::aws_error(429, "ThrottlingException", "Too many requests")
        .header("retry-after-ms", "1");
    let server = start(
        AwsPlatform::Bedrock,
        Sequence::new([throttled, Reply::text("Back.")]),
    )
    .await;
    let client = Bedrock::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, None)
        .client(Client::builder().max_retries(1))
        .build()
        .expect("bedrock client");
    let recorded = support::answered_after_one_retry(&client, MODEL, || server.recorded()).await;
    for sent in &recorded {
        assert_eq!(sent.target, format!("/model/{MODEL_IN_PATH}/invoke"));
        assert_signed(sent, "bedrock", None);
    }
    verify_with_botocore(&server);
}

/// A turn longer than the API answers without streaming (`max_tokens`
/// past 21,333) is streamed by the plain runner on Bedrock too, as on the
/// first-party client: to `invoke-with-response-stream`, in event-stream
/// frames, signed.
#[tokio::test]
async fn a_long_bedrock_turn_is_streamed_by_the_plain_runner() {
    let server = start(
        AwsPlatform::Bedrock,
        Sequence::new([
            Reply::stream_message(two_calls()),
            Reply::stream_message(message(
                "msg_2",
                json!([text("Sunny at noon.")]),
                "end_turn",
            )),
        ]),
    )
    .await;
    let calls = Arc::new(Calls(AtomicUsize::new(0)));
    let last = bedrock(&server)
        .tool_runner(
            MessageParams::new(MODEL, 64_000).user("Weather and time in Oslo?"),
            toolset![weather, clock].with_state(calls),
        )
        .until_done()
        .await
        .expect("run");
    assert_eq!(last.text(), "Sunny at noon.");
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    for request in &recorded {
        bedrock_wire(request, true);
    }
    for request in server.requests() {
        assert_eq!(request["max_tokens"], 64_000);
    }
    verify_with_botocore(&server);
}

/// Opens a stream, which starts with `message_start`, and gives the error
/// that comes next.
async fn error_after_message_start(client: &Client) -> toolrunner::Error {
    let mut stream = client
        .stream_message(&MessageParams::new(MODEL, 64).user("Hi"))
        .await
        .expect("the stream opens");
    let first = stream.next().await.unwrap().expect("message_start");
    assert!(matches!(first, StreamEvent::MessageStart { .. }));
    stream.next().await.unwrap().expect_err("an error next")
}

/// A Bedrock stream silent for longer than the idle timeout is broken, as
/// a first-party one is: the timeout bounds the event-stream frames too.
#[tokio::test]
async fn a_bedrock_stream_silent_past_the_idle_timeout_is_broken() {
    let events = sse_events(&message("msg_1", json!([text("Hi")]), "end_turn"));
    // The first event, then silence until the test ends.
    let silence = Arc::new(tokio::sync::Notify::new());
    let reply = Reply::stream([Part::Chunk(events[0].clone()), Part::Wait(silence)]);
    let server = start(AwsPlatform::Bedrock, Sequence::new([reply])).await;
    let client = Bedrock::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, None)
        .client(
            Client::builder()
                .max_retries(0)
                .stream_idle_timeout(std::time::Duration::from_millis(200)),
        )
        .build()
        .expect("bedrock client");
    let error = error_after_message_start(&client).await;
    assert!(error.is_stream_broken(), "{error}");
    assert!(
        error.to_string().contains("nothing was received for 200ms"),
        "{error}"
    );
    let recorded = server.recorded();
    assert_eq!(
        recorded[0].target,
        format!("/model/{MODEL_IN_PATH}/invoke-with-response-stream")
    );
}

#[tokio::test]
async fn a_403_from_bedrock_is_an_api_error_with_its_request_id() {
    let server = start(
        AwsPlatform::Bedrock,
        Sequence::new([Reply::aws_error(
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        )]),
    )
    .await;
    let error = bedrock(&server)
        .create_message(&MessageParams::new(MODEL, 64).user("Hi"))
        .await
        .unwrap_err();
    assert!(error.is_api());
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(error.api_error_type(), Some("AccessDeniedException"));
    assert!(!error.is_retryable());
    let request_id = error.request_id().expect("x-amzn-requestid");
    assert!(request_id.starts_with("aws-req-"), "{request_id}");
    assert!(
        error
            .to_string()
            .contains("403 AccessDeniedException: You don't have access"),
        "{error}"
    );
    // Not refreshed: a 403 that is not about expiry is final.
    assert_eq!(server.recorded().len(), 1);
}

/// Credentials that change each time they are asked for.
#[derive(Debug)]
struct Rotating {
    keys: Vec<&'static str>,
    asked: AtomicUsize,
}

impl ProvideCredentials for Rotating {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let n = self.asked.fetch_add(1, Ordering::SeqCst);
        let key = self.keys[n.min(self.keys.len() - 1)];
        future::ProvideCredentials::ready(Ok(Credentials::new(
            key,
            TEST_SECRET_KEY,
            None,
            None,
            "rotating",
        )))
    }
}

#[tokio::test]
async fn expired_credentials_are_fetched_again_once_then_the_error_is_clear() {
    let server = start(
        AwsPlatform::Bedrock,
        Sequence::new([Reply::text("fresh"), Reply::text("never")]),
    )
    .await;
    server.accept("AKIDOLD", TEST_SECRET_KEY);
    server.accept("AKIDNEW", TEST_SECRET_KEY);
    server.expire("AKIDOLD");
    let rotating = Arc::new(Rotating {
        keys: vec!["AKIDOLD", "AKIDNEW"],
        asked: AtomicUsize::new(0),
    });
    let client = Bedrock::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials_provider(SharedRotating(rotating.clone()))
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let params = MessageParams::new(MODEL, 64).user("Hi");
    let message = client.create_message(&params).await.expect("refreshed");
    assert_eq!(message.text(), "fresh");
    assert_eq!(rotating.asked.load(Ordering::SeqCst), 2);
    let keys: Vec<bool> = server
        .recorded()
        .iter()
        .map(|r| r.header("authorization").unwrap().contains("AKIDNEW"))
        .collect();
    assert_eq!(keys, [false, true]);

    // Credentials that stay expired: one refresh, then the platform's error.
    let stale = Arc::new(Rotating {
        keys: vec!["AKIDOLD"],
        asked: AtomicUsize::new(0),
    });
    let client = Bedrock::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials_provider(SharedRotating(stale.clone()))
        .client(Client::builder().max_retries(3))
        .build()
        .unwrap();
    let error = client.create_message(&params).await.unwrap_err();
    assert_eq!(stale.asked.load(Ordering::SeqCst), 2);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(
        error.to_string().split(" (").next().unwrap(),
        "API error 403 ExpiredTokenException: The security token included in the request is expired"
    );
    assert_eq!(server.recorded().len(), 4);

    // A static API key that is refused is not sent again.
    let client = Bedrock::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .api_key("wrong-key")
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let error = client.create_message(&params).await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(server.recorded().len(), 5);
}

/// [`Rotating`] shared with the test, which counts what it was asked.
#[derive(Debug)]
struct SharedRotating(Arc<Rotating>);

impl ProvideCredentials for SharedRotating {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.0.provide_credentials()
    }
}

#[tokio::test]
async fn what_bedrock_lacks_is_refused_before_sending_and_secrets_stay_hidden() {
    let server = start(AwsPlatform::Bedrock, Sequence::new([])).await;
    let client = bedrock(&server);
    let mut pages = std::pin::pin!(client.files().list().pages());
    let error = pages.next().await.unwrap().unwrap_err();
    assert!(error.is_unsupported(), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the Files API is not offered on Amazon Bedrock"
    );
    let error = client.files().metadata("file_1").await.unwrap_err();
    assert!(error.is_unsupported());
    assert!(server.recorded().is_empty());

    for shown in [
        format!("{client:?}"),
        format!(
            "{:?}",
            Bedrock::new()
                .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, Some(SESSION_TOKEN.into()))
                .api_key(TEST_API_KEY)
        ),
    ] {
        for secret in [
            TEST_SECRET_KEY,
            SESSION_TOKEN,
            TEST_API_KEY,
            TEST_ACCESS_KEY,
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
    // A refused signature's error does not quote the credentials either.
    let wrong = Bedrock::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials(
            TEST_ACCESS_KEY,
            "not-the-secret",
            Some(SESSION_TOKEN.into()),
        )
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let error = wrong
        .create_message(&MessageParams::new(MODEL, 64).user("Hi"))
        .await
        .unwrap_err();
    assert_eq!(error.api_error_type(), Some("InvalidSignatureException"));
    let shown = format!("{error} {error:?}");
    for secret in ["not-the-secret", SESSION_TOKEN, TEST_SECRET_KEY] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn a_killed_bedrock_run_resumes_on_a_new_client() {
    killed_run_resumes_on(AwsPlatform::Bedrock, bedrock, bedrock_wire).await;
}

/// The forecast for a city, for programs.
#[tool(allowed_callers = ["code"])]
fn forecast(city: String) -> String {
    format!("{city}: sunny")
}

#[tokio::test]
async fn a_code_mode_run_works_on_bedrock() {
    code_mode_run_on(AwsPlatform::Bedrock, bedrock, bedrock_wire).await;
}

#[tokio::test]
async fn mantle_and_aws_send_the_messages_shape_signed_or_with_a_key() {
    let reply = || Reply::text("ok");
    // Mantle, SigV4 for `bedrock-mantle`, then a bearer key.
    let server = start(AwsPlatform::Mantle, Sequence::new([reply(), reply()])).await;
    let signed = BedrockMantle::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, None)
        .build()
        .unwrap();
    let params = MessageParams::new("anthropic.claude-test", 64).user("Hi");
    assert_eq!(signed.create_message(&params).await.unwrap().text(), "ok");
    let keyed = BedrockMantle::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .api_key(TEST_API_KEY)
        .build()
        .unwrap();
    assert_eq!(keyed.create_message(&params).await.unwrap().text(), "ok");
    let recorded = server.recorded();
    for request in &recorded {
        assert_eq!(request.target, "/anthropic/v1/messages");
        assert_eq!(request.header("anthropic-version"), Some("2026-10-21"));
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(body["model"], "anthropic.claude-test");
    }
    assert!(
        recorded[0]
            .header("authorization")
            .unwrap()
            .contains("/bedrock-mantle/aws4_request")
    );
    assert_eq!(
        recorded[1].header("authorization"),
        Some(format!("Bearer {TEST_API_KEY}").as_str())
    );
    verify_with_botocore(&server);

    // The AWS-hosted API: SigV4 for `aws-external-anthropic`, the workspace
    // header; then an `x-api-key`; threads offered as first-party.
    let server = start(AwsPlatform::Aws, Sequence::new([reply(), reply()])).await;
    let signed = Aws::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .workspace_id(TEST_WORKSPACE_ID)
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, None)
        .build()
        .unwrap();
    let message = signed
        .tool_runner(params.clone(), toolset![weather])
        .until_done()
        .await
        .unwrap();
    assert_eq!(message.text(), "ok");
    let keyed = Aws::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .workspace_id(TEST_WORKSPACE_ID)
        .api_key(TEST_API_KEY)
        .build()
        .unwrap();
    assert_eq!(keyed.create_message(&params).await.unwrap().text(), "ok");
    let recorded = server.recorded();
    assert_eq!(recorded[0].target, "/v1/messages");
    assert_eq!(
        recorded[0].header("anthropic-workspace-id"),
        Some(TEST_WORKSPACE_ID)
    );
    assert!(
        recorded[0]
            .header("authorization")
            .unwrap()
            .contains("/aws-external-anthropic/aws4_request")
    );
    let body: Value = serde_json::from_str(&recorded[0].body).unwrap();
    assert_eq!(
        body["thread"]["type"], "create",
        "AWS offers threads: {body}"
    );
    assert_eq!(recorded[1].header("x-api-key"), Some(TEST_API_KEY));
    verify_with_botocore(&server);

    // No workspace: the error names the variable.
    let error = Aws::new()
        .region(TEST_REGION)
        .api_key(TEST_API_KEY)
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("ANTHROPIC_AWS_WORKSPACE_ID"),
        "{error}"
    );
}

/// Headers that differ between the official Python SDK and toolrunner by
/// nature, not by what the platform receives:
const NOT_COMPARED: [&str; 7] = [
    // The signature covers the time of signing; its scope and signed
    // headers are compared apart.
    "authorization",
    // The time of signing.
    "x-amz-date",
    // Names the SDK and its version.
    "user-agent",
    // The HTTP libraries' own (httpx, reqwest): compression they accept and
    // connection reuse.
    "accept-encoding",
    "connection",
    // Both bodies are compared as JSON: key order and spacing may differ.
    "content-length",
    // httpx sends `accept: application/json` on every request; reqwest
    // `*/*` or none; the platform answers the same.
    "accept",
];

/// The Python SDK's own telemetry: `x-stainless-lang`, `-package-version`,
/// `-os`, `-arch`, `-runtime`, `-runtime-version`, `-retry-count`,
/// `-timeout`, `-read-timeout`, `-async`.
fn compared(name: &str) -> bool {
    !NOT_COMPARED.contains(&name) && !name.starts_with("x-stainless-")
}

fn signing_scope(request: &Recorded) -> (String, String) {
    let auth = request.header("authorization").unwrap_or_default();
    let field = |name: &str| {
        auth.split(", ")
            .find_map(|p| p.split_once(&format!("{name}=")).map(|(_, v)| v.to_owned()))
            .unwrap_or_default()
    };
    let credential = field("Credential");
    let scope = credential.split('/').skip(2).collect::<Vec<_>>().join("/");
    (scope, field("SignedHeaders"))
}

fn compared_headers(request: &Recorded) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(n, _)| compared(n))
        .cloned()
        .collect();
    headers.sort();
    headers
}

/// Sends the same conversation with the official Python SDK's client for
/// `platform` and with toolrunner, and compares what the server received.
async fn side_by_side(
    platform: AwsPlatform,
    name: &str,
    client: impl Fn(&ScriptedAws) -> Client,
    stream: bool,
) {
    let python = match python::python() {
        Ok(python) => python,
        Err(why) => {
            support::skip(format_args!(
                "side by side with the Python SDK ({name}): {why}"
            ));
            return;
        }
    };
    let answer = || {
        let reply = message("msg_sbs", json!([text("Same.")]), "end_turn");
        if stream {
            Reply::stream_message(reply)
        } else {
            Reply::message(reply)
        }
    };
    let server = start(platform, Sequence::new([answer(), answer()])).await;
    let model = if platform == AwsPlatform::Bedrock {
        MODEL
    } else {
        "anthropic.claude-test"
    };
    let params = MessageParams::new(model, 300)
        .system("Answer in one word.")
        .tool(json!({"name": "weather", "description": "The weather.", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}))
        .user("Weather in Oslo?")
        .message(toolrunner::MessageParam::blocks(
            toolrunner::Role::Assistant,
            serde_json::from_value(json!([{"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}}])).unwrap(),
        ))
        .message(toolrunner::MessageParam::blocks(
            toolrunner::Role::User,
            serde_json::from_value(json!([{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}])).unwrap(),
        ))
        .beta("fine-grained-tool-streaming-2025-05-14");
    let mut body = serde_json::to_value(&params).unwrap();
    body.as_object_mut().unwrap().remove("betas");
    let job = json!({
        "platform": name,
        "base_url": server.url(),
        "access_key": TEST_ACCESS_KEY,
        "secret_key": TEST_SECRET_KEY,
        "session_token": SESSION_TOKEN,
        "region": TEST_REGION,
        "workspace_id": TEST_WORKSPACE_ID,
        "params": body,
        "betas": params.betas,
        "stream": stream,
    });
    let printed = tokio::task::spawn_blocking(move || python::check(&python, "sdk", &job))
        .await
        .unwrap();
    assert_eq!(printed.trim(), "Same.");
    let ours = client(&server);
    let text = if stream {
        ours.stream_message(&params)
            .await
            .unwrap()
            .into_message()
            .await
            .unwrap()
            .text()
    } else {
        ours.create_message(&params).await.unwrap().text()
    };
    assert_eq!(text, "Same.");

    let recorded = server.recorded();
    let (sdk, toolrunner) = (&recorded[0], &recorded[1]);
    assert_eq!(sdk.method, toolrunner.method);
    assert_eq!(sdk.target, toolrunner.target, "{name}: paths");
    let sdk_body: Value = serde_json::from_str(&sdk.body).unwrap();
    let our_body: Value = serde_json::from_str(&toolrunner.body).unwrap();
    assert_eq!(sdk_body, our_body, "{name}: bodies");
    assert_eq!(
        compared_headers(sdk),
        compared_headers(toolrunner),
        "{name}: headers"
    );
    // Each signs what it sends; of the headers compared, the same.
    let (sdk_scope, sdk_signed) = signing_scope(sdk);
    let (our_scope, our_signed) = signing_scope(toolrunner);
    assert_eq!(sdk_scope, our_scope, "{name}: signing scope");
    let kept = |signed: &str| {
        signed
            .split(';')
            .filter(|n| compared(n) || *n == "x-amz-date")
            .collect::<Vec<_>>()
            .join(";")
    };
    assert_eq!(
        kept(&sdk_signed),
        kept(&our_signed),
        "{name}: signed headers"
    );
    verify_with_botocore(&server);
}

#[tokio::test]
async fn the_python_sdk_and_toolrunner_send_the_same_to_bedrock() {
    side_by_side(AwsPlatform::Bedrock, "bedrock", bedrock, false).await;
    side_by_side(AwsPlatform::Bedrock, "bedrock", bedrock, true).await;
}

#[tokio::test]
async fn the_python_sdk_and_toolrunner_send_the_same_to_mantle_and_aws() {
    let mantle = |server: &ScriptedAws| {
        BedrockMantle::new()
            .region(TEST_REGION)
            .base_url(server.url())
            .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, Some(SESSION_TOKEN.into()))
            .client(Client::builder().max_retries(0))
            .build()
            .expect("client")
    };
    side_by_side(AwsPlatform::Mantle, "mantle", mantle, false).await;
    let aws = |server: &ScriptedAws| {
        Aws::new()
            .region(TEST_REGION)
            .base_url(server.url())
            .workspace_id(TEST_WORKSPACE_ID)
            .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, Some(SESSION_TOKEN.into()))
            .client(Client::builder().max_retries(0))
            .build()
            .expect("client")
    };
    side_by_side(AwsPlatform::Aws, "aws", aws, false).await;
}

// Each AWS platform takes the same runs: parallel tool calls over several
// turns, a streamed turn, a run killed and resumed on a new client, and a
// code-mode run. One body per run, given the platform's client and what its
// requests must show on the wire.

/// Checks one request a platform received: its path (`streamed` or not),
/// body shape and authentication.
type Wire = fn(&Recorded, bool);

/// Bedrock: the model in the path, the version in the body, `model` and
/// `stream` gone, no thread, signed for `bedrock` with the session token.
fn bedrock_wire(request: &Recorded, streamed: bool) {
    let action = if streamed {
        "invoke-with-response-stream"
    } else {
        "invoke"
    };
    assert_eq!(request.target, format!("/model/{MODEL_IN_PATH}/{action}"));
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["anthropic_version"], "2026-10-21");
    for gone in ["model", "stream", "thread"] {
        assert!(body.get(gone).is_none(), "{gone} in {body}");
    }
    assert_signed(request, "bedrock", Some(SESSION_TOKEN));
}

/// A Mantle client for `server`, signing with a session token.
fn mantle(server: &ScriptedAws) -> Client {
    BedrockMantle::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, Some(SESSION_TOKEN.into()))
        .client(Client::builder().max_retries(0))
        .build()
        .expect("mantle client")
}

/// Mantle: the first-party body under `/anthropic/v1/messages`, no thread,
/// signed for `bedrock-mantle`.
fn mantle_wire(request: &Recorded, streamed: bool) {
    assert_eq!(request.target, "/anthropic/v1/messages");
    assert_eq!(request.header("anthropic-version"), Some("2026-10-21"));
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["model"], MODEL);
    assert_eq!(body.get("stream") == Some(&Value::Bool(true)), streamed);
    assert!(
        body.get("thread").is_none(),
        "mantle has no threads: {body}"
    );
    assert_signed(request, "bedrock-mantle", Some(SESSION_TOKEN));
}

/// A client of the AWS-hosted API for `server`, signing without a
/// session token.
fn aws(server: &ScriptedAws) -> Client {
    Aws::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .workspace_id(TEST_WORKSPACE_ID)
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, None)
        .client(Client::builder().max_retries(0))
        .build()
        .expect("aws client")
}

/// The AWS-hosted API: the first-party request under `/v1/messages` with
/// the workspace header, signed for `aws-external-anthropic`.
fn aws_wire(request: &Recorded, streamed: bool) {
    assert_eq!(request.target, "/v1/messages");
    assert_eq!(request.header("anthropic-version"), Some("2026-10-21"));
    assert_eq!(
        request.header("anthropic-workspace-id"),
        Some(TEST_WORKSPACE_ID)
    );
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["model"], MODEL);
    assert_eq!(body.get("stream") == Some(&Value::Bool(true)), streamed);
    assert_signed(request, "aws-external-anthropic", None);
}

/// `request` carries a SigV4 signature of the test key for `service` in
/// the test region, and `session_token` when there is one.
fn assert_signed(request: &Recorded, service: &str, session_token: Option<&str>) {
    assert_signed_by(request, TEST_ACCESS_KEY, service, session_token);
}

/// [`assert_signed`] for credentials of the access key id `access_key`.
fn assert_signed_by(
    request: &Recorded,
    access_key: &str,
    service: &str,
    session_token: Option<&str>,
) {
    let auth = request.header("authorization").expect("signed");
    assert!(
        auth.contains(&format!("Credential={access_key}/"))
            && auth.contains(&format!("/{TEST_REGION}/{service}/aws4_request")),
        "{auth}"
    );
    assert_eq!(request.header("x-amz-security-token"), session_token);
    assert_eq!(request.header("x-api-key"), None);
}

/// The ids of the tool results the last message of `request` carries, in
/// order. Whole history or a thread's continuation, the results are last.
fn answered(request: &Value) -> Vec<String> {
    let last = request["messages"].as_array().unwrap().last().unwrap();
    last["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tool_use_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn parallel_calls_on(platform: AwsPlatform, client: fn(&ScriptedAws) -> Client, wire: Wire) {
    let server = start(
        platform,
        Sequence::new([
            Reply::message(two_calls()),
            Reply::message(message(
                "msg_2",
                json!([text("Sunny at noon.")]),
                "end_turn",
            )),
        ]),
    )
    .await;
    let calls = Arc::new(Calls(AtomicUsize::new(0)));
    let last = client(&server)
        .tool_runner(
            MessageParams::new(MODEL, 256).user("Weather and time in Oslo?"),
            toolset![weather, clock].with_state(calls.clone()),
        )
        .until_done()
        .await
        .expect("run");
    assert_eq!(last.text(), "Sunny at noon.");
    assert_eq!(calls.0.load(Ordering::SeqCst), 1);
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    for request in &recorded {
        wire(request, false);
    }
    assert_eq!(answered(&server.requests()[1]), ["toolu_1", "toolu_2"]);
    verify_with_botocore(&server);
}

async fn streamed_turn_on(platform: AwsPlatform, client: fn(&ScriptedAws) -> Client, wire: Wire) {
    let reply = message(
        "msg_s",
        json!([
            text("héllo wörld"),
            tool_use("toolu_1", "weather", json!({"city": "Rome"}))
        ]),
        "tool_use",
    );
    let server = start(
        platform,
        Sequence::new([
            Reply::stream_message(&reply),
            Reply::stream_message(message("msg_t", json!([text("Done.")]), "end_turn")),
        ]),
    )
    .await;
    let mut runner = client(&server)
        .tool_runner(
            MessageParams::new(MODEL, 256).user("Go."),
            toolset![weather],
        )
        .streaming();
    let turn = runner.next_turn().await.unwrap().expect("a turn");
    let mut deltas = String::new();
    while let Some(event) = turn.next().await {
        if let StreamEvent::ContentBlockDelta {
            delta: toolrunner::Delta::Text(text),
            ..
        } = event.expect("event")
        {
            deltas.push_str(&text);
        }
    }
    assert_eq!(deltas, "héllo wörld");
    let message = turn.message().await.unwrap();
    assert_eq!(
        message.tool_uses().next().unwrap().input,
        json!({"city": "Rome"})
    );
    let last = runner.next_turn().await.unwrap().unwrap();
    assert_eq!(last.message().await.unwrap().text(), "Done.");
    assert!(runner.next_turn().await.is_none());
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    for request in &recorded {
        wire(request, true);
    }
    assert_eq!(server.requests()[0]["stream"], true);
    assert_eq!(answered(&server.requests()[1]), ["toolu_1"]);
    verify_with_botocore(&server);
}

async fn killed_run_resumes_on(
    platform: AwsPlatform,
    client: fn(&ScriptedAws) -> Client,
    wire: Wire,
) {
    let server = start(
        platform,
        Sequence::new([
            Reply::message(two_calls()),
            Reply::message(message("msg_2", json!([text("Resumed.")]), "end_turn")),
        ]),
    )
    .await;
    let dir = std::env::temp_dir().join(format!(
        "toolrunner-{platform:?}-resume-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let run = RunId::new("aws-run").unwrap();
    let calls = Arc::new(Calls(AtomicUsize::new(0)));
    let tools = || toolset![weather, clock].with_state(calls.clone());
    {
        let mut runner = client(&server)
            .tool_runner(MessageParams::new(MODEL, 256).user("Go."), tools())
            .checkpoint(FileStore::new(&dir), run.clone());
        let first = runner.next().await.unwrap().expect("first message");
        assert_eq!(first.tool_uses().count(), 2);
        // The process dies here: the runner is dropped with the first
        // message checkpointed and its calls not run.
    }
    let state = FileStore::new(&dir)
        .load(&run)
        .await
        .unwrap()
        .expect("a checkpoint");
    let last = client(&server)
        .resume(state, tools())
        .unwrap()
        .until_done()
        .await
        .expect("resumed run");
    assert_eq!(last.text(), "Resumed.");
    assert_eq!(calls.0.load(Ordering::SeqCst), 1, "no call ran twice");
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    for request in &recorded {
        wire(request, false);
    }
    assert_eq!(answered(&server.requests()[1]), ["toolu_1", "toolu_2"]);
    verify_with_botocore(&server);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn code_mode_run_on(platform: AwsPlatform, client: fn(&ScriptedAws) -> Client, wire: Wire) {
    let program = "print(await forecast(city=\"Lima\"))";
    let server = start(
        platform,
        Sequence::new([
            Reply::message(message(
                "msg_1",
                json!([tool_use("toolu_1", "run_code", json!({"code": program}))]),
                "tool_use",
            )),
            Reply::message(message(
                "msg_2",
                json!([text("Lima is sunny.")]),
                "end_turn",
            )),
        ]),
    )
    .await;
    let tools = CodeMode::new(toolset![forecast])
        .isolation(Isolation::Worker(Worker::at(env!(
            "CARGO_BIN_EXE_code-mode-worker"
        ))))
        .build()
        .unwrap();
    let last = client(&server)
        .tool_runner(MessageParams::new(MODEL, 256).user("Lima?"), tools)
        .until_done()
        .await
        .expect("code-mode run");
    assert_eq!(last.text(), "Lima is sunny.");
    for request in &server.recorded() {
        wire(request, false);
    }
    let second = &server.requests()[1];
    let result = &second["messages"].as_array().unwrap().last().unwrap()["content"][0];
    assert_eq!(result["tool_use_id"], "toolu_1");
    assert!(
        result["content"].as_str().unwrap().contains("Lima: sunny"),
        "{result}"
    );
    verify_with_botocore(&server);
}

/// An AWS platform for the durable-run child, which reads its region and
/// keys from the standard AWS variables, as the SDK's clients do.
struct OnAws(ScriptedAws, AwsPlatform);

impl support::durable::Served for OnAws {
    fn url(&self) -> String {
        self.0.url()
    }

    fn env(&self) -> Vec<(String, String)> {
        let name = match self.1 {
            AwsPlatform::Bedrock => "bedrock",
            AwsPlatform::Mantle => "mantle",
            AwsPlatform::Aws => "aws",
            other => panic!("no durable child for {other:?}"),
        };
        let mut env = vec![
            ("DURABLE_PLATFORM".into(), name.into()),
            ("AWS_REGION".into(), TEST_REGION.into()),
            ("AWS_ACCESS_KEY_ID".into(), TEST_ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), TEST_SECRET_KEY.into()),
        ];
        if self.1 == AwsPlatform::Aws {
            env.push((
                "ANTHROPIC_AWS_WORKSPACE_ID".into(),
                TEST_WORKSPACE_ID.into(),
            ));
        }
        env
    }

    fn bodies(&self) -> Vec<String> {
        self.0.recorded().into_iter().map(|r| r.body).collect()
    }
}

/// A run on `platform` in a process of its own, killed with SIGKILL at a
/// checkpoint (mid-turn, then between turns), is resumed by a new process:
/// no request sent twice, no call run twice, the conversation the same as
/// an uninterrupted run's; every request signed, as botocore recomputes.
async fn killed_process_resumes_on(platform: AwsPlatform, mode: &'static str, service: &str) {
    use support::durable::{durable_model, kill_at_checkpoint_and_resume, uninterrupted};
    let served = OnAws(start(platform, durable_model).await, platform);
    let expected = uninterrupted(&served, mode).await;
    assert_eq!(expected.1.len(), 3, "three model requests");
    for n in [2, 4] {
        let served = OnAws(start(platform, durable_model).await, platform);
        kill_at_checkpoint_and_resume(&served, mode, n, &expected).await;
        for sent in served.0.recorded() {
            assert_signed(&sent, service, None);
        }
        verify_with_botocore(&served.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bedrock_run_killed_in_its_process_resumes_in_a_new_one() {
    killed_process_resumes_on(AwsPlatform::Bedrock, "plain", "bedrock").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_bedrock_run_killed_in_its_process_resumes_in_a_new_one() {
    killed_process_resumes_on(AwsPlatform::Bedrock, "streaming", "bedrock").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mantle_run_killed_in_its_process_resumes_in_a_new_one() {
    killed_process_resumes_on(AwsPlatform::Mantle, "plain", "bedrock-mantle").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_run_killed_in_its_process_resumes_in_a_new_one() {
    killed_process_resumes_on(AwsPlatform::Aws, "plain", "aws-external-anthropic").await;
}

#[tokio::test]
async fn a_tool_run_with_parallel_calls_works_on_mantle() {
    parallel_calls_on(AwsPlatform::Mantle, mantle, mantle_wire).await;
}

#[tokio::test]
async fn a_streamed_turn_works_on_mantle() {
    streamed_turn_on(AwsPlatform::Mantle, mantle, mantle_wire).await;
}

#[tokio::test]
async fn a_killed_mantle_run_resumes_on_a_new_client() {
    killed_run_resumes_on(AwsPlatform::Mantle, mantle, mantle_wire).await;
}

#[tokio::test]
async fn a_code_mode_run_works_on_mantle() {
    code_mode_run_on(AwsPlatform::Mantle, mantle, mantle_wire).await;
}

#[tokio::test]
async fn a_tool_run_with_parallel_calls_works_on_aws() {
    parallel_calls_on(AwsPlatform::Aws, aws, aws_wire).await;
}

#[tokio::test]
async fn a_streamed_turn_works_on_aws() {
    streamed_turn_on(AwsPlatform::Aws, aws, aws_wire).await;
}

#[tokio::test]
async fn a_killed_aws_run_resumes_on_a_new_client() {
    killed_run_resumes_on(AwsPlatform::Aws, aws, aws_wire).await;
}

#[tokio::test]
async fn a_code_mode_run_works_on_aws() {
    code_mode_run_on(AwsPlatform::Aws, aws, aws_wire).await;
}

/// Set in the child processes the credential-chain tests start: the URL
/// of the scripted Bedrock the child sends its messages to.
const CHAIN_CHILD_URL: &str = "TOOLRUNNER_TEST_CHAIN_CHILD_BEDROCK_URL";
/// How many messages the child sends, one after another (default 1).
const CHAIN_CHILD_MESSAGES: &str = "TOOLRUNNER_TEST_CHAIN_CHILD_MESSAGES";
/// The AWS profile the child names with `Bedrock::profile`, if any.
const CHAIN_CHILD_PROFILE: &str = "TOOLRUNNER_TEST_CHAIN_CHILD_PROFILE";
/// How the child prints the outcome of each message for the parent.
const CHAIN_CHILD_OUTCOME: &str = "chain child outcome: ";
/// An SSO access token cached as expired.
const EXPIRED_SSO_ACCESS_TOKEN: &str = "toolrunner-test-expired-sso-access-token";

/// Every secret a credential-chain test hands the chain or the chain
/// fetches: none may be logged.
fn chain_secrets() -> Vec<String> {
    let mut secrets: Vec<String> = [
        TEST_SECRET_KEY,
        TEST_WEB_IDENTITY_TOKEN,
        TEST_SSO_ACCESS_TOKEN,
        EXPIRED_SSO_ACCESS_TOKEN,
        TEST_SSO_CLIENT_SECRET,
        TEST_SSO_REFRESH_TOKEN,
        TEST_CONTAINER_TOKEN,
    ]
    .map(str::to_owned)
    .into();
    for n in 0..4 {
        let issued = IssuedCredentials::nth(n);
        secrets.extend([issued.secret_key, issued.session_token]);
    }
    secrets
}

/// In a child process started by [`chain_in_a_child`]: sends "Hi" (as many
/// times as asked) through `Bedrock::from_env()`, whose credentials come
/// from the AWS chain, with every crate's TRACE logs written, prints the
/// outcome of each, checks no secret the chain took or fetched was
/// written, and says it did. In the test process: false.
async fn chain_child() -> bool {
    let Ok(url) = std::env::var(CHAIN_CHILD_URL) else {
        return false;
    };
    let messages: usize = std::env::var(CHAIN_CHILD_MESSAGES).map_or(1, |n| n.parse().unwrap());
    let logs = support::capture::Written::default();
    let guard = logs.install();
    let mut bedrock = Bedrock::from_env()
        .base_url(url)
        .client(Client::builder().max_retries(0));
    if let Ok(profile) = std::env::var(CHAIN_CHILD_PROFILE) {
        bedrock = bedrock.profile(profile);
    }
    let client = bedrock.build().expect("bedrock client");
    for _ in 0..messages {
        let sent = client
            .create_message(&MessageParams::new(MODEL, 64).user("Hi"))
            .await;
        match sent {
            Ok(message) => println!("{CHAIN_CHILD_OUTCOME}{}", message.text()),
            Err(error) => {
                let shown = format!("{error} {error:?}");
                for secret in chain_secrets() {
                    assert!(!shown.contains(&secret), "{secret} in {shown}");
                }
                println!("{CHAIN_CHILD_OUTCOME}error: {error}");
            }
        }
    }
    drop(guard);
    // What the chain took or fetched stays out of every log, at every level.
    let logs = logs.text();
    assert!(logs.contains("sending request"), "{logs}");
    // The AWS crates' own logs were among them.
    assert!(logs.contains("}: aws_"), "{logs}");
    for secret in chain_secrets() {
        assert!(!logs.contains(&secret), "{secret} leaked:\n{logs}");
    }
    true
}

/// What a child process is asked to do, and what it did.
struct ChildRun {
    /// How many messages it sends.
    messages: usize,
    /// The profile it names, if any.
    profile: Option<&'static str>,
    /// What the scripted Bedrock received.
    sent: Vec<Recorded>,
    /// The outcome of each message: the reply's text, or `error: ...`.
    outcomes: Vec<String>,
}

impl ChildRun {
    fn messages(messages: usize) -> Self {
        ChildRun {
            messages,
            profile: None,
            sent: Vec::new(),
            outcomes: Vec::new(),
        }
    }
}

/// Runs the test `name` of this binary again in a child process whose
/// environment holds only `env`, the region and empty AWS config files,
/// so that nothing but the source under test can answer the AWS chain
/// (the environment is the child's: tests run in parallel). The child
/// sends its messages to a scripted Bedrock accepting the credentials
/// `AwsCredentialSources` issues, and refusing those of `expired` as
/// expired.
async fn chain_in_a_child(
    name: &'static str,
    env: Vec<(&'static str, String)>,
    mut run: ChildRun,
    expired: &[IssuedCredentials],
) -> ChildRun {
    let server = start(AwsPlatform::Bedrock, |_: &Value| Reply::text("Hi!")).await;
    for n in 0..4 {
        let issued = IssuedCredentials::nth(n);
        server.accept(&issued.access_key, &issued.secret_key);
    }
    for issued in expired {
        server.expire(&issued.access_key);
    }
    // Never created: the chain finds no profile.
    let nowhere = std::env::temp_dir().join(format!("toolrunner-no-aws-{}", std::process::id()));
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .arg("--exact")
        .arg(support::test_name(module_path!(), name))
        .args(["--test-threads=1", "--nocapture"])
        .env_clear()
        .env(CHAIN_CHILD_URL, server.url())
        .env(CHAIN_CHILD_MESSAGES, run.messages.to_string())
        .env("AWS_REGION", TEST_REGION)
        .env("AWS_CONFIG_FILE", nowhere.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", nowhere.join("credentials"))
        .envs(env);
    if let Some(profile) = run.profile {
        command.env(CHAIN_CHILD_PROFILE, profile);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The child ran the test, not an empty selection.
    assert!(stdout.contains("1 passed"), "{stdout}");
    run.outcomes = stdout
        .lines()
        // The harness may have begun the line with the test's name.
        .filter_map(|line| line.split_once(CHAIN_CHILD_OUTCOME))
        .map(|(_, outcome)| outcome.to_owned())
        .collect();
    run.sent = server.recorded();
    for (request, n) in run.sent.iter().zip(0..) {
        // Each request is checked against the credentials it names.
        let issued = (0..4)
            .map(IssuedCredentials::nth)
            .find(|issued| {
                request
                    .header("authorization")
                    .is_some_and(|a| a.contains(&format!("Credential={}/", issued.access_key)))
            })
            .unwrap_or_else(|| panic!("request {n} is not signed with issued credentials"));
        assert_signed_by(
            request,
            &issued.access_key,
            "bedrock",
            Some(&issued.session_token),
        );
        verify_requests_with_botocore(
            &server.url(),
            std::slice::from_ref(request),
            &issued.secret_key,
        );
    }
    run
}

/// The access key ids the requests `run` sent were signed with.
fn signed_with(run: &ChildRun) -> Vec<String> {
    run.sent
        .iter()
        .map(|r| {
            let auth = r.header("authorization").unwrap();
            let credential = auth.split("Credential=").nth(1).unwrap();
            credential.split('/').next().unwrap().to_owned()
        })
        .collect()
}

/// [`chain_in_a_child`] sending one message, which must be signed with
/// the first credentials `AwsCredentialSources` issues and their session
/// token, as botocore recomputes.
async fn signed_by_the_chain_in_a_child(name: &'static str, env: Vec<(&'static str, String)>) {
    let run = chain_in_a_child(name, env, ChildRun::messages(1), &[]).await;
    assert_eq!(run.outcomes, ["Hi!"]);
    assert_eq!(signed_with(&run), [ISSUED_ACCESS_KEY]);
}

/// On EC2, the chain asks the instance metadata service (IMDSv2: a session
/// token first, then the role, then its credentials) and Bedrock requests
/// are signed with the instance role's temporary credentials.
#[tokio::test]
async fn bedrock_signs_with_the_instance_role_from_imds() {
    if chain_child().await {
        return;
    }
    let imds = AwsCredentialSources::start().await.expect("bind loopback");
    signed_by_the_chain_in_a_child(
        "bedrock_signs_with_the_instance_role_from_imds",
        vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())],
    )
    .await;
    let asked: Vec<(String, String)> = imds
        .recorded()
        .into_iter()
        .map(|r| (r.method, r.target))
        .collect();
    let role_path = format!("/latest/meta-data/iam/security-credentials/{TEST_INSTANCE_ROLE}");
    assert_eq!(
        asked,
        [
            ("PUT", "/latest/api/token"),
            ("GET", "/latest/meta-data/iam/security-credentials/"),
            ("GET", role_path.as_str()),
        ]
        .map(|(m, t)| (m.to_owned(), t.to_owned()))
    );
}

/// With a web identity token file and a role (as on EKS), the chain asks
/// STS to assume the role with the token in the file, and Bedrock requests
/// are signed with the credentials STS returns.
#[tokio::test]
async fn bedrock_signs_with_the_role_assumed_with_a_web_identity() {
    if chain_child().await {
        return;
    }
    let sts = AwsCredentialSources::start().await.expect("bind loopback");
    let token_file = std::env::temp_dir().join(format!(
        "toolrunner-web-identity-{}.jwt",
        std::process::id()
    ));
    std::fs::write(&token_file, TEST_WEB_IDENTITY_TOKEN).unwrap();
    signed_by_the_chain_in_a_child(
        "bedrock_signs_with_the_role_assumed_with_a_web_identity",
        vec![
            (
                "AWS_WEB_IDENTITY_TOKEN_FILE",
                token_file.display().to_string(),
            ),
            ("AWS_ROLE_ARN", TEST_ROLE_ARN.into()),
            ("AWS_ROLE_SESSION_NAME", "toolrunner-test-session".into()),
            ("AWS_ENDPOINT_URL_STS", sts.url()),
            // Nothing after web identity in the chain may answer.
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ],
    )
    .await;
    let _ = std::fs::remove_file(&token_file);
    let asked = sts.recorded();
    assert_eq!(asked.len(), 1, "one AssumeRoleWithWebIdentity");
    let form: Vec<(String, String)> =
        reqwest::Url::parse(&format!("http://form/?{}", asked[0].body))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("Action"), Some("AssumeRoleWithWebIdentity"));
    assert_eq!(field("WebIdentityToken"), Some(TEST_WEB_IDENTITY_TOKEN));
    assert_eq!(field("RoleArn"), Some(TEST_ROLE_ARN));
    assert_eq!(field("RoleSessionName"), Some("toolrunner-test-session"));
}

const SSO_START_URL: &str = "https://toolrunner-test.awsapps.com/start";

/// A home of its own for the test `name`, holding the AWS `config` and
/// `token` cached under `cache_key` as `aws sso login` caches it; the home
/// and the cached token's path.
fn sso_home(
    name: &str,
    cache_key: &str,
    token: &Value,
    config: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let home = std::env::temp_dir().join(format!("toolrunner-sso-{name}-{}", std::process::id()));
    // The AWS CLI names the cached token after the SHA-1 of its key.
    let cache = home.join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    use sha1::Digest as _;
    let cached = cache.join(format!("{:x}.json", sha1::Sha1::digest(cache_key)));
    std::fs::write(&cached, token.to_string()).unwrap();
    std::fs::write(home.join("config"), config).unwrap();
    (home, cached)
}

/// The environment of a child whose chain reads the SSO profile in `home`
/// and asks `sso` for SSO and SSO-OIDC.
fn sso_env(home: &std::path::Path, sso: &AwsCredentialSources) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", home.display().to_string()),
        ("AWS_CONFIG_FILE", home.join("config").display().to_string()),
        ("AWS_ENDPOINT_URL_SSO", sso.url()),
        ("AWS_ENDPOINT_URL_SSO_OIDC", sso.url()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

/// Caches the SSO token under `cache_key` in a home of its own, as
/// `aws sso login` does, writes `config`, and checks a child whose chain
/// reads them asks the SSO portal once for the profile's role with the
/// cached token, and signs with the credentials it returns.
async fn signed_with_sso(name: &'static str, cache_key: &str, config: &str) {
    let sso = AwsCredentialSources::start().await.expect("bind loopback");
    let token = json!({
        "accessToken": TEST_SSO_ACCESS_TOKEN,
        "expiresAt": "2099-01-01T00:00:00Z",
        "region": TEST_REGION,
        "startUrl": SSO_START_URL,
    });
    let (home, _) = sso_home(name, cache_key, &token, config);
    signed_by_the_chain_in_a_child(name, sso_env(&home, &sso)).await;
    let _ = std::fs::remove_dir_all(&home);
    let asked = sso.recorded();
    assert_eq!(asked.len(), 1, "one GetRoleCredentials");
    assert_eq!(
        asked[0].header("x-amz-sso_bearer_token"),
        Some(TEST_SSO_ACCESS_TOKEN)
    );
    assert!(
        asked[0].target.starts_with("/federation/credentials?"),
        "{}",
        asked[0].target
    );
}

/// With a legacy SSO profile (its start URL in the profile) whose token
/// `aws sso login` cached, the chain asks the IAM Identity Center portal
/// for the profile's role with that token, and Bedrock requests are signed
/// with the credentials it returns.
#[tokio::test]
async fn bedrock_signs_with_the_sso_role_of_the_profile() {
    if chain_child().await {
        return;
    }
    let config = format!(
        "[default]\nsso_start_url = {SSO_START_URL}\nsso_region = {TEST_REGION}\n\
         sso_account_id = {TEST_SSO_ACCOUNT_ID}\nsso_role_name = {TEST_SSO_ROLE}\n"
    );
    signed_with_sso(
        "bedrock_signs_with_the_sso_role_of_the_profile",
        SSO_START_URL,
        &config,
    )
    .await;
}

/// The same with the profile naming an `sso-session` section, as
/// `aws configure sso` writes today: the token is cached under the
/// session's name.
#[tokio::test]
async fn bedrock_signs_with_the_sso_role_of_an_sso_session() {
    if chain_child().await {
        return;
    }
    let config = format!(
        "[default]\nsso_session = toolrunner-test\n\
         sso_account_id = {TEST_SSO_ACCOUNT_ID}\nsso_role_name = {TEST_SSO_ROLE}\n\n\
         [sso-session toolrunner-test]\nsso_start_url = {SSO_START_URL}\nsso_region = {TEST_REGION}\n"
    );
    signed_with_sso(
        "bedrock_signs_with_the_sso_role_of_an_sso_session",
        "toolrunner-test",
        &config,
    )
    .await;
}

/// Writes `config` and `credentials` as the AWS config files of a
/// directory of their own; the directory, and the environment of a child
/// whose chain reads them and nothing else.
fn profile_files(
    name: &str,
    config: &str,
    credentials: &str,
) -> (std::path::PathBuf, Vec<(&'static str, String)>) {
    let dir =
        std::env::temp_dir().join(format!("toolrunner-profile-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config"), config).unwrap();
    std::fs::write(dir.join("credentials"), credentials).unwrap();
    let env = vec![
        ("AWS_CONFIG_FILE", dir.join("config").display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("credentials").display().to_string(),
        ),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ];
    (dir, env)
}

/// Checks a child whose chain reads `config` and `credentials` (see
/// [`profile_files`]) signs with the issued credentials; `env` is added
/// to the child's environment.
async fn signed_with_profile_files(
    name: &'static str,
    config: &str,
    credentials: &str,
    mut env: Vec<(&'static str, String)>,
) {
    let (dir, files) = profile_files(name, config, credentials);
    env.extend(files);
    signed_by_the_chain_in_a_child(name, env).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The default profile's keys and session token in the shared credentials
/// file sign Bedrock requests.
#[tokio::test]
async fn bedrock_signs_with_the_keys_of_the_default_profile() {
    if chain_child().await {
        return;
    }
    let credentials = format!(
        "[default]\naws_access_key_id = {ISSUED_ACCESS_KEY}\n\
         aws_secret_access_key = {ISSUED_SECRET_KEY}\naws_session_token = {ISSUED_SESSION_TOKEN}\n"
    );
    signed_with_profile_files(
        "bedrock_signs_with_the_keys_of_the_default_profile",
        "",
        &credentials,
        Vec::new(),
    )
    .await;
}

/// A profile's `credential_process` is run, and the credentials it prints
/// sign Bedrock requests.
#[tokio::test]
async fn bedrock_signs_with_what_the_profiles_credential_process_prints() {
    if chain_child().await {
        return;
    }
    let printed = std::env::temp_dir().join(format!(
        "toolrunner-credential-process-{}.json",
        std::process::id()
    ));
    let output = json!({
        "Version": 1,
        "AccessKeyId": ISSUED_ACCESS_KEY,
        "SecretAccessKey": ISSUED_SECRET_KEY,
        "SessionToken": ISSUED_SESSION_TOKEN,
        "Expiration": "2099-01-01T00:00:00Z",
    });
    std::fs::write(&printed, output.to_string()).unwrap();
    let config = format!(
        "[default]\ncredential_process = cat {}\n",
        printed.display()
    );
    // The process is run by `sh -c`, found on the PATH.
    let path = std::env::var("PATH").unwrap_or_default();
    signed_with_profile_files(
        "bedrock_signs_with_what_the_profiles_credential_process_prints",
        &config,
        "",
        vec![("PATH", path)],
    )
    .await;
    let _ = std::fs::remove_file(&printed);
}

/// In a container (ECS, EKS Pod Identity), the chain asks the container
/// credentials endpoint with its authorization token, and Bedrock requests
/// are signed with the role credentials it gives.
#[tokio::test]
async fn bedrock_signs_with_the_container_role() {
    if chain_child().await {
        return;
    }
    let endpoint = AwsCredentialSources::start().await.expect("bind loopback");
    signed_by_the_chain_in_a_child(
        "bedrock_signs_with_the_container_role",
        vec![
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                format!("{}{CONTAINER_CREDENTIALS_PATH}", endpoint.url()),
            ),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                TEST_CONTAINER_TOKEN.into(),
            ),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ],
    )
    .await;
    let asked = endpoint.recorded();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].target, CONTAINER_CREDENTIALS_PATH);
    assert_eq!(asked[0].header("authorization"), Some(TEST_CONTAINER_TOKEN));
}

/// A lifetime of credentials inside the time before their expiry at which
/// toolrunner fetches them again (a minute): each request needs new ones,
/// and no test waits for time to pass.
const NEARLY_EXPIRED: std::time::Duration = std::time::Duration::from_secs(30);

/// The form fields of `request`'s body.
fn form_fields(request: &Recorded) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://form/?{}", request.body))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Checks `asked` are STS `AssumeRole` calls for [`TEST_ASSUMED_ROLE_ARN`]
/// with [`TEST_EXTERNAL_ID`], signed for STS with the long-term source
/// keys (no session token), as botocore recomputes; their session names.
fn assumed_with_the_source_keys(sts: &AwsCredentialSources, asked: &[Recorded]) -> Vec<String> {
    let mut names = Vec::new();
    for request in asked {
        let form = form_fields(request);
        let field = |name: &str| {
            form.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(field("Action"), Some("AssumeRole"));
        assert_eq!(field("Version"), Some("2011-06-15"));
        assert_eq!(field("RoleArn"), Some(TEST_ASSUMED_ROLE_ARN));
        assert_eq!(field("ExternalId"), Some(TEST_EXTERNAL_ID));
        names.push(field("RoleSessionName").unwrap().to_owned());
        assert_signed_by(request, TEST_ACCESS_KEY, "sts", None);
    }
    verify_requests_with_botocore(&sts.url(), asked, TEST_SECRET_KEY);
    names
}

/// A profile naming a `role_arn` and a `source_profile` with long-term
/// keys: the chain asks STS to assume the role (its `external_id` and
/// `role_session_name` too), signing that call with the source profile's
/// keys, and Bedrock requests are signed with the role's temporary
/// credentials. When those near their expiry, the role is assumed again
/// before the next request, which is signed with the new ones.
#[tokio::test]
async fn bedrock_signs_with_a_role_assumed_with_the_keys_of_a_source_profile() {
    if chain_child().await {
        return;
    }
    let name = "bedrock_signs_with_a_role_assumed_with_the_keys_of_a_source_profile";
    let sts = AwsCredentialSources::start().await.expect("bind loopback");
    sts.set_lifetime(NEARLY_EXPIRED);
    let config = format!(
        "[default]\nrole_arn = {TEST_ASSUMED_ROLE_ARN}\nsource_profile = base\n\
         external_id = {TEST_EXTERNAL_ID}\nrole_session_name = toolrunner-test-session\n"
    );
    let credentials = format!(
        "[base]\naws_access_key_id = {TEST_ACCESS_KEY}\naws_secret_access_key = {TEST_SECRET_KEY}\n"
    );
    let (dir, mut env) = profile_files(name, &config, &credentials);
    env.push(("AWS_ENDPOINT_URL_STS", sts.url()));
    let run = chain_in_a_child(name, env, ChildRun::messages(2), &[]).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.outcomes, ["Hi!", "Hi!"]);
    let issued: Vec<String> = (0..2)
        .map(|n| IssuedCredentials::nth(n).access_key)
        .collect();
    assert_eq!(signed_with(&run), issued);
    let names = assumed_with_the_source_keys(&sts, &sts.recorded());
    assert_eq!(names, ["toolrunner-test-session"; 2]);
}

/// A profile naming a `role_arn` with `credential_source = Environment`,
/// chosen with `Bedrock::profile`: the role is assumed with the keys in
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, and Bedrock requests are
/// signed with the role's credentials, not with those keys (as the Python
/// SDK's `aws_profile` does).
#[tokio::test]
async fn bedrock_signs_with_a_role_a_named_profile_assumes_with_the_environments_keys() {
    if chain_child().await {
        return;
    }
    let name = "bedrock_signs_with_a_role_a_named_profile_assumes_with_the_environments_keys";
    let sts = AwsCredentialSources::start().await.expect("bind loopback");
    let config = format!(
        "[profile assumer]\nrole_arn = {TEST_ASSUMED_ROLE_ARN}\ncredential_source = Environment\n\
         external_id = {TEST_EXTERNAL_ID}\n"
    );
    let (dir, mut env) = profile_files(name, &config, "");
    env.extend([
        ("AWS_ENDPOINT_URL_STS", sts.url()),
        ("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY.into()),
        ("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY.into()),
    ]);
    let mut run = ChildRun::messages(1);
    run.profile = Some("assumer");
    let run = chain_in_a_child(name, env, run, &[]).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.outcomes, ["Hi!"]);
    assert_eq!(signed_with(&run), [ISSUED_ACCESS_KEY]);
    let names = assumed_with_the_source_keys(&sts, &sts.recorded());
    assert_eq!(names.len(), 1);
    assert!(!names[0].is_empty());
}

/// Instance role credentials that near their expiry are fetched from the
/// metadata service again before the next request, which is signed with
/// the new ones.
#[tokio::test]
async fn instance_role_credentials_near_their_expiry_are_fetched_again() {
    if chain_child().await {
        return;
    }
    let imds = AwsCredentialSources::start().await.expect("bind loopback");
    imds.set_lifetime(NEARLY_EXPIRED);
    let run = chain_in_a_child(
        "instance_role_credentials_near_their_expiry_are_fetched_again",
        vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())],
        ChildRun::messages(2),
        &[],
    )
    .await;
    assert_eq!(run.outcomes, ["Hi!", "Hi!"]);
    let issued: Vec<String> = (0..2)
        .map(|n| IssuedCredentials::nth(n).access_key)
        .collect();
    assert_eq!(signed_with(&run), issued);
    assert_eq!(imds.issued(), 2);
}

/// Credentials the chain fetches that Bedrock keeps refusing as expired
/// (`403 ExpiredTokenException`): they are fetched again once, the request
/// is signed with the new ones, and when those are refused too the error
/// says so.
#[tokio::test]
async fn chain_credentials_refused_as_expired_are_fetched_again_once_then_the_error_is_clear() {
    if chain_child().await {
        return;
    }
    let imds = AwsCredentialSources::start().await.expect("bind loopback");
    let expired: Vec<IssuedCredentials> = (0..3).map(IssuedCredentials::nth).collect();
    let run = chain_in_a_child(
        "chain_credentials_refused_as_expired_are_fetched_again_once_then_the_error_is_clear",
        vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url())],
        ChildRun::messages(1),
        &expired,
    )
    .await;
    assert_eq!(run.outcomes.len(), 1);
    let outcome = run.outcomes[0].split(" (").next().unwrap();
    assert_eq!(
        outcome,
        "error: API error 403 ExpiredTokenException: The security token included in the request is expired"
    );
    let issued: Vec<String> = (0..2)
        .map(|n| IssuedCredentials::nth(n).access_key)
        .collect();
    assert_eq!(signed_with(&run), issued);
    assert_eq!(imds.issued(), 2);
}

/// An `sso-session` whose cached token expired but holds a refresh token
/// and a live client registration: the chain has SSO-OIDC refresh the
/// token (the `refresh_token` grant of the registered client), caches the
/// new one, and asks the portal for the role's credentials with it.
#[tokio::test]
async fn an_expired_sso_token_is_refreshed_with_sso_oidc_before_the_role_is_asked_for() {
    if chain_child().await {
        return;
    }
    let name = "an_expired_sso_token_is_refreshed_with_sso_oidc_before_the_role_is_asked_for";
    let sso = AwsCredentialSources::start().await.expect("bind loopback");
    let config = format!(
        "[default]\nsso_session = toolrunner-test\n\
         sso_account_id = {TEST_SSO_ACCOUNT_ID}\nsso_role_name = {TEST_SSO_ROLE}\n\n\
         [sso-session toolrunner-test]\nsso_start_url = {SSO_START_URL}\nsso_region = {TEST_REGION}\n"
    );
    let token = json!({
        "accessToken": EXPIRED_SSO_ACCESS_TOKEN,
        "expiresAt": "2020-01-01T00:00:00Z",
        "refreshToken": TEST_SSO_REFRESH_TOKEN,
        "clientId": TEST_SSO_CLIENT_ID,
        "clientSecret": TEST_SSO_CLIENT_SECRET,
        "registrationExpiresAt": "2099-01-01T00:00:00Z",
        "region": TEST_REGION,
        "startUrl": SSO_START_URL,
    });
    let (home, cached) = sso_home(name, "toolrunner-test", &token, &config);
    signed_by_the_chain_in_a_child(name, sso_env(&home, &sso)).await;
    let recached: Value = serde_json::from_str(&std::fs::read_to_string(&cached).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&home);
    let asked = sso.recorded();
    let asked_for: Vec<(&str, &str)> = asked
        .iter()
        .map(|r| (r.method.as_str(), r.target.split('?').next().unwrap()))
        .collect();
    assert_eq!(
        asked_for,
        [("POST", "/token"), ("GET", "/federation/credentials")]
    );
    let grant: Value = serde_json::from_str(&asked[0].body).unwrap();
    assert_eq!(
        grant,
        json!({
            "grantType": "refresh_token",
            "refreshToken": TEST_SSO_REFRESH_TOKEN,
            "clientId": TEST_SSO_CLIENT_ID,
            "clientSecret": TEST_SSO_CLIENT_SECRET,
        })
    );
    assert_eq!(
        asked[1].header("x-amz-sso_bearer_token"),
        Some(TEST_SSO_ACCESS_TOKEN)
    );
    assert_eq!(recached["accessToken"], TEST_SSO_ACCESS_TOKEN);
}
