//! Human in the loop: every tool call waits for a "y" on stdin. A "n" (or
//! no answer, as when stdin is closed) denies it, and the model is told so.
//! The turn's text streams in as the model writes it.
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
use toolrunner::{Decision, MessageParams, PendingCall, tool, toolset};

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

/// Asks on stdin whether `call` may run; blocking reads go to the blocking pool.
async fn ask(call: PendingCall) -> Decision {
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
    .flatten();
    match answer.as_deref() {
        Some("y" | "yes") => Decision::allow(),
        Some(_) => Decision::deny("the user declined this tool call"),
        None => {
            println!("(no answer: denied)");
            Decision::deny("the user was not there to approve this tool call")
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();
    // The server, if any, is kept alive for the whole run.
    let (client, _scripted) = support::client_or_scripted(scripted_model).await?;

    let params = MessageParams::new(support::model(), 1024)
        .user("Clean up: delete the old backup, then show me what is left.");
    let mut runner = client
        .tool_runner(params, toolset![list_files, delete_file])
        .before_tool_call(ask)
        .streaming();

    while let Some(turn) = runner.next_turn().await {
        let turn = turn?;
        print!("\nassistant: ");
        while let Some(event) = turn.next().await {
            if let StreamEvent::ContentBlockDelta {
                delta: Delta::Text(text),
                ..
            } = event?
            {
                print!("{text}");
                std::io::stdout().flush().ok();
            }
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
