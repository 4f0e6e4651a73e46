//! Workload identity federation: an identity token from the platform the
//! code runs on (a Kubernetes service account, a CI job) exchanged at
//! `POST {base}/v1/oauth/token` for a short-lived access token.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::{AccessToken, OAUTH_BETA, now};
use crate::error::Error;

/// The token endpoint, under the base URL.
const TOKEN_PATH: &str = "v1/oauth/token";
const GRANT_TYPE_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const FEDERATION_BETA: &str = "oidc-federation-2026-04-01";
/// A token exchange is one small request; it should not wait as long as a
/// generation does.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);
/// The lifetime of a granted token whose response does not say.
const DEFAULT_EXPIRES_IN_SECS: u64 = 3600;

/// Where the identity token is.
pub(crate) enum Identity {
    /// The token itself.
    Token(String),
    /// A file holding it, read at each exchange since platforms rotate it.
    File(PathBuf),
}

/// What a federation exchange sends.
pub(crate) struct Federation {
    pub(crate) identity: Identity,
    pub(crate) federation_rule_id: String,
    pub(crate) organization_id: String,
    pub(crate) service_account_id: Option<String>,
    pub(crate) workspace_id: Option<String>,
}

impl fmt::Debug for Federation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let identity = match &self.identity {
            Identity::Token(_) => "<redacted>".to_owned(),
            Identity::File(path) => path.display().to_string(),
        };
        f.debug_struct("Federation")
            .field("identity", &identity)
            .field("federation_rule_id", &self.federation_rule_id)
            .field("organization_id", &self.organization_id)
            .field("service_account_id", &self.service_account_id)
            .field("workspace_id", &self.workspace_id)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
    token_type: Option<String>,
    refresh_token: Option<String>,
}

/// What the token endpoint granted: an access token, and for the
/// refresh-token grant, the refresh token to use next when it rotated.
pub(crate) struct Granted {
    pub(crate) token: AccessToken,
    pub(crate) refresh_token: Option<String>,
}

impl fmt::Debug for Granted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Granted")
            .field("token", &self.token)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Federation {
    /// Exchanges the identity token for an access token.
    ///
    /// # Errors
    ///
    /// A configuration error for an unreadable identity token file, a
    /// failed exchange (naming the status and request id, never the body,
    /// which may echo the assertion), or a response without a token.
    pub(crate) async fn exchange(
        &self,
        http: &reqwest::Client,
        base_url: &Url,
    ) -> Result<AccessToken, Error> {
        let assertion = match &self.identity {
            Identity::Token(token) => token.clone(),
            Identity::File(path) => std::fs::read_to_string(path)
                .map_err(|e| {
                    Error::config_with(
                        format!("could not read the identity token file {}", path.display()),
                        e,
                    )
                })?
                .trim()
                .to_owned(),
        };
        let mut body = serde_json::json!({
            "grant_type": GRANT_TYPE_JWT_BEARER,
            "assertion": assertion,
            "federation_rule_id": self.federation_rule_id,
            "organization_id": self.organization_id,
        });
        if let Some(id) = &self.service_account_id {
            body["service_account_id"] = id.clone().into();
        }
        if let Some(id) = &self.workspace_id {
            body["workspace_id"] = id.clone().into();
        }
        let granted =
            post_token_request(http, base_url, &body, &[OAUTH_BETA, FEDERATION_BETA]).await?;
        Ok(granted.token)
    }
}

