use toolrunner::{tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

mod other {
    use toolrunner::tool;

    /// Add two floats.
    #[tool(name = "add")]
    pub fn add_floats(a: f64, b: f64) -> f64 {
        a + b
    }
}

fn main() {
    let _ = toolset![add, other::add_floats];
    let _ = toolset![add, add];
}
