use toolrunner::tool;

/// Add two integers.
#[tool(nmae = "add", strict = true, cache = "always")]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Subtract.
#[tool]
fn sub(#[tool(rename = "x", optional)] a: i64, b: i64) -> i64 {
    a - b
}

fn main() {}
