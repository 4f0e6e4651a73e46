//! What a tool knows about the call it is serving: [`ToolCall`].

use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

use super::AuthInfo;

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
    /// Set by a runner that checkpoints: `<run id>:<tool_use id>`.
    idempotency_key: Option<Arc<str>>,
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
