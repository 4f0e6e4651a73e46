//! [`McpClient`]: a connection to one MCP server, and its tools, prompts and
//! resources in Messages API terms.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, GetPromptRequestParams,
    Implementation, JsonObject, ReadResourceRequestParams,
};
use rmcp::service::{RoleClient, RunningService, Service};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{IntoTransport, StreamableHttpClientTransport};
use rmcp::{Peer, ServiceExt};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::error::{auth_refusal, is_transport_gone};
use super::identity;
use super::{
    McpError, McpTool, McpToolOptions, mcp_messages, mcp_resource_to_content, mcp_tool_result,
};
use crate::tool::ToolOutput;
use crate::toolset::Toolset;
use crate::types::{ContentBlock, MessageParam};

/// A connection to one MCP server. Cheap to clone; the connection closes
/// (and a server started with [`stdio`](Self::stdio) is killed) when the
/// last clone, and the last [`McpTool`] made from it, is dropped.
///
/// In the handshake the client names itself after the running executable
/// (`clientInfo`); [`McpClient::builder`] names it as you say.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
/// use serde_json::json;
/// use toolrunner::mcp::{McpClient, McpToolOptions};
///
/// let server = McpClient::http("http://127.0.0.1:8000/mcp").await?;
/// let tools = server.toolset(&McpToolOptions::new().prefix("notes_")).await?;
/// let messages = server.prompt("summarize", json!({"style": "brief"})).await?;
/// let readme = server.resource("file:///README.md").await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct McpClient {
    inner: Arc<Inner>,
}

struct Inner {
    peer: Peer<RoleClient>,
    /// The server's name, for error messages and logs.
    name: String,
    process_id: Option<u32>,
    /// The running service; dropping it closes the connection.
    _service: Box<dyn Any + Send + Sync>,
    /// The server's process, killed on drop, when this client started it.
    _child: Option<tokio::process::Child>,
}

