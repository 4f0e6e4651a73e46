//! [`TokenProvider`]: bearer tokens from the user's own code, for platforms
//! that authenticate with one (Google's, and Microsoft Foundry with Entra ID).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use reqwest::header::{AUTHORIZATION, HeaderValue};

use crate::error::Error;

/// The error a [`TokenProvider`] fails with.
pub type TokenError = Box<dyn std::error::Error + Send + Sync>;

/// Gives a bearer token for each request, as the official SDKs'
/// `token_provider` / `azure_ad_token_provider` callbacks do.
///
/// It is asked before every attempt, so it may cache tokens and refresh them
/// itself; after the platform refuses a token it is asked once more. Any
/// `Fn() -> impl Future<Output = Result<String, E>>` closure is one.
///
/// # Examples
///
/// ```
/// use toolrunner::platform::TokenProvider;
///
/// fn takes(_: impl TokenProvider) {}
/// takes(|| async { Ok::<_, std::io::Error>(String::from("token from my broker")) });
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// A token to send as `Authorization: Bearer`.
    ///
    /// # Errors
    ///
    /// Whatever kept the provider from getting one; the request fails with
    /// a configuration error naming the platform, with this as its source.
    fn token(&self) -> BoxFuture<'_, Result<String, TokenError>>;
}

impl<F, Fut, E> TokenProvider for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, E>> + Send + 'static,
    E: Into<TokenError>,
{
    fn token(&self) -> BoxFuture<'_, Result<String, TokenError>> {
        let future = self();
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}

/// A shared provider, which shows nothing of itself in `Debug`.
#[derive(Clone)]
pub(crate) struct SharedProvider(pub(crate) Arc<dyn TokenProvider>);

impl fmt::Debug for SharedProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenProvider")
    }
}

/// A credential held as a string: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Puts `Authorization: Bearer {token}` on `request` (marked sensitive, so
/// never logged), unless the request carries its own `Authorization`, as
/// the official SDKs let a default header win.
///
/// # Errors
///
/// A configuration error naming `platform` when the token is not a valid
/// header value; the token is not quoted.
pub(crate) fn insert_bearer(
    request: &mut reqwest::Request,
    token: &str,
    platform: &str,
) -> Result<(), Error> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| {
        Error::config_with(
            format!("the token for {platform} is not a valid header value"),
            e,
        )
    })?;
    value.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}

/// Whether `request` carries an `Authorization` header of its own.
pub(crate) fn has_authorization(request: &reqwest::Request) -> bool {
    request.headers().contains_key(AUTHORIZATION)
}
