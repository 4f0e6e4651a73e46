//! [`Foundry`]: Claude on Microsoft Foundry.
//!
//! What the official SDKs' `AnthropicFoundry` does, and so this:
//! - the base URL is `https://{resource}.services.ai.azure.com/anthropic/`
//!   for a resource (`ANTHROPIC_FOUNDRY_RESOURCE`), or a base URL given
//!   outright (`ANTHROPIC_FOUNDRY_BASE_URL`); the two exclude each other;
//!   requests keep the first-party shape under it (`{base}/v1/messages`);
//! - an API key (`ANTHROPIC_FOUNDRY_API_KEY`) goes in both `x-api-key` and
//!   `api-key` (the Python SDK sends both, the latter for older
//!   endpoints); a Microsoft Entra ID token from a [`TokenProvider`] goes
//!   in `Authorization: Bearer` instead and wins over a key;
//! - message batches and the models endpoint are not offered; message
//!   threads, files and token counting are.

use std::ffi::OsString;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};

use crate::client::{Client, ClientBuilder, ShownUrl};
use crate::error::Error;
use crate::platform::token::{
    Secret, SharedProvider, TokenProvider, has_authorization, insert_bearer,
};
use crate::platform::{
    Endpoint, Feature, MessagesCall, Platform, PlatformRequest, Refused, base_url, join,
};

/// The name errors and spans give the platform.
pub(crate) const NAME: &str = "Microsoft Foundry";

const API_KEY_VAR: &str = "ANTHROPIC_FOUNDRY_API_KEY";
const RESOURCE_VAR: &str = "ANTHROPIC_FOUNDRY_RESOURCE";
const BASE_URL_VAR: &str = "ANTHROPIC_FOUNDRY_BASE_URL";

/// How requests to Foundry are authenticated.
#[derive(Clone, Debug)]
pub(crate) enum FoundryAuth {
    /// A Foundry API key.
    ApiKey(Secret),
    /// Microsoft Entra ID tokens from the user's provider.
    Entra(SharedProvider),
}

/// Foundry's side of a request, once configured.
pub(crate) struct FoundryPlatform {
    /// The base URL, ending in `/`.
    pub(crate) base_url: Url,
    pub(crate) auth: FoundryAuth,
}

const KEY_HEADERS: [HeaderName; 2] = [
    HeaderName::from_static("x-api-key"),
    HeaderName::from_static("api-key"),
];

impl std::fmt::Debug for FoundryPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoundryPlatform")
            .field("base_url", &ShownUrl(self.base_url.as_str()))
            .field("auth", &self.auth)
            .finish()
    }
}

impl Platform for FoundryPlatform {
    fn name(&self) -> &'static str {
        NAME
    }

    fn messages(&self, call: &MessagesCall<'_>) -> Result<PlatformRequest, Error> {
        let url = join(&self.base_url, &["v1", "messages"]);
        Ok(PlatformRequest::first_party(call, url))
    }

    fn endpoint(&self, endpoint: Endpoint<'_>) -> Result<Url, Error> {
        Ok(base_url::first_party_endpoint(&self.base_url, endpoint))
    }

    fn authorize<'a>(
        &'a self,
        _http: &'a reqwest::Client,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            match &self.auth {
                FoundryAuth::ApiKey(key) => {
                    let mut value = HeaderValue::from_str(&key.0).map_err(|e| {
                        Error::config_with(
                            format!("the API key for {NAME} is not a valid header value"),
                            e,
                        )
                    })?;
                    value.set_sensitive(true);
                    // A default header of the same name wins, as in the SDK.
                    for name in KEY_HEADERS {
                        request
                            .headers_mut()
                            .entry(name)
                            .or_insert_with(|| value.clone());
                    }
                    Ok(())
                }
                FoundryAuth::Entra(_) if has_authorization(request) => Ok(()),
                FoundryAuth::Entra(provider) => {
                    let token = provider.0.token().await.map_err(|e| {
                        Error::config_with(format!("the token provider for {NAME} failed"), e)
                    })?;
                    if token.is_empty() {
                        return Err(Error::config(format!(
                            "the token provider for {NAME} gave an empty token"
                        )));
                    }
                    insert_bearer(request, &token, NAME)
                }
            }
        })
    }

    fn reauthorize<'a>(&'a self, refused: &'a Refused<'a>) -> BoxFuture<'a, bool> {
        // The provider is asked again; a key would only be refused again.
        let again = matches!(self.auth, FoundryAuth::Entra(_))
            && refused.status == reqwest::StatusCode::UNAUTHORIZED;
        Box::pin(std::future::ready(again))
    }

    fn offers(&self, feature: Feature) -> bool {
        match feature {
            Feature::MessageThreads | Feature::Files | Feature::CountTokens => true,
            Feature::Batches
            | Feature::Models
            | Feature::AutomaticCaching
            | Feature::CacheDiagnostics => false,
        }
    }
}

