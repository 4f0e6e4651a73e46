//! The tools a code-mode toolset holds: `run_code` itself, and the direct
//! face of tools callable both directly and from code.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tracing::Instrument;

use super::host::{self, Program, Session};
use super::limits::Limits;
use super::link::Bindings;
use super::report;
use super::session::Interpreter;
use super::worker::{self, Pool, Process};
use crate::tool::{Tool, ToolContext, ToolDefinition, ToolFuture, ToolOutput};
use crate::toolset::Toolset;

/// The `run_code` tool.
pub(crate) struct RunCode {
    pub(crate) definition: ToolDefinition,
    pub(crate) shared: Arc<Shared>,
}

/// What every `run_code` call shares.
pub(crate) struct Shared {
    /// The toolset the program's calls go to (all of the wrapped toolset;
    /// `bindings` decides which tools code can reach).
    pub(crate) toolset: Toolset,
    pub(crate) bindings: Arc<Bindings>,
    pub(crate) limits: Limits,
    pub(crate) engine: Engine,
}

/// Where programs run, and the session kept between programs when state
/// persists.
pub(crate) enum Engine {
    /// In this process.
    InProcess {
        session: Option<Arc<Mutex<Option<Interpreter>>>>,
    },
    /// In workers from `pool`; a persistent session has a worker of its own.
    Worker {
        pool: Arc<Pool>,
        session: Option<Arc<Mutex<Option<Process>>>>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    code: String,
}

impl Tool for RunCode {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, input: Value, cx: ToolContext) -> ToolFuture<'a> {
        let shared = Arc::clone(&self.shared);
        let span = tracing::info_span!("run_code", id = %cx.call().id());
        Box::pin(
            async move {
                // Running a program is waiting for its calls, which take
                // slots of the runner's bound of their own: this call gives
                // its slot back first, before it waits for a session or a
                // worker too, so that programs cannot hold every slot while
                // their calls wait for one.
                cx.call().leave_slot();
                let code = match serde_json::from_value::<Input>(input) {
                    Ok(input) => input.code,
                    Err(e) => {
                        return ToolOutput::error(format!(
                            "invalid input for tool `{}`: {e}",
                            cx.tool_name()
                        ));
                    }
                };
                // The program's calls see the state of the toolset that
                // called `run_code`, including state given after wrapping.
                let toolset = if Arc::ptr_eq(shared.toolset.state_map(), cx.state_map()) {
                    shared.toolset.clone()
                } else {
                    shared
                        .toolset
                        .clone()
                        .with_state_map(Arc::clone(cx.state_map()))
                };
                let program = Program {
                    code,
                    limits: &shared.limits,
                    bindings: &shared.bindings,
                    toolset,
                    call: cx.call(),
                };
                match &shared.engine {
                    Engine::InProcess { session } => {
                        let session = match session {
                            Some(slot) => Session::Kept(Arc::clone(slot).lock_owned().await),
                            None => Session::Fresh,
                        };
                        let outcome = host::run(program, session).await;
                        report::render(&outcome, &shared.limits)
                    }
                    Engine::Worker { pool, session } => {
                        let session = match session {
                            Some(slot) => {
                                worker::Session::Kept(Arc::clone(slot).lock_owned().await)
                            }
                            None => worker::Session::Fresh,
                        };
                        worker::run(program, pool, session).await
                    }
                }
            }
            .instrument(span),
        )
    }
}

/// The input schema of `run_code`.
pub(crate) fn input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "code": {
                "type": "string",
                "description": "The Python program. Top-level `await` works; the value of the last expression is returned."
            }
        },
        "required": ["code"],
        "additionalProperties": false
    })
}

/// A tool callable both directly and from code, as the model sees it
/// directly: the same tool, with no code callers, so that the runner does not
/// add the API's code-execution tool for it.
pub(crate) struct DirectOnly {
    definition: ToolDefinition,
    tool: Arc<dyn Tool>,
}

impl DirectOnly {
    pub(crate) fn new(tool: Arc<dyn Tool>) -> Self {
        let mut definition = tool.definition().clone();
        // Left out, the field means "direct" only.
        definition.allowed_callers = None;
        DirectOnly { definition, tool }
    }
}

impl Tool for DirectOnly {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, input: Value, cx: ToolContext) -> ToolFuture<'a> {
        self.tool.call(input, cx)
    }
}
