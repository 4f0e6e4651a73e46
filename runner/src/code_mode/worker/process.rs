//! One worker process, seen from the host: spawned with a clean
//! environment in a process group of its own, bounded from outside with
//! rlimits, talked to over its pipes, and killed with its whole group when
//! dropped, so that nothing it started outlives it.

use std::io::{self, BufWriter};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal};
use tokio::sync::mpsc;

use super::protocol::{self, FromWorker, ToWorker};

/// Address space a worker may map beyond its memory limit: its binary,
/// thread stacks, allocator arenas. Generous, since monty's allocator
/// enforces the real limit; this only catches what bypasses it.
const ADDRESS_SPACE_SLACK: u64 = 1 << 30;

/// File descriptors a worker may hold: its three standard streams and a
/// few for the runtime. It opens nothing.
const MAX_FILES: u64 = 16;

/// A worker process.
pub(crate) struct Process {
    /// Taken only when dropped.
    child: Option<Child>,
    pid: Pid,
    stdin: BufWriter<ChildStdin>,
    /// Frames from the worker; closed when its stdout is.
    pub(crate) inbox: mpsc::UnboundedReceiver<FromWorker>,
    /// The last program number sent.
    runs: u64,
    /// Set once the worker said it is ready: a binary that dies before is
    /// not a working worker.
    pub(crate) ready: bool,
    /// Set once the worker is reaped: its pid, and so its group's id, may
    /// then belong to another process, which must not be signalled.
    reaped: bool,
}

impl Process {
    /// Starts the worker at `path` (in worker mode when it is the current
    /// executable) and sends it `setup`. Frames longer than `max_frame` end
    /// the connection.
    pub(crate) fn spawn(
        path: &Path,
        current_exe: bool,
        setup: &ToWorker,
        max_memory: usize,
        max_frame: usize,
    ) -> io::Result<Process> {
        let mut command = Command::new(path);
        command
            // Nothing of the host's environment, working directory or
            // files: the worker needs none of it.
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own group, so that killing the group reaches anything it
            // might have started.
            .process_group(0);
        if current_exe {
            command.env(super::WORKER_MODE, "1");
        }
        let mut child = command.spawn()?;
        let pid = Pid::from_child(&child);
        // Limits from outside, before it is sent anything to run (the
        // worker arms its allocator's limit itself).
        match bound(pid, max_memory) {
            // Already gone (not a worker, say): its exit status tells.
            Ok(()) | Err(rustix::io::Errno::SRCH) => {}
            Err(e) => {
                let _ = rustix::process::kill_process_group(pid, Signal::KILL);
                let _ = child.wait();
                return Err(e.into());
            }
        }
        let stdin = child.stdin.take().map(BufWriter::new);
        let stdout = child.stdout.take();
        let (Some(stdin), Some(mut stdout)) = (stdin, stdout) else {
            unreachable!("both pipes were asked for");
        };
        let (tx, inbox) = mpsc::unbounded_channel();
        // A thread, not a task: the worker outlives any one program, and
        // this way it is bound to no runtime.
        std::thread::Builder::new()
            .name("code-mode-worker-reader".into())
            .spawn(move || {
                while let Ok(Some(frame)) = protocol::read::<FromWorker>(&mut stdout, max_frame) {
                    if tx.send(frame).is_err() {
                        break;
                    }
                }
            })?;
        let mut process = Process {
            child: Some(child),
            pid,
            stdin,
            inbox,
            runs: 0,
            ready: false,
            reaped: false,
        };
        // A worker that is already gone fails this write; its closed stdout
        // then tells the program's host so, with its exit status.
        let _ = process.send(setup);
        Ok(process)
    }

    /// The worker's process id.
    pub(crate) fn id(&self) -> u32 {
        self.pid.as_raw_nonzero().get() as u32
    }

    fn child(&mut self) -> &mut Child {
        self.child
            .as_mut()
            .unwrap_or_else(|| unreachable!("the child is taken only when dropped"))
    }

    /// Whether the worker has not exited.
    pub(crate) fn is_alive(&mut self) -> bool {
        match self.child().try_wait() {
            Ok(None) => true,
            Ok(Some(_)) => {
                self.reaped = true;
                false
            }
            Err(_) => false,
        }
    }

