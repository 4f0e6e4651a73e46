use toolrunner::tool;

#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// 
#[tool(description = "  ")]
fn sub(a: i64, b: i64) -> i64 {
    a - b
}

fn main() {}
