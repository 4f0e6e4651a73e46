//! Code mode: programmatic tool calling on the client, for any model.
//!
//! The model gets one tool, `run_code`, and writes a short Python program
//! that calls your tools as `async` functions. The runner runs it in an
//! embedded sandbox ([monty](https://github.com/pydantic/monty), a Python
//! interpreter written in Rust) and sends back what it printed and the value
//! of its last expression. Ten tool calls cost one round trip to the model
//! instead of ten; no code-execution container is involved, so it works
//! with any model and deployment, offline too.
//!
//! ```
//! use serde_json::json;
//! use toolrunner::code_mode::{CodeMode, Isolation};
//! use toolrunner::{tool, toolset, ToolCall};
//!
//! /// Get the temperature in a city, in °C.
//! #[tool(allowed_callers = ["code"])]
//! fn temperature(city: String) -> i64 {
//!     city.len() as i64 * 3
//! }
//!
//! let tools = CodeMode::new(toolset![temperature])
//!     // A doctest has no worker binary beside it; your program runs
//!     // programs in a worker (see "Isolation" below).
//!     .isolation(Isolation::InProcess)
//!     .build()
//!     .unwrap();
//! // The model sees `run_code` only; its description declares
//! // `async def temperature(*, city: str) -> Any`.
//! assert_eq!(tools.names().collect::<Vec<_>>(), ["run_code"]);
//!
//! let program = r#"
//! import asyncio
//! cities = ["Paris", "Oslo", "Cairo"]
//! temps = await asyncio.gather(*(temperature(city=c) for c in cities))
//! print(f"warmest: {max(zip(temps, cities))[1]}")
//! dict(zip(cities, temps))
//! "#;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let out = tools.call("run_code", json!({"code": program}), ToolCall::new("toolu_1")).await;
//! assert_eq!(
//!     out.text_content(),
//!     "Printed output:\nwarmest: Paris\n\nLast expression (JSON):\n{\"Paris\": 15, \"Oslo\": 12, \"Cairo\": 15}"
//! );
//! # });
//! ```
//!
//! # What the model sees
//!
//! Tools whose `allowed_callers` include `"code"` (or an exact
//! code-execution version) are callable from the program, and listed in
//! `run_code`'s description as Python stubs generated from their schemas:
//! `Literal` for enums, `| None = None` for optional parameters, `TypedDict`s
//! for nested objects. Names that are not Python identifiers are mapped
//! (`get-user` becomes `get_user`) and mapped back. Tools that also allow
//! `"direct"` stay callable directly; the others are reachable from code
//! only. No tool of a code-mode toolset advertises code callers, so the
//! runner never adds the API's code-execution tool for them.
//!
//! The same `"code"` on a tool given to a runner *without* `CodeMode` means
//! programmatic tool calling on Anthropic's side: the runner then adds the
//! API's code-execution tool (`code_execution_20260120`) to every request,
//! and the model may run code in an Anthropic container. It says so once
//! per runner, at debug level (`RUST_LOG=toolrunner=debug`), naming the
//! tools that caused it. Wrap such a toolset in `CodeMode` before handing it
//! to a runner, or keep a second toolset without code callers, if that is
//! not what you want.
//!
//! # Calls, results and errors
//!
//! A call from the program goes through [`Toolset::call`], like a direct
//! one: its input is validated, [`State`](crate::State) is filled in, a
//! panic is caught, and [`ToolCall::caller`](crate::ToolCall::caller) is
//! [`Caller::CodeMode`](crate::Caller::CodeMode), and its id is the
//! `run_code` call's with the call's number after it (`toolu_1#3`); it
//! acts for whoever made the `run_code` call (the same
//! [`ToolCall::auth`](crate::ToolCall::auth)). Calls start when they are
//! made, so calls awaited together (`asyncio.gather`) run concurrently.
//!
//! Under a runner, each call from the program meets the runner's before-
//! and after-call hooks
//! ([`ToolRunner::before_tool_call`](crate::ToolRunner::before_tool_call)),
//! as a direct call does, in a worker too (the hooks run in this process):
//! a call a hook denies raises in the program, and so does one a hook
//! defers, without running (see [`Decision::Defer`](crate::Decision::Defer)).
//! Under [`ToolRunner::checkpoint`](crate::ToolRunner::checkpoint), each
//! has the idempotency key of the `run_code` call with its number after it
//! ([`ToolCall::idempotency_key`](crate::ToolCall::idempotency_key)).
//!
//! A result whose text is one JSON value reaches the program as that value
//! (integers of any size exact); other text arrives as a `str` (so a tool
//! returning the string `"42"` gives the program the int `42`). A failed
//! call raises `RuntimeError` with the tool's message, which the program
//! may catch. Images and documents cannot reach code; such a result raises
//! too.
//!
//! The model gets back the printed output and the last expression's value
//! as JSON, each under a label; an uncaught exception comes back as its
//! traceback in an error result, so the model can fix its code.
//!
//! # The sandbox
//!
//! The program has no file system, network, environment variables,
//! subprocesses or clock: `open`, `os.getenv` and the like raise
//! `PermissionError`, and unknown modules `ModuleNotFoundError`. It runs
//! within the [`Limits`] configured: wall time, tool calls, recursion depth,
//! printed output, and memory. monty implements a subset of Python; see its
//! documentation for what is missing (`asyncio.gather` takes no keyword
//! arguments, for one, and builtin methods cannot be used as values, as in
//! `key=d.get`).
//!
//! # Isolation: the worker process
//!
//! Programs run in a worker process ([`Isolation::Worker`], the default), so
//! that no program can take its host down. The worker's global allocator is
//! monty's, which counts every byte: past [`Limits::max_memory`] the
//! program ends with `MemoryError: the program used more than 256 MiB`. The
//! worker is also capped from outside (address space, data, no files, no
//! core dumps, on Linux), starts with an empty environment in `/`, and has a
//! process group of its own. Tool calls cross its pipes and run here, as
//! above. A program that runs out of memory, crashes the interpreter, or
//! hangs past its time limit (its worker is then killed, with its group)
//! ends with an error result naming what happened; the host carries on. A
//! worker that finished a program cleanly waits for the next one
//! ([`Worker::pool_size`]); dropping a running `run_code` call kills its
//! worker, dropping the toolset the waiting ones, and a worker whose host
//! dies exits with it. With
//! [`persistent_state`](CodeMode::persistent_state) the session keeps a
//! worker of its own, which holds the variables; if it dies, they are lost,
//! and the next result says so.
//!
//! The worker is a binary of its own, because only a binary may choose its
//! global allocator: add `src/bin/toolrunner-worker.rs` holding
//! `toolrunner::code_mode_worker!();` to your package, and cargo builds it
//! beside your program, where [`CodeMode::build`] finds it (see [`Worker`]
//! for the search, and [`Worker::current_exe`] for a program that is its
//! own worker). [`Isolation::InProcess`] runs programs on a blocking thread
//! of this process instead: for trusted code and tests only.
//!
//! # Disk and build time of the worker
//!
//! The worker binary links monty, a whole Python interpreter, so it is not
//! small; in a debug build, debug info makes most of its size. Measured on
//! a small app with `code-mode` (Rust 1.95, Linux, the default `dev`
//! profile): the app is 210 MB and the worker 184 MB, of which 12.9 MB is
//! code and about 160 MB debug info. About two fifths of the worker's
//! debug info (25 of 63 MB of `.debug_info`) describes crates only the
//! host runs (the HTTP client, TLS, JSON Schema validation, tokio): the
//! linker drops their code from the worker, but not their debug info,
//! because the worker's code shares object files with the rest of the
//! crate.
//!
//! The worker's debug info is rarely read. On Linux, one line in your
//! package's build script leaves it out of the worker only, with no
//! rebuild of anything else: the worker drops from 184 MB to 27 MB, and
//! relinking it after a change takes about 3.8 s instead of 6 s (on a
//! 2-core machine under heavy load), while your program keeps all of its
//! debug info.
//!
//! ```no_run
//! // In `fn main` of build.rs:
//! if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
//!     println!("cargo::rustc-link-arg-bin=toolrunner-worker=-Wl,--strip-debug");
//! }
//! ```
//!
//! A worker panic then has no file and line in its backtrace. Debug info
//! of dependencies is rarely read either: turning it off in `Cargo.toml`
//! shrinks every binary of the package, your program too, at the cost of
//! one rebuild:
//!
//! ```toml
//! [profile.dev.package."*"]
//! debug = false  # or "line-tables-only", to keep file:line in backtraces
//! ```
//!
//! With `debug = false`, the same app is 54 MB and its worker 29 MB (the
//! `target/debug` folder 0.9 GB instead of 2.3 GB; with
//! `"line-tables-only"`, 91 MB and 67 MB), and relinking after a
//! change takes about half as long (worker 2.3 s to 1.1 s, app 2.8 s to
//! 1.6 s, on a loaded 2-core machine). To build the worker once rather
//! than with every debug build, install it (`cargo install toolrunner
//! --features code-mode --bin toolrunner-worker`, a release build) and
//! point [`Worker::at`] or `TOOLRUNNER_WORKER` at it.
//!
//! Integers beyond 64 bits cannot be tool arguments (a
//! [`serde_json::Value`] cannot hold them); passing one raises `TypeError`.

