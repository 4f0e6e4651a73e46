use toolrunner::tool;

/// Greet someone.
#[tool]
fn greet(name: impl Into<String>) -> String {
    format!("Hello, {}!", name.into())
}

fn main() {}
