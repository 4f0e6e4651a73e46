//! Warm workers: a worker that finished a program cleanly waits in the pool
//! for the next one, so that a program costs a few pipe round trips rather
//! than a process start.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::super::limits::Limits;
use super::super::link::Bindings;
use super::super::stubs::Binding;
use super::locate::Located;
use super::process::Process;
use super::protocol::{ToWorker, VERSION, WireLimits};

/// The workers of one code-mode toolset: they all know its tools and limits.
pub(crate) struct Pool {
    path: PathBuf,
    /// Whether `path` is the current executable, started in worker mode.
    current_exe: bool,
    bindings: Vec<Binding>,
    limits: Limits,
    /// Idle workers kept at most.
    size: usize,
    idle: Mutex<Vec<Process>>,
}

impl Pool {
    pub(crate) fn new(worker: Located, bindings: &Bindings, limits: &Limits, size: usize) -> Self {
        Pool {
            path: worker.path,
            current_exe: worker.current_exe,
            bindings: bindings.all().cloned().collect(),
            limits: limits.clone(),
            size,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The worker binary.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A worker ready for a program: an idle one still alive, else a new one.
    ///
    /// # Errors
    ///
    /// When a new worker cannot be started.
    pub(crate) fn take(&self) -> io::Result<Process> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match idle {
                Some(mut process) => {
                    // One killed while idle is dropped, which reaps it.
                    if process.is_alive() {
                        return Ok(process);
                    }
                }
                None => return self.spawn(),
            }
        }
    }

    /// A new worker, set up for this toolset.
    ///
    /// # Errors
    ///
    /// When it cannot be started.
    fn spawn(&self) -> io::Result<Process> {
        let setup = ToWorker::Setup {
            version: VERSION.to_owned(),
            bindings: self.bindings.clone(),
            limits: WireLimits::from(&self.limits),
        };
        // A worker's frames are bounded by its memory: its result is
        // rendered there, and the frame holding it is a copy.
        let max_frame = self
            .limits
            .max_memory
            .saturating_mul(2)
            .saturating_add(1 << 20);
        Process::spawn(
            &self.path,
            self.current_exe,
            &setup,
            self.limits.max_memory,
            max_frame,
        )
    }

    /// Takes back a worker that finished a program cleanly; past the pool's
    /// size it is dropped, which ends it.
    pub(crate) fn put(&self, process: Process) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.size {
            idle.push(process);
        }
    }
}
