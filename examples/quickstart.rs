//! A two-tool conversation: the model looks up the weather in two cities at
//! once, converts the warmer temperature, and answers.
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API. Without it, it runs
//! the same conversation against a built-in scripted model on loopback: the
//! tool calls and their results are real, only the model is scripted.
//!
//! ```sh
//! cargo run --example quickstart
//! ANTHROPIC_LOG=debug cargo run --example quickstart
//! ```

#[path = "support/mod.rs"]
mod support;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use toolrunner::testing::Reply;
use toolrunner::{MessageParams, tool, toolset};

/// A temperature unit.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

#[derive(Debug, Serialize)]
struct Weather {
    city: String,
    temperature: f64,
    unit: &'static str,
    conditions: &'static str,
}

#[derive(Debug)]
struct UnknownCity(String);

impl std::fmt::Display for UnknownCity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no weather station in `{}`", self.0)
    }
}

impl std::error::Error for UnknownCity {}

/// Get the current weather for a city.
#[tool]
async fn get_weather(
    /// The city name, e.g. "Paris".
    city: String,
    /// Temperature unit; celsius when left out.
    unit: Option<Unit>,
) -> Result<Weather, UnknownCity> {
    let (celsius, conditions) = match city.to_lowercase().as_str() {
        "paris" => (18.0, "partly cloudy"),
        "oslo" => (7.0, "light rain"),
        "cairo" => (31.0, "sunny"),
        _ => return Err(UnknownCity(city)),
    };
    let (temperature, unit) = match unit.unwrap_or(Unit::Celsius) {
        Unit::Celsius => (celsius, "celsius"),
        Unit::Fahrenheit => (celsius * 9.0 / 5.0 + 32.0, "fahrenheit"),
    };
    Ok(Weather {
        city,
        temperature,
        unit,
        conditions,
    })
}

/// Convert a temperature from Celsius to Fahrenheit.
#[tool(inline)]
fn celsius_to_fahrenheit(
    /// Degrees Celsius.
    celsius: f64,
) -> f64 {
    celsius * 9.0 / 5.0 + 32.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();

    // The server, if any, is kept alive for the whole run.
    let (client, _scripted) = support::client_or_scripted(scripted_model).await?;

    let params = MessageParams::new(support::model(), 1024).user(
        "What's the weather in Paris and Oslo? Give me the warmer one's temperature in Fahrenheit too.",
    );
    let mut runner = client
        .tool_runner(params, toolset![get_weather, celsius_to_fahrenheit])
        .max_iterations(10);

    support::print_run(&mut runner).await?;
    println!("\n({} requests)", runner.iterations());
    Ok(())
}

/// The scripted model: it asks for both cities at once, then converts the
/// warmer temperature, then answers from the results it was sent.
fn scripted_model(request: &Value) -> Reply {
    let turn = support::assistant_turns(request);
    let results = support::last_tool_results(request);
    let message = match turn {
        0 => support::assistant(
            1,
            json!([
                {"type": "text", "text": "I'll check both cities at once."},
                {"type": "tool_use", "id": "toolu_paris", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_oslo", "name": "get_weather", "input": {"city": "Oslo"}}
            ]),
            "tool_use",
        ),
        1 => {
            let warmest = results
                .iter()
                .filter_map(|(_, text)| serde_json::from_str::<Value>(text).ok())
                .max_by(|a, b| {
                    a["temperature"]
                        .as_f64()
                        .partial_cmp(&b["temperature"].as_f64())
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .unwrap_or(Value::Null);
            support::assistant(
                2,
                json!([
                    {"type": "text", "text": format!("{} is warmer; converting.", warmest["city"].as_str().unwrap_or("?"))},
                    {"type": "tool_use", "id": "toolu_convert", "name": "celsius_to_fahrenheit",
                     "input": {"celsius": warmest["temperature"]}}
                ]),
                "tool_use",
            )
        }
        _ => {
            let fahrenheit = results.first().map(|(_, t)| t.clone()).unwrap_or_default();
            let history = request["messages"].to_string();
            let paris = if history.contains("partly cloudy") {
                "18 °C and partly cloudy"
            } else {
                "unknown"
            };
            let oslo = if history.contains("light rain") {
                "7 °C with light rain"
            } else {
                "unknown"
            };
            support::assistant(
                3,
                json!([{"type": "text", "text": format!(
                    "Paris is {paris}; Oslo is {oslo}. Paris is warmer: {fahrenheit} °F."
                )}]),
                "end_turn",
            )
        }
    };
    Reply::message(message)
}
