//! Scripted AWS platforms on loopback: Amazon Bedrock, Bedrock Mantle and
//! the AWS-hosted API (feature `bedrock`), for testing agents offline
//! against what [`Bedrock`](crate::platform::Bedrock),
//! [`BedrockMantle`](crate::platform::BedrockMantle) and
//! [`Aws`](crate::platform::Aws) clients send.
//!
//! [`ScriptedAws`] checks what the platform would: the path, the body
//! fields moved or added (Bedrock: `anthropic_version` in the body, no
//! `model` or `stream`), and the SigV4 signature (recomputed with the
//! secret key it knows) or the API key. A request that fails a check gets
//! the platform's error (`403 InvalidSignatureException`, say) and never
//! reaches the script. Each request that passes is handed to the same
//! [`Script`] as [`ScriptedServer`](super::ScriptedServer)'s, in the
//! first-party shape (`model`, `stream` put back), and the reply is sent
//! in the platform's framing: Bedrock streams event-stream frames, an SSE
//! `error` event becoming an exception frame named after its type.
//!
//! ```
//! use toolrunner::platform::Bedrock;
//! use toolrunner::testing::{AwsPlatform, Reply, ScriptedAws, TEST_ACCESS_KEY, TEST_REGION, TEST_SECRET_KEY};
//! use toolrunner::MessageParams;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = ScriptedAws::start(AwsPlatform::Bedrock, |_: &serde_json::Value| Reply::text("Hi!"))
//!     .await
//!     .unwrap();
//! let client = Bedrock::new()
//!     .region(TEST_REGION)
//!     .base_url(server.url())
//!     .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, None)
//!     .build()
//!     .unwrap();
//! let message = client.create_message(&MessageParams::new("anthropic.claude-test", 64).user("Hi")).await.unwrap();
//! assert_eq!(message.text(), "Hi!");
//! assert_eq!(server.recorded()[0].target, "/model/anthropic.claude-test/invoke");
//! # });
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use serde_json::{Value, json};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::{Part, Recorded, Reply, Script, read_request, reason};
use crate::stream::StreamEvent;

/// The region the scripted platforms serve.
pub const TEST_REGION: &str = "us-east-1";
/// The access key id the scripted platforms accept.
pub const TEST_ACCESS_KEY: &str = "AKIDTOOLRUNNERTEST";
/// The secret of [`TEST_ACCESS_KEY`].
pub const TEST_SECRET_KEY: &str = "toolrunner+test/secret/key";
/// The API key the scripted platforms accept.
pub const TEST_API_KEY: &str = "test-platform-api-key";
/// The workspace the scripted AWS API expects.
pub const TEST_WORKSPACE_ID: &str = "wrkspc_test";

/// Which AWS platform a [`ScriptedAws`] plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwsPlatform {
    /// Amazon Bedrock's runtime API (`/model/{model}/invoke`), service `bedrock`.
    Bedrock,
    /// Bedrock Mantle (`/anthropic/v1/messages`), service `bedrock-mantle`.
    Mantle,
    /// The AWS-hosted Anthropic API (`/v1/messages`), service
    /// `aws-external-anthropic`.
    Aws,
}

impl AwsPlatform {
    fn service(self) -> &'static str {
        match self {
            AwsPlatform::Bedrock => "bedrock",
            AwsPlatform::Mantle => "bedrock-mantle",
            AwsPlatform::Aws => "aws-external-anthropic",
        }
    }
}

struct Shared {
    platform: AwsPlatform,
    script: Mutex<Box<dyn Script>>,
    requests: Mutex<Vec<Recorded>>,
    seen: Mutex<Vec<Value>>,
    /// Secret keys by access key id.
    credentials: Mutex<HashMap<String, String>>,
    expired: Mutex<HashSet<String>>,
    /// The prompt cache, as the first-party server keeps it.
    cache: Mutex<super::prompt_cache::PromptCache>,
}

