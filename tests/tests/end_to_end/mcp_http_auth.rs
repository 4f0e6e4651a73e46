//! The MCP HTTP server's defenses, over real loopback HTTP: `Origin` and
//! `Host` checks, bearer tokens with the OAuth protected resource metadata
//! (RFC 9728), per-tool scopes, the refusal to serve the network without
//! authentication; and clients that authenticate: `McpClient`, and the
//! official TypeScript SDK's client (installed from npm when Node.js is
//! there; skipped with a reason if not).

use crate::support;

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use support::mcp_http::{INIT, post, session};
use toolrunner::mcp::{McpClient, McpHttpServer, McpServer, McpToolOptions, TokenError};
use toolrunner::{AuthInfo, State, ToolCall, ToolOutput, Toolset, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// How many times `delete_note` ran.
struct Deletes(AtomicUsize);

/// Delete a note.
#[tool]
fn delete_note(deletes: State<Deletes>, id: u64) -> String {
    deletes.0.fetch_add(1, Ordering::SeqCst);
    format!("deleted note {id}")
}

/// Who is calling, and with which scopes.
#[tool]
fn whoami(call: ToolCall) -> String {
    match call.auth() {
        Some(auth) => format!(
            "{} ({}): {}",
            auth.subject().unwrap_or("anonymous"),
            auth.client_id().unwrap_or("no client"),
            auth.scopes().join(" ")
        ),
        None => "nobody".into(),
    }
}

/// Archive a note: needs `notes:write`, checked by the tool itself.
#[tool]
fn archive_note(call: ToolCall, id: u64) -> Result<String, String> {
    match call.auth() {
        Some(auth) if auth.has_scope("notes:write") => Ok(format!("archived note {id}")),
        _ => Err("archiving needs the `notes:write` scope".into()),
    }
}

fn notes() -> (Toolset, Arc<Deletes>) {
    let deletes = Arc::new(Deletes(AtomicUsize::new(0)));
    let tools = toolset![add, delete_note, whoami, archive_note].with_shared_state(deletes.clone());
    (tools, deletes)
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("reach the server");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn www_authenticate(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The server's base URL, `http://127.0.0.1:port`.
fn base(server: &McpHttpServer) -> String {
    format!("http://{}", server.local_addr())
}

#[tokio::test]
async fn foreign_origins_and_hosts_get_403_and_loopback_pages_and_programs_pass() {
    let server = notes().0.serve_mcp_http("127.0.0.1:0").await.unwrap();
    let url = server.url();

    // A page on another site, through the user's browser.
    let (status, _, body) = post(&url, &[("origin", "http://evil.example")], INIT).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("origin `http://evil.example` is not allowed"),
        "{body}"
    );
    // `null` (sandboxed frames, files) is foreign too.
    let (status, _, _) = post(&url, &[("origin", "null")], INIT).await;
    assert_eq!(status, 403);

    // Programs send no Origin; pages served from this machine are fine.
    for headers in [
        &[][..],
        &[("origin", "http://localhost:5173")][..],
        &[("origin", &*base(&server))][..],
        &[("origin", "http://[::1]:3000")][..],
    ] {
        let (status, response, body) = post(&url, headers, INIT).await;
        assert_eq!(status, 200, "{headers:?}: {body}");
        assert!(response.contains_key("mcp-session-id"), "{headers:?}");
    }

    // DNS rebinding: a foreign name for this address.
    let (status, _, body) = post(&url, &[("host", "evil.example")], INIT).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("host `evil.example` is not allowed"),
        "{body}"
    );

    // The client the crate ships sends no Origin, and works.
    let client = McpClient::http(&url).await.unwrap();
    assert_eq!(client.list_tools().await.unwrap().len(), 4);
}

#[tokio::test]
async fn allowed_origins_and_hosts_extend_the_defaults() {
    let server = McpServer::new(notes().0)
        .http()
        .allowed_origins(["https://app.example.com", "http://dev.example:*"])
        .allowed_hosts(["notes.example"])
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.url();
    for (origin, expected) in [
        ("https://app.example.com", 200),
        ("http://dev.example:8080", 200),
        ("http://localhost:3000", 200),
        ("https://app.example.com:8443", 403),
        ("http://app.example.com", 403),
        ("https://evil.example", 403),
    ] {
        let (status, _, _) = post(&url, &[("origin", origin)], INIT).await;
        assert_eq!(status, expected, "{origin}");
    }
    let (status, _, _) = post(&url, &[("host", "notes.example:8000")], INIT).await;
    assert_eq!(status, 200);
    let (status, _, _) = post(&url, &[("host", "other.example")], INIT).await;
    assert_eq!(status, 403);

    let err = McpServer::new(notes().0)
        .http()
        .allowed_origins(["app.example.com"])
        .serve("127.0.0.1:0")
        .await
        .unwrap_err();
    assert!(err.is_serve());
    assert!(
        err.to_string()
            .starts_with("could not serve mcp: invalid allowed origin `app.example.com`"),
        "{err}"
    );
}

#[tokio::test]
async fn tokens_are_required_and_the_401_points_to_the_metadata() {
    let server = McpServer::new(notes().0)
        .http()
        .bearer_tokens(["s3cret-1", "s3cret-2"])
        .authorization_servers(["https://auth.example.com"])
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.url();
    let metadata_url = format!("{}/.well-known/oauth-protected-resource/mcp", base(&server));

    // No token: 401, and where to learn how to get one.
    let (status, headers, body) = post(&url, &[], INIT).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        www_authenticate(&headers),
        format!("Bearer resource_metadata=\"{metadata_url}\"")
    );
    assert!(
        body.contains("needs `Authorization: Bearer <token>`"),
        "{body}"
    );
    // The event stream (GET) and session end (DELETE) need it too.
    let status = reqwest::get(&url).await.unwrap().status().as_u16();
    assert_eq!(status, 401);

    // The metadata document, at both well-known paths.
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let (status, body) = get(&format!("{}{path}", base(&server))).await;
        assert_eq!(status, 200, "{path}: {body}");
        let document: Value = serde_json::from_str(&body).expect("metadata is JSON");
        assert_eq!(document["resource"], url);
        assert_eq!(document["bearer_methods_supported"], json!(["header"]));
        assert_eq!(
            document["authorization_servers"],
            json!(["https://auth.example.com"])
        );
    }

    // A wrong token: 401 invalid_token. A foreign page is refused first.
    let (status, headers, _) = post(&url, &[("authorization", "Bearer guess")], INIT).await;
    assert_eq!(status, 401);
    let challenge = www_authenticate(&headers);
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );
    assert!(challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")));
    let (status, _, _) = post(&url, &[("origin", "http://evil.example")], INIT).await;
    assert_eq!(status, 403);
    // Only `Bearer` tokens in the header count.
    let (status, _, _) = post(&url, &[("authorization", "Basic czNjcmV0LTE=")], INIT).await;
    assert_eq!(status, 401);

    // McpClient without a token cannot connect; with one it lists and calls.
    let err = McpClient::http(&url).await.unwrap_err();
    assert!(err.is_connect(), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "could not connect to mcp server at {url}: it wants a valid bearer token (http 401)"
        )
    );
    let err = McpClient::http_with_token(&url, "guess").await.unwrap_err();
    assert!(
        !format!("{err:?}").contains("guess"),
        "the token leaked: {err:?}"
    );
    let client = McpClient::http_with_token(&url, "s3cret-2").await.unwrap();
    let tools = client.toolset(&McpToolOptions::new()).await.unwrap();
    assert_eq!(
        tools.names().collect::<Vec<_>>(),
        ["add", "delete_note", "whoami", "archive_note"]
    );
    let sum = tools
        .call("add", json!({"a": 40, "b": 2}), ToolCall::new("t1"))
        .await;
    assert_eq!(sum, ToolOutput::text("42"));
    // A plain token grants access, and no identity or scope.
    let who = tools.call("whoami", json!({}), ToolCall::new("t2")).await;
    assert_eq!(who, ToolOutput::text("anonymous (no client): "));
}

