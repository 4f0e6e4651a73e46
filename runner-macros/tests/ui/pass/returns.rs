//! Return types: plain values, `ToolOutput`, unit, and `Result` with any
//! error that is `Display`, through any path to `Result`.

use std::fmt;
use std::io;

use serde::Serialize;
use toolrunner::{ToolOutput, tool, toolset};

#[derive(Serialize)]
struct Weather {
    temperature: f64,
}

#[derive(Debug)]
struct WeatherError;

impl fmt::Display for WeatherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no weather")
    }
}

impl std::error::Error for WeatherError {}

/// Only `Display`, like `anyhow::Error`.
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A struct.
#[tool]
fn structured() -> Weather {
    Weather { temperature: 20.0 }
}

/// A custom error.
#[tool]
async fn custom_error() -> Result<Weather, WeatherError> {
    Err(WeatherError)
}

/// An I/O error.
#[tool]
fn io_error() -> Result<String, io::Error> {
    Ok(String::new())
}

/// `io::Result`.
#[tool]
fn io_result() -> io::Result<Vec<u8>> {
    Ok(vec![])
}

/// A string error.
#[tool]
async fn string_error() -> Result<(), String> {
    Err(String::from("no"))
}

/// A `Display`-only error.
#[tool]
fn display_error() -> Result<u8, Message> {
    Err(Message(String::from("no")))
}

/// A boxed error.
#[tool]
fn boxed_error() -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    Ok(1)
}

/// `ToolOutput`.
#[tool]
fn output() -> ToolOutput {
    ToolOutput::text("x")
}

/// `ToolOutput` or an error.
#[tool]
async fn maybe_output() -> Result<ToolOutput, WeatherError> {
    Ok(ToolOutput::empty())
}

/// Unit.
#[tool]
fn unit() {}

/// Explicit unit.
#[tool]
fn explicit_unit() -> () {}

/// An opaque type.
#[tool]
fn opaque() -> impl Serialize {
    [1, 2, 3]
}

fn main() {
    let _ = structured();
    let _ = io_result();
    let tools = toolset![
        structured,
        custom_error,
        io_error,
        io_result,
        string_error,
        display_error,
        boxed_error,
        output,
        maybe_output,
        unit,
        explicit_unit,
        opaque,
    ];
    assert_eq!(tools.len(), 12);
}
