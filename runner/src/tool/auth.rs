//! [`AuthInfo`]: who a call comes from, as the transport verified it.

/// Who made a call, as the transport that carried it verified: the subject,
/// client and scopes of the bearer token an MCP client sent.
///
/// A tool reads it from its [`ToolCall`](crate::ToolCall) with
/// [`auth`](crate::ToolCall::auth), to check a scope or to act on behalf of
/// the subject. Calls the runner makes for the model, and MCP calls over
/// stdio or an unauthenticated HTTP server, have none. A token verifier
/// (see `toolrunner::mcp::TokenVerifier`, feature `mcp`) makes one.
///
/// It never holds the token itself: a tool must not pass the client's token
/// on to other services, as the MCP authorization spec asks.
///
/// # Examples
///
/// ```
/// use toolrunner::{AuthInfo, ToolCall, tool};
///
/// /// Delete a note.
/// #[tool]
/// fn delete_note(call: ToolCall, id: u64) -> Result<String, String> {
///     match call.auth() {
///         Some(auth) if auth.has_scope("notes:write") => Ok(format!("deleted note {id}")),
///         _ => Err("deleting notes needs the `notes:write` scope".into()),
///     }
/// }
///
/// let auth = AuthInfo::new().with_subject("alice").with_scopes(["notes:read", "notes:write"]);
/// assert_eq!(auth.subject(), Some("alice"));
/// assert!(auth.has_scope("notes:write"));
/// assert!(!auth.has_scope("admin"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthInfo {
    subject: Option<String>,
    client_id: Option<String>,
    scopes: Vec<String>,
}

impl AuthInfo {
    /// No subject, no client and no scopes: a caller known only to hold a
    /// valid token.
    pub fn new() -> Self {
        AuthInfo::default()
    }

    /// Sets the subject: the user or service the token was issued to (an
    /// OAuth `sub` claim).
    #[must_use]
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the OAuth client the token was issued through (a `client_id`).
    #[must_use]
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Sets the scopes the token grants, replacing any set before.
    #[must_use]
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The user or service the token was issued to, if the verifier said.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The OAuth client the token was issued through, if the verifier said.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The scopes the token grants.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether the token grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }
}
