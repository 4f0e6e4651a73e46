//! The host side of an in-process program: starts it on a blocking thread,
//! runs the tool calls it makes (concurrently, through [`Toolset::call`]),
//! and sends their results back. [`Dispatcher`] starts calls for programs in
//! workers too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use monty_types::{ExcType, MontyException};
use tokio::sync::{OwnedMutexGuard, mpsc};

use super::limits::Limits;
use super::link::{Bindings, CallInFlight, Dispatcher, Ending, Link, Outcome};
use super::reply::Reply;
use super::sandbox;
use super::session::Interpreter;
use crate::tool::ToolCall;
use crate::toolset::Toolset;

/// Where a program keeps its globals.
pub(crate) enum Session {
    /// A fresh session, dropped at the end of the program.
    Fresh,
    /// A session kept between programs; the guard is held until the program
    /// ends, so programs sharing it run one after the other.
    Kept(OwnedMutexGuard<Option<Interpreter>>),
}

/// What a program needs besides its session.
pub(crate) struct Program<'a> {
    pub(crate) code: String,
    pub(crate) limits: &'a Limits,
    pub(crate) bindings: &'a Arc<Bindings>,
    /// The tools, with the state of the toolset that called `run_code`.
    pub(crate) toolset: Toolset,
    /// The `run_code` call.
    pub(crate) call: &'a ToolCall,
}

/// Runs a program to its end.
pub(crate) async fn run(program: Program<'_>, session: Session) -> Outcome {
    let started = Instant::now();
    let (call_tx, mut call_rx) = mpsc::unbounded_channel::<CallInFlight>();
    let (result_tx, result_rx) = std::sync::mpsc::channel::<(u32, Reply)>();
    let cancelled = Arc::new(AtomicBool::new(false));
    // If this future is dropped, the program stops at its next check, and
    // the tools it started see their calls cancelled.
    let _stop_program = SetOnDrop(Arc::clone(&cancelled));
    let calls_token = program.call.cancellation().child_token();
    let _cancel_calls = calls_token.clone().drop_guard();

    let mut link = Link {
        dispatcher: Dispatcher::new(program.toolset, program.call, calls_token.clone()),
        pending: call_tx,
        results: result_rx,
        cancelled,
    };
    let code = program.code;
    let limits = program.limits.clone();
    let bindings = Arc::clone(program.bindings);
    let mut sandbox = tokio::task::spawn_blocking(move || match session {
        Session::Fresh => sandbox::run(
            &mut Interpreter::new(&limits),
            &code,
            &limits,
            &bindings,
            &mut link,
        ),
        Session::Kept(mut slot) => {
            let interpreter = slot.get_or_insert_with(|| Interpreter::new(&limits));
            sandbox::run(interpreter, &code, &limits, &bindings, &mut link)
        }
    });

    let mut running = FuturesUnordered::new();
    let outcome = loop {
        tokio::select! {
            biased;
            done = &mut sandbox => break done.unwrap_or_else(|e| crashed(&e)),
            Some(call) = call_rx.recv() => running.push(call),
            Some((id, result)) = running.next(), if !running.is_empty() => {
                // The program may have ended meanwhile; then nobody listens.
                let _ = result_tx.send((id, result));
            }
        }
    };
    tracing::debug!(
        tool_calls = outcome.tool_calls,
        duration_us = started.elapsed().as_micros() as u64,
        stopped = matches!(outcome.ending, Ending::Stopped(_)),
        "program finished"
    );
    outcome
}

/// The outcome of a program whose thread panicked: an interpreter bug.
fn crashed(error: &tokio::task::JoinError) -> Outcome {
    tracing::error!(error = %error, "code mode sandbox panicked");
    Outcome {
        output: String::new(),
        ending: Ending::Raised(MontyException::new(
            ExcType::RuntimeError,
            Some(format!("internal error: the sandbox failed: {error}")),
        )),
        tool_calls: 0,
    }
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
