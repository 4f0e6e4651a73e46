//! [`Client`]: the HTTP client for the Messages API.
//!
//! One request is one call of [`Client::create_message`] (or of
//! [`Client::stream_message`], for a streamed reply); failed attempts are
//! retried with backoff as the official SDKs do (see [`ClientBuilder`] for the
//! knobs). Every request runs in a `messages.create` tracing span that records
//! the model and the attempt; a Messages call made outside a runner runs in a
//! GenAI `chat` span around it (see [`Telemetry`]).

mod batches;
mod builder;
mod call;
mod count_tokens;
mod credentials;
mod files;
mod listing;
mod long_request;
mod middleware;
mod models;
mod options;
mod paging;
mod request;
mod retry;
mod trace_context;
mod version;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use tracing::Instrument;

pub use batches::{BatchResults, Batches, Polling};
pub use builder::ClientBuilder;
#[cfg(any(feature = "vertex", feature = "foundry"))]
pub(crate) use credentials::SharedProvider;
pub(crate) use credentials::TokenCache;
pub use credentials::{AccessToken, TokenError, TokenProvider, TokenRequest, WorkloadIdentity};
pub use files::{Download, FileList, FileUpload, Files, SavedFile, sanitize_filename};
pub use listing::Listing;
use middleware::{Chain, Terminal};
pub use middleware::{Middleware, Next};
pub use models::Models;
pub use options::RequestOptions;
pub(crate) use request::{Request, tool_types};
use retry::RetryPolicy;
pub(crate) use version::rejected_fields;

use crate::error::Error;
use crate::platform::{Feature, MessagesCall, Platform, Refused};
use crate::runner::open_telemetry::Telemetry;
use crate::runner::telemetry::{self, Recording};
use crate::stream::{MessageStream, Sending};
use crate::types::response::Received;
use crate::types::{Message, MessageParam, MessageParams, ResponseMeta};

const ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");

/// A client for the Anthropic Messages API.
///
/// Cheap to clone: clones share one connection pool and configuration.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), toolrunner::Error> {
/// use toolrunner::{Client, MessageParams};
///
/// let client = Client::from_env()?;
/// let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("What's 2 + 2?");
/// let message = client.create_message(&params).await?;
/// println!("{}", message.text());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientRef>,
    /// Settings over the client's own, from [`Client::with_options`].
    options: Option<Arc<RequestOptions>>,
    /// Kept apart from `inner`, so that a client with other settings
    /// shares the connection pool and configuration.
    telemetry: Arc<Telemetry>,
}

struct ClientRef {
    http: reqwest::Client,
    /// Where requests go and how they are authenticated.
    platform: Arc<dyn Platform>,
    /// Headers of every request, credentials aside: version, content type,
    /// user agent, and the default headers.
    headers: HeaderMap,
    default_header_names: Vec<HeaderName>,
    anthropic_version: String,
    timeout: Duration,
    /// How long a streamed body may send nothing.
    stream_idle_timeout: Duration,
    retry: RetryPolicy,
    /// What wraps every attempt, outermost first.
    middleware: Chain,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Client>();
    assert_send_sync::<ClientBuilder>();
    assert_send_sync::<Error>();
};

