//! `async fn` and `fn`, with and without `inline`, stay callable as written.

use toolrunner::{tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Multiply two integers, on the async runtime.
#[tool(inline)]
fn mul(a: i64, b: i64) -> i64 {
    a * b
}

/// Multiply two integers, on the async runtime.
#[tool(inline = true)]
fn mul_explicit(a: i64, b: i64) -> i64 {
    a * b
}

/// Subtract two integers, on the blocking pool.
#[tool(inline = false)]
fn sub(a: i64, b: i64) -> i64 {
    a - b
}

/// Wait, then echo.
#[tool]
async fn echo(text: String) -> String {
    tokio::task::yield_now().await;
    text
}

/// A `const fn` works as well.
#[tool]
const fn double(x: u32) -> u32 {
    x * 2
}

fn main() {
    assert_eq!(add(1, 2), 3);
    assert_eq!(mul(2, 3), 6);
    assert_eq!(mul_explicit(2, 3), 6);
    assert_eq!(sub(2, 3), -1);
    assert_eq!(double(2), 4);
    let _future = echo(String::from("hi"));
    let tools = toolset![add, mul, mul_explicit, sub, echo, double];
    assert_eq!(tools.len(), 6);
}
