//! Where programs run: in a worker process (the default), or in this
//! process. See [the module docs](super#isolation-the-worker-process).

mod locate;
mod pool;
mod process;
mod protocol;
mod run;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

pub(crate) use locate::locate;
pub(crate) use pool::Pool;
pub(crate) use process::Process;
pub(crate) use run::{Session, run};

/// Where `run_code` programs run.
///
/// ```
/// use toolrunner::code_mode::{CodeMode, Isolation, Worker};
/// use toolrunner::toolset;
///
/// // The default: a worker process found beside this program, two kept warm.
/// let isolated =
///     CodeMode::new(toolset![]).isolation(Isolation::Worker(Worker::new().pool_size(4)));
/// // Trusted code only: no memory bound, and a crash takes the host down.
/// let trusted = CodeMode::new(toolset![]).isolation(Isolation::InProcess);
/// # let _ = (isolated, trusted);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Isolation {
    /// In a worker process: the program's memory is bounded by
    /// [`Limits::max_memory`](super::Limits::max_memory), and a program
    /// that runs out of it, crashes the interpreter or hangs ends with an
    /// error result while the host carries on.
    Worker(Worker),
    /// In this process, on a blocking thread. Only for code you trust, and
    /// for tests: a program's total memory is not bounded (only single
    /// values are, by [`Limits::max_allocation_bytes`](super::Limits::max_allocation_bytes)),
    /// and a crash of the interpreter is a crash of this process.
    InProcess,
}

impl Default for Isolation {
    fn default() -> Self {
        Isolation::Worker(Worker::new())
    }
}

/// The worker processes programs run in: which binary, and how many are
/// kept warm.
///
/// The binary is a program whose `main` is [`code_mode_worker!`](crate::code_mode_worker):
/// `src/bin/toolrunner-worker.rs` in your package. [`Worker::new`] finds it
/// when the toolset is built, in this order: the path in the
/// [`TOOLRUNNER_WORKER`](Self::ENV) environment variable; else
/// [`toolrunner-worker`](Self::BINARY) in the directory of the current
/// executable, where cargo puts the binaries of a package, or the directory
/// above it when that is cargo's `deps` or `examples` (tests, benchmarks
/// and examples). A program shipped as one binary can be its own worker
/// instead: see [`Worker::current_exe`].
///
/// ```
/// use toolrunner::code_mode::Worker;
///
/// let found = Worker::new();
/// let given = Worker::at("/usr/local/bin/toolrunner-worker").pool_size(8);
/// # let _ = (found, given);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Worker {
    pub(crate) binary: Binary,
    /// Idle workers kept warm for the next program.
    pub(crate) pool_size: usize,
}

/// Which binary a worker runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Binary {
    /// Found when the toolset is built.
    Find,
    /// This one.
    At(PathBuf),
    /// The current executable, in worker mode.
    CurrentExe,
}

impl Worker {
    /// The name of the worker binary looked for beside the current executable.
    pub const BINARY: &'static str = "toolrunner-worker";
    /// The environment variable naming the worker binary.
    pub const ENV: &'static str = "TOOLRUNNER_WORKER";
    /// The default [`pool_size`](Self::pool_size): 2.
    pub const DEFAULT_POOL_SIZE: usize = 2;

    /// The worker binary found when the toolset is built (see [`Worker`]).
    pub fn new() -> Self {
        Worker {
            binary: Binary::Find,
            pool_size: Self::DEFAULT_POOL_SIZE,
        }
    }

    /// The worker binary at `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Worker {
            binary: Binary::At(path.into()),
            ..Worker::new()
        }
    }

    /// This program itself, started again as a worker: for a program shipped
    /// as one binary. Its `main` must begin with [`worker_entry`], and its
    /// global allocator must be [`WorkerAllocator`](super::WorkerAllocator), which then counts the
    /// host's allocations too (a relaxed atomic add each; it bounds nothing
    /// there).
    ///
    /// ```no_run
    /// use toolrunner::code_mode::{CodeMode, Isolation, Worker, WorkerAllocator};
    /// use toolrunner::toolset;
    ///
    /// #[global_allocator]
    /// static ALLOCATOR: WorkerAllocator = WorkerAllocator;
    ///
    /// fn main() {
    ///     // Started as a worker, the program serves programs and exits here.
    ///     toolrunner::code_mode::worker_entry();
    ///
    ///     let tools = CodeMode::new(toolset![])
    ///         .isolation(Isolation::Worker(Worker::current_exe()))
    ///         .build()
    ///         .unwrap();
    ///     // ...
    /// #   let _ = tools;
    /// }
    /// ```
    pub fn current_exe() -> Self {
        Worker {
            binary: Binary::CurrentExe,
            ..Worker::new()
        }
    }

    /// Sets how many idle workers are kept warm for the next program
    /// (default [`DEFAULT_POOL_SIZE`](Self::DEFAULT_POOL_SIZE)). Programs
    /// running at once each have a worker; those past this number exit when
    /// done.
    #[must_use]
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }
}

impl Default for Worker {
    fn default() -> Self {
        Worker::new()
    }
}

/// The environment variable that starts a program in worker mode, for
/// [`worker_entry`]; set in a worker's otherwise empty environment.
pub(crate) const WORKER_MODE: &str = "TOOLRUNNER_CODE_MODE_WORKER";

/// Serves programs and exits when this process was started as a code-mode
/// worker by [`Worker::current_exe`]; returns at once otherwise. Call it
/// first thing in `main`, before anything that reads arguments or starts
/// threads.
pub fn worker_entry() {
    if std::env::var_os(WORKER_MODE).is_some() {
        std::process::exit(i32::from(serve::serve()));
    }
}

/// The `main` of a worker process: serves `run_code` programs to its host
/// over stdin and stdout until stdin closes.
///
/// Use it through [`code_mode_worker!`](crate::code_mode_worker), which also
/// makes monty's allocator the binary's global allocator; without it the
/// worker cannot count a program's memory, and refuses to run programs.
pub fn worker_main() -> ExitCode {
    ExitCode::from(serve::serve())
}