#[tokio::test]
async fn a_server_without_tokens_serves_no_metadata() {
    let server = notes().0.serve_mcp_http("127.0.0.1:0").await.unwrap();
    let (status, _) = get(&format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        base(&server)
    ))
    .await;
    assert_eq!(status, 404);
    let client = McpClient::http(server.url()).await.unwrap();
    let tools = client.toolset(&McpToolOptions::new()).await.unwrap();
    let who = tools.call("whoami", json!({}), ToolCall::new("t")).await;
    assert_eq!(who, ToolOutput::text("nobody"));
}

#[tokio::test]
async fn a_missing_scope_is_refused_with_403_before_the_tool_runs() {
    let (tools, deletes) = notes();
    let server = toolrunner::mcp_server!(tools)
        .http()
        .bearer_token(
            "reader-token",
            AuthInfo::new()
                .with_subject("rita")
                .with_client_id("notes-app")
                .with_scopes(["notes:read"]),
        )
        .bearer_token(
            "writer-token",
            AuthInfo::new()
                .with_subject("wendy")
                .with_scopes(["notes:read", "notes:write"]),
        )
        .require_scope("delete_note", "notes:write")
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.url();

    // Over raw HTTP: 403 with the challenge the MCP spec asks for.
    let id = session(&url, "reader-token").await;
    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_note","arguments":{"id":7}}}"#;
    let (status, headers, body) = post(
        &url,
        &[
            ("authorization", "Bearer reader-token"),
            ("mcp-session-id", &id),
        ],
        call,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        www_authenticate(&headers),
        format!(
            "Bearer error=\"insufficient_scope\", error_description=\"tool `delete_note` needs scope `notes:write`, which the token does not grant\", scope=\"notes:write\", resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
            base(&server)
        )
    );
    // The same in a batch.
    let batch = format!(r#"[{{"jsonrpc":"2.0","id":3,"method":"tools/list"}},{call}]"#);
    let (status, _, _) = post(
        &url,
        &[
            ("authorization", "Bearer reader-token"),
            ("mcp-session-id", &id),
        ],
        &batch,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(deletes.0.load(Ordering::SeqCst), 0, "the tool ran");

    // Through McpClient: an error result, and still no run. Other tools work.
    let reader = McpClient::http_with_token(&url, "reader-token")
        .await
        .unwrap();
    let tools = reader.toolset(&McpToolOptions::new()).await.unwrap();
    let refused = tools
        .call("delete_note", json!({"id": 7}), ToolCall::new("t1"))
        .await;
    assert_eq!(
        refused,
        ToolOutput::error(
            "mcp server `toolrunner-tests` refused the call to `delete_note`: the token lacks scope `notes:write`"
        )
    );
    assert_eq!(deletes.0.load(Ordering::SeqCst), 0, "the tool ran");
    let who = tools.call("whoami", json!({}), ToolCall::new("t2")).await;
    assert_eq!(who, ToolOutput::text("rita (notes-app): notes:read"));
    // A tool that checks scopes itself sees the caller's.
    let archived = tools
        .call("archive_note", json!({"id": 7}), ToolCall::new("t3"))
        .await;
    assert_eq!(
        archived,
        ToolOutput::error("archiving needs the `notes:write` scope")
    );

    let writer = McpClient::http_with_token(&url, "writer-token")
        .await
        .unwrap();
    let tools = writer.toolset(&McpToolOptions::new()).await.unwrap();
    let deleted = tools
        .call("delete_note", json!({"id": 7}), ToolCall::new("t4"))
        .await;
    assert_eq!(deleted, ToolOutput::text("deleted note 7"));
    assert_eq!(deletes.0.load(Ordering::SeqCst), 1);
    let archived = tools
        .call("archive_note", json!({"id": 7}), ToolCall::new("t5"))
        .await;
    assert_eq!(archived, ToolOutput::text("archived note 7"));

    // The metadata lists the scopes tools need.
    let (_, body) = get(&format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        base(&server)
    ))
    .await;
    let document: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["scopes_supported"], json!(["notes:write"]));
    assert_eq!(document.get("authorization_servers"), None);
}

