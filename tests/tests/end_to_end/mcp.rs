//! MCP both ways, against real MCP peers and no mocks:
//!
//! - an rmcp server written here, reached through `McpClient` over an
//!   in-process pipe: every content conversion, errors, prefixes and names,
//!   prompts and resources, time-outs;
//! - the crate's own `McpServer`, driven by rmcp's client, and over loopback
//!   streamable HTTP by `McpClient`;
//! - this test binary started again as a stdio MCP server, killed mid-run;
//! - runner runs with MCP tools against the scripted Messages API server,
//!   checking the request bodies;
//! - the reference server `@modelcontextprotocol/server-everything`, when
//!   Node.js and the npm registry are there (skipped with a reason if not).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use toolrunner::mcp::rmcp::model as mcp;
use toolrunner::mcp::rmcp::service::{RequestContext, RoleServer};
use toolrunner::mcp::rmcp::{ErrorData, ServerHandler, ServiceError, ServiceExt};
use toolrunner::mcp::{InvalidNames, McpClient, McpServer, McpToolOptions};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{
    Client, ContentBlock, DocumentBlock, ImageBlock, MessageParams, Role, ToolCall, ToolOutput,
    Toolset, tool, toolset,
};

const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const PDF: &str = "JVBERi0xLjQKJcOkw7zDtsOfCg==";

// ---------------------------------------------------------------------------
// An rmcp server written with the SDK alone.
// ---------------------------------------------------------------------------

/// Every tool call the server received: (name, arguments).
type Calls = Arc<Mutex<Vec<(String, Value)>>>;

#[derive(Clone)]
struct TestServer {
    tools: Vec<mcp::Tool>,
    calls: Calls,
}

fn object(value: Value) -> mcp::JsonObject {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn empty_schema() -> mcp::JsonObject {
    object(json!({"type": "object", "properties": {}}))
}

impl TestServer {
    /// One tool per kind of result.
    fn standard() -> Self {
        let echo_schema = json!({
            "type": "object",
            "properties": {"text": {"type": "string", "description": "What to echo."}},
            "required": ["text"]
        });
        let mut tools = vec![mcp::Tool::new(
            "echo",
            "Echo the text back.",
            object(echo_schema),
        )];
        for (name, description) in [
            ("image", "A tiny PNG."),
            ("text_resource", "Notes as an embedded text resource."),
            ("pdf_resource", "A report as an embedded PDF."),
            ("image_resource", "A PNG as an embedded blob."),
            ("text_blob_resource", "Text sent as a base64 blob."),
            ("binary_resource", "Bytes of no known type."),
            ("fail", "Always fails."),
            ("structured", "Structured content only."),
            ("reject", "Answers with a protocol error."),
            ("audio", "A sound."),
            ("link", "A link to a resource."),
            ("slow", "Takes ten seconds."),
        ] {
            tools.push(mcp::Tool::new(name, description, empty_schema()));
        }
        TestServer {
            tools,
            calls: Calls::default(),
        }
    }

    /// Tools with the given names, each echoing its arguments.
    fn named(names: &[&'static str]) -> Self {
        TestServer {
            tools: names
                .iter()
                .map(|name| mcp::Tool::new(*name, "Echo the arguments.", empty_schema()))
                .collect(),
            calls: Calls::default(),
        }
    }
}

fn blob(blob: &str, uri: &str, mime: &str) -> mcp::ContentBlock {
    mcp::ContentBlock::resource(mcp::ResourceContents::blob(blob, uri).with_mime_type(mime))
}

impl ServerHandler for TestServer {
    fn get_info(&self) -> mcp::ServerConfig {
        let capabilities = mcp::ServerCapabilities::builder()
            .enable_tools()
            .enable_prompts()
            .enable_resources()
            .build();
        mcp::ServerConfig::new(capabilities)
            .with_server_info(mcp::Implementation::new("test-server", "1.0.0"))
    }

    async fn list_tools(
        &self,
        _request: Option<mcp::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<mcp::ListToolsResult, ErrorData> {
        Ok(mcp::ListToolsResult::with_all_items(self.tools.clone()))
    }

    async fn call_tool(
        &self,
        request: mcp::CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<mcp::CallToolResponse, ErrorData> {
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        self.calls
            .lock()
            .unwrap()
            .push((request.name.to_string(), arguments.clone()));
        let content = match &*request.name {
            "echo" => vec![mcp::ContentBlock::text(
                arguments["text"].as_str().unwrap_or_default(),
            )],
            "image" => vec![mcp::ContentBlock::image(PNG, "image/png")],
            "text_resource" => vec![mcp::ContentBlock::resource(
                mcp::ResourceContents::text("# Notes", "file:///notes.md")
                    .with_mime_type("text/markdown"),
            )],
            "pdf_resource" => vec![blob(PDF, "file:///report.pdf", "application/pdf")],
            "image_resource" => vec![blob(PNG, "file:///dot.png", "image/png")],
            // "hello blob", base64-encoded.
            "text_blob_resource" => {
                vec![blob("aGVsbG8gYmxvYg==", "file:///hello.txt", "text/plain")]
            }
            "binary_resource" => vec![blob("AAEC", "file:///data.bin", "application/octet-stream")],
            "fail" => {
                return Ok(mcp::CallToolResult::error(vec![mcp::ContentBlock::text(
                    "the disk is full",
                )])
                .into());
            }
            "structured" => {
                let mut result = mcp::CallToolResult::default();
                result.structured_content = Some(json!({"temperature": 21, "unit": "celsius"}));
                return Ok(result.into());
            }
            "reject" => return Err(ErrorData::invalid_params("the moon is not out", None)),
            "audio" => vec![
                mcp::ContentBlock::text("listen:"),
                mcp::ContentBlock::audio("UklGRg==", "audio/wav"),
            ],
            "link" => vec![mcp::ContentBlock::resource_link(mcp::Resource::new(
                "file:///big.csv",
                "big.csv",
            ))],
            "slow" => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                vec![mcp::ContentBlock::text("done")]
            }
            _ if self.tools.iter().any(|t| t.name == request.name) => {
                vec![mcp::ContentBlock::text(arguments.to_string())]
            }
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no tool `{other}`"),
                    None,
                ));
            }
        };
        Ok(mcp::CallToolResult::success(content).into())
    }

    async fn get_prompt(
        &self,
        request: mcp::GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<mcp::GetPromptResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        let messages = match request.name.as_str() {
            "review" => vec![
                mcp::PromptMessage::new_text(
                    mcp::Role::User,
                    format!(
                        "Review this: {}",
                        arguments.get("code").and_then(Value::as_str).unwrap_or("?")
                    ),
                ),
                mcp::PromptMessage::new_text(mcp::Role::Assistant, "Which part?"),
                mcp::PromptMessage::new(
                    mcp::Role::User,
                    mcp::ContentBlock::resource(mcp::ResourceContents::text(
                        "fn main() {}",
                        "file:///main.rs",
                    )),
                ),
                mcp::PromptMessage::new(
                    mcp::Role::User,
                    mcp::ContentBlock::image(PNG, "image/png"),
                ),
            ],
            "sing" => vec![mcp::PromptMessage::new(
                mcp::Role::User,
                mcp::ContentBlock::audio("UklGRg==", "audio/wav"),
            )],
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no prompt `{other}`"),
                    None,
                ));
            }
        };
        Ok(mcp::GetPromptResult::new(messages).into())
    }

    async fn read_resource(
        &self,
        request: mcp::ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<mcp::ReadResourceResponse, ErrorData> {
        let contents = match request.uri.as_str() {
            "file:///notes.md" => vec![mcp::ResourceContents::text("# Notes", "file:///notes.md")],
            // The first contents cannot be sent; the second can.
            "file:///song" => vec![
                mcp::ResourceContents::blob("UklGRg==", "file:///song.wav")
                    .with_mime_type("audio/wav"),
                mcp::ResourceContents::text("la la la", "file:///song.txt"),
            ],
            "file:///song.wav" => {
                vec![
                    mcp::ResourceContents::blob("UklGRg==", "file:///song.wav")
                        .with_mime_type("audio/wav"),
                ]
            }
            "file:///empty" => Vec::new(),
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no resource `{other}`"),
                    None,
                ));
            }
        };
        Ok(mcp::ReadResourceResult::new(contents).into())
    }
}

