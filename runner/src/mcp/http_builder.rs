//! [`McpHttpBuilder`]: who may reach an [`McpServer`] over HTTP, and how.

use std::fmt;
use std::time::Duration;

use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use tokio::net::{TcpListener, ToSocketAddrs};

use super::auth::Authenticator;
use super::http::Gate;
use super::limits::Limits;
use super::metadata::ResourceMetadata;
use super::origin::{Guard, LOOPBACK_ORIGINS};
use super::scope::RequiredScopes;
use super::session_owner::SessionOwners;
use super::session_requests::SessionRequests;
use super::{McpError, McpHttpServer, McpServer, TokenVerifier};
use crate::AuthInfo;

/// How an [`McpServer`] is served over streamable HTTP: authentication,
/// allowed origins and hosts, the scopes tools need. Made by
/// [`McpServer::http`]; [`serve`](Self::serve) starts the server.
///
/// The defaults are safe for a server on this machine and refuse anything
/// else until told otherwise:
///
/// - **Origin.** A request with an `Origin` header (sent by browsers) is
///   refused with 403 unless the page comes from a loopback address or
///   [`allowed_origins`](Self::allowed_origins): otherwise any web page the
///   user opens could call the tools. Requests without `Origin` (programs)
///   pass.
/// - **Host.** Only `localhost` and loopback addresses are accepted in the
///   `Host` header, against DNS rebinding; add names with
///   [`allowed_hosts`](Self::allowed_hosts) or [`resource_url`](Self::resource_url).
/// - **Authentication.** With [`bearer_tokens`](Self::bearer_tokens),
///   [`bearer_token`](Self::bearer_token) or [`token_verifier`](Self::token_verifier),
///   every request needs `Authorization: Bearer <token>`, as the MCP
///   authorization spec says: without one the answer is 401 with a
///   `WWW-Authenticate` header pointing to the OAuth 2.0 Protected Resource
///   Metadata (RFC 9728), served at `/.well-known/oauth-protected-resource/mcp`.
///   Tools see who called through [`ToolCall::auth`](crate::ToolCall::auth).
/// - **Non-loopback addresses.** Serving on an address other machines can
///   reach (such as `0.0.0.0`) without authentication is refused, unless
///   you opt out with [`allow_unauthenticated`](Self::allow_unauthenticated).
/// - **Connections.** Anyone who can connect could otherwise hold the
///   server without a token by opening sockets and sending nothing. A
///   request head must arrive within 10 seconds of its first byte
///   ([`header_read_timeout`](Self::header_read_timeout)) and its body
///   within 30 seconds of the head's end
///   ([`body_read_timeout`](Self::body_read_timeout)); a connection with
///   no request in flight is closed after 60 seconds
///   ([`idle_timeout`](Self::idle_timeout)), while a streaming response is
///   never cut; at most 256 connections are served at once, a new one
///   taking the place of the one idle the longest
///   ([`max_connections`](Self::max_connections)); and a session has at
///   most 32 requests in flight, more getting 429
///   ([`max_requests_per_session`](Self::max_requests_per_session)).
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
/// use toolrunner::mcp::McpServer;
/// use toolrunner::{AuthInfo, tool, toolset};
///
/// /// List notes.
/// #[tool]
/// fn list_notes() -> Vec<String> {
///     vec!["buy milk".into()]
/// }
///
/// /// Delete a note.
/// #[tool]
/// fn delete_note(id: u64) -> String {
///     format!("deleted {id}")
/// }
///
/// let token = std::env::var("NOTES_MCP_TOKEN").expect("a token");
/// let server = McpServer::new(toolset![list_notes, delete_note])
///     .http()
///     .bearer_token(token, AuthInfo::new().with_subject("me").with_scopes(["notes:write"]))
///     .require_scope("delete_note", "notes:write")
///     .allowed_hosts(["notes.internal:8000"])
///     .serve("0.0.0.0:8000")
///     .await?;
/// server.wait().await;
/// # Ok(())
/// # }
/// ```
#[must_use = "a builder does nothing until `serve` is called"]
pub struct McpHttpBuilder {
    server: McpServer,
    config: StreamableHttpServerConfig,
    auth: Authenticator,
    scopes: RequiredScopes,
    origins: Vec<String>,
    /// Added to rmcp's list at serve time, whatever config is set.
    hosts: Vec<String>,
    metadata: ResourceMetadata,
    allow_unauthenticated: bool,
    limits: Limits,
    /// Set at serve time, so that `rmcp_config` cannot undo it.
    stateless_json: bool,
}