/// Posts `body` to the token endpoint and reads the token it answers with.
/// The endpoint must be `https`, or `http` on loopback (for tests and
/// local servers): the body carries an assertion or a refresh token.
///
/// # Errors
///
/// As [`Federation::exchange`]; also for a token endpoint in the clear.
pub(crate) async fn post_token_request(
    http: &reqwest::Client,
    base_url: &Url,
    body: &serde_json::Value,
    betas: &[&str],
) -> Result<Granted, Error> {
    let base = base_url.as_str().trim_end_matches('/');
    let url = format!("{base}/{TOKEN_PATH}");
    let shown = super::super::without_password(base_url);
    if !encrypted_or_loopback(base_url) {
        return Err(Error::config(format!(
            "refusing the token endpoint {shown}{TOKEN_PATH}: it must use https (http only on localhost), since the request carries a secret"
        )));
    }
    let failed = |what: String| {
        Error::config(format!(
            "token exchange at {shown}{TOKEN_PATH} failed: {what}"
        ))
    };
    let response = http
        .post(&url)
        .header("anthropic-beta", betas.join(","))
        .header("user-agent", super::super::builder::USER_AGENT_VALUE)
        .header("content-type", "application/json")
        .timeout(EXCHANGE_TIMEOUT)
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| failed(e.without_url().to_string()))?;
    let status = response.status();
    let request_id = response
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response.bytes().await.unwrap_or_default();
    if !status.is_success() {
        let id = request_id
            .map(|id| format!(" (request id {id})"))
            .unwrap_or_default();
        return Err(failed(format!("status {}{id}", status.as_u16())));
    }
    let parsed: TokenResponse = serde_json::from_slice(&bytes)
        .ok()
        .filter(|r: &TokenResponse| !r.access_token.is_empty())
        .ok_or_else(|| failed("the response has no access_token".to_owned()))?;
    if let Some(kind) = parsed
        .token_type
        .as_deref()
        .filter(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(failed(format!("token_type {kind:?} is not bearer")));
    }
    // RFC 6749 makes `expires_in` optional; the official SDKs take an hour
    // when it is left out.
    let expires_in = parsed.expires_in.unwrap_or(DEFAULT_EXPIRES_IN_SECS);
    Ok(Granted {
        token: AccessToken::minted(parsed.access_token, Some(now().saturating_add(expires_in))),
        refresh_token: parsed.refresh_token.filter(|t| !t.is_empty()),
    })
}

/// Whether `url` is `https`, or `http` to this machine.
fn encrypted_or_loopback(url: &Url) -> bool {
    let loopback = || {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    match url.scheme() {
        "https" => true,
        "http" => loopback(),
        _ => false,
    }
}

/// Workload identity federation set up in code, for
/// [`ClientBuilder::workload_identity`](crate::ClientBuilder::workload_identity):
/// the official SDKs' `WorkloadIdentityCredentials`. An identity token from
/// the platform the code runs on (a Kubernetes service account, a CI job)
/// is exchanged at `POST {base}/v1/oauth/token` for short-lived access
/// tokens, which the client caches and renews.
///
/// [`Client::from_env`](crate::Client::from_env) builds the same from
/// `ANTHROPIC_IDENTITY_TOKEN[_FILE]`, `ANTHROPIC_FEDERATION_RULE_ID` and
/// `ANTHROPIC_ORGANIZATION_ID`. `Debug` never shows the identity token.
///
/// # Examples
///
/// ```
/// use toolrunner::credentials::WorkloadIdentity;
///
/// let identity = WorkloadIdentity::from_file(
///     "/var/run/secrets/anthropic/token",
///     "fdrl_01",
///     "org_01",
/// )
/// .service_account_id("svac_01");
/// let client = toolrunner::Client::builder().workload_identity(identity).build()?;
/// # drop(client);
/// # Ok::<(), toolrunner::Error>(())
/// ```
#[must_use]
pub struct WorkloadIdentity(pub(crate) Federation);

impl WorkloadIdentity {
    /// Exchanges identity token `token` under federation rule
    /// `federation_rule_id` of organization `organization_id`.
    pub fn from_token(
        token: impl Into<String>,
        federation_rule_id: impl Into<String>,
        organization_id: impl Into<String>,
    ) -> Self {
        WorkloadIdentity::new(
            Identity::Token(token.into()),
            federation_rule_id,
            organization_id,
        )
    }

    /// As [`from_token`](Self::from_token), the identity token read from
    /// `path` at each exchange, since platforms rotate it.
    pub fn from_file(
        path: impl Into<PathBuf>,
        federation_rule_id: impl Into<String>,
        organization_id: impl Into<String>,
    ) -> Self {
        WorkloadIdentity::new(
            Identity::File(path.into()),
            federation_rule_id,
            organization_id,
        )
    }

    fn new(
        identity: Identity,
        federation_rule_id: impl Into<String>,
        organization_id: impl Into<String>,
    ) -> Self {
        WorkloadIdentity(Federation {
            identity,
            federation_rule_id: federation_rule_id.into(),
            organization_id: organization_id.into(),
            service_account_id: None,
            workspace_id: None,
        })
    }

    /// The service account the token acts as, when the rule allows several.
    pub fn service_account_id(mut self, id: impl Into<String>) -> Self {
        self.0.service_account_id = Some(id.into());
        self
    }

    /// The workspace the token is scoped to.
    pub fn workspace_id(mut self, id: impl Into<String>) -> Self {
        self.0.workspace_id = Some(id.into());
        self
    }
}

impl fmt::Debug for WorkloadIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WorkloadIdentity").field(&self.0).finish()
    }
}
