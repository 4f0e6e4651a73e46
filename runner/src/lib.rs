//! Give tools to Claude.
//!
//! `toolrunner` turns plain Rust functions into tools the model can call,
//! and runs the agentic loop over the Anthropic Messages API: send the
//! conversation, run the tools the model asks for (concurrently), send the
//! results back, and repeat until the model is done.
//!
//! ```
//! use toolrunner::{tool, toolset, State, ToolCall};
//!
//! /// Add two integers.
//! #[tool(allowed_callers = ["direct", "code"])]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! struct Prices(Vec<(String, u64)>);
//!
//! /// Look up the price of an item, in cents.
//! #[tool]
//! async fn price(
//!     prices: State<Prices>,
//!     /// The item's name, e.g. "apple".
//!     item: String,
//! ) -> Result<u64, String> {
//!     prices.0.iter().find(|(name, _)| *name == item).map(|(_, cents)| *cents)
//!         .ok_or_else(|| format!("no price for `{item}`"))
//! }
//!
//! // The functions stay plain functions.
//! assert_eq!(add(2, 3), 5);
//!
//! let tools = toolset![add, price].with_state(Prices(vec![("apple".into(), 50)]));
//! let schema = &tools.get("price").unwrap().definition().input_schema;
//! assert_eq!(schema["properties"]["item"]["description"], "The item's name, e.g. \"apple\".");
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let out = tools.call("price", serde_json::json!({"item": "pear"}), ToolCall::new("toolu_1")).await;
//! assert!(out.is_error);
//! assert_eq!(out.text_content(), "no price for `pear`");
//! # });
//! ```
//!
//! # Where things live
//!
//! - [`_guide`]: the guide, one page per topic (tools, the loop, streaming,
//!   durable runs, testing, ...), with examples that compile.
//! - [`tool`](macro@tool) and [`toolset!`]: the macros, in `toolrunner-macros`.
//! - [`Tool`], [`ToolOutput`], [`ToolCall`], [`State`], [`AuthInfo`]: what a
//!   tool is and sees.
//! - [`Toolset`]: tools by name, and dispatch ([`Toolset::call`]).
//! - [`Client`]: the Messages API client; [`Error`]: every error it returns.
//! - [`Files`]: the Files API ([`Client::files`]): uploads for the model and
//!   the code-execution container, and the files the container wrote.
//! - [`ToolRunner`]: the agentic loop ([`Client::tool_runner`]);
//!   [`StreamingToolRunner`] yields each [`Turn`] as it streams.
//! - [`RunState`], [`RunStore`], [`FileStore`]: durable runs, kept between
//!   processes and resumed ([`Client::resume`]).
//! - [`stream`]: streaming on the wire ([`Client::stream_message`]); its
//!   [`StreamEvent`] and [`Delta`] are at the root too.
//! - [`platform`]: Claude on the clouds that serve it (Amazon Bedrock, ...),
//!   each behind a cargo feature; its builders return the same [`Client`].
//! - [`prelude`]: what most programs name, in one `use`.
//! - [`schemars`], [`serde`], [`serde_json`]: the versions toolrunner uses,
//!   re-exported for derives and values.
//! - [`types`]: the Messages API's wire types.
//! - [`usage`]: token usage summed over requests, and an estimated cost.
//! - [`builtin`]: the memory tool and the text editor, run on your machine
//!   and confined to a directory.
//! - `testing` (feature `testing`): a scripted Messages API server on
//!   loopback, for offline examples and tests.
//! - `code_mode` (feature `code-mode`): the model writes Python that calls
//!   your tools, run in an embedded sandbox (`CodeMode`).
//! - `mcp` (feature `mcp`): MCP servers' tools in a toolset, and a toolset
//!   served over MCP.
//! - `restate` (feature `restate`): durable runs on Restate, each model
//!   request and tool call a journaled step (`restate::Agent`).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(rust_2018_idioms, unreachable_pub)]