/// Starts `server` on one end of an in-process pipe and connects to it.
async fn connect(server: TestServer) -> McpClient {
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    McpClient::connect(client_end)
        .await
        .expect("connect to the test server")
}

async fn call(tools: &Toolset, name: &str, input: Value) -> ToolOutput {
    tools.call(name, input, ToolCall::new("toolu_test")).await
}

// ---------------------------------------------------------------------------
// Client: tools, conversions, names.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn tools_keep_the_servers_name_description_and_schema() {
    let server = TestServer::standard();
    let listed = server.tools.clone();
    let client = connect(server).await;
    assert_eq!(client.server_name(), "test-server");
    assert!(!client.is_closed());

    let tools = client.toolset(&McpToolOptions::new()).await.unwrap();
    assert_eq!(
        tools.names().collect::<Vec<_>>(),
        listed.iter().map(|t| &*t.name).collect::<Vec<_>>()
    );
    for tool in &listed {
        let def = tools.get(&tool.name).unwrap().definition();
        assert_eq!(
            serde_json::to_value(def).unwrap(),
            json!({
                "name": tool.name,
                "description": tool.description.as_deref().unwrap(),
                "input_schema": Value::Object((*tool.input_schema).clone()),
            })
        );
    }
}

#[tokio::test]
async fn results_convert_to_the_matching_content_blocks() {
    let tools = connect(TestServer::standard())
        .await
        .toolset(&McpToolOptions::new())
        .await
        .unwrap();

    assert_eq!(
        call(&tools, "echo", json!({"text": "hi"})).await,
        ToolOutput::text("hi")
    );
    assert_eq!(
        call(&tools, "image", json!({})).await,
        ToolOutput::blocks([ImageBlock::base64("image/png", PNG).into()])
    );
    assert_eq!(
        call(&tools, "text_resource", json!({})).await,
        ToolOutput::blocks([DocumentBlock::plain_text("# Notes")
            .with_title("file:///notes.md")
            .into()])
    );
    assert_eq!(
        call(&tools, "pdf_resource", json!({})).await,
        ToolOutput::blocks([DocumentBlock::pdf_base64(PDF)
            .with_title("file:///report.pdf")
            .into()])
    );
    assert_eq!(
        call(&tools, "image_resource", json!({})).await,
        ToolOutput::blocks([ImageBlock::base64("image/png", PNG).into()])
    );
    assert_eq!(
        call(&tools, "text_blob_resource", json!({})).await,
        ToolOutput::blocks([DocumentBlock::plain_text("hello blob")
            .with_title("file:///hello.txt")
            .into()])
    );

    let binary = call(&tools, "binary_resource", json!({})).await;
    assert!(binary.is_error);
    assert_eq!(
        binary.text_content(),
        "the tool's result could not be sent to the model: mcp resource `file:///data.bin` of type `application/octet-stream` has no Messages API equivalent (supported: text, image/jpeg, image/png, image/gif, image/webp, application/pdf)"
    );
}

