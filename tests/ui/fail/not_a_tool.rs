use toolrunner::{tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn sub(a: i64, b: i64) -> i64 {
    a - b
}

fn main() {
    let _ = sub(1, 2);
    let _ = toolset![add, sub];
}

struct Config;

fn other() {
    let _ = Config;
    let _ = toolset![add, Config];
}
