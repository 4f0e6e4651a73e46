//! A scripted Messages API server on loopback, for offline examples and tests.
//!
//! [`ScriptedServer`] answers `POST /v1/messages` with whatever your script
//! returns for each request, and records every request body, so a test can
//! check exactly what the runner sent. It speaks plain HTTP/1.1 on
//! `127.0.0.1` and never reaches beyond loopback.
//!
//! It also keeps message threads as the API does (see [`ScriptedServer`]):
//! a request that continues a thread is handed to the script with the
//! whole conversation, as the model would see it.
//!
//! It also serves the Files API under `/v1/files` from memory: uploads are
//! kept, and files added with [`ScriptedServer::add_file`] stand for the
//! ones the code-execution container writes.
//!
//! And it serves the Message Batches API under `/v1/messages/batches` (a
//! batch polls through `in_progress` to `ended`, its requests answered by
//! the script; see [`ScriptedServer::set_batch_polls`],
//! [`ScriptedServer::set_batch_outcome`], [`ScriptedBatch`]), the Models
//! API under `/v1/models`, and token counting, each checking headers and
//! bodies as the API does.
//!
//! Replies are built with [`Reply::text`], [`Reply::tool_use`] and
//! [`Reply::tool_uses`] (ids unique, usage filled in; [`Reply::stop_reason`],
//! [`Reply::streamed`] to change them), or written as JSON with
//! [`Reply::message`]. A [`Sequence`] that runs out answers with an error
//! the client does not retry, saying which request had no reply; [`ByTurn`]
//! answers by how far the conversation has gone instead, so that the same
//! script serves a run resumed in another process, on another server.
//!
//! ```
//! use toolrunner::testing::{ScriptedServer, Reply};
//! use toolrunner::{Client, MessageParams};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = ScriptedServer::start(|_request: &serde_json::Value| Reply::text("Hello!"))
//!     .await
//!     .unwrap();
//! let client = Client::builder().api_key("test").base_url(server.url()).build().unwrap();
//! let message = client.create_message(&MessageParams::new("scripted", 64).user("Hi")).await.unwrap();
//! assert_eq!(message.text(), "Hello!");
//! assert_eq!(server.requests()[0]["messages"][0]["content"], "Hi");
//! # });
//! ```

use std::borrow::Borrow;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use threads::Threads;

#[cfg(feature = "bedrock")]
mod aws_credentials;
mod batches;
mod by_turn;
mod files;
mod models;
mod paging;
#[cfg(feature = "bedrock")]
mod platform_aws;
#[cfg(feature = "foundry")]
pub mod platform_foundry;
#[cfg(feature = "vertex")]
pub mod platform_google;
mod prompt_cache;
mod threads;
mod wire;

#[cfg(feature = "bedrock")]
pub use aws_credentials::{
    AwsCredentialSources, CONTAINER_CREDENTIALS_PATH, ISSUED_ACCESS_KEY, ISSUED_SECRET_KEY,
    ISSUED_SESSION_TOKEN, IssuedCredentials, TEST_ASSUMED_ROLE_ARN, TEST_CONTAINER_TOKEN,
    TEST_EXTERNAL_ID, TEST_INSTANCE_ROLE, TEST_ROLE_ARN, TEST_SSO_ACCESS_TOKEN,
    TEST_SSO_ACCOUNT_ID, TEST_SSO_CLIENT_ID, TEST_SSO_CLIENT_SECRET, TEST_SSO_REFRESH_TOKEN,
    TEST_SSO_ROLE, TEST_WEB_IDENTITY_TOKEN,
};
pub use batches::{BatchOutcome, ScriptedBatch};
pub use by_turn::ByTurn;
pub use files::ScriptedFile;
#[cfg(feature = "bedrock")]
pub use platform_aws::{
    AwsPlatform, ScriptedAws, TEST_ACCESS_KEY, TEST_API_KEY, TEST_REGION, TEST_SECRET_KEY,
    TEST_WORKSPACE_ID, chunk_frame, event_stream_body, exception_frame, parse_event_stream,
};
pub use wire::parse_sse;

