use toolrunner::tool;

/// A struct.
#[tool]
struct Weather {
    city: String,
}

fn main() {
    let _ = Weather { city: String::new() };
}