#[tokio::test]
async fn a_custom_async_verifier_decides_who_calls() {
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let server = McpServer::new(notes().0)
        .http()
        .token_verifier(move |token: String| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                // An identity provider takes a moment to answer.
                tokio::time::sleep(Duration::from_millis(5)).await;
                match token.as_str() {
                    "alice-token" => Ok(AuthInfo::new()
                        .with_subject("alice")
                        .with_scopes(["notes:read", "notes:write"])),
                    "expired-token" => Err(TokenError::invalid("the token expired")),
                    _ => Err(TokenError::failed("the identity provider is down")),
                }
            }
        })
        .require_scope("delete_note", "notes:write")
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.url();

    let (status, headers, _) = post(&url, &[("authorization", "Bearer expired-token")], INIT).await;
    assert_eq!(status, 401);
    assert!(
        www_authenticate(&headers)
            .starts_with("Bearer error=\"invalid_token\", error_description=\"the token expired\""),
        "{headers:?}"
    );
    // A verifier that cannot decide is not a refusal: 503, try again.
    let (status, _, body) = post(&url, &[("authorization", "Bearer other")], INIT).await;
    assert_eq!(status, 503);
    assert!(
        !body.contains("identity provider"),
        "internal detail leaked: {body}"
    );
    assert_eq!(asked.load(Ordering::SeqCst), 2);

    let client = McpClient::http_with_token(&url, "alice-token")
        .await
        .unwrap();
    let tools = client.toolset(&McpToolOptions::new()).await.unwrap();
    let who = tools.call("whoami", json!({}), ToolCall::new("t1")).await;
    assert_eq!(
        who,
        ToolOutput::text("alice (no client): notes:read notes:write")
    );
    let deleted = tools
        .call("delete_note", json!({"id": 1}), ToolCall::new("t2"))
        .await;
    assert_eq!(deleted, ToolOutput::text("deleted note 1"));
}

