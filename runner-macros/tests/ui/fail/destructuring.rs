use toolrunner::tool;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Point {
    x: i64,
    y: i64,
}

/// Sum the coordinates.
#[tool]
fn sum(Point { x, y }: Point, (a, b): (i64, i64), _: u8) -> i64 {
    x + y + a + b
}

fn main() {}
