//! The host side of an in-process program: starts it on a blocking thread,
//! runs the tool calls it makes (concurrently, through [`Toolset::call`]),
//! and sends their results back. [`Dispatcher`] starts calls for programs in
//! workers too.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use monty_types::{ExcType, MontyException};
use serde_json::Value;
use tokio::sync::{OwnedMutexGuard, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::limits::Limits;
use super::reply::Reply;
use super::sandbox::{self, Bindings, Ending, Link, Outcome};
use super::session::Interpreter;
use crate::tool::{Caller, ToolCall};
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

/// A tool call under way: its monty call id, and its reply once it is done.
pub(crate) type CallInFlight = Pin<Box<dyn Future<Output = (u32, Reply)> + Send>>;

/// Starts the calls a program makes, through the toolset's own dispatch.
pub(crate) struct Dispatcher {
    toolset: Toolset,
    /// The id of the `run_code` call; calls from its program are numbered
    /// after it: `toolu_x#1`, `toolu_x#2`...
    parent: String,
    /// Cancelled when the program ends: calls still running see it.
    token: CancellationToken,
}

impl Dispatcher {
    /// Starts the calls of the program of `call` (the `run_code` call) on
    /// `toolset`; `token` is cancelled when the program ends.
    pub(crate) fn new(toolset: Toolset, call: &ToolCall, token: CancellationToken) -> Self {
        Dispatcher {
            toolset,
            parent: call.id().to_owned(),
            token,
        }
    }

    /// Starts call number `seq` of the program, monty's call `id`.
    pub(crate) fn start(&self, id: u32, seq: usize, tool: &str, input: Value) -> CallInFlight {
        let call_id = format!("{}#{seq}", self.parent);
        let span =
            tracing::debug_span!("tool_call", tool = %tool, id = %call_id, caller = "code mode");
        let call = ToolCall::new(call_id)
            .with_caller(Caller::CodeMode)
            .with_cancellation(self.token.child_token());
        let running = self.toolset.call(tool, input, call);
        let tool = tool.to_owned();
        Box::pin(
            async move {
                let output = running.await;
                if output.is_error {
                    tracing::debug!(error = %output, "tool call failed");
                }
                (id, Reply::from_output(&tool, output))
            }
            .instrument(span),
        )
    }
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