mod convert;
mod host;
mod limits;
mod link;
mod names;
mod reply;
mod report;
mod sandbox;
mod session;
mod stubs;
mod tool;
mod worker;

use std::fmt;
use std::sync::Arc;

use tokio::sync::Mutex;

pub use limits::Limits;
pub use worker::{Isolation, Worker, worker_entry, worker_main};

/// The global allocator of a code-mode worker: monty's, which counts every
/// byte so that [`Limits::max_memory`] can be enforced.
/// [`code_mode_worker!`](crate::code_mode_worker) installs it in a worker
/// binary; a program that is its own worker ([`Worker::current_exe`])
/// declares it itself.
pub use monty_alloc::LimitedAllocator as WorkerAllocator;

use crate::tool::ToolDefinition;
use crate::toolset::{Toolset, ToolsetError};

/// The name of the tool the model calls to run a program.
pub const RUN_CODE: &str = "run_code";

/// Wraps a toolset for code mode. See the [module docs](self).
///
/// ```
/// use std::time::Duration;
/// use toolrunner::code_mode::{CodeMode, Isolation, Limits};
/// use toolrunner::{tool, toolset};
///
/// /// Add two integers.
/// #[tool(allowed_callers = ["direct", "code"])]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// let tools = CodeMode::new(toolset![add])
///     .limits(Limits::default().timeout(Duration::from_secs(10)))
///     .persistent_state()
///     .isolation(Isolation::InProcess) // a doctest has no worker binary
///     .build()
///     .unwrap();
/// // `add` stays callable directly, without code callers on the wire.
/// assert_eq!(tools.names().collect::<Vec<_>>(), ["add", "run_code"]);
/// assert_eq!(tools.get("add").unwrap().definition().allowed_callers, None);
/// ```
#[must_use = "a code mode does nothing until it is built into a toolset"]
#[derive(Clone)]
pub struct CodeMode {
    toolset: Toolset,
    limits: Limits,
    persistent: bool,
    isolation: Isolation,
}

