//! Large toolsets: tool search, and deferred tools the model finds when it
//! needs them.
//!
//! Mark tools `defer_loading` (`#[tool(defer_loading = true)]`, or
//! [`Toolset::defer_loading(true)`](crate::Toolset::defer_loading) for a
//! whole toolset, an MCP server's say): they are declared with
//! `"defer_loading": true` and stay out of the model's context until it finds
//! them. When any tool is deferred and `tools` holds no tool-search tool, the
//! runner declares `tool_search_tool_regex_20251119`
//! ([`.tool_search(ToolSearch::Bm25)`](crate::ToolRunner::tool_search) picks
//! `tool_search_tool_bm25_20251119`), in `tools`, or in a `tool_addition` for
//! a deferred tool [added mid-run](super::tool_changes); search turns and
//! their `tool_reference` results go back as received, and the tools found run
//! like any other.
//!
//! ```no_run
//! use toolrunner::prelude::*;
//! use toolrunner::ToolSearch;
//!
//! /// Look up an invoice by number.
//! #[tool(defer_loading = true)]
//! fn invoice(number: u32) -> String {
//!     format!("invoice {number}: paid")
//! }
//!
//! /// Refund an invoice.
//! #[tool]
//! fn refund(number: u32) -> String {
//!     format!("refunded invoice {number}")
//! }
//!
//! # async fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! let params = MessageParams::new(models::CURRENT, 1024).user("Is invoice 7 paid?");
//! // `refund` too is found by search only.
//! let tools = toolset![invoice].merge(toolset![refund].defer_loading(true))?;
//! let last = client
//!     .tool_runner(params, tools)
//!     .tool_search(ToolSearch::Bm25)
//!     .until_done()
//!     .await?;
//! println!("{}", last.text());
//! # Ok(()) }
//! ```
