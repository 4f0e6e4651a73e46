use toolrunner::tool;

/// Add two integers.
#[tool(inline)]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
