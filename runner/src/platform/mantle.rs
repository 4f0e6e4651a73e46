//! [`BedrockMantle`]: the Messages API on Amazon Bedrock's Mantle endpoint.
//!
//! Requests keep the first-party shape, sent to
//! `https://bedrock-mantle.{region}.api.aws/anthropic/v1/messages`, signed
//! with SigV4 for service `bedrock-mantle` or carrying a bearer API key;
//! streamed replies are server-sent events.

use std::fmt;
use std::sync::Arc;

use super::Feature;
use super::aws::{self, Auth, MessagesApi, Settings};
use super::bedrock::parse_base_url;
use crate::client::Client;
use crate::error::Error;

const NAME: &str = "Bedrock Mantle";
const SERVICE: &str = "bedrock-mantle";
const BASE_URL_VAR: &str = "ANTHROPIC_BEDROCK_MANTLE_BASE_URL";
const API_KEY_VARS: [&str; 2] = ["AWS_BEARER_TOKEN_BEDROCK", "ANTHROPIC_AWS_API_KEY"];

/// Builds a [`Client`] for Bedrock Mantle.
///
/// Authentication, in the official SDK's order: an API key given to
/// [`api_key`](Self::api_key); SigV4 with credentials given to the builder;
/// an API key from `AWS_BEARER_TOKEN_BEDROCK` or `ANTHROPIC_AWS_API_KEY`;
/// else SigV4 with the environment's credentials (with feature
/// `aws-config`: the whole AWS chain). Keys go as `Authorization: Bearer`.
///
/// Mantle offers Messages (and token counting and batches, which the client
/// does not use); the Files and Models APIs are refused before sending, and
/// runners never use message threads.
///
/// # Examples
///
/// ```no_run
/// use toolrunner::platform::BedrockMantle;
///
/// let client = BedrockMantle::from_env().region("us-east-1").build()?;
/// # drop(client);
/// # Ok::<(), toolrunner::Error>(())
/// ```
#[must_use]
pub struct BedrockMantle {
    settings: Settings,
}

impl Default for BedrockMantle {
    fn default() -> Self {
        BedrockMantle::new()
    }
}

impl BedrockMantle {
    /// A builder that reads nothing from the environment.
    pub fn new() -> Self {
        BedrockMantle {
            settings: Settings::new(),
        }
    }

    /// A builder configured from the environment as the official SDK's
    /// `AnthropicBedrockMantle` is: `AWS_REGION` (else
    /// `AWS_DEFAULT_REGION`), `ANTHROPIC_BEDROCK_MANTLE_BASE_URL`,
    /// `AWS_BEARER_TOKEN_BEDROCK` or `ANTHROPIC_AWS_API_KEY`, the AWS
    /// credential variables, and `ANTHROPIC_CUSTOM_HEADERS`.
    pub fn from_env() -> Self {
        BedrockMantle::from_env_with(aws::process_env())
    }

    pub(crate) fn from_env_with(env: aws::Env) -> Self {
        let mut settings = Settings::from_env(env);
        settings.base_url = settings.env_var(&[BASE_URL_VAR]);
        BedrockMantle { settings }
    }

    aws::aws_setters!();

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// A configuration error ([`Error::is_config`]) with neither a region
    /// nor a base URL, with SigV4 and no region or no credentials, or an
    /// invalid base URL.
    pub fn build(self) -> Result<Client, Error> {
        let settings = self.settings;
        let base = match (&settings.base_url, &settings.region) {
            (Some(url), _) => url.clone(),
            (None, Some(region)) => format!("https://bedrock-mantle.{region}.api.aws/anthropic"),
            (None, None) => {
                return Err(Error::config(format!(
                    "no AWS region or base URL for {NAME}: set AWS_REGION (or AWS_DEFAULT_REGION) \
                     or {BASE_URL_VAR}, or call BedrockMantle::region"
                )));
            }
        };
        let base_url = parse_base_url(&base)?;
        let auth = match settings.resolve_key(&API_KEY_VARS) {
            Some(key) => Auth::bearer(&key, NAME)?,
            None => {
                let region = settings.require_region(NAME, "BedrockMantle::region")?;
                let vars = API_KEY_VARS.join(" or ");
                Auth::SigV4(settings.signer(SERVICE, region, NAME, &vars)?)
            }
        };
        let platform = MessagesApi {
            name: NAME,
            base_url,
            auth,
            workspace: None,
            profile_in_body: true,
            offered: &[Feature::CountTokens, Feature::Batches],
        };
        settings.client.build_on(Arc::new(platform))
    }
}

impl fmt::Debug for BedrockMantle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BedrockMantle")
            .field("settings", &self.settings)
            .finish()
    }
}
