//! Durable runs on [Restate](https://restate.dev): an agent served as a
//! Restate workflow whose every model request and tool call is a journaled
//! step (feature `restate`).
//!
//! An [`Agent`] (a client, a function that builds the parameters from the
//! run's input, and a toolset) becomes a Restate workflow: bind it to a
//! [`sdk::endpoint::Endpoint`], serve that, and register it with the Restate
//! server. Each run is one workflow instance, keyed by the run id you choose.
//!
//! The runner's loop drives the same lifecycle as [`ToolRunner`](crate::ToolRunner),
//! and each of its actions is one step of Restate's journal:
//!
//! - a model request is a `ctx.run` whose journaled result is the reply;
//! - a tool call is a `ctx.run` whose journaled result is its `tool_result`
//!   block (a before-call hook's decision is a step of its own);
//! - a call the hook defers ([`Decision::Defer`](crate::Decision::Defer))
//!   waits on a durable promise that a human resolves through the ingress,
//!   however much later: see [`Approval`].
//!
//! When the process serving the endpoint dies, or is redeployed, Restate
//! runs the workflow again elsewhere and replays its journal: the loop is
//! rebuilt from the journaled replies and results, so no answered request
//! is sent again and no finished call runs again.
//!
//! What can happen twice, and why: a step whose result was not yet in the
//! journal when the process died. A model request in flight is sent again
//! (and paid for again); a tool call in flight runs again, so a tool with
//! side effects should deduplicate on its `tool_use` id
//! ([`ToolCall::id`](crate::ToolCall::id)), which is the same on every try.
//! Calls run one after another, so at most one call per run is ever in flight.
//!
//! A step that takes longer than Restate's inactivity and abort timeouts
//! together (1 and 10 minutes by default) is interrupted and tried again:
//! for slow tools or long model replies, raise them with the
//! [`ServiceOptions`](sdk::endpoint::ServiceOptions) shown on [`Agent`].
//!
//! # The workflow's handlers
//!
//! With `NAME` the agent's name and `RUN` the run id, through the ingress
//! (port 8080 by default):
//!
//! - `POST /NAME/RUN/run` starts the run with the JSON body as its input and
//!   answers with the model's last message (`/run/send` starts it without
//!   waiting; `GET /restate/workflow/NAME/RUN/output` waits for it later);
//! - `POST /NAME/RUN/pending` lists the calls awaiting approval
//!   ([`PendingApproval`]);
//! - `POST /NAME/RUN/decide` with an [`ApprovalRequest`] approves or denies one.
//!
//! # Examples
//!
//! ```no_run
//! use toolrunner::restate::{Agent, sdk};
//! use toolrunner::{tool, toolset, Client, MessageParams};
//!
//! /// Add two integers.
//! #[tool]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! # async fn run() -> Result<(), toolrunner::Error> {
//! let agent = Agent::new("Calculator", Client::from_env()?, toolset![add], |input| {
//!     let question = input["question"].as_str().ok_or("the input needs a `question`")?;
//!     Ok(MessageParams::new(toolrunner::models::CURRENT, 1024).user(question))
//! })?;
//! let endpoint = sdk::endpoint::Endpoint::builder().bind(agent).build();
//! sdk::http_server::HttpServer::new(endpoint)
//!     .listen_and_serve("127.0.0.1:9080".parse().unwrap())
//!     .await;
//! # Ok(()) }
//! ```
//!
//! Then register the endpoint (`restate deployments register
//! http://localhost:9080`, or `POST /deployments` on the admin API) and
//! start a run: `curl localhost:8080/Calculator/run-1/run --json
//! '{"question": "What is 2 + 40?"}'`.

mod payload;
mod run;
mod service;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use restate_sdk as sdk;

use crate::client::Client;
use crate::error::Error;
use crate::runner::{
    AfterToolCall, BeforeToolCall, DEFAULT_MAX_ITERATIONS, DEFAULT_TOOL_CONCURRENCY,
};
use crate::toolset::Toolset;
use crate::types::MessageParams;

/// Builds a run's parameters from the JSON the run was started with.
type ParamsFn = dyn Fn(&Value) -> Result<MessageParams, String> + Send + Sync;