impl Client {
    /// A client configured from the environment, as the official SDKs do:
    /// the API key from `ANTHROPIC_API_KEY`, or else a bearer token from
    /// `ANTHROPIC_AUTH_TOKEN` (sent as `Authorization: Bearer`, for
    /// gateways); else the profile `ANTHROPIC_PROFILE` names, workload
    /// identity federation (`ANTHROPIC_IDENTITY_TOKEN[_FILE]`,
    /// `ANTHROPIC_FEDERATION_RULE_ID`, `ANTHROPIC_ORGANIZATION_ID`), or the
    /// active profile under `ANTHROPIC_CONFIG_DIR` (`~/.config/anthropic`),
    /// whose tokens are minted, cached and refreshed. The base URL is
    /// `ANTHROPIC_BASE_URL` if it is set, else a profile's `base_url`;
    /// `ANTHROPIC_CUSTOM_HEADERS` adds headers. When both static
    /// credentials are set the key wins, with a warning. Everything else
    /// has its default; see [`ClientBuilder::new`].
    ///
    /// # Errors
    ///
    /// A configuration error ([`Error::is_config`]) when no credential is
    /// found, when a profile that was named or pointed at cannot be used,
    /// or when a variable is invalid.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let client = toolrunner::Client::from_env()?;
    /// # drop(client);
    /// # Ok::<(), toolrunner::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        let client = ClientBuilder::from_env_with(|name| std::env::var_os(name)).build()?;
        Ok(client.with_telemetry(Telemetry::from_env()))
    }

    /// This client with the telemetry settings `telemetry`: what its spans
    /// record, whether its requests carry the trace context, and the
    /// conversation its spans belong to. Shares the connection pool and
    /// everything else with this client.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = toolrunner::Client::builder().api_key("k").build()?;
    /// let per_conversation = client.with_telemetry(client.telemetry().clone().conversation_id("c-42"));
    /// # drop(per_conversation);
    /// # Ok::<(), toolrunner::Error>(())
    /// ```
    pub fn with_telemetry(&self, telemetry: Telemetry) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            options: self.options.clone(),
            telemetry: Arc::new(telemetry),
        }
    }

    /// The client's telemetry settings (see [`Telemetry`]).
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// A builder to configure a client. Unlike [`from_env`](Self::from_env)
    /// it reads nothing from the environment.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = toolrunner::Client::builder().api_key("sk-ant-...").max_retries(0).build()?;
    /// # drop(client);
    /// # Ok::<(), toolrunner::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client that sends every request with `options` over this
    /// client's settings (and over options this client was made with):
    /// the official SDKs' `client.with_options(...)`. It shares the
    /// connection pool, credentials, token cache and middleware; making
    /// one costs an allocation, so one per request is fine.
    ///
    /// # Examples
    ///
    /// One request with a short timeout and no retries, in a workspace:
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use std::time::Duration;
    /// use toolrunner::{MessageParams, RequestOptions};
    ///
    /// let quick = RequestOptions::new()
    ///     .timeout(Duration::from_secs(20))
    ///     .max_retries(0)
    ///     .workspace_id("wrkspc_01");
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 64).user("Quick: yes or no?");
    /// let message = client.with_options(quick).create_message(&params).await?;
    /// # drop(message);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_options(&self, options: RequestOptions) -> Client {
        let options = match &self.options {
            Some(base) => options.over(base),
            None => options,
        };
        Client {
            inner: Arc::clone(&self.inner),
            options: Some(Arc::new(options)),
            telemetry: Arc::clone(&self.telemetry),
        }
    }

    /// Sends `params` to `POST /v1/messages` and returns the model's message.
    ///
    /// Betas in [`MessageParams::betas`] go in the `anthropic-beta` header.
    /// Connection errors, timeouts and retryable statuses are retried as
    /// configured.
    ///
    /// # Errors
    ///
    /// - [`Error::is_api`]: the API answered with an error status; retryable
    ///   ones only once retries are used up.
    /// - [`Error::is_connection`], [`Error::is_timeout`]: no response, on
    ///   the last attempt.
    /// - [`Error::is_decode`]: a success response that is not a message.
    /// - [`Error::is_config`]: a beta name that is not a valid header value.
    /// - [`Error::is_invalid_request`], before sending: what the API version
    ///   rejects (see [`ClientBuilder::anthropic_version`]), or a
    ///   `max_tokens` large enough that the reply may take over 10 minutes
    ///   (above 21,333 tokens, less for some models), which the API only
    ///   answers streamed: use [`stream_message`](Self::stream_message), or
    ///   a [`ToolRunner`](crate::ToolRunner), which streams such turns itself.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use toolrunner::MessageParams;
    ///
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 1024)
    ///     .system("You are terse.")
    ///     .user("Name a prime number.");
    /// let message = client.create_message(&params).await?;
    /// println!("{:?}: {}", message.stop_reason, message.text());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_message(&self, params: &MessageParams) -> Result<Message, Error> {
        let request = Request::from_params(params)?;
        self.in_call_span(&request.model, &params.messages, self.send(&request))
            .await
    }

    /// Runs `call`, a Messages call made outside a run, in its GenAI span:
    /// `input` is what the span may record of it.
    pub(crate) async fn in_call_span(
        &self,
        model: &str,
        input: &[MessageParam],
        call: impl Future<Output = Result<Message, Error>>,
    ) -> Result<Message, Error> {
        let Some(span) = telemetry::call_span(&self.telemetry, model, input) else {
            return call.await;
        };
        let result = call.instrument(span.clone()).await;
        telemetry::record_result(&span, result.as_ref(), Recording::of(&self.telemetry));
        result
    }

    /// Opens the stream of `request` in the GenAI span of a call made
    /// outside a run, which records the reply once the stream has it.
    pub(crate) async fn open_stream_traced(
        &self,
        request: &Request,
        input: &[MessageParam],
    ) -> Result<MessageStream, Error> {
        let Some(span) = telemetry::call_span(&self.telemetry, &request.model, input) else {
            return self.open_stream(request).await;
        };
        let recording = Recording::of(&self.telemetry);
        match self.open_stream(request).instrument(span.clone()).await {
            Ok(mut stream) => {
                stream.on_end(move |result| telemetry::record_result(&span, result, recording));
                Ok(stream)
            }
            Err(error) => {
                telemetry::record_error(&span, &error);
                Err(error)
            }
        }
    }

    /// Sends `params` with `"stream": true` and returns the reply as a
    /// stream of events, once the response's status says it is coming.
    ///
    /// # Errors
    ///
    /// As [`create_message`](Self::create_message), less decoding: the
    /// stream's own errors come from reading it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use futures_util::StreamExt;
    /// use toolrunner::stream::{Delta, StreamEvent};
    /// use toolrunner::MessageParams;
    ///
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("Write a haiku.");
    /// let mut stream = client.stream_message(&params).await?;
    /// while let Some(event) = stream.next().await {
    ///     if let StreamEvent::ContentBlockDelta { delta: Delta::Text(text), .. } = event? {
    ///         print!("{text}");
    ///     }
    /// }
    /// println!("\n[{:?}]", stream.message().await?.stop_reason);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stream_message(&self, params: &MessageParams) -> Result<MessageStream, Error> {
        let request = Request::from_params(params)?;
        self.open_stream_traced(&request, &params.messages).await
    }

    /// Sends `request` and decodes the reply, with retries.
    ///
    /// Errors as [`create_message`](Self::create_message).
    pub(crate) async fn send(&self, request: &Request) -> Result<Message, Error> {
        self.preflight(request)?;
        if long_request::must_stream(&request.model, request.max_tokens) {
            return Err(long_request::streaming_required(
                &request.model,
                request.max_tokens,
            ));
        }
        let span = request_span(&request.model);
        let ((status, headers, body), attempts) = self
            .execute(
                &span,
                request,
                request.body.clone(),
                false,
                Deadline::WholeResponse,
                read_whole,
            )
            .instrument(span.clone())
            .await?;
        let _entered = span.enter();
        tracing::debug!(response_bytes = body.len(), "decoding message");
        let mut message: Message = serde_json::from_slice(&body)
            .map_err(|e| Error::decode(e, status, &headers, &body, attempts))?;
        message.set_response(Arc::new(ResponseMeta::new(status, headers)));
        Ok(message)
    }

    /// Sends `request` and returns the whole reply: streamed when
    /// `max_tokens` is too large for the API to answer without streaming,
    /// so that the caller gets the same [`Message`] either way.
    ///
    /// Errors as [`create_message`](Self::create_message), and those of
    /// reading the stream.
    pub(crate) async fn complete(&self, request: &Request) -> Result<Message, Error> {
        if !long_request::must_stream(&request.model, request.max_tokens) {
            return self.send(request).await;
        }
        tracing::debug!(
            max_tokens = request.max_tokens,
            "streaming a request too long to send without streaming"
        );
        let mut stream = self.open_stream(request).await?;
        stream.message().await.cloned()
    }

    /// Sends `request` for a streamed reply and returns the stream once the
    /// status is a success. Retries cover the status; a body that breaks
    /// off before any event is requested again by the stream itself.
    ///
    /// Errors as [`create_message`](Self::create_message), less decoding.
    pub(crate) async fn open_stream(&self, request: &Request) -> Result<MessageStream, Error> {
        self.preflight(request)?;
        let body = request.streamed_body();
        let response = self.send_raw(request, body.clone()).await?;
        let (client, request) = (self.clone(), Arc::new(request.clone()));
        let resend = move || -> Sending {
            let (client, request, body) = (client.clone(), Arc::clone(&request), body.clone());
            Box::pin(async move { client.send_raw(&request, body).await })
        };
        Ok(MessageStream::new(
            response,
            resend,
            self.max_retries(),
            self.stream_idle_timeout(),
            self.inner.platform.framing(),
        ))
    }

    /// What happens before a Messages request is sent: refusing what the
    /// API version would reject, and warning of a deprecated model.
    fn preflight(&self, request: &Request) -> Result<(), Error> {
        version::check(&self.inner.anthropic_version, &request.rejected)?;
        crate::models::warn_if_deprecated(&request.model);
        Ok(())
    }

    /// Whether the client's platform offers `feature`.
    pub(crate) fn offers(&self, feature: Feature) -> bool {
        self.inner.platform.offers(feature)
    }

    /// The client's platform, for the endpoints it serves.
    pub(crate) fn platform(&self) -> &dyn Platform {
        &*self.inner.platform
    }

    /// The options over the client's settings, if any.
    fn options(&self) -> Option<&RequestOptions> {
        self.options.as_deref()
    }

    /// How many times a failed request is sent again.
    fn max_retries(&self) -> u32 {
        self.options()
            .and_then(|o| o.max_retries)
            .unwrap_or(self.inner.retry.max_retries)
    }

    /// The timeout of each attempt.
    fn timeout(&self) -> Duration {
        self.options()
            .and_then(|o| o.timeout)
            .unwrap_or(self.inner.timeout)
    }

    /// How long a streamed body may send nothing.
    fn stream_idle_timeout(&self) -> Duration {
        self.options()
            .and_then(|o| o.stream_idle_timeout)
            .unwrap_or(self.inner.stream_idle_timeout)
    }

    /// Sends a body and returns the successful response unread.
    async fn send_raw(&self, request: &Request, body: Bytes) -> Result<reqwest::Response, Error> {
        let span = request_span(&request.model);
        let open = async |response| Ok(response);
        self.execute(&span, request, body, true, Deadline::Headers, open)
            .instrument(span.clone())
            .await
            .map(|(response, _)| response)
    }

    /// The retry loop shared by all Messages requests: has the platform
    /// refuse what it lacks and rewrite `request`'s first-party `body`
    /// (`stream` says it asks for a streamed reply; the body is the
    /// request's, streamed or not), then sends it until a response has a success status and
    /// `finish` has read it, or retries run out. Returns what `finish`
    /// made, and the number of attempts. Records the attempt in `span`, the
    /// request's span, which the caller instruments this future with.
    async fn execute<T>(
        &self,
        span: &tracing::Span,
        request: &Request,
        body: Bytes,
        stream: bool,
        deadline: Deadline,
        finish: impl AsyncFn(reqwest::Response) -> Result<T, reqwest::Error>,
    ) -> Result<(T, u32), Error> {
        let inner = &*self.inner;
        let body = self.with_extra_body(body)?;
        let (headers, betas) = self.request_headers(&request.betas)?;
        let call = MessagesCall {
            model: &request.model,
            body: &body,
            stream,
            betas: &betas,
            tool_types: &request.tool_types,
            anthropic_version: &inner.anthropic_version,
            headers: &headers,
        };
        crate::platform::refuse_unoffered(&*inner.platform, &call)?;
        // The platform copies the headers into its request: the one copy
        // of the client's headers a request makes, unless it adds some.
        let platform_request = inner.platform.messages(&call)?;
        let (url, headers, body) = (
            platform_request.url,
            platform_request.headers,
            platform_request.body,
        );
        tracing::debug!(request_bytes = body.len(), "request body");
        // The request is made whole and its header map copied in one
        // piece: `RequestBuilder::headers` would insert the headers one by
        // one, hashing each name again, on every attempt.
        let request = || {
            let mut request = reqwest::Request::new(reqwest::Method::POST, url.clone());
            *request.headers_mut() = headers.clone();
            *request.body_mut() = Some(body.clone().into());
            Ok(reqwest::RequestBuilder::from_parts(
                inner.http.clone(),
                request,
            ))
        };
        self.execute_request_with(span, &url, deadline, request, finish)
            .await
    }

    /// The retry loop itself, for any endpoint: `request` builds each
    /// attempt afresh (a body that streams from a file cannot be sent
    /// twice), and `url` is the one errors name. A JSON body goes through
    /// [`with_extra_body`](Self::with_extra_body) first; a request without
    /// one calls [`refuse_extra_body`](Self::refuse_extra_body).
    async fn execute_request<T>(
        &self,
        span: &tracing::Span,
        url: &Url,
        request: impl Fn() -> Result<reqwest::RequestBuilder, Error>,
        finish: impl AsyncFn(reqwest::Response) -> Result<T, reqwest::Error>,
    ) -> Result<(T, u32), Error> {
        self.execute_request_with(span, url, Deadline::WholeResponse, request, finish)
            .await
    }

    /// `body`, a request's JSON object, with the options' extra body
    /// fields: once per request, before the retry loop.
    ///
    /// # Errors
    ///
    /// An invalid-request error naming a field that conflicts with the
    /// request or the API version.
    pub(crate) fn with_extra_body(&self, body: Bytes) -> Result<Bytes, Error> {
        match self.options() {
            Some(options) => options.add_body(body, &self.inner.anthropic_version),
            None => Ok(body),
        }
    }

    /// Refuses the options' extra body fields for a request to `url`,
    /// which has no JSON body.
    pub(crate) fn refuse_extra_body(&self, url: &Url) -> Result<(), Error> {
        match self.options() {
            Some(options) => options.check_no_body(url.path()),
            None => Ok(()),
        }
    }

    /// The retry loop, with the timeout bounding what `deadline` says.
    /// Each attempt goes through the middleware chain, at whose end the
    /// platform authorizes it.
    async fn execute_request_with<T>(
        &self,
        span: &tracing::Span,
        url: &Url,
        deadline: Deadline,
        request: impl Fn() -> Result<reqwest::RequestBuilder, Error>,
        finish: impl AsyncFn(reqwest::Response) -> Result<T, reqwest::Error>,
    ) -> Result<(T, u32), Error> {
        let inner = &*self.inner;
        let options = self.options();
        if let Some(options) = options {
            options.check()?;
            options.check_query(url)?;
        }
        let timeout = self.timeout();
        let max_attempts = self.max_retries().saturating_add(1);
        let mut attempt = 0;
        // Credentials the platform refused are replaced and the request
        // sent again, once, without counting as a retry.
        let mut reauthorized = false;
        loop {
            attempt += 1;
            span.record("attempt", i64::from(attempt));
            tracing::debug!("sending request");

            let mut builder = request()?;
            if let Deadline::WholeResponse = deadline {
                builder = builder.timeout(timeout);
            }
            let mut http_request = builder
                .build()
                .map_err(|e| self.transport_error(e, url, attempt))?;
            if let Some(options) = options {
                options.add_query(http_request.url_mut());
            }
            if self.telemetry.propagates() {
                trace_context::inject(http_request.headers_mut());
            }
            let terminal = Terminal::new(&inner.http, &*inner.platform);
            let sending = terminal.run(&inner.middleware.0, http_request);
            let retries_left = attempt < max_attempts;
            let sent = match deadline {
                Deadline::WholeResponse => sending.await,
                // reqwest's own timeout would go on bounding the body.
                Deadline::Headers => match tokio::time::timeout(timeout, sending).await {
                    Ok(sent) => sent,
                    Err(_elapsed) if retries_left => {
                        let delay = retry::backoff_delay(attempt);
                        tracing::debug!(
                            attempt,
                            delay_ms = delay.as_millis() as u64,
                            "no response headers in time; retrying request"
                        );
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    Err(_elapsed) => {
                        let url = Some(without_password(url));
                        return Err(Error::timeout(None, url, Some(timeout), attempt));
                    }
                },
            };
            // A middleware's own error, or the platform's, ends the request;
            // a transport error is the HTTP client's, decided on below.
            let sent = match sent {
                Ok(response) => Ok(response),
                Err(e) => Err(e.into_transport()?),
            };

            // Each arm either returns, retries after the delay the
            // response asked for, or says why to retry after backoff.
            let reason = match sent {
                Ok(response) if response.status().is_success() => {
                    let status = response.status();
                    let request_id = request_id(response.headers());
                    match finish(response).await {
                        Ok(done) => {
                            tracing::debug!(
                                %status,
                                request_id = request_id.as_deref().unwrap_or(""),
                                "request succeeded"
                            );
                            return Ok((done, attempt));
                        }
                        Err(e) if retries_left && !e.is_builder() => {
                            Reason::Transport(e.without_url())
                        }
                        Err(e) => return Err(self.transport_error(e, url, attempt)),
                    }
                }
                Ok(response) => {
                    let status = response.status();
                    let response_headers = response.headers().clone();
                    let retryable = retry::should_retry(status, &response_headers);
                    // Read the body even when it is dropped, so the
                    // connection goes back to the pool.
                    let body = response.bytes().await.unwrap_or_default();
                    let sent_headers = terminal.take_sent();
                    let refused = Refused {
                        status,
                        sent: &sent_headers,
                        headers: &response_headers,
                        body: &body,
                    };
                    if !reauthorized && inner.platform.reauthorize(&refused).await {
                        reauthorized = true;
                        attempt -= 1;
                        continue;
                    }
                    let delay = retryable
                        .then(|| inner.retry.delay(attempt, Some(&response_headers), timeout))
                        .flatten();
                    match delay {
                        Some(delay) if retries_left => {
                            log_retry(attempt, delay, &Reason::Status(status));
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        _ => {
                            if retryable && retries_left {
                                tracing::debug!(
                                    %status,
                                    "the server asks to wait longer than the request's timeout; not retrying"
                                );
                            }
                            return Err(Error::api(
                                status,
                                &response_headers,
                                body,
                                attempt,
                                retryable,
                            ));
                        }
                    }
                }
                Err(e) if retries_left && !e.is_builder() => Reason::Transport(e.without_url()),
                Err(e) => return Err(self.transport_error(e, url, attempt)),
            };
            let delay = retry::backoff_delay(attempt);
            log_retry(attempt, delay, &reason);
            tokio::time::sleep(delay).await;
        }
    }

    /// The headers of one request: the client's, those of the options,
    /// and `anthropic-beta` with the request's betas and the options' merged
    /// into any default ones; and all those betas, for platforms that send
    /// them elsewhere. The client's own map, uncloned, when nothing is
    /// added to it.
    fn request_headers(
        &self,
        betas: &[String],
    ) -> Result<(Cow<'_, HeaderMap>, Vec<String>), Error> {
        let options = self.options().map(|o| &o.headers).filter(|h| !h.is_empty());
        let option_betas = options.map(|h| h.get_all(&ANTHROPIC_BETA));
        let added_betas = !betas.is_empty()
            || option_betas
                .as_ref()
                .is_some_and(|b| b.iter().next().is_some());
        let mut all: Vec<&str> = Vec::new();
        let defaults = self.inner.headers.get_all(&ANTHROPIC_BETA);
        let names = defaults
            .iter()
            .chain(option_betas.iter().flat_map(|b| b.iter()))
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .chain(betas.iter().map(String::as_str))
            .map(str::trim);
        for name in names {
            if !name.is_empty() && !all.contains(&name) {
                all.push(name);
            }
        }
        let all: Vec<String> = all.into_iter().map(str::to_owned).collect();
        if !added_betas && options.is_none() {
            return Ok((Cow::Borrowed(&self.inner.headers), all));
        }
        let mut headers = self.inner.headers.clone();
        for (name, value) in options.into_iter().flatten() {
            if name != ANTHROPIC_BETA {
                headers.insert(name.clone(), value.clone());
            }
        }
        if added_betas {
            let joined = all.join(",");
            let value = HeaderValue::from_str(&joined)
                .map_err(|e| Error::config_with(format!("invalid beta names {joined:?}"), e))?;
            headers.insert(ANTHROPIC_BETA, value);
        }
        Ok((Cow::Owned(headers), all))
    }

    fn transport_error(&self, e: reqwest::Error, url: &Url, attempts: u32) -> Error {
        let url = Some(without_password(url));
        if e.is_timeout() {
            // A connect timeout is the HTTP client's, not the request's.
            let after = (!e.is_connect()).then_some(self.timeout());
            Error::timeout(Some(e.without_url().into()), url, after, attempts)
        } else if e.is_builder() {
            Error::config_with("could not build the HTTP request", e.without_url())
        } else {
            Error::connection(e, url, attempts)
        }
    }
}

impl fmt::Debug for Client {
    /// Shows the configuration; never the API key or default header values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Client")
            .field("platform", &inner.platform)
            .field("anthropic_version", &inner.anthropic_version)
            .field("default_headers", &inner.default_header_names)
            .field("timeout", &inner.timeout)
            .field("stream_idle_timeout", &inner.stream_idle_timeout)
            .field("max_retries", &inner.retry.max_retries)
            .field("middleware", &inner.middleware)
            .field("options", &self.options)
            .finish()
    }
}