impl McpClient {
    /// Starts `command` and talks MCP with it over its stdin and stdout.
    ///
    /// Accepts a `std::process::Command` or a `tokio::process::Command`.
    /// The server's stderr goes where the command says (inherited by
    /// default); its stdin and stdout are taken over. The process is killed
    /// when the client is dropped.
    ///
    /// # Errors
    ///
    /// When the command cannot be started ([`McpError::is_spawn`]), or the
    /// MCP handshake fails, for example because the process exited
    /// ([`McpError::is_connect`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
    /// let mut command = std::process::Command::new("uvx");
    /// command.arg("mcp-server-time");
    /// let time = toolrunner::mcp::McpClient::stdio(command).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stdio(command: impl Into<tokio::process::Command>) -> Result<McpClient, McpError> {
        McpClient::builder().stdio(command).await
    }

    /// A client to introduce by a name of your choosing before it connects
    /// (see [`McpClientBuilder`]). This type's constructors name it after
    /// the running executable.
    pub fn builder() -> McpClientBuilder {
        McpClientBuilder::new()
    }

    async fn stdio_as(
        handler: ClientConfig,
        mut command: tokio::process::Command,
    ) -> Result<McpClient, McpError> {
        let shown = show_command(command.as_std());
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| McpError::spawn(shown.clone(), e))?;
        let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
            unreachable!("stdin and stdout were set to piped");
        };
        let process_id = child.id();
        match handler.serve((stdout, stdin)).await {
            Ok(service) => Ok(McpClient::from_parts(
                service,
                Some(child),
                process_id,
                &shown,
            )),
            Err(e) => {
                // A server that exits at once is the usual cause; say so.
                let exited = tokio::time::timeout(Duration::from_millis(200), child.wait()).await;
                let target = match exited {
                    Ok(Ok(status)) => format!("`{shown}` ({status})"),
                    _ => format!("`{shown}`"),
                };
                Err(McpError::connect(target, e))
            }
        }
    }

    /// Connects to a server over streamable HTTP at `url`, such as
    /// `http://127.0.0.1:8000/mcp`.
    ///
    /// Plain `http` works out of the box. For `https`, turn on rmcp's TLS
    /// in your `Cargo.toml` (`rmcp = { version = "3.9", features =
    /// ["reqwest"] }`), or build a transport with your own client and use
    /// [`connect`](Self::connect).
    ///
    /// # Errors
    ///
    /// When the server cannot be reached or the MCP handshake fails
    /// ([`McpError::is_connect`]).
    pub async fn http(url: impl Into<String>) -> Result<McpClient, McpError> {
        McpClient::builder().http(url).await
    }

    /// Like [`http`](Self::http), sending `Authorization: Bearer {token}`
    /// with every request: for a server that needs a token, such as a
    /// toolrunner server with [`bearer_tokens`](super::McpHttpBuilder::bearer_tokens).
    ///
    /// Give the token alone, without `Bearer `. It is never shown in errors
    /// or `Debug` output.
    ///
    /// # Errors
    ///
    /// When the server cannot be reached, refuses the token (its 401 is in
    /// the error's sources) or the MCP handshake fails
    /// ([`McpError::is_connect`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
    /// use toolrunner::mcp::{McpClient, McpToolOptions};
    ///
    /// let token = std::env::var("NOTES_MCP_TOKEN").expect("a token");
    /// let notes = McpClient::http_with_token("http://notes.internal:8000/mcp", token).await?;
    /// let tools = notes.toolset(&McpToolOptions::new().prefix("notes_")).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn http_with_token(
        url: impl Into<String>,
        token: impl Into<String>,
    ) -> Result<McpClient, McpError> {
        McpClient::builder().http_with_token(url, token).await
    }

    async fn http_as(
        handler: ClientConfig,
        config: StreamableHttpClientTransportConfig,
    ) -> Result<McpClient, McpError> {
        let url = config.uri.to_string();
        // rmcp builds a `reqwest` 0.13 client, which needs a crypto
        // provider when `vertex` is on (see `tls`).
        #[cfg(feature = "vertex")]
        crate::tls::use_ring_unless_chosen();
        let transport = StreamableHttpClientTransport::from_config(config);
        match handler.serve(transport).await {
            Ok(service) => Ok(McpClient::from_parts(service, None, None, &url)),
            Err(e) => {
                let target = match auth_refusal(&e) {
                    Some(why) => format!("at {url}: {why}"),
                    None => format!("at {url}"),
                };
                Err(McpError::connect(target, e))
            }
        }
    }

    /// Talks MCP over any rmcp transport: an `(AsyncRead, AsyncWrite)` pair,
    /// a duplex stream, or a [`Transport`](rmcp::transport::Transport).
    ///
    /// # Errors
    ///
    /// When the MCP handshake fails ([`McpError::is_connect`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use toolrunner::mcp::{McpClient, McpServer, McpToolOptions};
    /// use toolrunner::{tool, toolset};
    ///
    /// /// Add two integers.
    /// #[tool]
    /// fn add(a: i64, b: i64) -> i64 {
    ///     a + b
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // An MCP server in the same process, over an in-memory pipe. The two
    /// // handshakes run at once, so the server runs in a task of its own.
    /// let (client_end, server_end) = tokio::io::duplex(64 * 1024);
    /// let server = tokio::spawn(McpServer::new(toolset![add]).serve(server_end));
    /// let client = McpClient::connect(client_end).await?;
    /// let _running = server.await.unwrap()?;
    ///
    /// let tools = client.toolset(&McpToolOptions::new()).await?;
    /// assert!(tools.contains("add"));
    /// # Ok::<_, toolrunner::mcp::McpError>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect<T, E, A>(transport: T) -> Result<McpClient, McpError>
    where
        T: IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        McpClient::builder().connect(transport).await
    }

    async fn connect_as<T, E, A>(handler: ClientConfig, transport: T) -> Result<McpClient, McpError>
    where
        T: IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        match handler.serve(transport).await {
            Ok(service) => Ok(McpClient::from_parts(service, None, None, "mcp server")),
            Err(e) => Err(McpError::connect("over the given transport".to_owned(), e)),
        }
    }

    /// Wraps a connection made with rmcp directly, for example with a client
    /// handler of your own that answers sampling or elicitation requests.
    pub fn from_service<S: Service<RoleClient>>(
        service: RunningService<RoleClient, S>,
    ) -> McpClient {
        McpClient::from_parts(service, None, None, "mcp server")
    }

    fn from_parts<S: Service<RoleClient>>(
        service: RunningService<RoleClient, S>,
        child: Option<tokio::process::Child>,
        process_id: Option<u32>,
        fallback_name: &str,
    ) -> McpClient {
        let peer = service.peer().clone();
        let name = peer
            .peer_info()
            .and_then(|info| info.server_info.as_ref().map(|i| i.name.clone()))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| fallback_name.to_owned());
        McpClient {
            inner: Arc::new(Inner {
                peer,
                name,
                process_id,
                _service: Box::new(service),
                _child: child,
            }),
        }
    }

    /// The server's name, as it gave it in the handshake.
    pub fn server_name(&self) -> &str {
        &self.inner.name
    }

    /// What the server said about itself in the handshake: name, version,
    /// capabilities and instructions.
    pub fn server_info(&self) -> Option<Arc<rmcp::model::ServerPeerInfo>> {
        self.inner.peer.peer_info()
    }

    /// The rmcp peer, for requests this type does not wrap.
    pub fn peer(&self) -> &Peer<RoleClient> {
        &self.inner.peer
    }

    /// The id of the server's process, when this client started it.
    pub fn process_id(&self) -> Option<u32> {
        self.inner.process_id
    }

    /// Whether the connection is closed (the server exited or hung up).
    pub fn is_closed(&self) -> bool {
        self.inner.peer.is_transport_closed()
    }

    /// The server's tools, as it lists them (every page).
    ///
    /// # Errors
    ///
    /// When the request fails ([`McpError::is_request`]).
    pub async fn list_tools(&self) -> Result<Vec<rmcp::model::Tool>, McpError> {
        self.inner
            .peer
            .list_all_tools()
            .await
            .map_err(|e| McpError::request(&self.inner.name, "tools/list", e))
    }

    /// The server's tools as [`McpTool`]s, named as `options` says.
    ///
    /// The list is taken once: when the server's tools change, ask again.
    ///
    /// # Errors
    ///
    /// When listing fails ([`McpError::is_request`]), a name is invalid, or
    /// two tools would have the same name ([`McpError::is_invalid_tool_name`]).
    pub async fn tools(&self, options: &McpToolOptions) -> Result<Vec<McpTool>, McpError> {
        let mut tools: Vec<McpTool> = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for listed in self.list_tools().await? {
            let tool = McpTool::new(self, listed, options)?;
            let name = crate::Tool::definition(&tool).name.clone();
            if let Some(first) = seen.insert(name.clone(), tool.remote_name().to_owned()) {
                return Err(McpError::duplicate_tool_name(
                    name,
                    first,
                    tool.remote_name().to_owned(),
                ));
            }
            tools.push(tool);
        }
        Ok(tools)
    }

    /// The server's tools in a [`Toolset`], ready for a runner or to
    /// [`merge`](Toolset::merge) with local tools.
    ///
    /// # Errors
    ///
    /// As [`tools`](Self::tools).
    pub async fn toolset(&self, options: &McpToolOptions) -> Result<Toolset, McpError> {
        let mut toolset = Toolset::new();
        for tool in self.tools(options).await? {
            let remote = tool.remote_name().to_owned();
            toolset
                .add(tool)
                .map_err(|e| McpError::invalid_tool_name(remote, e.to_string()))?;
        }
        Ok(toolset)
    }

    /// Gets the prompt `name` with `arguments` (a JSON object of strings, or
    /// `null`) and converts its messages, as [`mcp_messages`] says.
    ///
    /// # Errors
    ///
    /// When `arguments` is neither an object nor `null`
    /// ([`McpError::is_invalid_arguments`]), the request fails
    /// ([`McpError::is_request`]), or a message has no Messages API
    /// equivalent ([`McpError::is_unsupported`]).
    pub async fn prompt(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<Vec<MessageParam>, McpError> {
        let mut params = GetPromptRequestParams::new(name);
        if let Some(arguments) = object_or_none(arguments)? {
            params = params.with_arguments(arguments);
        }
        let result = self
            .inner
            .peer
            .get_prompt(params)
            .await
            .map_err(|e| McpError::request(&self.inner.name, "prompts/get", e))?;
        mcp_messages(&result.messages)
    }

    /// Reads the resource at `uri` and converts it, as
    /// [`mcp_resource_to_content`] says.
    ///
    /// # Errors
    ///
    /// When the request fails ([`McpError::is_request`]) or the resource has
    /// no Messages API equivalent ([`McpError::is_unsupported`]).
    pub async fn resource(&self, uri: &str) -> Result<ContentBlock, McpError> {
        let result = self
            .inner
            .peer
            .read_resource(ReadResourceRequestParams::new(uri))
            .await
            .map_err(|e| McpError::request(&self.inner.name, "resources/read", e))?;
        mcp_resource_to_content(&result)
    }

    /// Calls the tool `name` (its name on the server) and converts the
    /// result. Never fails: every failure is an error result.
    pub(crate) async fn call_tool_output(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
        timeout: Option<Duration>,
        cancel: &CancellationToken,
    ) -> ToolOutput {
        let mut params = CallToolRequestParams::new(name.to_owned());
        if let Some(arguments) = arguments {
            params = params.with_arguments(arguments);
        }
        let call = self.inner.peer.call_tool(params);
        let limited = async {
            match timeout {
                Some(limit) => tokio::time::timeout(limit, call).await.map_err(|_| limit),
                None => Ok(call.await),
            }
        };
        // Dropping the request future tells the server the call is cancelled.
        let outcome = tokio::select! {
            outcome = limited => outcome,
            () = cancel.cancelled() => {
                return ToolOutput::error(format!("the call to mcp tool `{name}` was cancelled"));
            }
        };
        let server = &self.inner.name;
        match outcome {
            Ok(Ok(result)) => mcp_tool_result(result),
            Ok(Err(e)) if auth_refusal(&e).is_some() => ToolOutput::error(format!(
                "mcp server `{server}` refused the call to `{name}`: {}",
                auth_refusal(&e).unwrap_or_default()
            )),
            Ok(Err(e)) if is_transport_gone(&e) => {
                tracing::warn!(server = %server, tool = name, error = %e, "mcp server is gone");
                ToolOutput::error(format!(
                    "mcp tool `{name}` could not run: the connection to mcp server `{server}` is closed (the server exited or hung up)"
                ))
            }
            Ok(Err(rmcp::ServiceError::McpError(e))) => ToolOutput::error(format!(
                "mcp server `{server}` refused the call to `{name}`: {}",
                e.message
            )),
            Ok(Err(e)) => ToolOutput::error(format!(
                "the call to mcp tool `{name}` on server `{server}` failed: {e}"
            )),
            Err(limit) => ToolOutput::error(format!(
                "mcp tool `{name}` on server `{server}` did not answer within {limit:?}"
            )),
        }
    }
}

