use toolrunner::tool;

/// Add two integers.
#[tool(allowed_callers = ["direct", "model", "code_execution_2025"])]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}

/// Subtract two integers.
#[tool(allowed_callers = ["code", "direct", "code"])]
fn sub(a: i64, b: i64) -> i64 {
    a - b
}
