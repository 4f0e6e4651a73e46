//! MCP: an MCP server's tools in a toolset, and a toolset served over MCP
//! (feature `mcp`).
//!
//! The `mcp` feature connects the runner to the Model Context Protocol both
//! ways, on the official SDK (`rmcp`, re-exported as
//! [`toolrunner::mcp::rmcp`](crate::mcp::rmcp)).
//!
//! # An MCP server's tools in a toolset
//!
//! Connect over stdio (a child process), streamable HTTP or any rmcp
//! transport; the server's tools become dynamic tools with the name,
//! description and input schema it gave, and calls go to the server:
//!
//! ```no_run
//! use toolrunner::mcp::{McpClient, McpToolOptions};
//! use toolrunner::{tool, toolset};
//!
//! /// Get the current weather for a city.
//! #[tool]
//! fn get_weather(city: String) -> String {
//!     format!("Sunny in {city}")
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut command = tokio::process::Command::new("npx");
//! command.args(["-y", "@modelcontextprotocol/server-everything"]);
//! let everything = McpClient::stdio(command).await?; // or McpClient::http(url)
//! let remote = everything.toolset(&McpToolOptions::new().prefix("everything_")).await?;
//! let tools = toolset![get_weather].merge(remote)?;
//! # Ok(()) }
//! ```
//!
//! - Results convert to content blocks: text → text; images → base64 images;
//!   embedded resources → documents (text, PDF) or images; `isError` →
//!   `is_error`; structured content alone → its JSON as text. Audio and
//!   resource links have no Messages API equivalent: the model gets an error
//!   result that says so.
//! - Names must match `^[a-zA-Z0-9_-]{1,64}$`: a name that does not is an
//!   error naming it, unless
//!   [`InvalidNames::Sanitize`](crate::mcp::InvalidNames::Sanitize) maps it
//!   (other characters → `_`, long names shortened with a hash). The server is
//!   always called by the tool's own name.
//! - A server that dies mid-run turns its pending and later calls into error
//!   results; the loop goes on.
//! - Prompts and resources convert too:
//!   [`client.prompt(name, args)`](crate::mcp::McpClient::prompt) gives
//!   messages, [`client.resource(uri)`](crate::mcp::McpClient::resource) a
//!   content block ([`mcp_messages`](crate::mcp::mcp_messages),
//!   [`mcp_resource_to_content`](crate::mcp::mcp_resource_to_content) for
//!   values you already have).
//! - `https` servers need rmcp's TLS: add `rmcp = { version = "3.9", features
//!   = ["reqwest"] }` to your `Cargo.toml`.
//! - The client introduces itself to the server (`clientInfo`, which servers
//!   log and show when asking for consent) by the running executable's name,
//!   of version `unknown`, as a served toolset does (`serverInfo`);
//!   [`McpClient::builder`](crate::mcp::McpClient::builder) names it:
//!   `McpClient::builder().client_info(env!("CARGO_PKG_NAME"),
//!   env!("CARGO_PKG_VERSION")).stdio(command)`.
//!
//! # A toolset served over MCP
//!
//! The same `#[tool]` functions, with the same schemas, descriptions and
//! validation, for desktop assistants and code editors:
//!
//! ```no_run
//! use toolrunner::{tool, toolset};
//!
//! /// Add two integers.
//! #[tool]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! toolset![add].serve_mcp_stdio().await?; // stdio
//! let server = toolset![add].serve_mcp_http("127.0.0.1:8000").await?; // http://127.0.0.1:8000/mcp
//! # Ok(()) }
//! ```
//!
//! Invalid input, errors and panics are `isError` results; images and
//! documents become MCP image and resource content.
//! [`McpServer`](crate::mcp::McpServer) sets the server's name, version and
//! instructions. Try it with `cargo run -p toolrunner-examples --features mcp
//! --example mcp_server`.
//!
//! # Serving HTTP safely
//!
//! Tools can delete files or charge cards, so the HTTP server defaults to
//! "this machine only": browser requests whose `Origin` is not a loopback page
//! get 403 (any web page could otherwise call your tools), foreign `Host`
//! names get 403 (DNS rebinding), and binding a non-loopback address such as
//! `0.0.0.0` without authentication is an error. To serve the network,
//! require a token:
//!
//! ```no_run
//! use toolrunner::mcp::{McpClient, McpServer};
//! use toolrunner::{AuthInfo, tool, toolset};
//!
//! /// List the notes.
//! #[tool]
//! fn list_notes() -> Vec<String> {
//!     Vec::new()
//! }
//!
//! /// Delete a note.
//! #[tool]
//! fn delete_note(id: u32) -> String {
//!     format!("deleted note {id}")
//! }
//!
//! # async fn run(token: String) -> Result<(), Box<dyn std::error::Error>> {
//! let server = McpServer::new(toolset![list_notes, delete_note])
//!     .http()
//!     .bearer_token(&token, AuthInfo::new().with_subject("ci").with_scopes(["notes:write"]))
//!     .require_scope("delete_note", "notes:write") // 403 insufficient_scope before the tool runs
//!     .allowed_hosts(["notes.internal"])
//!     .serve("0.0.0.0:8000")
//!     .await?;
//! // In another process (or another toolrunner server):
//! let notes = McpClient::http_with_token("http://notes.internal:8000/mcp", token).await?;
//! # Ok(()) }
//! ```
//!
//! - Requests without a valid `Authorization: Bearer` token get 401 with a
//!   `WWW-Authenticate` header pointing to the OAuth protected resource
//!   metadata (RFC 9728) at `/.well-known/oauth-protected-resource/mcp`, as
//!   the MCP authorization spec asks;
//!   [`authorization_servers([...])`](crate::mcp::McpHttpBuilder::authorization_servers)
//!   lists where clients get tokens.
//! - [`token_verifier(|token| async move { ... })`](crate::mcp::McpHttpBuilder::token_verifier)
//!   checks tokens with your identity provider; tools read the caller's
//!   subject and scopes with [`call.auth()`](crate::ToolCall::auth).
//! - A session belongs to the caller that opened it (its subject, or its token
//!   when the token has none): any other caller naming its id gets 404.
//! - [`allowed_origins([...])`](crate::mcp::McpHttpBuilder::allowed_origins)
//!   admits a web app;
//!   [`allow_unauthenticated()`](crate::mcp::McpHttpBuilder::allow_unauthenticated)
//!   serves the network without tokens (behind your own authentication), with
//!   a warning in the log.
//! - Connections are bounded, so that nobody can lock the server up without a
//!   token by opening sockets and sending nothing, or a header or a body a
//!   byte at a time. The defaults suit most servers; set them on the
//!   [builder](crate::mcp::McpHttpBuilder):
//!
//!   | Setting | Default | What happens |
//!   |---|---|---|
//!   | `header_read_timeout` | 10 s | a request head not complete this long after its first byte: connection closed |
//!   | `body_read_timeout` | 30 s | a request body not complete this long after its head: `408 Request Timeout`, connection closed |
//!   | `idle_timeout` | 60 s | no request in flight and nothing received this long: connection closed (a streaming response is never cut) |
//!   | `max_connections` | 256 | one more: the connection idle the longest is closed to make room; if every one has a request in flight, the newcomer waits until one finishes (later ones wait in the listener's queue) |
//!   | `max_requests_per_session` | 32 | one more in the same `Mcp-Session-Id` (its `GET` stream counts): `429 Too Many Requests`, `Retry-After: 1` |
//!
//!   A failed `accept` (out of file descriptors) also closes the connection
//!   idle the longest. Keep `max_connections` below the process's open-file
//!   limit (`ulimit -n`).
