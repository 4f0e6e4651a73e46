//! What a 50-turn conversation without message threads is billed for, by
//! toolrunner (automatic prompt caching on, its default) and by the
//! official Python SDK's tool runner (its defaults), each against its own
//! scripted server, which reports usage as the API does for prefix caching
//! (see `testing::ScriptedServer`; tokens at four bytes of JSON each).
//!
//! Prints each side's usage and its billed input units (uncached input,
//! plus cache reads at 0.1 and cache writes at 1.25), and the ratio; exits
//! with an error when toolrunner's are not at least five times fewer. The
//! SDK side needs a Python with `anthropic` (`TOOLRUNNER_BENCH_PYTHON`, or
//! `target/bench-venv/bin/python`); without one it says why and shows
//! toolrunner's figures only.
//!
//! ```sh
//! cargo bench -p toolrunner --features testing --bench caching
//! ```

use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer};
use toolrunner::usage::TokenUsage;
use toolrunner::{Client, MessageParams, tool, toolset};

#[path = "support/python.rs"]
mod support;

/// The turns of the conversation: a tool call in each but the last.
const TURNS: usize = 50;

/// What toolrunner must save at least: the SDK's billed input units over
/// toolrunner's.
const REQUIRED_RATIO: f64 = 5.0;

/// Add two integers.
#[tool(inline)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// A system prompt of an agent's usual size (about 3 KB).
fn system_prompt() -> String {
    let rule = "Count up one number at a time, calling the add tool for each step and \
                never skipping a number; say what you are about to do before each call. ";
    rule.repeat(20)
}

/// The scripted model: a tool call per turn until the last, then an
/// answer; built replies, so the server counts their usage.
fn script() -> impl FnMut(&Value) -> Reply + Send + 'static {
    move |request: &Value| {
        let done = request["messages"].as_array().map_or(0, |m| m.len() / 2);
        if done + 1 >= TURNS {
            Reply::text("Done: I counted to fifty.")
        } else {
            Reply::tool_use("add", json!({"a": done, "b": 1}))
                .with_text("Adding the next number to the running total.")
        }
    }
}

async fn ours(system: &str) -> TokenUsage {
    let server = ScriptedServer::start(script()).await.expect("server");
    let client = Client::builder()
        .api_key("bench")
        .base_url(server.url())
        .max_retries(0)
        .build()
        .expect("client");
    let params = MessageParams::new("bench", 256)
        .system(system)
        .user("Count up.");
    let mut runner = client
        .tool_runner(params, toolset![add])
        .message_threads(false)
        .max_iterations(TURNS);
    let mut turns = 0;
    while let Some(message) = futures_util::StreamExt::next(&mut runner).await {
        message.expect("turn");
        turns += 1;
    }
    assert_eq!(turns, TURNS, "toolrunner's run");
    runner.usage().total()
}

fn sdk(python: &str, url: &str, system: &str) -> TokenUsage {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/sdk_caching.py");
    let out = std::process::Command::new(python)
        .args([script, url, &TURNS.to_string(), system])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "the SDK script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("usage from the SDK script")
}

fn show(who: &str, usage: &TokenUsage) {
    println!(
        "  {who:<11} {} requests: input {}, cache writes {}, cache reads {}, output {}; billed input units {:.0}",
        usage.requests,
        usage.input_tokens,
        usage.cache_creation_input_tokens,
        usage.cache_read_input_tokens,
        usage.output_tokens,
        usage.billed_input_units(),
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let system = system_prompt();
    println!("{TURNS}-turn conversation without message threads");
    let ours = rt.block_on(ours(&system));
    show("toolrunner", &ours);
    let python = match support::sdk_python() {
        Ok(python) => python,
        Err(why) => {
            println!("  Python SDK: skipped ({why})");
            return;
        }
    };
    // The SDK gets a server of its own: a cache the other run warmed would
    // flatter it.
    let server = rt
        .block_on(ScriptedServer::start(script()))
        .expect("server");
    let theirs = sdk(&python, &server.url(), &system);
    show("Python SDK", &theirs);
    let ratio = theirs.billed_input_units() / ours.billed_input_units().max(1.0);
    println!("  the SDK's billed input units over toolrunner's: {ratio:.1}x");
    if ratio < REQUIRED_RATIO {
        eprintln!("toolrunner's billed input units are not {REQUIRED_RATIO}x fewer than the SDK's");
        std::process::exit(1);
    }
}
