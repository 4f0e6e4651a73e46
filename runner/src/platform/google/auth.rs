//! [`GoogleAuth`]: OAuth access tokens for Google's platforms.
//!
//! Tokens come from an explicit access token, the user's
//! [`TokenProvider`], a service-account key, or Application Default
//! Credentials (ADC: the key file `GOOGLE_APPLICATION_CREDENTIALS` names,
//! `gcloud auth application-default login`'s user credentials, the metadata
//! server, the `gcloud` CLI). Keys and ADC go through the `gcp_auth` crate,
//! which performs the JWT-bearer grant against the key's `token_uri` and
//! caches each token until 20 seconds before it expires.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Mutex;

use crate::error::Error;
use crate::platform::token::{Secret, SharedProvider, TokenProvider};

/// The scope Google's platform clients ask for, as the official SDKs do.
pub(crate) const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Where a Google platform's bearer tokens come from.
#[derive(Clone, Debug)]
pub(crate) enum Credentials {
    /// One token, sent as is and never refreshed.
    AccessToken(Secret),
    /// The user's provider, asked before each attempt.
    Provider(SharedProvider),
    /// Tokens minted through `gcp_auth`.
    Minted(Minted),
}

/// Credentials that `gcp_auth` exchanges for tokens.
#[derive(Clone, Debug)]
pub(crate) enum Minted {
    /// A service-account key (its JSON), exchanged for tokens at its `token_uri`.
    ServiceAccountKey(Secret),
    /// Application Default Credentials; `file` is `GOOGLE_APPLICATION_CREDENTIALS`.
    ApplicationDefault { file: Option<PathBuf> },
}

/// A platform's tokens: where they come from, and the `gcp_auth` provider
/// that caches them, made on first use.
pub(crate) struct GoogleAuth {
    platform: &'static str,
    credentials: Credentials,
    provider: Mutex<Option<Arc<dyn gcp_auth::TokenProvider>>>,
    /// The platform refused a token: the next request makes a new provider,
    /// so that its token is not the cached, refused one.
    refused: AtomicBool,
}

impl GoogleAuth {
    pub(crate) fn new(platform: &'static str, credentials: Credentials) -> Self {
        GoogleAuth {
            platform,
            credentials,
            provider: Mutex::new(None),
            refused: AtomicBool::new(false),
        }
    }

    /// A token to send as `Authorization: Bearer`.
    ///
    /// # Errors
    ///
    /// A configuration error naming the platform when no token could be
    /// had: no credentials found, an unreadable key, a token endpoint that
    /// refused the grant, or the user's provider failing.
    pub(crate) async fn token(&self) -> Result<String, Error> {
        match &self.credentials {
            Credentials::AccessToken(token) => Ok(token.0.clone()),
            Credentials::Provider(provider) => provider.0.token().await.map_err(|e| {
                Error::config_with(
                    format!("the token provider for {} failed", self.platform),
                    e,
                )
            }),
            Credentials::Minted(minted) => {
                let provider = self.provider(minted).await?;
                let token = provider
                    .token(&[CLOUD_PLATFORM_SCOPE])
                    .await
                    .map_err(|e| self.failed("could not get a Google access token", e))?;
                Ok(token.as_str().to_owned())
            }
        }
    }

    /// Drops the cached token after the platform refused it; `true` when
    /// another attempt may get a different one.
    pub(crate) fn reauthorize(&self) -> bool {
        match &self.credentials {
            Credentials::AccessToken(_) => false,
            Credentials::Provider(_) => true,
            Credentials::Minted(_) => {
                self.refused.store(true, Ordering::Release);
                true
            }
        }
    }

    /// The project the credentials belong to, as ADC resolves it, when
    /// that needs no network: a service-account key's `project_id`.
    pub(crate) fn key_project(&self) -> Option<String> {
        let json = match &self.credentials {
            Credentials::Minted(Minted::ServiceAccountKey(key)) => key.0.clone(),
            Credentials::Minted(Minted::ApplicationDefault { file: Some(file) }) => {
                std::fs::read_to_string(file).ok()?
            }
            _ => return None,
        };
        let key: serde_json::Value = serde_json::from_str(&json).ok()?;
        key.get("project_id")
            .or_else(|| key.get("quota_project_id"))?
            .as_str()
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
    }

    /// The `gcp_auth` provider, made on first use and again after a refusal.
    async fn provider(&self, minted: &Minted) -> Result<Arc<dyn gcp_auth::TokenProvider>, Error> {
        let mut slot = self.provider.lock().await;
        if self.refused.swap(false, Ordering::AcqRel) {
            tracing::debug!(
                platform = self.platform,
                "the access token was refused; getting another"
            );
            *slot = None;
        }
        if let Some(provider) = &*slot {
            return Ok(Arc::clone(provider));
        }
        let provider = self.make_provider(minted).await?;
        *slot = Some(Arc::clone(&provider));
        Ok(provider)
    }

    async fn make_provider(
        &self,
        minted: &Minted,
    ) -> Result<Arc<dyn gcp_auth::TokenProvider>, Error> {
        let key = match minted {
            Minted::ServiceAccountKey(key) => key.0.clone(),
            Minted::ApplicationDefault { file: Some(file) } => {
                let json = tokio::fs::read_to_string(file)
                    .await
                    .map_err(|e| Error::io("read the Google credentials file", file, e))?;
                check_key_type(&json, file)?;
                json
            }
            Minted::ApplicationDefault { file: None } => {
                return gcp_auth::provider().await.map_err(|e| {
                    self.failed("found no Google Application Default Credentials", e)
                });
            }
        };
        let account = gcp_auth::CustomServiceAccount::from_json(&key)
            .map_err(|e| self.failed("invalid Google service-account key", e))?;
        Ok(Arc::new(account))
    }

    fn failed(&self, what: &str, source: gcp_auth::Error) -> Error {
        Error::config_with(format!("{what} for {}", self.platform), source)
    }
}

/// Refuses a credentials file that `gcp_auth` cannot use from a path: only
/// service-account keys are read from `GOOGLE_APPLICATION_CREDENTIALS`.
fn check_key_type(json: &str, file: &std::path::Path) -> Result<(), Error> {
    let kind = serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v.get("type")?.as_str().map(str::to_owned));
    match kind.as_deref() {
        Some("service_account") => Ok(()),
        other => Err(Error::config(format!(
            "the Google credentials file {} is of type {:?}; only service_account keys are \
             read from GOOGLE_APPLICATION_CREDENTIALS (user credentials are found by \
             `gcloud auth application-default login` without it)",
            file.display(),
            other.unwrap_or("unknown")
        ))),
    }
}

impl fmt::Debug for GoogleAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.credentials {
            Credentials::AccessToken(_) => "access token",
            Credentials::Provider(_) => "token provider",
            Credentials::Minted(Minted::ServiceAccountKey(_)) => "service-account key",
            Credentials::Minted(Minted::ApplicationDefault { .. }) => {
                "application default credentials"
            }
        };
        f.debug_struct("GoogleAuth")
            .field("credentials", &source)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The user's provider as credentials.
    pub(crate) fn provider(provider: impl TokenProvider) -> Self {
        Credentials::Provider(SharedProvider(Arc::new(provider)))
    }
}
