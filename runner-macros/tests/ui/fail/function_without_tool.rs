//! A function without `#[tool]` in a `toolset!`: the error says to add
//! `#[tool]`, on the path, whether it is written alone or through a module.
use toolrunner::{tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn plain(a: i64, b: i64) -> i64 {
    a - b
}

mod math {
    pub fn double(a: i64) -> i64 {
        a * 2
    }
}

fn main() {
    let _ = plain(1, 2) + math::double(1);
    let _ = toolset![add, plain];
    let _ = toolset![add, math::double];
}
