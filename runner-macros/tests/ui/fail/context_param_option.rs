use toolrunner::{State, tool};

struct Db;

/// Look something up.
#[tool]
fn lookup(#[tool(default)] db: State<Db>, id: u64) -> u64 {
    let _ = db;
    id
}

fn main() {}
