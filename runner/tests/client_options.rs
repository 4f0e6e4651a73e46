//! Per-request options, response metadata, middleware and `retry-after`,
//! on the wire against the scripted server on loopback: the exact headers,
//! query and body each request carried.
#![cfg(feature = "testing")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use toolrunner::testing::{Part, Recorded, Reply, ScriptedServer, Sequence, sse_events};
use toolrunner::types::RateLimit;
use toolrunner::{
    Client, Error, FileUpload, Message, MessageParams, Middleware, Next, RequestOptions, toolset,
};

async fn server(replies: impl IntoIterator<Item = Reply>) -> ScriptedServer {
    ScriptedServer::start(Sequence::new(replies))
        .await
        .expect("bind loopback")
}

fn client(server: &ScriptedServer) -> Client {
    Client::builder()
        .api_key("sk-test")
        .base_url(server.url())
        .max_retries(0)
        .build()
        .unwrap()
}

fn params() -> MessageParams {
    MessageParams::new("scripted", 64).user("Hi")
}

/// The options of most tests: one of each kind that reaches the wire.
fn options() -> RequestOptions {
    RequestOptions::new()
        .header("x-trace", "t-1")
        .header("anthropic-beta", "opt-beta")
        .workspace_id("wrkspc_01")
        .user_profile_id("uprof_01")
        .extra_body("x_feature", json!({"on": true}))
        .extra_query("tag", "a b")
}

fn body(recorded: &Recorded) -> Value {
    serde_json::from_str(&recorded.body).unwrap()
}

/// Headers whose values the tests pin, in a stable order.
fn headers(recorded: &Recorded, names: &[&str]) -> Vec<(String, Option<String>)> {
    names
        .iter()
        .map(|n| (n.to_string(), recorded.header(n).map(str::to_owned)))
        .collect()
}

#[tokio::test]
async fn options_reach_the_wire_and_leave_the_client_alone() {
    let server = server([Reply::text("one"), Reply::text("two")]).await;
    let client = client(&server);

    let with = client.with_options(options());
    with.create_message(&params().beta("req-beta"))
        .await
        .unwrap();
    client.create_message(&params()).await.unwrap();

    let recorded = server.recorded();
    let names = [
        "x-trace",
        "anthropic-beta",
        "anthropic-workspace-id",
        "anthropic-user-profile-id",
        "x-api-key",
    ];
    let some = |v: &str| Some(v.to_owned());
    assert_eq!(
        headers(&recorded[0], &names),
        [
            ("x-trace".into(), some("t-1")),
            ("anthropic-beta".into(), some("opt-beta,req-beta")),
            ("anthropic-workspace-id".into(), some("wrkspc_01")),
            ("anthropic-user-profile-id".into(), some("uprof_01")),
            ("x-api-key".into(), some("sk-test")),
        ]
    );
    assert_eq!(recorded[0].target, "/v1/messages?tag=a+b");
    assert_eq!(
        recorded[0].body,
        r#"{"model":"scripted","max_tokens":64,"messages":[{"role":"user","content":"Hi"}],"x_feature":{"on":true}}"#
    );
    // The client the options were derived from sends none of them.
    assert_eq!(
        headers(&recorded[1], &names),
        [
            ("x-trace".into(), None),
            ("anthropic-beta".into(), None),
            ("anthropic-workspace-id".into(), None),
            ("anthropic-user-profile-id".into(), None),
            ("x-api-key".into(), some("sk-test")),
        ]
    );
    assert_eq!(recorded[1].target, "/v1/messages");
    assert_eq!(body(&recorded[1]).get("x_feature"), None);
}

#[tokio::test]
async fn streamed_requests_take_the_options_too() {
    let server = server([Reply::text("streamed").streamed()]).await;
    let client = client(&server).with_options(options());
    let mut stream = client.stream_message(&params()).await.unwrap();
    assert_eq!(stream.message().await.unwrap().text(), "streamed");
    let recorded = &server.recorded()[0];
    assert_eq!(
        recorded.body,
        r#"{"model":"scripted","max_tokens":64,"messages":[{"role":"user","content":"Hi"}],"stream":true,"x_feature":{"on":true}}"#
    );
    assert_eq!(recorded.header("anthropic-workspace-id"), Some("wrkspc_01"));
}

#[tokio::test]
async fn derived_options_layer_and_retries_follow_them() {
    let overloaded = || Reply::error(529, "overloaded_error", "busy").header("retry-after-ms", "1");
    let server = server([overloaded(), overloaded(), Reply::text("third time")]).await;
    let client = client(&server);
    let base = client.with_options(
        RequestOptions::new()
            .header("x-trace", "base")
            .max_retries(2),
    );
    let derived = base.with_options(RequestOptions::new().header("x-team", "tools"));

    let message = derived.create_message(&params()).await.unwrap();

    assert_eq!(message.text(), "third time");
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 3);
    for attempt in &recorded {
        assert_eq!(attempt.header("x-trace"), Some("base"));
        assert_eq!(attempt.header("x-team"), Some("tools"));
    }
}