pub mod _guide;
pub mod builtin;
mod client;
#[cfg(feature = "code-mode")]
pub mod code_mode;
pub mod credentials;
mod error;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod models;
mod owner_only;
pub mod platform;
#[cfg(feature = "restate")]
pub mod restate;
mod runner;
pub mod stream;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "vertex")]
mod tls;
mod tool;
mod toolset;
pub mod types;
pub mod usage;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use client::{
    BatchResults, Batches, Client, ClientBuilder, Download, FileList, FileUpload, Files, Listing,
    Middleware, Models, Next, Polling, RequestOptions, SavedFile, sanitize_filename,
};
#[cfg(feature = "code-mode")]
pub use code_mode::CodeMode;
pub use error::Error;
pub use runner::{
    AfterToolCall, Artifacts, BatchEvent, BatchReport, BatchRunner, BeforeToolCall, Compaction,
    DEFAULT_BATCH_RETRIES, DEFAULT_COMPACTION_PROMPT, DEFAULT_COMPACTION_THRESHOLD,
    DEFAULT_MAX_CONTENT_BYTES, DEFAULT_MAX_ITERATIONS, DEFAULT_RUNS_AT_ONCE,
    DEFAULT_TOOL_CONCURRENCY, Decision, FileStore, MessageThread, Messages, Mode, ParsedMessage,
    ParsedStream, PendingCall, Progress, RunId, RunOutcome, RunReport, RunState, RunStore,
    StoreFuture, StreamingToolRunner, Telemetry, ThreadStream, ToolRunner, ToolSearch, Turn, Turns,
};
pub use stream::{Delta, StreamEvent};
pub use tool::{
    AllowedCaller, ArgsReader, AuthInfo, Caller, DEFAULT_CODE_EXECUTION, FromToolContext,
    IntoToolOutput, SchemaBuilder, State, StateType, Tool, ToolCall, ToolContext, ToolDefinition,
    ToolFuture, ToolOutput, is_code_execution_version, is_valid_tool_name, same_code_caller,
};
pub use toolset::{Toolset, ToolsetError};
pub use types::{
    ContentBlock, DocumentBlock, ImageBlock, Message, MessageParam, MessageParams, Role,
    StopReason, TextBlock, Thinking, ToolChoice, ToolResultBlock, ToolUseBlock, Usage,
};

/// Turns a function into a tool.
///
/// The function stays as written and callable directly. Next to it the macro
/// adds a hidden type of the same name that [`toolset!`] uses. Options, all
/// optional:
///
/// - `name = "..."`: the tool's name (default: the function's).
/// - `description = "..."`: what the tool does (default: the doc comment).
/// - `allowed_callers = ["direct", "code"]`: who may call it (default `["direct"]`).
///   `"code"` is programmatic tool calling: a runner whose toolset has such a
///   tool adds the API's code-execution tool (`code_execution_20260120`) to
///   every request, and says so once at debug level (`tracing`). Code mode
///   (module `code_mode`, feature `code-mode`) reads the same option, but
///   runs the code here instead.
/// - `strict = true`, `defer_loading = true`: passed to the API.
/// - `input_examples = [{...}]`, `eager_input_streaming`: example inputs and
///   eager input streaming, sent as the API documents them.
/// - `inline = true`: run a synchronous function on the async runtime instead
///   of the blocking pool; only for fast functions that never block.
///
/// Per parameter: `///` docs become the property's description;
/// `#[tool(default)]` or `#[tool(default = expr)]` makes it optional;
/// `#[tool(rename = "...")]` changes its property name. `State<T>` and
/// [`ToolCall`] parameters come from the call's context, not the input.
/// Parameter types need `serde::Deserialize` and `schemars::JsonSchema`
/// (schemars 1.x: see [`schemars`]).
///
/// A tool listed by a [`toolset!`] in another module must be visible there,
/// as any function called from there: make it `pub` (or `pub(crate)`).
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use toolrunner::{tool, toolset, State, ToolCall};
///
/// #[derive(Deserialize, schemars::JsonSchema)]
/// #[serde(rename_all = "lowercase")]
/// enum Unit {
///     Celsius,
///     Fahrenheit,
/// }
///
/// #[derive(Serialize)]
/// struct Reading {
///     city: String,
///     degrees: f64,
/// }
///
/// struct Thermometers(Vec<(&'static str, f64)>);
///
/// /// Read the temperature in a city.
/// #[tool(name = "temperature", allowed_callers = ["direct", "code"])]
/// async fn read_temperature(
///     thermometers: State<Thermometers>,
///     /// The city, e.g. "Oslo".
///     city: String,
///     /// The unit; celsius when left out.
///     unit: Option<Unit>,
///     /// How many decimals to keep.
///     #[tool(default = 1)]
///     decimals: u8,
/// ) -> Result<Reading, String> {
///     let (_, celsius) = thermometers.0.iter().find(|(name, _)| *name == city)
///         .ok_or_else(|| format!("no thermometer in {city}"))?;
///     let degrees = match unit {
///         Some(Unit::Fahrenheit) => celsius * 9.0 / 5.0 + 32.0,
///         _ => *celsius,
///     };
///     let scale = 10f64.powi(i32::from(decimals));
///     Ok(Reading { city, degrees: (degrees * scale).round() / scale })
/// }
///
/// let tools = toolset![read_temperature].with_state(Thermometers(vec![("Oslo", 21.5)]));
/// let definition = tools.get("temperature").unwrap().definition();
/// assert_eq!(definition.description, "Read the temperature in a city.");
/// assert_eq!(definition.input_schema["required"], serde_json::json!(["city"]));
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let input = serde_json::json!({"city": "Oslo", "unit": "fahrenheit"});
/// let out = tools.call("temperature", input, ToolCall::new("toolu_1")).await;
/// assert_eq!(out.text_content(), r#"{"city":"Oslo","degrees":70.7}"#);
/// # });
/// ```
pub use toolrunner_macros::tool;

