//! An MCP HTTP server in a process of its own, for the test that runs it
//! under a small limit on open files (`tests/tests/mcp_http_limits.rs`).
//!
//! `mcp-http-server <token>`: serves the tool `add` on a free loopback
//! port with the default limits, prints the URL, and serves until killed.

use std::process::ExitCode;

use toolrunner::mcp::McpServer;
use toolrunner::{tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(token) = std::env::args().nth(1) else {
        eprintln!("usage: mcp-http-server <token>");
        return ExitCode::FAILURE;
    };
    let server = match McpServer::new(toolset![add])
        .http()
        .bearer_tokens([token])
        .serve("127.0.0.1:0")
        .await
    {
        Ok(server) => server,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", server.url());
    server.wait().await;
    ExitCode::SUCCESS
}