/// An agent to serve as a Restate workflow: a client, the parameters of
/// each run (built from the run's input) and the tools it may call.
///
/// Bind it to an endpoint with
/// [`Endpoint::builder().bind(agent)`](sdk::endpoint::Builder::bind); to
/// set Restate's options (timeouts, retention, retries), turn it into a
/// definition first:
///
/// ```no_run
/// # use std::time::Duration;
/// # use toolrunner::restate::{Agent, sdk};
/// # use sdk::service::IntoServiceDefinition;
/// # fn f(agent: Agent) {
/// let options = sdk::endpoint::ServiceOptions::new().inactivity_timeout(Duration::from_secs(300));
/// let endpoint = sdk::endpoint::Endpoint::builder()
///     .bind(agent.into_service_definition().options(options))
///     .build();
/// # }
/// ```
#[must_use]
#[derive(Clone)]
pub struct Agent {
    inner: Arc<AgentConfig>,
}

/// What an [`Agent`] runs with.
#[derive(Clone)]
pub(crate) struct AgentConfig {
    pub(crate) name: String,
    pub(crate) service_name: sdk::discovery::ServiceName,
    pub(crate) client: Client,
    pub(crate) toolset: Toolset,
    pub(crate) params: Arc<ParamsFn>,
    pub(crate) before: Option<Arc<dyn BeforeToolCall>>,
    pub(crate) after: Option<Arc<dyn AfterToolCall>>,
    pub(crate) max_iterations: usize,
    pub(crate) message_threads: bool,
    pub(crate) tool_concurrency: usize,
}

impl Agent {
    /// An agent served under `name` (the workflow's name in Restate) that
    /// sends requests with `client` and runs the tools of `toolset`.
    ///
    /// `params` builds a run's parameters from the JSON body the run was
    /// started with; an `Err` fails the run with its message (status 400).
    /// It is called again whenever Restate replays the run, so it must
    /// build the same parameters from the same input: read the clock or
    /// draw random numbers in a tool, not here.
    ///
    /// ```
    /// use toolrunner::restate::Agent;
    /// use toolrunner::{toolset, Client, MessageParams};
    ///
    /// let client = Client::builder().api_key("sk-test").build().unwrap();
    /// let agent = Agent::new("Helper", client, toolset![], |input| {
    ///     let prompt = input.as_str().ok_or("the input must be a string")?;
    ///     Ok(MessageParams::new("claude-sonnet-4-5", 1024).user(prompt))
    /// });
    /// assert!(agent.is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// A configuration error ([`Error::is_config`]) when `name` is not a
    /// valid Restate service name (letters, digits and `_`, not starting
    /// with a digit).
    pub fn new(
        name: impl Into<String>,
        client: Client,
        toolset: Toolset,
        params: impl Fn(&Value) -> Result<MessageParams, String> + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        let name = name.into();
        let service_name = service::service_name(&name)?;
        Ok(Agent {
            inner: Arc::new(AgentConfig {
                name,
                service_name,
                client,
                toolset,
                params: Arc::new(params),
                before: None,
                after: None,
                max_iterations: DEFAULT_MAX_ITERATIONS,
                message_threads: true,
                tool_concurrency: DEFAULT_TOOL_CONCURRENCY,
            }),
        })
    }

    /// The workflow's name in Restate.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Runs `hook` before each tool call, as
    /// [`ToolRunner::before_tool_call`](crate::ToolRunner::before_tool_call)
    /// does; its decision is journaled, so it is asked once per call. A
    /// call it answers with [`Decision::Defer`](crate::Decision::Defer)
    /// waits for a human: see [`Approval`].
    ///
    /// ```
    /// # use toolrunner::restate::Agent;
    /// # use toolrunner::{Decision, PendingCall};
    /// # fn f(agent: Agent) -> Agent {
    /// agent.before_tool_call(|call: PendingCall| async move {
    ///     if call.name == "send_email" { Decision::Defer } else { Decision::Allow }
    /// })
    /// # }
    /// ```
    pub fn before_tool_call(self, hook: impl BeforeToolCall) -> Self {
        self.with(|config| config.before = Some(Arc::new(hook)))
    }

    /// Runs `hook` after each tool call that ran, inside the call's
    /// journaled step: what it returns is the journaled result.
    pub fn after_tool_call(self, hook: impl AfterToolCall) -> Self {
        self.with(|config| config.after = Some(Arc::new(hook)))
    }

    /// Sets the most requests a run sends (default [`DEFAULT_MAX_ITERATIONS`]);
    /// a run that reaches it fails with a terminal error.
    pub fn max_iterations(self, max: usize) -> Self {
        self.with(|config| config.max_iterations = max)
    }

    /// Whether requests use message threads, as
    /// [`ToolRunner::message_threads`](crate::ToolRunner::message_threads)
    /// (on by default).
    pub fn message_threads(self, enabled: bool) -> Self {
        self.with(|config| config.message_threads = enabled)
    }