/// The whole of a code-mode worker binary: put
/// `toolrunner::code_mode_worker!();` alone in `src/bin/toolrunner-worker.rs`
/// and cargo builds the worker beside your program, where code mode finds
/// it (see [`code_mode::Worker`]).
///
/// It defines `main` (see [`code_mode::worker_main`]) and makes monty's
/// allocator the global allocator of this binary only, which is how a
/// program's memory is counted: your own program keeps its allocator.
///
/// ```ignore
/// // src/bin/toolrunner-worker.rs
/// toolrunner::code_mode_worker!();
/// ```
#[cfg(feature = "code-mode")]
#[macro_export]
macro_rules! code_mode_worker {
    () => {
        #[global_allocator]
        static TOOLRUNNER_WORKER_ALLOCATOR: $crate::code_mode::WorkerAllocator =
            $crate::code_mode::WorkerAllocator;

        fn main() -> ::std::process::ExitCode {
            $crate::code_mode::worker_main()
        }
    };
}

/// An [`McpServer`](mcp::McpServer) of `toolset` that gives clients your
/// package's name and version (`serverInfo` in the MCP handshake), read
/// from cargo's `CARGO_PKG_NAME` and `CARGO_PKG_VERSION` where the macro is
/// written (feature `mcp`).
///
/// # Examples
///
/// ```
/// use toolrunner::{mcp_server, tool, toolset};
///
/// /// Add two integers.
/// #[tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// let server = mcp_server!(toolset![add]);
/// // The same as:
/// let server = toolrunner::mcp::McpServer::new(toolset![add])
///     .with_server_info(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
/// ```
#[cfg(feature = "mcp")]
#[macro_export]
macro_rules! mcp_server {
    ($toolset:expr $(,)?) => {
        $crate::mcp::McpServer::new($toolset).with_server_info(
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION"),
        )
    };
}

