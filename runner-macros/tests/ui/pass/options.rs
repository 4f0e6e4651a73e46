//! Tool options.

use toolrunner::{tool, toolset};

/// Add two integers.
#[tool(name = "add-numbers", allowed_callers = ["direct", "code", "code_execution_20250825"])]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Ignored: the option wins.
#[tool(description = "Subtract two integers.", strict = true, defer_loading = true)]
fn sub(a: i64, b: i64) -> i64 {
    a - b
}

#[tool(description = "Declared, but nobody may call it.", allowed_callers = [], strict, defer_loading)]
fn hidden() {}

/// Raw identifiers lose their `r#`.
#[tool]
fn r#type() -> u8 {
    0
}

fn main() {
    let tools = toolset![add, sub, hidden, r#type];
    assert!(tools.contains("add-numbers"));
    assert!(tools.contains("type"));
}
