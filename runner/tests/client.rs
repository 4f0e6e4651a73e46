//! The HTTP client against a local mock server: headers, body, retries,
//! errors. Everything stays on loopback; no API key is needed.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use toolrunner::{Client, MessageParams, StopReason};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-ant-test-secret-key-0123456789";

const MESSAGE: &str = r#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"4"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}"#;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .build()
        .unwrap()
}

fn params() -> MessageParams {
    MessageParams::new("claude-test", 64).user("What's 2 + 2?")
}

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("request-id", "req_ok")
        .set_body_raw(MESSAGE, "application/json")
}

fn api_error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    ResponseTemplate::new(status).set_body_json(body)
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap()
}

#[tokio::test]
async fn sends_exact_headers_and_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ok())
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .default_header("X-Custom", "custom-value")
        .build()
        .unwrap();
    let params = params().system("Be terse.").beta("beta-a").beta("beta-b");

    client.create_message(&params).await.unwrap();

    let requests = requests(&server).await;
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    let header = |name: &str| request.headers.get(name).map(|v| v.to_str().unwrap());
    assert_eq!(header("x-api-key"), Some(KEY));
    assert_eq!(header("anthropic-version"), Some("2026-10-21"));
    assert_eq!(header("anthropic-beta"), Some("beta-a,beta-b"));
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("x-custom"), Some("custom-value"));
    assert_eq!(
        header("user-agent"),
        Some(concat!("toolrunner/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(
        std::str::from_utf8(&request.body).unwrap(),
        r#"{"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":"What's 2 + 2?"}],"system":"Be terse."}"#
    );
}

#[tokio::test]
async fn no_beta_header_without_betas_and_version_is_configurable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/", server.uri()))
        .anthropic_version("2099-01-01")
        .build()
        .unwrap();

    client.create_message(&params()).await.unwrap();

    let requests = requests(&server).await;
    assert_eq!(requests[0].url.path(), "/v1/messages");
    assert!(requests[0].headers.get("anthropic-beta").is_none());
    assert_eq!(requests[0].headers["anthropic-version"], "2099-01-01");
}

#[tokio::test]
async fn parses_a_successful_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&server)
        .await;

    let message = client(&server).create_message(&params()).await.unwrap();

    assert_eq!(message.id, "msg_01");
    assert_eq!(message.model, "claude-test");
    assert_eq!(message.text(), "4");
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(message.usage.input_tokens, 12);
}

#[tokio::test]
async fn retries_429_honouring_retry_after_ms() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            api_error(429, "rate_limit_error", "Slow down").insert_header("retry-after-ms", "300"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&server)
        .await;

    let start = Instant::now();
    let message = client(&server).create_message(&params()).await.unwrap();
    let elapsed = start.elapsed();

    assert_eq!(message.id, "msg_01");
    assert_eq!(requests(&server).await.len(), 2);
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn retries_429_honouring_retry_after_seconds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            api_error(429, "rate_limit_error", "Slow down").insert_header("retry-after", "1"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&server)
        .await;

    let start = Instant::now();
    client(&server).create_message(&params()).await.unwrap();
    let elapsed = start.elapsed();

    assert_eq!(requests(&server).await.len(), 2);
    // Backoff alone would wait at most 500 ms.
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn overloaded_is_retried_until_attempts_run_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            api_error(529, "overloaded_error", "Overloaded")
                .insert_header("retry-after-ms", "10")
                .insert_header("request-id", "req_529"),
        )
        .mount(&server)
        .await;

    let err = client(&server).create_message(&params()).await.unwrap_err();

    assert_eq!(requests(&server).await.len(), 3);
    assert!(err.is_api(), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(529));
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.api_error_type(), Some("overloaded_error"));
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        "API error 529 overloaded_error: Overloaded (after 3 attempts, request-id req_529)"
    );
}

#[tokio::test]
async fn max_retries_zero_does_not_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            api_error(529, "overloaded_error", "Overloaded").insert_header("retry-after-ms", "10"),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap();

    let err = client.create_message(&params()).await.unwrap_err();

    assert_eq!(requests(&server).await.len(), 1);
    assert_eq!(err.attempts(), 1);
    assert_eq!(
        err.to_string(),
        "API error 529 overloaded_error: Overloaded"
    );
}

