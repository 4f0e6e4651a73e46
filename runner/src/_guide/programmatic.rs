//! Programmatic tool calling: the model calls your tools from code it runs in
//! the API's code-execution container.
//!
//! Mark tools `allowed_callers = ["code"]` (or `["direct", "code"]`) and the
//! model can call them from code it runs in the API's code-execution container.
//! The runner writes `"code"` as the code-execution version in use (default
//! [`DEFAULT_CODE_EXECUTION`](crate::DEFAULT_CODE_EXECUTION),
//! `code_execution_20260120`;
//! [`.code_execution_version(...)`](crate::ToolRunner::code_execution_version)
//! to choose), adds the code-execution tool when the request lacks one (and
//! any beta header its version needs), keeps the container from turn to turn,
//! and answers the calls from code with text-only `tool_result`s.
//!
//! ```no_run
//! use toolrunner::prelude::*;
//!
//! /// The monthly sales of one region, as `[month, total]` rows.
//! #[tool(allowed_callers = ["code"])]
//! fn sales(region: String) -> Vec<(u32, u64)> {
//!     let _ = region;
//!     (1..=12).map(|month| (month, 1000 + 37 * u64::from(month))).collect()
//! }
//!
//! # async fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! let params = MessageParams::new(models::CURRENT, 4096)
//!     .user("Which month sold best, summed over the regions north and south?");
//! let mut runner = client.tool_runner(params, toolset![sales]);
//! while let Some(message) = runner.next().await {
//!     println!("{}", message?.text());
//! }
//! for run in runner.code_executions() {
//!     println!("{:?} made {} tool calls", run.code, run.tool_calls.len());
//!     if run.is_failure() {
//!         println!("  it failed, whatever the model says");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! - Callers are enforced on the client: a call from code to a direct-only tool,
//!   or a direct call to a code-only tool, never runs; the model gets an error
//!   result saying who may call it.
//! - A tool that returns images or documents to code gets an error result that
//!   says why, instead of a 400 from the API.
//! - What the API would reject is refused before sending
//!   ([`Error::is_invalid_request`](crate::Error::is_invalid_request)):
//!   `strict` on a tool callable from code, `tool_choice` forcing a tool that
//!   lacks `"direct"`, `disable_parallel_tool_use` with code callers, or
//!   pending calls from code answered with anything but `tool_result` blocks.
//! - An expired container is
//!   [`Error::is_container_expired`](crate::Error::is_container_expired), with
//!   its id.
//! - [`runner.code_executions()`](crate::ToolRunner::code_executions) lists
//!   every code run: its code, stdout, stderr, return code, output files and
//!   the tool calls it made. A non-zero return code or an error result is a
//!   failure ([`CodeExecution::is_failure`](crate::types::CodeExecution::is_failure)),
//!   whatever the model says.
//!
//! A toolset with a tool marked `"code"` brings the code-execution tool into
//! every runner it is given to: a tool marked `["direct", "code"]` for
//! code mode (feature `code-mode`) and also given to a plain runner makes that
//! runner's requests carry `code_execution_20260120`.
//!
//! `examples/programmatic.rs` runs a code-only tool over an in-memory table:
//! `cargo run --example programmatic`.
