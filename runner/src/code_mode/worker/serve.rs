//! The worker's side: the loop a worker process runs, serving programs for
//! its host over stdin and stdout until stdin closes.
//!
//! A thread reads frames from stdin, so that the interpreter can wait for a
//! tool's reply with a deadline; the main thread runs the interpreter and
//! writes frames to stdout. Nothing else writes to stdout.

use std::io::{self, BufWriter, Stdout, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::time::Instant;

use serde_json::Value;

use super::super::limits::{Limits, Stop};
use super::super::link::{Bindings, Calls, Outcome};
use super::super::reply::Reply;
use super::super::report;
use super::super::sandbox;
use super::super::session::Interpreter;
use super::protocol::{self, FromWorker, ToWorker, VERSION};

/// The largest frame a worker reads: programs and tool replies. The host
/// is trusted; this only keeps a corrupt length from asking for 4 GiB.
const MAX_FRAME: usize = 1 << 30;

/// Exit status of a worker that could not start serving.
const REFUSED: u8 = 3;
/// Exit status of a worker whose interpreter panicked.
const PANICKED: u8 = 70;

/// Serves programs on stdin and stdout until stdin closes. See
/// [`worker_main`](super::super::worker_main).
pub(crate) fn serve() -> u8 {
    let mut out = BufWriter::new(io::stdout());
    // A worker whose memory is not counted would run programs unbounded:
    // refuse, and say what is missing.
    if monty_alloc::set_limit(None, false).is_err() {
        return refuse(
            &mut out,
            "this worker's global allocator is not monty's, so it cannot bound a program's memory: \
             build it with `toolrunner::code_mode_worker!()`, or make `toolrunner::code_mode::WorkerAllocator` \
             its global allocator",
        );
    }
    let inbox = spawn_reader();
    let (bindings, limits) = match inbox.recv() {
        Ok(ToWorker::Setup {
            version,
            bindings,
            limits,
        }) => {
            if version != VERSION {
                return refuse(
                    &mut out,
                    &format!("this worker is toolrunner {VERSION}, its host toolrunner {version}"),
                );
            }
            (Bindings::new(bindings), Limits::from(limits))
        }
        Ok(other) => return refuse(&mut out, &format!("expected a setup frame, got {other:?}")),
        // The host went away before sending anything.
        Err(_) => return 0,
    };
    if protocol::write(&mut out, &FromWorker::Ready).is_err() {
        return 0;
    }

    let mut kept: Option<Interpreter> = None;
    loop {
        let (run, code, fresh) = match inbox.recv() {
            Ok(ToWorker::Run { run, code, fresh }) => (run, code, fresh),
            // A late reply to a program that has ended.
            Ok(ToWorker::Reply { .. }) => continue,
            Ok(ToWorker::Setup { .. }) => return refuse(&mut out, "a second setup frame"),
            Err(_) => return 0,
        };
        if fresh {
            // Dropped before the limit is armed, so that the baseline the
            // allocator measures from is the bare worker.
            kept = None;
        }
        // Re-armed for every program: monty-alloc measures from the leanest
        // moment it has seen.
        let _ = monty_alloc::set_limit(Some(limits.max_memory), false);
        let interpreter = kept.get_or_insert_with(|| Interpreter::in_worker(&limits));
        let mut calls = PipeCalls {
            run,
            out: &mut out,
            inbox: &inbox,
            cancelled: Arc::new(AtomicBool::new(false)),
        };
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            sandbox::run(interpreter, &code, &limits, &bindings, &mut calls)
        }));
        let (text, is_error, tool_calls, retire) = finish(ran, &limits);
        let done = FromWorker::Done {
            run,
            text,
            is_error,
            tool_calls: tool_calls as u64,
            retire,
        };
        if protocol::write(&mut out, &done).is_err() || retire {
            return if retire { PANICKED } else { 0 };
        }
        if fresh {
            kept = None;
        }
    }
}