    /// A new program number.
    pub(crate) fn next_run(&mut self) -> u64 {
        self.runs += 1;
        self.runs
    }

    /// Sends `frame`. Frames are small or, for a large tool reply, read at
    /// once by the worker's reader thread, so the write does not block for
    /// long.
    pub(crate) fn send(&mut self, frame: &ToWorker) -> io::Result<()> {
        protocol::write(&mut self.stdin, frame)
    }

    /// Kills the worker and its process group.
    pub(crate) fn kill(&mut self) {
        if !self.reaped {
            let _ = rustix::process::kill_process_group(self.pid, Signal::KILL);
        }
    }

    /// How the worker ended, once it has; it is killed if it has not within
    /// a second (it closed its stdout, so it is on its way out).
    pub(crate) async fn exit_status(&mut self) -> io::Result<ExitStatus> {
        for _ in 0..100 {
            if let Some(status) = self.child().try_wait()? {
                self.reaped = true;
                return Ok(status);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.kill();
        let status = self.child().wait()?;
        self.reaped = true;
        Ok(status)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
        // Reaped here when it is already gone, else on a thread, so that
        // neither a zombie stays nor the dropping task blocks.
        if let Some(mut child) = self.child.take()
            && !self.reaped
            && !matches!(child.try_wait(), Ok(Some(_)))
        {
            let _ = std::thread::Builder::new()
                .name("code-mode-worker-reaper".into())
                .spawn(move || child.wait());
        }
    }
}

/// Sets the worker's rlimits from outside.
#[cfg(target_os = "linux")]
fn bound(pid: Pid, max_memory: usize) -> rustix::io::Result<()> {
    use rustix::process::{Resource, Rlimit, prlimit};
    let cap = |n: u64| Rlimit {
        current: Some(n),
        maximum: Some(n),
    };
    let memory = (max_memory as u64)
        .saturating_mul(2)
        .saturating_add(ADDRESS_SPACE_SLACK);
    prlimit(Some(pid), Resource::As, cap(memory))?;
    prlimit(Some(pid), Resource::Data, cap(memory))?;
    prlimit(Some(pid), Resource::Fsize, cap(0))?;
    prlimit(Some(pid), Resource::Core, cap(0))?;
    prlimit(Some(pid), Resource::Nofile, cap(MAX_FILES))?;
    Ok(())
}

/// Elsewhere the worker is bounded by its allocator alone.
#[cfg(not(target_os = "linux"))]
fn bound(_pid: Pid, _max_memory: usize) -> rustix::io::Result<()> {
    Ok(())
}

/// How a worker that died without finishing its program ended, for the
/// model: `None` when it ran out of memory (the caller names the limit).
pub(crate) fn death(status: &ExitStatus) -> Option<String> {
    if status.code() == Some(monty_types::OOM_EXIT_CODE) {
        return None;
    }
    Some(match (status.code(), status.signal()) {
        (_, Some(signal)) => format!(
            "the program was stopped: the interpreter crashed (its worker process was killed by signal {signal}{})",
            signal_name(signal)
                .map(|n| format!(", {n}"))
                .unwrap_or_default()
        ),
        (Some(code), _) => format!(
            "the program was stopped: the interpreter crashed (its worker process exited with status {code})"
        ),
        _ => "the program was stopped: the interpreter crashed".to_owned(),
    })
}

fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deaths_are_named() {
        // A wait status: the exit code in the second byte, or the signal.
        let exited = |code: i32| ExitStatus::from_raw(code << 8);
        assert_eq!(death(&exited(monty_types::OOM_EXIT_CODE)), None);
        assert_eq!(
            death(&ExitStatus::from_raw(9)).as_deref(),
            Some(
                "the program was stopped: the interpreter crashed (its worker process was killed by signal 9, SIGKILL)"
            )
        );
        assert_eq!(
            death(&exited(70)).as_deref(),
            Some(
                "the program was stopped: the interpreter crashed (its worker process exited with status 70)"
            )
        );
    }
}