/// Collects `#[tool]` functions into a [`Toolset`]: `toolset![a, b, c]`.
///
/// It takes paths to functions marked [`#[tool]`](macro@tool), as a call
/// would name them (`weather::get_weather`, or the name alone after a
/// `use`), and checks at compile time that they are tools, that each is
/// visible where it is listed, and that no two share a name: each of
/// these mistakes is a compile error on the path at fault. `toolset![]` is
/// an empty toolset.
///
/// # Examples
///
/// ```
/// use toolrunner::{tool, toolset};
///
/// mod math {
///     use toolrunner::tool;
///
///     /// Multiply two integers.
///     #[tool]
///     pub fn mul(a: i64, b: i64) -> i64 {
///         a * b
///     }
///
///     /// Add two integers; named `add_int` for the model.
///     #[tool(name = "add_int")]
///     pub fn add(a: i64, b: i64) -> i64 {
///         a + b
///     }
/// }
///
/// /// Add two numbers.
/// #[tool]
/// fn add(a: f64, b: f64) -> f64 {
///     a + b
/// }
///
/// // Two functions named `add`, but their tools' names differ.
/// let tools = toolset![add, math::add, math::mul];
/// assert_eq!(tools.names().collect::<Vec<_>>(), ["add", "add_int", "mul"]);
///
/// // Toolsets combine; shared state goes with `with_state`.
/// let more = toolset![].merge(tools).unwrap();
/// assert_eq!(more.len(), 3);
/// ```
///
/// Listing two tools with one name does not compile:
///
/// ```compile_fail
/// use toolrunner::{tool, toolset};
///
/// /// Add two integers.
/// #[tool]
/// fn add(a: i64, b: i64) -> i64 { a + b }
///
/// /// Also add.
/// #[tool(name = "add")]
/// fn plus(a: i64, b: i64) -> i64 { a + b }
///
/// let _ = toolset![add, plus]; // two tools in this toolset are named `add`
/// ```
pub use toolrunner_macros::toolset;

/// schemars 1.x, which `#[tool]` reads parameter schemas with. A type with
/// `schemars::JsonSchema` from another major version (0.8, say) is not a
/// parameter type: depend on `schemars = "1"`, or derive through this
/// re-export.
///
/// ```
/// use toolrunner::{schemars, tool};
///
/// // No direct dependency on serde or schemars needed: derive through the
/// // re-exports, and tell the derives where the crates are.
/// #[derive(toolrunner::serde::Deserialize, schemars::JsonSchema)]
/// #[serde(crate = "toolrunner::serde")]
/// #[schemars(crate = "toolrunner::schemars")]
/// struct Order {
///     /// The item's id.
///     item: String,
///     quantity: u32,
/// }
///
/// /// Place an order.
/// #[tool]
/// fn place(order: Order) -> String {
///     format!("{} x {}", order.quantity, order.item)
/// }
/// ```
pub use ::schemars;

/// serde, which tools read their input with and serialize their output with.
pub use ::serde;

/// serde_json, whose `Value` tool inputs and results are.
pub use ::serde_json;

/// What most programs using toolrunner name: `use toolrunner::prelude::*;`.
///
/// The macros, the client and its parameters, the runner and its hooks,
/// what a tool sees, the streamed events, and futures' `StreamExt` and
/// `TryStreamExt` for `runner.next()` and `turn.next()`. Everything else is
/// at the crate root.
///
/// ```no_run
/// use toolrunner::prelude::*;
///
/// /// Add two integers.
/// #[tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// # async fn run() -> Result<(), toolrunner::Error> {
/// let client = Client::from_env()?;
/// let params = MessageParams::new(models::CURRENT, 1024).user("What is 2 + 40?");
/// let mut runner = client.tool_runner(params, toolset![add]);
/// while let Some(message) = runner.next().await {
///     println!("{}", message?.text());
/// }
/// # Ok(()) }
/// ```
pub mod prelude {
    pub use crate::models;
    pub use crate::stream::{Delta, StreamEvent};
    pub use crate::{
        AfterToolCall, BeforeToolCall, Client, ContentBlock, Decision, Message, MessageParam,
        MessageParams, PendingCall, State, StreamingToolRunner, ToolCall, ToolOutput, ToolRunner,
        Toolset, Turn, tool, toolset,
    };
    pub use futures_util::{StreamExt, TryStreamExt};
}

/// The README's examples, compiled as doc tests: the first one must build
/// as written with only the dependencies its install section lists.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