/// What the server answers to one request.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    close: bool,
    /// A body sent in parts (chunked), for streamed responses.
    parts: Option<Vec<Part>>,
    /// The message the reply carries, for a thread to keep.
    message: Option<Value>,
    /// Whether the server fills in the message's usage from the request
    /// (see [`ScriptedServer`]): a built message whose usage was not set.
    counted: bool,
}

/// One step of a streamed body.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Part {
    /// Send these bytes as one chunk.
    Chunk(String),
    /// Wait before the next part.
    Delay(Duration),
    /// Wait until the notify is signalled (say, by a tool in the test).
    Wait(Arc<Notify>),
    /// Close the connection here, mid-body.
    HangUp,
}

/// Numbers the ids of built replies and their tool calls, so that no two
/// are alike, even across servers.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id(prefix: &str) -> String {
    format!(
        "{prefix}_scripted_{:04}",
        NEXT_ID.fetch_add(1, Ordering::Relaxed)
    )
}

impl Reply {
    /// An assistant message saying `text`, stopping with `end_turn`; its id
    /// is unique and its usage filled in.
    ///
    /// ```
    /// use toolrunner::testing::{Reply, ScriptedServer, Sequence};
    /// use toolrunner::{Client, MessageParams};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let server = ScriptedServer::start(Sequence::new([Reply::text("Hello!")])).await.unwrap();
    /// let client = Client::builder().api_key("test").base_url(server.url()).build().unwrap();
    /// let message = client.create_message(&MessageParams::new("scripted", 64).user("Hi")).await.unwrap();
    /// assert_eq!(message.text(), "Hello!");
    /// # });
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        let block = serde_json::json!({"type": "text", "text": text.into()});
        Reply::built(built_message(vec![block], "end_turn"))
    }

    /// An assistant message calling tool `name` with `input`, stopping
    /// with `tool_use`; the call's id (`toolu_...`) is unique.
    pub fn tool_use(name: impl Into<String>, input: impl Borrow<Value>) -> Self {
        Reply::tool_uses([(name, input)])
    }

    /// An assistant message calling several tools in one turn, in order.
    ///
    /// ```
    /// use serde_json::json;
    /// use toolrunner::testing::Reply;
    ///
    /// let reply = Reply::tool_uses([("add", json!({"a": 1, "b": 2})), ("add", json!({"a": 3, "b": 4}))]);
    /// let message = reply.scripted_message().unwrap();
    /// assert_eq!(message["stop_reason"], "tool_use");
    /// assert_ne!(message["content"][0]["id"], message["content"][1]["id"]);
    /// ```
    pub fn tool_uses<N: Into<String>, I: Borrow<Value>>(
        calls: impl IntoIterator<Item = (N, I)>,
    ) -> Self {
        let blocks = calls
            .into_iter()
            .map(|(name, input)| {
                serde_json::json!({
                    "type": "tool_use",
                    "id": next_id("toolu"),
                    "name": name.into(),
                    "input": input.borrow(),
                })
            })
            .collect();
        Reply::built(built_message(blocks, "tool_use"))
    }

    /// A built message, whose usage the server counts.
    fn built(message: Value) -> Self {
        Reply {
            counted: true,
            ..Reply::message(message)
        }
    }

    /// Sets the message's `stop_reason`, such as `"max_tokens"` or
    /// `"pause_turn"`. No change to a reply that carries no message.
    #[must_use]
    pub fn stop_reason(self, reason: impl Into<String>) -> Self {
        let reason = Value::String(reason.into());
        self.edit_message(|message| message["stop_reason"] = reason)
    }

    /// Puts a text block before the message's other blocks, as the model
    /// says what it is about to do before calling tools.
    #[must_use]
    pub fn with_text(self, text: impl Into<String>) -> Self {
        let block = serde_json::json!({"type": "text", "text": text.into()});
        self.edit_message(|message| {
            if let Some(content) = message["content"].as_array_mut() {
                content.insert(0, block);
            }
        })
    }

    /// Sets the message's token usage; the server then reports it as set,
    /// instead of counting it from the request.
    #[must_use]
    pub fn usage(self, input_tokens: u64, output_tokens: u64) -> Self {
        let mut reply = self.edit_message(|message| {
            message["usage"] =
                serde_json::json!({"input_tokens": input_tokens, "output_tokens": output_tokens});
        });
        reply.counted = false;
        reply
    }

    /// The message sent as a stream of server-sent events, as the API
    /// streams one (see [`stream_message`](Self::stream_message)).
    #[must_use]
    pub fn streamed(self) -> Self {
        match self.message {
            Some(message) => Reply {
                counted: self.counted,
                ..Reply::stream_message(message)
            },
            None => self,
        }
    }

    /// The message the reply carries, if any.
    pub fn scripted_message(&self) -> Option<&Value> {
        self.message.as_ref()
    }

    /// Changes the message the reply carries, and what it sends; its
    /// status and headers stay.
    fn edit_message(mut self, edit: impl FnOnce(&mut Value)) -> Self {
        let Some(mut message) = self.message.take() else {
            return self;
        };
        edit(&mut message);
        let rebuilt = if self.parts.is_some() {
            Reply::stream_message(message)
        } else {
            Reply::message(message)
        };
        Reply {
            status: self.status,
            headers: self.headers,
            counted: self.counted,
            ..rebuilt
        }
    }

    /// `200 OK` with a message as the JSON body. Takes a `Value` or a `&Value`.
    pub fn message(message: impl Borrow<Value>) -> Self {
        let message = message.borrow();
        let mut reply = Reply::json(200, message);
        reply.message = Some(message.clone());
        reply
    }

    /// Any status with a JSON body. Takes a `Value` or a `&Value`.
    pub fn json(status: u16, body: impl Borrow<Value>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.borrow().to_string(),
            close: false,
            parts: None,
            message: None,
            counted: false,
        }
    }

    /// A streamed (`text/event-stream`) response sent in `parts`.
    pub fn stream(parts: impl IntoIterator<Item = Part>) -> Self {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            body: String::new(),
            close: false,
            parts: Some(parts.into_iter().collect()),
            message: None,
            counted: false,
        }
    }

    /// A streamed response carrying `message` as the API streams one: see
    /// [`sse_events`]. Takes a `Value` or a `&Value`.
    pub fn stream_message(message: impl Borrow<Value>) -> Self {
        let message = message.borrow();
        let mut reply = Reply::stream(sse_events(message).into_iter().map(Part::Chunk));
        reply.message = Some(message.clone());
        reply
    }

    /// An API error in the API's shape: `{"type": "error", "error": {"type", "message"}}`.
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        Reply::json(
            status,
            serde_json::json!({
                "type": "error",
                "error": {"type": error_type, "message": message}
            }),
        )
    }

    /// An API error with `details`, as the API sends for thread rejections:
    /// `{"type": "error", "error": {"type", "message", "details"}}`.
    ///
    /// ```
    /// # use toolrunner::testing::Reply;
    /// let reply = Reply::error_with_details(
    ///     400,
    ///     "invalid_request_error",
    ///     "threads do not support this request",
    ///     serde_json::json!({"error_code": "thread_unsupported_request", "unsupported": ["mcp_servers"]}),
    /// );
    /// # let _ = reply;
    /// ```
    pub fn error_with_details(
        status: u16,
        error_type: &str,
        message: &str,
        details: Value,
    ) -> Self {
        Reply::json(
            status,
            serde_json::json!({
                "type": "error",
                "error": {"type": error_type, "message": message, "details": details}
            }),
        )
    }

    /// Any status with a raw body, sent as given.
    pub fn raw(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            close: false,
            parts: None,
            message: None,
            counted: false,
        }
    }

    /// Closes the connection without answering.
    pub fn hang_up() -> Self {
        Reply {
            status: 0,
            headers: Vec::new(),
            body: String::new(),
            close: true,
            parts: None,
            message: None,
            counted: false,
        }
    }

    /// Adds a response header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A message from the builders: unique id, the scripted model, some usage.