impl CodeMode {
    /// Code mode over `toolset`, with default [`Limits`], a fresh
    /// interpreter for every program, and programs run in a worker process
    /// ([`Isolation::Worker`]).
    pub fn new(toolset: Toolset) -> Self {
        CodeMode {
            toolset,
            limits: Limits::default(),
            persistent: false,
            isolation: Isolation::default(),
        }
    }

    /// Sets where programs run (default: a worker process).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// Sets the limits of each program.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Keeps the interpreter's state (variables, functions, imports) from
    /// one program to the next.
    ///
    /// The state belongs to the built toolset and its clones: build one
    /// toolset per conversation. Programs sharing it run one at a time.
    pub fn persistent_state(mut self) -> Self {
        self.persistent = true;
        self
    }

    /// The toolset to give the runner: `run_code`, and the tools the model
    /// may call directly.
    ///
    /// # Errors
    ///
    /// When a tool the model may call directly is named `run_code`, and
    /// when programs are to run in a worker whose binary cannot be found
    /// (the message says what to add).
    pub fn build(self) -> Result<Toolset, BuildError> {
        let code_tools: Vec<&ToolDefinition> = self
            .toolset
            .definitions()
            .filter(|def| def.allows_code())
            .collect();
        let stubs = stubs::generate(code_tools);
        let description = description(
            &stubs.source,
            stubs.bindings.is_empty(),
            &self.limits,
            self.persistent,
            &self.isolation,
        );

        let mut outer = Toolset::new().with_state_map(Arc::clone(self.toolset.state_map()));
        for tool in self.toolset.tools() {
            let def = tool.definition();
            if !def.allows_code() {
                outer.add_arc(Arc::clone(tool))?;
            } else if def.allows_direct() {
                outer.add(tool::DirectOnly::new(Arc::clone(tool)))?;
            }
        }
        // A clash is the caller's mistake, whatever the machine has: said
        // before a worker is looked for, whose absence would hide it.
        if outer.contains(RUN_CODE) {
            return Err(ToolsetError::Duplicate(RUN_CODE.to_owned()).into());
        }
        let bindings = Arc::new(link::Bindings::new(stubs.bindings));
        let engine = match &self.isolation {
            Isolation::InProcess => tool::Engine::InProcess {
                session: self.persistent.then(|| Arc::new(Mutex::new(None))),
            },
            Isolation::Worker(config) => {
                let located = worker::locate(
                    config,
                    std::env::var_os(Worker::ENV),
                    std::env::current_exe().ok(),
                )
                .map_err(BuildError::NoWorker)?;
                tool::Engine::Worker {
                    pool: Arc::new(worker::Pool::new(
                        located,
                        &bindings,
                        &self.limits,
                        config.pool_size,
                    )),
                    session: self.persistent.then(|| Arc::new(Mutex::new(None))),
                }
            }
        };
        let run_code = tool::RunCode {
            definition: ToolDefinition::new(RUN_CODE, description, tool::input_schema()),
            shared: Arc::new(tool::Shared {
                toolset: self.toolset,
                bindings,
                limits: self.limits,
                engine,
            }),
        };
        outer.add(run_code)?;
        Ok(outer)
    }
}

