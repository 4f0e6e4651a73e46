//! [`McpServer`]: a [`Toolset`] served over MCP.

use std::fmt;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::{RequestContext, RoleServer, RunningService};
use rmcp::transport::IntoTransport;
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use rmcp::{ErrorData, ServerHandler, ServiceExt};
use serde_json::Value;
use tokio::net::{TcpListener, ToSocketAddrs};
use tracing::Instrument;

use super::identity;
use super::scope::RequiredScopes;
use super::{McpError, McpHttpBuilder, McpHttpServer, tool_output_to_mcp};
use crate::AuthInfo;
use crate::tool::{ToolCall, ToolDefinition};
use crate::toolset::Toolset;

/// A [`Toolset`] as an MCP server.
///
/// It lists the toolset's tools with the names, descriptions and input
/// schemas the runner sends, and runs calls through [`Toolset::call`]: input
/// is validated the same way, and invalid input, errors and panics come back
/// as `isError` results. Images and documents a tool returns map to MCP
/// content (see [`tool_output_to_mcp`]). A call's MCP cancellation fires the
/// [`ToolCall`]'s cancellation token.
///
/// Only tools the model may call directly are served; tools reserved for
/// code execution (`allowed_callers` without `"direct"`) are not listed and
/// cannot be called. A call of an unknown tool is a protocol error, as the
/// MCP spec asks.
///
/// For the common cases use [`Toolset::serve_mcp_stdio`] and
/// [`Toolset::serve_mcp_http`]; this type adds the server's name, version
/// and instructions, and any rmcp transport.
///
/// Clients see a server's name and version in the handshake (`serverInfo`):
/// make them your package's with [`mcp_server!`](crate::mcp_server), or set
/// them with [`with_server_info`](Self::with_server_info). Otherwise the
/// name is the serving executable's file name, and the version `unknown`:
/// only a macro expanded in your crate can read its version.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
/// use toolrunner::mcp::McpServer;
/// use toolrunner::{tool, toolset};
///
/// /// Add two integers.
/// #[tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// McpServer::new(toolset![add])
///     .with_server_info("calculator", "1.0.0")
///     .with_instructions("Use `add` for sums.")
///     .serve_stdio()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct McpServer {
    toolset: Toolset,
    /// The served tools' MCP definitions, made once.
    tools: Arc<[rmcp::model::Tool]>,
    info: Implementation,
    instructions: Option<String>,
    /// Set by [`McpHttpBuilder`], which refuses such calls first; checked
    /// again here so that no other path can reach the tool.
    required_scopes: Arc<RequiredScopes>,
}

impl McpServer {
    /// Serves `toolset`, as a server named after the running executable
    /// (its file name without extension), of version `unknown`.
    /// [`mcp_server!`](crate::mcp_server) names it after your package
    /// instead, with its version.
    pub fn new(toolset: Toolset) -> Self {
        let tools = toolset
            .definitions()
            .filter(|def| def.allows_direct())
            .map(mcp_definition)
            .collect();
        McpServer {
            toolset,
            tools,
            info: identity::this_program("mcp-server"),
            instructions: None,
            required_scopes: Arc::default(),
        }
    }

    /// Serves `toolset` as [`new`](Self::new) does, after checking that it
    /// holds every state its tools need ([`Toolset::check_state`]).
    ///
    /// # Errors
    ///
    /// [`McpError::is_serve`], naming the tool and the missing state's type.
    pub fn try_new(toolset: Toolset) -> Result<Self, McpError> {
        let server = McpServer::new(toolset);
        server.check_state()?;
        Ok(server)
    }

    /// The error for a toolset that lacks a state its tools need. Every
    /// way of serving checks it first.
    pub(crate) fn check_state(&self) -> Result<(), McpError> {
        self.toolset
            .check_state()
            .map_err(|missing| McpError::invalid_config(missing.to_string()))
    }