fn built_message(content: Vec<Value>, stop_reason: &str) -> Value {
    serde_json::json!({
        "id": next_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": "scripted",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    })
}

/// The script: called with each request's JSON body, in order.
pub trait Script: Send + 'static {
    /// The reply to `request`.
    fn reply(&mut self, request: &Value) -> Reply;
}

impl<F: FnMut(&Value) -> Reply + Send + 'static> Script for F {
    fn reply(&mut self, request: &Value) -> Reply {
        self(request)
    }
}

/// Replies from a list, one per request. Past its end, a request gets
/// [`Reply::script_exhausted`]: an error the client does not retry, so a
/// test that runs out of script fails at once, saying so.
#[derive(Debug)]
pub struct Sequence {
    replies: std::collections::VecDeque<Reply>,
    /// How many requests were answered (or refused) so far.
    served: usize,
}

impl Sequence {
    /// The replies, in order.
    pub fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
        Sequence {
            replies: replies.into_iter().collect(),
            served: 0,
        }
    }
}

impl Script for Sequence {
    fn reply(&mut self, _: &Value) -> Reply {
        self.served += 1;
        self.replies
            .pop_front()
            .unwrap_or_else(|| Reply::script_exhausted(self.served))
    }
}

impl Reply {
    /// What a script answers to request number `request` (from 1) when it
    /// has no reply for it: a `500` whose message says so, with
    /// `x-should-retry: false`, so that the client fails at once instead
    /// of retrying with backoff.
    pub fn script_exhausted(request: usize) -> Self {
        Reply::error(
            500,
            "api_error",
            &format!("the script has no reply for request {request}"),
        )
        .header("x-should-retry", "false")
    }
}

