//! Helpers shared by the end-to-end tests: response messages in the API's
//! shape, and a client for a scripted server.

pub mod capture;
pub mod durable;
pub mod kill;
pub mod mcp_http;
pub mod npm;
pub mod python;

use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{Client, MessageParams};

/// A response message with a little usage.
pub fn message(id: &str, content: Value, stop_reason: &str) -> Value {
    message_with_usage(id, content, stop_reason, 10, 5)
}

/// A response message with the given token usage.
pub fn message_with_usage(
    id: &str,
    content: Value,
    stop_reason: &str,
    input_tokens: u64,
    output_tokens: u64,
) -> Value {
    json!({
        "id": id, "type": "message", "role": "assistant", "model": "claude-test",
        "content": content, "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}
    })
}

/// A direct `tool_use` block.
pub fn tool_use(id: &str, name: &str, input: Value) -> Value {
    json!({"type": "tool_use", "id": id, "name": name, "input": input})
}

/// The last message a request body sends: on a thread, the only new one.
pub fn last_message(request: &Value) -> &Value {
    request["messages"]
        .as_array()
        .and_then(|messages| messages.last())
        .unwrap_or(&Value::Null)
}

/// A text block.
pub fn text(t: &str) -> Value {
    json!({"type": "text", "text": t})
}

/// A server answering with `replies`, one per request, in order.
pub async fn server(replies: Vec<Value>) -> ScriptedServer {
    ScriptedServer::start(Sequence::new(replies.into_iter().map(Reply::message)))
        .await
        .expect("bind loopback")
}

/// A client for `server` that never retries.
pub fn client(server: &ScriptedServer) -> Client {
    client_with_retries(server, 0)
}

/// A client for `server` with `retries` retries.
pub fn client_with_retries(server: &ScriptedServer, retries: u32) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(server.url())
        .max_retries(retries)
        .build()
        .expect("client")
}

/// One user message, "Go.", for `claude-test` with 256 tokens.
pub fn params() -> MessageParams {
    MessageParams::new("claude-test", 256).user("Go.")
}

/// Sends "Hi" to `model` through `client`, whose server refuses once with
/// a retryable error and then answers "Back.": checks the answer and that
/// the same body was sent twice, and gives the two requests `recorded`
/// returns.
pub async fn answered_after_one_retry(
    client: &Client,
    model: &str,
    recorded: impl Fn() -> Vec<toolrunner::testing::Recorded>,
) -> Vec<toolrunner::testing::Recorded> {
    let message = client
        .create_message(&MessageParams::new(model, 64).user("Hi"))
        .await
        .expect("the retry succeeds");
    assert_eq!(message.text(), "Back.");
    let recorded = recorded();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].body, recorded[1].body);
    recorded
}

/// The definition of the tests' `add` tool (`#[tool] fn add(a: i64, b: i64)`
/// documented "Add two integers."), as a request declares it.
pub fn add_tool() -> Value {
    json!([{"name": "add", "description": "Add two integers.", "input_schema": {
        "type": "object", "properties": {"a": {"type": "integer", "format": "int64"}, "b": {"type": "integer", "format": "int64"}},
        "required": ["a", "b"], "additionalProperties": false}}])
}

/// The name libtest knows a test of this binary by, as `--exact` wants it
/// when a test runs another in a child process: `module` is the caller's
/// `module_path!()`, whose first segment (the crate) libtest leaves out.
pub fn test_name(module: &str, test: &str) -> String {
    match module.split_once("::") {
        Some((_crate, path)) => format!("{path}::{test}"),
        None => test.to_owned(),
    }
}

/// Says that a check was skipped, and why, where a passing run shows it:
/// straight on this process's stderr, which libtest does not capture (it
/// captures `print!` and `eprint!`), so that a skip never hides in a pass.
pub fn skip(reason: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {reason}");
}
