//! A parameter type whose `JsonSchema` is another schemars major version's
//! (0.8, say), so not the one `#[tool]` reads. The module below stands in
//! for that crate: the error must say which version to use.
use toolrunner::tool;

mod schemars_0_8 {
    /// Stands in for schemars 0.8's `JsonSchema`.
    pub trait JsonSchema {}
}

#[derive(serde::Deserialize)]
struct Query {
    text: String,
}

impl schemars_0_8::JsonSchema for Query {}

/// Search for something.
#[tool]
fn search(query: Query) -> String {
    query.text
}

fn main() {}
