//! A batch-driven fleet in a process of its own, for the batch runner's
//! kill tests (`tests/tests/batch_runner.rs`): they start it against a
//! scripted batch server, kill it while a batch processes, while results
//! are read or while tools run, and start it again to resume.
//!
//! `batch-child <server url> <store dir> <log dir> <runs>`
//!
//! - Runs `run-0` .. `run-<runs - 1>`, each starting from `"Go <i>."`.
//! - The tool `append` writes `<idempotency key>\t<word>` to `effects.log`
//!   (its side effect, done once per key) and to `attempts.log` (every
//!   time it runs).
//! - After each save it prints `checkpoint <n>` (counted in this process);
//!   with `BATCH_PAUSE_AT=<n>` it then waits to be killed.
//! - It prints each event of the fleet: `event <kind>`; with
//!   `BATCH_PAUSE_ON=polled` it waits to be killed after the first poll
//!   of a batch still processing.
//! - With `BATCH_PAUSE_IN=<word>`, the call appending `<word>` prints
//!   `in call <word>` after its side effect and waits to be killed.
//! - At the end it prints `done {"<run id>": <its conversation>, ...}`.

#[path = "../child.rs"]
mod child;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use child::{Announcing, Logs, append, give_up_after_a_while, number, say, wait_to_be_killed};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use toolrunner::{BatchEvent, Client, MessageParams, Polling, RunId, toolset};

#[tokio::main]
async fn main() -> ExitCode {
    give_up_after_a_while("batch-child");
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("batch-child: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, store_dir, log_dir, runs] = args.as_slice() else {
        return Err("usage: batch-child <url> <store dir> <log dir> <runs>".into());
    };
    let store = Announcing::new(store_dir, number("BATCH_PAUSE_AT"));
    let pause_on_poll = std::env::var("BATCH_PAUSE_ON").is_ok_and(|v| v == "polled");
    let logs = Logs {
        dir: PathBuf::from(log_dir),
        pause_in: std::env::var("BATCH_PAUSE_IN").ok(),
    };
    let client = Client::builder()
        .api_key("test-key")
        .base_url(url)
        .max_retries(0)
        .build()?;
    let polling = Polling::default().delays(Duration::from_millis(1), Duration::from_millis(5));
    let mut fleet = client
        .batch_runner(toolset![append].with_state(logs))
        .store(store)
        .polling(polling)
        // One call at a time: at each checkpoint no other call is in
        // flight, so each call is to run exactly once (but the one the
        // process dies in).
        .tool_concurrency(1)
        .runs_at_once(1);
    let runs: usize = runs.parse()?;
    for i in 0..runs {
        let params = MessageParams::new("claude-test", 256).user(format!("Go {i}."));
        fleet = fleet.run(RunId::new(format!("run-{i}"))?, params);
    }
    while let Some(event) = fleet.next().await {
        let event = event?;
        say(&format!("event {}", describe(&event)));
        if pause_on_poll && matches!(event, BatchEvent::Polled { ended: false, .. }) {
            wait_to_be_killed();
        }
    }
    let mut conversations = Map::new();
    for run in fleet.into_report().runs {
        conversations.insert(
            run.id.to_string(),
            serde_json::to_value(run.state.messages())?,
        );
    }
    say(&format!("done {}", Value::Object(conversations)));
    Ok(())
}

/// An event in a word or two, for the test to wait for.
fn describe(event: &BatchEvent) -> String {
    match event {
        BatchEvent::Submitted { round, .. } => format!("submitted {round}"),
        BatchEvent::Resumed { batch_id, .. } => format!("resumed {batch_id}"),
        BatchEvent::Polled { ended, .. } => format!("polled {ended}"),
        BatchEvent::RunFinished { run } => format!("finished {run}"),
        BatchEvent::RoundEnded { round } => format!("round ended {round}"),
        other => format!("{other:?}"),
    }
}
