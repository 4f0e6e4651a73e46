//! [`GoogleCloud`]: Claude on Google Cloud, the first-party API served
//! through Google's gateway (Anthropic managed).
//!
//! What the official SDKs' `AnthropicGoogleCloud` does, and so this:
//! - the base URL is `ANTHROPIC_GOOGLE_CLOUD_BASE_URL`, else
//!   `https://claude.googleapis.com/v1/projects/{project}/locations/{location}/workspaces/{workspace_id}/invoke`
//!   (values percent-encoded as path segments); the location defaults to
//!   `global`; requests keep the first-party shape under it
//!   (`{base}/v1/messages`), body and headers unchanged;
//! - the project is `ANTHROPIC_GOOGLE_CLOUD_PROJECT`, else
//!   `GOOGLE_CLOUD_PROJECT`, else the credentials'; the workspace is
//!   `ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID`;
//! - a Google OAuth token goes in `Authorization: Bearer`: from a token
//!   provider, a service-account key or Application Default Credentials;
//!   `ANTHROPIC_API_KEY` and `ANTHROPIC_AUTH_TOKEN` are never read;
//! - everything the first-party API offers is offered, message threads
//!   included.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use reqwest::Url;

use super::auth::{Credentials, GoogleAuth, Minted};
use super::path::{checked_path, encode_segment};
use crate::client::{Client, ClientBuilder, ShownUrl};
use crate::error::Error;
use crate::platform::token::{Secret, TokenProvider};
use crate::platform::{
    Endpoint, Feature, MessagesCall, Platform, PlatformRequest, Refused, base_url, join,
};

/// The name errors and spans give the platform.
pub(crate) const NAME: &str = "Claude on Google Cloud";

const ORIGIN: &str = "https://claude.googleapis.com";
const DEFAULT_LOCATION: &str = "global";
const PROJECT_VAR: &str = "ANTHROPIC_GOOGLE_CLOUD_PROJECT";
const GOOGLE_PROJECT_VAR: &str = "GOOGLE_CLOUD_PROJECT";
const LOCATION_VAR: &str = "ANTHROPIC_GOOGLE_CLOUD_LOCATION";
const WORKSPACE_VAR: &str = "ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID";
const BASE_URL_VAR: &str = "ANTHROPIC_GOOGLE_CLOUD_BASE_URL";
const ADC_FILE_VAR: &str = "GOOGLE_APPLICATION_CREDENTIALS";

/// The gateway's side of a request, once configured.
pub(crate) struct GoogleCloudPlatform {
    /// The base URL, ending in `/`.
    pub(crate) base_url: Url,
    /// `None` when the gateway is reached through a pre-authenticated proxy.
    pub(crate) auth: Option<GoogleAuth>,
}

impl std::fmt::Debug for GoogleCloudPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleCloudPlatform")
            .field("base_url", &ShownUrl(self.base_url.as_str()))
            .field("auth", &self.auth)
            .finish()
    }
}

impl Platform for GoogleCloudPlatform {
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
                Some(auth) => auth.authorize(request).await,
                None => Ok(()),
            }
        })
    }

    fn reauthorize<'a>(&'a self, refused: &'a Refused<'a>) -> BoxFuture<'a, bool> {
        let again = self
            .auth
            .as_ref()
            .is_some_and(|auth| auth.reauthorize_after(refused));
        Box::pin(std::future::ready(again))
    }

    fn offers(&self, feature: Feature) -> bool {
        // The gateway serves the whole first-party API.
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

/// Configures a [`Client`](crate::Client) for Claude on Google Cloud.
///
/// # Examples
///
/// ```no_run
/// # fn run() -> Result<(), toolrunner::Error> {
/// use toolrunner::platform::GoogleCloud;
///
/// let client = GoogleCloud::from_env()
///     .project("my-project")
///     .workspace_id("wrkspc_01...")
///     .build()?;
/// # drop(client);
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct GoogleCloud {
    project: Option<String>,
    location: Option<String>,
    workspace_id: Option<String>,
    base_url: Option<String>,
    credentials: Option<Credentials>,
    adc_file: Option<PathBuf>,
    skip_auth: bool,
    /// The settings every client has: timeouts, retries, headers.
    client: ClientBuilder,
}

impl std::fmt::Debug for GoogleCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleCloud")
            .field("project", &self.project)
            .field("location", &self.location)
            .field("workspace_id", &self.workspace_id)
            .field("base_url", &self.base_url.as_deref().map(ShownUrl))
            .field("credentials", &self.credentials)
            .field("adc_file", &self.adc_file)
            .field("skip_auth", &self.skip_auth)
            .field("client", &self.client)
            .finish()
    }
}

