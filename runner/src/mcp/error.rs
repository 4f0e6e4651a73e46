//! [`McpError`]: everything that can go wrong talking MCP.

use std::error::Error as StdError;
use std::fmt;

type BoxError = Box<dyn StdError + Send + Sync>;

/// An error from an MCP connection, a conversion, or serving a toolset.
///
/// Ask what went wrong with the `is_*()` predicates; the
/// [`Display`](fmt::Display) form is one line naming the offending value,
/// and [`source()`](StdError::source) leads to the underlying error (from
/// `rmcp`, the OS or the network) when there is one.
///
/// Tool calls never return this: an [`McpTool`](super::McpTool) turns every
/// failure into an error result for the model.
///
/// # Examples
///
/// ```
/// use toolrunner::mcp::{mcp_content, rmcp::model::ContentBlock};
///
/// let err = mcp_content(&ContentBlock::audio("UklGRg==", "audio/wav")).unwrap_err();
/// assert!(err.is_unsupported());
/// assert_eq!(err.to_string(), "mcp audio content (audio/wav) has no Messages API equivalent");
/// ```
pub struct McpError {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    source: Option<BoxError>,
}

enum Kind {
    /// The server's process could not be started.
    Spawn { command: String },
    /// The connection or the MCP handshake failed.
    Connect { target: String },
    /// A request to a connected server failed.
    Request {
        server: String,
        method: &'static str,
    },
    /// A tool name the Messages API would reject.
    InvalidToolName { name: String, reason: String },
    /// Two tools of one server map to the same name.
    DuplicateToolName {
        name: String,
        first: String,
        second: String,
    },
    /// An MCP value with no Messages API equivalent.
    Unsupported { message: String },
    /// Arguments of the wrong shape.
    InvalidArguments { message: String },
    /// Serving a toolset failed.
    Serve { what: String },
    /// Serving was refused: it would put the tools on the network without
    /// authentication.
    Insecure { addr: std::net::SocketAddr },
}

impl McpError {
    fn new(kind: Kind, source: Option<BoxError>) -> Self {
        McpError {
            inner: Box::new(Inner { kind, source }),
        }
    }

    pub(crate) fn spawn(command: String, source: std::io::Error) -> Self {
        McpError::new(Kind::Spawn { command }, Some(source.into()))
    }

    pub(crate) fn connect(target: String, source: impl Into<BoxError>) -> Self {
        McpError::new(Kind::Connect { target }, Some(source.into()))
    }

    pub(crate) fn request(server: &str, method: &'static str, source: rmcp::ServiceError) -> Self {
        let server = server.to_owned();
        McpError::new(Kind::Request { server, method }, Some(source.into()))
    }

    pub(crate) fn invalid_tool_name(name: String, reason: String) -> Self {
        McpError::new(Kind::InvalidToolName { name, reason }, None)
    }

    pub(crate) fn duplicate_tool_name(name: String, first: String, second: String) -> Self {
        McpError::new(
            Kind::DuplicateToolName {
                name,
                first,
                second,
            },
            None,
        )
    }

    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        let message = message.into();
        McpError::new(Kind::Unsupported { message }, None)
    }

    pub(crate) fn invalid_arguments(message: String) -> Self {
        McpError::new(Kind::InvalidArguments { message }, None)
    }

    pub(crate) fn serve(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        let what = what.into();
        McpError::new(Kind::Serve { what }, Some(source.into()))
    }

    /// A server configuration that cannot work, named in `what`.
    pub(crate) fn invalid_config(what: impl Into<String>) -> Self {
        let what = what.into();
        McpError::new(Kind::Serve { what }, None)
    }

    pub(crate) fn insecure(addr: std::net::SocketAddr) -> Self {
        McpError::new(Kind::Insecure { addr }, None)
    }

    /// Whether the server's process could not be started (say, the program
    /// was not found).
    pub fn is_spawn(&self) -> bool {
        matches!(self.inner.kind, Kind::Spawn { .. })
    }

    /// Whether connecting to the server, or the MCP handshake, failed.
    pub fn is_connect(&self) -> bool {
        matches!(self.inner.kind, Kind::Connect { .. })
    }

    /// Whether a request to a connected server failed: the server answered
    /// with an error, or the connection is gone (see [`is_closed`](Self::is_closed)).
    pub fn is_request(&self) -> bool {
        matches!(self.inner.kind, Kind::Request { .. })
    }

    /// Whether the request failed because the connection to the server is
    /// closed (the server exited or hung up).
    pub fn is_closed(&self) -> bool {
        matches!(self.inner.kind, Kind::Request { .. })
            && self
                .inner
                .source
                .as_deref()
                .and_then(|s| s.downcast_ref::<rmcp::ServiceError>())
                .is_some_and(is_transport_gone)
    }

    /// Whether a tool's name cannot be used with the Messages API, or two of
    /// a server's tools would have the same name.
    pub fn is_invalid_tool_name(&self) -> bool {
        matches!(
            self.inner.kind,
            Kind::InvalidToolName { .. } | Kind::DuplicateToolName { .. }
        )
    }

    /// Whether an MCP value (audio, a resource link, an unsupported MIME
    /// type) has no Messages API equivalent.
    pub fn is_unsupported(&self) -> bool {
        matches!(self.inner.kind, Kind::Unsupported { .. })
    }

    /// Whether arguments given to a request have the wrong shape (say,
    /// prompt arguments that are not a JSON object).
    pub fn is_invalid_arguments(&self) -> bool {
        matches!(self.inner.kind, Kind::InvalidArguments { .. })
    }

    /// Whether serving a toolset over MCP failed, or was refused (see
    /// [`is_insecure`](Self::is_insecure)).
    pub fn is_serve(&self) -> bool {
        matches!(self.inner.kind, Kind::Serve { .. } | Kind::Insecure { .. })
    }

    /// Whether serving over HTTP was refused because the address is not
    /// loopback and no authentication is configured: anyone on the network
    /// could call the tools. Configure tokens, or opt out with
    /// [`McpHttpBuilder::allow_unauthenticated`](super::McpHttpBuilder::allow_unauthenticated).
    pub fn is_insecure(&self) -> bool {
        matches!(self.inner.kind, Kind::Insecure { .. })
    }
}

