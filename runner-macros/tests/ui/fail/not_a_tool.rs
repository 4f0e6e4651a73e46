use toolrunner::{tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

struct Config;

fn main() {
    let _ = Config;
    let _ = toolset![add, Config];
}
