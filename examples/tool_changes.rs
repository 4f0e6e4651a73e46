//! Tools that change mid-run: the model may only deploy once the tests
//! pass. The run starts with `run_tests` alone; when its result says the
//! tests passed, the program gives the model `deploy` and takes
//! `run_tests` away. The `tools` parameter never changes (so the prompt
//! cache keeps working): the next request carries a `system`-role message
//! of `tool_addition` and `tool_removal` blocks, which this example prints.
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API; without it, to a
//! built-in scripted model on loopback, which calls whatever tools the
//! conversation has given it.
//!
//! ```sh
//! cargo run --example tool_changes
//! ```

#[path = "support/mod.rs"]
mod support;

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::Reply;
use toolrunner::{ContentBlock, MessageParams, Role, tool, toolset};

/// Run the project's test suite and report how many tests passed.
#[tool]
fn run_tests() -> String {
    "42 passed, 0 failed".to_owned()
}

/// Deploy the current build to an environment.
#[tool]
fn deploy(
    /// Where to deploy: "staging" or "production".
    environment: String,
) -> Result<String, String> {
    match environment.as_str() {
        "staging" | "production" => Ok(format!("build 1.4.2 deployed to {environment}")),
        other => Err(format!("no environment `{other}`")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();
    let (client, _scripted) = support::client_or_scripted(scripted_model).await?;

    let params = MessageParams::new(support::model(), 1024)
        .user("Run the tests. If they pass, you will be given a deploy tool: deploy to staging.");
    let mut runner = client
        .tool_runner(params, toolset![run_tests])
        .max_iterations(6);

    let mut deploy_unlocked = false;
    while let Some(message) = runner.next().await {
        for block in &message?.content {
            match block {
                ContentBlock::Text(text) => println!("assistant: {}", text.text),
                ContentBlock::ToolUse(call) => println!("  -> {}({})", call.name, call.input),
                _ => {}
            }
        }
        // Run this turn's calls now, to decide on their results; the runner
        // sends them without running the tools again.
        let passed = runner
            .tool_results()
            .await?
            .iter()
            .any(|(_, result)| !result.is_error && result.text().contains("0 failed"));
        if passed && !deploy_unlocked {
            deploy_unlocked = true;
            println!("  (tests passed: adding `deploy`, removing `run_tests`)");
            runner.add_tools(toolset![deploy])?;
            runner.remove_tools(["run_tests"])?;
        }
    }

    // What the model was told, in the history: the `system`-role message.
    for message in runner.messages() {
        if message.role == Role::System {
            println!("\ntool changes sent: {}", serde_json::to_string(message)?);
        }
    }
    println!("({} requests)", runner.iterations());
    Ok(())
}

/// The scripted model: it runs the tests, then deploys to staging once a
/// `tool_addition` has given it `deploy`, then reports.
fn scripted_model(request: &Value) -> Reply {
    let history = request["messages"].as_array().cloned().unwrap_or_default();
    let added_deploy = history.iter().any(|m| {
        m["role"] == "system"
            && m["content"].as_array().is_some_and(|blocks| {
                blocks.iter().any(|b| {
                    b["type"] == "tool_addition" && b["tool"]["definition"]["name"] == "deploy"
                })
            })
    });
    let results = support::last_tool_results(request);
    let deployed = results.iter().any(|(_, text)| text.contains("deployed"));
    let turn = support::assistant_turns(request) + 1;
    let message = if deployed {
        support::assistant(
            turn,
            json!([{"type": "text", "text": "The tests pass and build 1.4.2 is on staging."}]),
            "end_turn",
        )
    } else if added_deploy {
        support::assistant(
            turn,
            json!([
                {"type": "text", "text": "All 42 tests passed; deploying to staging."},
                {"type": "tool_use", "id": "toolu_deploy", "name": "deploy", "input": {"environment": "staging"}}
            ]),
            "tool_use",
        )
    } else {
        support::assistant(
            turn,
            json!([
                {"type": "text", "text": "Running the tests first."},
                {"type": "tool_use", "id": "toolu_tests", "name": "run_tests", "input": {}}
            ]),
            "tool_use",
        )
    };
    Reply::message(message)
}