#[tokio::test]
async fn is_error_structured_content_and_protocol_errors() {
    let tools = connect(TestServer::standard())
        .await
        .toolset(&McpToolOptions::new())
        .await
        .unwrap();

    assert_eq!(
        call(&tools, "fail", json!({})).await,
        ToolOutput::error("the disk is full")
    );
    assert_eq!(
        call(&tools, "structured", json!({})).await,
        ToolOutput::text(r#"{"temperature":21,"unit":"celsius"}"#)
    );
    assert_eq!(
        call(&tools, "reject", json!({})).await,
        ToolOutput::error(
            "mcp server `test-server` refused the call to `reject`: the moon is not out"
        )
    );
    // Input that is not an object never reaches the server.
    assert_eq!(
        call(&tools, "echo", json!([1, 2])).await,
        ToolOutput::error("tool `echo` takes a JSON object as input, got [1,2]")
    );
}

#[tokio::test]
async fn audio_and_resource_links_become_error_results() {
    let tools = connect(TestServer::standard())
        .await
        .toolset(&McpToolOptions::new())
        .await
        .unwrap();

    assert_eq!(
        call(&tools, "audio", json!({})).await,
        ToolOutput::error(
            "the tool's result could not be sent to the model: mcp audio content (audio/wav) has no Messages API equivalent"
        )
    );
    assert_eq!(
        call(&tools, "link", json!({})).await,
        ToolOutput::error(
            "the tool's result could not be sent to the model: mcp resource link `file:///big.csv` has no Messages API equivalent (read the resource and send its contents instead)"
        )
    );
}

#[tokio::test]
async fn a_prefix_renames_tools_and_calls_keep_the_servers_names() {
    let server = TestServer::standard();
    let calls = Arc::clone(&server.calls);
    let client = connect(server).await;
    let remote = client
        .toolset(&McpToolOptions::new().prefix("srv_"))
        .await
        .unwrap();
    assert!(remote.names().all(|n| n.starts_with("srv_")));

    // Prefixed MCP tools sit next to a local tool of the same name.
    let tools = toolset![echo].merge(remote).unwrap();
    assert_eq!(
        call(&tools, "echo", json!({"text": "local"})).await,
        ToolOutput::text("local echo: local")
    );
    assert_eq!(
        call(&tools, "srv_echo", json!({"text": "remote"})).await,
        ToolOutput::text("remote")
    );
    assert_eq!(
        *calls.lock().unwrap(),
        [("echo".to_owned(), json!({"text": "remote"}))]
    );

    let mcp_tools = client
        .tools(&McpToolOptions::new().prefix("srv_"))
        .await
        .unwrap();
    assert_eq!(mcp_tools[0].remote_name(), "echo");
    assert_eq!(mcp_tools[0].mcp_tool().name, "echo");
}

/// Echo locally.
#[tool]
fn echo(
    /// What to echo.
    text: String,
) -> String {
    format!("local echo: {text}")
}

#[tokio::test]
async fn invalid_names_are_rejected_or_mapped() {
    let client = connect(TestServer::named(&["files.read", "list all"])).await;

    let err = client.toolset(&McpToolOptions::new()).await.unwrap_err();
    assert!(err.is_invalid_tool_name());
    assert_eq!(
        err.to_string(),
        "invalid tool name `files.read`: `.` is not allowed; names are 1 to 64 of a-z, A-Z, 0-9, `_` and `-` (map it with `InvalidNames::Sanitize`)"
    );

    let too_long = McpToolOptions::new().prefix("p".repeat(60));
    assert!(
        client
            .toolset(&too_long)
            .await
            .unwrap_err()
            .is_invalid_tool_name()
    );

    let sanitize = McpToolOptions::new().invalid_names(InvalidNames::Sanitize);
    let tools = client.toolset(&sanitize).await.unwrap();
    assert_eq!(
        tools.names().collect::<Vec<_>>(),
        ["files_read", "list_all"]
    );
    // The call goes to the server under the tool's own name.
    assert_eq!(
        call(&tools, "files_read", json!({"path": "/"})).await,
        ToolOutput::text(r#"{"path":"/"}"#)
    );

    let clashing = connect(TestServer::named(&["a.b", "a_b"])).await;
    let err = clashing.toolset(&sanitize).await.unwrap_err();
    assert!(err.is_invalid_tool_name());
    assert_eq!(
        err.to_string(),
        "mcp tools `a.b` and `a_b` would both be named `a_b`"
    );
}

#[tokio::test]
async fn prompts_and_resources_convert_to_messages_and_blocks() {
    let client = connect(TestServer::standard()).await;

    let messages = client
        .prompt("review", json!({"code": "x + 1"}))
        .await
        .unwrap();
    let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::User, Role::User]);
    assert_eq!(
        serde_json::to_value(&messages).unwrap(),
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Review this: x + 1"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Which part?"}]},
            {"role": "user", "content": [{"type": "document", "title": "file:///main.rs",
                "source": {"type": "text", "media_type": "text/plain", "data": "fn main() {}"}}]},
            {"role": "user", "content": [{"type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": PNG}}]},
        ])
    );

    let err = client.prompt("sing", Value::Null).await.unwrap_err();
    assert!(err.is_unsupported());
    assert!(
        client
            .prompt("review", json!("x + 1"))
            .await
            .unwrap_err()
            .is_invalid_arguments()
    );
    let missing = client.prompt("nope", Value::Null).await.unwrap_err();
    assert!(missing.is_request() && !missing.is_closed());
    assert_eq!(
        missing.to_string(),
        "mcp request `prompts/get` to server `test-server` failed"
    );

    assert_eq!(
        client.resource("file:///notes.md").await.unwrap(),
        ContentBlock::from(DocumentBlock::plain_text("# Notes").with_title("file:///notes.md"))
    );
    // The first contents that convert are used.
    assert_eq!(
        client.resource("file:///song").await.unwrap(),
        ContentBlock::from(DocumentBlock::plain_text("la la la").with_title("file:///song.txt"))
    );
    let wav = client.resource("file:///song.wav").await.unwrap_err();
    assert!(wav.is_unsupported());
    assert!(
        wav.to_string()
            .contains("`file:///song.wav` of type `audio/wav`"),
        "{wav}"
    );
    assert_eq!(
        client
            .resource("file:///empty")
            .await
            .unwrap_err()
            .to_string(),
        "the mcp resource has no contents"
    );
}

