//! What a tool knows about the call it is serving: [`ToolCall`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::slots::{Slot, Slots};
use super::{AuthInfo, ToolOutput};
use crate::toolset::Toolset;

// `Caller` is read off the wire, so it lives with the wire types; tools see
// it through `ToolCall`.
pub use crate::types::Caller;

/// The call a tool is serving: the `tool_use` id, who made the call, a
/// cancellation token, and, for calls from authenticated MCP clients, who
/// they are ([`auth`](Self::auth)).
///
/// Add a `ToolCall` parameter to a `#[tool]` function to receive it; it is
/// filled in by the toolset and never appears in the tool's input schema.
///
/// ```
/// use toolrunner::{tool, ToolCall};
///
/// /// Report who called.
/// #[tool(allowed_callers = ["direct", "code"])]
/// fn whoami(call: ToolCall) -> String {
///     format!("{} from {}", call.id(), call.caller())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct ToolCall {
    id: String,
    caller: Caller,
    /// Made on first use: most tools never look at it, and a token costs an
    /// allocation and a lock on every call.
    cancellation: OnceLock<CancellationToken>,
    /// Shared: every call of one HTTP request carries the same identity.
    auth: Option<Arc<AuthInfo>>,
    /// Set by a runner that checkpoints: `<run id>:<tool_use id>`, and
    /// `#<n>` after it for a call from a program.
    idempotency_key: Option<Arc<str>>,
    /// Set by a runner with hooks: the calls a program run by this call
    /// makes go through it, so that wrapping a call in code escapes no hook.
    gate: Option<Arc<dyn CallGate>>,
    /// Set by a runner: its bound on tools running at once, which this
    /// call's tool, and the calls of a program it runs, take slots of.
    slot: Option<Arc<Slot>>,
}

/// What runs the calls a program makes on behalf of the call that runs it
/// (code mode's `run_code`): the runner's hooks, which every call it makes
/// for the model meets. The toolset knows no runner, so the runner hands
/// its hooks down with the call, behind this trait.
// Only code mode's programs make calls through it.
#[cfg_attr(not(feature = "code-mode"), allow(dead_code))]
pub(crate) trait CallGate: Send + Sync + fmt::Debug {
    /// Runs `tool` of `toolset` with `input` for `call`, between the hooks.
    fn call(
        &self,
        toolset: &Toolset,
        tool: &str,
        input: Value,
        call: ToolCall,
    ) -> Pin<Box<dyn Future<Output = ToolOutput> + Send>>;
}

