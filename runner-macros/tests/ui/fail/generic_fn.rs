use toolrunner::tool;

/// Echo a value.
#[tool]
fn echo<T: serde::Serialize>(value: T) -> T {
    value
}

/// Echo a string.
#[tool]
fn echo_str<'a>(value: String) -> String {
    value
}

fn main() {}