#[tokio::test]
async fn conflicting_options_are_refused_before_sending() {
    let server = server([Reply::text("legacy")]).await;
    let client = client(&server);
    let refused = |options: RequestOptions| {
        let client = client.with_options(options);
        async move { client.create_message(&params()).await.unwrap_err() }
    };

    let err = refused(RequestOptions::new().extra_body("max_tokens", json!(5))).await;
    assert!(err.is_invalid_request());
    assert_eq!(
        err.to_string(),
        r#"invalid request: request option extra_body field "max_tokens" collides with a field the request sets: set it on the request instead"#
    );
    let err = refused(RequestOptions::new().extra_body("stream", json!(true))).await;
    assert!(
        err.to_string().contains(r#"extra_body field "stream""#),
        "{err}"
    );
    let err = refused(RequestOptions::new().extra_body("temperature", json!(0.5))).await;
    assert!(
        err.to_string().starts_with(
            "invalid request: request option extra_body field `temperature` is not accepted by API version 2026-10-21"
        ),
        "{err}"
    );
    let err = refused(RequestOptions::new().header("x-bad", "line\nbreak")).await;
    assert_eq!(
        err.to_string(),
        r#"invalid request: request option header "x-bad" has a value that is not a valid header value"#
    );
    assert!(server.recorded().is_empty(), "nothing was sent");

    // The old API version takes what the new one refuses.
    let legacy = Client::builder()
        .api_key("sk-test")
        .base_url(server.url())
        .anthropic_version("2023-06-01")
        .build()
        .unwrap()
        .with_options(RequestOptions::new().extra_body("temperature", json!(0.5)));
    legacy.create_message(&params()).await.unwrap();
    assert_eq!(body(&server.recorded()[0])["temperature"], 0.5);
}

#[tokio::test]
async fn files_calls_take_options_and_refuse_a_body() {
    let server = server([]).await;
    let client = client(&server);
    let uploaded = client
        .files()
        .upload(FileUpload::bytes("a.txt", "hello"))
        .await
        .unwrap();
    let tagged = client.with_options(
        RequestOptions::new()
            .header("x-trace", "files")
            .workspace_id("wrkspc_02")
            .extra_query("tag", "x"),
    );

    let meta = tagged.files().metadata(&uploaded.id).await.unwrap();
    assert_eq!(meta.id, uploaded.id);
    // Files answers carry their response's metadata too, outside the value.
    assert_eq!(uploaded.request_id(), Some("req_files"));
    assert_eq!(meta.response().map(|r| r.status().as_u16()), Some(200));
    let recorded = server.recorded();
    let sent = recorded.last().unwrap();
    assert_eq!(sent.method, "GET");
    assert_eq!(sent.target, format!("/v1/files/{}?tag=x", uploaded.id));
    assert_eq!(sent.header("x-trace"), Some("files"));
    assert_eq!(sent.header("anthropic-workspace-id"), Some("wrkspc_02"));
    assert_eq!(sent.header("anthropic-beta"), Some("files-api-2025-04-14"));

    let sent_before = server.recorded().len();
    let limit = client.with_options(RequestOptions::new().extra_query("limit", "9"));
    let pages: Vec<_> = limit.files().list().limit(2).pages().collect().await;
    let err = pages.into_iter().next().unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid request: request option extra_query parameter "limit" collides with one the request sets"#
    );
    let with_body = client.with_options(RequestOptions::new().extra_body("x", json!(1)));
    let err = with_body.files().delete(&uploaded.id).await.unwrap_err();
    assert!(err.is_invalid_request());
    assert!(err.to_string().contains("has no JSON body"), "{err}");
    assert_eq!(server.recorded().len(), sent_before, "nothing was sent");
}

/// Answers pong.
#[toolrunner::tool]
async fn ping() -> String {
    "pong".into()
}

#[tokio::test]
async fn a_runner_sends_every_turn_with_its_options() {
    let server = server([
        Reply::tool_use("ping", json!({})),
        Reply::text("done").header("request-id", "req_last"),
    ])
    .await;
    let client = client(&server);
    let runner = client
        .tool_runner(params(), toolset![ping])
        .request_options(RequestOptions::new().user_profile_id("uprof_07"));

    let answer = runner.until_done().await.unwrap();

    assert_eq!(answer.request_id(), Some("req_last"));
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    for turn in &recorded {
        assert_eq!(turn.header("anthropic-user-profile-id"), Some("uprof_07"));
    }
}

