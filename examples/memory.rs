//! Memory across conversations: the model keeps notes with the built-in
//! memory tool, in a local directory it sees as `/memories`.
//!
//! Two separate conversations share the directory. In the first, the user
//! mentions a preference and the model writes it down; in the second, a
//! fresh conversation with no history, the model looks in its memory and
//! answers from what it finds there.
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API; without it, a
//! scripted model on loopback plays the part. The directory is
//! `$MEMORY_DIR` (kept), or a fresh one under the system's temporary
//! directory (removed at the end).
//!
//! ```sh
//! cargo run --example memory
//! ```

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use toolrunner::builtin::MemoryTool;
use toolrunner::testing::Reply;
use toolrunner::{Client, MessageParams, Toolset};

const FIRST: &str = "I'm planning my week. For the record: I only drink green tea, never coffee.";
const SECOND: &str = "I'm at the café. What should I order?";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();
    let (client, _scripted) = support::client_or_scripted(scripted_model).await?;

    let keep = std::env::var_os("MEMORY_DIR");
    let dir = match &keep {
        Some(dir) => PathBuf::from(dir),
        None => {
            let dir =
                std::env::temp_dir().join(format!("toolrunner-memory-{}", std::process::id()));
            // Start from an empty memory so that the run is the same every time.
            let _ = std::fs::remove_dir_all(&dir);
            dir
        }
    };
    println!("memory directory: {}\n", dir.display());

    println!("== conversation 1 ==");
    converse(&client, &dir, FIRST).await?;
    println!("\n== conversation 2 (no shared history, same memory) ==");
    converse(&client, &dir, SECOND).await?;
    if keep.is_none() {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

/// One conversation with its own runner; only the directory carries over.
async fn converse(
    client: &Client,
    dir: &Path,
    prompt: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("user: {prompt}");
    // Opened again each time, as a new process would.
    let tools = Toolset::from(MemoryTool::local(dir)?);
    let params = MessageParams::new(support::model(), 1024).user(prompt);
    let mut runner = client.tool_runner(params, tools).max_iterations(10);
    support::print_run(&mut runner).await?;
    Ok(())
}

/// The scripted model: look in memory first; in the first conversation
/// write the preference down, in the second answer from the file it reads.
fn scripted_model(request: &Value) -> Reply {
    let prompt = request["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    let turn = support::assistant_turns(request);
    let results = support::last_tool_results(request);
    let memory = |id: &str, input: Value| json!({"type": "tool_use", "id": id, "name": "memory", "input": input});
    let (content, stop) = match (prompt == FIRST, turn) {
        (_, 0) => (
            json!([
                {"type": "text", "text": "Let me check my memory first."},
                memory("toolu_view", json!({"command": "view", "path": "/memories"}))
            ]),
            "tool_use",
        ),
        (true, 1) => (
            json!([
                {"type": "text", "text": "Nothing about you yet; I'll note your preference."},
                memory("toolu_create", json!({
                    "command": "create",
                    "path": "/memories/preferences.md",
                    "file_text": "# User preferences\n- drinks: green tea only, never coffee\n"
                }))
            ]),
            "tool_use",
        ),
        (false, 1) => (
            json!([memory(
                "toolu_read",
                json!({"command": "view", "path": "/memories/preferences.md"})
            )]),
            "tool_use",
        ),
        (true, _) => (
            json!([{"type": "text", "text": "Noted: green tea, never coffee. Good luck with the week!"}]),
            "end_turn",
        ),
        (false, _) => {
            // Answer from what the file said, not from this script.
            let notes = results
                .first()
                .map(|(_, text)| text.as_str())
                .unwrap_or_default();
            let answer = match notes.lines().find(|l| l.contains("drinks:")) {
                Some(line) => format!(
                    "My notes say \"{}\", so: a green tea, please.",
                    line.split("- ").nth(1).unwrap_or(line).trim()
                ),
                None => "I have no notes about you; what do you like?".to_owned(),
            };
            (json!([{"type": "text", "text": answer}]), "end_turn")
        }
    };
    Reply::message(support::assistant(turn + 1, content, stop))
}
