use toolrunner::{tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {
    let _ = toolset![add; add];
    let _ = toolset!["add"];
}
