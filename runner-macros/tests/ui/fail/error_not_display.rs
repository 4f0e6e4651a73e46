use toolrunner::tool;

#[derive(Debug)]
struct Oops;

/// Fail.
#[tool]
fn fail() -> Result<u32, Oops> {
    Err(Oops)
}

fn main() {}
