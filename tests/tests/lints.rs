//! The expansions of `#[tool]` and `toolset!` raise no warnings, under
//! rustc's and clippy's strictest lint groups: users who deny warnings must
//! not have to allow anything because of the macros.
#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unused,
    unused_qualifications,
    unused_import_braces,
    unused_lifetimes,
    unused_results,
    trivial_casts,
    trivial_numeric_casts,
    rust_2018_idioms,
    future_incompatible,
    nonstandard_style,
    clippy::all,
    clippy::pedantic,
    clippy::nursery
)]

pub mod tools {
    //! Tools of every shape the macro accepts.

    use std::fmt;
    use std::io;
    use std::sync::atomic::{AtomicU64, Ordering};

    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};
    use toolrunner::{State, ToolCall, ToolOutput, tool};

    /// Temperature units.
    #[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Unit {
        /// Degrees Celsius.
        Celsius,
        /// Degrees Fahrenheit.
        Fahrenheit,
    }

    /// A weather report.
    #[derive(Debug, Serialize)]
    pub struct Weather {
        /// The temperature, in the requested unit.
        pub temperature: f64,
    }

    /// Why there is no weather.
    #[derive(Debug)]
    pub struct WeatherError;

    impl fmt::Display for WeatherError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("no weather")
        }
    }

    impl std::error::Error for WeatherError {}

    /// Shared counters.
    #[derive(Debug, Default)]
    pub struct Counter {
        /// The count.
        pub n: AtomicU64,
    }

    /// Get the current weather for a city.
    ///
    /// # Errors
    ///
    /// When the city is unknown.
    #[tool]
    pub async fn get_weather(
        /// The city name, e.g. "Paris".
        city: String,
        /// Temperature unit; celsius when left out.
        unit: Option<Unit>,
    ) -> Result<Weather, WeatherError> {
        tokio::task::yield_now().await;
        if city.is_empty() {
            return Err(WeatherError);
        }
        let temperature = match unit {
            Some(Unit::Fahrenheit) => 68.0,
            Some(Unit::Celsius) | None => 20.0,
        };
        Ok(Weather { temperature })
    }

    /// Add two integers.
    #[tool(allowed_callers = ["direct", "code"])]
    #[must_use]
    pub const fn add(a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }

    /// Count calls, and say who called.
    #[tool(name = "count-calls", inline)]
    #[must_use]
    pub fn count(counter: State<Counter>, call: ToolCall) -> String {
        let n = counter.n.fetch_add(1, Ordering::Relaxed);
        format!("{n} {}", call.id())
    }

    /// List things, a page at a time.
    #[tool(strict, defer_loading)]
    #[must_use]
    pub fn page(
        #[tool(default)] offset: u32,
        #[tool(default = 10)] limit: u32,
        #[tool(rename = "type")] kind: Option<String>,
        r#match: Vec<String>,
    ) -> Vec<String> {
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut items: Vec<String> = r#match.into_iter().skip(skip).take(take).collect();
        items.extend(kind);
        items
    }

    /// Read a file.
    ///
    /// # Errors
    ///
    /// When the file cannot be read.
    #[tool]
    pub fn read(path: String) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    /// Fail with a message.
    ///
    /// # Errors
    ///
    /// Always.
    #[tool]
    pub async fn fail(message: String) -> Result<(), String> {
        tokio::task::yield_now().await;
        Err(message)
    }

    /// Report nothing.
    #[tool]
    pub const fn nothing() {}

    /// Return a custom output.
    #[tool]
    #[must_use]
    pub fn output() -> ToolOutput {
        ToolOutput::text("x")
    }

    /// Visible in the crate only.
    #[tool]
    pub(crate) const fn internal(x: u8) -> u8 {
        x
    }

    /// Private to this module.
    #[tool]
    const fn private(x: u8) -> u8 {
        x
    }

    /// All tools of this module.
    #[must_use]
    pub fn all() -> toolrunner::Toolset {
        toolrunner::toolset![
            get_weather,
            add,
            count,
            page,
            read,
            fail,
            nothing,
            output,
            internal,
            private,
        ]
        .with_state(Counter::default())
    }
}

mod hidden {
    //! A private tool in a private module: its hidden struct is wider than
    //! the function, and must not warn for it.

    /// Private to this module.
    #[toolrunner::tool]
    const fn secret() -> u8 {
        1
    }

    #[test]
    fn a_private_tool_builds_without_warnings() {
        assert_eq!(toolrunner::toolset![secret].len(), 1);
        assert_eq!(secret(), 1);
    }
}

#[test]
fn the_tools_build_without_warnings() {
    let tools = tools::all();
    assert_eq!(tools.len(), 10);
    assert_eq!(tools::add(1, 2), 3);
    let other = toolrunner::toolset![tools::add, tools::nothing];
    assert_eq!(other.len(), 2);
    assert!(toolrunner::toolset![].is_empty());
}