#[tokio::test]
async fn a_slow_call_times_out_or_is_cancelled() {
    let client = connect(TestServer::standard()).await;
    let options = McpToolOptions::new().timeout(Duration::from_millis(200));
    let tools = client.toolset(&options).await.unwrap();

    let started = Instant::now();
    let out = call(&tools, "slow", json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        out,
        ToolOutput::error("mcp tool `slow` on server `test-server` did not answer within 200ms")
    );

    let tools = client.toolset(&McpToolOptions::new()).await.unwrap();
    let call_ = ToolCall::new("toolu_cancel");
    let token = call_.cancellation().clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        token.cancel();
    });
    let out = tools.call("slow", json!({}), call_).await;
    assert_eq!(
        out,
        ToolOutput::error("the call to mcp tool `slow` was cancelled")
    );
    // The connection is still good.
    assert_eq!(
        call(&tools, "echo", json!({"text": "still here"})).await,
        ToolOutput::text("still here")
    );
}

/// Plays a server's side of the handshake by hand on `server_end` while
/// `connecting` runs: returns the client, the `initialize` request it sent,
/// as sent, and the notification that followed it.
async fn handshake_by_hand(
    connecting: impl Future<Output = Result<McpClient, toolrunner::mcp::McpError>>,
    server_end: tokio::io::DuplexStream,
) -> (McpClient, Value, Value) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let server = tokio::spawn(async move {
        let (read, mut write) = tokio::io::split(server_end);
        let mut lines = BufReader::new(read).lines();
        let mut next = async || -> Value {
            let line = lines.next_line().await.unwrap().expect("a message");
            serde_json::from_str(&line).unwrap()
        };
        let request = next().await;
        let answer = json!({
            "jsonrpc": "2.0",
            "id": request["id"],
            "result": {
                "protocolVersion": request["params"]["protocolVersion"],
                "capabilities": {},
                "serverInfo": {"name": "by-hand", "version": "1.0.0"}
            }
        });
        write
            .write_all(format!("{answer}\n").as_bytes())
            .await
            .unwrap();
        let initialized = next().await;
        // Kept open, so that the client's connection stays up.
        (request, initialized, write)
    });
    let client = connecting.await.expect("the handshake by hand");
    let (request, initialized, _write) = server.await.unwrap();
    (client, request, initialized)
}

#[tokio::test]
async fn the_client_gives_its_executables_name_or_the_one_it_is_given_in_client_info() {
    let executable = std::env::current_exe().unwrap();
    let stem = executable.file_stem().unwrap().to_str().unwrap().to_owned();

    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (client, request, initialized) =
        handshake_by_hand(McpClient::connect(client_end), server_end).await;
    assert_eq!(request["method"], "initialize");
    // The program, never the library: a server shows this name to say who
    // called it.
    assert_eq!(
        request["params"]["clientInfo"],
        json!({"name": stem, "version": "unknown"})
    );
    assert_eq!(request["params"]["capabilities"], json!({}));
    assert_eq!(initialized["method"], "notifications/initialized");
    assert_eq!(client.server_name(), "by-hand");

    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let connecting = McpClient::builder()
        .client_info("notes-agent", "2.1.0")
        .connect(client_end);
    let (_, request, _) = handshake_by_hand(connecting, server_end).await;
    assert_eq!(
        request["params"]["clientInfo"],
        json!({"name": "notes-agent", "version": "2.1.0"})
    );
}