/// What a request's timeout bounds.
#[derive(Clone, Copy, Debug)]
enum Deadline {
    /// Sending the request and reading the whole response.
    WholeResponse,
    /// Sending the request and receiving the response's headers: a streamed
    /// body is bounded by the stream's idle timeout instead, since a long
    /// generation may stream for longer than any fixed limit.
    Headers,
}

/// Why an attempt is retried, for the log.
enum Reason {
    Status(StatusCode),
    Transport(reqwest::Error),
}

impl fmt::Display for Reason {
    /// The status, or the error with its sources: reqwest's own message
    /// alone ("error sending request") says little.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Status(status) => write!(f, "status {}", status.as_u16()),
            Reason::Transport(e) => {
                write!(f, "{e}")?;
                let mut source = std::error::Error::source(e);
                while let Some(e) = source {
                    write!(f, ": {e}")?;
                    source = e.source();
                }
                Ok(())
            }
        }
    }
}

/// `url` with any password replaced, for errors and `Debug`.
pub(crate) fn without_password(url: &Url) -> Url {
    let mut url = url.clone();
    if url.password().is_some() {
        // Cannot fail: the URL has a password, so it can have one.
        let _ = url.set_password(Some("redacted"));
    }
    url
}

/// A URL as `Debug` output shows it: with any password replaced, as
/// [`without_password`] does. A string that does not parse as a URL is
/// not shown at all, since it may hold a password all the same.
pub(crate) struct ShownUrl<'a>(pub(crate) &'a str);