#[tokio::test]
async fn invalid_request_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            api_error(400, "invalid_request_error", "messages: field required")
                .insert_header("request-id", "req_123"),
        )
        .mount(&server)
        .await;

    let err = client(&server).create_message(&params()).await.unwrap_err();

    assert_eq!(requests(&server).await.len(), 1);
    assert!(err.is_api());
    assert!(!err.is_retryable());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.api_error_type(), Some("invalid_request_error"));
    assert_eq!(err.api_message(), Some("messages: field required"));
    assert_eq!(err.request_id(), Some("req_123"));
    assert_eq!(err.attempts(), 1);
    assert!(err.body().unwrap().starts_with(b"{\"type\":\"error\""));
    assert_eq!(
        err.to_string(),
        "API error 400 invalid_request_error: messages: field required (request-id req_123)"
    );
}

#[tokio::test]
async fn should_retry_false_overrides_a_500() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            api_error(500, "api_error", "Internal server error")
                .insert_header("x-should-retry", "false")
                .insert_header("retry-after-ms", "10"),
        )
        .mount(&server)
        .await;

    let err = client(&server).create_message(&params()).await.unwrap_err();

    assert_eq!(requests(&server).await.len(), 1);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn should_retry_true_overrides_a_400() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            api_error(400, "invalid_request_error", "try again")
                .insert_header("x-should-retry", "true")
                .insert_header("retry-after-ms", "10"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&server)
        .await;

    client(&server).create_message(&params()).await.unwrap();

    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn dropped_connections_are_retried_then_reported() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let server = tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    // One retry keeps the backoff under a second.
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://{addr}"))
        .max_retries(1)
        .build()
        .unwrap();

    let log = Capture::default();
    let guard = log.start();
    let err = client.create_message(&params()).await.unwrap_err();
    drop(guard);
    server.abort();
    let log = log.text();
    assert!(log.contains("reason=error sending request: "), "{log}");

    assert!(err.is_connection(), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), 2);
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert_eq!(err.status(), None);
    assert_eq!(
        err.to_string(),
        format!("connection error sending request to http://{addr}/v1/messages (after 2 attempts)")
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn a_slow_response_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok().set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .timeout(Duration::from_millis(100))
        .max_retries(0)
        .build()
        .unwrap();

    let err = client.create_message(&params()).await.unwrap_err();

    assert!(err.is_timeout(), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), 1);
    assert!(err.to_string().contains("timed out after 100ms"), "{err}");
}

#[tokio::test]
async fn a_non_json_success_body_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("request-id", "req_bad")
                .set_body_string("<html>not json</html>"),
        )
        .mount(&server)
        .await;

    let err = client(&server).create_message(&params()).await.unwrap_err();

    assert_eq!(requests(&server).await.len(), 1);
    assert!(err.is_decode(), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(err.request_id(), Some("req_bad"));
    assert_eq!(err.body(), Some(&b"<html>not json</html>"[..]));
    assert_eq!(
        err.to_string(),
        r#"could not decode 200 response body as a message (request-id req_bad): expected value at line 1 column 1; body: "<html>not json</html>""#
    );
    let source = std::error::Error::source(&err).unwrap();
    assert!(source.to_string().contains("expected value"), "{source}");
}

#[test]
fn builder_errors_are_config_errors() {
    let err = Client::builder().build().unwrap_err();
    assert!(err.is_config());
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");

    let err = Client::builder()
        .api_key(KEY)
        .base_url("not a url")
        .build()
        .unwrap_err();
    assert!(err.is_config());
    assert_eq!(err.to_string(), r#"invalid base URL "not a url""#);
    assert!(std::error::Error::source(&err).is_some());

    let err = Client::builder()
        .api_key(KEY)
        .base_url("ftp://example.com")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("ftp"), "{err}");

    // The first error is kept.
    let err = Client::builder()
        .default_header("bad name", "v")
        .default_header("x-ok", "bad\nvalue")
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), r#"invalid default header name "bad name""#);

    let err = Client::builder()
        .api_key(KEY)
        .default_header("x-ok", "bad\nvalue")
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid value for default header "x-ok""#
    );

    let err = Client::builder().api_key("bad\nkey").build().unwrap_err();
    assert!(err.is_config());
    assert!(!format!("{err} {err:?}").contains("bad\nkey"));
}

#[test]
fn from_env_without_a_key_names_the_variable() {
    // Only read the environment: changing it would race with other tests.
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("ANTHROPIC_API_KEY") || set("ANTHROPIC_AUTH_TOKEN") {
        return;
    }
    let err = Client::from_env().unwrap_err();
    assert!(err.is_config());
    assert_eq!(
        err.to_string(),
        "no credentials: neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is set, \
         and no profile or workload identity federation is configured"
    );
}

