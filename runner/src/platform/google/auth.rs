//! [`GoogleAuth`]: OAuth access tokens for Google's platforms.
//!
//! Tokens come from an explicit access token, the user's
//! [`TokenProvider`], a service-account key, or Application Default
//! Credentials (ADC: the credentials file `GOOGLE_APPLICATION_CREDENTIALS`
//! names, `gcloud auth application-default login`'s user credentials, the
//! metadata server). Keys and ADC go through Google's own auth crate,
//! `google-cloud-auth`, which caches each token and refreshes it in the
//! background four minutes before it expires. A service-account key is made
//! into a self-signed JWT there, which Google's APIs take as an access
//! token; user credentials are exchanged at their file's `token_uri`; the
//! metadata server is the one `GCE_METADATA_HOST` names, if set.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use google_cloud_auth::credentials::{
    AccessTokenCredentials, Builder as AdcBuilder, external_account, impersonated, service_account,
    user_account,
};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::Error;
use crate::platform::Refused;
use crate::platform::token::{
    Secret, SharedProvider, TokenProvider, has_authorization, insert_bearer,
};

/// The scope Google's platform clients ask for, as the official SDKs do.
pub(crate) const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The folder of gcloud's configuration, as google-auth and gcloud read it:
/// `application_default_credentials.json` there is the user's ADC file.
const GCLOUD_CONFIG_VAR: &str = "CLOUDSDK_CONFIG";

/// The credentials file ADC reads first, when set.
const ADC_FILE_VAR: &str = "GOOGLE_APPLICATION_CREDENTIALS";

/// The file `gcloud auth application-default login` writes.
const ADC_FILE_NAME: &str = "application_default_credentials.json";

/// Where a Google platform's bearer tokens come from.
#[derive(Clone, Debug)]
pub(crate) enum Credentials {
    /// One token, sent as is and never refreshed.
    AccessToken(Secret),
    /// The user's provider, asked before each attempt.
    Provider(SharedProvider),
    /// Tokens minted through `google-cloud-auth`.
    Minted(Minted),
}

/// Credentials that `google-cloud-auth` makes tokens from.
#[derive(Clone, Debug)]
pub(crate) enum Minted {
    /// A service-account key (its JSON).
    ServiceAccountKey(Secret),
    /// Application Default Credentials; `file` is the credentials file
    /// (`GOOGLE_APPLICATION_CREDENTIALS`), else ADC looks for one.
    ApplicationDefault { file: Option<PathBuf> },
}

/// A platform's tokens: where they come from, and the credentials that
/// cache them, made on first use.
pub(crate) struct GoogleAuth {
    platform: &'static str,
    credentials: Credentials,
    /// The credentials, and the runtime whose task refreshes their token.
    minted: Mutex<Option<(AccessTokenCredentials, tokio::runtime::Id)>>,
    /// The platform refused a token: the next request makes new
    /// credentials, so that its token is not the cached, refused one.
    refused: AtomicBool,
}

impl GoogleAuth {
    pub(crate) fn new(platform: &'static str, credentials: Credentials) -> Self {
        GoogleAuth {
            platform,
            credentials,
            minted: Mutex::new(None),
            refused: AtomicBool::new(false),
        }
    }

    /// A token to send as `Authorization: Bearer`.
    ///
    /// # Errors
    ///
    /// A configuration error naming the platform when no token could be
    /// had: no credentials found, an unreadable or unknown credentials
    /// file, a token endpoint or metadata server that refused, or the
    /// user's provider failing.
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
                let credentials = self.minted(minted).await?;
                let token = credentials.access_token().await.map_err(|e| {
                    Error::config_with(
                        format!("could not get a Google access token for {}", self.platform),
                        e,
                    )
                })?;
                Ok(token.token)
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
    /// that needs no network: a service-account key's `project_id`, or a
    /// user credentials file's `quota_project_id`.
    pub(crate) fn key_project(&self) -> Option<String> {
        let json = match &self.credentials {
            Credentials::Minted(Minted::ServiceAccountKey(key)) => key.0.clone(),
            Credentials::Minted(Minted::ApplicationDefault { file: Some(file) }) => {
                std::fs::read_to_string(file).ok()?
            }
            _ => return None,
        };
        let key: Value = serde_json::from_str(&json).ok()?;
        key.get("project_id")
            .or_else(|| key.get("quota_project_id"))?
            .as_str()
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
    }

