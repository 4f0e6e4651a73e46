//! The first-party Anthropic API: `{base}/v1/...`, an API key, a bearer
//! token, or tokens minted from a profile or workload identity federation.

use std::fmt;

use futures_util::future::BoxFuture;
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

use super::{Endpoint, Feature, MessagesCall, Platform, PlatformRequest, Refused, join};
use crate::client::TokenCache;
use crate::error::Error;

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// The first-party API, as [`ClientBuilder`](crate::ClientBuilder) configures it.
pub(crate) struct FirstParty {
    base_url: Url,
    messages_url: Url,
    /// `x-api-key`, marked sensitive.
    api_key: Option<HeaderValue>,
    /// `Authorization: Bearer`, marked sensitive.
    auth_token: Option<HeaderValue>,
    /// Minted tokens, when credentials come from a profile or federation.
    tokens: Option<TokenCache>,
}

impl FirstParty {
    /// The API at `base_url`. Neither secret is quoted in an error.
    ///
    /// # Errors
    ///
    /// A configuration error for a key or token that is not a valid header
    /// value, or a base URL that cannot take a path.
    pub(crate) fn new(
        base_url: Url,
        api_key: Option<&str>,
        auth_token: Option<&str>,
        tokens: Option<TokenCache>,
    ) -> Result<Self, Error> {
        let api_key = api_key
            .map(|key| {
                HeaderValue::from_str(key)
                    .map_err(|e| Error::config_with("invalid API key: not a valid header value", e))
            })
            .transpose()?;
        let auth_token = auth_token
            .map(|token| {
                HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| {
                    Error::config_with("invalid auth token: not a valid header value", e)
                })
            })
            .transpose()?;
        if base_url.cannot_be_a_base() {
            return Err(Error::config(format!(
                "invalid base URL {:?}",
                base_url.as_str()
            )));
        }
        let messages_url = join(&base_url, &["v1", "messages"]);
        Ok(FirstParty {
            base_url,
            messages_url,
            api_key: api_key.map(sensitive),
            auth_token: auth_token.map(sensitive),
            tokens,
        })
    }
}

fn sensitive(mut value: HeaderValue) -> HeaderValue {
    value.set_sensitive(true);
    value
}

impl Platform for FirstParty {
    fn name(&self) -> &'static str {
        "the Anthropic API"
    }

    fn messages(&self, call: &MessagesCall<'_>) -> Result<PlatformRequest, Error> {
        Ok(PlatformRequest::first_party(
            call,
            self.messages_url.clone(),
        ))
    }

    fn endpoint(&self, endpoint: Endpoint<'_>) -> Result<Url, Error> {
        Ok(endpoint.first_party_url(&self.base_url))
    }

    fn authorize<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let headers = request.headers_mut();
            // A default header of the same name wins, as it did when the
            // credentials were among the client's headers.
            if let Some(key) = &self.api_key {
                headers.entry(X_API_KEY).or_insert_with(|| key.clone());
            }
            if let Some(token) = &self.auth_token {
                headers
                    .entry(AUTHORIZATION)
                    .or_insert_with(|| token.clone());
            }
            if let Some(tokens) = &self.tokens {
                let token = tokens.token(http, &self.base_url).await?;
                let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|e| Error::config_with("the minted token is not a header value", e))?;
                request
                    .headers_mut()
                    .insert(AUTHORIZATION, sensitive(bearer));
            }
            Ok(())
        })
    }

    fn reauthorize<'a>(&'a self, refused: &'a Refused<'a>) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            // Only a minted token can be replaced by another.
            let Some(tokens) = &self.tokens else {
                return false;
            };
            if refused.status != reqwest::StatusCode::UNAUTHORIZED {
                return false;
            }
            let sent = refused
                .sent
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            let Some(token) = sent.and_then(|v| v.strip_prefix("Bearer ")) else {
                return false;
            };
            tracing::debug!("the access token was refused; minting another");
            tokens.invalidate(token).await;
            true
        })
    }

    fn offers(&self, feature: Feature) -> bool {
        match feature {
            Feature::MessageThreads
            | Feature::AutomaticCaching
            | Feature::CacheDiagnostics
            | Feature::Files
            | Feature::Batches
            | Feature::CountTokens
            | Feature::Models => true,
        }
    }
}

impl fmt::Debug for FirstParty {
    /// The base URL without its password; never a credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FirstParty")
            .field(
                "base_url",
                &crate::client::without_password(&self.base_url).as_str(),
            )
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("tokens", &self.tokens)
            .finish()
    }
}