/// A platform in front of the scripted model (see `platform_*.rs`): it
/// checks each request as the platform would, and hands the model the
/// first-party body, or answers in the platform's stead.
pub(crate) trait Gate: Send + Sync + 'static {
    /// The first-party body of `request`, or the platform's refusal.
    fn admit(&self, request: &Recorded) -> Result<Value, Box<Reply>>;
}

struct Shared {
    gate: Option<Box<dyn Gate>>,
    script: Mutex<Box<dyn Script>>,
    requests: Mutex<Vec<Recorded>>,
    threads: Mutex<Threads>,
    files: Mutex<files::Store>,
    cache: Mutex<prompt_cache::PromptCache>,
    batches: Mutex<batches::Store>,
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path and query, e.g. `/v1/files?limit=2`.
    pub target: String,
    /// Header names (lower-case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body as received.
    pub body: String,
}

impl Recorded {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A scripted Messages API server on `127.0.0.1`. It stops when dropped.
///
/// Message threads work as on the API: a request with `"thread": {"type":
/// "create"}` starts a thread with its messages, `system` and `tools`; a
/// reply the script gives to it (with [`Reply::message`] or
/// [`Reply::stream_message`]) is kept in the thread under the reply's `id`;
/// a request with `{"type": "continue", "previous_message_id": id}` adds its
/// messages to that conversation, and the script sees the whole of it (with
/// the thread's `system` and `tools`). Continuing a thread the server does
/// not hold is answered with `thread_not_found` (see
/// [`forget_threads`](Self::forget_threads)), a reply already continued with
/// `thread_already_continued`, and a `continue` that repeats `system` or
/// `tools` with an `invalid_request_error`. [`conversation`](Self::conversation)
/// is what a thread holds.
///
/// It keeps a prompt cache as the API does for prefix caching: a request
/// whose prefix up to a cache breakpoint (a block's `cache_control`, or
/// the top-level one) an earlier request wrote reads it from the cache,
/// and the rest up to its last breakpoint is written. The usage of a
/// message built with [`Reply::text`] or [`Reply::tool_uses`] (unless set
/// with [`Reply::usage`]) reports it: `input_tokens`,
/// `cache_creation_input_tokens`, `cache_read_input_tokens`, and
/// `output_tokens` for the reply's content, all counted at four bytes of
/// JSON a token. A request with `diagnostics.previous_message_id` gets
/// `diagnostics.cache_miss_reason` in its reply, as on the API.
///
/// ```
/// use toolrunner::testing::{Reply, ScriptedServer, Sequence};
/// use toolrunner::{Client, MessageParams};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let server = ScriptedServer::start(Sequence::new([Reply::text("4"), Reply::text("6")])).await.unwrap();
/// let client = Client::builder().api_key("test").base_url(server.url()).build().unwrap();
/// let mut params = MessageParams::new("scripted", 64)
///     .cache_control(serde_json::json!({"type": "ephemeral"}))
///     .user("What is 2 + 2?");
/// let first = client.create_message(&params).await.unwrap();
/// params = params.message(first.clone().into()).user("And 3 + 3?");
/// let second = client.create_message(&params).await.unwrap();
/// // The second request reads what the first wrote.
/// assert_eq!(second.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens);
/// # });
/// ```
pub struct ScriptedServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl ScriptedServer {
    /// Starts a server that answers with `script`.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start(script: impl Script) -> io::Result<Self> {
        Self::start_gated(script, None).await
    }