/// A scripted AWS platform on `127.0.0.1`. It stops when dropped.
pub struct ScriptedAws {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl ScriptedAws {
    /// Starts `platform`, answering with `script`. It accepts
    /// [`TEST_ACCESS_KEY`] (and any credentials [`accept`](Self::accept)ed)
    /// in region [`TEST_REGION`], and [`TEST_API_KEY`].
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start(platform: AwsPlatform, script: impl Script) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let credentials = HashMap::from([(TEST_ACCESS_KEY.to_owned(), TEST_SECRET_KEY.to_owned())]);
        let shared = Arc::new(Shared {
            platform,
            script: Mutex::new(Box::new(script)),
            requests: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
            credentials: Mutex::new(credentials),
            expired: Mutex::new(HashSet::new()),
            cache: Mutex::new(super::prompt_cache::PromptCache::default()),
        });
        let accepting = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&accepting)));
            }
        });
        Ok(ScriptedAws { addr, shared, task })
    }

    /// The base URL to give the client: `http://127.0.0.1:{port}`, with
    /// `/anthropic` for Mantle, as its real base URL has.
    pub fn url(&self) -> String {
        match self.shared.platform {
            AwsPlatform::Mantle => format!("http://{}/anthropic", self.addr),
            AwsPlatform::Bedrock | AwsPlatform::Aws => format!("http://{}", self.addr),
        }
    }

    /// Accepts the credentials `access_key` / `secret_key` too.
    pub fn accept(&self, access_key: &str, secret_key: &str) {
        lock(&self.shared.credentials).insert(access_key.to_owned(), secret_key.to_owned());
    }

    /// Answers requests signed with `access_key` with `403
    /// ExpiredTokenException` from now on.
    pub fn expire(&self, access_key: &str) {
        lock(&self.shared.expired).insert(access_key.to_owned());
    }

    /// The requests the script saw, in the first-party shape.
    pub fn requests(&self) -> Vec<Value> {
        lock(&self.shared.seen).clone()
    }

    /// Every request received, as sent: method, path, headers and body.
    pub fn recorded(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }
}

impl Drop for ScriptedAws {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for ScriptedAws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedAws")
            .field("platform", &self.shared.platform)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Reply {
    /// An AWS platform's error: `{"message"}` with the type in the
    /// `x-amzn-errortype` header, as Bedrock answers.
    pub fn aws_error(status: u16, error_type: &str, message: &str) -> Self {
        Reply::json(status, json!({ "message": message })).header("x-amzn-errortype", error_type)
    }
}

/// The platform's refusal of a request that fails a check.
fn refuse(status: u16, error_type: &str, message: &str) -> Box<Reply> {
    Box::new(Reply::aws_error(status, error_type, message))
}

/// Serves one connection: requests one after another (keep-alive).
async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut served = 0u64;
    loop {
        let Ok(Some((recorded, raw_body))) = read_request(&mut reader).await else {
            return;
        };
        lock(&shared.requests).push(recorded.clone());
        served += 1;
        let request_id = format!("aws-req-{}-{served}", recorded.target.len());
        let (reply, stream) = match check(&shared, &recorded, &raw_body) {
            Ok((seen, stream)) => {
                lock(&shared.seen).push(seen.clone());
                let reply = lock(&shared.script).reply(&seen);
                (lock(&shared.cache).report(&seen, reply), stream)
            }
            Err(rejection) => (*rejection, false),
        };
        if reply.close {
            return;
        }
        let framing = shared.platform == AwsPlatform::Bedrock && stream && reply.status == 200;
        if !respond(&mut write, reply, &request_id, framing).await {
            return;
        }
    }
}

