//! Bearer tokens: [`TokenVerifier`] and [`TokenError`], and the
//! [`Authenticator`] the HTTP server asks about every request.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hyper::HeaderMap;

use crate::AuthInfo;

/// Decides whether a bearer token is valid, and whom it belongs to: the
/// check an [`McpHttpBuilder`](super::McpHttpBuilder) runs on every request
/// before any tool is listed or called.
///
/// Implement it to ask an identity provider (introspect the token, or check
/// a JWT's signature, audience and expiry). A closure
/// `|token: String| async move { ... }` returning `Result<AuthInfo,
/// TokenError>` is one; for a fixed list of
/// tokens use [`McpHttpBuilder::bearer_tokens`](super::McpHttpBuilder::bearer_tokens)
/// instead.
///
/// The MCP authorization spec asks servers to accept only tokens issued for
/// them: check the token's audience against the server's URL.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
/// use toolrunner::mcp::{McpServer, TokenError};
/// use toolrunner::{AuthInfo, tool, toolset};
///
/// /// Add two integers.
/// #[tool]
/// fn add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// /// Looks the token up; a real server asks its identity provider.
/// async fn introspect(token: &str) -> Option<(String, Vec<String>)> {
///     (token == "alice-token").then(|| ("alice".into(), vec!["calc".into()]))
/// }
///
/// let server = McpServer::new(toolset![add])
///     .http()
///     .token_verifier(|token: String| async move {
///         match introspect(&token).await {
///             Some((user, scopes)) => Ok(AuthInfo::new().with_subject(user).with_scopes(scopes)),
///             None => Err(TokenError::invalid("unknown or expired token")),
///         }
///     })
///     .serve("127.0.0.1:8000")
///     .await?;
/// # Ok(())
/// # }
/// ```
pub trait TokenVerifier: Send + Sync + 'static {
    /// Whom `token` (without the `Bearer ` prefix) belongs to, and what it
    /// may do.
    ///
    /// # Errors
    ///
    /// [`TokenError::invalid`] when the token is unknown, expired or not
    /// meant for this server (the client gets a 401 and may fetch a new
    /// one); [`TokenError::failed`] when it cannot be checked right now
    /// (the client gets a 503).
    fn verify(&self, token: &str) -> impl Future<Output = Result<AuthInfo, TokenError>> + Send;
}

impl<F, Fut> TokenVerifier for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AuthInfo, TokenError>> + Send,
{
    fn verify(&self, token: &str) -> impl Future<Output = Result<AuthInfo, TokenError>> + Send {
        self(token.to_owned())
    }
}

/// Why a [`TokenVerifier`] did not accept a token.
///
/// # Examples
///
/// ```
/// use toolrunner::mcp::TokenError;
///
/// let err = TokenError::invalid("the token expired at 12:00");
/// assert!(err.is_invalid());
/// assert_eq!(err.to_string(), "invalid token: the token expired at 12:00");
///
/// let err = TokenError::failed("the identity provider did not answer");
/// assert!(!err.is_invalid());
/// ```
pub struct TokenError {
    invalid: bool,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TokenError {
    /// The token is not valid: unknown, expired, revoked or issued for
    /// another server. The client gets a 401 with `error="invalid_token"`
    /// and `description` (so keep secrets out of it).
    pub fn invalid(description: impl Into<String>) -> Self {
        TokenError {
            invalid: true,
            message: description.into(),
            source: None,
        }
    }

    /// The token could not be checked, say because the identity provider is
    /// down. The client gets a 503 and may retry; `message` is logged, not
    /// sent.
    pub fn failed(message: impl Into<String>) -> Self {
        TokenError {
            invalid: false,
            message: message.into(),
            source: None,
        }
    }

    /// Adds the underlying error, for logs.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Whether the token is invalid, rather than impossible to check now.
    pub fn is_invalid(&self) -> bool {
        self.invalid
    }

    /// The description or message given when the error was made.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invalid {
            write!(f, "invalid token: {}", self.message)
        } else {
            write!(f, "could not verify the token: {}", self.message)
        }
    }
}

impl fmt::Debug for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenError")
            .field("invalid", &self.invalid)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl StdError for TokenError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

type VerifyFuture<'a> = Pin<Box<dyn Future<Output = Result<AuthInfo, TokenError>> + Send + 'a>>;

/// [`TokenVerifier`] with the future boxed, so that a server can hold any.
trait DynVerifier: Send + Sync {
    fn verify_boxed<'a>(&'a self, token: &'a str) -> VerifyFuture<'a>;
}