/// Configures a [`Client`](crate::Client) for Claude on Microsoft Foundry.
///
/// # Examples
///
/// ```no_run
/// # fn run() -> Result<(), toolrunner::Error> {
/// use toolrunner::platform::Foundry;
///
/// let client = Foundry::from_env().resource("my-resource").api_key("...").build()?;
/// # drop(client);
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct Foundry {
    resource: Option<String>,
    base_url: Option<String>,
    auth: Option<FoundryAuth>,
    /// The settings every client has: timeouts, retries, headers.
    client: ClientBuilder,
}

impl std::fmt::Debug for Foundry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Foundry")
            .field("resource", &self.resource)
            .field("base_url", &self.base_url.as_deref().map(ShownUrl))
            .field("auth", &self.auth)
            .field("client", &self.client)
            .finish()
    }
}

impl Default for Foundry {
    fn default() -> Self {
        Foundry::new()
    }
}

impl Foundry {
    /// A builder that reads nothing from the environment.
    pub fn new() -> Self {
        Foundry {
            resource: None,
            base_url: None,
            auth: None,
            client: ClientBuilder::new(),
        }
    }

    /// A builder from the environment, as `AnthropicFoundry` reads it:
    /// `ANTHROPIC_FOUNDRY_API_KEY`, `ANTHROPIC_FOUNDRY_RESOURCE` and
    /// `ANTHROPIC_FOUNDRY_BASE_URL`, and `ANTHROPIC_CUSTOM_HEADERS`. Setters
    /// called afterwards win. Empty
    /// variables count as unset.
    pub fn from_env() -> Self {
        Foundry::from_env_with(|name| std::env::var_os(name))
    }

