//! The host's side of one program in a worker: sends the program, runs the
//! tool calls it makes (concurrently, through [`Toolset::call`] as in
//! process), sends their replies back, and watches the clock. A worker that
//! dies, hangs or breaks the protocol ends the program with an error result
//! naming what happened; the host carries on.
//!
//! [`Toolset::call`]: crate::Toolset::call

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::Value;
use tokio::sync::OwnedMutexGuard;

use super::super::host::Program;
use super::super::limits::Stop;
use super::super::link::Dispatcher;
use super::pool::Pool;
use super::process::{self, Process};
use super::protocol::{FromWorker, ToWorker};
use crate::tool::ToolOutput;

/// How long past its time limit a program's worker gets to stop it before
/// the host kills it: the worker checks its clock every few hundred
/// instructions, and a single long operation can run past a check.
const GRACE: Duration = Duration::from_secs(1);

/// The note on the result of a persistent session's program whose worker
/// ended.
const LOST_STATE: &str =
    "(The variables of earlier programs were lost with it: the next program starts afresh.)";

/// Where a program in a worker keeps its globals.
pub(crate) enum Session {
    /// A worker from the pool, which starts the program afresh.
    Fresh,
    /// The worker of a persistent session, holding its interpreter; the
    /// guard is held until the program ends, so programs sharing it run one
    /// after the other. `None` until the first program, and after a worker
    /// died.
    Kept(OwnedMutexGuard<Option<Process>>),
}

/// Runs a program in a worker of `pool` to its end.
pub(crate) async fn run(program: Program<'_>, pool: &Pool, session: Session) -> ToolOutput {
    match session {
        Session::Fresh => {
            let mut process = match pool.take() {
                Ok(process) => process,
                Err(e) => return spawn_failed(pool, &e),
            };
            match converse(&program, &mut process, true).await {
                Ok((output, retire)) => {
                    if !retire {
                        pool.put(process);
                    }
                    output
                }
                Err(failure) => failure.into_output(&program, pool, process, false).await,
            }
        }
        Session::Kept(mut slot) => {
            // Out of the slot while it runs: if this future is dropped
            // mid-program, so is the worker, which kills it.
            // A pooled worker holds no interpreter between programs, so a
            // warm one can start a session.
            let (mut process, had_state) = match slot.take() {
                Some(process) => (process, true),
                None => match pool.take() {
                    Ok(process) => (process, false),
                    Err(e) => return spawn_failed(pool, &e),
                },
            };
            match converse(&program, &mut process, false).await {
                Ok((output, false)) => {
                    *slot = Some(process);
                    output
                }
                Ok((output, true)) => {
                    ToolOutput::error(format!("{}\n{LOST_STATE}", output.text_content()))
                }
                Err(failure) => {
                    failure
                        .into_output(&program, pool, process, had_state)
                        .await
                }
            }
        }
    }
}

/// Why a program in a worker did not finish.
enum Failure {
    /// The worker's stdout closed: it exited or was killed.
    Died,
    /// It ran past its time limit and the grace after it.
    Hung,
    /// It cannot run programs, and said why.
    Refused(String),
    /// It sent what it must not.
    Protocol(String),
}

impl Failure {
    /// The result for the model; `process` is dropped, which kills it.
    async fn into_output(
        self,
        program: &Program<'_>,
        pool: &Pool,
        mut process: Process,
        lost_state: bool,
    ) -> ToolOutput {
        let limits = program.limits;
        let message = match self {
            Failure::Died if !process.ready => {
                let status = process
                    .exit_status()
                    .await
                    .map_or_else(|e| e.to_string(), |s| s.to_string());
                tracing::error!(worker = %pool.path().display(), %status, "code mode worker failed to start");
                return ToolOutput::error(format!(
                    "code mode's worker `{}` ended before it was ready ({status}): is it a code-mode worker of this version?",
                    pool.path().display()
                ));
            }
            Failure::Died => match process.exit_status().await {
                Ok(status) => {
                    tracing::warn!(%status, pid = process.id(), "code mode worker died");
                    process::death(&status).unwrap_or_else(|| Stop::Memory.message(limits))
                }
                Err(e) => format!("the program was stopped: its worker process was lost: {e}"),
            },
            Failure::Hung => {
                tracing::warn!(pid = process.id(), "code mode worker did not stop; killed");
                process.kill();
                Stop::Timeout.message(limits)
            }
            Failure::Refused(why) => {
                tracing::error!(worker = %pool.path().display(), %why, "code mode worker refused");
                return ToolOutput::error(format!(
                    "code mode's worker `{}` cannot run programs: {why}",
                    pool.path().display()
                ));
            }
            Failure::Protocol(why) => {
                tracing::error!(pid = process.id(), %why, "code mode worker broke the protocol");
                format!(
                    "the program was stopped: its worker process misbehaved ({why}) and was killed"
                )
            }
        };
        if lost_state {
            ToolOutput::error(format!("Error: {message}\n{LOST_STATE}"))
        } else {
            ToolOutput::error(format!("Error: {message}"))
        }
    }
}