    /// Sets how many calls a code-mode program makes at once (default
    /// [`DEFAULT_TOOL_CONCURRENCY`]; at least 1), as
    /// [`ToolRunner::tool_concurrency`](crate::ToolRunner::tool_concurrency)
    /// bounds a runner's.
    ///
    /// The model's own calls need no bound here: a turn's calls run one at
    /// a time, each a journaled step. A program's calls run inside the
    /// step of the `run_code` call that runs it, and as many at once as
    /// this allows.
    ///
    /// ```
    /// # use toolrunner::restate::Agent;
    /// # fn f(agent: Agent) -> Agent {
    /// // A program's calls reach a rate-limited API two at a time.
    /// agent.tool_concurrency(2)
    /// # }
    /// ```
    pub fn tool_concurrency(self, n: usize) -> Self {
        self.with(|config| config.tool_concurrency = n.max(1))
    }

    fn with(mut self, change: impl FnOnce(&mut AgentConfig)) -> Self {
        change(Arc::make_mut(&mut self.inner));
        self
    }
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("name", &self.inner.name)
            .field("toolset", &self.inner.toolset)
            .field("max_iterations", &self.inner.max_iterations)
            .field("tool_concurrency", &self.inner.tool_concurrency)
            .finish_non_exhaustive()
    }
}

/// A human's answer to a deferred call.
///
/// In JSON: `{"decision": "approve"}` or `{"decision": "deny", "message":
/// "..."}`. An approved call runs with the input the model wrote; a denied
/// one is answered with `message` as an `is_error` result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Approval {
    /// Run the call.
    Approve,
    /// Do not run it; the model sees `message`.
    Deny {
        /// What the model is told.
        message: String,
    },
}

/// The body of the workflow's `decide` handler: which call, and the answer.
///
/// A call takes the first answer it is given; a later one is ignored, or
/// refused with status 404 once the call no longer waits. So is an answer
/// for a call that does not wait for one.
///
/// ```
/// use toolrunner::restate::{Approval, ApprovalRequest};
///
/// let body = serde_json::json!({"call_id": "toolu_1", "decision": "deny", "message": "not today"});
/// let request: ApprovalRequest = serde_json::from_value(body).unwrap();
/// assert_eq!(request.approval, Approval::Deny { message: "not today".into() });
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApprovalRequest {
    /// The `tool_use` id of the deferred call.
    pub call_id: String,
    /// The answer.
    #[serde(flatten)]
    pub approval: Approval,
}

impl ApprovalRequest {
    /// Approves the call `call_id`.
    pub fn approve(call_id: impl Into<String>) -> Self {
        ApprovalRequest {
            call_id: call_id.into(),
            approval: Approval::Approve,
        }
    }

    /// Denies the call `call_id`, telling the model `message`.
    pub fn deny(call_id: impl Into<String>, message: impl Into<String>) -> Self {
        ApprovalRequest {
            call_id: call_id.into(),
            approval: Approval::Deny {
                message: message.into(),
            },
        }
    }
}

/// A call waiting for a human, as the workflow's `pending` handler lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingApproval {
    /// The `tool_use` id, to name in an [`ApprovalRequest`].
    pub call_id: String,
    /// The tool's name.
    pub name: String,
    /// The input the model wrote.
    pub input: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder().api_key("test").build().unwrap()
    }

    fn params(_: &Value) -> Result<MessageParams, String> {
        Ok(MessageParams::new("m", 1))
    }

    #[test]
    fn an_agent_needs_a_name_restate_accepts() {
        let agent = Agent::new("Agent_1", client(), Toolset::new(), params).unwrap();
        assert_eq!(agent.name(), "Agent_1");
        for bad in ["", "has space", "a/b"] {
            let error = Agent::new(bad, client(), Toolset::new(), params).unwrap_err();
            assert!(error.is_config(), "{bad:?}: {error}");
            assert!(
                error.to_string().contains("cannot name a Restate service"),
                "{error}"
            );
        }
    }

    #[test]
    fn approvals_read_as_documented() {
        let approve: ApprovalRequest = serde_json::from_value(
            serde_json::json!({"call_id": "toolu_1", "decision": "approve"}),
        )
        .unwrap();
        assert_eq!(approve, ApprovalRequest::approve("toolu_1"));
        let deny = ApprovalRequest::deny("toolu_2", "no");
        assert_eq!(
            serde_json::to_value(&deny).unwrap(),
            serde_json::json!({"call_id": "toolu_2", "decision": "deny", "message": "no"})
        );
        let unknown = serde_json::from_value::<ApprovalRequest>(
            serde_json::json!({"call_id": "toolu_1", "decision": "maybe"}),
        );
        assert!(unknown.is_err());
    }
}