#[test]
fn debug_output_never_shows_the_key() {
    let builder = Client::builder()
        .api_key(KEY)
        .default_header("authorization", "Bearer other-secret");
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    let client_debug = format!("{client:?} {client:#?}");
    for debug in [&builder_debug, &client_debug] {
        assert!(!debug.contains(KEY), "{debug}");
        assert!(!debug.contains("other-secret"), "{debug}");
    }
    assert!(client_debug.contains("api.anthropic.com"), "{client_debug}");

    let client = Client::builder()
        .api_key(KEY)
        .base_url("https://user:hunter2@proxy.example")
        .build()
        .unwrap();
    let debug = format!("{client:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("user:redacted@proxy.example"), "{debug}");
}

#[tokio::test]
async fn logs_never_show_the_key_or_bodies() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            api_error(529, "overloaded_error", "Overloaded").insert_header("retry-after-ms", "10"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&server)
        .await;
    let client = client(&server);

    let log = Capture::default();
    let guard = log.start();
    let result = client.create_message(&params()).await;
    drop(guard);
    result.unwrap();

    let log = log.text();
    assert!(!log.contains(KEY), "{log}");
    assert!(!log.contains("What's 2 + 2?"), "{log}");
    assert!(log.contains("model=claude-test"), "{log}");
    assert!(log.contains("attempt=2"), "{log}");
    assert!(log.contains("reason=status 529"), "{log}");
    assert!(log.contains("delay_ms=10"), "{log}");
    assert!(log.contains("request_id=req_ok"), "{log}");
}

#[test]
fn futures_and_errors_can_cross_threads() {
    fn is_send<T: Send>(_: &T) {}
    fn is_send_sync<T: Send + Sync + 'static>() {}
    is_send_sync::<Client>();
    is_send_sync::<toolrunner::Error>();
    let client = Client::builder().api_key(KEY).build().unwrap();
    let params = params();
    is_send(&client.create_message(&params));
}

/// The log lines of this thread while a capture is on, every span field and
/// event field written out.
///
/// A scoped subscriber (`tracing::subscriber::set_default`) would miss
/// events now and then: `tracing` caches each callsite's interest globally,
/// and a callsite first hit by a test on another thread while this one was
/// installing its subscriber could be cached as "never". Instead one
/// global subscriber, installed once for this test binary, answers
/// "sometimes" for every callsite, so that each event is checked as it
/// happens, and keeps those of the threads capturing.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

thread_local! {
    static CAPTURING: std::cell::RefCell<Option<Capture>> = const { std::cell::RefCell::new(None) };
}

/// Ends a capture when dropped.
struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURING.with(|c| c.borrow_mut().take());
    }
}

impl Capture {
    /// Captures this thread's log lines until the guard is dropped. The
    /// tests run on tokio's current-thread runtime, so the client's code
    /// runs on this thread.
    fn start(&self) -> Capturing {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            tracing::subscriber::set_global_default(Forward(AtomicU64::new(0)))
                .expect("no other global subscriber in this test binary");
            tracing::callsite::rebuild_interest_cache();
        });
        CAPTURING.with(|c| *c.borrow_mut() = Some(self.clone()));
        Capturing
    }

    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

/// Writes `f`'s output to the capture of this thread, if any.
fn captured(f: impl FnOnce(&mut String)) {
    CAPTURING.with(|c| {
        if let Some(capture) = c.borrow().as_ref() {
            f(&mut capture.0.lock().unwrap());
        }
    });
}

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        let _ = write!(self.0, "{}={} ", field.name(), value);
    }
}

/// The global subscriber behind [`Capture`].
struct Forward(AtomicU64);

impl tracing::Subscriber for Forward {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        CAPTURING.with(|c| c.borrow().is_some())
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        captured(|log| {
            let _ = write!(log, "\nspan {}: ", span.metadata().name());
            span.record(&mut Fields(log));
        });
        tracing::span::Id::from_u64(self.0.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        captured(|log| {
            log.push_str("\nrecord: ");
            values.record(&mut Fields(log));
        });
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        captured(|log| {
            let _ = write!(log, "\n{}: ", event.metadata().level());
            event.record(&mut Fields(log));
        });
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}
