//! The crate's error type: [`Error`].
//!
//! One type for everything that can go wrong talking to the API, in the
//! style of `reqwest::Error`: the details live behind a private kind, and
//! callers ask with `is_*()` predicates and accessors. New kinds can be added
//! without breaking anyone.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::Url;
use reqwest::header::HeaderMap;

use api_body::{ErrorShape, request_id_of, snippet};

mod api_body;
mod display;

type BoxError = Box<dyn StdError + Send + Sync>;

/// How many characters of a response body a [`Error::is_decode`] error
/// keeps, and an API error without a message shows.
const SNIPPET_CHARS: usize = 200;

/// An error from the client or the API.
///
/// Ask what went wrong with the `is_*()` predicates and the accessors; the
/// [`Display`](fmt::Display) form is one line, fit for a log, and
/// [`source()`](StdError::source) leads to the underlying error when there
/// is one.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), toolrunner::Error> {
/// use toolrunner::{Client, MessageParams};
///
/// let client = Client::from_env()?;
/// let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("Hello");
/// match client.create_message(&params).await {
///     Ok(message) => println!("{}", message.text()),
///     Err(e) if e.is_api() && e.status().is_some_and(|s| s.as_u16() == 400) => {
///         eprintln!("bad request: {}", e.api_message().unwrap_or_default());
///     }
///     Err(e) => return Err(e),
/// }
/// # Ok(())
/// # }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    source: Option<BoxError>,
    /// HTTP attempts made, retries included; 0 when no request was sent.
    attempts: u32,
}

