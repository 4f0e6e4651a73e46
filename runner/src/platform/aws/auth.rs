//! How requests to AWS platforms are authenticated: an API key, or a SigV4
//! signature (by `aws-sigv4`) with credentials from a provider, cached until
//! they near their expiry and dropped when the platform says they expired.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use futures_util::future::BoxFuture;
use reqwest::StatusCode;
use reqwest::header::{HeaderName, HeaderValue};

use crate::error::Error;
use crate::platform::Refused;

/// Credentials this close to their expiry are fetched again first.
const REFRESH_BEFORE: Duration = Duration::from_secs(60);

/// How one AWS platform authenticates.
pub(crate) enum Auth {
    /// A static key in `header` (`Authorization: Bearer ...` or `x-api-key`).
    ApiKey {
        header: HeaderName,
        value: HeaderValue,
    },
    /// SigV4 signatures for `service` in `region`.
    SigV4(Signer),
}

impl Auth {
    /// An API key sent as `Authorization: Bearer <key>`.
    pub(crate) fn bearer(key: &str, platform: &str) -> Result<Self, Error> {
        let value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|e| {
            Error::config_with(
                format!("invalid {platform} API key: not a valid header value"),
                e,
            )
        })?;
        Ok(Auth::ApiKey {
            header: reqwest::header::AUTHORIZATION,
            value: sensitive(value),
        })
    }

    /// Adds the key, or signs `request`.
    pub(crate) fn authorize<'a>(
        &'a self,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            match self {
                Auth::ApiKey { header, value } => {
                    request.headers_mut().insert(header, value.clone());
                    Ok(())
                }
                Auth::SigV4(signer) => signer.sign(request).await,
            }
        })
    }

    /// Drops the cached credentials when the platform said they expired and
    /// a provider may give fresh ones; a static key cannot be renewed.
    pub(crate) fn reauthorize<'a>(&'a self, refused: &'a Refused<'a>) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            match self {
                Auth::SigV4(signer) if signer.renewable && expired(refused) => {
                    tracing::debug!(
                        "the AWS credentials were refused as expired; fetching them again"
                    );
                    *signer.current.lock().await = None;
                    true
                }
                _ => false,
            }
        })
    }
}

impl fmt::Debug for Auth {
    /// Never the key, nor the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::ApiKey { header, .. } => f
                .debug_struct("ApiKey")
                .field("header", header)
                .field("value", &"<redacted>")
                .finish(),
            Auth::SigV4(signer) => f
                .debug_struct("SigV4")
                .field("service", &signer.service)
                .field("region", &signer.region)
                .field("credentials", &"<redacted>")
                .finish(),
        }
    }
}

/// Whether a refusal says the credentials expired: a 401, or a 403 whose
/// error type is `ExpiredToken(Exception)`.
fn expired(refused: &Refused<'_>) -> bool {
    if refused.status == StatusCode::UNAUTHORIZED {
        return true;
    }
    if refused.status != StatusCode::FORBIDDEN {
        return false;
    }
    let named = |text: &str| text.contains("ExpiredToken");
    let header = refused
        .headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok());
    header.is_some_and(named) || named(&String::from_utf8_lossy(refused.body))
}

/// Signs requests with SigV4.
pub(crate) struct Signer {
    service: &'static str,
    region: String,
    provider: SharedCredentialsProvider,
    /// Whether the provider may give other credentials when asked again
    /// (environment variables, a profile, a custom provider): explicit keys
    /// cannot.
    renewable: bool,
    current: tokio::sync::Mutex<Option<Credentials>>,
}

impl Signer {
    pub(crate) fn new(
        service: &'static str,
        region: String,
        provider: SharedCredentialsProvider,
        renewable: bool,
    ) -> Self {
        Signer {
            service,
            region,
            provider,
            renewable,
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// The credentials to sign with: the cached ones while they last.
    async fn credentials(&self) -> Result<Credentials, Error> {
        let mut current = self.current.lock().await;
        let fresh = |c: &Credentials| {
            c.expiry()
                .is_none_or(|at| at > SystemTime::now() + REFRESH_BEFORE)
        };
        if let Some(credentials) = current.as_ref().filter(|c| fresh(c)) {
            return Ok(credentials.clone());
        }
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| Error::config_with("could not load AWS credentials", e))?;
        *current = Some(credentials.clone());
        Ok(credentials)
    }

    /// Adds `x-amz-date`, `x-amz-security-token` (with temporary
    /// credentials) and `authorization` to `request`, signing its method,
    /// URL, headers and body.
    async fn sign(&self, request: &mut reqwest::Request) -> Result<(), Error> {
        let credentials = self.credentials().await?;
        let body = match request.body() {
            None => &[][..],
            Some(body) => body.as_bytes().ok_or_else(|| {
                Error::config("a body streamed from a file cannot be signed with SigV4")
            })?,
        };
        let mut headers = Vec::with_capacity(request.headers().len());
        for (name, value) in request.headers() {
            let value = value.to_str().map_err(|e| {
                Error::config_with(format!("header {name} cannot be signed: not text"), e)
            })?;
            headers.push((name.as_str(), value));
        }
        let signable = SignableRequest::new(
            request.method().as_str(),
            request.url().as_str(),
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| Error::config_with("the request cannot be signed", e))?;
        let identity: Identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Error::config_with("invalid SigV4 signing parameters", e))?
            .into();
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| Error::config_with("could not sign the request", e))?
            .into_parts();
        let (signed, _params) = instructions.into_parts();
        for header in signed {
            let name = HeaderName::from_static(header.name());
            let mut value = HeaderValue::from_str(header.value())
                .map_err(|e| Error::config_with("the signature is not a header value", e))?;
            value.set_sensitive(header.sensitive() || name == reqwest::header::AUTHORIZATION);
            request.headers_mut().insert(name, value);
        }
        Ok(())
    }
}

fn sensitive(mut value: HeaderValue) -> HeaderValue {
    value.set_sensitive(true);
    value
}

/// Reads a variable of the environment (or of a test's snapshot of it).
pub(crate) type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment, empty values as unset.
pub(crate) fn process_env() -> Env {
    Arc::new(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// Credentials from the standard variables `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, read each time they are
/// needed, so that rotated ones are picked up. With feature `aws-config`
/// the AWS chain reads them instead, first of its sources.
#[cfg(not(feature = "aws-config"))]
pub(crate) struct EnvCredentials {
    pub(crate) env: Env,
}

#[cfg(not(feature = "aws-config"))]
impl EnvCredentials {
    /// Whether the variables hold credentials now.
    pub(crate) fn present(env: &Env) -> bool {
        env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some()
    }
}

#[cfg(not(feature = "aws-config"))]
impl fmt::Debug for EnvCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnvCredentials")
    }
}

#[cfg(not(feature = "aws-config"))]
impl ProvideCredentials for EnvCredentials {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        use aws_credential_types::provider::error::CredentialsError;
        let env = &self.env;
        let loaded = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(key), Some(secret)) => Ok(Credentials::new(
                key,
                secret,
                env("AWS_SESSION_TOKEN"),
                None,
                "environment",
            )),
            _ => Err(CredentialsError::not_loaded(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
            )),
        };
        aws_credential_types::provider::future::ProvideCredentials::ready(loaded)
    }
}