impl ToolCall {
    /// A direct call with the given `tool_use` id and a fresh cancellation token.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            caller: Caller::Direct,
            cancellation: OnceLock::new(),
            auth: None,
            idempotency_key: None,
            gate: None,
            slot: None,
        }
    }

    /// Call number `seq` of a program this call runs (code mode's
    /// `run_code`): `<id>#<seq>` from [`Caller::CodeMode`], with the
    /// idempotency key `<key>#<seq>`, this call's identity and its gate, so
    /// that it meets the hooks this call met. `cancellation` is cancelled
    /// when the program ends.
    #[cfg(feature = "code-mode")]
    pub(crate) fn program_call(&self, seq: usize, cancellation: CancellationToken) -> Self {
        Self {
            id: format!("{}#{seq}", self.id),
            caller: Caller::CodeMode,
            cancellation: OnceLock::from(cancellation),
            auth: self.auth.clone(),
            idempotency_key: self
                .idempotency_key
                .as_ref()
                .map(|key| format!("{key}#{seq}").into()),
            gate: self.gate.clone(),
            // A slot of its own, under the same bound.
            slot: self
                .slot
                .as_ref()
                .map(|slot| Arc::new(Slot::new(slot.slots().clone()))),
        }
    }

    /// Sets what runs the calls of a program this call runs.
    pub(crate) fn with_gate(mut self, gate: Arc<dyn CallGate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Runs `tool` of `toolset` with `input` for this call: through its
    /// gate when it has one (a call from a program a runner's call runs),
    /// else straight through [`run_in_slot`](Self::run_in_slot).
    #[cfg(feature = "code-mode")]
    pub(crate) fn run_on(
        self,
        toolset: &Toolset,
        tool: &str,
        input: Value,
    ) -> Pin<Box<dyn Future<Output = ToolOutput> + Send>> {
        match self.gate.clone() {
            Some(gate) => gate.call(toolset, tool, input, self),
            None => Box::pin(self.run_in_slot(toolset, tool, input)),
        }
    }

    /// Puts the call under a runner's bound on tools running at once: see
    /// [`run_in_slot`](Self::run_in_slot).
    pub(crate) fn with_slots(mut self, slots: Slots) -> Self {
        self.slot = Some(Arc::new(Slot::new(slots)));
        self
    }

    /// Runs `tool` of `toolset` with `input` for this call through
    /// [`Toolset::call`], once a slot of its runner's bound is free, which
    /// it holds until the tool returns; at once for a call under no bound.
    pub(crate) fn run_in_slot(
        self,
        toolset: &Toolset,
        tool: &str,
        input: Value,
    ) -> impl Future<Output = ToolOutput> + Send + 'static + use<> {
        let slot = self.slot.clone();
        let running = toolset.call(tool, input, self);
        async move {
            let _taken = match slot.as_deref() {
                Some(slot) => Some(slot.take().await),
                None => None,
            };
            running.await
        }
    }

    /// Gives this call's slot back while its tool goes on: for a tool that
    /// runs a program, which only waits for the program's calls, each
    /// taking a slot of its own (see `tool/slots.rs` for the deadlock that
    /// keeping it would make).
    #[cfg(feature = "code-mode")]
    pub(crate) fn leave_slot(&self) {
        if let Some(slot) = &self.slot {
            slot.leave();
        }
    }

    /// Sets who made the call.
    #[must_use]
    pub fn with_caller(mut self, caller: Caller) -> Self {
        self.caller = caller;
        self
    }

    /// Sets the cancellation token; the runner cancels it when the run is dropped.
    #[must_use]
    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        self.cancellation = OnceLock::from(token);
        self
    }

    /// Sets who the caller is, as a transport verified it; an MCP server
    /// with a token verifier does this for every call.
    #[must_use]
    pub fn with_auth(mut self, auth: impl Into<Arc<AuthInfo>>) -> Self {
        self.auth = Some(auth.into());
        self
    }

    /// Sets the call's idempotency key; a runner that checkpoints sets it
    /// for every call (see [`idempotency_key`](Self::idempotency_key)).
    #[must_use]
    pub fn with_idempotency_key(mut self, key: impl Into<Arc<str>>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// A key that is the same every time this call is run, in any process:
    /// `<run id>:<tool_use id>`. Set when the runner checkpoints
    /// ([`ToolRunner::checkpoint`](crate::ToolRunner::checkpoint)); `None`
    /// otherwise.
    ///
    /// A checkpointing runner never runs a finished call again: its result
    /// is in the checkpoint taken right after it. The one call that can run
    /// twice is one the process died in the middle of, after the call began
    /// and before that checkpoint was written: the resumed run does not know
    /// whether it happened, so it runs it again, with the same key. A tool
    /// with side effects (a payment, an email) hands the key to the service
    /// it calls, or records it, so that the second run does nothing twice.
    ///
    /// A code-mode `run_code` call the process died in is such a call: its
    /// program runs again from the start, calls already made included. Each
    /// call from a program has the key of its `run_code` call with the
    /// call's number in the program after it, `<run id>:<tool_use id>#<n>`,
    /// `n` counting from 1 in the order the program makes its calls. A
    /// program run again makes the same calls in the same order when its
    /// tools answer as before (the sandbox has no clock and no randomness),
    /// so each call gets the key it had the first time.
    ///
    /// ```
    /// use toolrunner::{tool, ToolCall};
    ///
    /// /// Charge the customer.
    /// #[tool]
    /// fn charge(call: ToolCall, cents: u64) -> String {
    ///     // Payment APIs take an idempotency key for exactly this.
    ///     let key = call.idempotency_key().unwrap_or(call.id());
    ///     format!("charged {cents} cents (request key {key})")
    /// }
    ///
    /// let call = ToolCall::new("toolu_1").with_idempotency_key("order-7:toolu_1");
    /// assert_eq!(call.idempotency_key(), Some("order-7:toolu_1"));
    /// assert_eq!(ToolCall::new("toolu_1").idempotency_key(), None);
    /// ```
    pub fn idempotency_key(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
    }

    /// The id of the `tool_use` block this call answers.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Who made the call: the model directly, or code the model wrote.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Who the caller is, when the call came from an authenticated MCP
    /// client: the subject and scopes of its token. `None` for calls the
    /// runner makes for the model, and for MCP calls without authentication.
    ///
    /// ```
    /// use toolrunner::{AuthInfo, ToolCall};
    ///
    /// let call = ToolCall::new("mcp_1").with_auth(AuthInfo::new().with_scopes(["notes:read"]));
    /// assert!(call.auth().is_some_and(|auth| auth.has_scope("notes:read")));
    /// assert!(ToolCall::new("toolu_1").auth().is_none());
    /// ```
    pub fn auth(&self) -> Option<&AuthInfo> {
        self.auth.as_deref()
    }

    /// A token that is cancelled when the result is no longer wanted (the
    /// runner was dropped). Long-running tools can select on
    /// [`CancellationToken::cancelled`] to stop early.
    pub fn cancellation(&self) -> &CancellationToken {
        self.cancellation.get_or_init(CancellationToken::new)
    }

    /// Whether the result of this call is no longer wanted.
    pub fn is_cancelled(&self) -> bool {
        self.cancellation
            .get()
            .is_some_and(CancellationToken::is_cancelled)
    }
}
