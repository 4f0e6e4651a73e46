use toolrunner::tool;

/// Add two integers.
#[tool(name = add, strict = "yes", allowed_callers = "code")]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}

/// Subtract two integers.
#[tool(name = "sub", name = "minus", strict, strict = false)]
fn sub(a: i64, b: i64) -> i64 {
    a - b
}
