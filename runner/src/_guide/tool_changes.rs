//! Tools that change mid-run: adding and removing tools between turns.
//!
//! [`runner.add_tools(toolset![deploy])?`](crate::ToolRunner::add_tools) and
//! [`runner.remove_tools(["drop_table"])?`](crate::ToolRunner::remove_tools)
//! between turns:
//!
//! ```no_run
//! use toolrunner::prelude::*;
//!
//! /// Run the test suite.
//! #[tool]
//! fn run_tests() -> String {
//!     "12 passed, 0 failed".to_owned()
//! }
//!
//! /// Deploy the current build.
//! #[tool]
//! fn deploy() -> String {
//!     "deployed".to_owned()
//! }
//!
//! # async fn run(client: Client) -> Result<(), toolrunner::Error> {
//! let params = MessageParams::new(models::CURRENT, 1024).user("Test, then deploy.");
//! let mut runner = client.tool_runner(params, toolset![run_tests]);
//! let mut unlocked = false;
//! while let Some(message) = runner.next().await {
//!     message?;
//!     let passed = runner
//!         .tool_results()
//!         .await?
//!         .iter()
//!         .any(|(_, result)| !result.is_error && result.text().contains("0 failed"));
//!     if passed && !unlocked {
//!         unlocked = true;
//!         runner.add_tools(toolset![deploy])?;
//!         runner.remove_tools(["run_tests"])?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The `tools` parameter stays as it was (changing it would miss the prompt
//! cache, and a continued thread does not take it): the next request carries a
//! `system`-role message of `tool_addition` blocks (inline
//! `tool_definition`s) and `tool_removal` blocks (`tool_reference`s by name),
//! with the betas `mid-conversation-tool-changes-2026-07-01` and
//! `inline-tools-2026-09-15`. Dispatch changes at once: an added tool runs, a
//! removed tool's calls get an `is_error` result naming it.
//!
//! The first `defer_loading` tool added when `tools` offers no search tool
//! brings one along (`tool_search_tool_regex_20251119`, or the
//! [`.tool_search(...)`](crate::ToolRunner::tool_search) choice), as a
//! `tool_addition` just before its own; removing the last deferred tool leaves
//! the search tool in place (it finds nothing then, and a deferred tool added
//! later uses it). After a `pause_turn` stop the message waits a turn, since
//! the paused turn must stay last; compaction blocks (and their
//! `tool_changes`) go back as received. Client-side compaction
//! ([`Compaction::new`](crate::Compaction::new)) tells the changes that
//! still stand again, in one `system` message after the summary, since the
//! messages that told them are summarised away.
//!
//! `cargo run --example tool_changes` runs one offline: `deploy` is added and
//! `run_tests` removed once the tests pass.