impl fmt::Debug for ShownUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Url::parse(self.0) {
            Ok(url) => fmt::Debug::fmt(without_password(&url).as_str(), f),
            Err(_) => f.write_str("<not a URL>"),
        }
    }
}

/// Logs that attempt number `attempt` is retried after `delay`.
fn log_retry(attempt: u32, delay: Duration, reason: &Reason) {
    tracing::debug!(
        attempt,
        delay_ms = delay.as_millis() as u64,
        %reason,
        "retrying request"
    );
}

/// A whole response: its status, headers and body, for decoding once the
/// retry loop is done with it.
pub(crate) async fn read_whole(
    mut response: reqwest::Response,
) -> Result<(StatusCode, HeaderMap, Bytes), reqwest::Error> {
    let status = response.status();
    // Taken rather than copied: reading the body needs none of them
    // (reqwest chose its decoder when the response came).
    let headers = std::mem::take(response.headers_mut());
    let body = response.bytes().await?;
    Ok((status, headers, body))
}

fn request_span(model: &str) -> tracing::Span {
    tracing::info_span!("messages.create", model, attempt = tracing::field::Empty)
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers.get("request-id")?.to_str().ok().map(str::to_owned)
}

#[allow(dead_code, reason = "documents that request futures can be spawned")]
fn assert_futures_are_send(client: &Client, params: &MessageParams) {
    fn is_send<T: Send>(_: &T) {}
    is_send(&client.create_message(params));
    is_send(&client.stream_message(params));
    if let Ok(request) = Request::from_params(params) {
        is_send(&client.send_raw(&request, Bytes::new()));
    }
}