/// Whether `error` means the connection is gone rather than that the server
/// answered.
pub(crate) fn is_transport_gone(error: &rmcp::ServiceError) -> bool {
    // A request the server refused for want of a token or scope fails in
    // the transport as well, but the connection stays usable.
    matches!(
        error,
        rmcp::ServiceError::TransportClosed | rmcp::ServiceError::TransportSend(_)
    ) && auth_refusal(error).is_none()
}

/// Why the server refused a request over HTTP for authorization, if it did:
/// a 401 (no token, or one it does not accept) or a 403 naming a scope.
pub(crate) fn auth_refusal(error: &(dyn StdError + 'static)) -> Option<String> {
    use rmcp::transport::streamable_http_client::{AuthRequiredError, InsufficientScopeError};
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(scope) = e.downcast_ref::<InsufficientScopeError>() {
            return Some(match scope.get_required_scope() {
                Some(scope) => format!("the token lacks scope `{scope}`"),
                None => "the token lacks a scope it needs".to_owned(),
            });
        }
        if e.is::<AuthRequiredError>() {
            return Some("it wants a valid bearer token (http 401)".to_owned());
        }
        // rmcp keeps its transport errors in fields that are not sources.
        cause = if let Some(rmcp::ServiceError::TransportSend(t)) = e.downcast_ref() {
            Some(&*t.error)
        } else if let Some(rmcp::service::ClientInitializeError::TransportError { error, .. }) =
            e.downcast_ref()
        {
            Some(&*error.error)
        } else if let Some(t) = e.downcast_ref::<rmcp::transport::DynamicTransportError>() {
            Some(&*t.error)
        } else {
            e.source()
        };
    }
    None
}

impl fmt::Display for McpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.kind {
            Kind::Spawn { command } => write!(f, "could not start mcp server `{command}`"),
            Kind::Connect { target } => write!(f, "could not connect to mcp server {target}"),
            Kind::Request { server, method } => {
                write!(f, "mcp request `{method}` to server `{server}` failed")
            }
            Kind::InvalidToolName { name, reason } => {
                write!(f, "invalid tool name `{name}`: {reason}")
            }
            Kind::DuplicateToolName {
                name,
                first,
                second,
            } => write!(
                f,
                "mcp tools `{first}` and `{second}` would both be named `{name}`"
            ),
            Kind::Unsupported { message } | Kind::InvalidArguments { message } => {
                f.write_str(message)
            }
            Kind::Serve { what } => write!(f, "could not serve mcp: {what}"),
            Kind::Insecure { addr } => write!(
                f,
                "refusing to serve mcp on {addr} without authentication: it is not a loopback address, so anyone who can reach it could list and call every tool; \
                 require a token (`bearer_tokens` or `token_verifier`), bind 127.0.0.1, or, if something in front of the server authenticates, opt out with `allow_unauthenticated()`"
            ),
        }
    }
}

impl fmt::Debug for McpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("McpError");
        d.field("message", &self.to_string());
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl StdError for McpError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}
