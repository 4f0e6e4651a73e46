//! MCP over HTTP by hand: the one-shot JSON mode over real HTTP (content
//! types, no session, the same token and scope checks), the `serverInfo` a
//! server gives, and the guide's `curl` recipes run as written (skipped,
//! saying why, where `curl` is missing).

use crate::support;

use std::process::Command;

use serde_json::{Value, json};
use support::mcp_http::{INIT, post};
use toolrunner::mcp::rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use toolrunner::mcp::{McpHttpServer, McpServer};
use toolrunner::{AuthInfo, mcp_server, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Delete a note.
#[tool]
fn delete_note(id: u64) -> String {
    format!("deleted note {id}")
}

const TOKEN: &str = "a-long-random-token";

const CALL_ADD: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}"#;

const ADDED: &str =
    r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"5"}],"isError":false}}"#;

/// The guide page whose recipes are run here.
const GUIDE: &str = include_str!("../../../runner/src/_guide/mcp_by_hand.rs");

async fn json_server() -> McpHttpServer {
    mcp_server!(toolset![add, delete_note])
        .http()
        .bearer_token(TOKEN, AuthInfo::new().with_subject("reader"))
        .bearer_token("writer-token", AuthInfo::new().with_scopes(["notes:write"]))
        .require_scope("delete_note", "notes:write")
        .stateless_json()
        .serve("127.0.0.1:0")
        .await
        .expect("bind loopback")
}

#[tokio::test]
async fn stateless_json_answers_each_request_in_plain_json_without_a_session() {
    let server = json_server().await;
    let url = server.url();
    let auth = format!("Bearer {TOKEN}");

    // A tool call needs no handshake first.
    let (status, headers, body) = post(&url, &[("authorization", &auth)], CALL_ADD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers.get("mcp-session-id").is_none(), "{headers:?}");
    assert_eq!(body, ADDED);

    // `initialize` is answered alike, and opens nothing.
    let (status, headers, body) = post(&url, &[("authorization", &auth)], INIT).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers.get("mcp-session-id").is_none(), "{headers:?}");
    let init: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        init["result"]["serverInfo"],
        json!({"name": env!("CARGO_PKG_NAME"), "version": env!("CARGO_PKG_VERSION")})
    );
    let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let (status, _, body) = post(&url, &[("authorization", &auth)], initialized).await;
    assert_eq!((status, body.as_str()), (202, ""));

    // The token checks are those of the default mode.
    let (status, headers, body) = post(&url, &[], CALL_ADD).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer resource_metadata=\"http://"),
        "{headers:?}"
    );
    let (status, _, body) = post(&url, &[("authorization", "Bearer wrong")], CALL_ADD).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body, "unauthorized: invalid token: the token is not valid");

    // And so are the scopes.
    let delete = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_note","arguments":{"id":7}}}"#;
    let (status, _, body) = post(&url, &[("authorization", &auth)], delete).await;
    assert_eq!(status, 403, "{body}");
    let (status, headers, body) =
        post(&url, &[("authorization", "Bearer writer-token")], delete).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        body,
        r#"{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"deleted note 7"}],"isError":false}}"#
    );

    // No session, so no stream to open.
    let response = reqwest::Client::new()
        .get(&url)
        .header("authorization", &auth)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn stateless_json_holds_whatever_rmcp_config_is_set_after_it() {
    let server = McpServer::new(toolset![add])
        .http()
        .stateless_json()
        .rmcp_config(StreamableHttpServerConfig::default())
        .serve("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let (status, headers, body) = post(&server.url(), &[], CALL_ADD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body, ADDED);
}

/// The `serverInfo` of an `initialize` answered by a session server.
async fn server_info(server: McpServer) -> Value {
    let http = server
        .serve_http("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let (status, headers, body) = post(&http.url(), &[], INIT).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/event-stream");
    assert!(headers.get("mcp-session-id").is_some(), "{headers:?}");
    let data = body
        .lines()
        .find_map(|line| line.strip_prefix("data: {"))
        .unwrap_or_else(|| panic!("no answer in {body}"));
    let answer: Value = serde_json::from_str(&format!("{{{data}")).unwrap();
    answer["result"]["serverInfo"].clone()
}

#[tokio::test]
async fn server_info_is_the_serving_package_or_executable_never_the_library() {
    assert_eq!(
        server_info(mcp_server!(toolset![add])).await,
        json!({"name": "toolrunner-tests", "version": env!("CARGO_PKG_VERSION")})
    );
    let executable = std::env::current_exe().unwrap();
    let stem = executable.file_stem().unwrap().to_str().unwrap();
    assert!(stem.starts_with("end_to_end"), "{stem}");
    assert_eq!(
        server_info(McpServer::new(toolset![add])).await,
        json!({"name": stem, "version": "unknown"})
    );
    assert_eq!(
        server_info(McpServer::new(toolset![add]).with_server_info("notes", "2.1.0")).await,
        json!({"name": "notes", "version": "2.1.0"})
    );
}

/// The ```` ```sh ```` blocks of the guide page, each with the
/// ```` ```text ```` block that follows it (what it prints).
fn recipes() -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in GUIDE.lines() {
        let line = line.strip_prefix("//!").unwrap_or(line);
        let line = line.strip_prefix(' ').unwrap_or(line);
        match (&mut current, line) {
            (None, "```sh") | (None, "```text") => {
                current = Some((line.trim_start_matches('`').to_owned(), String::new()))
            }
            (Some(_), "```") => {
                let (kind, text) = current.take().unwrap();
                match kind.as_str() {
                    "sh" => blocks.push((text, String::new())),
                    // The first output block after a script is what it prints.
                    _ => {
                        if let Some(last) = blocks.last_mut().filter(|b| b.1.is_empty()) {
                            last.1 = text;
                        }
                    }
                }
            }
            (Some((_, text)), line) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Runs `script` with `sh -e` against `server`, and returns what it printed.
fn run(script: &str, server: &McpHttpServer) -> String {
    let out = Command::new("sh")
        .arg("-ec")
        .arg(script)
        .env("MCP_URL", server.url())
        .env("MCP_TOKEN", TOKEN)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{script}\nfailed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_curl_recipes_run_as_written() {
    let recipes = recipes();
    assert_eq!(recipes.len(), 2, "a session recipe and a JSON one");
    if Command::new("curl").arg("--version").output().is_err() {
        support::skip("`curl` is not installed, so the guide's recipes cannot be run");
        return;
    }
    let sessions = mcp_server!(toolset![add])
        .http()
        .bearer_tokens([TOKEN])
        .serve("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let (script, prints) = &recipes[0];
    let printed = tokio::task::block_in_place(|| run(script, &sessions));
    assert_eq!(&printed, prints);

    let json = json_server().await;
    let (script, prints) = &recipes[1];
    let printed = tokio::task::block_in_place(|| run(script, &json));
    assert_eq!(&printed, prints);
}
