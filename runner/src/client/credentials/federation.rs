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
    expires_in: u64,
    token_type: Option<String>,
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
        post_token_request(http, base_url, &body, &[OAUTH_BETA, FEDERATION_BETA]).await
    }
}

/// Posts `body` to the token endpoint and reads the token it answers with.
///
/// # Errors
///
/// As [`Federation::exchange`].
pub(crate) async fn post_token_request(
    http: &reqwest::Client,
    base_url: &Url,
    body: &serde_json::Value,
    betas: &[&str],
) -> Result<AccessToken, Error> {
    let base = base_url.as_str().trim_end_matches('/');
    let url = format!("{base}/{TOKEN_PATH}");
    let shown = super::super::without_password(base_url);
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
        .map_err(|_| failed("the response has no access_token and expires_in".to_owned()))?;
    if let Some(kind) = parsed
        .token_type
        .as_deref()
        .filter(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(failed(format!("token_type {kind:?} is not bearer")));
    }
    Ok(AccessToken {
        token: parsed.access_token,
        expires_at: Some(now().saturating_add(parsed.expires_in)),
    })
}