impl fmt::Debug for CodeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeMode")
            .field("toolset", &self.toolset)
            .field("limits", &self.limits)
            .field("persistent", &self.persistent)
            .field("isolation", &self.isolation)
            .finish()
    }
}

/// Why [`CodeMode::build`] failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A tool the model may call directly is named `run_code`.
    Toolset(ToolsetError),
    /// Programs are to run in a worker, and its binary was not found; the
    /// message says where code mode looked and what to add.
    NoWorker(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Toolset(e) => e.fmt(f),
            BuildError::NoWorker(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Toolset(e) => Some(e),
            BuildError::NoWorker(_) => None,
        }
    }
}

impl From<ToolsetError> for BuildError {
    fn from(e: ToolsetError) -> Self {
        BuildError::Toolset(e)
    }
}

/// The description of `run_code`: the sandbox, its limits, and the stubs.
fn description(
    stubs: &str,
    no_tools: bool,
    limits: &Limits,
    persistent: bool,
    isolation: &Isolation,
) -> String {
    let mut text = String::from(
        "Run a Python program in a sandbox and get back what it printed and the value of its last expression (as JSON).\n\n\
         The sandbox runs a subset of Python 3 with no third-party packages; asyncio, json, math, re, datetime, itertools, \
         functools, collections, dataclasses, base64 and typing can be imported. It has no file system, network, environment \
         variables, subprocesses or clock. Top-level `await` works. ",
    );
    let memory = matches!(isolation, Isolation::Worker(_));
    text.push_str(&format!("Limits: {}. ", limits.summary(memory)));
    text.push_str(if persistent {
        "Variables, functions and imports persist from one program to the next."
    } else {
        "Each program starts afresh: nothing persists between programs."
    });
    if no_tools {
        return text;
    }
    text.push_str(
        "\n\nThe functions below call tools: use them to do in one program what would otherwise take many tool calls. \
         They are async and take keyword arguments only: `await` each call, and run independent calls concurrently \
         with `asyncio.gather`. A function returns the tool's result, parsed from JSON when the tool returns JSON \
         (dict, list, str, int, float, bool or None), else as a str. A tool that fails raises RuntimeError with its \
         message.\n\n```python\n",
    );
    text.push_str(stubs);
    text.push_str("```");
    text
}

// Code mode's tools hold interpreter sessions across threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CodeMode>();
    assert_send_sync::<tool::RunCode>();
};

#[cfg(test)]
mod tests;