// ---------------------------------------------------------------------------
// Server: the crate's McpServer, driven by rmcp's client and by McpClient.
// ---------------------------------------------------------------------------

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Always fails.
#[tool]
fn fails() -> Result<String, String> {
    Err("the disk is full".into())
}

/// Always panics.
#[tool]
fn panics() -> String {
    panic!("kaboom")
}

/// Draw a chart.
#[tool]
fn chart() -> ToolOutput {
    ToolOutput::text("a chart")
        .with_image(ImageBlock::base64("image/png", PNG))
        .with_document(DocumentBlock::pdf_base64(PDF))
        .with_document(DocumentBlock::plain_text("1,2,3"))
}

/// Link to a chart.
#[tool]
fn linked_chart() -> ToolOutput {
    ToolOutput::blocks([ImageBlock::url("https://example.com/chart.png").into()])
}

/// Only for code.
#[tool(allowed_callers = ["code"])]
fn code_only() -> String {
    "from code".into()
}

fn served_toolset() -> Toolset {
    toolset![add, fails, panics, chart, linked_chart, code_only]
}

fn arguments(value: Value) -> mcp::CallToolRequestParams {
    let (name, args) = match value {
        Value::Array(parts) => (parts[0].as_str().unwrap().to_owned(), parts[1].clone()),
        other => panic!("{other}"),
    };
    mcp::CallToolRequestParams::new(name).with_arguments(object(args))
}

#[tokio::test]
async fn the_crates_server_serves_the_same_tools_to_an_rmcp_client() {
    let toolset = served_toolset();
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let server = McpServer::new(toolset.clone())
        .with_server_info("calc", "2.0.0")
        .with_instructions("Add things.");
    let serving = tokio::spawn(server.serve(server_end));
    let client = ().serve(client_end).await.expect("rmcp client handshake");
    let _server = serving.await.unwrap().expect("server handshake");

    let info = client.peer_info().unwrap();
    assert_eq!(info.server_info.as_ref().unwrap().name, "calc");
    assert_eq!(info.instructions.as_deref(), Some("Add things."));

    // The tools the model may call directly, with the runner's schemas.
    let listed = client.list_all_tools().await.unwrap();
    assert_eq!(
        listed.iter().map(|t| &*t.name).collect::<Vec<_>>(),
        ["add", "fails", "panics", "chart", "linked_chart"]
    );
    for tool in &listed {
        let def = toolset.get(&tool.name).unwrap().definition();
        assert_eq!(
            Value::Object((*tool.input_schema).clone()),
            def.input_schema
        );
        assert_eq!(tool.description.as_deref(), Some(def.description.as_str()));
    }

    let sum = client
        .call_tool(arguments(json!(["add", {"a": 2, "b": 3}])))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&sum).unwrap(),
        json!({"content": [{"type": "text", "text": "5"}], "isError": false})
    );

    // Validation, errors and panics are tool errors, as in the runner.
    let invalid = client
        .call_tool(arguments(json!(["add", {"a": 2, "b": "x"}])))
        .await
        .unwrap();
    assert_eq!(invalid.is_error, Some(true));
    let text = invalid.content[0].as_text().unwrap().text.clone();
    assert!(
        text.contains(r#"b: "x" is not of type "integer""#),
        "{text}"
    );
    let failed = client
        .call_tool(arguments(json!(["fails", {}])))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&failed).unwrap(),
        json!({"content": [{"type": "text", "text": "the disk is full"}], "isError": true})
    );
    let panicked = client
        .call_tool(arguments(json!(["panics", {}])))
        .await
        .unwrap();
    assert_eq!(panicked.is_error, Some(true));
    assert_eq!(
        panicked.content[0].as_text().unwrap().text,
        "tool `panics` panicked: kaboom"
    );

    // Images and documents map to MCP content.
    let drawn = client
        .call_tool(arguments(json!(["chart", {}])))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&drawn).unwrap(),
        json!({"content": [
            {"type": "text", "text": "a chart"},
            {"type": "image", "data": PNG, "mimeType": "image/png"},
            {"type": "resource", "resource": {"uri": "toolrunner://chart/document/2", "mimeType": "application/pdf", "blob": PDF}},
            {"type": "resource", "resource": {"uri": "toolrunner://chart/document/3", "mimeType": "text/plain", "text": "1,2,3"}},
        ], "isError": false})
    );
    // An image the API would fetch from a URL becomes a link to it.
    let linked = client
        .call_tool(arguments(json!(["linked_chart", {}])))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&linked.content).unwrap(),
        json!([{"type": "resource_link", "uri": "https://example.com/chart.png", "name": "image"}])
    );

    // Unknown tools, and tools only code may call, are protocol errors.
    for name in ["nope", "code_only"] {
        let err = client
            .call_tool(arguments(json!([name, {}])))
            .await
            .unwrap_err();
        let ServiceError::McpError(err) = err else {
            panic!("{err}")
        };
        assert_eq!(err.code, mcp::ErrorCode::INVALID_PARAMS);
        assert_eq!(
            err.message,
            format!(
                "unknown tool `{name}`; available tools: add, fails, panics, chart, linked_chart"
            )
        );
    }
}

