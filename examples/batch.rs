//! A hundred agent conversations advanced together through the Message
//! Batches API, at batch prices: each asks the model to work out
//! `a × b + c` with two tools. Every round puts each unfinished
//! conversation's next request into one batch, waits for it, runs the
//! tools the model asked for here, and starts the next round.
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API (a batch may take
//! minutes or hours). Without it, it runs against a built-in scripted
//! batch server on loopback: the batches, tool calls and results are
//! real, only the model is scripted.
//!
//! Runs are kept in the system's temp directory: stop the example while
//! a batch processes and start it again, and it polls that batch rather
//! than submitting it again.
//!
//! ```sh
//! cargo run --example batch
//! ANTHROPIC_LOG=info cargo run --example batch
//! ```

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::Reply;
use toolrunner::{BatchEvent, FileStore, MessageParams, Polling, RunId, RunOutcome, tool, toolset};

const CONVERSATIONS: u64 = 100;

/// Multiply two integers.
#[tool]
fn multiply(a: i64, b: i64) -> i64 {
    a * b
}

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();
    let (client, scripted) = support::client_or_scripted(scripted_model).await?;
    // A scripted batch ends at its second poll: poll it fast. The real API
    // takes minutes at least: the default polling backs off to a minute.
    let polling = match &scripted {
        Some(_) => Polling::default().delays(Duration::from_millis(10), Duration::from_millis(50)),
        None => Polling::default(),
    };
    let store = FileStore::new(std::env::temp_dir().join(format!(
        "toolrunner-batch-example-{}",
        if scripted.is_some() {
            "scripted"
        } else {
            "api"
        }
    )));
    let mut fleet = client
        .batch_runner(toolset![multiply, add])
        .store(store.clone())
        .polling(polling)
        .max_iterations(5);
    for i in 0..CONVERSATIONS {
        let (a, b, c) = (i + 2, i % 7 + 3, 40 - i % 11);
        let params = MessageParams::new(support::model(), 512).user(format!(
            "What is {a} × {b} + {c}? Use the tools, then answer with the number only."
        ));
        fleet = fleet.run(RunId::new(format!("sum-{i}"))?, params);
    }

    while let Some(event) = fleet.next().await {
        match event? {
            BatchEvent::Submitted {
                round,
                batch_id,
                requests,
            } => {
                println!("round {round}: {requests} requests in {batch_id}");
            }
            BatchEvent::Resumed { batch_id, requests } => {
                println!(
                    "waiting for {batch_id} ({requests} requests), submitted by a process before"
                );
            }
            BatchEvent::Polled { counts, ended, .. } => {
                let state = if ended { "ended" } else { "processing" };
                println!(
                    "  {state}: {} succeeded, {} processing",
                    counts.succeeded, counts.processing
                );
            }
            BatchEvent::RoundEnded { round } => {
                let p = fleet.progress();
                println!(
                    "  round {round} read: {} done, {} running, {} failed; {} input and {} output tokens so far",
                    p.done,
                    p.running,
                    p.failed,
                    p.usage.total().total_input_tokens(),
                    p.usage.total().output_tokens
                );
            }
            _ => {}
        }
    }

    let report = fleet.into_report();
    for run in report.runs.iter().take(3) {
        match &run.outcome {
            RunOutcome::Finished(message) => println!("{}: {}", run.id, message.text()),
            other => println!("{}: {other:?}", run.id),
        }
    }
    let p = report.progress;
    println!(
        "\n{} conversations in {} rounds: {} done, {} failed; {} requests, {} output tokens",
        CONVERSATIONS,
        p.rounds,
        p.done,
        p.failed,
        p.usage.total().requests,
        p.usage.total().output_tokens
    );
    // Ran to the end: the next start begins afresh.
    for run in &report.runs {
        toolrunner::RunStore::delete(&store, &run.id).await?;
    }
    Ok(())
}

/// The scripted model: it multiplies, then adds, then answers with what
/// the tools returned.
fn scripted_model(request: &Value) -> Reply {
    let question = request["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    let numbers: Vec<i64> = question
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let [a, b, c] = numbers[..] else {
        return Reply::message(support::assistant(
            0,
            json!([{"type": "text", "text": "I cannot read that question."}]),
            "end_turn",
        ));
    };
    let result = support::last_tool_results(request)
        .first()
        .map(|(_, text)| text.clone())
        .unwrap_or_default();
    let message = match support::assistant_turns(request) {
        0 => support::assistant(
            1,
            json!([{"type": "tool_use", "id": "toolu_multiply", "name": "multiply", "input": {"a": a, "b": b}}]),
            "tool_use",
        ),
        1 => support::assistant(
            2,
            json!([{"type": "tool_use", "id": "toolu_add", "name": "add",
                    "input": {"a": result.parse::<i64>().unwrap_or(0), "b": c}}]),
            "tool_use",
        ),
        _ => support::assistant(3, json!([{"type": "text", "text": result}]), "end_turn"),
    };
    Reply::message(message)
}