/// The request in the first-party shape, and whether it asks for a stream;
/// or the platform's refusal.
fn check(shared: &Shared, recorded: &Recorded, body: &[u8]) -> Result<(Value, bool), Box<Reply>> {
    let platform = shared.platform;
    authenticate(shared, recorded, body)?;
    let path = recorded.target.split('?').next().unwrap_or_default();
    let mut request: Value = serde_json::from_slice(body).map_err(|e| {
        refuse(
            400,
            "ValidationException",
            &format!("the body is not JSON: {e}"),
        )
    })?;
    let fields = request
        .as_object_mut()
        .ok_or_else(|| refuse(400, "ValidationException", "the body is not a JSON object"))?;
    let invalid = |message: String| refuse(400, "ValidationException", &message);
    match platform {
        AwsPlatform::Bedrock => {
            let route = path.strip_prefix("/model/").and_then(|rest| {
                let (model, action) = rest.rsplit_once('/')?;
                Some((model, action))
            });
            let Some((model, action)) = route else {
                return Err(refuse(
                    404,
                    "UnknownOperationException",
                    &format!("no operation at {path}"),
                ));
            };
            let stream = match action {
                "invoke" => false,
                "invoke-with-response-stream" => true,
                other => {
                    return Err(refuse(
                        404,
                        "UnknownOperationException",
                        &format!("no operation {other:?}"),
                    ));
                }
            };
            for field in ["model", "stream"] {
                if fields.contains_key(field) {
                    return Err(invalid(format!(
                        "extraneous key [{field}] is not permitted"
                    )));
                }
            }
            if !fields
                .get("anthropic_version")
                .is_some_and(Value::is_string)
            {
                return Err(invalid("required key [anthropic_version] not found".into()));
            }
            if fields.get("anthropic_beta").is_some_and(|b| !b.is_array()) {
                return Err(invalid("anthropic_beta must be a list".into()));
            }
            fields.remove("anthropic_version");
            fields.remove("anthropic_beta");
            let model = percent_encoding::percent_decode_str(model).decode_utf8_lossy();
            fields.insert("model".into(), Value::String(model.into_owned()));
            if stream {
                fields.insert("stream".into(), Value::Bool(true));
            }
            Ok((request, stream))
        }
        AwsPlatform::Mantle | AwsPlatform::Aws => {
            let expected = match platform {
                AwsPlatform::Mantle => "/anthropic/v1/messages",
                _ => "/v1/messages",
            };
            if path != expected {
                return Err(refuse(
                    404,
                    "UnknownOperationException",
                    &format!("no operation at {path}"),
                ));
            }
            if recorded.header("anthropic-version").is_none() {
                return Err(invalid("the anthropic-version header is missing".into()));
            }
            if platform == AwsPlatform::Aws
                && recorded.header("anthropic-workspace-id") != Some(TEST_WORKSPACE_ID)
            {
                return Err(refuse(
                    403,
                    "AccessDeniedException",
                    &format!("the anthropic-workspace-id header must be {TEST_WORKSPACE_ID}"),
                ));
            }
            if !fields.get("model").is_some_and(Value::is_string) {
                return Err(invalid("`model` is missing".into()));
            }
            let stream = fields.get("stream") == Some(&Value::Bool(true));
            Ok((request, stream))
        }
    }
}

/// Checks the API key or the SigV4 signature.
fn authenticate(shared: &Shared, recorded: &Recorded, body: &[u8]) -> Result<(), Box<Reply>> {
    let denied = |message: &str| refuse(403, "AccessDeniedException", message);
    let authorization = recorded.header("authorization").unwrap_or_default();
    if shared.platform == AwsPlatform::Aws
        && let Some(key) = recorded.header("x-api-key")
    {
        return if key == TEST_API_KEY {
            Ok(())
        } else {
            Err(refuse(401, "UnauthorizedException", "invalid API key"))
        };
    }
    if let Some(key) = authorization.strip_prefix("Bearer ") {
        return if key == TEST_API_KEY && shared.platform != AwsPlatform::Aws {
            Ok(())
        } else {
            Err(refuse(401, "UnauthorizedException", "invalid API key"))
        };
    }
    let Some(signature) = SigV4Header::parse(authorization) else {
        return Err(denied(
            "missing authentication: neither an API key nor a SigV4 signature",
        ));
    };
    let scope: Vec<&str> = signature.credential.split('/').collect();
    let [access_key, _date, region, service, "aws4_request"] = scope[..] else {
        return Err(denied("malformed credential scope"));
    };
    if region != TEST_REGION || service != shared.platform.service() {
        return Err(denied(&format!(
            "credential scope {region}/{service} is not {TEST_REGION}/{}",
            shared.platform.service()
        )));
    }
    let Some(secret) = lock(&shared.credentials).get(access_key).cloned() else {
        return Err(refuse(
            403,
            "UnrecognizedClientException",
            "the security token included in the request is invalid",
        ));
    };
    if lock(&shared.expired).contains(access_key) {
        return Err(refuse(
            403,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ));
    }
    let expected = expected_signature(
        recorded, body, &signature, access_key, &secret, region, service,
    )
    .map_err(|e| denied(&e))?;
    if expected != signature.signature {
        return Err(refuse(
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided",
        ));
    }
    Ok(())
}