#[tokio::test]
async fn the_crates_server_over_streamable_http_round_trips_through_mcp_client() {
    let http = served_toolset()
        .serve_mcp_http("127.0.0.1:0")
        .await
        .expect("bind loopback");
    assert!(http.url().starts_with("http://127.0.0.1:") && http.url().ends_with("/mcp"));

    let client = McpClient::http(http.url())
        .await
        .expect("connect over http");
    // Named after the serving executable: this test binary.
    let executable = std::env::current_exe().unwrap();
    assert_eq!(
        Some(client.server_name()),
        executable.file_stem().and_then(|stem| stem.to_str())
    );
    let tools = client
        .toolset(&McpToolOptions::new().prefix("calc_"))
        .await
        .unwrap();
    assert_eq!(
        tools.names().collect::<Vec<_>>(),
        [
            "calc_add",
            "calc_fails",
            "calc_panics",
            "calc_chart",
            "calc_linked_chart"
        ]
    );
    assert_eq!(
        tools.get("calc_add").unwrap().definition().input_schema,
        served_toolset()
            .get("add")
            .unwrap()
            .definition()
            .input_schema
    );
    assert_eq!(
        call(&tools, "calc_add", json!({"a": 40, "b": 2})).await,
        ToolOutput::text("42")
    );
    assert_eq!(
        call(&tools, "calc_fails", json!({})).await,
        ToolOutput::error("the disk is full")
    );
    // Images and documents survive the round trip; documents come back
    // titled with the URI the server gave them.
    assert_eq!(
        call(&tools, "calc_chart", json!({})).await,
        ToolOutput::text("a chart")
            .with_image(ImageBlock::base64("image/png", PNG))
            .with_document(
                DocumentBlock::pdf_base64(PDF).with_title("toolrunner://chart/document/2")
            )
            .with_document(
                DocumentBlock::plain_text("1,2,3").with_title("toolrunner://chart/document/3")
            )
    );
    // A resource link has no Messages API equivalent; the model is told so.
    let linked = call(&tools, "calc_linked_chart", json!({})).await;
    assert!(
        linked.is_error
            && linked
                .text_content()
                .contains("resource link `https://example.com/chart.png`")
    );

    // Only /mcp is served.
    let other = raw_get(http.local_addr(), "/other").await;
    assert!(other.starts_with("HTTP/1.1 404"), "{other}");

    http.shutdown();
}

/// The status line and body of `GET path`, over a raw loopback connection.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

// ---------------------------------------------------------------------------
// A real child process: this test binary again, as a stdio MCP server.
// ---------------------------------------------------------------------------

/// Set in the child's environment: serve MCP on stdio instead of testing.
const CHILD: &str = "TOOLRUNNER_MCP_TEST_CHILD";
/// A file the child's `sleepy` tool creates when it starts.
const MARKER: &str = "TOOLRUNNER_MCP_TEST_MARKER";

/// Sleep for half a minute.
#[tool]
async fn sleepy() -> String {
    if let Some(marker) = std::env::var_os(MARKER) {
        std::fs::write(marker, b"started").expect("write the marker");
    }
    tokio::time::sleep(Duration::from_secs(30)).await;
    "awake".into()
}

#[test]
#[ignore = "the stdio MCP server that other tests start as a child process"]
fn child_stdio_server() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(toolset![add, sleepy].serve_mcp_stdio())
        .expect("serve mcp on stdio");
}

