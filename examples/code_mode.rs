//! Code mode: the model answers a question that takes thirteen tool calls
//! with one `run_code` call. Its Python program lists the warehouses, asks
//! each for its stock at once with `asyncio.gather`, and sums up; the runner
//! runs it in an embedded sandbox, on this machine, and sends back what it
//! printed and its last value. One round trip to the model instead of
//! thirteen, with any model, and no code-execution container.
//!
//! Programs run in a worker process. This example is one file, so it is
//! its own worker ([`Worker::current_exe`]): `main` begins with
//! `worker_entry()` and the allocator is the worker's. A package of your own
//! would rather add `src/bin/toolrunner-worker.rs` holding
//! `toolrunner::code_mode_worker!();` and keep its own allocator (see the
//! README).
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API. Without it, it
//! runs against a scripted model whose reply holds that program: the
//! sandbox, the tool calls and the result are real, only the model is
//! scripted.
//!
//! ```sh
//! cargo run --example code_mode --features code-mode
//! ANTHROPIC_LOG=debug cargo run --example code_mode --features code-mode
//! ```

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use toolrunner::code_mode::{CodeMode, Isolation, Worker, WorkerAllocator};
use toolrunner::testing::Reply;
use toolrunner::{ContentBlock, MessageParams, State, ToolCall, tool, toolset};

/// Units in stock, by warehouse and then by SKU.
struct Inventory(BTreeMap<&'static str, BTreeMap<&'static str, u32>>);

impl Inventory {
    fn sample() -> Self {
        let warehouses = [
            "amsterdam",
            "berlin",
            "cairo",
            "dublin",
            "lisbon",
            "madrid",
            "nairobi",
            "oslo",
            "prague",
            "rome",
            "vienna",
            "warsaw",
        ];
        let stock = warehouses
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let i = i as u32;
                let items = BTreeMap::from([
                    ("SKU-1001", (i * 37 + 11) % 90),
                    ("SKU-2002", (i * 53 + 7) % 40),
                ]);
                (*name, items)
            })
            .collect();
        Inventory(stock)
    }
}

/// List the warehouses, by name.
#[tool(allowed_callers = ["code"])]
fn list_warehouses(inventory: State<Inventory>) -> Vec<&'static str> {
    inventory.0.keys().copied().collect()
}

#[derive(Serialize)]
struct Stock {
    warehouse: String,
    sku: String,
    units: u32,
}

/// The units of one SKU in stock at one warehouse.
#[tool(allowed_callers = ["code"])]
async fn stock_level(
    inventory: State<Inventory>,
    call: ToolCall,
    /// The warehouse's name, from `list_warehouses`.
    warehouse: String,
    /// The SKU, e.g. "SKU-1001".
    sku: String,
) -> Result<Stock, String> {
    tracing::info!(caller = %call.caller(), id = call.id(), warehouse, "stock_level");
    // A real inventory service answers over the network.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let units = inventory
        .0
        .get(warehouse.as_str())
        .ok_or_else(|| format!("no warehouse named `{warehouse}`"))?
        .get(sku.as_str())
        .copied()
        .ok_or_else(|| format!("`{warehouse}` does not stock `{sku}`"))?;
    Ok(Stock {
        warehouse,
        sku,
        units,
    })
}

/// The program the scripted model writes; a real model writes much the same.
const PROGRAM: &str = r#"import asyncio

warehouses = await list_warehouses()
levels = await asyncio.gather(*(stock_level(warehouse=w, sku="SKU-1001") for w in warehouses))
by_units = sorted(levels, key=lambda s: s["units"])
for s in by_units[:3]:
    print(f"{s['warehouse']:>10}: {s['units']} units")
{"lowest": by_units[0]["warehouse"], "units": by_units[0]["units"], "total": sum(s["units"] for s in levels)}"#;

// The worker counts its memory with this allocator; here, the host's
// allocations are counted too, and bounded by nothing.
#[global_allocator]
static ALLOCATOR: WorkerAllocator = WorkerAllocator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Started as code mode's worker, this program serves programs and exits
    // here.
    toolrunner::code_mode::worker_entry();
    run()
}

#[tokio::main]
async fn run() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();

    // The server, if any, is kept alive for the whole run.
    let (client, _scripted) = support::client_or_scripted(scripted_model).await?;

    // The model sees one tool, `run_code`, whose description declares
    // `list_warehouses` and `stock_level` as Python functions.
    let tools =
        CodeMode::new(toolset![list_warehouses, stock_level].with_state(Inventory::sample()))
            .isolation(Isolation::Worker(Worker::current_exe()))
            .build()?;
    let params = MessageParams::new(support::model(), 2048).user(
        "Which of our warehouses has the fewest units of SKU-1001, and how many units do we hold in total?",
    );
    let mut runner = client.tool_runner(params, tools).max_iterations(10);

    while let Some(message) = runner.next().await {
        let message = message?;
        for block in &message.content {
            match block {
                ContentBlock::Text(text) => println!("assistant: {}", text.text),
                ContentBlock::ToolUse(call) => match call.input["code"].as_str() {
                    Some(code) => println!("  -> {}:\n{}\n", call.name, indent(code)),
                    None => println!("  -> {}({})", call.name, call.input),
                },
                _ => {}
            }
        }
        // Run this turn's tools now to show their results; the runner reuses
        // them instead of running the tools again.
        for (_, result) in runner.tool_results().await? {
            let mark = if result.is_error { "error" } else { "ok" };
            println!("  <- [{mark}]\n{}\n", indent(&result.text()));
        }
    }
    println!("({} requests to the model)", runner.iterations());
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("     {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The scripted model: it writes the program, then answers from its result.
fn scripted_model(request: &Value) -> Reply {
    let message = match support::assistant_turns(request) {
        0 => support::assistant(
            1,
            json!([
                {"type": "text", "text": "I'll check every warehouse in one program."},
                {"type": "tool_use", "id": "toolu_code", "name": "run_code", "input": {"code": PROGRAM}}
            ]),
            "tool_use",
        ),
        _ => {
            let (_, result) = support::last_tool_results(request)
                .pop()
                .unwrap_or_default();
            let answer = result
                .split_once("Last expression (JSON):\n")
                .and_then(|(_, json)| serde_json::from_str::<Value>(json).ok())
                .map(|v| {
                    format!(
                        "{} has the fewest units of SKU-1001 ({}); we hold {} units in total.",
                        v["lowest"].as_str().unwrap_or("?"),
                        v["units"],
                        v["total"]
                    )
                })
                .unwrap_or_else(|| format!("The program failed:\n{result}"));
            support::assistant(2, json!([{"type": "text", "text": answer}]), "end_turn")
        }
    };
    Reply::message(message)
}