/// What the host is told of a program that ran (or panicked): the result's
/// text, whether it is an error, the tool calls made, and whether this
/// worker must retire. A panic leaves the interpreter in an unknown state,
/// so the worker that caught it serves no other program.
fn finish(ran: std::thread::Result<Outcome>, limits: &Limits) -> (String, bool, usize, bool) {
    match ran {
        Ok(outcome) => {
            let output = report::render(&outcome, limits);
            (
                output.text_content(),
                output.is_error,
                outcome.tool_calls,
                false,
            )
        }
        Err(panic) => {
            let message = crate::toolset::panic_message(panic.as_ref());
            let text = format!(
                "Error: the program was stopped: the interpreter crashed (it panicked: {message})"
            );
            (text, true, 0, true)
        }
    }
}

/// Tells the host why this worker cannot serve, and exits.
fn refuse(out: &mut impl Write, why: &str) -> u8 {
    let _ = protocol::write(out, &FromWorker::Refused(why.to_owned()));
    REFUSED
}

/// Reads frames from stdin on a thread of their own. When stdin closes the
/// host is gone (it never closes it otherwise), so the worker exits at once,
/// even in the middle of a program: no orphan outlives its host by more
/// than a read.
fn spawn_reader() -> Receiver<ToWorker> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        while let Ok(Some(frame)) = protocol::read::<ToWorker>(&mut stdin, MAX_FRAME) {
            if tx.send(frame).is_err() {
                break;
            }
        }
        std::process::exit(0);
    });
    rx
}

/// How a program in the worker reaches the host: over the pipes.
struct PipeCalls<'a> {
    run: u64,
    out: &'a mut BufWriter<Stdout>,
    inbox: &'a Receiver<ToWorker>,
    /// Never set: a host that no longer wants the result kills the worker.
    cancelled: Arc<AtomicBool>,
}

impl PipeCalls<'_> {
    /// The reply in `frame`, if it is one for this program.
    fn reply(&self, frame: ToWorker) -> Option<(u32, Reply)> {
        match frame {
            ToWorker::Reply { run, id, reply } if run == self.run => Some((id, reply)),
            _ => None,
        }
    }
}

impl Calls for PipeCalls<'_> {
    fn start(
        &mut self,
        id: u32,
        seq: usize,
        tool: &str,
        input: Value,
    ) -> Result<Option<Reply>, Stop> {
        let call = FromWorker::Call {
            run: self.run,
            id,
            seq: seq as u64,
            tool: tool.to_owned(),
            input: input.to_string(),
        };
        match protocol::write(self.out, &call) {
            Ok(()) => Ok(None),
            Err(_) => Err(Stop::Cancelled),
        }
    }

    fn try_next(&mut self) -> Option<(u32, Reply)> {
        loop {
            match self.inbox.try_recv() {
                Ok(frame) => {
                    if let Some(reply) = self.reply(frame) {
                        return Some(reply);
                    }
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return None,
            }
        }
    }

    fn next(&mut self, deadline: Instant) -> Result<(u32, Reply), Stop> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.inbox.recv_timeout(left) {
                Ok(frame) => {
                    if let Some(reply) = self.reply(frame) {
                        return Ok(reply);
                    }
                }
                Err(RecvTimeoutError::Timeout) => return Err(Stop::Timeout),
                Err(RecvTimeoutError::Disconnected) => return Err(Stop::Cancelled),
            }
        }
    }

    fn cancelled(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancelled)
    }
}

#[cfg(test)]
mod tests {
    use monty_types::MontyObject;

    use super::super::super::link::Ending;
    use super::*;

    #[test]
    fn a_panic_ends_the_program_and_retires_the_worker() {
        let limits = Limits::default();
        let panicked = panic::catch_unwind(|| -> Outcome { panic!("index out of bounds") });
        assert_eq!(
            finish(panicked, &limits),
            (
                "Error: the program was stopped: the interpreter crashed (it panicked: index out of bounds)"
                    .to_owned(),
                true,
                0,
                true
            )
        );
        let ran = Ok(Outcome {
            output: String::new(),
            ending: Ending::Value(MontyObject::Int(1)),
            tool_calls: 2,
        });
        assert_eq!(
            finish(ran, &limits),
            ("Last expression (JSON):\n1".to_owned(), false, 2, false)
        );
    }
}