/// This test binary, started so that it runs `child_stdio_server` only.
/// libtest's own lines on stdout are not JSON, and MCP clients skip them.
fn child_command(marker: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(std::env::current_exe().unwrap());
    command
        .arg(support::test_name(module_path!(), "child_stdio_server"))
        .args([
            "--exact",
            "--ignored",
            "--quiet",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env(MARKER, marker);
    command
}

fn message(id: &str, content: Value, stop_reason: &str) -> Value {
    json!({
        "id": id, "type": "message", "role": "assistant", "model": "claude-test",
        "content": content, "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 5}
    })
}

fn tool_use(id: &str, name: &str, input: Value) -> Value {
    json!({"type": "tool_use", "id": id, "name": name, "input": input})
}

async fn scripted(replies: Vec<Value>) -> (ScriptedServer, Client) {
    let server = ScriptedServer::start(Sequence::new(replies.into_iter().map(Reply::message)))
        .await
        .expect("bind loopback");
    let client = Client::builder()
        .api_key("test-key")
        .base_url(server.url())
        .max_retries(0)
        .build()
        .unwrap();
    (server, client)
}

/// The `tool_result` blocks of request `n`'s last message.
fn tool_results(requests: &[Value], n: usize) -> Value {
    requests[n]["messages"].as_array().unwrap().last().unwrap()["content"].clone()
}

// Kills and starts processes with Unix tools (`kill`, `sh`).
#[cfg(unix)]
#[tokio::test]
async fn a_child_server_killed_mid_run_turns_calls_into_error_results() {
    let marker = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("mcp-marker-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let child = McpClient::stdio(child_command(&marker))
        .await
        .expect("start the child server");
    let pid = child.process_id().expect("a child process");
    let tools = child
        .toolset(&McpToolOptions::new().prefix("child_"))
        .await
        .unwrap();
    assert_eq!(
        call(&tools, "child_add", json!({"a": 2, "b": 3})).await,
        ToolOutput::text("5")
    );

    // Kill the server while its `sleepy` call is pending.
    let killer = tokio::spawn({
        let marker = marker.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !marker.exists() {
                assert!(
                    Instant::now() < deadline,
                    "the child never started `sleepy`"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let status = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        }
    });
    let (server, client) = scripted(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "child_sleepy", json!({}))]),
            "tool_use",
        ),
        message(
            "msg_2",
            json!([tool_use("toolu_2", "child_add", json!({"a": 1, "b": 1}))]),
            "tool_use",
        ),
        message(
            "msg_3",
            json!([{"type": "text", "text": "The server is gone."}]),
            "end_turn",
        ),
    ])
    .await;
    let started = Instant::now();
    let last = client
        .tool_runner(MessageParams::new("claude-test", 256).user("Go."), tools)
        .until_done()
        .await
        .expect("the loop goes on");
    killer.await.unwrap();
    assert_eq!(last.text(), "The server is gone.");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the pending call did not fail fast"
    );
    assert!(child.is_closed());

    let requests = server.requests();
    // The child is this test binary, and a server is named after its executable.
    let executable = std::env::current_exe().unwrap();
    let name = executable.file_stem().unwrap().to_string_lossy();
    let closed =
        format!("the connection to mcp server `{name}` is closed (the server exited or hung up)");
    assert_eq!(
        tool_results(&requests, 1),
        json!([{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true,
            "content": format!("mcp tool `sleepy` could not run: {closed}")}])
    );
    assert_eq!(
        tool_results(&requests, 2),
        json!([{"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true,
            "content": format!("mcp tool `add` could not run: {closed}")}])
    );
    let _ = std::fs::remove_file(&marker);
}

// Kills and starts processes with Unix tools (`kill`, `sh`).
#[cfg(unix)]
#[tokio::test]
async fn a_missing_program_or_a_server_that_exits_is_a_clear_error() {
    let err = McpClient::stdio(std::process::Command::new("./no-such-mcp-server"))
        .await
        .unwrap_err();
    assert!(err.is_spawn());
    assert_eq!(
        err.to_string(),
        "could not start mcp server `./no-such-mcp-server`"
    );

    let mut exits = std::process::Command::new("sh");
    exits.args(["-c", "exit 3"]).stderr(Stdio::null());
    let err = McpClient::stdio(exits).await.unwrap_err();
    assert!(err.is_connect());
    assert_eq!(
        err.to_string(),
        "could not connect to mcp server `sh -c exit 3` (exit status: 3)"
    );
}

// ---------------------------------------------------------------------------
// End to end: a runner run with MCP tools against the scripted API server.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_runner_sends_mcp_tools_as_given_and_their_converted_results() {
    let server = TestServer::standard();
    let listed = server.tools.clone();
    let mcp_client = connect(server).await;
    let remote = mcp_client
        .toolset(&McpToolOptions::new().prefix("srv_"))
        .await
        .unwrap();
    let tools = toolset![add].merge(remote).unwrap();

    let (api, client) = scripted(vec![
        message(
            "msg_1",
            json!([
                tool_use("toolu_1", "srv_echo", json!({"text": "hi"})),
                tool_use("toolu_2", "srv_image", json!({})),
                tool_use("toolu_3", "srv_pdf_resource", json!({})),
                tool_use("toolu_4", "srv_fail", json!({})),
                tool_use("toolu_5", "srv_audio", json!({})),
                tool_use("toolu_6", "add", json!({"a": 1, "b": 2})),
            ]),
            "tool_use",
        ),
        message(
            "msg_2",
            json!([{"type": "text", "text": "Done."}]),
            "end_turn",
        ),
    ])
    .await;
    let last = client
        .tool_runner(MessageParams::new("claude-test", 256).user("Go."), tools)
        .message_threads(false)
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "Done.");

    let requests = api.requests();
    assert_eq!(requests.len(), 2);
    // Tool definitions: the local tool, then the server's, as it gave them.
    let mut expected_tools = vec![json!({
        "name": "add", "description": "Add two integers.",
        "input_schema": {"type": "object", "properties": {"a": {"type": "integer", "format": "int64"},
            "b": {"type": "integer", "format": "int64"}}, "required": ["a", "b"], "additionalProperties": false}
    })];
    expected_tools.extend(listed.iter().map(|t| {
        json!({
            "name": format!("srv_{}", t.name),
            "description": t.description.as_deref().unwrap(),
            "input_schema": Value::Object((*t.input_schema).clone()),
        })
    }));
    assert_eq!(requests[0]["tools"], Value::Array(expected_tools));
    assert_eq!(requests[1]["tools"], requests[0]["tools"]);

    assert_eq!(
        tool_results(&requests, 1),
        json!([
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "hi"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}]},
            {"type": "tool_result", "tool_use_id": "toolu_3", "content": [
                {"type": "document", "title": "file:///report.pdf",
                 "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}}]},
            {"type": "tool_result", "tool_use_id": "toolu_4", "content": "the disk is full", "is_error": true},
            {"type": "tool_result", "tool_use_id": "toolu_5", "is_error": true, "content":
                "the tool's result could not be sent to the model: mcp audio content (audio/wav) has no Messages API equivalent"},
            {"type": "tool_result", "tool_use_id": "toolu_6", "content": "3"},
        ])
    );
}