impl fmt::Debug for McpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpClient")
            .field("server", &self.inner.name)
            .field("process_id", &self.inner.process_id)
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// How an [`McpClient`] introduces itself in the MCP handshake, then how
/// it connects: [`stdio`](Self::stdio), [`http`](Self::http),
/// [`http_with_token`](Self::http_with_token) or [`connect`](Self::connect),
/// as the constructors of the same names on [`McpClient`].
///
/// By default the client is named after the running executable (its file
/// name without extension), of version `unknown`, as an
/// [`McpServer`](super::McpServer) is: servers log and show the name
/// (`clientInfo`) to say which program called them. MCP has no field for
/// the library a client is built with, so toolrunner's own name is not
/// sent. It offers no optional capabilities: sampling, roots and
/// elicitation need a handler of your own ([`McpClient::from_service`]).
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
/// use toolrunner::mcp::McpClient;
///
/// let notes = McpClient::builder()
///     .client_info(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
///     .http("http://127.0.0.1:8000/mcp")
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until it connects"]
pub struct McpClientBuilder {
    info: Implementation,
}

impl McpClientBuilder {
    fn new() -> Self {
        McpClientBuilder {
            info: identity::this_program("mcp-client"),
        }
    }

    /// Sets the name and version the client gives servers in the handshake
    /// (`clientInfo`).
    pub fn client_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.info = Implementation::new(name, version);
        self
    }

    fn handler(self) -> ClientConfig {
        ClientConfig::new(ClientCapabilities::default(), self.info)
    }

    /// As [`McpClient::stdio`].
    ///
    /// # Errors
    ///
    /// As [`McpClient::stdio`].
    pub async fn stdio(
        self,
        command: impl Into<tokio::process::Command>,
    ) -> Result<McpClient, McpError> {
        McpClient::stdio_as(self.handler(), command.into()).await
    }

    /// As [`McpClient::http`].
    ///
    /// # Errors
    ///
    /// As [`McpClient::http`].
    pub async fn http(self, url: impl Into<String>) -> Result<McpClient, McpError> {
        let config = StreamableHttpClientTransportConfig::with_uri(url.into());
        McpClient::http_as(self.handler(), config).await
    }

    /// As [`McpClient::http_with_token`].
    ///
    /// # Errors
    ///
    /// As [`McpClient::http_with_token`].
    pub async fn http_with_token(
        self,
        url: impl Into<String>,
        token: impl Into<String>,
    ) -> Result<McpClient, McpError> {
        let config = StreamableHttpClientTransportConfig::with_uri(url.into()).auth_header(token);
        McpClient::http_as(self.handler(), config).await
    }

    /// As [`McpClient::connect`].
    ///
    /// # Errors
    ///
    /// As [`McpClient::connect`].
    pub async fn connect<T, E, A>(self, transport: T) -> Result<McpClient, McpError>
    where
        T: IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        McpClient::connect_as(self.handler(), transport).await
    }
}

fn object_or_none(value: Value) -> Result<Option<JsonObject>, McpError> {
    match value {
        Value::Object(map) => Ok(Some(map)),
        Value::Null => Ok(None),
        other => Err(McpError::invalid_arguments(format!(
            "prompt arguments must be a JSON object or null, got {other}"
        ))),
    }
}

/// `program arg1 arg2`, for error messages.
fn show_command(command: &std::process::Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}
