//! An interpreter session: monty's REPL, the Python wrappers that make tools
//! callable, and the snippet names its tracebacks use.
//!
//! Each tool is a Python `async def` that awaits one host function,
//! [`CALL`], and raises when the result says the tool failed. The raise must
//! happen in Python: monty fails a whole `asyncio.gather` when a host call
//! awaited inside one of its tasks fails, so an exception delivered by the
//! host could not be caught by that task's own `try`. A result marks a
//! failure by being a tuple, which no JSON value converts to.

use monty::MontyRepl;
use monty_types::{
    CompileOptions, MontyException, PrintWriter, ResourceLimits, ResourceTracker, StackFrame,
};

use super::limits::Limits;
use super::link::Bindings;

/// The host function every tool wrapper awaits:
/// `__toolrunner_call(function_name, kwargs)`.
pub(crate) const CALL: &str = "__toolrunner_call";

/// The file name of the program being run, in its tracebacks.
const PROGRAM_FILE: &str = "main.py";

/// An interpreter and the snippets fed to it.
pub(crate) struct Interpreter {
    repl: Option<MontyRepl>,
    /// What each snippet fed so far was, by monty's snippet number.
    snippets: Vec<Snippet>,
    /// The programs run so far.
    programs: usize,
    /// Whether the memory limit bounds the whole session, which needs
    /// monty's allocator (in a worker), or single values (in process).
    total_memory: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Snippet {
    Wrappers,
    Program(usize),
}

impl Interpreter {
    /// A fresh interpreter with `limits`, in this process.
    pub(crate) fn new(limits: &Limits) -> Self {
        Self::with_memory(limits, false)
    }

    /// A fresh interpreter with `limits`, in a worker whose allocator counts
    /// every byte.
    pub(crate) fn in_worker(limits: &Limits) -> Self {
        Self::with_memory(limits, true)
    }

    fn with_memory(limits: &Limits, total_memory: bool) -> Self {
        // Without monty's allocator only single large allocations are
        // checked against the limit, which is what `max_allocation_bytes`
        // promises; with it, every byte the session holds is.
        let memory = if total_memory {
            limits.max_memory
        } else {
            limits.max_allocation_bytes
        };
        let resources = ResourceLimits::default()
            .max_recursion_depth(limits.max_recursion_depth)
            .max_memory(memory)
            .max_duration(limits.timeout);
        let repl = MontyRepl::new(
            PROGRAM_FILE,
            ResourceTracker::new(resources),
            CompileOptions::default(),
        );
        Interpreter {
            repl: Some(repl),
            snippets: Vec::new(),
            programs: 0,
            total_memory,
        }
    }

    /// Whether the memory limit bounds the whole session.
    pub(crate) fn bounds_total_memory(&self) -> bool {
        self.total_memory
    }

    /// Defines the wrappers of the tools `code` names, and returns the
    /// session ready to run `code` as the next program.
    pub(crate) fn prepare(
        &mut self,
        code: &str,
        bindings: &Bindings,
        limits: &Limits,
    ) -> MontyRepl {
        let mut repl = self.repl.take().unwrap_or_else(|| {
            // A program whose thread panicked took the session with it.
            let fresh = Interpreter::with_memory(limits, self.total_memory);
            *self = fresh;
            self.repl
                .take()
                .unwrap_or_else(|| unreachable!("a new interpreter has a session"))
        });
        // The interpreter's own clock counts only the time it runs, and
        // accumulates over the session: each program gets a fresh budget.
        repl.tracker_mut().set_max_duration(limits.timeout);
        let wrappers = wrappers(code, bindings);
        if !wrappers.is_empty() {
            self.snippets.push(Snippet::Wrappers);
            if let Err(e) = repl.feed_run(&wrappers, Vec::new(), PrintWriter::Disabled) {
                // The wrappers are generated; this is a bug, and the
                // program's calls will fail with a NameError.
                tracing::error!(error = %e, "code mode tool wrappers failed to compile");
            }
        }
        self.programs += 1;
        // monty numbers only the snippets that are not empty.
        if !code.is_empty() {
            self.snippets.push(Snippet::Program(self.programs));
        }
        repl
    }

    /// Takes the session back after a program.
    pub(crate) fn finish(&mut self, repl: MontyRepl) {
        self.repl = Some(repl);
    }

    /// `exc` as the model should read it: without the wrappers' frames,
    /// with the program's file named `main.py` and earlier programs
    /// `<program N>`.
    pub(crate) fn present(&self, exc: MontyException) -> MontyException {
        if exc.traceback().is_empty() {
            return exc;
        }
        let frames: Vec<StackFrame> = exc
            .traceback()
            .iter()
            .filter_map(|frame| {
                let snippet = frame
                    .filename
                    .strip_prefix("<python-input-")
                    .and_then(|rest| rest.strip_suffix('>'))
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| self.snippets.get(n));
                let mut frame = frame.clone();
                match snippet {
                    Some(Snippet::Wrappers) => return None,
                    Some(Snippet::Program(n)) if *n == self.programs => {
                        frame.filename = PROGRAM_FILE.to_owned()
                    }
                    Some(Snippet::Program(n)) => frame.filename = format!("<program {n}>"),
                    None => {}
                }
                Some(frame)
            })
            .collect();
        let message = exc.message().map(str::to_owned);
        let mut data_holder = exc;
        let data = data_holder.take_data();
        MontyException::with_traceback(data_holder.exc_type(), message, frames).with_data(data)
    }
}

/// The wrappers of the tools whose names `code` mentions.
fn wrappers(code: &str, bindings: &Bindings) -> String {
    let mut out = String::new();
    for function in bindings.functions().filter(|f| code.contains(*f)) {
        out.push_str(&format!(
            "async def {function}(**kwargs):\n    \
                 result = await {CALL}(\"{function}\", kwargs)\n    \
                 if type(result) is tuple:\n        \
                     raise RuntimeError(result[0])\n    \
                 return result\n\n"
        ));
    }
    out
}
