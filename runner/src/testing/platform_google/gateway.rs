//! [`ScriptedGoogleCloud`]: Claude on Google Cloud's gateway on loopback,
//! in front of a scripted model.

use std::io;

use serde_json::Value;

use super::super::{Gate, Recorded, Reply, Script, ScriptedServer};
use super::bearer::Accepts;
use super::google_error;
use super::token_endpoint::TokenEndpoint;

/// The gateway on `127.0.0.1`: a [`ScriptedServer`] that first checks what
/// the gateway checks, and answers as Google does when a check fails.
///
/// - the path: `POST /v1/projects/{project}/locations/{location}/workspaces/{workspace}/invoke/v1/messages`
///   (else `404` `NOT_FOUND`);
/// - the token: `Authorization: Bearer` with a token the [`TokenEndpoint`]
///   issued and has not expired (else `401` `UNAUTHENTICATED`);
/// - no Anthropic credential: an `x-api-key` is `400` `INVALID_ARGUMENT`.
///
/// The body is the first-party one, handed to the script as it came;
/// message threads work as on [`ScriptedServer`].
///
/// # Examples
///
/// ```
/// use toolrunner::testing::platform_google::{ScriptedGoogleCloud, TokenEndpoint};
/// use toolrunner::testing::Reply;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let tokens = TokenEndpoint::start().await.unwrap();
/// let script = |_: &serde_json::Value| Reply::text("Hi");
/// let gateway = ScriptedGoogleCloud::start(script, "my-project", "global", "wrkspc_1", &tokens)
///     .await
///     .unwrap();
/// assert!(gateway.base_url().ends_with("/workspaces/wrkspc_1/invoke"));
/// # });
/// ```
pub struct ScriptedGoogleCloud {
    server: ScriptedServer,
    prefix: String,
}

struct GatewayGate {
    messages: String,
    accepts: Accepts,
}

impl ScriptedGoogleCloud {
    /// Starts the gateway for `workspace` of `project` at `location`,
    /// accepting the tokens `tokens` issues.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start(
        script: impl Script,
        project: &str,
        location: &str,
        workspace: &str,
        tokens: &TokenEndpoint,
    ) -> io::Result<Self> {
        let prefix =
            format!("/v1/projects/{project}/locations/{location}/workspaces/{workspace}/invoke");
        let gate = GatewayGate {
            messages: format!("{prefix}/v1/messages"),
            accepts: Accepts::Issued(tokens.state()),
        };
        let server = ScriptedServer::start_gated(script, Some(Box::new(gate))).await?;
        Ok(ScriptedGoogleCloud { server, prefix })
    }

    /// The base URL to give
    /// [`GoogleCloud::base_url`](crate::platform::GoogleCloud::base_url):
    /// the workspace's `.../invoke`.
    pub fn base_url(&self) -> String {
        format!("{}{}", self.server.url(), self.prefix)
    }

    /// The scripted server behind: every request as sent, threads.
    pub fn server(&self) -> &ScriptedServer {
        &self.server
    }
}

impl std::fmt::Debug for ScriptedGoogleCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedGoogleCloud")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Gate for GatewayGate {
    fn admit(&self, request: &Recorded) -> Result<Value, Box<Reply>> {
        if request.method != "POST" || request.target != self.messages {
            return Err(Box::new(google_error(
                404,
                "NOT_FOUND",
                &format!("no route for {} {}", request.method, request.target),
            )));
        }
        self.accepts.check(request)?;
        if request.header("x-api-key").is_some() {
            return Err(Box::new(google_error(
                400,
                "INVALID_ARGUMENT",
                "Anthropic API keys are not accepted here",
            )));
        }
        Ok(serde_json::from_str(&request.body).unwrap_or(Value::Null))
    }
}