impl McpHttpBuilder {
    pub(crate) fn new(server: McpServer) -> Self {
        McpHttpBuilder {
            server,
            config: StreamableHttpServerConfig::default(),
            auth: Authenticator::default(),
            scopes: RequiredScopes::default(),
            origins: Vec::new(),
            hosts: Vec::new(),
            metadata: ResourceMetadata::default(),
            allow_unauthenticated: false,
            limits: Limits::default(),
            stateless_json: false,
        }
    }

    /// Accepts these bearer tokens, each granting access with no subject
    /// and no scopes. For a few known clients, such as another toolrunner
    /// process ([`McpClient::http_with_token`](super::McpClient::http_with_token)).
    ///
    /// Tokens are compared in constant time and never shown in `Debug`
    /// output or logs. Make them long and random, and keep them out of
    /// source code.
    ///
    /// # Examples
    ///
    /// ```
    /// # use toolrunner::{tool, toolset};
    /// # /// Add.
    /// # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use toolrunner::mcp::{McpClient, McpServer};
    ///
    /// let server = McpServer::new(toolset![add])
    ///     .http()
    ///     .bearer_tokens(["a-long-random-token"])
    ///     .serve("127.0.0.1:0")
    ///     .await?;
    /// let client = McpClient::http_with_token(server.url(), "a-long-random-token").await?;
    /// assert!(McpClient::http(server.url()).await.is_err());
    /// # Ok::<_, toolrunner::mcp::McpError>(())
    /// # }).unwrap();
    /// ```
    pub fn bearer_tokens(mut self, tokens: impl IntoIterator<Item = impl Into<String>>) -> Self {
        for token in tokens {
            self.auth.add_token(token.into(), AuthInfo::new());
        }
        self
    }

    /// Accepts `token`, granting what `auth` says: its subject and scopes
    /// reach tools through [`ToolCall::auth`](crate::ToolCall::auth).
    ///
    /// # Examples
    ///
    /// ```
    /// use toolrunner::AuthInfo;
    /// use toolrunner::mcp::McpServer;
    ///
    /// let builder = McpServer::new(toolrunner::Toolset::new())
    ///     .http()
    ///     .bearer_token("ci-token", AuthInfo::new().with_subject("ci").with_scopes(["deploy"]));
    /// // Tokens never show.
    /// assert!(!format!("{builder:?}").contains("ci-token"));
    /// ```
    pub fn bearer_token(mut self, token: impl Into<String>, auth: AuthInfo) -> Self {
        self.auth.add_token(token.into(), auth);
        self
    }

    /// Asks `verifier` about every token that is not one of the fixed
    /// [`bearer_tokens`](Self::bearer_tokens): for tokens from an identity
    /// provider. Replaces a verifier set before. See [`TokenVerifier`].
    pub fn token_verifier(mut self, verifier: impl TokenVerifier) -> Self {
        self.auth.set_verifier(verifier);
        self
    }

    /// Refuses calls of `tool` from callers whose token lacks `scope`, with
    /// 403 and `WWW-Authenticate: Bearer error="insufficient_scope"` before
    /// the tool runs. Call it again to require more scopes of one tool.
    ///
    /// [`serve`](Self::serve) fails when no such tool is served, or when no
    /// authentication is configured (no caller could ever have the scope).
    ///
    /// # Examples
    ///
    /// ```
    /// # use toolrunner::{tool, toolset};
    /// # /// Add.
    /// # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use toolrunner::AuthInfo;
    /// use toolrunner::mcp::McpServer;
    ///
    /// let err = McpServer::new(toolset![add])
    ///     .http()
    ///     .bearer_token("t", AuthInfo::new().with_scopes(["calc"]))
    ///     .require_scope("sub", "calc")
    ///     .serve("127.0.0.1:0")
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "could not serve mcp: a scope is required of tool `sub`, which is not served"
    /// );
    /// let server = McpServer::new(toolset![add])
    ///     .http()
    ///     .bearer_token("t", AuthInfo::new().with_scopes(["calc"]))
    ///     .require_scope("add", "calc")
    ///     .serve("127.0.0.1:0")
    ///     .await?;
    /// # Ok::<_, toolrunner::mcp::McpError>(())
    /// # }).unwrap();
    /// ```
    pub fn require_scope(mut self, tool: impl Into<String>, scope: impl Into<String>) -> Self {
        self.scopes.add(tool.into(), scope.into());
        self
    }

