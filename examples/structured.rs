//! A typed answer: the model looks a city up with a tool, then answers as a
//! `Report` (structured output), which the runner parses.
//!
//! With `ANTHROPIC_API_KEY` set it talks to the real API; without it, to a
//! scripted model on loopback.
//!
//! ```sh
//! cargo run --example structured
//! ```

#[path = "support/mod.rs"]
mod support;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use toolrunner::testing::Reply;
use toolrunner::{MessageParams, tool, toolset};

/// How the sky looks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Sky {
    Clear,
    Cloudy,
    Rain,
}

/// A temperature reading.
#[derive(Deserialize, JsonSchema)]
struct Reading {
    celsius: f64,
    sky: Sky,
}

/// The answer, as a Rust type.
#[derive(Deserialize, JsonSchema)]
struct Report {
    city: String,
    now: Reading,
    /// Advice, if any is worth giving.
    advice: Option<String>,
}

/// Get the current weather in a city.
#[tool]
fn get_weather(
    /// The city name.
    city: String,
) -> String {
    format!("{city}: 18.5 C, cloudy")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();
    let (client, _scripted) = support::client_or_scripted(scripted_model).await?;
    let params = MessageParams::new("claude-sonnet-4-5", 1024)
        .user("What's the weather in Lyon? Report it.");
    let report: Report = client
        .tool_runner(params, toolset![get_weather])
        .max_iterations(5)
        .until_done_parsed()
        .await?;
    println!(
        "{}: {} C, {:?}",
        report.city, report.now.celsius, report.now.sky
    );
    if let Some(advice) = &report.advice {
        println!("advice: {advice}");
    }
    Ok(())
}

/// The scripted model: it calls the tool, then answers in the schema the
/// request asked for.
fn scripted_model(request: &Value) -> Reply {
    let results = support::last_tool_results(request);
    let message = if results.is_empty() {
        support::assistant(
            1,
            json!([{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Lyon"}}]),
            "tool_use",
        )
    } else {
        assert!(request["output_config"]["format"]["schema"].is_object());
        let answer = json!({"city": "Lyon", "now": {"celsius": 18.5, "sky": "cloudy"}, "advice": "Take a light jacket."});
        support::assistant(
            2,
            json!([{"type": "text", "text": answer.to_string()}]),
            "end_turn",
        )
    };
    Reply::message(message)
}
