//! What the host side and the interpreter side of a program share: the
//! tools it may call ([`Bindings`]), how its calls reach the host
//! ([`Calls`], [`Link`], [`Dispatcher`]) and how it ended ([`Outcome`]).
//!
//! Both [`super::host`] and [`super::sandbox`] (and the worker, on either
//! side of its pipes) depend on this module and it depends on neither, so
//! the modules above it import in one direction: host, then sandbox, then
//! session.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use futures_util::FutureExt;
use monty_types::{MontyException, MontyObject};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::limits::Stop;
use super::reply::Reply;
use super::stubs::Binding;
use crate::tool::ToolCall;
use crate::toolset::Toolset;

/// The tools a program may call, by Python name.
#[derive(Debug, Default)]
pub(crate) struct Bindings(HashMap<String, Binding>);

impl Bindings {
    pub(crate) fn new(bindings: impl IntoIterator<Item = Binding>) -> Self {
        Bindings(
            bindings
                .into_iter()
                .map(|b| (b.function.clone(), b))
                .collect(),
        )
    }

    pub(crate) fn get(&self, function: &str) -> Option<&Binding> {
        self.0.get(function)
    }

    /// Every binding, in no particular order.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Binding> {
        self.0.values()
    }

    /// The Python names of the tools.
    pub(crate) fn functions(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// How the program reaches the host: in process, through channels to the
/// host's task ([`Link`]); in a worker, over its pipes.
pub(crate) trait Calls {
    /// Starts call number `seq` of the program (monty's call `id`) to `tool`;
    /// its reply if it came at once.
    ///
    /// # Errors
    ///
    /// [`Stop::Cancelled`] when the host is gone.
    fn start(
        &mut self,
        id: u32,
        seq: usize,
        tool: &str,
        input: Value,
    ) -> Result<Option<Reply>, Stop>;

    /// A reply that has come back, without waiting.
    fn try_next(&mut self) -> Option<(u32, Reply)>;

    /// The next reply, waiting until `deadline`.
    ///
    /// # Errors
    ///
    /// [`Stop::Timeout`] at the deadline; [`Stop::Cancelled`] when the host
    /// is gone.
    fn next(&mut self, deadline: Instant) -> Result<(u32, Reply), Stop>;

    /// Set when the program's result is no longer wanted.
    fn cancelled(&self) -> Arc<AtomicBool>;
}

/// How an in-process program reaches the host's task.
pub(crate) struct Link {
    /// Starts the program's tool calls.
    pub(crate) dispatcher: Dispatcher,
    /// Calls still under way, for the host to finish.
    pub(crate) pending: UnboundedSender<CallInFlight>,
    /// Their results, in the order they finish.
    pub(crate) results: Receiver<(u32, Reply)>,
    /// Set when the result is no longer wanted.
    pub(crate) cancelled: Arc<AtomicBool>,
}

impl Calls for Link {
    fn start(
        &mut self,
        id: u32,
        seq: usize,
        tool: &str,
        input: Value,
    ) -> Result<Option<Reply>, Stop> {
        let mut pending = self.dispatcher.start(id, seq, tool, input);
        // A tool that answers at once, as in-memory ones do, is answered
        // here, without a round trip through the host; the others finish
        // there.
        match pending.as_mut().now_or_never() {
            Some((_, reply)) => Ok(Some(reply)),
            None => match self.pending.send(pending) {
                Ok(()) => Ok(None),
                Err(_) => Err(Stop::Cancelled),
            },
        }
    }

    fn try_next(&mut self) -> Option<(u32, Reply)> {
        self.results.try_recv().ok()
    }

    fn next(&mut self, deadline: Instant) -> Result<(u32, Reply), Stop> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.results.recv_timeout(left) {
            Ok(reply) => Ok(reply),
            Err(RecvTimeoutError::Timeout) => Err(Stop::Timeout),
            Err(RecvTimeoutError::Disconnected) => Err(Stop::Cancelled),
        }
    }

    fn cancelled(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancelled)
    }
}

/// How a program ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// It ran to the end; the value of its last expression.
    Value(MontyObject),
    /// It raised an exception it did not catch, or did not compile.
    Raised(MontyException),
    /// The host stopped it.
    Stopped(Stop),
}

/// What a program did.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// What it printed, up to the output limit.
    pub(crate) output: String,
    /// How it ended.
    pub(crate) ending: Ending,
    /// The tool calls it made.
    pub(crate) tool_calls: usize,
}

/// A tool call under way: its monty call id, and its reply once it is done.
pub(crate) type CallInFlight = Pin<Box<dyn Future<Output = (u32, Reply)> + Send>>;

/// Starts the calls a program makes, through the toolset's own dispatch and
/// the hooks of the runner that made the `run_code` call.
pub(crate) struct Dispatcher {
    toolset: Toolset,
    /// The `run_code` call; calls from its program are numbered after it:
    /// `toolu_x#1`, `toolu_x#2`...
    parent: ToolCall,
    /// Cancelled when the program ends: calls still running see it.
    token: CancellationToken,
}

impl Dispatcher {
    /// Starts the calls of the program of `call` (the `run_code` call) on
    /// `toolset`; `token` is cancelled when the program ends.
    pub(crate) fn new(toolset: Toolset, call: &ToolCall, token: CancellationToken) -> Self {
        Dispatcher {
            toolset,
            parent: call.clone(),
            token,
        }
    }

    /// Starts call number `seq` of the program, monty's call `id`.
    pub(crate) fn start(&self, id: u32, seq: usize, tool: &str, input: Value) -> CallInFlight {
        let call = self.parent.program_call(seq, self.token.child_token());
        let span =
            tracing::debug_span!("tool_call", tool = %tool, id = %call.id(), caller = "code mode");
        let running = call.run_on(&self.toolset, tool, input);
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
