//! Shared by the examples: logging setup and scripted-model helpers.
#![allow(dead_code)]

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{Script, ScriptedServer};
use toolrunner::{Client, ContentBlock, Error, ToolRunner};

/// A client for the real API when `ANTHROPIC_API_KEY` or
/// `ANTHROPIC_AUTH_TOKEN` is set. Otherwise it
/// says so in one line and returns a client for `script`, served on
/// loopback; keep the returned server alive for the whole run.
pub async fn client_or_scripted(
    script: impl Script,
) -> Result<(Client, Option<ScriptedServer>), Box<dyn std::error::Error>> {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("ANTHROPIC_API_KEY") || set("ANTHROPIC_AUTH_TOKEN") {
        return Ok((Client::from_env()?, None));
    }
    println!(
        "neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is set: using a built-in scripted model on loopback (no network).\n"
    );
    let server = ScriptedServer::start(script).await?;
    let client = Client::builder()
        .api_key("scripted")
        .base_url(server.url())
        .build()?;
    Ok((client, Some(server)))
}

/// The model the examples ask for: `ANTHROPIC_MODEL` when set, else
/// [`toolrunner::models::CURRENT`].
pub fn model() -> String {
    std::env::var("ANTHROPIC_MODEL")
        .ok()
        .filter(|model| !model.is_empty())
        .unwrap_or_else(|| toolrunner::models::CURRENT.to_owned())
}

/// Installs a log subscriber that honours `ANTHROPIC_LOG=info|debug`
/// (default: warnings only).
pub fn init_tracing() {
    let level = std::env::var("ANTHROPIC_LOG").unwrap_or_else(|_| "warn".to_owned());
    let filter = tracing_subscriber::EnvFilter::try_new(format!("toolrunner={level}"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("toolrunner=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// A response message as the API sends it.
pub fn assistant(n: usize, content: Value, stop_reason: &str) -> Value {
    json!({
        "id": format!("msg_scripted_{n}"),
        "type": "message",
        "role": "assistant",
        "model": "scripted-model",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": 100, "output_tokens": 20}
    })
}

/// The `tool_result` blocks of the request's last message, as `(tool_use_id, text)`.
pub fn last_tool_results(request: &Value) -> Vec<(String, String)> {
    let Some(last) = request["messages"].as_array().and_then(|m| m.last()) else {
        return Vec::new();
    };
    let Some(blocks) = last["content"].as_array() else {
        return Vec::new();
    };
    blocks
        .iter()
        .filter(|b| b["type"] == "tool_result")
        .map(|b| {
            let text = match &b["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts
                    .iter()
                    .filter_map(|p| p["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => String::new(),
            };
            (
                b["tool_use_id"].as_str().unwrap_or_default().to_owned(),
                text,
            )
        })
        .collect()
}

/// The number of assistant turns in the request's history.
pub fn assistant_turns(request: &Value) -> usize {
    request["messages"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["role"] == "assistant").count())
        .unwrap_or(0)
}

/// Drives `runner` to the end, printing each turn: the model's text, the
/// calls it makes and their results (later lines of a result indented).
pub async fn print_run(runner: &mut ToolRunner) -> Result<(), Error> {
    while let Some(message) = runner.next().await {
        let message = message?;
        for block in &message.content {
            match block {
                ContentBlock::Text(text) => println!("assistant: {}", text.text),
                ContentBlock::ToolUse(call) => println!("  -> {}({})", call.name, call.input),
                _ => {}
            }
        }
        // Run this turn's tools now to show their results; the runner reuses
        // them instead of running the tools again.
        for (_, result) in runner.tool_results().await? {
            let mark = if result.is_error { "error" } else { "ok" };
            println!(
                "  <- [{mark}] {}",
                result.text().replace('\n', "\n         ")
            );
        }
    }
    Ok(())
}
