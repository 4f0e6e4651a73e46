use toolrunner::tool;

/// Get the weather.
#[tool(name = "get weather")]
fn get_weather(city: String) -> String {
    city
}

/// Get the time.
#[tool(name = "")]
fn get_time() -> String {
    String::new()
}

fn main() {}
