use toolrunner::tool;

struct Calculator;

impl Calculator {
    /// Add two integers.
    #[tool]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