/// The access key id of the SigV4 signature `recorded` carries for
/// `service` in [`TEST_REGION`], when it is right for the secret key
/// `secret_of` gives for that id; else why not.
pub(super) fn signed_by(
    recorded: &Recorded,
    service: &str,
    secret_of: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let authorization = recorded.header("authorization").unwrap_or_default();
    let signature = SigV4Header::parse(authorization).ok_or("no SigV4 signature")?;
    let scope: Vec<&str> = signature.credential.split('/').collect();
    let [access_key, _date, region, signed_service, "aws4_request"] = scope[..] else {
        return Err("malformed credential scope".into());
    };
    if region != TEST_REGION || signed_service != service {
        return Err(format!(
            "credential scope {region}/{signed_service} is not {TEST_REGION}/{service}"
        ));
    }
    let secret = secret_of(access_key).ok_or_else(|| format!("unknown access key {access_key}"))?;
    let expected = expected_signature(
        recorded,
        recorded.body.as_bytes(),
        &signature,
        access_key,
        &secret,
        region,
        service,
    )?;
    if expected != signature.signature {
        return Err("the signature does not match".into());
    }
    Ok(access_key.to_owned())
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct SigV4Header<'a> {
    credential: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

impl<'a> SigV4Header<'a> {
    fn parse(header: &'a str) -> Option<Self> {
        let rest = header.strip_prefix("AWS4-HMAC-SHA256 ")?;
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let (name, value) = part.trim().split_once('=')?;
            match name {
                "Credential" => credential = Some(value),
                "SignedHeaders" => signed_headers = Some(value.split(';').collect()),
                "Signature" => signature = Some(value),
                _ => {}
            }
        }
        Some(SigV4Header {
            credential: credential?,
            signed_headers: signed_headers?,
            signature: signature?,
        })
    }
}

/// The signature of `recorded` with `secret`, at the time its
/// `x-amz-date` says, over the headers it says it signed.
fn expected_signature(
    recorded: &Recorded,
    body: &[u8],
    signature: &SigV4Header<'_>,
    access_key: &str,
    secret: &str,
    region: &str,
    service: &str,
) -> Result<String, String> {
    let date = recorded
        .header("x-amz-date")
        .ok_or("x-amz-date is missing")?;
    let time = parse_amz_date(date).ok_or_else(|| format!("malformed x-amz-date {date:?}"))?;
    let host = recorded.header("host").ok_or("host is missing")?;
    // Regenerated by the signer: the date and the token come from `time`
    // and the credentials.
    let regenerated = ["x-amz-date", "x-amz-security-token", "authorization"];
    let headers: Vec<(&str, &str)> = signature
        .signed_headers
        .iter()
        .filter(|name| !regenerated.contains(name))
        .map(|name| {
            Ok((
                *name,
                recorded
                    .header(name)
                    .ok_or(format!("signed header {name} is missing"))?,
            ))
        })
        .collect::<Result<_, String>>()?;
    let url = format!("http://{host}{}", recorded.target);
    let signable = SignableRequest::new(
        &recorded.method,
        &url,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let token = recorded.header("x-amz-security-token").map(str::to_owned);
    let identity: Identity = Credentials::new(access_key, secret, token, None, "scripted").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let (_, signature) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    Ok(signature)
}

/// `20261206T150405Z` as a time.
fn parse_amz_date(date: &str) -> Option<SystemTime> {
    let b = date.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &date[0..4],
        &date[4..6],
        &date[6..8],
        &date[9..11],
        &date[11..13],
        &date[13..15]
    );
    let parsed =
        aws_smithy_types::DateTime::from_str(&iso, aws_smithy_types::date_time::Format::DateTime)
            .ok()?;
    SystemTime::try_from(parsed).ok()
}