    /// The credentials, made on first use and again after a refusal.
    async fn minted(&self, minted: &Minted) -> Result<AccessTokenCredentials, Error> {
        let mut slot = self.minted.lock().await;
        if self.refused.swap(false, Ordering::AcqRel) {
            tracing::debug!(
                platform = self.platform,
                "the access token was refused; getting another"
            );
            // Dropping the last handle stops its background refresh.
            *slot = None;
        }
        // google-cloud-auth refreshes tokens in a task on the runtime that
        // made the credentials, and panics waiting for a token once that
        // runtime is gone: a client used from another runtime (one per
        // test, or per blocking call) makes credentials of its own there.
        let runtime = tokio::runtime::Handle::current().id();
        match &*slot {
            Some((credentials, made_on)) if *made_on == runtime => Ok(credentials.clone()),
            _ => {
                let credentials = self.make(minted).await?;
                *slot = Some((credentials.clone(), runtime));
                Ok(credentials)
            }
        }
    }

    async fn make(&self, minted: &Minted) -> Result<AccessTokenCredentials, Error> {
        crate::tls::use_ring_unless_chosen();
        match minted {
            Minted::ServiceAccountKey(key) => {
                let key: Value = serde_json::from_str(&key.0).map_err(|e| {
                    Error::config_with(
                        format!("the service-account key for {} is not JSON", self.platform),
                        e,
                    )
                })?;
                self.of_json(key, "the service-account key")
            }
            Minted::ApplicationDefault { file: Some(file) } => self.read_file(file).await,
            Minted::ApplicationDefault { file: None } => {
                // gcloud keeps its ADC file under CLOUDSDK_CONFIG when set,
                // where google-auth (the Python SDK's) looks for it, after
                // GOOGLE_APPLICATION_CREDENTIALS; google-cloud-auth looks
                // only under the home folder.
                let named = std::env::var_os(ADC_FILE_VAR).is_some_and(|v| !v.is_empty());
                let gcloud = std::env::var_os(GCLOUD_CONFIG_VAR)
                    .filter(|v| !named && !v.is_empty())
                    .map(|dir| PathBuf::from(dir).join(ADC_FILE_NAME))
                    .filter(|file| file.is_file());
                if let Some(file) = gcloud {
                    return self.read_file(&file).await;
                }
                // The rest of the chain: GOOGLE_APPLICATION_CREDENTIALS,
                // gcloud's file under the home folder, the metadata server.
                AdcBuilder::default()
                    .with_scopes([CLOUD_PLATFORM_SCOPE])
                    .build_access_token_credentials()
                    .map_err(|e| {
                        Error::config_with(
                            format!(
                                "found no usable Google Application Default Credentials for {}",
                                self.platform
                            ),
                            e,
                        )
                    })
            }
        }
    }

    async fn read_file(&self, file: &Path) -> Result<AccessTokenCredentials, Error> {
        let json = tokio::fs::read_to_string(file)
            .await
            .map_err(|e| Error::io("read the Google credentials file", file, e))?;
        let value: Value = serde_json::from_str(&json).map_err(|e| {
            Error::config_with(
                format!("the Google credentials file {} is not JSON", file.display()),
                e,
            )
        })?;
        self.of_json(
            value,
            &format!("the Google credentials file {}", file.display()),
        )
    }