    /// Also accepts requests from web pages of these origins (loopback
    /// pages always are): `https://app.example.com` (port 443),
    /// `http://localhost:3000`, `https://app.example.com:*` (any port), or
    /// `null`.
    ///
    /// [`serve`](Self::serve) fails on an entry that does not parse.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
    /// # use toolrunner::{tool, toolset};
    /// # /// Add.
    /// # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
    /// use toolrunner::mcp::McpServer;
    ///
    /// let token = std::env::var("CALC_TOKEN").expect("a token");
    /// let server = McpServer::new(toolset![add])
    ///     .http()
    ///     .bearer_tokens([token])
    ///     .allowed_origins(["https://calc.example.com", "http://localhost:*"])
    ///     .serve("127.0.0.1:8000")
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn allowed_origins(mut self, origins: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.origins.extend(origins.into_iter().map(Into::into));
        self
    }

    /// Also accepts these `Host` values (`name` for any port, or
    /// `name:port`), for a server reached by a name or an address other than
    /// loopback.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
    /// # use toolrunner::{tool, toolset};
    /// # /// Add.
    /// # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
    /// use toolrunner::mcp::McpServer;
    ///
    /// // Reached as http://calc.internal:8000/mcp or http://10.0.0.5:8000/mcp.
    /// let token = std::env::var("CALC_TOKEN").expect("a token");
    /// let server = McpServer::new(toolset![add])
    ///     .http()
    ///     .bearer_tokens([token])
    ///     .allowed_hosts(["calc.internal", "10.0.0.5:8000"])
    ///     .serve("0.0.0.0:8000")
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn allowed_hosts(mut self, hosts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.hosts.extend(hosts.into_iter().map(Into::into));
        self
    }

    /// The URL clients use to reach the server, such as
    /// `https://mcp.example.com/mcp` behind a TLS proxy: the `resource` of
    /// the metadata document, where its URL points, and an allowed host.
    /// By default it is `http://{Host header}/mcp`.
    ///
    /// [`serve`](Self::serve) fails when it is not an absolute `http` or
    /// `https` URL.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
    /// # use toolrunner::{tool, toolset};
    /// # /// Add.
    /// # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
    /// # let verifier = |_: String| async { Ok(toolrunner::AuthInfo::new()) };
    /// use toolrunner::mcp::McpServer;
    ///
    /// // Behind a TLS proxy, with tokens from the company's identity provider.
    /// let server = McpServer::new(toolset![add])
    ///     .http()
    ///     .token_verifier(verifier)
    ///     .resource_url("https://calc.example.com/mcp")
    ///     .authorization_servers(["https://login.example.com"])
    ///     .serve("127.0.0.1:8000")
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn resource_url(mut self, url: impl Into<String>) -> Self {
        self.metadata.resource = Some(url.into());
        self
    }

    /// The OAuth authorization servers that issue tokens for this server,
    /// listed in the metadata document for clients to get tokens from.
    pub fn authorization_servers(
        mut self,
        servers: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.metadata
            .authorization_servers
            .extend(servers.into_iter().map(Into::into));
        self
    }