fn spawn_failed(pool: &Pool, e: &std::io::Error) -> ToolOutput {
    tracing::error!(worker = %pool.path().display(), error = %e, "cannot start code mode worker");
    ToolOutput::error(format!(
        "code mode could not start its worker `{}`: {e}",
        pool.path().display()
    ))
}

/// Runs one program in `process`: its result, and whether the worker must
/// retire after it.
async fn converse(
    program: &Program<'_>,
    process: &mut Process,
    fresh: bool,
) -> Result<(ToolOutput, bool), Failure> {
    let run = process.next_run();
    let start = ToWorker::Run {
        run,
        code: program.code.clone(),
        fresh,
    };
    // A worker that is gone fails this write; what it said before it went
    // (a refusal, say) and its closed stdout are read below.
    let _ = process.send(&start);
    // Calls still running when the program ends see their calls cancelled.
    let token = program.call.cancellation().child_token();
    let _cancel_calls = token.clone().drop_guard();
    let dispatcher = Dispatcher::new(program.toolset.clone(), program.call, token);
    let deadline = tokio::time::Instant::now() + program.limits.timeout + GRACE;
    let mut running = FuturesUnordered::new();
    let mut calls = 0usize;
    loop {
        tokio::select! {
            biased;
            frame = process.inbox.recv() => match frame {
                None => return Err(Failure::Died),
                Some(FromWorker::Ready) => process.ready = true,
                Some(FromWorker::Refused(why)) => return Err(Failure::Refused(why)),
                Some(FromWorker::Call { run: of, id, seq, tool, input }) if of == run => {
                    // The worker counts too; this holds a worker whose
                    // interpreter was subverted to the same limit.
                    calls += 1;
                    if calls > program.limits.max_tool_calls {
                        return Err(Failure::Protocol(format!(
                            "it made more than {} tool calls",
                            program.limits.max_tool_calls
                        )));
                    }
                    let input: Value = serde_json::from_str(&input).map_err(|e| {
                        Failure::Protocol(format!("tool input that is not JSON: {e}"))
                    })?;
                    let seq = usize::try_from(seq).unwrap_or(usize::MAX);
                    running.push(dispatcher.start(id, seq, &tool, input));
                }
                Some(FromWorker::Done { run: of, text, is_error, tool_calls, retire }) if of == run => {
                    tracing::debug!(tool_calls, is_error, "program finished in worker");
                    let output = if is_error { ToolOutput::error(text) } else { ToolOutput::text(text) };
                    return Ok((output, retire));
                }
                Some(other) => {
                    return Err(Failure::Protocol(format!("an unexpected frame: {}", frame_name(&other))));
                }
            },
            Some((id, reply)) = running.next(), if !running.is_empty() => {
                // A worker that is gone closes its stdout; that ends the loop.
                let _ = process.send(&ToWorker::Reply { run, id, reply });
            }
            () = tokio::time::sleep_until(deadline) => return Err(Failure::Hung),
        }
    }
}

fn frame_name(frame: &FromWorker) -> &'static str {
    match frame {
        FromWorker::Ready => "ready",
        FromWorker::Refused(_) => "refused",
        FromWorker::Call { .. } => "a call of another program",
        FromWorker::Done { .. } => "the end of another program",
    }
}