/// Sends `reply`; event-stream frames instead of SSE when `framing`.
/// `false` when the connection is done for.
async fn respond<W: AsyncWriteExt + Unpin>(
    write: &mut W,
    reply: Reply,
    request_id: &str,
    framing: bool,
) -> bool {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    head.push_str(&format!("x-amzn-requestid: {request_id}\r\n"));
    for (name, value) in &reply.headers {
        if framing && name.eq_ignore_ascii_case("content-type") {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let Some(parts) = &reply.parts else {
        head.push_str(&format!("content-length: {}\r\n\r\n", reply.body.len()));
        head.push_str(&reply.body);
        return write.write_all(head.as_bytes()).await.is_ok() && write.flush().await.is_ok();
    };
    if !framing {
        head.push_str("transfer-encoding: chunked\r\n\r\n");
        return write.write_all(head.as_bytes()).await.is_ok()
            && super::send_parts(write, parts).await;
    }
    head.push_str("content-type: application/vnd.amazon.eventstream\r\n");
    head.push_str("transfer-encoding: chunked\r\n\r\n");
    if write.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    for part in parts {
        match part {
            Part::Chunk(text) => {
                let frames = frames_of_sse(text.as_bytes());
                if frames.is_empty() {
                    continue;
                }
                let mut chunk = format!("{:x}\r\n", frames.len()).into_bytes();
                chunk.extend_from_slice(&frames);
                chunk.extend_from_slice(b"\r\n");
                if write.write_all(&chunk).await.is_err() || write.flush().await.is_err() {
                    return false;
                }
            }
            Part::Delay(delay) => tokio::time::sleep(*delay).await,
            Part::Wait(notify) => notify.notified().await,
            Part::HangUp => return false,
        }
    }
    write.write_all(b"0\r\n\r\n").await.is_ok() && write.flush().await.is_ok()
}

/// The event-stream frames Bedrock sends for the SSE events in `text`: a
/// `chunk` event for each event, an exception frame for an `error` event.
fn frames_of_sse(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (event, data) in crate::stream::sse_pairs(text) {
        if event == "error" {
            let error: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
            let kind = error["error"]["type"]
                .as_str()
                .unwrap_or("internalServerException");
            let message = error["error"]["message"].as_str().unwrap_or_default();
            out.extend(exception_frame(kind, message));
        } else {
            out.extend(chunk_frame(&data));
        }
    }
    out
}

fn string_header(name: &'static str, value: impl Into<String>) -> Header {
    Header::new(name, HeaderValue::String(value.into().into()))
}

fn encode(message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    // Cannot fail for the small headers written here.
    let _ = write_message_to(message, &mut out);
    out
}

/// One Bedrock `chunk` event frame carrying `event`, a Messages stream
/// event in JSON.
pub fn chunk_frame(event: &str) -> Vec<u8> {
    let payload = json!({ "bytes": aws_smithy_types::base64::encode(event), "p": "abcd" });
    let message = Message::new(payload.to_string().into_bytes())
        .add_header(string_header(":event-type", "chunk"))
        .add_header(string_header(":content-type", "application/json"))
        .add_header(string_header(":message-type", "event"));
    encode(&message)
}

/// One Bedrock exception frame, e.g. `throttlingException`.
pub fn exception_frame(exception: &str, message: &str) -> Vec<u8> {
    let payload = json!({ "message": message });
    let frame = Message::new(payload.to_string().into_bytes())
        .add_header(string_header(":exception-type", exception))
        .add_header(string_header(":content-type", "application/json"))
        .add_header(string_header(":message-type", "exception"));
    encode(&frame)
}

/// The event-stream body Bedrock streams for `message`: one `chunk` frame
/// per event of [`sse_events`](super::sse_events).
pub fn event_stream_body(message: &Value) -> Vec<u8> {
    super::sse_events(message)
        .iter()
        .flat_map(|event| frames_of_sse(event.as_bytes()))
        .collect()
}

/// The events that `chunks`, read in order as one event-stream body,
/// carry: each parsed, or the message of why it could not be (an exception
/// frame included). Never panics, whatever the bytes.
pub fn parse_event_stream<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<Result<StreamEvent, String>> {
    crate::stream::event_stream_events_of(chunks)
}