    /// Starts a server whose requests pass `gate` before the script.
    pub(crate) async fn start_gated(
        script: impl Script,
        gate: Option<Box<dyn Gate>>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            gate,
            script: Mutex::new(Box::new(script)),
            requests: Mutex::new(Vec::new()),
            threads: Mutex::new(Threads::default()),
            files: Mutex::new(files::Store::default()),
            cache: Mutex::new(prompt_cache::PromptCache::default()),
            batches: Mutex::new(batches::Store::default()),
        });
        let accepting = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&accepting)));
            }
        });
        Ok(ScriptedServer { addr, shared, task })
    }

    /// The base URL to give the client, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every Messages request body received so far, parsed as JSON (`null`
    /// for a body that is not JSON); requests to the Files, Batches and
    /// Models APIs and token counts are left out (see
    /// [`recorded`](Self::recorded)).
    pub fn requests(&self) -> Vec<Value> {
        self.recorded()
            .iter()
            .filter(|r| !is_files_request(&r.target) && side_api(&r.target).is_none())
            .map(|r| serde_json::from_str(&r.body).unwrap_or(Value::Null))
            .collect()
    }

    /// The messages the thread holds after reply `id`: everything sent on
    /// it and every reply, as the model sees them; `None` for a reply no
    /// thread holds.
    pub fn conversation(&self, id: &str) -> Option<Vec<Value>> {
        let threads = self
            .shared
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        threads.conversation(id)
    }

    /// Forgets every thread, as a server that lost them: continuing one is
    /// answered with `thread_not_found`.
    pub fn forget_threads(&self) {
        let mut threads = self
            .shared
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        threads.forget();
    }

    /// Adds `file` to the Files API the server serves, as the newest file.
    pub fn add_file(&self, file: ScriptedFile) {
        self.shared
            .files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add(file);
    }

    /// The file `id` the server holds: one added, or one uploaded to it.
    pub fn file(&self, id: &str) -> Option<ScriptedFile> {
        self.shared
            .files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// Every request received so far, with headers and raw body.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for ScriptedServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Serves one connection: requests one after another (keep-alive).
async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    // Small writes must go out at once: with Nagle's algorithm, a response
    // would wait for the client's delayed acknowledgement (40 ms a request).
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let Ok(Some((recorded, raw_body))) = read_request(&mut reader).await else {
            return;
        };
        if is_files_request(&recorded.target) {
            let response = shared
                .files
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .respond(&recorded, &raw_body);
            shared
                .requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(recorded);
            if !send_file_response(&mut write, response, "req_files").await {
                return;
            }
            continue;
        }
        if let Some(api) = side_api(&recorded.target) {
            let answer = match api {
                SideApi::Batches => {
                    let mut store = shared
                        .batches
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    let mut script = shared.script.lock().unwrap_or_else(PoisonError::into_inner);
                    store.respond(&recorded, &mut **script)
                }
                SideApi::CountTokens => models::count_tokens(&recorded),
                SideApi::Models => models::models(&recorded),
            };
            shared
                .requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(recorded);
            if !send_answer(&mut write, answer, api.request_id()).await {
                return;
            }
            continue;
        }
        let admitted = match &shared.gate {
            Some(gate) => gate.admit(&recorded),
            None => Ok(serde_json::from_str(&recorded.body).unwrap_or(Value::Null)),
        };
        shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(recorded);
        let resolved = match admitted {
            Ok(request) => shared
                .threads
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .resolve(request),
            Err(refusal) => Err(refusal),
        };
        let reply = match resolved {
            Ok((seen, thread)) => {
                let reply = shared
                    .script
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .reply(&seen);
                let reply = shared
                    .cache
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .report(&seen, reply);
                if let Some(thread) = thread {
                    shared
                        .threads
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .keep(thread, seen, &reply);
                }
                reply
            }
            Err(rejection) => *rejection,
        };
        if reply.close {
            return;
        }
        let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(parts) = &reply.parts {
            head.push_str("transfer-encoding: chunked\r\n\r\n");
            if write.write_all(head.as_bytes()).await.is_err()
                || !send_parts(&mut write, parts).await
            {
                return;
            }
            continue;
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", reply.body.len()));
        head.push_str(&reply.body);
        if write.write_all(head.as_bytes()).await.is_err() || write.flush().await.is_err() {
            return;
        }
    }
}