    /// Scopes to list in the metadata document besides those of
    /// [`require_scope`](Self::require_scope), such as scopes tools check
    /// themselves.
    pub fn scopes_supported(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.metadata
            .scopes_supported
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Serves without authentication on any address, for a server behind a
    /// proxy or a network that authenticates callers itself. Logs a warning
    /// when the address is not loopback.
    ///
    /// # Examples
    ///
    /// ```
    /// # use toolrunner::{tool, toolset};
    /// # /// Add.
    /// # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use toolrunner::mcp::McpServer;
    ///
    /// let err = McpServer::new(toolset![add]).http().serve("0.0.0.0:0").await.unwrap_err();
    /// assert!(err.is_insecure());
    /// let server = McpServer::new(toolset![add])
    ///     .http()
    ///     .allow_unauthenticated()
    ///     .serve("0.0.0.0:0")
    ///     .await?;
    /// # Ok::<_, toolrunner::mcp::McpError>(())
    /// # }).unwrap();
    /// ```
    pub fn allow_unauthenticated(mut self) -> Self {
        self.allow_unauthenticated = true;
        self
    }

    /// How long a client may take to send a request's head (request line
    /// and headers), from its first byte; 10 seconds by default. A client
    /// still sending then is disconnected: it would otherwise hold a
    /// connection by trickling a header a byte at a time.
    ///
    /// [`serve`](Self::serve) fails on zero.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// How long a client may take to send a request's body, from the end
    /// of its head; 30 seconds by default. A body still coming then is
    /// answered `408 Request Timeout` (or by the MCP layer's error) and
    /// the connection closed: a client could otherwise hold a connection
    /// with a request whose body it trickles a byte at a time, or never
    /// sends.
    ///
    /// [`serve`](Self::serve) fails on zero.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.body_read_timeout = timeout;
        self
    }