    /// Sets the name and version the server gives clients in the handshake.
    #[must_use]
    pub fn with_server_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.info = Implementation::new(name, version);
        self
    }

    /// Sets instructions for the client's model: how to use these tools.
    #[must_use]
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// The toolset being served.
    pub fn toolset(&self) -> &Toolset {
        &self.toolset
    }

    /// Serves one client on this process's stdin and stdout, until the
    /// client disconnects. This is how desktop assistants and code editors
    /// start local MCP servers.
    ///
    /// Stdout carries the protocol: log to stderr only.
    ///
    /// # Errors
    ///
    /// When the MCP handshake fails, or the toolset lacks a state its tools
    /// need ([`McpError::is_serve`]).
    pub async fn serve_stdio(self) -> Result<(), McpError> {
        let running = self.serve(rmcp::transport::stdio()).await?;
        running
            .waiting()
            .await
            .map_err(|e| McpError::serve("the stdio server stopped unexpectedly", e))?;
        Ok(())
    }

    /// Serves one client over any rmcp transport, such as one end of
    /// `tokio::io::duplex`. Returns once the handshake is done; the server
    /// runs until the client disconnects or the returned service is
    /// cancelled or dropped.
    ///
    /// # Errors
    ///
    /// When the MCP handshake fails ([`McpError::is_serve`]).
    pub async fn serve<T, E, A>(
        self,
        transport: T,
    ) -> Result<RunningService<RoleServer, McpServer>, McpError>
    where
        T: IntoTransport<RoleServer, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        self.check_state()?;
        ServiceExt::serve(self, transport)
            .await
            .map_err(|e| McpError::serve("the mcp handshake failed", e))
    }

    /// Serves over streamable HTTP, configured step by step: tokens,
    /// scopes, origins, hosts. See [`McpHttpBuilder`] for the defaults and
    /// why.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
    /// use toolrunner::mcp::McpServer;
    /// use toolrunner::{tool, toolset};
    ///
    /// /// Add two integers.
    /// #[tool]
    /// fn add(a: i64, b: i64) -> i64 {
    ///     a + b
    /// }
    ///
    /// let token = std::env::var("CALC_MCP_TOKEN").expect("a token");
    /// let server = McpServer::new(toolset![add])
    ///     .http()
    ///     .bearer_tokens([token])
    ///     .serve("127.0.0.1:8000")
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn http(self) -> McpHttpBuilder {
        McpHttpBuilder::new(self)
    }

    /// Serves clients over streamable HTTP at `http://{addr}/mcp`, without
    /// authentication, for clients on this machine: only `localhost` and
    /// loopback addresses are accepted in the `Host` header (against DNS
    /// rebinding), and browsers only from loopback pages (`Origin`).
    /// Returns once the address is bound; the server runs in the background
    /// until the returned handle is shut down or dropped.
    ///
    /// For tokens, or to serve other machines, use [`http`](Self::http).
    ///
    /// # Errors
    ///
    /// When `addr` cannot be bound ([`McpError::is_serve`]), or is not
    /// loopback ([`McpError::is_insecure`]): serving the network needs
    /// authentication, or an explicit opt-out
    /// ([`McpHttpBuilder::allow_unauthenticated`]).
    pub async fn serve_http(self, addr: impl ToSocketAddrs) -> Result<McpHttpServer, McpError> {
        self.http().serve(addr).await
    }

    /// Like [`serve_http`](Self::serve_http) on a listener you bound, with
    /// rmcp's settings of your choice (sessions, JSON responses, allowed
    /// hosts and origins, to which loopback origins are added). Cancelling
    /// `config.cancellation_token` stops the server, as does
    /// [`McpHttpServer::shutdown`]. The same as
    /// `self.http().rmcp_config(config).serve_on(listener)`.
    ///
    /// # Errors
    ///
    /// As [`McpHttpBuilder::serve_on`].
    pub fn serve_http_with(
        self,
        listener: TcpListener,
        config: StreamableHttpServerConfig,
    ) -> Result<McpHttpServer, McpError> {
        self.http().rmcp_config(config).serve_on(listener)
    }

    pub(crate) fn with_required_scopes(mut self, scopes: Arc<RequiredScopes>) -> Self {
        self.required_scopes = scopes;
        self
    }

    pub(crate) fn served(&self, name: &str) -> bool {
        self.tools.iter().any(|tool| tool.name == name)
    }
}

impl Toolset {
    /// Serves this toolset's tools over MCP on stdin and stdout until the
    /// client disconnects (feature `mcp`). See [`McpServer`] for what is
    /// served and how, and [`McpServer::serve_stdio`].
    ///
    /// # Errors
    ///
    /// When the MCP handshake fails.
    pub async fn serve_mcp_stdio(self) -> Result<(), McpError> {
        McpServer::new(self).serve_stdio().await
    }

