//! A checkpointed run in a process of its own, for the durable-run tests
//! (`tests/tests/durable.rs`): they start it against a scripted server,
//! kill it at a checkpoint or in the middle of a call, and start it again
//! to resume.
//!
//! `durable-child <server url> <store dir> <run id> <log dir> <plain|concurrent|streaming>`
//!
//! - The tool `append` writes `<idempotency key>\t<word>` to `effects.log`
//!   (its side effect, done once per key) and to `attempts.log` (every
//!   time it runs).
//! - After each checkpoint it prints `checkpoint <n>` (counted in this
//!   process); with `DURABLE_PAUSE_AT=<n>` it then waits to be killed.
//! - With `DURABLE_PAUSE_IN=<word>`, the call appending `<word>` prints
//!   `in call <word>` after its side effect and waits to be killed.
//! - At the end it prints `done <the conversation as JSON>`.
//! - With `DURABLE_PLATFORM` set (`bedrock`, `mantle`, `aws`, `vertex`,
//!   `google-cloud` or `foundry`), it runs on that platform, configured
//!   from the environment as each platform's `from_env` reads it, with
//!   `<server url>` as its base URL.

#[path = "../child.rs"]
mod child;

use std::path::PathBuf;
use std::process::ExitCode;

use child::{Announcing, Logs, append, give_up_after_a_while, number, say};
use futures_util::StreamExt;
use toolrunner::{Client, MessageParams, RunId, RunStore, platform, toolset};

#[tokio::main]
async fn main() -> ExitCode {
    give_up_after_a_while("durable-child");
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("durable-child: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, store_dir, run_id, log_dir, mode] = args.as_slice() else {
        return Err(
            "usage: durable-child <url> <store dir> <run id> <log dir> <plain|streaming>".into(),
        );
    };
    let store = Announcing::new(store_dir, number("DURABLE_PAUSE_AT"));
    let logs = Logs {
        dir: PathBuf::from(log_dir),
        pause_in: std::env::var("DURABLE_PAUSE_IN").ok(),
    };
    let tools = toolset![append].with_state(logs);
    let client = client(url)?;
    let run = RunId::new(run_id.as_str())?;
    let runner = match store.load(&run).await? {
        Some(state) => client.resume(state, tools)?,
        None => client.tool_runner(MessageParams::new("claude-test", 256).user("Go."), tools),
    }
    .checkpoint(store, run)
    // One call at a time, but in `concurrent` mode: at each checkpoint no
    // other call is in flight then, so every call is to run exactly once.
    // With calls running at once, a kill may catch another call of the
    // turn mid-flight: that call runs again on resume, with the same
    // idempotency key.
    .tool_concurrency(if mode == "concurrent" { 2 } else { 1 });
    let messages = if mode == "streaming" {
        let mut runner = runner.streaming();
        while let Some(turn) = runner.next_turn().await {
            turn?.message().await?;
        }
        runner.messages().to_vec()
    } else {
        let mut runner = runner;
        while let Some(message) = runner.next().await {
            message?;
        }
        runner.messages().to_vec()
    };
    say(&format!("done {}", serde_json::to_string(&messages)?));
    Ok(())
}

/// The first-party client for `url`, or the platform `DURABLE_PLATFORM`
/// names, read from the environment, with `url` as its base URL.
fn client(url: &str) -> Result<Client, toolrunner::Error> {
    let settings = Client::builder().max_retries(0);
    let Ok(platform) = std::env::var("DURABLE_PLATFORM") else {
        return settings.api_key("test-key").base_url(url).build();
    };
    match platform.as_str() {
        "bedrock" => platform::Bedrock::from_env()
            .base_url(url)
            .client(settings)
            .build(),
        "mantle" => platform::BedrockMantle::from_env()
            .base_url(url)
            .client(settings)
            .build(),
        "aws" => platform::Aws::from_env()
            .base_url(url)
            .client(settings)
            .build(),
        "vertex" => platform::Vertex::from_env()
            .base_url(url)
            .client(settings)
            .build(),
        "google-cloud" => platform::GoogleCloud::from_env()
            .base_url(url)
            .client(settings)
            .build(),
        "foundry" => platform::Foundry::from_env()
            .base_url(url)
            .client(settings)
            .build(),
        other => panic!("durable-child: no platform {other:?}"),
    }
}