impl Default for GoogleCloud {
    fn default() -> Self {
        GoogleCloud::new()
    }
}

impl GoogleCloud {
    /// A builder that reads nothing from the environment; credentials
    /// default to Application Default Credentials.
    pub fn new() -> Self {
        GoogleCloud {
            project: None,
            location: None,
            workspace_id: None,
            base_url: None,
            credentials: None,
            adc_file: None,
            skip_auth: false,
            client: ClientBuilder::new(),
        }
    }

    /// A builder from the environment, as `AnthropicGoogleCloud` reads it:
    /// `ANTHROPIC_GOOGLE_CLOUD_PROJECT` (else `GOOGLE_CLOUD_PROJECT`),
    /// `ANTHROPIC_GOOGLE_CLOUD_LOCATION`, `ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID`
    /// `ANTHROPIC_GOOGLE_CLOUD_BASE_URL` and `ANTHROPIC_CUSTOM_HEADERS`;
    /// and, for Application Default
    /// Credentials, `GOOGLE_APPLICATION_CREDENTIALS`. Setters called
    /// afterwards win. Empty variables count as unset.
    pub fn from_env() -> Self {
        GoogleCloud::from_env_with(|name| std::env::var_os(name))
    }

    /// [`from_env`](Self::from_env) with `var` standing for the environment.
    pub(crate) fn from_env_with(var: impl Fn(&str) -> Option<OsString>) -> Self {
        let text = |name: &str| {
            var(name)
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.is_empty())
        };
        GoogleCloud {
            project: text(PROJECT_VAR).or_else(|| text(GOOGLE_PROJECT_VAR)),
            location: text(LOCATION_VAR),
            workspace_id: text(WORKSPACE_VAR),
            base_url: text(BASE_URL_VAR),
            credentials: None,
            adc_file: var(ADC_FILE_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            skip_auth: false,
            client: ClientBuilder::from_env_headers(text),
        }
    }

    /// Sets the Google Cloud project id.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Sets the location (default `global`).
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// Sets the Anthropic workspace id.
    pub fn workspace_id(mut self, workspace_id: impl Into<String>) -> Self {
        self.workspace_id = Some(workspace_id.into());
        self
    }

