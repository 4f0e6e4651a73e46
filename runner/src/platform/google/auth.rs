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
use crate::platform::Refused;
use crate::platform::token::{
    Secret, SharedProvider, TokenProvider, has_authorization, insert_bearer,
};

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
            Credentials::Provider(provider) => provider.bearer().await.map_err(|e| {
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

    /// Puts a token on `request`, unless it carries its own
    /// `Authorization` (a default header), which wins as in the SDKs.
    ///
    /// # Errors
    ///
    /// As [`token`](Self::token).
    pub(crate) async fn authorize(&self, request: &mut reqwest::Request) -> Result<(), Error> {
        if has_authorization(request) {
            return Ok(());
        }
        let token = self.token().await?;
        insert_bearer(request, &token, self.platform)
    }

    /// After `refused`: a `401` is Google's answer to an expired or revoked
    /// token, so the cached one is dropped and one more attempt may succeed.
    pub(crate) fn reauthorize_after(&self, refused: &Refused<'_>) -> bool {
        refused.status == reqwest::StatusCode::UNAUTHORIZED && self.reauthorize()
    }

    /// Drops the cached token after the platform refused it; `true` when
    /// another attempt may get a different one.
    pub(crate) fn reauthorize(&self) -> bool {
        match &self.credentials {
            Credentials::AccessToken(_) => false,
            Credentials::Provider(provider) => {
                provider.refused();
                true
            }
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
                // The rest of the chain (gcloud's user credentials, the
                // metadata server, the gcloud CLI) is gcp_auth's. No test
                // reaches its metadata server on loopback: gcp_auth 0.12
                // asks `http://metadata.google.internal/computeMetadata/v1/`
                // (port 80, name resolved by the system) and reads no
                // `GCE_METADATA_HOST` / `GCE_METADATA_IP` / `GCE_METADATA_ROOT`
                // to send it elsewhere, as google-auth and cloud.google.com/go
                // do; pointing it at a test server would take editing
                // /etc/hosts and binding port 80, which a test must not.
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
        Credentials::Provider(SharedProvider::new(provider))
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use crate::testing::platform_google::{JWT_BEARER_GRANT, TEST_CLIENT_EMAIL, TokenEndpoint};

    fn keyed(endpoint: &TokenEndpoint) -> GoogleAuth {
        let key = Minted::ServiceAccountKey(Secret(endpoint.service_account_key()));
        GoogleAuth::new("Vertex AI", Credentials::Minted(key))
    }

    #[tokio::test]
    async fn a_service_account_key_is_exchanged_once_and_the_token_cached() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        let auth = keyed(&endpoint);
        let first = auth.token().await.unwrap();
        let second = auth.token().await.unwrap();
        assert_eq!(first, second);
        let grants = endpoint.grants();
        assert_eq!(grants.len(), 1, "{:?}", endpoint.refusals());
        assert_eq!(grants[0].access_token, first);
        assert_eq!(grants[0].claims["iss"], TEST_CLIENT_EMAIL);
        assert_eq!(grants[0].claims["aud"], endpoint.url());
        assert_eq!(grants[0].claims["scope"], CLOUD_PLATFORM_SCOPE);
        assert_eq!(auth.key_project().as_deref(), Some("scripted-project"));
        let _ = JWT_BEARER_GRANT;
    }

    #[tokio::test]
    async fn a_token_near_its_expiry_is_refreshed_before_it_is_sent() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        // gcp_auth refreshes a token with 20 seconds or less to live.
        endpoint.set_expires_in(15);
        let auth = keyed(&endpoint);
        let first = auth.token().await.unwrap();
        let second = auth.token().await.unwrap();
        assert_ne!(first, second);
        assert_eq!(endpoint.grants().len(), 2);
    }

    #[tokio::test]
    async fn a_refused_token_is_replaced_by_a_fresh_grant() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        let auth = keyed(&endpoint);
        let first = auth.token().await.unwrap();
        assert!(auth.reauthorize());
        let second = auth.token().await.unwrap();
        assert_ne!(first, second);
        assert_eq!(auth.token().await.unwrap(), second);
        assert_eq!(endpoint.grants().len(), 2);
    }

    #[tokio::test]
    async fn a_refused_grant_is_a_config_error_naming_the_platform() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        endpoint.refuse_grants();
        let error = keyed(&endpoint).token().await.unwrap_err();
        assert!(error.is_config());
        let shown = error.to_string();
        assert!(shown.contains("Vertex AI"), "{shown}");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        assert!(!endpoint.refusals().is_empty());
    }

    #[tokio::test]
    async fn a_static_token_cannot_be_refreshed() {
        let auth = GoogleAuth::new("Vertex AI", Credentials::AccessToken(Secret("t".into())));
        assert_eq!(auth.token().await.unwrap(), "t");
        assert!(!auth.reauthorize());
        let shown = format!("{auth:?}");
        assert!(!shown.contains("\"t\""), "{shown}");
    }

    #[tokio::test]
    async fn a_failing_provider_is_an_error_naming_the_platform() {
        let provider = || async { Err::<String, _>(std::io::Error::other("broker down")) };
        let auth = GoogleAuth::new("Vertex AI", Credentials::provider(provider));
        let error = auth.token().await.unwrap_err();
        assert!(error.to_string().contains("Vertex AI"), "{error}");
        assert!(auth.reauthorize());
    }

    #[tokio::test]
    async fn a_provider_is_asked_for_a_fresh_token_after_a_refusal() {
        use crate::credentials::{AccessToken, TokenError, TokenRequest};
        use futures_util::future::BoxFuture;

        struct Noting(std::sync::Mutex<Vec<bool>>);
        impl TokenProvider for Noting {
            fn token(
                &self,
                request: TokenRequest,
            ) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
                self.0.lock().unwrap().push(request.force_refresh());
                Box::pin(async { Ok(AccessToken::new("t")) })
            }
        }
        let noting = Arc::new(Noting(std::sync::Mutex::new(Vec::new())));
        let shared = Arc::clone(&noting);
        struct Via(Arc<Noting>);
        impl TokenProvider for Via {
            fn token(
                &self,
                request: TokenRequest,
            ) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
                self.0.token(request)
            }
        }
        let auth = GoogleAuth::new("Vertex AI", Credentials::provider(Via(shared)));
        auth.token().await.unwrap();
        assert!(auth.reauthorize());
        auth.token().await.unwrap();
        auth.token().await.unwrap();
        assert_eq!(*noting.0.lock().unwrap(), [false, true, false]);
    }

    #[tokio::test]
    async fn a_user_credentials_file_is_refused_with_what_to_do() {
        let dir = std::env::temp_dir().join(format!("toolrunner-adc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("authorized_user.json");
        std::fs::write(&file, r#"{"type":"authorized_user","refresh_token":"r"}"#).unwrap();
        let adc = Minted::ApplicationDefault { file: Some(file) };
        let error = GoogleAuth::new("Vertex AI", Credentials::Minted(adc))
            .token()
            .await
            .unwrap_err();
        assert!(error.to_string().contains("authorized_user"), "{error}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
