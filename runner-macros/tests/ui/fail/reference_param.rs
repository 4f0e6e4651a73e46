use toolrunner::tool;

/// Greet someone.
#[tool]
fn greet(name: &str, tags: &[String], nicknames: Vec<&'static str>) -> String {
    format!("Hello, {name}! {tags:?} {nicknames:?}")
}

fn main() {}