enum Kind {
    /// The API answered with a non-success status.
    Api(Box<ApiError>),
    /// The request could not be sent or its response not read.
    Connection { url: Option<Url> },
    /// The request took longer than the client's timeout.
    Timeout {
        url: Option<Url>,
        after: Option<Duration>,
    },
    /// A success response whose body is not a valid message.
    Decode {
        status: StatusCode,
        request_id: Option<String>,
        snippet: String,
        /// What the body should have been, e.g. "a message".
        expected: &'static str,
    },
    /// The client's configuration is invalid.
    Config { message: String },
    /// The request body could not be serialized.
    Encode,
    /// The tool runner sent as many requests as it was allowed.
    MaxIterations { limit: usize },
    /// The request breaks a rule of the API; caught before sending.
    InvalidRequest { message: String },
    /// The client's platform does not offer what the request needs;
    /// caught before sending.
    Unsupported {
        platform: &'static str,
        feature: String,
        /// What to do instead, when there is something.
        advice: Option<String>,
    },
    /// The code-execution container is gone (expired), or a request that
    /// needed one did not name it.
    ContainerExpired { container_id: Option<String> },
    /// The API sent an `error` event in the middle of a streamed response.
    StreamError { error_type: String, message: String },
    /// A streamed response broke off or made no sense (cut before
    /// `message_stop`, malformed events, tool input that is not JSON).
    StreamBroken { reason: String },
    /// A file's download broke off before its last byte.
    DownloadIncomplete {
        file_id: String,
        received: u64,
        expected: Option<u64>,
    },
    /// Reading or writing a local file failed.
    Io { action: &'static str, path: PathBuf },
    /// The model's final answer did not parse into the type asked for.
    Parse { text: String, path: String },
    /// A run state that cannot be used: another format version, or an
    /// approval for a call that is not waiting for one.
    RunState { message: String },
    /// A run store could not load, save or delete a run's state.
    Store { message: String },
    /// A batch runner's run could not go on: its request in a batch
    /// errored, expired or had no result, more times than it may be retried.
    BatchRun { message: String },
    /// A batch had not ended: when its results were asked for, or when a
    /// wait for it ran out of time.
    BatchNotEnded {
        batch_id: String,
        status: &'static str,
        waited: Option<Duration>,
    },
    /// A batch's results are no longer available (archived).
    BatchExpired {
        batch_id: String,
        archived_at: Option<String>,
    },
    /// A line of a batch's results that cannot be used: not JSON, not a
    /// result, or a result for a request the batch did not have.
    BatchResults {
        batch_id: String,
        line: u64,
        reason: String,
    },
    /// A tool runner stopped with calls a hook deferred, waiting for a
    /// human; the state is the run's, to decide on and resume.
    AwaitingApproval {
        pending: Vec<crate::PendingCall>,
        state: Box<crate::RunState>,
    },
    /// A client middleware failed the request.
    Middleware,
    /// The HTTP client's error for one attempt, on its way back through
    /// the middleware chain to the retry loop, which decides what it is.
    Transport,
}

struct ApiError {
    status: StatusCode,
    error_type: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    body: Bytes,
    retryable: bool,
    /// `error.details.error_code`, such as `file_expired`.
    error_code: Option<String>,
    /// The file the request was about, for Files API requests.
    file_id: Option<String>,
}

impl Error {
    fn new(kind: Kind, source: Option<BoxError>, attempts: u32) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                source,
                attempts,
            }),
        }
    }

    /// An error response from the API. `retryable` says whether the retry
    /// policy would have retried it, had it attempts left.
    pub(crate) fn api(
        status: StatusCode,
        headers: &HeaderMap,
        body: Bytes,
        attempts: u32,
        retryable: bool,
    ) -> Self {
        let shape = ErrorShape::of(headers, &body);
        let (error_type, message, error_code, body_request_id) = (
            shape.error_type,
            shape.message,
            shape.error_code,
            shape.request_id,
        );
        let request_id = request_id_of(headers).or(body_request_id);
        let api = ApiError {
            status,
            error_type,
            message,
            request_id,
            body,
            retryable,
            error_code,
            file_id: None,
        };
        Error::new(Kind::Api(Box::new(api)), None, attempts)
    }

    /// Names the file a Files API error is about, so that a 404 reads as a
    /// missing (or expired) file rather than a bad URL.
    pub(crate) fn with_file_id(mut self, file_id: &str) -> Self {
        if let Kind::Api(api) = &mut self.inner.kind {
            api.file_id = Some(file_id.to_owned());
        }
        self
    }

    /// A download that broke off after `received` bytes of `expected`.
    pub(crate) fn download_incomplete(
        file_id: &str,
        received: u64,
        expected: Option<u64>,
        source: Option<BoxError>,
    ) -> Self {
        let kind = Kind::DownloadIncomplete {
            file_id: file_id.to_owned(),
            received,
            expected,
        };
        Error::new(kind, source, 1)
    }

    /// A local file operation (`action`, such as "write") on `path` failed.
    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        let kind = Kind::Io {
            action,
            path: path.to_owned(),
        };
        Error::new(kind, Some(source.into()), 0)
    }

    /// Whether the Files API has no file by this id (404), or it belongs to
    /// someone else. [`file_id`](Self::file_id) names it. An expired file
    /// is [`is_file_expired`](Self::is_file_expired) instead.
    pub fn is_file_not_found(&self) -> bool {
        match &self.inner.kind {
            Kind::Api(api) => {
                api.file_id.is_some()
                    && api.status == StatusCode::NOT_FOUND
                    && api.error_code.as_deref() != Some("file_expired")
            }
            _ => false,
        }
    }

    /// Whether the file has expired: its `expires_at` has passed and its
    /// content is gone for good (the API's `file_expired` error code).
    pub fn is_file_expired(&self) -> bool {
        match &self.inner.kind {
            Kind::Api(api) => api.error_code.as_deref() == Some("file_expired"),
            _ => false,
        }
    }

    /// Whether the file cannot be downloaded: only files the container
    /// wrote can be (the API's `file_not_downloadable` error code).
    pub fn is_file_not_downloadable(&self) -> bool {
        match &self.inner.kind {
            Kind::Api(api) => api.error_code.as_deref() == Some("file_not_downloadable"),
            _ => false,
        }
    }

    /// Whether a download broke off before its end. Nothing is left on
    /// disk; [`bytes_received`](Self::bytes_received) says how far it got.
    /// Downloading again may succeed.
    pub fn is_download_incomplete(&self) -> bool {
        matches!(self.inner.kind, Kind::DownloadIncomplete { .. })
    }

    /// How many bytes of an incomplete download arrived.
    pub fn bytes_received(&self) -> Option<u64> {
        match &self.inner.kind {
            Kind::DownloadIncomplete { received, .. } => Some(*received),
            _ => None,
        }
    }

    /// Whether reading or writing a local file failed; [`path`](Self::path)
    /// names it and [`source()`](StdError::source) is the `io::Error`.
    pub fn is_io(&self) -> bool {
        matches!(self.inner.kind, Kind::Io { .. })
    }

    /// The local file of an [`is_io`](Self::is_io) error.
    pub fn path(&self) -> Option<&Path> {
        match &self.inner.kind {
            Kind::Io { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The Files API file an error is about: a missing, expired or
    /// undownloadable file, an incomplete download, or any other API error
    /// of a request about one file.
    pub fn file_id(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Api(api) => api.file_id.as_deref(),
            Kind::DownloadIncomplete { file_id, .. } => Some(file_id),
            _ => None,
        }
    }

    /// A failure to send the request or read its response.
    pub(crate) fn connection(source: reqwest::Error, url: Option<Url>, attempts: u32) -> Self {
        // The URL is shown by this error; keep it out of the source's text.
        let source = source.without_url();
        Error::new(Kind::Connection { url }, Some(source.into()), attempts)
    }

    /// A request that ran into the client's timeout.
    pub(crate) fn timeout(
        source: Option<BoxError>,
        url: Option<Url>,
        after: Option<Duration>,
        attempts: u32,
    ) -> Self {
        Error::new(Kind::Timeout { url, after }, source, attempts)
    }

    /// A success response whose body is not a valid message.
    pub(crate) fn decode(
        source: serde_json::Error,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        attempts: u32,
    ) -> Self {
        let kind = Kind::Decode {
            status,
            request_id: request_id_of(headers),
            snippet: snippet(body),
            expected: "a message",
        };
        Error::new(kind, Some(source.into()), attempts)
    }

    /// Says what a decode error's body should have been, when not a message.
    pub(crate) fn expecting(mut self, what: &'static str) -> Self {
        if let Kind::Decode { expected, .. } = &mut self.inner.kind {
            *expected = what;
        }
        self
    }

    /// An invalid configuration, described by `message`.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        let message = message.into();
        Error::new(Kind::Config { message }, None, 0)
    }

    /// An invalid configuration, with the error that revealed it.
    pub(crate) fn config_with(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        let message = message.into();
        Error::new(Kind::Config { message }, Some(source.into()), 0)
    }

    /// A request body that could not be serialized.
    pub(crate) fn encode(source: serde_json::Error) -> Self {
        Error::new(Kind::Encode, Some(source.into()), 0)
    }

    /// The tool runner reached its iteration limit.
    pub(crate) fn max_iterations(limit: usize) -> Self {
        Error::new(Kind::MaxIterations { limit }, None, 0)
    }

    /// An `error` event in a streamed response.
    pub(crate) fn stream_error(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Error::new(
            Kind::StreamError {
                error_type: error_type.into(),
                message: message.into(),
            },
            None,
            1,
        )
    }

    /// A streamed response that broke off or made no sense.
    pub(crate) fn stream_broken(reason: impl Into<String>) -> Self {
        Error::new(
            Kind::StreamBroken {
                reason: reason.into(),
            },
            None,
            1,
        )
    }

    /// Whether the API sent an `error` event in the middle of a streamed
    /// response; [`api_error_type`](Self::api_error_type) and
    /// [`api_message`](Self::api_message) say what it was.
    pub fn is_stream_error(&self) -> bool {
        matches!(self.inner.kind, Kind::StreamError { .. })
    }

    /// Whether a streamed response broke off before `message_stop`, or
    /// could not be read. Sending the request again may succeed.
    pub fn is_stream_broken(&self) -> bool {
        matches!(self.inner.kind, Kind::StreamBroken { .. })
    }

    /// A [`Middleware`](crate::Middleware)'s own failure, with its cause:
    /// the request fails with it, without a retry.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = toolrunner::Error::middleware("the request signer is offline");
    /// assert!(error.is_middleware());
    /// assert_eq!(error.to_string(), "middleware failed: the request signer is offline");
    /// ```
    pub fn middleware(source: impl Into<BoxError>) -> Self {
        Error::new(Kind::Middleware, Some(source.into()), 0)
    }

    /// Whether a [`Middleware`](crate::Middleware) failed the request.
    pub fn is_middleware(&self) -> bool {
        matches!(self.inner.kind, Kind::Middleware)
    }

    /// An attempt's transport error, for the retry loop to classify.
    pub(crate) fn transport(source: reqwest::Error) -> Self {
        Error::new(Kind::Transport, Some(source.into()), 0)
    }

    /// The transport error this carries, or the error itself.
    pub(crate) fn into_transport(self) -> Result<reqwest::Error, Error> {
        if !matches!(self.inner.kind, Kind::Transport) {
            return Err(self);
        }
        let mut inner = self.inner;
        match inner.source.take().map(|s| s.downcast::<reqwest::Error>()) {
            Some(Ok(e)) => Ok(*e),
            Some(Err(source)) => {
                inner.source = Some(source);
                Err(Error { inner })
            }
            None => Err(Error { inner }),
        }
    }

    /// A request the API would reject, caught before sending.
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Error::new(
            Kind::InvalidRequest {
                message: message.into(),
            },
            None,
            0,
        )
    }

    /// Batch `batch_id` is `status`, not ended; `waited` is how long a
    /// wait for it lasted, if one did.
    pub(crate) fn batch_not_ended(
        batch_id: &str,
        status: &'static str,
        waited: Option<Duration>,
        attempts: u32,
    ) -> Self {
        let kind = Kind::BatchNotEnded {
            batch_id: batch_id.to_owned(),
            status,
            waited,
        };
        Error::new(kind, None, attempts)
    }

    /// Batch `batch_id`'s results were archived at `archived_at`.
    pub(crate) fn batch_expired(batch_id: &str, archived_at: Option<String>) -> Self {
        let kind = Kind::BatchExpired {
            batch_id: batch_id.to_owned(),
            archived_at,
        };
        Error::new(kind, None, 1)
    }

    /// Line `line` (from 1) of batch `batch_id`'s results cannot be used.
    pub(crate) fn batch_results(
        batch_id: &str,
        line: u64,
        reason: impl Into<String>,
        source: Option<BoxError>,
    ) -> Self {
        let kind = Kind::BatchResults {
            batch_id: batch_id.to_owned(),
            line,
            reason: reason.into(),
        };
        Error::new(kind, source, 1)
    }

    /// `feature` is not offered on `platform`, caught before sending.
    pub(crate) fn unsupported(platform: &'static str, feature: impl Into<String>) -> Self {
        let feature = feature.into();
        let kind = Kind::Unsupported {
            platform,
            feature,
            advice: None,
        };
        Error::new(kind, None, 0)
    }

    /// As [`unsupported`](Self::unsupported), saying what to do instead.
    pub(crate) fn unsupported_with_advice(
        platform: &'static str,
        feature: impl Into<String>,
        advice: impl Into<String>,
    ) -> Self {
        let kind = Kind::Unsupported {
            platform,
            feature: feature.into(),
            advice: Some(advice.into()),
        };
        Error::new(kind, None, 0)
    }

    /// The container `container_id` expired or is missing; `source` is the
    /// API's answer, when there was one.
    pub(crate) fn container_expired(container_id: Option<String>, source: Option<Error>) -> Self {
        let attempts = source.as_ref().map_or(0, Error::attempts);
        Error::new(
            Kind::ContainerExpired { container_id },
            source.map(|e| Box::new(e) as BoxError),
            attempts,
        )
    }

    /// The final answer `text` did not parse; `path` is where, `source` why.
    pub(crate) fn parse(text: String, path: String, source: serde_json::Error) -> Self {
        Error::new(Kind::Parse { text, path }, Some(Box::new(source)), 0)
    }

    /// A run stopped with the calls `pending` waiting for approval, in
    /// `state`.
    pub(crate) fn awaiting_approval(
        pending: Vec<crate::PendingCall>,
        state: crate::RunState,
    ) -> Self {
        let state = Box::new(state);
        Error::new(Kind::AwaitingApproval { pending, state }, None, 0)
    }

    /// A run state that cannot be used, saying why.
    pub(crate) fn run_state(message: impl Into<String>) -> Self {
        let kind = Kind::RunState {
            message: message.into(),
        };
        Error::new(kind, None, 0)
    }

    /// A [`RunStore`](crate::RunStore) failed: `message` says what it was
    /// doing (lower-case, naming the run), `source` why. For stores of your
    /// own.
    ///
    /// ```
    /// let cause = std::io::Error::other("connection refused");
    /// let e = toolrunner::Error::store("could not save run `order-7`", cause);
    /// assert!(e.is_store());
    /// assert_eq!(e.to_string(), "could not save run `order-7`");
    /// ```
    pub fn store(
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        let kind = Kind::Store {
            message: message.into(),
        };
        Error::new(kind, Some(source.into()), 0)
    }

    /// A batch runner's run that could not go on, saying why.
    pub(crate) fn batch(message: impl Into<String>) -> Self {
        let kind = Kind::BatchRun {
            message: message.into(),
        };
        Error::new(kind, None, 0)
    }

    /// Whether a [`BatchRunner`](crate::BatchRunner) could not carry a run
    /// on: its request in a batch errored, expired or came back without a
    /// result, more times in a row than it may be retried
    /// ([`BatchRunner::max_retries`](crate::BatchRunner::max_retries)). The
    /// message names the request and its batch, and for an errored one
    /// the API's error type and message.
    pub fn is_batch_run(&self) -> bool {
        matches!(self.inner.kind, Kind::BatchRun { .. })
    }

    /// Whether a run state could not be used: it was written in another
    /// format version, or it was asked to approve or deny a call that is
    /// not waiting for approval. The message names the versions or the call.
    pub fn is_run_state(&self) -> bool {
        matches!(self.inner.kind, Kind::RunState { .. })
    }

    /// Whether a tool runner's [`until_done`](crate::ToolRunner::until_done)
    /// stopped short of the model's answer because calls a before-call
    /// hook deferred ([`Decision::Defer`](crate::Decision::Defer)) wait for
    /// a human. The calls are in [`pending_approvals`](Self::pending_approvals);
    /// the run's state, to approve or deny them on and resume with
    /// [`Client::resume`](crate::Client::resume), is
    /// [`approval_state`](Self::approval_state).
    ///
    /// ```no_run
    /// # use toolrunner::{toolset, Client, Decision, MessageParams, PendingCall};
    /// # async fn f(client: Client, params: MessageParams) -> Result<(), toolrunner::Error> {
    /// let runner = client
    ///     .tool_runner(params, toolset![])
    ///     .before_tool_call(|call: PendingCall| async move {
    ///         if call.name == "refund" { Decision::Defer } else { Decision::Allow }
    ///     });
    /// match runner.until_done().await {
    ///     Ok(answer) => println!("{}", answer.text()),
    ///     Err(e) if e.is_awaiting_approval() => {
    ///         let mut state = e.approval_state().cloned().expect("a state");
    ///         for call in e.pending_approvals() {
    ///             state.approve(&call.id)?; // a human said yes
    ///         }
    ///         let answer = client.resume(state, toolset![])?.until_done().await?;
    ///         println!("{}", answer.text());
    ///     }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn is_awaiting_approval(&self) -> bool {
        matches!(self.inner.kind, Kind::AwaitingApproval { .. })
    }

    /// The calls waiting for approval, in call order, for an
    /// [`is_awaiting_approval`](Self::is_awaiting_approval) error; empty
    /// for any other.
    pub fn pending_approvals(&self) -> &[crate::PendingCall] {
        match &self.inner.kind {
            Kind::AwaitingApproval { pending, .. } => pending,
            _ => &[],
        }
    }

    /// The stopped run's state, for an
    /// [`is_awaiting_approval`](Self::is_awaiting_approval) error: approve
    /// or deny its calls ([`RunState::approve`](crate::RunState::approve),
    /// [`RunState::deny`](crate::RunState::deny)) and resume it.
    pub fn approval_state(&self) -> Option<&crate::RunState> {
        match &self.inner.kind {
            Kind::AwaitingApproval { state, .. } => Some(state),
            _ => None,
        }
    }

    /// Whether a [`RunStore`](crate::RunStore) failed to load, save or
    /// delete a run (a [`FileStore`](crate::FileStore)'s I/O errors are
    /// [`is_io`](Self::is_io) instead, with the path).
    pub fn is_store(&self) -> bool {
        matches!(self.inner.kind, Kind::Store { .. })
    }

    /// Whether the model's final answer did not parse into the type asked
    /// for (see [`ToolRunner::until_done_parsed`](crate::ToolRunner::until_done_parsed)).
    pub fn is_parse(&self) -> bool {
        matches!(self.inner.kind, Kind::Parse { .. })
    }

    /// The answer that did not parse, for a parse error.
    pub fn parse_text(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Parse { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Where the answer stopped parsing, as a field path such as
    /// `city.forecast[2].kind` (`.` for the whole answer), for a parse error.
    pub fn parse_path(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Parse { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Whether the request was refused before sending because the API would
    /// reject it (for example, `strict` on a tool callable from code).
    pub fn is_invalid_request(&self) -> bool {
        matches!(self.inner.kind, Kind::InvalidRequest { .. })
    }

    /// Whether the request was refused before sending because the client's
    /// platform (Amazon Bedrock, say) does not offer what it needs: the
    /// Files API, token counting, a beta. The message names the platform
    /// and the feature.
    pub fn is_unsupported(&self) -> bool {
        matches!(self.inner.kind, Kind::Unsupported { .. })
    }

    /// Whether the code-execution container expired (or a request that
    /// needed one did not name it). The conversation cannot go on in that
    /// container: start again without it, for example from
    /// [`ToolRunner::params`](crate::ToolRunner::params) with
    /// `container` set to `None`.
    pub fn is_container_expired(&self) -> bool {
        matches!(self.inner.kind, Kind::ContainerExpired { .. })
    }

    /// The id of the expired container, when known.
    pub fn container_id(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::ContainerExpired { container_id } => container_id.as_deref(),
            _ => None,
        }
    }

    /// Whether a Message Batch had not ended: its results were asked for
    /// too early, or [`Batches::wait`](crate::Batches::wait) ran out of
    /// time. [`batch_id`](Self::batch_id) names it.
    pub fn is_batch_not_ended(&self) -> bool {
        matches!(self.inner.kind, Kind::BatchNotEnded { .. })
    }

    /// Whether a Message Batch's results are no longer available: the batch
    /// was archived (results are kept for 29 days after creation).
    pub fn is_batch_expired(&self) -> bool {
        matches!(self.inner.kind, Kind::BatchExpired { .. })
    }

    /// Whether a line of a Message Batch's results could not be used: not
    /// JSON, not a result, or a result for a request the batch did not
    /// have. [`line`](Self::line) says which line.
    pub fn is_batch_results(&self) -> bool {
        matches!(self.inner.kind, Kind::BatchResults { .. })
    }

    /// The Message Batch a batch error is about.
    pub fn batch_id(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::BatchNotEnded { batch_id, .. }
            | Kind::BatchExpired { batch_id, .. }
            | Kind::BatchResults { batch_id, .. } => Some(batch_id),
            _ => None,
        }
    }

    /// The line (from 1) of a batch's results that an
    /// [`is_batch_results`](Self::is_batch_results) error is about.
    pub fn line(&self) -> Option<u64> {
        match &self.inner.kind {
            Kind::BatchResults { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// Whether a tool runner stopped because it reached its
    /// [`max_iterations`](crate::ToolRunner::max_iterations) limit.
    pub fn is_max_iterations(&self) -> bool {
        matches!(self.inner.kind, Kind::MaxIterations { .. })
    }

    /// Whether the API answered with an error status (4xx or 5xx).
    pub fn is_api(&self) -> bool {
        matches!(self.inner.kind, Kind::Api(_))
    }

    /// Whether the request could not be sent or its response not read,
    /// including connections the server dropped.
    pub fn is_connection(&self) -> bool {
        matches!(self.inner.kind, Kind::Connection { .. })
    }

    /// Whether the request ran into the client's timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self.inner.kind, Kind::Timeout { .. })
    }

    /// Whether a success response's body was not a valid message (or, for
    /// the Files API, not the JSON it answers with).
    pub fn is_decode(&self) -> bool {
        matches!(self.inner.kind, Kind::Decode { .. })
    }

    /// Whether the client's configuration is invalid: a missing API key, a
    /// bad base URL or header.
    pub fn is_config(&self) -> bool {
        matches!(self.inner.kind, Kind::Config { .. })
    }

    /// Whether sending the same request again may succeed: connection
    /// errors, timeouts, and API errors the retry policy retries (408, 409,
    /// 429, 5xx, or as the `x-should-retry` header said).
    ///
    /// The client has already retried such errors as often as it was
    /// configured to; see [`attempts`](Self::attempts).
    pub fn is_retryable(&self) -> bool {
        match &self.inner.kind {
            Kind::Api(api) => api.retryable,
            Kind::Connection { .. }
            | Kind::Timeout { .. }
            | Kind::StreamBroken { .. }
            | Kind::DownloadIncomplete { .. }
            | Kind::BatchNotEnded { .. }
            | Kind::Store { .. } => true,
            // A request that expired may be processed in another batch;
            // a batch that did not end may yet.
            Kind::BatchRun { .. } => true,
            Kind::StreamError { error_type, .. } => {
                // The API's retryable types, and the exceptions AWS
                // event streams name for the same conditions.
                matches!(
                    error_type.as_str(),
                    "overloaded_error"
                        | "api_error"
                        | "rate_limit_error"
                        | "throttlingException"
                        | "internalServerException"
                        | "serviceUnavailableException"
                )
            }
            Kind::Decode { .. }
            | Kind::Config { .. }
            | Kind::Encode
            | Kind::MaxIterations { .. }
            | Kind::InvalidRequest { .. }
            | Kind::Unsupported { .. }
            | Kind::ContainerExpired { .. }
            | Kind::BatchExpired { .. }
            | Kind::BatchResults { .. }
            | Kind::Io { .. }
            | Kind::RunState { .. }
            | Kind::Parse { .. }
            | Kind::Middleware
            | Kind::AwaitingApproval { .. } => false,
            Kind::Transport => true,
        }
    }

    /// The HTTP status of an API or decode error.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.inner.kind {
            Kind::Api(api) => Some(api.status),
            Kind::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `request-id` the API gave the failed request; quote it when
    /// reporting a problem to Anthropic.
    pub fn request_id(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Api(api) => api.request_id.as_deref(),
            Kind::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The API's error type, such as `invalid_request_error` or
    /// `overloaded_error`.
    pub fn api_error_type(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Api(api) => api.error_type.as_deref(),
            Kind::StreamError { error_type, .. } => Some(error_type),
            _ => None,
        }
    }

    /// The API's error message, such as `messages: field required`.
    pub fn api_message(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Api(api) => api.message.as_deref(),
            Kind::StreamError { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The response body: all of it for an API error, the first 200
    /// characters for a decode error.
    pub fn body(&self) -> Option<&[u8]> {
        match &self.inner.kind {
            Kind::Api(api) => Some(&api.body),
            Kind::Decode { snippet, .. } => Some(snippet.as_bytes()),
            _ => None,
        }
    }

    /// How many HTTP requests were made, retries included; 0 when the error
    /// came before any request was sent.
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// Writes `(after N attempts, request-id R)`, or the parts that apply.
    fn fmt_context(&self, f: &mut fmt::Formatter<'_>, request_id: Option<&str>) -> fmt::Result {
        let attempts = self.inner.attempts;
        match (attempts > 1, request_id) {
            (true, Some(id)) => write!(f, " (after {attempts} attempts, request-id {id})"),
            (true, None) => write!(f, " (after {attempts} attempts)"),
            (false, Some(id)) => write!(f, " (request-id {id})"),
            (false, None) => Ok(()),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source.as_ref().map(|e| &**e as _)
    }
}

#[cfg(test)]
mod tests;
