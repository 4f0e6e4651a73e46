//! Context parameters: `State<T>` and `ToolCall`, anywhere in the list, by
//! any path, and with any name.

use std::sync::atomic::{AtomicU64, Ordering};

use toolrunner::{State, ToolCall, tool, toolset};

struct Counter {
    n: AtomicU64,
}

struct Greeting(String);

/// Count calls.
#[tool]
fn count(counter: State<Counter>, call: ToolCall) -> String {
    format!("{} {}", counter.n.fetch_add(1, Ordering::Relaxed), call.id())
}

/// Greet someone.
#[tool]
async fn greet(name: String, greeting: toolrunner::State<Greeting>, counter: State<Counter>) -> String {
    counter.n.fetch_add(1, Ordering::Relaxed);
    format!("{}, {name}!", greeting.0)
}

/// Who called?
#[tool(allowed_callers = ["direct", "code"])]
fn whoami(call: toolrunner::ToolCall) -> String {
    call.caller().to_string()
}

fn main() {
    let tools = toolset![count, greet, whoami]
        .with_state(Counter { n: AtomicU64::new(0) })
        .with_state(Greeting(String::from("Hello")));
    assert_eq!(tools.len(), 3);
}
