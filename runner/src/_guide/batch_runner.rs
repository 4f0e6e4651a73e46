//! # Agent runs through the Message Batches API
//!
//! The Message Batches API processes requests at half the price, within
//! 24 hours. [`BatchRunner`](crate::BatchRunner) runs many agent
//! conversations through it: the same loop as
//! [`ToolRunner`](crate::ToolRunner) (tools, hooks, approvals, iteration
//! limits), with every run's next request going into one batch per round.
//!
//! ## Rounds
//!
//! Each round:
//!
//! 1. every unfinished run carries out what its loop asks, up to its next
//!    request: the tools the model asked for in its last turn run here,
//!    each run's calls concurrently
//!    ([`tool_concurrency`](crate::BatchRunner::tool_concurrency)),
//!    [`runs_at_once`](crate::BatchRunner::runs_at_once) runs at a time,
//!    through the before- and after-call hooks;
//! 2. the requests go into one batch, each under a `custom_id` of its run;
//! 3. the batch is polled until it ends, with a delay that doubles up to a
//!    longest one ([`Polling`](crate::Polling));
//! 4. each result goes back to its run as it is read.
//!
//! Runs that finish, fail or wait for a human leave; the others go on to
//! the next round. A batch request cannot continue a server-held message
//! thread, so each carries the whole conversation (the API's prompt
//! caching still applies).
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use toolrunner::{tool, toolset, BatchEvent, Client, MessageParams, RunId, RunOutcome};
//!
//! /// Look up an order's status.
//! #[tool]
//! fn order_status(order: u32) -> String {
//!     format!("order {order}: shipped")
//! }
//!
//! # async fn run() -> Result<(), toolrunner::Error> {
//! let client = Client::from_env()?;
//! let mut fleet = client.batch_runner(toolset![order_status]).max_iterations(10);
//! for order in 1..=500 {
//!     let params = MessageParams::new(toolrunner::models::CURRENT, 1024)
//!         .user(format!("Write a status update for order {order}."));
//!     fleet = fleet.run(RunId::new(format!("order-{order}"))?, params);
//! }
//! while let Some(event) = fleet.next().await {
//!     match event? {
//!         BatchEvent::Polled { counts, .. } => println!("{} processing", counts.processing),
//!         BatchEvent::RunFailed { run, error } => eprintln!("{run}: {error}"),
//!         _ => {}
//!     }
//! }
//! let report = fleet.into_report();
//! for run in &report.runs {
//!     if let RunOutcome::Finished(message) = &run.outcome {
//!         println!("{}: {} ({} output tokens)", run.id, message.text(), run.usage.total().output_tokens);
//!     }
//! }
//! println!("{} input tokens in all", report.progress.usage.total().total_input_tokens());
//! # Ok(()) }
//! ```
//!
//! ## Durable fleets
//!
//! With a [`store`](crate::BatchRunner::store), every run is kept as a
//! [`RunState`](crate::RunState) after each result, each tool call and at
//! its end, together with the batch its request is in. The same code
//! starts a fleet and resumes it: a run found in the store goes on from
//! there.
//!
//! - A process that dies while a batch processes is replaced by one that
//!   polls that batch (a [`BatchEvent::Resumed`](crate::BatchEvent::Resumed)
//!   event): nothing is submitted again.
//! - A result that was kept is never asked for again, and a run never
//!   sends that request again.
//! - Tool calls carry idempotency keys (`<run id>:<tool_use id>`): a call
//!   the process died in runs again with the same key.
//! - The one window: a process killed after the API created a batch and
//!   before every run's state said so submits those runs' requests again
//!   (the API takes no idempotency key for a batch).
//!
//! ```no_run
//! use toolrunner::{toolset, Client, FileStore, MessageParams, RunId};
//!
//! # async fn run() -> Result<(), toolrunner::Error> {
//! let client = Client::from_env()?;
//! let mut fleet = client.batch_runner(toolset![]).store(FileStore::new("runs"));
//! for i in 0..100 {
//!     let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user(format!("Task {i}."));
//!     fleet = fleet.run(RunId::new(format!("task-{i}"))?, params);
//! }
//! // Killed anywhere and started again, this goes on where it stopped.
//! let report = fleet.until_done().await?;
//! # drop(report);
//! # Ok(()) }
//! ```
//!
//! ## Retries, failures and cancelling
//!
//! A request that errored or expired goes into the next round, up to
//! [`max_retries`](crate::BatchRunner::max_retries) times in a row; then
//! its run fails ([`RunOutcome::Failed`](crate::RunOutcome::Failed), an
//! [`Error::is_batch_run`](crate::Error::is_batch_run) error) and the
//! others go on. A failed API call or save is yielded as an error; polling
//! the stream again goes on from the step that failed.
//!
//! [`cancel_token`](crate::BatchRunner::cancel_token) cancels the batch in
//! flight: the results it did process are read and kept, and the stream
//! ends. A durable fleet started again submits the cancelled requests.
//!
//! ```no_run
//! # use futures_util::StreamExt;
//! # async fn run(mut fleet: toolrunner::BatchRunner) -> Result<(), toolrunner::Error> {
//! // Give up on the fleet after two hours.
//! let cancel = fleet.cancel_token();
//! tokio::spawn(async move {
//!     tokio::time::sleep(std::time::Duration::from_secs(2 * 3600)).await;
//!     cancel.cancel();
//! });
//! while let Some(event) = fleet.next().await {
//!     event?;
//! }
//! # Ok(()) }
//! ```
//!
//! ## Usage
//!
//! Each run's usage is the loop core's own
//! [`RunUsage`](crate::usage::RunUsage), as for a
//! [`ToolRunner`](crate::ToolRunner): its turns, and its compaction apart
//! (over every process that drove it, with a store), in its
//! [`RunReport`](crate::RunReport) and its [`RunState`](crate::RunState);
//! [`PriceTable`](crate::usage::PriceTable) turns it into an estimated
//! cost (batch requests are billed at half the standard price). The
//! fleet's total is in
//! [`progress`](crate::BatchRunner::progress), logged to `tracing` after
//! every step with the runs done, running and failed and the rounds.
//!
//! See `examples/batch.rs` for a hundred conversations with tools against
//! the scripted batch server, offline.
