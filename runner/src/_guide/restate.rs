//! Durable runs on Restate: each model request and tool call a journaled step
//! (feature `restate`).
//!
//! The `restate` feature runs an agent on [Restate](https://restate.dev), a
//! durable-execution engine, through its official SDK (`restate-sdk` 0.13,
//! re-exported as [`toolrunner::restate::sdk`](crate::restate::sdk); Restate
//! server 1.7). An [`Agent`](crate::restate::Agent) is served as a Restate
//! workflow, one instance per run id, and each action of the loop is a
//! journaled step: every model request is a `ctx.run` whose journaled result is
//! the reply, every tool call a `ctx.run` whose result is its `tool_result`. A
//! crash, a redeploy or another machine of the fleet picks the run up from its
//! journal: no answered request is sent again, and no finished call runs
//! again.
//!
//! ```no_run
//! use toolrunner::prelude::*;
//! use toolrunner::restate::{Agent, sdk};
//!
//! /// Search the archive.
//! #[tool]
//! fn search(query: String) -> Vec<String> {
//!     vec![format!("nothing about {query}")]
//! }
//!
//! /// Send an email.
//! #[tool]
//! fn send_email(to: String, body: String) -> String {
//!     format!("sent {} bytes to {to}", body.len())
//! }
//!
//! # async fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! let agent = Agent::new("Assistant", client, toolset![search, send_email], |input| {
//!     let prompt = input["prompt"].as_str().ok_or("start a run with {\"prompt\": ...}")?;
//!     Ok(MessageParams::new(models::CURRENT, 1024).user(prompt))
//! })?
//! .before_tool_call(|call: PendingCall| async move {
//!     if call.name == "send_email" { Decision::Defer } else { Decision::Allow }
//! });
//! let endpoint = sdk::endpoint::Endpoint::builder().bind(agent).build();
//! sdk::http_server::HttpServer::new(endpoint).listen_and_serve("0.0.0.0:9080".parse()?).await;
//! # Ok(()) }
//! ```
//!
//! Start a local Restate server, then register the endpoint with it:
//!
//! ```sh
//! npx @restatedev/restate-server
//! curl localhost:9070/deployments --json '{"uri": "http://localhost:9080"}'
//! ```
//!
//! A run is `curl localhost:8080/Assistant/run-1/run --json '{"prompt":
//! "..."}'` (`/run/send` to start it without waiting, `GET
//! /restate/workflow/Assistant/run-1/attach` for its answer later). A call the
//! before-call hook answers with [`Decision::Defer`](crate::Decision::Defer)
//! waits on a durable promise, for days if need be: `POST
//! /Assistant/run-1/pending` lists the waiting calls, and `POST
//! /Assistant/run-1/decide` with `{"call_id": ..., "decision": "approve"}` or
//! `{"call_id": ..., "decision": "deny", "message": ...}` answers one
//! ([`Approval`](crate::restate::Approval)). Approved calls run; denied ones
//! get the message as an `is_error` result. The turn's other calls run
//! meanwhile.
//!
//! - **What can run twice, and why.** Only a step that was under way when the
//!   process died, since its result never reached the journal: that model
//!   request is sent again (and billed again), or that tool call runs again.
//!   A turn's calls run one after another in a durable run, so at most one
//!   call is ever in flight; a tool with side effects deduplicates on its
//!   `tool_use` id ([`ToolCall::id`](crate::ToolCall::id)), the same on every
//!   try. A hook's decision is journaled too, so a hook is asked once per
//!   call.
//! - The parameters are rebuilt from the run's input on each replay, so the
//!   function that builds them must be deterministic.
//! - A code-mode program runs inside the journaled step of its `run_code`
//!   call, and its own calls run as many at once as
//!   [`Agent::tool_concurrency`](crate::restate::Agent::tool_concurrency)
//!   allows (16 by default). Should the process die mid-program, the whole
//!   program runs again, its calls with it.
//! - Cost: off by default, since it more than doubles a clean build of the
//!   crate (191 s → 449 s on a busy 2-core machine): 77 more crates as `cargo
//!   tree -e normal` counts them, among
//!   them HTTP/2 serving, JWT checks of Restate's request identity and a
//!   build-time code generator for Restate's manifest.
//! - `examples/durable.rs` runs offline against the scripted model (`cargo run
//!   --example durable --features restate`), and with `-- serve` serves its
//!   agent for a local Restate server. `tests/tests/end_to_end/restate.rs`
//!   starts a real server from the npm registry, kills the endpoint mid-turn
//!   and shows each call ran once and each request was sent once.
//!
//! Without Restate, a run kept between processes by the runner itself is a
//! [durable run](super::durable_runs).
