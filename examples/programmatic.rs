//! Programmatic tool calling: the model writes code that runs in the API's
//! code-execution container, and that code calls `query_orders`, a tool the
//! model may call only from code, once per region in a loop.
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API. Without it, it runs
//! against a scripted transcript shaped exactly like the API's: the code's
//! tool calls arrive as `tool_use` blocks whose `caller` names the code run,
//! the runner answers them in the same container, and the run finishes with
//! a `code_execution_tool_result`. The tool calls and their results are real.
//!
//! ```sh
//! cargo run --example programmatic
//! ```

#[path = "support/mod.rs"]
mod support;

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use toolrunner::testing::Reply;
use toolrunner::types::CodeExecutionOutcome;
use toolrunner::{ContentBlock, MessageParams, State, ToolCall, tool, toolset};

/// A small in-memory orders table: (region, customer, amount in cents).
struct Orders(Vec<(&'static str, &'static str, u64)>);

#[derive(Serialize)]
struct RegionTotal {
    region: String,
    orders: usize,
    total_cents: u64,
}

/// Total the orders of one sales region. Returns the number of orders and
/// their total in cents.
#[tool(allowed_callers = ["code"])]
fn query_orders(
    orders: State<Orders>,
    call: ToolCall,
    /// The region: "north", "south", "east" or "west".
    region: String,
) -> Result<RegionTotal, String> {
    tracing::info!(caller = %call.caller(), region, "query_orders");
    let rows: Vec<_> = orders.0.iter().filter(|(r, _, _)| *r == region).collect();
    if rows.is_empty() {
        return Err(format!("no orders for region `{region}`"));
    }
    Ok(RegionTotal {
        region,
        orders: rows.len(),
        total_cents: rows.iter().map(|(_, _, cents)| cents).sum(),
    })
}

const REGIONS: [&str; 4] = ["north", "south", "east", "west"];

const PROGRAM: &str = r#"totals = {}
for region in ["north", "south", "east", "west"]:
    result = await query_orders(region=region)
    totals[region] = result["total_cents"]
best = max(totals, key=totals.get)
print(f"best region: {best} ({totals[best] / 100:.2f} USD)")
print(totals)"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();
    // The server, if any, is kept alive for the whole run.
    let (client, _scripted) = support::client_or_scripted(scripted_model()).await?;

    let orders = Orders(vec![
        ("north", "acme", 12_000),
        ("north", "globex", 4_550),
        ("south", "initech", 30_000),
        ("east", "umbrella", 8_025),
        ("east", "hooli", 9_999),
        ("west", "stark", 15_000),
    ]);
    let params = MessageParams::new(support::model(), 2048)
        .user("Which sales region has the highest order total? Use code to query every region.");
    let mut runner = client
        .tool_runner(params, toolset![query_orders].with_state(orders))
        .max_iterations(12);

    while let Some(message) = runner.next().await {
        let message = message?;
        for block in &message.content {
            match block {
                ContentBlock::Text(text) => println!("assistant: {}", text.text),
                ContentBlock::ServerToolUse(run) => println!(
                    "  [code {}]\n{}",
                    run.id,
                    indent(run.input["code"].as_str().unwrap_or(""))
                ),
                ContentBlock::ToolUse(call) => {
                    println!("  -> {}({}) from {}", call.name, call.input, call.caller())
                }
                _ => {}
            }
        }
    }

    println!("\ncode executions:");
    for run in runner.code_executions() {
        let calls = run.tool_calls.len();
        match &run.outcome {
            Some(CodeExecutionOutcome::Finished {
                stdout,
                return_code,
                ..
            }) => {
                println!(
                    "  {}: return code {return_code}, {calls} tool calls, stdout:\n{}",
                    run.id,
                    indent(stdout)
                );
            }
            Some(CodeExecutionOutcome::Error { error_code }) => {
                println!("  {}: failed: {error_code}", run.id)
            }
            _ => println!("  {}: {calls} tool calls, no result", run.id),
        }
        if run.is_failure() {
            println!("  (this run failed)");
        }
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The scripted model: one code run that calls `query_orders` for each
/// region in turn, then prints the best region from the real results.
fn scripted_model() -> impl FnMut(&Value) -> Reply + Send + 'static {
    let mut totals: Vec<(String, u64)> = Vec::new();
    let container = json!({"id": "container_scripted_1", "expires_at": "2026-11-21T12:00:00Z"});
    move |request: &Value| {
        for (_, text) in support::last_tool_results(request) {
            if let Ok(result) = serde_json::from_str::<Value>(&text) {
                let region = result["region"].as_str().unwrap_or("?").to_owned();
                totals.push((region, result["total_cents"].as_u64().unwrap_or(0)));
            }
        }
        let turn = support::assistant_turns(request);
        let from_code = |i: usize| {
            json!({"type": "tool_use", "id": format!("toolu_{i}"), "name": "query_orders",
                   "input": {"region": REGIONS[i]},
                   "caller": {"type": "code_execution_20260120", "tool_id": "srvtoolu_1"}})
        };
        let mut message = if turn == 0 {
            support::assistant(
                1,
                json!([
                    {"type": "text", "text": "I'll query every region from code."},
                    {"type": "server_tool_use", "id": "srvtoolu_1", "name": "code_execution", "input": {"code": PROGRAM}},
                    from_code(0)
                ]),
                "tool_use",
            )
        } else if turn < REGIONS.len() {
            support::assistant(turn + 1, json!([from_code(turn)]), "tool_use")
        } else {
            let (best, cents) = totals
                .iter()
                .max_by_key(|(_, c)| *c)
                .cloned()
                .unwrap_or_default();
            let map: Vec<String> = totals.iter().map(|(r, c)| format!("'{r}': {c}")).collect();
            let stdout = format!(
                "best region: {best} ({:.2} USD)\n{{{}}}\n",
                cents as f64 / 100.0,
                map.join(", ")
            );
            support::assistant(
                turn + 1,
                json!([
                    {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_1",
                     "content": {"type": "code_execution_result", "stdout": stdout, "stderr": "", "return_code": 0, "content": []}},
                    {"type": "text", "text": format!("The {best} region has the highest total: {:.2} USD.", cents as f64 / 100.0)}
                ]),
                "end_turn",
            )
        };
        message["container"] = container.clone();
        Reply::message(message)
    }
}