    /// [`from_env`](Self::from_env) with `var` standing for the environment.
    pub(crate) fn from_env_with(var: impl Fn(&str) -> Option<OsString>) -> Self {
        let text = |name: &str| {
            var(name)
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.is_empty())
        };
        Foundry {
            resource: text(RESOURCE_VAR),
            base_url: text(BASE_URL_VAR),
            auth: text(API_KEY_VAR).map(|key| FoundryAuth::ApiKey(Secret(key))),
            client: ClientBuilder::from_env_headers(text),
        }
    }

    /// Sets the Foundry resource, e.g. `example-resource` for
    /// `https://example-resource.services.ai.azure.com/anthropic/`, in
    /// place of any base URL.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self.base_url = None;
        self
    }

    /// Sets the base URL outright, in place of any resource.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self.resource = None;
        self
    }

    /// Authenticates with a Foundry API key, in place of a token provider.
    /// The key is kept out of `Debug` output, errors and logs.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.auth = Some(FoundryAuth::ApiKey(Secret(key.into())));
        self
    }

    /// Authenticates with Microsoft Entra ID tokens from `provider`, asked
    /// before each request, in place of an API key.
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        let provider = SharedProvider(Arc::new(provider));
        self.auth = Some(FoundryAuth::Entra(provider));
        self
    }

    /// Sets the settings every client has (timeout, retries, default
    /// headers, API version, HTTP client) from `builder`, in place of the
    /// `ANTHROPIC_CUSTOM_HEADERS` that [`from_env`](Self::from_env) read. An
    /// API key, auth token or base URL set there is an error at
    /// [`build`](Self::build): Foundry takes its own.
    pub fn client(mut self, builder: ClientBuilder) -> Self {
        self.client = builder;
        self
    }

    /// Builds the client: the ordinary [`Client`], whose requests go to
    /// Foundry.
    ///
    /// # Errors
    ///
    /// A configuration error naming the variables and setters when the
    /// credentials or the resource are missing, a resource and a base URL
    /// both come from the environment, the URL is invalid, or a client
    /// setting is.
    pub fn build(mut self) -> Result<Client, Error> {
        let client = std::mem::take(&mut self.client);
        client.build_on(Arc::new(self.resolve()?))
    }

    /// Resolves the configuration into the platform.
    ///
    /// # Errors
    ///
    /// A configuration error naming the variables and setters when the
    /// credentials or the resource are missing, both a resource and a base
    /// URL come from the environment, or the URL is invalid.
    pub(crate) fn resolve(self) -> Result<FoundryPlatform, Error> {
        let auth = self.auth.ok_or_else(|| {
            Error::config(format!(
                "no credentials for {NAME}: set {API_KEY_VAR}, or call Foundry::api_key \
                 or Foundry::token_provider"
            ))
        })?;
        let base_url = match (self.resource, self.base_url) {
            (Some(_), Some(_)) => {
                return Err(Error::config(format!(
                    "{RESOURCE_VAR} and {BASE_URL_VAR} are both set for {NAME}; they exclude \
                     each other"
                )));
            }
            (Some(resource), None) => {
                format!("https://{resource}.services.ai.azure.com/anthropic/")
            }
            (None, Some(url)) => url,
            (None, None) => {
                return Err(Error::config(format!(
                    "no resource for {NAME}: set {RESOURCE_VAR} or {BASE_URL_VAR}, or call \
                     Foundry::resource or Foundry::base_url"
                )));
            }
        };
        Ok(FoundryPlatform {
            base_url: base_url::parse(&base_url)?,
            auth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars = vars.to_vec();
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn a_resource_makes_the_sdks_url() {
        let foundry = Foundry::from_env_with(env(&[
            ("ANTHROPIC_FOUNDRY_RESOURCE", "example-resource"),
            ("ANTHROPIC_FOUNDRY_API_KEY", "k"),
        ]))
        .resolve()
        .unwrap();
        assert_eq!(
            join(&foundry.base_url, &["v1", "messages"]).as_str(),
            "https://example-resource.services.ai.azure.com/anthropic/v1/messages"
        );
    }

    #[test]
    fn a_base_url_keeps_its_path() {
        let foundry = Foundry::new()
            .base_url("http://127.0.0.1:9/anthropic")
            .api_key("k")
            .resolve()
            .unwrap();
        assert_eq!(
            join(&foundry.base_url, &["v1", "messages"]).as_str(),
            "http://127.0.0.1:9/anthropic/v1/messages"
        );
    }

    #[test]
    fn missing_or_conflicting_settings_name_the_variables() {
        let error = Foundry::from_env_with(env(&[("ANTHROPIC_FOUNDRY_RESOURCE", "r")]))
            .resolve()
            .unwrap_err();
        assert!(
            error.to_string().contains("ANTHROPIC_FOUNDRY_API_KEY"),
            "{error}"
        );
        let error = Foundry::from_env_with(env(&[("ANTHROPIC_FOUNDRY_API_KEY", "k")]))
            .resolve()
            .unwrap_err();
        assert!(
            error.to_string().contains("ANTHROPIC_FOUNDRY_RESOURCE"),
            "{error}"
        );
        let error = Foundry::from_env_with(env(&[
            ("ANTHROPIC_FOUNDRY_API_KEY", "k"),
            ("ANTHROPIC_FOUNDRY_RESOURCE", "r"),
            ("ANTHROPIC_FOUNDRY_BASE_URL", "https://x.example/anthropic/"),
        ]))
        .resolve()
        .unwrap_err();
        assert!(error.to_string().contains("exclude"), "{error}");
        // A setter replaces what the environment gave.
        let foundry = Foundry::from_env_with(env(&[
            ("ANTHROPIC_FOUNDRY_API_KEY", "k"),
            ("ANTHROPIC_FOUNDRY_RESOURCE", "r"),
            ("ANTHROPIC_FOUNDRY_BASE_URL", "https://x.example/anthropic/"),
        ]))
        .base_url("https://y.example/anthropic/")
        .resolve()
        .unwrap();
        assert_eq!(foundry.base_url.as_str(), "https://y.example/anthropic/");
    }

    #[test]
    fn debug_shows_no_credential() {
        let foundry = Foundry::new().resource("r").api_key("sk-foundry-secret");
        assert!(!format!("{foundry:?}").contains("secret"));
        let foundry = Foundry::new()
            .resource("r")
            .token_provider(|| async { Ok::<_, std::io::Error>("entra-secret".to_owned()) });
        assert!(!format!("{foundry:?}").contains("secret"));
    }
}