#[tokio::test]
async fn the_network_needs_authentication_or_an_explicit_opt_out() {
    let err = notes().0.serve_mcp_http("0.0.0.0:0").await.unwrap_err();
    assert!(err.is_insecure() && err.is_serve(), "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with("refusing to serve mcp on 0.0.0.0:"),
        "{message}"
    );
    assert!(message.contains("`allow_unauthenticated()`"), "{message}");
    assert!(message.contains("`bearer_tokens`"), "{message}");

    let opted_out = McpServer::new(notes().0)
        .http()
        .allow_unauthenticated()
        .serve("0.0.0.0:0")
        .await
        .expect("an explicit opt-out serves");
    assert!(opted_out.local_addr().ip().is_unspecified());
    let with_tokens = McpServer::new(notes().0)
        .http()
        .bearer_tokens(["s3cret"])
        .serve("0.0.0.0:0")
        .await
        .expect("tokens make the network fine");
    // Reached through loopback, it still wants the token.
    let url = format!("http://127.0.0.1:{}/mcp", with_tokens.local_addr().port());
    let (status, _, _) = post(&url, &[], INIT).await;
    assert_eq!(status, 401);
    McpClient::http_with_token(&url, "s3cret")
        .await
        .expect("the token works");
}

#[tokio::test]
async fn configurations_that_cannot_work_are_refused_with_the_reason() {
    let unknown = McpServer::new(notes().0)
        .http()
        .bearer_tokens(["t"])
        .require_scope("delete_notes", "notes:write")
        .serve("127.0.0.1:0")
        .await
        .unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "could not serve mcp: a scope is required of tool `delete_notes`, which is not served"
    );
    let no_auth = McpServer::new(notes().0)
        .http()
        .require_scope("delete_note", "notes:write")
        .serve("127.0.0.1:0")
        .await
        .unwrap_err();
    assert!(
        no_auth
            .to_string()
            .contains("no authentication is configured"),
        "{no_auth}"
    );
    let bad_url = McpServer::new(notes().0)
        .http()
        .bearer_tokens(["t"])
        .resource_url("mcp.example.com/mcp")
        .serve("127.0.0.1:0")
        .await
        .unwrap_err();
    assert!(
        bad_url
            .to_string()
            .contains("invalid resource url `mcp.example.com/mcp`"),
        "{bad_url}"
    );
}

