//! [`Aws`]: the Anthropic API hosted on AWS.
//!
//! Requests keep the first-party shape, sent to
//! `https://aws-external-anthropic.{region}.api.aws/v1/messages` with the
//! `anthropic-workspace-id` header, signed with SigV4 for service
//! `aws-external-anthropic` or carrying an `x-api-key`.

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;

use super::Feature;
use super::aws::{self, Auth, MessagesApi, Settings};
use super::bedrock::parse_base_url;
use crate::client::Client;
use crate::error::Error;

const NAME: &str = "the Anthropic API on AWS";
const SERVICE: &str = "aws-external-anthropic";
const BASE_URL_VAR: &str = "ANTHROPIC_AWS_BASE_URL";
const API_KEY_VAR: &str = "ANTHROPIC_AWS_API_KEY";
const WORKSPACE_VAR: &str = "ANTHROPIC_AWS_WORKSPACE_ID";

/// Builds a [`Client`] for the Anthropic API hosted on AWS.
///
/// Authentication, in the official SDK's order: an API key given to
/// [`api_key`](Self::api_key); SigV4 with credentials given to the builder;
/// an API key from `ANTHROPIC_AWS_API_KEY`; else SigV4 with the
/// environment's credentials (with feature `aws-config`: the whole AWS
/// chain). Keys go in `x-api-key`. A workspace id is required.
///
/// It is the first-party API: everything, message threads included, works
/// as on [`Client::from_env`]. (A file upload streamed from disk cannot be
/// signed with SigV4: upload bytes, or use an API key.)
///
/// # Examples
///
/// ```no_run
/// use toolrunner::platform::Aws;
///
/// let client = Aws::from_env().region("us-west-2").workspace_id("wrkspc_...").build()?;
/// # drop(client);
/// # Ok::<(), toolrunner::Error>(())
/// ```
#[must_use]
pub struct Aws {
    settings: Settings,
    workspace_id: Option<String>,
}

impl Default for Aws {
    fn default() -> Self {
        Aws::new()
    }
}

impl Aws {
    /// A builder that reads nothing from the environment.
    pub fn new() -> Self {
        Aws {
            settings: Settings::new(),
            workspace_id: None,
        }
    }

    /// A builder configured from the environment as the official SDK's
    /// `AnthropicAWS` is: `AWS_REGION` (else `AWS_DEFAULT_REGION`),
    /// `ANTHROPIC_AWS_BASE_URL`, `ANTHROPIC_AWS_API_KEY`,
    /// `ANTHROPIC_AWS_WORKSPACE_ID`, the AWS credential variables, and
    /// `ANTHROPIC_CUSTOM_HEADERS`.
    pub fn from_env() -> Self {
        Aws::from_env_with(aws::process_env())
    }

    pub(crate) fn from_env_with(env: aws::Env) -> Self {
        let mut settings = Settings::from_env(env);
        settings.base_url = settings.env_var(&[BASE_URL_VAR]);
        let workspace_id = settings.env_var(&[WORKSPACE_VAR]);
        Aws {
            settings,
            workspace_id,
        }
    }

    aws::aws_setters!();

    /// Sets the workspace id, sent as `anthropic-workspace-id`.
    pub fn workspace_id(mut self, id: impl Into<String>) -> Self {
        self.workspace_id = Some(id.into());
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// A configuration error ([`Error::is_config`]) with no workspace id
    /// (naming `ANTHROPIC_AWS_WORKSPACE_ID`), with SigV4 and no region
    /// (naming `AWS_REGION`) or no credentials, with neither a region nor
    /// a base URL, or an invalid base URL.
    pub fn build(self) -> Result<Client, Error> {
        let settings = self.settings;
        let key = settings.resolve_key(&[API_KEY_VAR]);
        let auth = match &key {
            Some(key) => {
                let value = HeaderValue::from_str(key).map_err(|e| {
                    Error::config_with(
                        format!("invalid {NAME} API key: not a valid header value"),
                        e,
                    )
                })?;
                let mut value = value;
                value.set_sensitive(true);
                Auth::ApiKey {
                    header: reqwest::header::HeaderName::from_static("x-api-key"),
                    value,
                }
            }
            None => {
                let region = settings.require_region(NAME, "Aws::region")?;
                Auth::SigV4(settings.signer(SERVICE, region, NAME, API_KEY_VAR)?)
            }
        };
        let Some(workspace) = &self.workspace_id else {
            return Err(Error::config(format!(
                "no workspace id for {NAME}: set {WORKSPACE_VAR}, or call Aws::workspace_id"
            )));
        };
        let workspace = HeaderValue::from_str(workspace)
            .map_err(|e| Error::config_with(format!("invalid workspace id {workspace:?}"), e))?;
        let base = match (&settings.base_url, &settings.region) {
            (Some(url), _) => url.clone(),
            (None, Some(region)) => format!("https://aws-external-anthropic.{region}.api.aws"),
            (None, None) => {
                return Err(Error::config(format!(
                    "no AWS region or base URL for {NAME}: set AWS_REGION (or AWS_DEFAULT_REGION) \
                     or {BASE_URL_VAR}, or call Aws::region"
                )));
            }
        };
        let platform = MessagesApi {
            name: NAME,
            base_url: parse_base_url(&base)?,
            auth,
            workspace: Some(workspace),
            profile_in_body: false,
            offered: &[
                Feature::MessageThreads,
                Feature::AutomaticCaching,
                Feature::CacheDiagnostics,
                Feature::Files,
                Feature::Batches,
                Feature::CountTokens,
                Feature::Models,
            ],
        };
        settings.client.build_on(Arc::new(platform))
    }
}

impl fmt::Debug for Aws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aws")
            .field("settings", &self.settings)
            .field("workspace_id", &self.workspace_id)
            .finish()
    }
}
