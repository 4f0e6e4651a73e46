//! Durable runs: a run kept between processes, resumed where it stopped, with
//! approvals that may take a day.
//!
//! A run can outlive its process: a deploy, a crash or an approval that takes a
//! day does not lose it, run a finished tool again or pay for a model turn
//! twice.
//!
//! ```
//! use futures_util::StreamExt;
//! use toolrunner::{tool, toolset, Client, Decision, FileStore, MessageParams, PendingCall, RunId, RunStore, ToolCall};
//!
//! /// Refund an order.
//! #[tool]
//! async fn refund(call: ToolCall, order: u32) -> String {
//!     // Hand the key to the payment API: a call run twice refunds once.
//!     let key = call.idempotency_key().unwrap_or(call.id());
//!     format!("refunded order {order} (idempotency key {key})")
//! }
//!
//! async fn run(client: Client) -> Result<(), toolrunner::Error> {
//!     let store = FileStore::new("runs");
//!     let run = RunId::new("order-7")?;
//!     let runner = match store.load(&run).await? {
//!         // Another process got this far: go on where it stopped.
//!         Some(state) => client.resume(state, toolset![refund])?,
//!         None => {
//!             let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("Refund order 7.");
//!             client.tool_runner(params, toolset![refund])
//!         }
//!     };
//!     let mut runner = runner
//!         .before_tool_call(|call: PendingCall| async move {
//!             if call.name == "refund" { Decision::Defer } else { Decision::Allow }
//!         })
//!         .checkpoint(store.clone(), run.clone());
//!     while let Some(message) = runner.next().await {
//!         println!("{}", message?.text());
//!     }
//!     for call in runner.pending_approvals() {
//!         println!("waiting for a human: {} {}", call.name, call.input);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! A human approves later, from anywhere that reaches the store; the next
//! `run` goes on with the refund:
//!
//! ```no_run
//! # use toolrunner::{FileStore, RunId, RunStore};
//! # async fn approve(store: FileStore, run: RunId) -> Result<(), toolrunner::Error> {
//! let mut state = store.load(&run).await?.expect("a kept run");
//! for call in state.pending_approvals() {
//!     state.approve(&call.id)?; // or state.deny(&call.id, "why not")?
//! }
//! store.save(&run, &state).await?;
//! # Ok(()) }
//! ```
//!
//! - **What is kept.** [`runner.state()`](crate::ToolRunner::state) is a
//!   [`RunState`](crate::RunState) (serde, with a `format_version`; a state of
//!   another version is refused naming both): the conversation and parameters,
//!   the iteration count, the current turn with the results of its calls that
//!   finished, the container, the message thread's position and the calls
//!   waiting for approval. Hooks, compaction and concurrency are code: set
//!   them again on the resumed runner.
//! - **When.** [`.checkpoint(store, run_id)`](crate::ToolRunner::checkpoint)
//!   saves after every model response and every finished (or deferred) call,
//!   and once the run is over. [`FileStore`](crate::FileStore) keeps one file
//!   per run and replaces it atomically (write a temporary file, fsync,
//!   rename, fsync the directory). A state holds the whole conversation, so
//!   its files are 0600 from the moment they are created and the directories
//!   it creates 0700; a directory that exists already is used as it is, with a
//!   `tracing` warning when others may read it. [`RunStore`](crate::RunStore)
//!   is a trait: three async methods to keep runs elsewhere.
//! - **Guarantees.** Killed anywhere and resumed with
//!   [`client.resume(state, toolset)`](crate::Client::resume): a call whose
//!   result was kept never runs again, a request whose response was kept is
//!   never sent again, and the next request is byte for byte the one the run
//!   would have sent, on the same message thread. When the server no longer
//!   holds that thread, the runner starts a new one with the whole
//!   conversation (see [the loop](super::the_loop#message-threads)).
//! - **What can run twice.** Only a tool call the process died in the middle
//!   of: it began, and the checkpoint after it was not written, so the resumed
//!   run cannot know whether it took effect and runs it again (with calls
//!   running at once, that is every call of the turn still running at the
//!   time). It runs with the same
//!   [`ToolCall::idempotency_key()`](crate::ToolCall::idempotency_key)
//!   (`<run id>:<tool_use id>`): give it to the service you call, or record it,
//!   and the side effect happens once. A code-mode program is rerun whole; its
//!   calls have keys `<run id>:<tool_use id>#<n>`, the same on the rerun. A
//!   model request the process died waiting for is sent again; it costs one
//!   more turn.
//! - **The iteration limit.** A run that reaches `max_iterations` yields the
//!   error and stops, unfinished
//!   ([`state.is_finished()`](crate::RunState::is_finished) is false): resumed
//!   with a higher `.max_iterations(n)`, the last turn's calls run and the
//!   next request goes out.
//!
//! # Approvals
//!
//! A before-call hook may answer [`Decision::Defer`](crate::Decision::Defer):
//! the turn's other calls run, then the runner stops with the call in
//! [`pending_approvals()`](crate::ToolRunner::pending_approvals), the turn in
//! `messages()` and its state kept; the stream ends, and `until_done()` returns
//! an error with [`is_awaiting_approval()`](crate::Error::is_awaiting_approval)
//! that carries the calls and the state
//! ([`approval_state()`](crate::Error::approval_state)), never the turn as if
//! it were the answer. [`state.approve(id)`](crate::RunState::approve) runs it
//! on resume (the hook is not asked again);
//! [`state.deny(id, message)`](crate::RunState::deny) answers it with
//! `message` as an `is_error` result. The resumed runner yields the decided
//! turn again first (streaming: a `Turn` with no events), so `tool_results()`
//! reports what came of its calls.
//!
//! Testing a durable run across processes: see the `testing` page of this
//! guide (feature `testing`), which shows a script keyed on the conversation. `tests/tests/end_to_end/durable.rs` kills a run in a child
//! process (SIGKILL) at each checkpoint and in the middle of a call, and shows
//! that each call ran once, the conversation is the one an uninterrupted run
//! has, and the server saw the same requests, byte for byte.