#[cfg(test)]
impl Client {
    /// The headers a Messages request carries once authorized.
    pub(crate) fn authorized_headers(&self) -> HeaderMap {
        let inner = &*self.inner;
        let mut request = inner
            .http
            .post(self.messages_url())
            .headers(inner.headers.clone())
            .build()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(inner.platform.authorize(&inner.http, &mut request))
            .unwrap();
        request.headers().clone()
    }

    /// Where a plain Messages request goes.
    pub(crate) fn messages_url(&self) -> Url {
        let inner = &*self.inner;
        let call = MessagesCall {
            model: "m",
            body: &Bytes::from_static(br#"{"model":"m"}"#),
            stream: false,
            betas: &[],
            tool_types: &[],
            anthropic_version: &inner.anthropic_version,
            headers: &inner.headers,
        };
        inner.platform.messages(&call).unwrap().url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn betas_are_joined_deduplicated_and_merged() {
        let client = Client::builder()
            .api_key("k")
            .default_header("anthropic-beta", "a, b")
            .build()
            .unwrap();
        let (headers, betas) = client
            .request_headers(&["b".into(), "c".into(), "c".into()])
            .unwrap();
        assert_eq!(headers[ANTHROPIC_BETA], "a,b,c");
        assert_eq!(betas, ["a", "b", "c"]);
        let (headers, betas) = client.request_headers(&[]).unwrap();
        assert_eq!(headers[ANTHROPIC_BETA], "a, b");
        assert_eq!(betas, ["a", "b"]);
    }
}
