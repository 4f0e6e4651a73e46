use toolrunner::tool;

struct Query {
    text: String,
}

/// Search for something.
#[tool]
fn search(limit: u32, query: Query) -> String {
    format!("{limit} {}", query.text)
}

fn main() {}