    /// Sets the gateway's base URL outright, instead of deriving it.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Asks `provider` for a Google access token before each request.
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.credentials = Some(Credentials::provider(provider));
        self
    }

    /// Sends this Google access token, as is, never refreshed.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::AccessToken(Secret(token.into())));
        self
    }

    /// Authenticates with this service-account key (the JSON of a key
    /// file); its `project_id` is the project unless one is set.
    pub fn service_account_key(mut self, key_json: impl Into<String>) -> Self {
        let key = Minted::ServiceAccountKey(Secret(key_json.into()));
        self.credentials = Some(Credentials::Minted(key));
        self
    }

    /// Sends no credentials, for a pre-authenticated proxy.
    pub fn skip_auth(mut self) -> Self {
        self.skip_auth = true;
        self
    }

    /// Sets the settings every client has (timeout, retries, default
    /// headers, API version, HTTP client) from `builder`, in place of the
    /// `ANTHROPIC_CUSTOM_HEADERS` that [`from_env`](Self::from_env) read. An
    /// API key, auth token or base URL set there is an error at
    /// [`build`](Self::build): the gateway takes its own.
    pub fn client(mut self, builder: ClientBuilder) -> Self {
        self.client = builder;
        self
    }

    /// Builds the client: the ordinary [`Client`], whose requests go to
    /// the gateway. No credential is read until the first request.
    ///
    /// # Errors
    ///
    /// A configuration error naming the variable or setter when the
    /// project or workspace is missing, the URL is invalid, or a client
    /// setting is.
    pub fn build(mut self) -> Result<Client, Error> {
        let client = std::mem::take(&mut self.client);
        client.build_on(Arc::new(self.resolve()?))
    }

    /// Resolves the configuration into the platform.
    ///
    /// # Errors
    ///
    /// A configuration error naming the variable to set when the project or
    /// workspace is missing (with no base URL), when `skip_auth` comes with
    /// credentials, or when the URL is invalid.
    pub(crate) fn resolve(self) -> Result<GoogleCloudPlatform, Error> {
        let auth = match (self.skip_auth, self.credentials) {
            (true, Some(_)) => {
                return Err(Error::config(format!(
                    "skip_auth for {NAME} excludes credentials: it sends none"
                )));
            }
            (true, None) => None,
            (false, credentials) => {
                let credentials =
                    credentials.unwrap_or(Credentials::Minted(Minted::ApplicationDefault {
                        file: self.adc_file,
                    }));
                Some(GoogleAuth::new(NAME, credentials))
            }
        };
        let base_url = match self.base_url {
            Some(url) => url,
            None => {
                let project = self
                    .project
                    .or_else(|| auth.as_ref().and_then(GoogleAuth::key_project))
                    .ok_or_else(|| {
                        Error::config(format!(
                            "no project for {NAME}: set {PROJECT_VAR} or call GoogleCloud::project \
                             (or set the base URL with {BASE_URL_VAR})"
                        ))
                    })?;
                let workspace = self.workspace_id.ok_or_else(|| {
                    Error::config(format!(
                        "no workspace for {NAME}: set {WORKSPACE_VAR} or call \
                         GoogleCloud::workspace_id"
                    ))
                })?;
                let location = self.location.unwrap_or_else(|| DEFAULT_LOCATION.to_owned());
                for (what, value) in [
                    ("project", &project),
                    ("location", &location),
                    ("workspace", &workspace),
                ] {
                    if value.is_empty() {
                        return Err(Error::config(format!("the {what} for {NAME} is empty")));
                    }
                }
                let path = format!(
                    "/v1/projects/{}/locations/{}/workspaces/{}/invoke",
                    encode_segment(&project),
                    encode_segment(&location),
                    encode_segment(&workspace)
                );
                format!(
                    "{ORIGIN}{}",
                    checked_path(&path, NAME, "project, location or workspace")?
                )
            }
        };
        Ok(GoogleCloudPlatform {
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
    fn the_gateway_url_is_derived_as_in_the_sdk() {
        let cloud = GoogleCloud::from_env_with(env(&[
            ("GOOGLE_CLOUD_PROJECT", "proj"),
            ("ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID", "wrkspc_1"),
        ]))
        .access_token("t")
        .resolve()
        .unwrap();
        assert_eq!(
            join(&cloud.base_url, &["v1", "messages"]).as_str(),
            "https://claude.googleapis.com/v1/projects/proj/locations/global/workspaces/wrkspc_1/invoke/v1/messages"
        );
    }

    #[test]
    fn missing_settings_name_the_variable_to_set() {
        let error =
            GoogleCloud::from_env_with(env(&[("ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID", "w")]))
                .access_token("t")
                .resolve()
                .unwrap_err();
        assert!(
            error.to_string().contains("ANTHROPIC_GOOGLE_CLOUD_PROJECT"),
            "{error}"
        );
        let error = GoogleCloud::from_env_with(env(&[("ANTHROPIC_GOOGLE_CLOUD_PROJECT", "p")]))
            .access_token("t")
            .resolve()
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID"),
            "{error}"
        );
        let error = GoogleCloud::new()
            .base_url("http://127.0.0.1:9")
            .skip_auth()
            .access_token("t")
            .resolve()
            .unwrap_err();
        assert!(error.to_string().contains("skip_auth"), "{error}");
    }
}
