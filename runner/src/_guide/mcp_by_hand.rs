//! # MCP over HTTP by hand (feature `mcp`)
//!
//! An MCP client library hides the protocol; when checking a server from a
//! shell, a script or another language, it helps to see it. This page calls
//! a tool of a served toolset with `curl`, first in the default mode, with a
//! session, then in the one-shot JSON mode.
//!
//! The server: the tool `add`, behind a bearer token, named after your
//! package in the handshake ([`mcp_server!`](crate::mcp_server)).
//!
//! ```no_run
//! # async fn run() -> Result<(), toolrunner::mcp::McpError> {
//! use toolrunner::{mcp_server, tool, toolset};
//!
//! /// Add two integers.
//! #[tool]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! let token = std::env::var("MCP_TOKEN").expect("a token");
//! let server = mcp_server!(toolset![add])
//!     .http()
//!     .bearer_tokens([token])
//!     .serve("127.0.0.1:8000")
//!     .await?;
//! server.wait().await;
//! # Ok(())
//! # }
//! ```
//!
//! Below, `MCP_URL` is `http://127.0.0.1:8000/mcp` and `MCP_TOKEN` the
//! token. Every request is a `POST` of one JSON-RPC message to that URL,
//! with these headers:
//!
//! - `Authorization: Bearer $MCP_TOKEN`, when the server has tokens (401
//!   without it, with a `WWW-Authenticate` header saying where tokens come
//!   from);
//! - `Content-Type: application/json`;
//! - `Accept: application/json, text/event-stream`: the streamable HTTP
//!   transport asks every client to accept both, and answers 406 otherwise,
//!   even when it will answer in JSON.
//!
//! # With a session (the default)
//!
//! `initialize` opens a session, which the server names in the
//! `Mcp-Session-Id` header of its answer. Every later request sends that
//! header back, with `MCP-Protocol-Version` (the version `initialize`
//! agreed on). The client then says `notifications/initialized`, and may
//! call tools. Answers to requests come as an event stream
//! (`Content-Type: text/event-stream`): the JSON-RPC answer is the `data:`
//! line of an event, after a first event that only tells the client how
//! soon to reconnect. A `DELETE` ends the session.
//!
//! ```sh
//! # Open a session: the server names it in the `Mcp-Session-Id` header.
//! SESSION=$(curl -s -D - -o /dev/null "$MCP_URL" \
//!   -H "Authorization: Bearer $MCP_TOKEN" \
//!   -H 'Content-Type: application/json' \
//!   -H 'Accept: application/json, text/event-stream' \
//!   -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}' \
//!   | tr -d '\r' | awk 'tolower($1) == "mcp-session-id:" { print $2 }')
//!
//! # Every later request names the session and the protocol version.
//! mcp() {
//!   curl -s "$MCP_URL" \
//!     -H "Authorization: Bearer $MCP_TOKEN" \
//!     -H "Mcp-Session-Id: $SESSION" \
//!     -H 'MCP-Protocol-Version: 2025-06-18' \
//!     -H 'Content-Type: application/json' \
//!     -H 'Accept: application/json, text/event-stream' \
//!     "$@"
//! }
//!
//! # The handshake is done: 202 Accepted, no body.
//! mcp -o /dev/null -w '%{http_code}\n' -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
//!
//! # Call a tool: the answer is the `data:` line of the event stream.
//! mcp -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}' \
//!   | sed -n 's/^data: {/{/p'
//!
//! # End the session.
//! mcp -X DELETE -o /dev/null -w '%{http_code}\n'
//! ```
//!
//! prints
//!
//! ```text
//! 202
//! {"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"5"}],"isError":false}}
//! 202
//! ```
//!
//! Without `| sed`, the call's answer reads as the stream it is:
//!
//! ```text
//! data:
//! id: 0
//! retry: 3000
//!
//! data: {"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"5"}],"isError":false}}
//! ```
//!
//! `curl -i` on `initialize` shows the session header, and the server's
//! name and version in `serverInfo`:
//!
//! ```text
//! HTTP/1.1 200 OK
//! content-type: text/event-stream
//! mcp-session-id: cd439b4f-5a66-46ae-b878-d488b871a2b9
//! ...
//! data: {"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"my-server","version":"0.1.0"}}}
//! ```
//!
//! # One-shot JSON
//!
//! [`McpHttpBuilder::stateless_json`](crate::mcp::McpHttpBuilder::stateless_json)
//! answers each request on its own: no session, no handshake needed, and
//! the answer is a plain JSON body (`Content-Type: application/json`). The
//! token, scope, host and origin checks are the same.
//!
//! ```no_run
//! # async fn run() -> Result<(), toolrunner::mcp::McpError> {
//! # use toolrunner::{mcp_server, tool, toolset};
//! # /// Add two integers.
//! # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
//! # let token = String::new();
//! let server = mcp_server!(toolset![add])
//!     .http()
//!     .bearer_tokens([token])
//!     .stateless_json()
//!     .serve("127.0.0.1:8000")
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! ```sh
//! curl -s "$MCP_URL" \
//!   -H "Authorization: Bearer $MCP_TOKEN" \
//!   -H 'Content-Type: application/json' \
//!   -H 'Accept: application/json, text/event-stream' \
//!   -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}'
//! echo
//! ```
//!
//! prints
//!
//! ```text
//! {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"5"}],"isError":false}}
//! ```
//!
//! `initialize` and `tools/list` work the same way, one request each. A
//! tool that sends notifications before its answer (progress, logs) is
//! still answered with an event stream, so that nothing is lost.
//!
//! The workspace's tests run both scripts above against a served toolset,
//! so this page cannot drift from the server.
