//! The runner's own cost per turn: a long tool-calling conversation against
//! a scripted server on loopback, next to a bare reqwest loop that sends the
//! same requests and keeps the same history by hand.
//!
//! ```sh
//! cargo bench -p toolrunner --features testing --bench runner_loop
//! ```

use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer};
use toolrunner::{Client, MessageParams, tool, toolset};

fn main() {
    divan::main();
}

/// Add two integers.
#[tool(inline)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Conversation lengths, in turns: the work per turn should grow with the
/// history that must be sent, no faster.
const TURNS: &[usize] = &[50, 100, 200];

/// The scripted model: a tool call per turn until `turns`, then an answer.
fn script(turns: usize) -> impl FnMut(&Value) -> Reply + Send + 'static {
    move |request: &Value| {
        let done = request["messages"].as_array().map_or(0, |m| m.len() / 2);
        let content = if done + 1 < turns {
            json!([
                {"type": "text", "text": "Adding the next number to the running total."},
                {"type": "tool_use", "id": format!("toolu_{done}"), "name": "add", "input": {"a": done, "b": 1}}
            ])
        } else {
            json!([{"type": "text", "text": "Done."}])
        };
        let stop = if done + 1 < turns {
            "tool_use"
        } else {
            "end_turn"
        };
        Reply::message(json!({
            "id": format!("msg_{done}"), "type": "message", "role": "assistant", "model": "bench",
            "content": content, "stop_reason": stop, "stop_sequence": null,
            "usage": {"input_tokens": 100, "output_tokens": 10}
        }))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[divan::bench(args = TURNS, sample_count = 10, sample_size = 1)]
fn tool_runner(bencher: divan::Bencher<'_, '_>, turns: usize) {
    let rt = runtime();
    let server = rt
        .block_on(ScriptedServer::start(script(turns)))
        .expect("server");
    let client = Client::builder()
        .api_key("bench")
        .base_url(server.url())
        .build()
        .expect("client");
    bencher.bench_local(|| {
        rt.block_on(async {
            let params = MessageParams::new("bench", 256).user("Count up.");
            let last = client
                .tool_runner(params, toolset![add])
                .max_iterations(turns)
                // Like the bare loop, every turn sends the whole history
                // (`benches/threads.rs` measures threaded runs).
                .message_threads(false)
                .until_done()
                .await
                .expect("run");
            assert_eq!(last.text(), "Done.");
        });
    });
}

/// The bare loop's request body, serialized from borrowed parts: no copy of
/// the history is made per turn.
#[derive(serde::Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    messages: &'a [Value],
    tools: &'a Value,
}

/// The same conversation by hand: serialize the history, post it, parse the
/// answer, run `add`, append both messages.
#[divan::bench(args = TURNS, sample_count = 10, sample_size = 1)]
fn bare_reqwest_loop(bencher: divan::Bencher<'_, '_>, turns: usize) {
    let rt = runtime();
    let server = rt
        .block_on(ScriptedServer::start(script(turns)))
        .expect("server");
    let url = format!("{}/v1/messages", server.url());
    let http = reqwest::Client::new();
    let tools = json!([toolset![add].definitions().next().expect("one tool")]);
    bencher.bench_local(|| {
        rt.block_on(async {
            let mut messages = vec![json!({"role": "user", "content": "Count up."})];
            loop {
                let body = Body {
                    model: "bench",
                    max_tokens: 256,
                    messages: &messages,
                    tools: &tools,
                };
                let response = http
                    .post(&url)
                    .header("x-api-key", "bench")
                    .header("anthropic-version", "2026-10-21")
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(&body).expect("json"))
                    .send()
                    .await
                    .expect("send");
                let message: Value = serde_json::from_slice(&response.bytes().await.expect("body")).expect("json");
                let content = message["content"].clone();
                let mut results = Vec::new();
                for block in content.as_array().expect("content") {
                    if block["type"] == "tool_use" {
                        let sum = add(block["input"]["a"].as_i64().unwrap_or(0), block["input"]["b"].as_i64().unwrap_or(0));
                        results.push(json!({"type": "tool_result", "tool_use_id": block["id"], "content": sum.to_string()}));
                    }
                }
                messages.push(json!({"role": "assistant", "content": content}));
                if message["stop_reason"] != "tool_use" {
                    break;
                }
                messages.push(json!({"role": "user", "content": results}));
            }
            assert_eq!(messages.len(), turns * 2);
        });
    });
}