impl<T: TokenVerifier> DynVerifier for T {
    fn verify_boxed<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(self.verify(token))
    }
}

/// Why a request was not authenticated.
pub(crate) enum Refusal {
    /// No bearer token: the client should start the authorization flow.
    Missing,
    /// A token the server does not accept.
    Invalid(String),
    /// The verifier could not decide.
    Failed,
}

/// The server's tokens and verifier. Empty means no authentication.
#[derive(Clone, Default)]
pub(crate) struct Authenticator {
    tokens: Vec<(String, Arc<AuthInfo>)>,
    verifier: Option<Arc<dyn DynVerifier>>,
}

impl Authenticator {
    pub(crate) fn add_token(&mut self, token: String, info: AuthInfo) {
        self.tokens.push((token, Arc::new(info)));
    }

    pub(crate) fn set_verifier(&mut self, verifier: impl TokenVerifier) {
        self.verifier = Some(Arc::new(verifier));
    }

    /// Whether any token could ever be accepted.
    pub(crate) fn is_enabled(&self) -> bool {
        !self.tokens.is_empty() || self.verifier.is_some()
    }

    /// Who sent the request, from its `Authorization: Bearer` header: one of
    /// the fixed tokens, else whatever the verifier says.
    pub(crate) async fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<AuthInfo>, Refusal> {
        let token = bearer_token(headers).ok_or(Refusal::Missing)?;
        // Every fixed token is compared, in time that depends only on the
        // lengths, so that timing does not tell how much of a guess was right.
        let mut found = None;
        for (known, info) in &self.tokens {
            if constant_time_eq(known.as_bytes(), token.as_bytes()) {
                found = Some(info);
            }
        }
        if let Some(info) = found {
            return Ok(info.clone());
        }
        let Some(verifier) = &self.verifier else {
            return Err(Refusal::Invalid("the token is not valid".into()));
        };
        match verifier.verify_boxed(token).await {
            Ok(info) => Ok(Arc::new(info)),
            Err(e) if e.invalid => Err(Refusal::Invalid(e.message)),
            Err(e) => {
                tracing::warn!(error = %e, source = ?e.source, "mcp http server: token verification failed");
                Err(Refusal::Failed)
            }
        }
    }
}

impl fmt::Debug for Authenticator {
    // Tokens are secrets: only their number shows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("tokens", &format_args!("{} (redacted)", self.tokens.len()))
            .field("verifier", &self.verifier.is_some())
            .finish()
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is
/// case-insensitive (RFC 9110). Tokens in the query string are not read: the
/// MCP authorization spec forbids them.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(hyper::header::AUTHORIZATION, authorization.parse().unwrap());
        headers
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header_only() {
        assert_eq!(bearer_token(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&headers("bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&headers("Basic abc")), None);
        assert_eq!(bearer_token(&headers("Bearer ")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn token_comparison_needs_every_byte() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[tokio::test]
    async fn fixed_tokens_then_the_verifier_decide() {
        let mut auth = Authenticator::default();
        auth.add_token("fixed".into(), AuthInfo::new().with_subject("ci"));
        auth.set_verifier(|token: String| async move {
            match token.as_str() {
                "dynamic" => Ok(AuthInfo::new().with_subject("alice")),
                "down" => Err(TokenError::failed("no answer")),
                _ => Err(TokenError::invalid("unknown token")),
            }
        });
        let subject = |r: Result<Arc<AuthInfo>, Refusal>| match r {
            Ok(info) => info.subject().unwrap_or_default().to_owned(),
            Err(Refusal::Missing) => "missing".into(),
            Err(Refusal::Invalid(why)) => why,
            Err(Refusal::Failed) => "failed".into(),
        };
        assert_eq!(
            subject(auth.authenticate(&headers("Bearer fixed")).await),
            "ci"
        );
        assert_eq!(
            subject(auth.authenticate(&headers("Bearer dynamic")).await),
            "alice"
        );
        assert_eq!(
            subject(auth.authenticate(&headers("Bearer nope")).await),
            "unknown token"
        );
        assert_eq!(
            subject(auth.authenticate(&headers("Bearer down")).await),
            "failed"
        );
        assert_eq!(
            subject(auth.authenticate(&HeaderMap::new()).await),
            "missing"
        );
        assert_eq!(
            format!("{auth:?}"),
            "Authenticator { tokens: 1 (redacted), verifier: true }"
        );
    }
}