    /// How long a connection may stay open with no request in flight and
    /// nothing received: after connecting, or after its last response;
    /// 60 seconds by default. The connection is then closed; a client
    /// connects again for its next request. A response that takes long,
    /// such as a tool call's event stream or a session's `GET` stream, is
    /// never cut: the clock runs only between requests.
    ///
    /// [`serve`](Self::serve) fails on zero.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.limits.idle_timeout = timeout;
        self
    }

    /// How many connections are served at once; 256 by default. Keep it
    /// below the process's limit on open files.
    ///
    /// At the bound, a new connection takes the place of the one idle the
    /// longest (no request in flight, or a request head still coming in),
    /// which is closed: clients that connect and send nothing cannot crowd
    /// out clients that make requests. When every connection has a request
    /// in flight, the new one waits until one of them finishes, and later
    /// ones wait in the listener's queue. The same happens when the
    /// process runs out of file descriptors: the longest idle connection
    /// is closed to accept the next.
    ///
    /// [`serve`](Self::serve) fails on zero.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
    /// # use toolrunner::{tool, toolset};
    /// # /// Add.
    /// # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
    /// use std::time::Duration;
    /// use toolrunner::mcp::McpServer;
    ///
    /// let token = std::env::var("CALC_TOKEN").expect("a token");
    /// let server = McpServer::new(toolset![add])
    ///     .http()
    ///     .bearer_tokens([token])
    ///     .max_connections(64)
    ///     .max_requests_per_session(8)
    ///     .header_read_timeout(Duration::from_secs(5))
    ///     .idle_timeout(Duration::from_secs(30))
    ///     .serve("0.0.0.0:8000")
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_connections(mut self, max: usize) -> Self {
        self.limits.max_connections = max;
        self
    }

    /// How many requests of one MCP session (one `Mcp-Session-Id`) may be
    /// in flight at once, its open `GET` event stream included; 32 by
    /// default. One more is answered `429 Too Many Requests` with
    /// `Retry-After: 1`, saying so, until one of them ends. Other sessions are not affected.
    ///
    /// [`serve`](Self::serve) fails on zero.
    pub fn max_requests_per_session(mut self, max: usize) -> Self {
        self.limits.max_requests_per_session = max;
        self
    }

    /// Answers each request on its own, with a plain JSON body: no session
    /// (no `Mcp-Session-Id` header is given or needed), no
    /// `notifications/initialized`, and `Content-Type: application/json`
    /// rather than an event stream. A client may call `tools/list` or
    /// `tools/call` straight away: for scripts, `curl`, and load balancers
    /// that spread requests over several processes. Tokens, scopes, origin
    /// and host checks apply as in the default mode.
    ///
    /// Requests still carry `Accept: application/json, text/event-stream`
    /// (the streamable HTTP transport asks every client to accept both). A
    /// `GET` stream has nothing to stream without a session, and is refused
    /// with 405. The guide's [`mcp_by_hand`](crate::_guide::mcp_by_hand)
    /// page has a `curl` recipe for both modes.
    ///
    /// # Examples
    ///
    /// ```
    /// # use toolrunner::{tool, toolset};
    /// # /// Add.
    /// # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use toolrunner::mcp_server;
    ///
    /// let server = mcp_server!(toolset![add])
    ///     .http()
    ///     .bearer_tokens(["a-long-random-token"])
    ///     .stateless_json()
    ///     .serve("127.0.0.1:0")
    ///     .await?;
    /// let reply = reqwest::Client::new()
    ///     .post(server.url())
    ///     .bearer_auth("a-long-random-token")
    ///     .header("accept", "application/json, text/event-stream")
    ///     .header("content-type", "application/json")
    ///     .body(r#"{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
    ///               "params": {"name": "add", "arguments": {"a": 2, "b": 3}}}"#)
    ///     .send()
    ///     .await
    ///     .unwrap();
    /// assert_eq!(reply.headers()["content-type"], "application/json");
    /// assert!(reply.headers().get("mcp-session-id").is_none());
    /// let body: serde_json::Value = serde_json::from_str(&reply.text().await.unwrap()).unwrap();
    /// assert_eq!(body["result"]["content"][0]["text"], "5");
    /// # Ok::<_, toolrunner::mcp::McpError>(())
    /// # }).unwrap();
    /// ```
    pub fn stateless_json(mut self) -> Self {
        self.stateless_json = true;
        self
    }

    /// rmcp's settings: sessions, JSON responses, keep-alives, body size,
    /// and its `Host` and `Origin` lists, to which this builder's
    /// [`allowed_hosts`](Self::allowed_hosts) and
    /// [`allowed_origins`](Self::allowed_origins) are added (an origin entry
    /// without a port means the scheme's default port here, as in
    /// `allowed_origins`). Its cancellation token stops the server.
    pub fn rmcp_config(mut self, config: StreamableHttpServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Binds `addr` and serves at `http://{addr}/mcp` in the background,
    /// until the returned handle is shut down or dropped.
    ///
    /// # Errors
    ///
    /// When `addr` cannot be bound, or as [`serve_on`](Self::serve_on).
    pub async fn serve(self, addr: impl ToSocketAddrs) -> Result<McpHttpServer, McpError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| McpError::serve("could not bind the http address", e))?;
        self.serve_on(listener)
    }

    /// Serves on a listener you bound, in the background.
    ///
    /// # Errors
    ///
    /// [`McpError::is_insecure`] when the address is not loopback and no
    /// authentication is configured (nor [`allow_unauthenticated`](Self::allow_unauthenticated)).
    /// [`McpError::is_serve`] when the configuration cannot work: a scope
    /// required of a tool not served, or with no authentication; an origin
    /// or resource URL that does not parse; a listener whose address cannot
    /// be read.
    pub fn serve_on(mut self, listener: TcpListener) -> Result<McpHttpServer, McpError> {
        let addr = listener
            .local_addr()
            .map_err(|e| McpError::serve("could not read the listener's address", e))?;
        self.server.check_state()?;
        self.limits.check().map_err(McpError::invalid_config)?;
        let authenticated = self.auth.is_enabled();
        let exposed = !addr.ip().is_loopback() && !authenticated;
        if exposed && !self.allow_unauthenticated {
            return Err(McpError::insecure(addr));
        }
        for tool in self.scopes.tools() {
            if !self.server.served(tool) {
                return Err(McpError::invalid_config(format!(
                    "a scope is required of tool `{tool}`, which is not served"
                )));
            }
        }
        if !self.scopes.is_empty() && !authenticated {
            return Err(McpError::invalid_config(
                "tools require scopes, but no authentication is configured to grant them (add `bearer_token` or `token_verifier`)",
            ));
        }
        if let Some(url) = &self.metadata.resource {
            let host = resource_host(url).ok_or_else(|| {
                McpError::invalid_config(format!(
                    "invalid resource url `{url}`: expected an absolute `http` or `https` url such as `https://mcp.example.com/mcp`"
                ))
            })?;
            self.hosts.push(host);
        }
        if self.stateless_json {
            self.config.legacy_session_mode = false;
            self.config.json_response = true;
        }
        // An empty list means "any host" to rmcp: only add to a real list.
        if !self.config.allowed_hosts.is_empty() {
            self.config.allowed_hosts.append(&mut self.hosts);
        }
        // rmcp checks origins too: give it the same list, spelled out so
        // that both read it alike (a non-empty list turns its check on).
        let mut origins: Vec<String> = LOOPBACK_ORIGINS.iter().map(|&o| o.to_owned()).collect();
        origins.append(&mut self.config.allowed_origins);
        origins.append(&mut self.origins);
        let guard =
            Guard::new(&self.config.allowed_hosts, &origins).map_err(McpError::invalid_config)?;
        self.config.allowed_origins = guard.origins();

        for scope in self.scopes.all() {
            if !self.metadata.scopes_supported.contains(&scope) {
                self.metadata.scopes_supported.push(scope);
            }
        }
        let gate = Gate {
            guard,
            auth: self.auth,
            scopes: std::sync::Arc::new(self.scopes),
            metadata: self.metadata,
            max_body: self.config.max_request_body_bytes,
            owners: SessionOwners::new(Default::default()),
            requests: SessionRequests::new(self.limits.max_requests_per_session),
        };
        let server = self.server.with_required_scopes(gate.scopes.clone());
        if exposed {
            tracing::warn!(
                %addr,
                "serving mcp tools without authentication on a non-loopback address: anyone who can reach it can call every tool"
            );
        }
        McpHttpServer::start(server, listener, self.config, gate, self.limits)
    }
}

