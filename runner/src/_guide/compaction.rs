//! Compaction: keeping a long run's history within the context window, on the
//! server or on the client.
//!
//! ```no_run
//! use toolrunner::prelude::*;
//! use toolrunner::Compaction;
//!
//! # fn runners(client: Client, params: MessageParams, tools: Toolset) {
//! // The API summarises inside the request, past 150,000 input tokens.
//! let on_the_server = client
//!     .tool_runner(params.clone(), tools.clone())
//!     .compaction(Compaction::server().threshold(150_000));
//! // The runner asks for a summary itself, and shows you the history.
//! let on_the_client = client.tool_runner(params, tools).compaction(
//!     Compaction::new()
//!         .threshold(80_000)
//!         .on_compact(|before, after| println!("{} messages -> {}", before.len(), after.len())),
//! );
//! # }
//! ```
//!
//! - **On the server:** [`Compaction::server()`](crate::Compaction::server)
//!   adds the API's `compact_20260112` edit to `context_management.edits` (your
//!   other edits stay) with the `compact-2026-01-12` beta;
//!   [`.threshold(n)`](crate::Compaction::threshold) sets its input-token
//!   trigger, [`.instructions(..)`](crate::Compaction::instructions) the
//!   summary's instructions. The `compaction` stop reason sends the turn back
//!   as it is, and compaction blocks go back as received.
//! - **On the client:** [`Compaction::new()`](crate::Compaction::new). After a
//!   turn whose input and output tokens reach the threshold (default 100,000),
//!   the runner asks the model for a summary of the history before that turn
//!   (prompt replaceable, [`.prompt(..)`](crate::Compaction::prompt)), then
//!   goes on from the summary followed by that turn and its tool results, so
//!   no pending call loses its result. System prompt and tools stay.
//!   [`on_compact(|before, after| ...)`](crate::Compaction::on_compact) sees
//!   the history before and after. With programmatic tool calling, compaction
//!   waits while code is waiting for tool results, and keeps every message a
//!   kept call from code depends on.
//! - **Which:** pick the server when the model supports the edit: the API
//!   summarises inside the request, with no extra round trip and no summary
//!   request counted against `max_iterations`. Pick the client for models
//!   without the edit, to write the whole summary prompt yourself, or to see
//!   the history before and after (`on_compact`).
//! - **Now:** [`runner.compact_before_next_turn()`](crate::ToolRunner::compact_before_next_turn)
//!   compacts once the current turn's tools have run: the client summary with
//!   `Compaction::new()`; with `Compaction::server()`, the next request's edit
//!   fires (its trigger set, for that request only, to what the last turn
//!   held, and never under the API's minimum of 50,000 input tokens); with
//!   neither, one request with `compaction: {"type": "summarize"}` (beta
//!   `compact-2026-09-04`) whose `compaction` block becomes the history. The
//!   API does not take that request next to a compaction edit, so with an edit
//!   of your own in `context_management` it is an error.
