//! Accepted forms: async and sync, options, defaults, renames, context.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use toolrunner::{State, ToolCall, ToolOutput, tool, toolset};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

#[derive(Serialize)]
struct Weather {
    temperature: f64,
}

#[derive(Debug)]
struct WeatherError;

impl std::fmt::Display for WeatherError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no weather")
    }
}

impl std::error::Error for WeatherError {}

/// Get the current weather for a city.
#[tool]
async fn get_weather(
    /// The city name, e.g. "Paris".
    city: String,
    /// Temperature unit; celsius when left out.
    unit: Option<Unit>,
) -> Result<Weather, WeatherError> {
    let _ = (city, unit);
    Ok(Weather { temperature: 20.0 })
}

/// Add two integers.
#[tool(allowed_callers = ["direct", "code"])]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

struct Counter {
    n: AtomicU64,
}

/// Count calls.
#[tool(name = "count-calls", strict = true, defer_loading, inline)]
fn count(counter: State<Counter>, call: ToolCall) -> String {
    format!("{} {}", counter.n.fetch_add(1, Ordering::Relaxed), call.id())
}

/// Pick things.
#[tool(description = "Overrides the doc comment.", allowed_callers = [])]
fn pick(
    #[tool(default)] limit: u32,
    #[tool(default = 7)] seed: u64,
    #[tool(rename = "type")] kind: String,
    r#match: Option<bool>,
    #[tool(default = Some(3))] maybe: Option<u8>,
) -> Result<Vec<String>, std::io::Error> {
    let _ = (limit, seed, kind, r#match, maybe);
    Ok(vec![])
}

/// Nothing in, nothing out.
#[tool]
fn nothing() {}

/// A custom result.
#[tool]
fn image() -> ToolOutput {
    ToolOutput::text("x")
}

/// A string error.
#[tool]
async fn fails() -> Result<(), String> {
    Err("no".into())
}

mod nested {
    pub mod deeper {
        use toolrunner::tool;

        /// Visible to the crate.
        #[tool]
        pub(crate) fn inner(x: u8) -> u8 {
            x
        }
    }
}

fn main() {
    assert_eq!(add(1, 2), 3);
    let tools = toolset![get_weather, add, count, pick, nothing, image, fails, nested::deeper::inner,]
        .with_state(Counter { n: AtomicU64::new(0) });
    assert_eq!(tools.len(), 8);
    let _ = toolset![];
}