    /// Credentials of the kind `json`'s `type` names; `what` names where
    /// it came from, for errors.
    fn of_json(&self, json: Value, what: &str) -> Result<AccessTokenCredentials, Error> {
        let kind = json
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let scopes = [CLOUD_PLATFORM_SCOPE];
        let built = match kind.as_str() {
            "service_account" => service_account::Builder::new(json)
                .with_access_specifier(service_account::AccessSpecifier::from_scopes(scopes))
                .build_access_token_credentials(),
            "authorized_user" => user_account::Builder::new(json)
                .with_scopes(scopes)
                .build_access_token_credentials(),
            "impersonated_service_account" => impersonated::Builder::new(json)
                .with_scopes(scopes)
                .build_access_token_credentials(),
            "external_account" => external_account::Builder::new(json)
                .with_scopes(scopes)
                .build_access_token_credentials(),
            other => {
                return Err(Error::config(format!(
                    "{what} is of type {other:?}, which {} cannot use: expected \
                     service_account, authorized_user, impersonated_service_account or \
                     external_account",
                    self.platform
                )));
            }
        };
        built.map_err(|e| {
            Error::config_with(
                format!("{what} ({kind}) is not usable for {}", self.platform),
                e,
            )
        })
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
    use crate::testing::platform_google::{
        REFRESH_TOKEN_GRANT, TEST_OAUTH_CLIENT_ID, TEST_OAUTH_CLIENT_SECRET, TEST_REFRESH_TOKEN,
        TokenEndpoint,
    };

    fn keyed(endpoint: &TokenEndpoint) -> GoogleAuth {
        let key = Minted::ServiceAccountKey(Secret(endpoint.service_account_key()));
        GoogleAuth::new("Vertex AI", Credentials::Minted(key))
    }

    /// A fresh folder for credentials files.
    fn folder(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("toolrunner-adc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// ADC from a file holding `json`.
    fn from_file(name: &str, json: &str) -> (GoogleAuth, PathBuf) {
        let dir = folder(name);
        let file = dir.join("credentials.json");
        std::fs::write(&file, json).unwrap();
        let adc = Minted::ApplicationDefault { file: Some(file) };
        (GoogleAuth::new("Vertex AI", Credentials::Minted(adc)), dir)
    }

    #[tokio::test]
    async fn a_service_account_key_signs_a_jwt_that_google_takes_and_it_is_cached() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        let auth = keyed(&endpoint);
        let first = auth.token().await.unwrap();
        assert_eq!(auth.token().await.unwrap(), first);
        // Checked as Google would: RS256 by the test key, issued by its
        // account, for the cloud-platform scope, not expired.
        assert!(endpoint.is_valid(&first), "{:?}", endpoint.refusals());
        assert_eq!(endpoint.self_signed_tokens(), [first]);
        assert!(endpoint.grants().is_empty(), "no token endpoint is asked");
        assert_eq!(auth.key_project().as_deref(), Some("scripted-project"));
    }

    #[tokio::test]
    async fn gcloud_user_credentials_are_exchanged_at_their_token_uri_once() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        let (auth, dir) = from_file("user", &endpoint.authorized_user());
        let first = auth.token().await.unwrap();
        assert_eq!(auth.token().await.unwrap(), first);
        let grants = endpoint.grants();
        assert_eq!(grants.len(), 1, "{:?}", endpoint.refusals());
        assert_eq!(grants[0].grant_type, REFRESH_TOKEN_GRANT);
        assert_eq!(grants[0].claims["client_id"], TEST_OAUTH_CLIENT_ID);
        assert_eq!(grants[0].claims["scope"], CLOUD_PLATFORM_SCOPE);
        assert_eq!(grants[0].access_token, first);
        // The user's quota project stands for the project.
        assert_eq!(auth.key_project().as_deref(), Some("scripted-project"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_token_is_refreshed_before_it_expires() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        // google-cloud-auth refreshes a token four minutes before it
        // expires: this one is refreshed a second after it is issued,
        // three minutes before it would expire.
        endpoint.set_expires_in(241);
        let (auth, dir) = from_file("refresh", &endpoint.authorized_user());
        let first = auth.token().await.unwrap();
        endpoint.set_expires_in(3600);
        // Waits for the refresh (an event, not a time): bounded so that a
        // refresh that never comes fails the test rather than hanging it.
        for _ in 0..600 {
            if endpoint.grants().len() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let grants = endpoint.grants();
        assert_eq!(grants.len(), 2, "no refresh: {:?}", endpoint.refusals());
        // The first token is still good, yet the next request gets the new.
        assert!(endpoint.is_valid(&first));
        let second = auth.token().await.unwrap();
        assert_ne!(first, second);
        assert_eq!(second, grants[1].access_token);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_client_used_from_a_second_runtime_gets_its_tokens_there() {
        let runtime = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        };
        let serving = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let endpoint = serving.block_on(TokenEndpoint::start()).unwrap();
        // Tokens that expire at once: the second runtime cannot use the
        // first's and must wait for a refresh.
        endpoint.set_expires_in(0);
        let (auth, dir) = from_file("runtimes", &endpoint.authorized_user());
        let first = runtime().block_on(auth.token()).unwrap();
        // The first runtime is gone, and its refresh task with it.
        let second = runtime().block_on(auth.token()).unwrap();
        assert_ne!(first, second);
        assert_eq!(endpoint.grants().len(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_refused_token_is_replaced_by_a_fresh_grant() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        let (auth, dir) = from_file("refused", &endpoint.authorized_user());
        let first = auth.token().await.unwrap();
        assert!(auth.reauthorize());
        let second = auth.token().await.unwrap();
        assert_ne!(first, second);
        assert_eq!(auth.token().await.unwrap(), second);
        assert_eq!(endpoint.grants().len(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_refused_grant_is_a_config_error_naming_the_platform_and_no_secret() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        endpoint.refuse_grants();
        let (auth, dir) = from_file("revoked", &endpoint.authorized_user());
        let error = auth.token().await.unwrap_err();
        assert!(error.is_config());
        let shown = format!("{error} {error:?}");
        assert!(shown.contains("Vertex AI"), "{shown}");
        for secret in [TEST_REFRESH_TOKEN, TEST_OAUTH_CLIENT_SECRET] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(!endpoint.refusals().is_empty());
        let _ = std::fs::remove_dir_all(dir);
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
        use std::sync::Arc;
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
    async fn a_credentials_file_of_an_unknown_type_is_refused_naming_it() {
        let (auth, dir) = from_file("unknown", r#"{"type":"gdch_service_account"}"#);
        let error = auth.token().await.unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains("gdch_service_account"), "{shown}");
        assert!(shown.contains("authorized_user"), "{shown}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
