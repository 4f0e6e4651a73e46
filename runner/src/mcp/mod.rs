//! MCP both ways (feature `mcp`): an MCP server's tools in a [`Toolset`],
//! and a [`Toolset`] served over MCP.
//!
//! Built on [`rmcp`], the official Rust SDK, re-exported here so that your
//! code names the same version.
//!
//! **Client.** [`McpClient`] connects to an MCP server over stdio (a child
//! process), streamable HTTP or any rmcp transport, and turns its tools into
//! [`McpTool`]s: dynamic [`Tool`](crate::Tool)s with the name, description
//! and input schema the server gave, whose calls go to the server. Results
//! convert to content blocks (see [`mcp_tool_result`]); prompts and
//! resources convert with [`mcp_messages`] and [`mcp_resource_to_content`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use toolrunner::mcp::{McpClient, McpToolOptions};
//! use toolrunner::{Client, MessageParams, toolset};
//! # use toolrunner::tool;
//! # /// Add.
//! # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
//!
//! let mut command = tokio::process::Command::new("npx");
//! command.args(["-y", "@modelcontextprotocol/server-everything"]);
//! let server = McpClient::stdio(command).await?;
//! let remote = server.toolset(&McpToolOptions::new().prefix("everything_")).await?;
//!
//! let tools = toolset![add].merge(remote)?;
//! let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("Echo hello.");
//! let last = Client::from_env()?.tool_runner(params, tools).until_done().await?;
//! # Ok(())
//! # }
//! ```
//!
//! **Server.** [`McpServer`] serves a toolset's tools to MCP clients (desktop
//! assistants, code editors) with the same schemas, descriptions and
//! validation the runner uses: calls go through [`Toolset::call`], so invalid
//! input, errors and panics are `isError` results.
//!
//! ```no_run
//! # async fn run() -> Result<(), toolrunner::mcp::McpError> {
//! use toolrunner::{tool, toolset};
//!
//! /// Add two integers.
//! #[tool]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! toolset![add].serve_mcp_stdio().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Over HTTP ([`Toolset::serve_mcp_http`], [`McpServer::http`]) the server
//! is safe by default: browsers only from loopback pages, only loopback
//! `Host` names, and no non-loopback address without authentication. Bearer
//! tokens ([`McpHttpBuilder::bearer_tokens`], a [`TokenVerifier`]) follow the
//! MCP authorization spec: 401 with a pointer to the OAuth protected resource
//! metadata, 403 `insufficient_scope` for a tool that needs a scope
//! ([`McpHttpBuilder::require_scope`]); tools see the caller through
//! [`ToolCall::auth`]. [`McpClient::http_with_token`] is the other end.
//! Silent and slow clients are disconnected, and connections and a
//! session's requests in flight are bounded
//! ([`McpHttpBuilder::max_connections`]), so that nobody can hold the
//! server without a token.
//!
//! [`Toolset`]: crate::Toolset
//! [`Toolset::call`]: crate::Toolset::call
//! [`Toolset::serve_mcp_http`]: crate::Toolset::serve_mcp_http
//! [`ToolCall::auth`]: crate::ToolCall::auth

mod auth;
mod client;
mod connections;
mod error;
mod from_mcp;
mod held_body;
mod http;
mod http_builder;
mod identity;
mod limits;
mod metadata;
mod origin;
mod read_deadline;
mod scope;
mod server;
mod session_owner;
mod session_requests;
mod to_mcp;
mod tool;

pub use auth::{TokenError, TokenVerifier};

pub use client::{McpClient, McpClientBuilder};
pub use error::McpError;
pub use from_mcp::{
    mcp_content, mcp_message, mcp_messages, mcp_resource_contents, mcp_resource_to_content,
    mcp_tool_result,
};
pub use http::McpHttpServer;
pub use http_builder::McpHttpBuilder;
pub use server::McpServer;
pub use to_mcp::tool_output_to_mcp;
pub use tool::{InvalidNames, McpTool, McpToolOptions};

/// The MCP SDK this module is built on, for transports, models and handlers
/// of your own.
pub use rmcp;

// The public types cross tasks and threads: keep them `Send + Sync`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<McpClient>();
    assert_send_sync::<McpClientBuilder>();
    assert_send_sync::<McpTool>();
    assert_send_sync::<McpServer>();
    assert_send_sync::<McpHttpServer>();
    assert_send_sync::<McpHttpBuilder>();
    assert_send_sync::<TokenError>();
    assert_send_sync::<McpError>();
    assert_send_sync::<McpToolOptions>();
};