    /// Serves this toolset's tools over MCP streamable HTTP at
    /// `http://{addr}/mcp`, in the background, to clients on this machine
    /// (feature `mcp`). See [`McpServer::serve_http`]; for tokens or other
    /// machines, [`McpServer::http`].
    ///
    /// # Errors
    ///
    /// When `addr` cannot be bound, or is not loopback
    /// ([`McpError::is_insecure`]).
    pub async fn serve_mcp_http(self, addr: impl ToSocketAddrs) -> Result<McpHttpServer, McpError> {
        McpServer::new(self).serve_http(addr).await
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder().enable_tools().build();
        let config = ServerConfig::new(capabilities).with_server_info(self.info.clone());
        match &self.instructions {
            Some(instructions) => config.with_instructions(instructions.clone()),
            None => config,
        }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name;
        if !self.served(&name) {
            let available: Vec<&str> = self.tools.iter().map(|t| &*t.name).collect();
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{name}`; available tools: {}",
                    available.join(", ")
                ),
                None,
            ));
        }
        let auth = caller(&context);
        if let Err(missing) = self.required_scopes.check(&name, auth.as_deref()) {
            return Err(ErrorData::invalid_request(missing.message(), None));
        }
        let input = Value::Object(request.arguments.unwrap_or_default());
        let id = format!("mcp_{}", context.id);
        let span = tracing::info_span!(
            "mcp_tool_call",
            tool = %name,
            id = %id,
            is_error = tracing::field::Empty,
        );
        let mut call = ToolCall::new(id).with_cancellation(context.ct.clone());
        if let Some(auth) = auth {
            call = call.with_auth(auth);
        }
        let output = self
            .toolset
            .call(&name, input, call)
            .instrument(span.clone())
            .await;
        span.record("is_error", output.is_error);
        Ok(tool_output_to_mcp(&name, output).into())
    }
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServer")
            .field("name", &self.info.name)
            .field("version", &self.info.version)
            .field(
                "tools",
                &self.tools.iter().map(|t| &*t.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Who made the request, as the HTTP server's verifier said: rmcp passes
/// the HTTP request's parts, and the server put the caller in their
/// extensions. Over stdio there is nobody.
fn caller(context: &RequestContext<RoleServer>) -> Option<Arc<AuthInfo>> {
    context
        .extensions
        .get::<hyper::http::request::Parts>()?
        .extensions
        .get::<Arc<AuthInfo>>()
        .cloned()
}

/// The MCP definition of a tool: the same name, description and schema the
/// Messages API gets.
fn mcp_definition(def: &ToolDefinition) -> rmcp::model::Tool {
    let schema = match &def.input_schema {
        Value::Object(schema) => schema.clone(),
        // A schema that is not an object cannot describe MCP arguments
        // (always an object); accept any object rather than nothing.
        _ => serde_json::Map::from_iter([("type".to_owned(), Value::from("object"))]),
    };
    let mut tool = rmcp::model::Tool::new(def.name.clone(), def.description.clone(), schema);
    if def.description.is_empty() {
        tool.description = None;
    }
    tool
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rmcp::model::CallToolRequestParams;

    use super::*;
    use crate::tool::{Tool, ToolContext, ToolFuture, ToolOutput};

    /// Counts its runs.
    struct Counted {
        definition: ToolDefinition,
        runs: Arc<AtomicUsize>,
    }

    impl Tool for Counted {
        fn definition(&self) -> &ToolDefinition {
            &self.definition
        }

        fn call<'a>(&'a self, _input: Value, _cx: ToolContext) -> ToolFuture<'a> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { ToolOutput::text("ran") })
        }
    }

    #[tokio::test]
    async fn a_scope_required_of_a_tool_is_checked_again_at_the_call() {
        // The HTTP server refuses such calls first; a call that reaches the
        // handler anyway, with no caller, must not run the tool.
        let runs = Arc::new(AtomicUsize::new(0));
        let mut toolset = Toolset::new();
        let definition =
            ToolDefinition::new("delete", "Delete.", serde_json::json!({"type": "object"}));
        toolset
            .add(Counted {
                definition,
                runs: runs.clone(),
            })
            .unwrap();
        let mut scopes = RequiredScopes::default();
        scopes.add("delete".into(), "notes:write".into());
        let server = McpServer::new(toolset).with_required_scopes(Arc::new(scopes));

        let (client_end, server_end) = tokio::io::duplex(1 << 16);
        let serving = tokio::spawn(server.serve(server_end));
        let client = ().serve(client_end).await.unwrap();
        let _server = serving.await.unwrap().unwrap();
        let err = client
            .call_tool(CallToolRequestParams::new("delete"))
            .await
            .unwrap_err();
        let rmcp::ServiceError::McpError(err) = err else {
            panic!("{err}")
        };
        assert_eq!(
            err.message,
            "tool `delete` needs scope `notes:write`, which the token does not grant"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 0);
    }
}
