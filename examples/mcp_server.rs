//! The example tools served over MCP: the same `#[tool]` functions the
//! runner gives the model, offered to MCP clients such as desktop assistants
//! and code editors, with the same schemas, descriptions and validation.
//!
//! Over stdio (how MCP clients start local servers), or over streamable HTTP
//! with `--http`:
//!
//! ```sh
//! cargo run -q -p toolrunner-examples --features mcp --example mcp_server
//! cargo run -q -p toolrunner-examples --features mcp --example mcp_server -- --http 127.0.0.1:8000
//! ```
//!
//! Over HTTP, loopback addresses only, unless clients must send a token
//! (`Authorization: Bearer $MCP_TOKEN`):
//!
//! ```sh
//! MCP_TOKEN=$(openssl rand -hex 32) cargo run -q -p toolrunner-examples --features mcp --example mcp_server -- --http 0.0.0.0:8000
//! ```
//!
//! To add it to an MCP client, build it once and point the client at the
//! binary, for example in a `claude_desktop_config.json`:
//!
//! ```json
//! {"mcpServers": {"weather": {"command": "/path/to/target/debug/examples/mcp_server"}}}
//! ```
//!
//! Stdout carries the protocol, so logs (`ANTHROPIC_LOG=debug`) go to stderr.

#[path = "support/mod.rs"]
mod support;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toolrunner::mcp::McpServer;
use toolrunner::{ImageBlock, ToolOutput, tool, toolset};

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

/// Get the current weather for a city.
#[tool]
async fn get_weather(
    /// The city name, e.g. "Paris".
    city: String,
    /// Temperature unit; celsius when left out.
    unit: Option<Unit>,
) -> Result<Weather, String> {
    let (celsius, conditions) = match city.to_lowercase().as_str() {
        "paris" => (18.0, "partly cloudy"),
        "oslo" => (7.0, "light rain"),
        "cairo" => (31.0, "sunny"),
        _ => return Err(format!("no weather station in `{city}`")),
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

/// Show the weather map: a tiny PNG (an image reaches MCP clients as image content).
#[tool(inline)]
fn weather_map() -> ToolOutput {
    // A 1x1 transparent PNG.
    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
    ToolOutput::text("Today's map:").with_image(ImageBlock::base64("image/png", PNG))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    support::init_tracing();

    let server = McpServer::new(toolset![get_weather, celsius_to_fahrenheit, weather_map])
        .with_server_info("toolrunner-weather", env!("CARGO_PKG_VERSION"))
        .with_instructions(
            "Weather for Paris, Oslo and Cairo; temperatures in Celsius unless asked.",
        );

    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => server.serve_stdio().await?,
        ["--http", addr] => {
            let mut http = server.http();
            if let Ok(token) = std::env::var("MCP_TOKEN") {
                http = http.bearer_tokens([token]);
            }
            let http = http.serve(*addr).await?;
            eprintln!("MCP server at {}", http.url());
            http.wait().await;
        }
        _ => return Err("usage: mcp_server [--http ADDR]".into()),
    }
    Ok(())
}
