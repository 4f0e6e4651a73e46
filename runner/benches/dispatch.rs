//! Dispatch through a `Toolset` against the hand-written path for the same
//! function: `serde_json::from_value` into an argument struct, the call, and
//! serializing the result.
//!
//! ```sh
//! cargo bench -p toolrunner --bench dispatch
//! ```

use std::sync::Arc;

use futures_util::FutureExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use toolrunner::{Tool, ToolCall, ToolContext, ToolDefinition, ToolFuture, Toolset, tool, toolset};

fn main() {
    divan::main();
}

/// Add two integers.
#[tool(inline)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Add two integers.
#[tool]
async fn add_async(a: i64, b: i64) -> i64 {
    a + b
}

/// Greet someone.
#[tool(inline)]
fn greet(
    /// Who to greet.
    name: String,
    /// How many exclamation marks.
    excitement: Option<u8>,
) -> String {
    format!(
        "Hello, {name}{}",
        "!".repeat(usize::from(excitement.unwrap_or(1)))
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddArgs {
    a: i64,
    b: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GreetArgs {
    name: String,
    excitement: Option<u8>,
}

fn tools() -> Toolset {
    toolset![add, add_async, greet]
}

fn add_input() -> Value {
    json!({"a": 40, "b": 2})
}

fn greet_input() -> Value {
    json!({"name": "Ada", "excitement": 3})
}

/// The baseline: what a user would write by hand for one tool.
#[divan::bench]
fn hand_written_add(bencher: divan::Bencher<'_, '_>) {
    bencher.with_inputs(add_input).bench_values(|input| {
        let args: AddArgs = serde_json::from_value(input).expect("valid input");
        serde_json::to_string(&add(args.a, args.b)).expect("serializable")
    });
}

/// The same call through the toolset: lookup, argument parsing with field
/// paths, the call, and conversion to a tool result.
#[divan::bench]
fn toolset_add(bencher: divan::Bencher<'_, '_>) {
    let tools = tools();
    bencher
        .with_inputs(|| (add_input(), ToolCall::new("toolu_1")))
        .bench_values(|(input, call)| {
            tools
                .call("add", input, call)
                .now_or_never()
                .expect("inline tools finish at once")
        });
}

/// An async tool: the same work plus one boxed future.
#[divan::bench]
fn toolset_add_async(bencher: divan::Bencher<'_, '_>) {
    let tools = tools();
    bencher
        .with_inputs(|| (add_input(), ToolCall::new("toolu_1")))
        .bench_values(|(input, call)| {
            tools
                .call("add_async", input, call)
                .now_or_never()
                .expect("ready at once")
        });
}

#[divan::bench]
fn hand_written_greet(bencher: divan::Bencher<'_, '_>) {
    bencher.with_inputs(greet_input).bench_values(|input| {
        let args: GreetArgs = serde_json::from_value(input).expect("valid input");
        greet(args.name, args.excitement)
    });
}

#[divan::bench]
fn toolset_greet(bencher: divan::Bencher<'_, '_>) {
    let tools = tools();
    bencher
        .with_inputs(|| (greet_input(), ToolCall::new("toolu_1")))
        .bench_values(|(input, call)| {
            tools
                .call("greet", input, call)
                .now_or_never()
                .expect("inline tools finish at once")
        });
}

/// A synchronous tool on the blocking pool (the default for sync tools):
/// the cost of a thread hand-off, for reference.
#[divan::bench]
fn toolset_add_blocking_pool(bencher: divan::Bencher<'_, '_>) {
    /// Add two integers.
    #[tool]
    fn add_blocking(a: i64, b: i64) -> i64 {
        a + b
    }
    let tools = toolset![add_blocking];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("runtime");
    bencher
        .with_inputs(|| (add_input(), ToolCall::new("toolu_1")))
        .bench_values(|(input, call)| runtime.block_on(tools.call("add_blocking", input, call)));
}

#[derive(Deserialize, JsonSchema)]
struct Line {
    /// The product.
    sku: String,
    /// How many.
    quantity: u32,
}

#[derive(Deserialize, JsonSchema)]
struct Address {
    street: String,
    city: String,
    postcode: String,
}

/// Place an order.
#[tool(inline)]
fn place_order(lines: Vec<Line>, ship_to: Address, note: Option<String>) -> usize {
    lines
        .iter()
        .map(|l| l.sku.len() + l.quantity as usize)
        .sum::<usize>()
        + ship_to.street.len()
        + ship_to.city.len()
        + ship_to.postcode.len()
        + note.map_or(0, |n| n.len())
}

fn order_input() -> Value {
    json!({
        "lines": [
            {"sku": "TEA-01", "quantity": 2},
            {"sku": "MUG-07", "quantity": 1},
            {"sku": "CAKE-3", "quantity": 4}
        ],
        "ship_to": {"street": "1 Main St", "city": "Oslo", "postcode": "0150"},
        "note": "leave at the door"
    })
}

/// A tool with a nested input, checked against its schema (the default
/// for `#[tool]`) and then parsed.
#[divan::bench]
fn toolset_nested(bencher: divan::Bencher<'_, '_>) {
    let tools = toolset![place_order];
    bencher
        .with_inputs(|| (order_input(), ToolCall::new("toolu_1")))
        .bench_values(|(input, call)| {
            tools
                .call("place_order", input, call)
                .now_or_never()
                .expect("inline tools finish at once")
        });
}

/// The same tool with the schema check turned off: parsing alone, as
/// before inputs were checked against the schema.
#[divan::bench]
fn toolset_nested_unchecked(bencher: divan::Bencher<'_, '_>) {
    struct Unchecked(Arc<dyn Tool>, ToolDefinition);
    impl Tool for Unchecked {
        fn definition(&self) -> &ToolDefinition {
            &self.1
        }
        fn call<'a>(&'a self, input: Value, cx: ToolContext) -> ToolFuture<'a> {
            self.0.call(input, cx)
        }
    }
    let checked = toolset![place_order];
    let tool = Arc::clone(checked.get("place_order").expect("the tool"));
    let definition = tool.definition().clone().with_input_validation(false);
    let mut tools = Toolset::new();
    tools
        .add(Unchecked(tool, definition))
        .expect("a valid name");
    bencher
        .with_inputs(|| (order_input(), ToolCall::new("toolu_1")))
        .bench_values(|(input, call)| {
            tools
                .call("place_order", input, call)
                .now_or_never()
                .expect("inline tools finish at once")
        });
}
