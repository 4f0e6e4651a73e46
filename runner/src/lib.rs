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
//! - [`tool`](macro@tool) and [`toolset!`]: the macros, in `toolrunner-macros`.
//! - [`Tool`], [`ToolOutput`], [`ToolCall`], [`State`], [`AuthInfo`]: what a
//!   tool is and sees.
//! - [`Toolset`]: tools by name, and dispatch ([`Toolset::call`]).
//! - [`Client`]: the Messages API client; [`Error`]: every error it returns.
//! - [`Files`]: the Files API ([`Client::files`]): uploads for the model and
//!   the code-execution container, and the files the container wrote.
//! - [`ToolRunner`]: the agentic loop ([`Client::tool_runner`]);
//!   [`StreamingToolRunner`] yields each [`Turn`] as it streams.
//! - [`stream`]: streaming on the wire ([`Client::stream_message`]).
//! - [`types`]: the Messages API's wire types.
//! - [`builtin`]: the memory tool and the text editor, run on your machine
//!   and confined to a directory.
//! - `testing` (feature `testing`): a scripted Messages API server on
//!   loopback, for offline examples and tests.
//! - `code_mode` (feature `code-mode`): the model writes Python that calls
//!   your tools, run in an embedded sandbox (`CodeMode`).
//! - `mcp` (feature `mcp`): MCP servers' tools in a toolset, and a toolset
//!   served over MCP.
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

pub mod builtin;
mod client;
#[cfg(feature = "code-mode")]
pub mod code_mode;
mod error;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod models;
mod runner;
pub mod stream;
#[cfg(feature = "testing")]
pub mod testing;
mod tool;
mod toolset;
pub mod types;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use client::{
    Client, ClientBuilder, Download, FileList, FileUpload, Files, SavedFile, sanitize_filename,
};
#[cfg(feature = "code-mode")]
pub use code_mode::CodeMode;
pub use error::Error;
pub use runner::{
    AfterToolCall, Artifacts, BeforeToolCall, Compaction, DEFAULT_COMPACTION_PROMPT,
    DEFAULT_COMPACTION_THRESHOLD, DEFAULT_MAX_ITERATIONS, DEFAULT_TOOL_CONCURRENCY, Decision,
    PendingCall, StreamingToolRunner, ToolRunner, ToolSearch, Turn,
};
pub use tool::{
    AllowedCaller, ArgsReader, AuthInfo, Caller, DEFAULT_CODE_EXECUTION, FromToolContext,
    IntoToolOutput, SchemaBuilder, State, StateType, Tool, ToolCall, ToolContext, ToolDefinition,
    ToolFuture, ToolOutput, is_code_execution_version, is_valid_tool_name, same_code_caller,
};
pub use toolset::{Toolset, ToolsetError};
pub use types::{
    ContentBlock, DocumentBlock, ImageBlock, Message, MessageParam, MessageParams, Role,
    StopReason, TextBlock, Thinking, ToolChoice, ToolResultBlock, ToolUseBlock,
};

/// Turns a function into a tool. See the crate docs for an example.
///
/// The function stays as written and callable directly. Next to it the macro
/// adds a hidden type of the same name that [`toolset!`] uses. Options, all
/// optional:
///
/// - `name = "..."`: the tool's name (default: the function's).
/// - `description = "..."`: what the tool does (default: the doc comment).
/// - `allowed_callers = ["direct", "code"]`: who may call it (default `["direct"]`).
/// - `strict = true`, `defer_loading = true`: passed to the API.
/// - `inline = true`: run a synchronous function on the async runtime instead
///   of the blocking pool; only for fast functions that never block.
///
/// Per parameter: `///` docs become the property's description;
/// `#[tool(default)]` or `#[tool(default = expr)]` makes it optional;
/// `#[tool(rename = "...")]` changes its property name. `State<T>` and
/// [`ToolCall`] parameters come from the call's context, not the input.
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

/// Collects `#[tool]` functions into a [`Toolset`]: `toolset![a, b, c]`.
///
/// Two tools with the same name are a compile error.
pub use toolrunner_macros::toolset;
