//! The loop: what the runner does each iteration, how to take over, and its
//! limits.
//!
//! [`Client::tool_runner`](crate::Client::tool_runner) returns a
//! [`ToolRunner`](crate::ToolRunner), a `Stream` of the model's messages. Each
//! iteration, the runner sends the request and yields the response. Your loop
//! body may read it and change the runner's state. Then, unless you took over
//! the history, the runner appends the assistant message, runs its tools, and
//! appends one user message with a `tool_result` for every `tool_use`, in call
//! order. A message without tool calls ends the loop.
//!
//! ```no_run
//! use toolrunner::prelude::*;
//!
//! /// Add two integers.
//! #[tool]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! # async fn run(client: Client) -> Result<(), toolrunner::Error> {
//! let params = MessageParams::new(models::CURRENT, 1024).user("What is 2 + 3 + 4?");
//! let mut runner = client
//!     .tool_runner(params, toolset![add])
//!     .max_iterations(10)
//!     .tool_concurrency(4);
//! while let Some(message) = runner.next().await {
//!     let message = message?;
//!     println!("{}", message.text());
//!     // Runs the turn's tools now (once), and pairs each call with its result.
//!     for (call, result) in runner.tool_results().await? {
//!         println!("  {}({}) -> {}", call.name, call.input, result.text());
//!     }
//!     if runner.iterations() == 5 {
//!         // Take over: this iteration the runner appends nothing and sends
//!         // the history as you leave it.
//!         runner.push_messages([MessageParam::user("Stop calling tools and answer.")]);
//!     }
//! }
//! // Or, to run to the end and keep only the last message:
//! // let last = client.tool_runner(params, tools).until_done().await?;
//! # Ok(()) }
//! ```
//!
//! - **Take over** with [`push_messages`](crate::ToolRunner::push_messages),
//!   [`set_messages`](crate::ToolRunner::set_messages) or
//!   [`params_mut`](crate::ToolRunner::params_mut): for that iteration the
//!   runner appends nothing and sends your state as it is. (Appending a plain
//!   message while tools are pending does not loop forever.)
//! - **[`tool_results()`](crate::ToolRunner::tool_results)** runs the current
//!   turn's tools once and returns each call with its result,
//!   `(&ToolUseBlock, &ToolResultBlock)` in call order, to print or check.
//!   **[`tool_response()`](crate::ToolRunner::tool_response)** returns the
//!   results message itself for you to read or edit (say, to add
//!   `cache_control`); the runner sends what you left there.
//! - **Stop reasons:** `tool_use` runs tools; `pause_turn` and `compaction` send
//!   the turn back as it is; everything else ends the loop without running
//!   tools.
//! - **[`max_iterations(n)`](crate::ToolRunner::max_iterations)** bounds the
//!   number of requests (default 50). Reaching it is yielded as an error
//!   ([`Error::is_max_iterations`](crate::Error::is_max_iterations)), and tools
//!   whose results could never be sent are not run.
//! - **[`tool_concurrency(n)`](crate::ToolRunner::tool_concurrency)** bounds
//!   the tools running at once (default 16), whoever called them: the model,
//!   code in the API's container, or a code-mode program; results keep call
//!   order.
//! - **Containers:** the `container` of each response goes into the next
//!   request, merged into a container object you set.
//! - **Dropping the runner** cancels it: the request in flight and async tools
//!   are dropped and every call's cancellation token fires.
//!
//! # Message threads
//!
//! Message threads (beta `message-threads-2026-08-12`) are on by default: the
//! server holds the conversation, so after the first request (which creates
//! the thread) each request sends only what is new since the last reply,
//! without `system` and `tools`, however long the history grows.
//! [`messages()`](crate::ToolRunner::messages) is still the whole
//! conversation. The runner starts a new thread with the whole history when
//! the server lost the thread (`thread_not_found`: a run resumed against
//! another server, say), after a refusal, a fallback model's reply or a
//! stream cut mid-reply, after compaction, and when you rewrite the history,
//! system prompt or tools (appending continues the thread); it goes on
//! unthreaded if the server cannot thread a request. Turn it off with
//! [`.message_threads(false)`](crate::ToolRunner::message_threads).
