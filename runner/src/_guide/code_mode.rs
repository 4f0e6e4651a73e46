//! Code mode: the model writes Python that calls your tools, run in a sandbox
//! on your side (feature `code-mode`).
//!
//! Programmatic calling on the client, for any model and deployment, offline
//! too: the model gets one tool, `run_code`, writes a short Python program that
//! calls your tools as `async` functions, and the runner runs it in a sandbox
//! ([monty](https://github.com/pydantic/monty), a Python interpreter in Rust)
//! in a worker process. Ten tool calls cost one round trip to the model
//! instead of ten.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use toolrunner::code_mode::{CodeMode, Limits};
//! use toolrunner::prelude::*;
//!
//! /// The weather in a city, in degrees Celsius.
//! #[tool(allowed_callers = ["direct", "code"])]
//! fn get_weather(city: String) -> f64 {
//!     if city == "Paris" { 18.0 } else { 9.5 }
//! }
//!
//! # async fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! let params = MessageParams::new(models::CURRENT, 1024)
//!     .user("Which is warmer today: Paris, Oslo, Rome or Lima?");
//! let tools = CodeMode::new(toolset![get_weather])
//!     .limits(Limits::default().timeout(Duration::from_secs(10)))
//!     .build()?; // a Toolset: `run_code`, plus the direct tools
//! let last = client.tool_runner(params, tools).until_done().await?;
//! println!("{}", last.text());
//! # Ok(()) }
//! ```
//!
//! and the worker, one line in `src/bin/toolrunner-worker.rs` (see
//! [the worker process](#the-worker-process)):
//!
//! ```no_run,standalone_crate
//! # mod bin {
//! toolrunner::code_mode_worker!();
//! # }
//! # fn main() {}
//! ```
//!
//! A program can be run without a model, through the toolset, as the runner
//! runs it; here in process, as a test would:
//!
//! ```
//! use toolrunner::code_mode::{CodeMode, Isolation, RUN_CODE};
//! use toolrunner::{ToolCall, tool, toolset};
//!
//! /// Add two integers.
//! #[tool(allowed_callers = ["code"])]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! let tools = CodeMode::new(toolset![add]).isolation(Isolation::InProcess).build().unwrap();
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let program = "import asyncio\nsums = await asyncio.gather(add(a=1, b=2), add(a=3, b=4))\nsum(sums)";
//! let out = tools.call(RUN_CODE, serde_json::json!({"code": program}), ToolCall::new("toolu_1")).await;
//! assert!(!out.is_error, "{}", out.text_content());
//! assert!(out.text_content().ends_with("Last expression (JSON):\n10"), "{}", out.text_content());
//! # });
//! ```
//!
//! # How programs call tools
//!
//! - Tools whose `allowed_callers` include `"code"` become Python functions,
//!   declared in `run_code`'s description as stubs generated from their
//!   schemas (`async def get_weather(*, city: str, unit: Literal["celsius",
//!   "fahrenheit"] | None = None) -> Any`, nested objects as `TypedDict`s;
//!   names that are not identifiers are mapped). Tools that also allow
//!   `"direct"` stay callable directly; no tool of a code-mode toolset
//!   advertises code callers, so the API's code-execution tool is never added.
//! - Calls from code go through [`Toolset::call`](crate::Toolset::call) in
//!   your process (validation, `State`, panics caught;
//!   [`ToolCall::caller()`](crate::ToolCall::caller) is
//!   [`Caller::CodeMode`](crate::Caller::CodeMode), the id `<run_code
//!   id>#<n>`, `auth()` that of the `run_code` call) and start when made, so
//!   calls awaited together with `asyncio.gather` run concurrently. A tool's
//!   JSON result arrives as Python values (integers of any size exact; other
//!   text as a `str`); a failed call raises `RuntimeError`, which the program
//!   can catch.
//! - Each call from code meets the runner's before- and after-call
//!   [hooks](super::hooks), as a direct call does (in a worker too: the hook
//!   runs in your process). A denial raises in the program like any failed
//!   call. A call the hook defers ([`Decision::Defer`](crate::Decision::Defer))
//!   raises too, without running: a program cannot wait for a human, so
//!   deferring a call from code denies it, with a message saying it needs
//!   approval. Wrapping a call in `run_code` escapes no hook.
//! - Under [`.checkpoint(...)`](crate::ToolRunner::checkpoint), each call from
//!   code has the idempotency key `<run id>:<tool_use id>#<n>`, `n` its number
//!   in the program: a program rerun after a crash makes the same calls with
//!   the same keys.
//! - The model gets back the printed output and the last expression's value
//!   as JSON, each labelled; an uncaught exception comes back as its traceback
//!   in an error result.
//! - No file system, network, environment, subprocesses or clock: those calls
//!   raise, unknown modules are `ModuleNotFoundError`. Limits
//!   ([`Limits`](crate::code_mode::Limits)), each ending the program with a
//!   message naming it: wall time (30 s), tool calls (100), recursion depth
//!   (200), printed output (20,000 bytes), and memory (256 MiB for the whole
//!   program: `MemoryError: the program used more than 256 MiB`).
//!   [`.persistent_state()`](crate::code_mode::CodeMode::persistent_state)
//!   keeps variables between programs.
//! - Known limits: monty is a subset of Python (no
//!   `gather(return_exceptions=...)`, no builtin methods as values such as
//!   `key=d.get`); tool arguments hold at most 64-bit integers; a tool
//!   returning the string `"42"` gives the program the int `42`.
//!
//! # The same tools on a plain runner: the API's code-execution tool
//!
//! `["direct", "code"]` means "callable from code" to every runner, not only
//! to code mode. Given to [`CodeMode`](crate::code_mode::CodeMode), such a
//! tool is a Python function in `run_code` and a plain direct tool on the wire.
//! Given to a runner directly (`client.tool_runner(params, toolset![add])`),
//! it is a tool for the API's [programmatic tool calling](super::programmatic):
//! the runner then adds the API's code-execution tool,
//! `{"type": "code_execution_20260120", "name": "code_execution"}`, to the
//! `tools` of every request that declares tools (unless the request declares a
//! code-execution tool itself), and the model may run code in Anthropic's
//! container. Mark a tool `"code"` only for toolsets meant for code mode or
//! programmatic calling, or wrap the toolset in `CodeMode` wherever it goes.
//!
//! # The worker process
//!
//! A program could otherwise take its host down: four lines that append to a
//! list grow an in-process interpreter by a gigabyte a second, and under a
//! container's memory cap the allocation failure aborts the whole process. So
//! programs run in a worker process, whose global allocator is monty's: it
//! counts every byte, the interpreter raises `MemoryError` past
//! [`Limits::max_memory`](crate::code_mode::Limits::max_memory), and the
//! worker exits with a dedicated status past a small margin above it. The
//! worker is also capped from outside (`RLIMIT_AS` and `RLIMIT_DATA` at twice
//! the limit plus 1 GiB, no files, no core dumps), starts with an empty
//! environment in `/`, in a process group of its own. Tool calls cross its
//! stdin and stdout as length-prefixed postcard frames and run in your process
//! as before. Running out of memory, a crash of the interpreter (a panic or a
//! signal), a worker killed from outside or one that hangs past the time limit
//! (killed with its group) each end that program with an error result saying
//! so; the host and the run go on. A worker that finished cleanly waits, warm,
//! for the next program
//! ([`Worker::pool_size`](crate::code_mode::Worker::pool_size), default 2);
//! dropping the runner mid-program kills its worker, dropping the toolset its
//! warm ones, and a worker whose host dies exits with it.
//!
//! Why a binary of its own: only a binary may choose the global allocator, and
//! a library must not choose yours, so the worker is a separate small binary,
//! `toolrunner::code_mode_worker!();` in `src/bin/toolrunner-worker.rs`. Cargo
//! builds it beside your program, where
//! [`build()`](crate::code_mode::CodeMode::build) finds it (also from tests,
//! benchmarks and examples, one directory up); nothing to install, same
//! version as your host by construction (with two binaries, a bare `cargo run`
//! wants `default-run = "your-app"` under `[package]`). Elsewhere, point
//! `TOOLRUNNER_WORKER` or [`Worker::at(path)`](crate::code_mode::Worker::at)
//! at one (`cargo install toolrunner --features code-mode --bin
//! toolrunner-worker`). Without a worker, `build()` fails and says exactly
//! which file to add. A program shipped as one binary can be its own worker
//! ([`Worker::current_exe()`](crate::code_mode::Worker::current_exe),
//! [`worker_entry()`](crate::code_mode::worker_entry) first in `main`, and
//! [`WorkerAllocator`](crate::code_mode::WorkerAllocator) as its allocator,
//! which then counts the host's allocations too): `examples/code_mode.rs` does
//! that. Test binaries cannot run code before the harness's `main`, which is
//! why the separate binary is the default.
//! [`Isolation::InProcess`](crate::code_mode::Isolation::InProcess) runs
//! programs on a blocking thread of your process, for trusted code and tests:
//! there only single values are bounded
//! ([`Limits::max_allocation_bytes`](crate::code_mode::Limits::max_allocation_bytes),
//! 64 MiB), and a crash of the interpreter is yours.
//!
//! # Cost
//!
//! The feature doubles a clean build of the crate (75 s → 148 s on 2 cores;
//! 72 more crates as `cargo tree -e normal` counts them), so it is off by
//! default; the worker binary links the same
//! crates again. At run time a program with ten tool calls costs 0.3 to 0.7 ms
//! in a warm worker (0.15 to 0.25 ms in process; the difference is ten round
//! trips over the pipes), against 200 to 450 ms for a `python3` subprocess;
//! the first program of a toolset, which starts its worker, 2 to 5 ms (2
//! cores, shared).
//!
//! `examples/code_mode.rs` answers a question that takes thirteen tool calls
//! with one `run_code` call: `cargo run --example code_mode --features
//! code-mode`.
