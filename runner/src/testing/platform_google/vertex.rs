//! [`ScriptedVertex`]: Vertex AI's Anthropic publisher endpoint on
//! loopback, in front of a scripted model.

use std::io;

use serde_json::Value;

use super::super::{Gate, Recorded, Reply, Script, ScriptedServer};
use super::bearer::Accepts;
use super::google_error;
use super::token_endpoint::TokenEndpoint;

/// Vertex AI on `127.0.0.1`: a [`ScriptedServer`] that first checks what
/// Vertex checks, and answers as Google does when a check fails.
///
/// - the path: `POST /v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict`,
///   or `:streamRawPredict` for a body with `"stream": true` (else `404`
///   `NOT_FOUND`);
/// - the token: `Authorization: Bearer` with a token the [`TokenEndpoint`]
///   issued and has not expired, or the one given (else `401`
///   `UNAUTHENTICATED`);
/// - the body: a JSON object with `anthropic_version` and without `model`
///   (else `400` `INVALID_ARGUMENT`).
///
/// The script sees the first-party body: `model` back from the path,
/// `anthropic_version` gone. [`server`](Self::server) gives what was sent.
///
/// # Examples
///
/// ```
/// use toolrunner::testing::platform_google::{ScriptedVertex, TokenEndpoint};
/// use toolrunner::testing::Reply;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let tokens = TokenEndpoint::start().await.unwrap();
/// let vertex = ScriptedVertex::start(|_: &serde_json::Value| Reply::text("Hi"), "my-project", "us-east5", &tokens)
///     .await
///     .unwrap();
/// assert!(vertex.base_url().ends_with("/v1"));
/// # });
/// ```
pub struct ScriptedVertex {
    server: ScriptedServer,
}

struct VertexGate {
    prefix: String,
    accepts: Accepts,
}

impl ScriptedVertex {
    /// Starts the server for `project` in `region`, accepting the tokens
    /// `tokens` issues.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start(
        script: impl Script,
        project: &str,
        region: &str,
        tokens: &TokenEndpoint,
    ) -> io::Result<Self> {
        Self::start_accepting(script, project, region, Accepts::Issued(tokens.state())).await
    }

    /// Starts the server for `project` in `region`, accepting only `token`.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start_with_token(
        script: impl Script,
        project: &str,
        region: &str,
        token: &str,
    ) -> io::Result<Self> {
        Self::start_accepting(script, project, region, Accepts::Token(token.to_owned())).await
    }

    async fn start_accepting(
        script: impl Script,
        project: &str,
        region: &str,
        accepts: Accepts,
    ) -> io::Result<Self> {
        let gate = VertexGate {
            prefix: format!(
                "/v1/projects/{project}/locations/{region}/publishers/anthropic/models/"
            ),
            accepts,
        };
        let server = ScriptedServer::start_gated(script, Some(Box::new(gate))).await?;
        Ok(ScriptedVertex { server })
    }

    /// The base URL to give [`Vertex::base_url`](crate::platform::Vertex::base_url):
    /// the server's root and `/v1`, as Vertex's hosts have.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.url())
    }

    /// The scripted server behind: every request as sent, threads, files.
    pub fn server(&self) -> &ScriptedServer {
        &self.server
    }
}

impl std::fmt::Debug for ScriptedVertex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedVertex")
            .field("server", &self.server)
            .finish()
    }
}

impl Gate for VertexGate {
    fn admit(&self, request: &Recorded) -> Result<Value, Box<Reply>> {
        let not_found = || {
            Box::new(google_error(
                404,
                "NOT_FOUND",
                &format!(
                    "no Vertex AI route for {} {}",
                    request.method, request.target
                ),
            ))
        };
        let tail = request
            .target
            .strip_prefix(&self.prefix)
            .filter(|_| request.method == "POST")
            .ok_or_else(not_found)?;
        let (model, specifier) = tail.rsplit_once(':').ok_or_else(not_found)?;
        let streamed = match specifier {
            "rawPredict" => false,
            "streamRawPredict" => true,
            _ => return Err(not_found()),
        };
        self.accepts.check(request)?;
        let invalid = |message: &str| Box::new(google_error(400, "INVALID_ARGUMENT", message));
        let mut body: serde_json::Map<String, Value> = serde_json::from_str(&request.body)
            .map_err(|_| invalid("the body is not a JSON object"))?;
        if body.contains_key("model") {
            return Err(invalid("`model` belongs in the path, not the body"));
        }
        if !body.get("anthropic_version").is_some_and(Value::is_string) {
            return Err(invalid("`anthropic_version` is required"));
        }
        if body.get("stream").and_then(Value::as_bool).unwrap_or(false) != streamed {
            return Err(invalid(&format!("`stream` does not match :{specifier}")));
        }
        body.remove("anthropic_version");
        let model = percent_decode(model).ok_or_else(not_found)?;
        body.insert("model".into(), Value::String(model));
        Ok(Value::Object(body))
    }
}

/// `segment` with its percent-escapes decoded; `None` when they are not
/// UTF-8 or malformed.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
