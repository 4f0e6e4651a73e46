use toolrunner::tool;

struct NotJson;

#[tool(nmae = "x", allowed_callers = ["everyone"])]
fn broken(name: &str, (a, b): (u8, u8), data: NotJson, #[tool(rename = "name")] other: String) -> u8 {
    let _ = (name, data, other);
    a + b
}

fn main() {
    // The function is still there, and still callable.
    let _ = broken;
}
