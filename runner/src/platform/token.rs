//! Bearer tokens on platform requests: a [`TokenProvider`] (the same trait
//! the first-party client takes, see [`crate::credentials`]) for the
//! platforms that authenticate with one (Google's, and Microsoft Foundry
//! with Entra ID), and the helpers that put a token on a request.

use std::fmt;

use reqwest::header::{AUTHORIZATION, HeaderValue};

use crate::error::Error;

pub(crate) use crate::client::SharedProvider;
pub use crate::client::{TokenError, TokenProvider};

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