// ---------------------------------------------------------------------------
// The reference server, `@modelcontextprotocol/server-everything` (Node.js).
// ---------------------------------------------------------------------------

/// The version of the reference server the test knows: pinned, so that a new
/// release that renames a tool cannot break the build.
const EVERYTHING_VERSION: &str = "2026.8.31";

/// The reference server's entry point, installed from the npm registry into
/// the target directory on first use; `Err` says why it is not available.
fn everything_server() -> Result<PathBuf, String> {
    let package = "@modelcontextprotocol/server-everything";
    let entry = "dist/index.js";
    let dir = support::npm::install(package, EVERYTHING_VERSION, entry)?;
    Ok(dir.join("node_modules").join(package).join(entry))
}

#[tokio::test]
async fn the_reference_server_everything_works_through_the_client() {
    let entry = match tokio::task::spawn_blocking(everything_server)
        .await
        .unwrap()
    {
        Ok(entry) => entry,
        Err(reason) => {
            support::skip(format_args!(
                "the reference MCP server is not available: {reason}"
            ));
            return;
        }
    };
    let mut command = tokio::process::Command::new("node");
    command.arg(&entry).arg("stdio").stderr(Stdio::null());
    let client = McpClient::stdio(command)
        .await
        .expect("start server-everything");

    let tools = client
        .toolset(&McpToolOptions::new().prefix("everything_"))
        .await
        .unwrap();
    for name in [
        "everything_echo",
        "everything_get-sum",
        "everything_get-tiny-image",
    ] {
        assert!(
            tools.contains(name),
            "{name} missing from {:?}",
            tools.names().collect::<Vec<_>>()
        );
    }
    let echo_schema = &tools
        .get("everything_echo")
        .unwrap()
        .definition()
        .input_schema;
    assert_eq!(echo_schema["properties"]["message"]["type"], "string");

    assert_eq!(
        call(&tools, "everything_echo", json!({"message": "hi"})).await,
        ToolOutput::text("Echo: hi")
    );
    let sum = call(&tools, "everything_get-sum", json!({"a": 2, "b": 3})).await;
    assert!(!sum.is_error && sum.text_content().contains('5'), "{sum}");

    let image = call(&tools, "everything_get-tiny-image", json!({})).await;
    assert!(!image.is_error, "{image}");
    assert_eq!(
        image
            .content
            .iter()
            .map(ContentBlock::kind)
            .collect::<Vec<_>>(),
        ["text", "image", "text"]
    );
    let ContentBlock::Image(png) = &image.content[1] else {
        unreachable!()
    };
    assert_eq!(png.source["type"], "base64");
    assert_eq!(png.source["media_type"], "image/png");

    // Embedded resources: text, and text sent as a base64 blob.
    for (kind, expected) in [
        ("Text", "This is a plaintext resource"),
        ("Blob", "This is a base64 blob"),
    ] {
        let out = call(
            &tools,
            "everything_get-resource-reference",
            json!({"resourceType": kind, "resourceId": 1}),
        )
        .await;
        assert!(!out.is_error, "{out}");
        let doc = out.content.iter().find_map(|b| match b {
            ContentBlock::Document(doc) => Some(doc),
            _ => None,
        });
        let doc = doc.unwrap_or_else(|| panic!("no document in {out}"));
        assert!(
            doc.source["data"].as_str().unwrap().contains(expected),
            "{:?}",
            doc.source
        );
    }

    // Resource links have no Messages API equivalent.
    let links = call(&tools, "everything_get-resource-links", json!({"count": 2})).await;
    assert!(
        links.is_error && links.text_content().contains("resource link"),
        "{links}"
    );

    let structured = call(
        &tools,
        "everything_get-structured-content",
        json!({"location": "Chicago"}),
    )
    .await;
    assert!(!structured.is_error, "{structured}");
    let weather: Value = serde_json::from_str(&structured.text_content()).unwrap();
    assert_eq!(weather["temperature"], 36);

    let messages = client
        .prompt("args-prompt", json!({"city": "Paris"}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&messages).unwrap(),
        json!([{"role": "user", "content": [{"type": "text", "text": "What's weather in Paris?"}]}])
    );
    let resource = client
        .resource("demo://resource/dynamic/text/1")
        .await
        .unwrap();
    let ContentBlock::Document(doc) = resource else {
        panic!("{resource:?}")
    };
    assert_eq!(doc.title.as_deref(), Some("demo://resource/dynamic/text/1"));
}
