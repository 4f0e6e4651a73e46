//! [`TokenCache`]: minted access tokens, shared by the clones of a client.

use std::fmt;

use reqwest::Url;
use tokio::sync::Mutex;

use super::{ADVISORY_REFRESH_SECS, AccessToken, MANDATORY_REFRESH_SECS, Source, now};
use crate::error::Error;

/// The current token of a [`Source`]. The lock is held while refreshing, so
/// that concurrent requests wait for one refresh instead of each starting
/// their own.
pub(crate) struct TokenCache {
    source: Source,
    current: Mutex<Current>,
}

#[derive(Default)]
struct Current {
    token: Option<AccessToken>,
    /// The API refused the last token: the next fetch must not return it.
    refused: bool,
}

impl TokenCache {
    pub(crate) fn new(source: Source) -> Self {
        TokenCache {
            source,
            current: Mutex::new(Current::default()),
        }
    }

    /// A token to send: the cached one while it has more than two minutes
    /// left, else a fresh one. When refreshing fails, the cached token is
    /// still used while it has more than 30 seconds left.
    ///
    /// # Errors
    ///
    /// The refresh's error when there is no usable token.
    pub(crate) async fn token(
        &self,
        http: &reqwest::Client,
        base_url: &Url,
    ) -> Result<String, Error> {
        let mut current = self.current.lock().await;
        let left = |token: &AccessToken| {
            token
                .expires_at
                .map_or(u64::MAX, |at| at.saturating_sub(now()))
        };
        if let Some(token) = current
            .token
            .as_ref()
            .filter(|t| left(t) > ADVISORY_REFRESH_SECS)
        {
            return Ok(token.token.clone());
        }
        match self.source.fetch(http, base_url, current.refused).await {
            Ok(token) => {
                tracing::debug!(expires_at = token.expires_at, "minted an access token");
                current.refused = false;
                if !token.cached {
                    // The provider keeps its own tokens: it is asked again
                    // for the next request.
                    current.token = None;
                    return Ok(token.token);
                }
                let fresh = token.token.clone();
                current.token = Some(token);
                Ok(fresh)
            }
            Err(error) => match current
                .token
                .as_ref()
                .filter(|t| left(t) > MANDATORY_REFRESH_SECS)
            {
                Some(token) => {
                    tracing::warn!(%error, "refreshing the access token failed; using the current one while it lasts");
                    Ok(token.token.clone())
                }
                None => Err(error),
            },
        }
    }

    /// Forgets `token` after the API refused it, so the next request mints
    /// another, asking for a fresh one; a token minted meanwhile by another
    /// request is kept. A provider whose tokens are not cached here is
    /// asked for a fresh one next.
    pub(crate) async fn invalidate(&self, token: &str) {
        let mut current = self.current.lock().await;
        match &current.token {
            Some(held) if held.token != token => {}
            _ => {
                current.token = None;
                current.refused = true;
            }
        }
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}