/// The `host[:port]` of an absolute `http` or `https` URL.
fn resource_host(url: &str) -> Option<String> {
    let uri: hyper::Uri = url.parse().ok()?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return None;
    }
    Some(uri.authority()?.as_str().to_owned())
}

impl fmt::Debug for McpHttpBuilder {
    // No tokens: the authenticator shows only how many there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpHttpBuilder")
            .field("server", &self.server)
            .field("auth", &self.auth)
            .field("required_scopes", &self.scopes)
            .field("allowed_origins", &self.origins)
            .field("allowed_hosts", &self.hosts)
            .field("metadata", &self.metadata)
            .field("allow_unauthenticated", &self.allow_unauthenticated)
            .field("limits", &self.limits)
            .field("stateless_json", &self.stateless_json)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::span;

    use super::*;

    /// Collects the messages of warnings and errors.
    struct Warnings(Arc<Mutex<Vec<String>>>);

    struct Message(String);

    impl tracing::field::Visit for Message {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
            if field.name() == "message" {
                self.0 = format!("{value:?}");
            }
        }
    }

    impl tracing::Subscriber for Warnings {
        fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
            *metadata.level() <= tracing::Level::WARN
        }
        fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
            span::Id::from_u64(1)
        }
        fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
        fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.lock().unwrap().push(message.0);
        }
        fn enter(&self, _: &span::Id) {}
        fn exit(&self, _: &span::Id) {}
    }

    #[tokio::test]
    async fn opting_out_on_the_network_logs_a_warning() {
        let warnings = Arc::new(Mutex::new(Vec::new()));
        let _guard = tracing::subscriber::set_default(Warnings(warnings.clone()));
        let loopback = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _local = McpServer::new(crate::Toolset::new())
            .http()
            .allow_unauthenticated()
            .serve_on(loopback)
            .unwrap();
        assert!(warnings.lock().unwrap().is_empty());
        let network = TcpListener::bind("0.0.0.0:0").await.unwrap();
        let _network = McpServer::new(crate::Toolset::new())
            .http()
            .allow_unauthenticated()
            .serve_on(network)
            .unwrap();
        assert_eq!(
            *warnings.lock().unwrap(),
            [
                "serving mcp tools without authentication on a non-loopback address: anyone who can reach it can call every tool"
            ]
        );
    }

    #[test]
    fn debug_output_redacts_tokens() {
        let builder = McpServer::new(crate::Toolset::new())
            .http()
            .bearer_tokens(["s3cret-token"])
            .bearer_token("other-s3cret", AuthInfo::new().with_subject("ci"));
        let shown = format!("{builder:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("tokens: 2 (redacted)"), "{shown}");
    }

    #[test]
    fn resource_urls_must_be_absolute_http() {
        assert_eq!(
            resource_host("https://mcp.example.com/mcp").as_deref(),
            Some("mcp.example.com")
        );
        assert_eq!(
            resource_host("http://10.0.0.5:8000/mcp").as_deref(),
            Some("10.0.0.5:8000")
        );
        assert_eq!(resource_host("/mcp"), None);
        assert_eq!(resource_host("ftp://mcp.example.com/"), None);
    }
}