#[tokio::test]
async fn a_resource_url_names_the_public_server() {
    let server = McpServer::new(notes().0)
        .http()
        .bearer_tokens(["t"])
        .resource_url("https://notes.example.com/mcp")
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let (status, headers, _) = post(&server.url(), &[], INIT).await;
    assert_eq!(status, 401);
    assert_eq!(
        www_authenticate(&headers),
        "Bearer resource_metadata=\"https://notes.example.com/.well-known/oauth-protected-resource/mcp\""
    );
    // What the proxy forwards, with the public name as the host.
    let (status, _, _) = post(
        &server.url(),
        &[("host", "notes.example.com"), ("authorization", "Bearer t")],
        INIT,
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = get(&format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        base(&server)
    ))
    .await;
    let document: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["resource"], "https://notes.example.com/mcp");
}

// ---------------------------------------------------------------------------
// Another SDK's client: the official TypeScript SDK, from npm.
// ---------------------------------------------------------------------------

/// The TypeScript SDK version the test knows: pinned, so that a release
/// that changes its API cannot break the build.
const TYPESCRIPT_SDK_VERSION: &str = "1.32.2";

/// Connects with a bearer token, lists the tools, calls one, and prints
/// what it got as one JSON line; exits with 1 and the error on stderr when
/// anything fails.
const TYPESCRIPT_CLIENT: &str = r#"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token, tool, args] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: "typescript-sdk-test", version: "1.0.0" });
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  const result = await client.callTool({ name: tool, arguments: JSON.parse(args) });
  console.log(JSON.stringify({ tools: tools.map((t) => t.name), result }));
  await client.close();
} catch (error) {
  // The HTTP status, when the SDK kept it, then the message.
  console.error(`${error.code ?? "-"} ${error}`);
  process.exit(1);
}
"#;