/// The APIs besides Messages and Files that the server serves.
#[derive(Clone, Copy)]
enum SideApi {
    Batches,
    CountTokens,
    Models,
}

impl SideApi {
    /// The `request-id` of its JSON answers, so that a test can tell
    /// which API answered.
    fn request_id(self) -> &'static str {
        match self {
            SideApi::Batches => "req_batches",
            SideApi::CountTokens => "req_count_tokens",
            SideApi::Models => "req_models",
        }
    }
}

fn side_api(target: &str) -> Option<SideApi> {
    let path = target.split('?').next().unwrap_or_default();
    // Every request asks, so no string is made for the question.
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/v1/messages/batches") {
        Some(SideApi::Batches)
    } else if path == "/v1/messages/count_tokens" {
        Some(SideApi::CountTokens)
    } else if under("/v1/models") {
        Some(SideApi::Models)
    } else {
        None
    }
}

/// Sends a batches, models or count answer, a JSON one with `request_id`;
/// `false` when the connection is gone. A results file is sent in chunks
/// as its lines are made, so that a file of any size takes no more memory
/// than a chunk.
async fn send_answer<W: AsyncWriteExt + Unpin>(
    write: &mut W,
    answer: batches::Answer,
    request_id: &str,
) -> bool {
    let file = match answer {
        batches::Answer::Json(status, body) => {
            let response = files::Response {
                status,
                content_type: "application/json".into(),
                body: body.to_string().into(),
                cut_after: None,
            };
            return send_file_response(write, response, request_id).await;
        }
        batches::Answer::Results(file) => file,
    };
    const CHUNK: usize = 64 * 1024;
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/binary\r\nrequest-id: req_results\r\ntransfer-encoding: chunked\r\n\r\n";
    if write.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    let mut chunk = Vec::with_capacity(CHUNK + 1024);
    let mut lines = file.lines().peekable();
    while let Some(line) = lines.next() {
        chunk.extend_from_slice(line.as_bytes());
        chunk.push(b'\n');
        if chunk.len() >= CHUNK || lines.peek().is_none() {
            let size = format!("{:x}\r\n", chunk.len());
            chunk.extend_from_slice(b"\r\n");
            if write.write_all(size.as_bytes()).await.is_err()
                || write.write_all(&chunk).await.is_err()
            {
                return false;
            }
            chunk.clear();
        }
    }
    write.write_all(b"0\r\n\r\n").await.is_ok() && write.flush().await.is_ok()
}

fn is_files_request(target: &str) -> bool {
    target == "/v1/files" || target.starts_with("/v1/files/") || target.starts_with("/v1/files?")
}

/// Sends a Files API answer (or another JSON one) with `request_id`;
/// `false` when the connection is done for (cut on purpose, or gone).
async fn send_file_response<W: AsyncWriteExt + Unpin>(
    write: &mut W,
    response: files::Response,
    request_id: &str,
) -> bool {
    let head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\nrequest-id: {request_id}\r\ncontent-length: {}\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    let body = match response.cut_after {
        Some(cut) => &response.body[..cut.min(response.body.len())],
        None => &response.body[..],
    };
    let sent = write.write_all(head.as_bytes()).await.is_ok()
        && write.write_all(body).await.is_ok()
        && write.flush().await.is_ok();
    sent && response.cut_after.is_none()
}

