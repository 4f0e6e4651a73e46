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

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use toolrunner::{
    Client, FileStore, MessageParams, RunId, RunState, RunStore, State, StoreFuture, ToolCall,
    platform, tool, toolset,
};

struct Logs {
    dir: PathBuf,
    pause_in: Option<String>,
}

/// Append a word to the log.
#[tool]
fn append(logs: State<Logs>, call: ToolCall, word: String) -> Result<String, String> {
    let key = call
        .idempotency_key()
        .ok_or("the runner checkpoints, so calls have idempotency keys")?
        .to_owned();
    let line = format!("{key}\t{word}\n");
    write_line(&logs.dir.join("attempts.log"), &line)?;
    // The side effect, once per key: a call run again after a crash finds
    // its key and does nothing twice.
    let effects = logs.dir.join("effects.log");
    let done = std::fs::read_to_string(&effects).unwrap_or_default();
    if !done
        .lines()
        .any(|l| l.split('\t').next() == Some(key.as_str()))
    {
        write_line(&effects, &line)?;
    }
    if logs.pause_in.as_deref() == Some(word.as_str()) {
        say(&format!("in call {word}"));
        wait_to_be_killed();
    }
    Ok(format!("appended {word}"))
}

fn write_line(path: &PathBuf, line: &str) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    file.write_all(line.as_bytes()).map_err(|e| e.to_string())
}

/// A file store that says when it saved, and stops after the save the
/// test asked for.
struct Announcing {
    inner: FileStore,
    saves: AtomicUsize,
    pause_at: Option<usize>,
}

impl RunStore for Announcing {
    fn load<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, Option<RunState>> {
        self.inner.load(run)
    }

    fn save<'a>(&'a self, run: &'a RunId, state: &'a RunState) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inner.save(run, state).await?;
            let n = self.saves.fetch_add(1, Ordering::SeqCst) + 1;
            say(&format!("checkpoint {n}"));
            if self.pause_at == Some(n) {
                wait_to_be_killed();
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, ()> {
        self.inner.delete(run)
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Blocks this thread until the test kills the process.
fn wait_to_be_killed() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// How long a child may live: one that hangs fails its test rather than
/// holding it up forever.
const LIFETIME: Duration = Duration::from_secs(120);

#[tokio::main]
async fn main() -> ExitCode {
    std::thread::spawn(|| {
        std::thread::sleep(LIFETIME);
        eprintln!("durable-child: still running after {LIFETIME:?}; giving up");
        std::process::exit(3);
    });
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
    let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let store = Announcing {
        inner: FileStore::new(store_dir),
        saves: AtomicUsize::new(0),
        pause_at: number("DURABLE_PAUSE_AT"),
    };
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