#[tokio::test]
async fn responses_carry_their_request_id_and_rate_limits() {
    // Headers go on after `streamed`, which builds a new reply.
    let reply = |id: &str, streamed: bool| {
        let reply = Reply::text("hi");
        let reply = if streamed { reply.streamed() } else { reply };
        reply
            .header("request-id", id)
            .header("anthropic-ratelimit-tokens-limit", "8000")
            .header("anthropic-ratelimit-tokens-remaining", "7900")
    };
    let server = server([
        reply("req_plain", false),
        reply("req_stream", true),
        reply("req_turn", true),
    ])
    .await;
    let client = client(&server);

    let message = client.create_message(&params()).await.unwrap();
    assert_eq!(message.request_id(), Some("req_plain"));
    let response = message.response().unwrap();
    assert_eq!(response.status(), 200);
    let tokens = response.rate_limit(RateLimit::Tokens);
    assert_eq!((tokens.limit, tokens.remaining), (Some(8000), Some(7900)));
    // The metadata is not part of the message: not serialized, not compared.
    let json = serde_json::to_string(&message).unwrap();
    assert!(!json.contains("req_plain"), "{json}");
    let back: Message = serde_json::from_str(&json).unwrap();
    assert_eq!(back, message);
    assert_eq!(back.request_id(), None);

    let mut stream = client.stream_message(&params()).await.unwrap();
    assert_eq!(stream.request_id(), Some("req_stream"));
    assert_eq!(
        stream.message().await.unwrap().request_id(),
        Some("req_stream")
    );

    let mut runner = client.tool_runner(params(), toolset![]).streaming();
    let turn = runner.next_turn().await.unwrap().unwrap();
    assert_eq!(turn.request_id(), Some("req_turn"));
    let tokens = turn.response().unwrap().rate_limit(RateLimit::Tokens);
    assert_eq!(tokens.remaining, Some(7900));
    assert_eq!(turn.message().await.unwrap().request_id(), Some("req_turn"));
}

/// Counts the attempts that pass it.
#[derive(Default)]
struct Count(AtomicUsize);

impl Middleware for Count {
    fn handle<'a>(
        &'a self,
        request: reqwest::Request,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<reqwest::Response, Error>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        next.run(request)
    }
}

/// Adds a header and rewrites the body's `max_tokens`.
struct Rewrite;

impl Middleware for Rewrite {
    fn handle<'a>(
        &'a self,
        mut request: reqwest::Request,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<reqwest::Response, Error>> {
        request
            .headers_mut()
            .insert("x-rewritten", "yes".parse().unwrap());
        let body = request
            .body()
            .and_then(|b| b.as_bytes())
            .unwrap_or_default();
        let mut json: Value = serde_json::from_slice(body).unwrap();
        json["max_tokens"] = json!(7);
        *request.body_mut() = Some(serde_json::to_vec(&json).unwrap().into());
        next.run(request)
    }
}

/// Fails every request without sending it.
struct Fail;

impl Middleware for Fail {
    fn handle<'a>(
        &'a self,
        _request: reqwest::Request,
        _next: Next<'a>,
    ) -> BoxFuture<'a, Result<reqwest::Response, Error>> {
        Box::pin(async { Err(Error::middleware("the signer is offline")) })
    }
}

/// Writes its name to a shared log on the way in and on the way out.
struct Trace(&'static str, Arc<Mutex<Vec<String>>>);

impl Middleware for Trace {
    fn handle<'a>(
        &'a self,
        request: reqwest::Request,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<reqwest::Response, Error>> {
        Box::pin(async move {
            self.1.lock().unwrap().push(format!("{} in", self.0));
            // A middleware sees no credentials: the platform adds them last.
            assert!(request.headers().get("x-api-key").is_none());
            let response = next.run(request).await;
            self.1.lock().unwrap().push(format!("{} out", self.0));
            response
        })
    }
}

#[tokio::test]
async fn middleware_counts_every_attempt() {
    let busy = || Reply::error(529, "overloaded_error", "busy").header("retry-after-ms", "1");
    let server = server([busy(), Reply::text("ok")]).await;
    let count = Arc::new(Count::default());
    struct Shared(Arc<Count>);
    impl Middleware for Shared {
        fn handle<'a>(
            &'a self,
            request: reqwest::Request,
            next: Next<'a>,
        ) -> BoxFuture<'a, Result<reqwest::Response, Error>> {
            self.0.handle(request, next)
        }
    }
    let client = Client::builder()
        .api_key("sk-test")
        .base_url(server.url())
        .middleware(Shared(Arc::clone(&count)))
        .build()
        .unwrap();

    client.create_message(&params()).await.unwrap();

    assert_eq!(count.0.load(Ordering::SeqCst), 2, "one per attempt");
}

