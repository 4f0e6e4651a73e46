//! [`TokenProvider`]: bearer tokens from the user's own identity source,
//! for the first-party API and for the platforms that take one.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
#[cfg(any(feature = "vertex", feature = "foundry"))]
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;

/// The error a [`TokenProvider`] fails with.
pub type TokenError = Box<dyn std::error::Error + Send + Sync>;

/// Gives the bearer tokens a client sends: the official SDKs'
/// `credentials=` provider (and the platforms' `token_provider` /
/// `azure_ad_token_provider` callbacks), for an identity source of your
/// own: a secrets manager, a broker, a sidecar.
///
/// The client keeps the token it is given in a cache shared by its clones,
/// and asks again when the token is within two minutes of expiring (a
/// refresh failing then, the token is still used while it has more than
/// 30 seconds left), or every time when the token says no expiry
/// ([`AccessToken::new`]: the provider caches, if it wants to). When the
/// API refuses a token with `401`, the client drops it, asks again with
/// [`TokenRequest::force_refresh`] set, and sends the request once more.
/// Concurrent requests wait for one refresh rather than each starting
/// their own.
///
/// Any `Fn() -> impl Future<Output = Result<T, E>>` closure whose `T` is a
/// `String` or an [`AccessToken`] is a provider.
///
/// # Examples
///
/// A closure, for [`ClientBuilder::credentials`](crate::ClientBuilder::credentials):
///
/// ```
/// let client = toolrunner::Client::builder()
///     .credentials(|| async { Ok::<_, std::io::Error>(String::from("token from my broker")) })
///     .build()?;
/// # drop(client);
/// # Ok::<(), toolrunner::Error>(())
/// ```
///
/// A provider that knows when its tokens expire, and refreshes when the
/// API refused the last one:
///
/// ```
/// use std::time::Duration;
/// use futures_util::future::BoxFuture;
/// use toolrunner::credentials::{AccessToken, TokenError, TokenProvider, TokenRequest};
///
/// struct Vault;
///
/// impl TokenProvider for Vault {
///     fn token(&self, request: TokenRequest) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
///         Box::pin(async move {
///             let fresh = request.force_refresh();
///             let token = if fresh { "rotated" } else { "cached-by-vault" };
///             Ok(AccessToken::new(token).expires_in(Duration::from_secs(3600)))
///         })
///     }
/// }
/// # let _ = Vault;
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// A token to send as `Authorization: Bearer`.
    ///
    /// # Errors
    ///
    /// Whatever kept the provider from getting one; the request fails with
    /// a configuration error ([`Error::is_config`](crate::Error::is_config))
    /// with this as its source.
    fn token(&self, request: TokenRequest) -> BoxFuture<'_, Result<AccessToken, TokenError>>;
}

impl<F, Fut, T, E> TokenProvider for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Into<AccessToken>,
    E: Into<TokenError>,
{
    fn token(&self, _request: TokenRequest) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        let future = self();
        Box::pin(async move { future.await.map(Into::into).map_err(Into::into) })
    }
}

/// What the client asks a [`TokenProvider`] for.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct TokenRequest {
    force_refresh: bool,
}

impl TokenRequest {
    /// A request; `force_refresh` as [`force_refresh`](Self::force_refresh) says.
    pub(crate) fn new(force_refresh: bool) -> Self {
        TokenRequest { force_refresh }
    }

    /// Whether the API refused the last token: a provider that caches
    /// tokens must not give that one again, even if it looks valid.
    pub fn force_refresh(&self) -> bool {
        self.force_refresh
    }
}

/// A bearer token and how long the client may keep it. Its `Debug` form
/// never shows the token.
#[derive(Clone)]
pub struct AccessToken {
    pub(crate) token: String,
    /// When it expires, in seconds since the Unix epoch; `None` for never.
    pub(crate) expires_at: Option<u64>,
    /// Whether the client keeps it until it expires, or asks again before
    /// each request.
    pub(crate) cached: bool,
}

impl AccessToken {
    /// `token`, with no expiry: the client asks the provider again before
    /// every request, so the provider decides how long a token lasts. Set
    /// [`expires_in`](Self::expires_in) or [`expires_at`](Self::expires_at)
    /// to have the client cache it, or [`without_expiry`](Self::without_expiry)
    /// to keep it until the API refuses it.
    pub fn new(token: impl Into<String>) -> Self {
        AccessToken {
            token: token.into(),
            expires_at: None,
            cached: false,
        }
    }

    /// The token expires at `at`: the client keeps it until two minutes
    /// before.
    #[must_use]
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.expires_at = Some(secs);
        self.cached = true;
        self
    }

    /// The token expires `after` from now.
    #[must_use]
    pub fn expires_in(self, after: Duration) -> Self {
        self.expires_at(SystemTime::now() + after)
    }

    /// The token does not expire: the client keeps it until the API
    /// refuses it.
    #[must_use]
    pub fn without_expiry(mut self) -> Self {
        self.expires_at = None;
        self.cached = true;
        self
    }

    /// The token itself.
    pub fn secret(&self) -> &str {
        &self.token
    }

    /// A token minted by the client's own sources, cached until
    /// `expires_at` (seconds since the Unix epoch), or for good.
    pub(crate) fn minted(token: String, expires_at: Option<u64>) -> Self {
        AccessToken {
            token,
            expires_at,
            cached: true,
        }
    }
}

impl From<String> for AccessToken {
    fn from(token: String) -> Self {
        AccessToken::new(token)
    }
}

impl From<&str> for AccessToken {
    fn from(token: &str) -> Self {
        AccessToken::new(token)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("cached", &self.cached)
            .finish()
    }
}

/// A shared provider, which shows nothing of itself in `Debug`.
#[derive(Clone)]
pub(crate) struct SharedProvider {
    pub(crate) provider: Arc<dyn TokenProvider>,
    /// The platform refused the last token: the next ask forces a refresh.
    #[cfg_attr(
        not(any(feature = "vertex", feature = "foundry")),
        allow(dead_code, reason = "for the platforms that ask before each attempt")
    )]
    refused: Arc<AtomicBool>,
}

impl SharedProvider {
    pub(crate) fn new(provider: impl TokenProvider) -> Self {
        SharedProvider {
            provider: Arc::new(provider),
            refused: Arc::new(AtomicBool::new(false)),
        }
    }
}

#[cfg(any(feature = "vertex", feature = "foundry"))]
impl SharedProvider {
    /// The provider's token for an attempt, as a string, for platforms,
    /// which ask before every attempt: forcing a refresh after a refusal.
    ///
    /// # Errors
    ///
    /// The provider's.
    pub(crate) async fn bearer(&self) -> Result<String, TokenError> {
        let force = self.refused.swap(false, Ordering::AcqRel);
        Ok(self.provider.token(TokenRequest::new(force)).await?.token)
    }

    /// The platform refused the provider's last token.
    pub(crate) fn refused(&self) {
        self.refused.store(true, Ordering::Release);
    }
}

impl fmt::Debug for SharedProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenProvider")
    }
}
