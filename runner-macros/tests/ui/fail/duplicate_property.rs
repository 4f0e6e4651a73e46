use toolrunner::tool;

/// Move a point.
#[tool]
fn shift(x: i64, #[tool(rename = "x")] dx: i64, r#y: i64, #[tool(rename = "y")] dy: i64) -> i64 {
    x + dx + r#y + dy
}

fn main() {}