#[tokio::test]
async fn middleware_rewrites_what_is_sent() {
    let server = server([Reply::text("ok")]).await;
    let client = Client::builder()
        .api_key("sk-test")
        .base_url(server.url())
        .middleware(Rewrite)
        .build()
        .unwrap();

    client.create_message(&params()).await.unwrap();

    let recorded = &server.recorded()[0];
    assert_eq!(recorded.header("x-rewritten"), Some("yes"));
    assert_eq!(recorded.header("x-api-key"), Some("sk-test"));
    assert_eq!(
        recorded.body,
        r#"{"model":"scripted","max_tokens":7,"messages":[{"role":"user","content":"Hi"}]}"#
    );
}

#[tokio::test]
async fn a_failing_middleware_fails_the_request_without_retry() {
    let server = server([Reply::text("never")]).await;
    let client = Client::builder()
        .api_key("sk-test")
        .base_url(server.url())
        .max_retries(3)
        .middleware(Fail)
        .build()
        .unwrap();

    let err = client.create_message(&params()).await.unwrap_err();

    assert!(err.is_middleware());
    assert!(!err.is_retryable());
    assert_eq!(err.to_string(), "middleware failed: the signer is offline");
    assert!(server.recorded().is_empty());
}

#[tokio::test]
async fn middleware_composes_in_the_order_added() {
    let server = server([Reply::text("ok")]).await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = Client::builder()
        .api_key("sk-test")
        .base_url(server.url())
        .middleware(Trace("outer", Arc::clone(&log)))
        .middleware(Trace("inner", Arc::clone(&log)))
        .build()
        .unwrap();

    client.create_message(&params()).await.unwrap();

    assert_eq!(
        *log.lock().unwrap(),
        ["outer in", "inner in", "inner out", "outer out"]
    );
}

#[tokio::test]
async fn a_middleware_can_answer_itself() {
    struct Canned;
    impl Middleware for Canned {
        fn handle<'a>(
            &'a self,
            _request: reqwest::Request,
            _next: Next<'a>,
        ) -> BoxFuture<'a, Result<reqwest::Response, Error>> {
            let body = json!({
                "id": "msg_canned", "type": "message", "role": "assistant", "model": "m",
                "content": [{"type": "text", "text": "from the cache"}],
                "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": 1, "output_tokens": 1}
            });
            let response = http::Response::builder()
                .status(200)
                .header("request-id", "req_canned")
                .body(body.to_string())
                .unwrap();
            Box::pin(async move { Ok(reqwest::Response::from(response)) })
        }
    }
    let server = server([]).await;
    let client = Client::builder()
        .api_key("sk-test")
        .base_url(server.url())
        .middleware(Canned)
        .build()
        .unwrap();

    let message = client.create_message(&params()).await.unwrap();

    assert_eq!(message.text(), "from the cache");
    assert_eq!(message.request_id(), Some("req_canned"));
    assert!(server.recorded().is_empty());
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_the_timeout() {
    let limited = |after: &str| {
        Reply::error(429, "rate_limit_error", "slow down").header("retry-after", after)
    };
    let server = server([limited("0.01"), Reply::text("ok"), limited("3")]).await;
    let client = Client::builder()
        .api_key("sk-test")
        .base_url(server.url())
        .max_retries(2)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();

    // A short delay is waited, then the request retried.
    client.create_message(&params()).await.unwrap();
    assert_eq!(server.recorded().len(), 2);

    // One longer than the timeout is not: the error comes at once, retryable.
    let err = client.create_message(&params()).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), 1);
    assert_eq!(server.recorded().len(), 3);
}

/// A streamed reply that stops after its first event for `pause`.
fn pausing_stream(pause: Duration) -> Reply {
    let message = Reply::text("slow").scripted_message().unwrap().clone();
    let mut parts: Vec<Part> = sse_events(&message).into_iter().map(Part::Chunk).collect();
    parts.insert(1, Part::Delay(pause));
    Reply::stream(parts)
}

#[tokio::test]
async fn timeouts_set_as_options_bound_the_request_and_the_stream() {
    let server = server([
        pausing_stream(Duration::from_millis(400)),
        pausing_stream(Duration::from_millis(400)),
    ])
    .await;
    let client = client(&server);

    // The whole response, for a message that is not streamed.
    let short = client.with_options(RequestOptions::new().timeout(Duration::from_millis(50)));
    let err = short.create_message(&params()).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");

    // A stream's silence, for one that is.
    let idle =
        client.with_options(RequestOptions::new().stream_idle_timeout(Duration::from_millis(50)));
    let mut stream = idle.stream_message(&params()).await.unwrap();
    let err = stream.message().await.unwrap_err();
    assert!(err.is_stream_broken() || err.is_timeout(), "{err}");
}