/// Runs the TypeScript client: whether it succeeded, stdout, stderr.
async fn typescript_client(
    dir: &std::path::Path,
    url: &str,
    token: &str,
    tool: &str,
    args: Value,
) -> (bool, String, String) {
    let output = tokio::process::Command::new("node")
        .arg(dir.join("toolrunner-client.mjs"))
        .args([url, token, tool, &args.to_string()])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("the TypeScript client finishes within a minute")
        .expect("run node");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_typescript_sdk_client_authenticates_and_calls_a_tool() {
    let installed = tokio::task::spawn_blocking(|| {
        support::npm::install(
            "@modelcontextprotocol/sdk",
            TYPESCRIPT_SDK_VERSION,
            "dist/esm/client/streamableHttp.js",
        )
    })
    .await
    .unwrap();
    let dir = match installed {
        Ok(dir) => dir,
        Err(reason) => {
            support::skip(format_args!(
                "the TypeScript MCP SDK is not available: {reason}"
            ));
            return;
        }
    };
    std::fs::write(dir.join("toolrunner-client.mjs"), TYPESCRIPT_CLIENT).unwrap();

    let (tools, deletes) = notes();
    let server = McpServer::new(tools)
        .http()
        .bearer_token(
            "ts-token",
            AuthInfo::new()
                .with_subject("typescript")
                .with_scopes(["notes:write"]),
        )
        .bearer_tokens(["no-scope-token"])
        .require_scope("delete_note", "notes:write")
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.url();

    let (ok, stdout, stderr) = typescript_client(&dir, &url, "ts-token", "whoami", json!({})).await;
    assert!(ok, "stdout: {stdout}\nstderr: {stderr}");
    let got: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(
        got["tools"],
        json!(["add", "delete_note", "whoami", "archive_note"])
    );
    assert_eq!(
        got["result"]["content"],
        json!([{"type": "text", "text": "typescript (no client): notes:write"}])
    );

    let (ok, stdout, stderr) =
        typescript_client(&dir, &url, "ts-token", "delete_note", json!({"id": 3})).await;
    assert!(ok, "stdout: {stdout}\nstderr: {stderr}");
    let got: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(got["result"]["content"][0]["text"], "deleted note 3");
    assert_eq!(deletes.0.load(Ordering::SeqCst), 1);

    // A token without the scope: the call is refused and the tool not run.
    let (ok, _, stderr) = typescript_client(
        &dir,
        &url,
        "no-scope-token",
        "delete_note",
        json!({"id": 4}),
    )
    .await;
    assert!(!ok);
    assert!(
        stderr.starts_with("403 ") && stderr.contains("needs scope `notes:write`"),
        "{stderr}"
    );
    assert_eq!(deletes.0.load(Ordering::SeqCst), 1, "the tool ran");

    // A wrong token does not get in.
    let (ok, _, stderr) =
        typescript_client(&dir, &url, "wrong", "add", json!({"a": 1, "b": 2})).await;
    assert!(!ok);
    assert!(stderr.starts_with("401 "), "{stderr}");
}

#[tokio::test]
async fn a_session_answers_only_the_caller_that_opened_it() {
    let server = McpServer::new(notes().0)
        .http()
        .bearer_tokens(["fixed-a", "fixed-b"])
        .bearer_token("alice-1", AuthInfo::new().with_subject("alice"))
        .bearer_token("alice-2", AuthInfo::new().with_subject("alice"))
        .bearer_token("mallory", AuthInfo::new().with_subject("mallory"))
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.url();
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let in_session = async |token: &str, id: &str| {
        let auth = format!("Bearer {token}");
        post(
            &url,
            &[("authorization", &auth), ("mcp-session-id", id)],
            list,
        )
        .await
    };

    // A fixed token's session is bound to that token.
    let a = session(&url, "fixed-a").await;
    let (status, _, body) = in_session("fixed-b", &a).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("opened by another caller"), "{body}");
    let (status, _, body) = in_session("fixed-a", &a).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("delete_note"), "{body}");

    // A subject's session follows the subject, through a new token too.
    let alice = session(&url, "alice-1").await;
    assert_eq!(in_session("mallory", &alice).await.0, 404);
    assert_eq!(in_session("fixed-a", &alice).await.0, 404);
    assert_eq!(in_session("alice-2", &alice).await.0, 200);

    // Reading the session's stream, and ending it, are refused alike.
    let stream = reqwest::Client::new()
        .get(&url)
        .header("authorization", "Bearer mallory")
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 404);
    let delete = |token: &'static str| {
        reqwest::Client::new()
            .delete(&url)
            .header("authorization", format!("Bearer {token}"))
            .header("mcp-session-id", &alice)
            .send()
    };
    assert_eq!(delete("mallory").await.unwrap().status().as_u16(), 404);
    assert_eq!(in_session("alice-1", &alice).await.0, 200);
    assert!(delete("alice-1").await.unwrap().status().is_success());
    assert_eq!(in_session("alice-1", &alice).await.0, 404);
}
