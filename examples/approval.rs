//! Human in the loop: deleting a file waits for a "y" on stdin; listing
//! files runs freely. A "n" (or no answer, as when stdin is closed) denies
//! the deletion, and the model is told so. The turn's text streams in as
//! the model writes it.
//!
//! The before-call hook defers the deletion rather than asking at once: the
//! run stops with the call waiting, its state in hand, the way a web
//! service would store it and ask a human who may answer days later. The
//! decision is made on the state, and a resumed runner goes on: it shows
//! the decided turn again, with what came of its calls, then carries on.
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API; without it, a
//! scripted model on loopback asks to delete a file, then to list them.
//!
//! ```sh
//! cargo run --example approval
//! ```

#[path = "support/mod.rs"]
mod support;

use std::io::Write;

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::stream::{Delta, StreamEvent};
use toolrunner::testing::Reply;
use toolrunner::{
    Decision, Error, MessageParams, PendingCall, StreamingToolRunner, Toolset, tool, toolset,
};

/// List the files in the working folder.
#[tool]
fn list_files() -> Vec<&'static str> {
    vec!["notes.txt", "report.pdf", "old-backup.tar"]
}

/// Delete a file from the working folder. This cannot be undone.
#[tool]
fn delete_file(
    /// The file's name.
    name: String,
) -> String {
    format!("deleted {name}")
}

fn tools() -> Toolset {
    toolset![list_files, delete_file]
}

/// Deletions wait for a human; everything else runs.
async fn deletions_wait(call: PendingCall) -> Decision {
    if call.name == "delete_file" {
        Decision::Defer
    } else {
        Decision::Allow
    }
}

/// Asks on stdin whether `call` may run; blocking reads go to the blocking pool.
async fn ask(call: &PendingCall) -> Option<bool> {
    let question = format!("\nallow {}({})? [y/N] ", call.name, call.input);
    let answer = tokio::task::spawn_blocking(move || {
        print!("{question}");
        std::io::stdout().flush().ok();
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim().to_lowercase()),
        }
    })
    .await
    .ok()
    .flatten()?;
    Some(matches!(answer.as_str(), "y" | "yes"))
}

/// Streams each turn's text and prints what came of its calls.
async fn print_turns(runner: &mut StreamingToolRunner) -> Result<(), Error> {
    while let Some(turn) = runner.next_turn().await {
        let turn = turn?;
        print!("\nassistant: ");
        let mut streamed = false;
        while let Some(event) = turn.next().await {
            if let StreamEvent::ContentBlockDelta {
                delta: Delta::Text(text),
                ..
            } = event?
            {
                print!("{text}");
                std::io::stdout().flush().ok();
                streamed = true;
            }
        }
        // A resumed run shows the decided turn again, kept rather than streamed.
        if !streamed {
            print!("{}", turn.message().await?.text());
        }
        println!();
        for (call, result) in runner.tool_results().await? {
            println!(
                "  <- {}: {}{}",
                call.name,
                if result.is_error { "[denied] " } else { "" },
                result.text()
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();
    // The server, if any, is kept alive for the whole run.
    let (client, _scripted) = support::client_or_scripted(scripted_model).await?;

    let params = MessageParams::new(support::model(), 1024)
        .user("Clean up: delete the old backup, then show me what is left.");
    let mut runner = client
        .tool_runner(params, tools())
        .before_tool_call(deletions_wait)
        .streaming();
    loop {
        print_turns(&mut runner).await?;
        let pending = runner.pending_approvals();
        if pending.is_empty() {
            return Ok(());
        }
        // The run stopped; its state is all a later process would need.
        let mut state = runner.state();
        for call in &pending {
            match ask(call).await {
                Some(true) => state.approve(&call.id)?,
                Some(false) => state.deny(&call.id, "the user declined this tool call")?,
                None => {
                    println!("(no answer: denied)");
                    state.deny(&call.id, "the user was not there to approve this tool call")?;
                }
            }
        }
        runner = client
            .resume(state, tools())?
            .before_tool_call(deletions_wait)
            .streaming();
    }
}

/// The scripted model: delete, then list, then sum up what it was told.
fn scripted_model(request: &Value) -> Reply {
    let turn = support::assistant_turns(request);
    let results = support::last_tool_results(request);
    let message = match turn {
        0 => support::assistant(
            1,
            json!([
                {"type": "text", "text": "I'll delete the old backup first."},
                {"type": "tool_use", "id": "toolu_del", "name": "delete_file", "input": {"name": "old-backup.tar"}}
            ]),
            "tool_use",
        ),
        1 => support::assistant(
            2,
            json!([
                {"type": "text", "text": format!("Result: {}. Now listing the files.", results.first().map_or("", |(_, t)| t.as_str()))},
                {"type": "tool_use", "id": "toolu_list", "name": "list_files", "input": {}}
            ]),
            "tool_use",
        ),
        _ => support::assistant(
            3,
            json!([{"type": "text", "text": format!("Here is what I was told: {}", results.first().map_or("nothing", |(_, t)| t.as_str()))}]),
            "end_turn",
        ),
    };
    Reply::stream_message(&message)
}