/// Sends a chunked body; `false` when the connection is done for.
async fn send_parts<W: AsyncWriteExt + Unpin>(write: &mut W, parts: &[Part]) -> bool {
    for part in parts {
        match part {
            Part::Chunk(text) if !text.is_empty() => {
                let chunk = format!("{:x}\r\n{text}\r\n", text.len());
                if write.write_all(chunk.as_bytes()).await.is_err() || write.flush().await.is_err()
                {
                    return false;
                }
            }
            Part::Chunk(_) => {}
            Part::Delay(delay) => tokio::time::sleep(*delay).await,
            Part::Wait(notify) => notify.notified().await,
            Part::HangUp => return false,
        }
    }
    write.write_all(b"0\r\n\r\n").await.is_ok() && write.flush().await.is_ok()
}

/// The server-sent events the API sends for `message`, one string per
/// event: `message_start`, then for each block `content_block_start`,
/// deltas (text in two halves, tool input as JSON fragments) and
/// `content_block_stop`, then `message_delta` and `message_stop`.
pub fn sse_events(message: &Value) -> Vec<String> {
    let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    let mut start = message.clone();
    start["content"] = Value::Array(Vec::new());
    start["stop_reason"] = Value::Null;
    // The API sends why the model stopped with the stop reason, at the end.
    let mut delta = serde_json::json!({"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]});
    if let Some(details) = start.as_object_mut().and_then(|m| m.remove("stop_details")) {
        delta["stop_details"] = details;
    }
    let mut events = vec![event(
        "message_start",
        serde_json::json!({"type": "message_start", "message": start}),
    )];
    let blocks = message["content"].as_array().cloned().unwrap_or_default();
    for (index, block) in blocks.iter().enumerate() {
        let mut opening = block.clone();
        let mut deltas = Vec::new();
        match block["type"].as_str() {
            Some("text") => {
                let text = block["text"].as_str().unwrap_or_default();
                let half = text
                    .char_indices()
                    .nth(text.chars().count() / 2)
                    .map_or(0, |(i, _)| i);
                opening["text"] = Value::String(String::new());
                for piece in [&text[..half], &text[half..]] {
                    deltas.push(serde_json::json!({"type": "text_delta", "text": piece}));
                }
            }
            Some("tool_use" | "server_tool_use") => {
                let input = block["input"].to_string();
                opening["input"] = serde_json::json!({});
                let cut = input.len() / 3;
                let cut = (cut..input.len())
                    .find(|&i| input.is_char_boundary(i))
                    .unwrap_or(input.len());
                for piece in [&input[..cut], &input[cut..]] {
                    deltas.push(
                        serde_json::json!({"type": "input_json_delta", "partial_json": piece}),
                    );
                }
            }
            _ => {}
        }
        events.push(event(
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": index, "content_block": opening}),
        ));
        for delta in deltas {
            events.push(event(
                "content_block_delta",
                serde_json::json!({"type": "content_block_delta", "index": index, "delta": delta}),
            ));
        }
        events.push(event(
            "content_block_stop",
            serde_json::json!({"type": "content_block_stop", "index": index}),
        ));
    }
    events.push(event(
        "message_delta",
        serde_json::json!({"type": "message_delta", "delta": delta,
            "usage": {"output_tokens": message["usage"]["output_tokens"]}}),
    ));
    events.push(event(
        "message_stop",
        serde_json::json!({"type": "message_stop"}),
    ));
    events
}

/// The next request on the connection, and its body's bytes.
async fn read_request<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
) -> io::Result<Option<(Recorded, Vec<u8>)>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let target = words.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
            if name == "content-length" {
                length = value.parse().unwrap_or(0);
            }
            headers.push((name, value));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    let recorded = Recorded {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    Ok(Some((recorded, body)))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        529 => "Overloaded",
        _ => "Status",
    }
}
