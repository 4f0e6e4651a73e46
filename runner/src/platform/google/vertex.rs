//! [`Vertex`]: Claude on Google Vertex AI.
//!
//! What the official SDKs' `AnthropicVertex` does, and so this:
//! - the base URL is `ANTHROPIC_VERTEX_BASE_URL`, else by region:
//!   `global` → `https://aiplatform.googleapis.com/v1`, `us` / `eu` →
//!   `https://aiplatform.{us,eu}.rep.googleapis.com/v1`, any other →
//!   `https://{region}-aiplatform.googleapis.com/v1`;
//! - a message goes to `{base}/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict`
//!   (`:streamRawPredict` when streamed), each value percent-encoded as a
//!   path segment; `model` leaves the body, `anthropic_version` joins it
//!   (the client's API version) and the `anthropic-version` header is not
//!   sent; betas stay in the `anthropic-beta` header;
//! - token counting goes to
//!   `{base}/projects/{project}/locations/{region}/publishers/anthropic/models/count-tokens:rawPredict`,
//!   the body keeping `model` and taking `anthropic_version`; message
//!   batches, files, models and message threads are not offered;
//! - a Google OAuth token (`cloud-platform` scope) is sent as
//!   `Authorization: Bearer`, from an explicit token, Application Default
//!   Credentials or a service-account key.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use reqwest::Url;

use super::auth::{Credentials, GoogleAuth, Minted};
use super::path::{checked_path, encode_segment};
use crate::client::{Client, ClientBuilder, ShownUrl};
use crate::error::Error;
use crate::platform::token::{Secret, TokenProvider};
use crate::platform::{
    CODE_EXECUTION_BETA, CODE_EXECUTION_TOOL, Endpoint, Feature, Lacking, MessagesCall, Platform,
    PlatformRequest, Refusals, Refused, Unoffered, base_url, unsupported_endpoint,
};

/// The name errors and spans give the platform.
pub(crate) const NAME: &str = "Vertex AI";

const REGION_VAR: &str = "CLOUD_ML_REGION";
const PROJECT_VAR: &str = "ANTHROPIC_VERTEX_PROJECT_ID";
const BASE_URL_VAR: &str = "ANTHROPIC_VERTEX_BASE_URL";
/// Read by Google's ADC, not by the SDK's client itself.
const ADC_FILE_VAR: &str = "GOOGLE_APPLICATION_CREDENTIALS";
/// The project ADC takes from the environment before the credentials'.
const ADC_PROJECT_VARS: [&str; 2] = ["GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"];

/// The tools and betas Vertex AI lacks, refused before sending; each entry
/// names the public sources that say so.
///
/// The Vercel AI SDK's Vertex provider for Claude lists the tools "recognized
/// by the Vertex API" (bash, text editor, computer, web search, tool search;
/// `@ai-sdk/google-vertex` 4.0.208, `src/anthropic/google-vertex-anthropic-provider.ts`)
/// and its guide says "Tools like Code Execution, Memory, and Web Fetch are not
/// available" (https://ai-sdk.dev/providers/ai-sdk-providers/google-vertex,
/// "Google Vertex Anthropic", Tools); LiteLLM lists programmatic tool calling
/// on Vertex AI as "Not supported"
/// (https://litellm-5iwo609fs-clerkieai.vercel.app/docs/providers/anthropic_programmatic_tool_calling).
/// Memory, run by the caller, is left to Vertex to accept or refuse.
static UNOFFERED: Unoffered = Unoffered {
    tools: &[
        CODE_EXECUTION_TOOL,
        Lacking {
            prefix: "web_fetch_",
            feature: "the web fetch tool",
            instead: None,
        },
    ],
    betas: &[CODE_EXECUTION_BETA],
};

/// The base URL the SDKs use for `region`.
pub(crate) fn default_base_url(region: &str) -> String {
    match region {
        "global" => "https://aiplatform.googleapis.com/v1".to_owned(),
        "us" | "eu" => format!("https://aiplatform.{region}.rep.googleapis.com/v1"),
        _ => format!("https://{region}-aiplatform.googleapis.com/v1"),
    }
}

/// Vertex AI's side of a request, once configured.
pub(crate) struct VertexPlatform {
    /// The base URL, without a trailing `/`.
    base_url: String,
    region: String,
    project: String,
    pub(crate) auth: GoogleAuth,
    refusals: Refusals,
}

impl std::fmt::Debug for VertexPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VertexPlatform")
            .field("base_url", &ShownUrl(&self.base_url))
            .field("region", &self.region)
            .field("project", &self.project)
            .field("auth", &self.auth)
            .field("refusals", &self.refusals)
            .finish()
    }
}

impl VertexPlatform {
    /// Where a message for `model` goes.
    ///
    /// # Errors
    ///
    /// A configuration error when the model, project or region would make
    /// a path segment that climbs out of the route.
    pub(crate) fn messages_url(&self, model: &str, streamed: bool) -> Result<Url, Error> {
        let specifier = if streamed {
            "streamRawPredict"
        } else {
            "rawPredict"
        };
        let path = format!(
            "{}/models/{}:{specifier}",
            self.publisher_path(),
            encode_segment(model)
        );
        self.url(&path, "model")
    }

    fn publisher_path(&self) -> String {
        format!(
            "/projects/{}/locations/{}/publishers/anthropic",
            encode_segment(&self.project),
            encode_segment(&self.region)
        )
    }

    fn url(&self, path: &str, what: &'static str) -> Result<Url, Error> {
        let path = checked_path(path, NAME, what)?;
        let url = format!("{}{path}", self.base_url);
        Url::parse(&url).map_err(|e| Error::config_with(format!("invalid {NAME} URL {url:?}"), e))
    }
}

impl Platform for VertexPlatform {
    fn name(&self) -> &'static str {
        NAME
    }

    fn messages(&self, call: &MessagesCall<'_>) -> Result<PlatformRequest, Error> {
        let url = self.messages_url(call.model, call.stream)?;
        vertex_request(call, url, |body| {
            vertex_body(body, call.anthropic_version);
        })
    }

    fn count_tokens(&self, call: &MessagesCall<'_>) -> Result<PlatformRequest, Error> {
        // One route for every model: unlike a message's, the body keeps
        // `model`, as the SDKs send it.
        let path = format!("{}/models/count-tokens:rawPredict", self.publisher_path());
        let url = self.url(&path, "project or region")?;
        vertex_request(call, url, |body| {
            body.entry("anthropic_version")
                .or_insert_with(|| call.anthropic_version.into());
        })
    }

    fn endpoint(&self, endpoint: Endpoint<'_>) -> Result<Url, Error> {
        Err(unsupported_endpoint(self, endpoint))
    }

    fn authorize<'a>(
        &'a self,
        _http: &'a reqwest::Client,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.auth.authorize(request))
    }

    fn reauthorize<'a>(&'a self, refused: &'a Refused<'a>) -> BoxFuture<'a, bool> {
        Box::pin(std::future::ready(self.auth.reauthorize_after(refused)))
    }

    fn offers(&self, feature: Feature) -> bool {
        match feature {
            Feature::CountTokens => true,
            Feature::MessageThreads
            | Feature::AutomaticCaching
            | Feature::CacheDiagnostics
            | Feature::Files
            | Feature::Batches
            | Feature::Models => false,
        }
    }

    fn refusals(&self) -> Option<&Refusals> {
        Some(&self.refusals)
    }
}

/// `call` sent to `url`, its body rewritten by `edit`, and without the
/// `anthropic-version` header: on Vertex the version travels in the body,
/// and the SDKs send no such header.
fn vertex_request(
    call: &MessagesCall<'_>,
    url: Url,
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Result<PlatformRequest, Error> {
    let mut body: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(call.body).map_err(Error::encode)?;
    edit(&mut body);
    let body = serde_json::to_vec(&body).map_err(Error::encode)?;
    let mut headers = call.headers.clone();
    headers.remove("anthropic-version");
    Ok(PlatformRequest {
        url,
        body: Bytes::from(body),
        headers,
    })
}

/// Moves a first-party Messages body to Vertex's shape: `model` out (it is
/// in the path), `anthropic_version` in unless the body has one.
pub(crate) fn vertex_body(
    body: &mut serde_json::Map<String, serde_json::Value>,
    anthropic_version: &str,
) {
    // `shift_remove` keeps the other fields in their order.
    body.shift_remove("model");
    body.entry("anthropic_version")
        .or_insert_with(|| anthropic_version.into());
}

/// Configures a [`Client`](crate::Client) for Claude on Google Vertex AI.
///
/// The region is required (`CLOUD_ML_REGION`), and so is the Google Cloud
/// project (`ANTHROPIC_VERTEX_PROJECT_ID`, else the one the credentials
/// name). Credentials are Application Default Credentials unless set:
/// [`access_token`](Self::access_token),
/// [`token_provider`](Self::token_provider),
/// [`service_account_key`](Self::service_account_key) or
/// [`credentials_file`](Self::credentials_file). ADC, through Google's
/// `google-cloud-auth`, looks in turn at the file
/// `GOOGLE_APPLICATION_CREDENTIALS` names, gcloud's
/// `application_default_credentials.json` (under `CLOUDSDK_CONFIG`, else
/// `~/.config/gcloud`: what `gcloud auth application-default login`
/// writes), and the metadata server of Compute Engine, GKE or Cloud Run
/// (`GCE_METADATA_HOST` to name another). Tokens are cached and refreshed
/// in the background four minutes before they expire.
///
/// Vertex AI offers Messages and token counting; the Files, Batches and
/// Models APIs are refused before sending ([`Error::is_unsupported`]), and
/// so are requests with the code-execution tool (`code_execution_*`, which
/// programmatic tool calling adds for tools callable from `"code"`; code
/// mode runs everywhere) or the web fetch tool (`web_fetch_*`), and the
/// `code-execution-*` betas: see [`assume_offered`](Self::assume_offered)
/// for when Vertex AI adds them.
///
/// # Examples
///
/// ```no_run
/// # fn run() -> Result<(), toolrunner::Error> {
/// use toolrunner::platform::Vertex;
///
/// let client = Vertex::from_env().region("us-east5").project_id("my-project").build()?;
/// # drop(client);
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct Vertex {
    region: Option<String>,
    project_id: Option<String>,
    base_url: Option<String>,
    credentials: Option<Credentials>,
    /// `GOOGLE_APPLICATION_CREDENTIALS`, for ADC.
    adc_file: Option<PathBuf>,
    /// `GOOGLE_CLOUD_PROJECT` or `GCLOUD_PROJECT`, for ADC.
    adc_project: Option<String>,
    /// Tool types and betas sent although Vertex AI is known to lack them.
    assumed_offered: Vec<String>,
    /// The settings every client has: timeouts, retries, headers.
    client: ClientBuilder,
}

impl std::fmt::Debug for Vertex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vertex")
            .field("region", &self.region)
            .field("project_id", &self.project_id)
            .field("base_url", &self.base_url.as_deref().map(ShownUrl))
            .field("credentials", &self.credentials)
            .field("adc_file", &self.adc_file)
            .field("adc_project", &self.adc_project)
            .field("assumed_offered", &self.assumed_offered)
            .field("client", &self.client)
            .finish()
    }
}

impl Default for Vertex {
    fn default() -> Self {
        Vertex::new()
    }
}

impl Vertex {
    /// A builder that reads nothing from the environment: set the region
    /// and project; credentials default to Application Default Credentials.
    pub fn new() -> Self {
        Vertex {
            region: None,
            project_id: None,
            base_url: None,
            credentials: None,
            adc_file: None,
            adc_project: None,
            assumed_offered: Vec::new(),
            client: ClientBuilder::new(),
        }
    }

    /// A builder from the environment, as `AnthropicVertex` reads it:
    /// `CLOUD_ML_REGION`, `ANTHROPIC_VERTEX_PROJECT_ID`,
    /// `ANTHROPIC_VERTEX_BASE_URL`, `ANTHROPIC_CUSTOM_HEADERS`; and as
    /// Google's Application Default Credentials do,
    /// `GOOGLE_APPLICATION_CREDENTIALS` (a key file) and
    /// `GOOGLE_CLOUD_PROJECT` / `GCLOUD_PROJECT` (the project, when
    /// `ANTHROPIC_VERTEX_PROJECT_ID` is not set). Setters called afterwards
    /// win. Empty variables count as unset.
    pub fn from_env() -> Self {
        Vertex::from_env_with(|name| std::env::var_os(name))
    }

    /// [`from_env`](Self::from_env) with `var` standing for the environment.
    pub(crate) fn from_env_with(var: impl Fn(&str) -> Option<OsString>) -> Self {
        let text = |name: &str| {
            var(name)
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.is_empty())
        };
        Vertex {
            region: text(REGION_VAR),
            project_id: text(PROJECT_VAR),
            base_url: text(BASE_URL_VAR),
            credentials: None,
            adc_file: var(ADC_FILE_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            adc_project: ADC_PROJECT_VARS.iter().find_map(|name| text(name)),
            assumed_offered: Vec::new(),
            client: ClientBuilder::from_env_headers(text),
        }
    }

    /// Sets the region, such as `us-east5`, `global`, `us` or `eu`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets the Google Cloud project id.
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// Sets the base URL, instead of the region's.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sends this OAuth access token, as is, never refreshed.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::AccessToken(Secret(token.into())));
        self
    }

    /// Asks `provider` for a token before each request.
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.credentials = Some(Credentials::provider(provider));
        self
    }

    /// Authenticates with the Application Default Credentials in `path`,
    /// as `GOOGLE_APPLICATION_CREDENTIALS` names them: a service-account
    /// key, the user credentials `gcloud auth application-default login`
    /// writes, an impersonated service account, or workload identity
    /// federation. The file is read on the first request.
    pub fn credentials_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.credentials = Some(Credentials::Minted(Minted::ApplicationDefault {
            file: Some(path.into()),
        }));
        self
    }

    /// Authenticates with this service-account key (the JSON of a key
    /// file): it signs a JWT that is sent as the access token, as Google's
    /// auth libraries do, and its `project_id` is the project unless one is
    /// set.
    pub fn service_account_key(mut self, key_json: impl Into<String>) -> Self {
        let key = Minted::ServiceAccountKey(Secret(key_json.into()));
        self.credentials = Some(Credentials::Minted(key));
        self
    }

    /// Sends the tool type or beta `name` (exactly as written, such as
    /// `code_execution_20260120`) although Vertex AI was not known to offer
    /// it, for when Vertex AI adds it before this crate knows: the request
    /// then goes out, and a refusal is Vertex AI's own error.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run() -> Result<(), toolrunner::Error> {
    /// use toolrunner::platform::Vertex;
    ///
    /// let client = Vertex::from_env()
    ///     .region("us-east5")
    ///     .project_id("my-project")
    ///     .assume_offered("code_execution_20260120")
    ///     .build()?;
    /// # drop(client);
    /// # Ok(())
    /// # }
    /// ```
    pub fn assume_offered(mut self, name: impl Into<String>) -> Self {
        self.assumed_offered.push(name.into());
        self
    }

    /// Sets the settings every client has (timeout, retries, default
    /// headers, API version, HTTP client) from `builder`, in place of the
    /// `ANTHROPIC_CUSTOM_HEADERS` that [`from_env`](Self::from_env) read. An
    /// API key, auth token or base URL set there is an error at
    /// [`build`](Self::build): Vertex AI takes its own.
    pub fn client(mut self, builder: ClientBuilder) -> Self {
        self.client = builder;
        self
    }

    /// Builds the client: the ordinary [`Client`], whose requests go to
    /// Vertex AI. No request is sent and no credential is read yet: ADC
    /// and key grants happen on the first request.
    ///
    /// # Errors
    ///
    /// A configuration error naming the variable or setter when the region
    /// or project is missing, the base URL is invalid, or a client setting
    /// is.
    pub fn build(mut self) -> Result<Client, Error> {
        let client = std::mem::take(&mut self.client);
        client.build_on(Arc::new(self.resolve()?))
    }

    /// Resolves the configuration into the platform.
    ///
    /// # Errors
    ///
    /// A configuration error naming the variable or setter when the region
    /// or project is missing or empty, or the base URL is invalid.
    pub(crate) fn resolve(self) -> Result<VertexPlatform, Error> {
        let region = match self.region {
            Some(region) if region.is_empty() => {
                return Err(Error::config(format!("the region for {NAME} is empty")));
            }
            Some(region) => region,
            None => {
                return Err(Error::config(format!(
                    "no region for {NAME}: set {REGION_VAR} or call Vertex::region"
                )));
            }
        };
        let credentials =
            self.credentials
                .unwrap_or(Credentials::Minted(Minted::ApplicationDefault {
                    file: self.adc_file,
                }));
        let auth = GoogleAuth::new(NAME, credentials);
        let project = match self.project_id {
            Some(project) if project.is_empty() => {
                return Err(Error::config(format!("the project id for {NAME} is empty")));
            }
            Some(project) => project,
            None => self
                .adc_project
                .or_else(|| auth.key_project())
                .ok_or_else(|| {
                    Error::config(format!(
                        "no project for {NAME}: set {PROJECT_VAR} or call Vertex::project_id \
                     (the credentials name none)"
                    ))
                })?,
        };
        let base_url = self.base_url.unwrap_or_else(|| default_base_url(&region));
        // Checked, then kept as text: the path is appended to it, encoded.
        base_url::parse(&base_url)?;
        Ok(VertexPlatform {
            base_url: base_url.trim_end_matches('/').to_owned(),
            region,
            project,
            auth,
            refusals: Refusals::new(&UNOFFERED, self.assumed_offered, "Vertex"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn base_urls_follow_the_region_as_in_the_sdk() {
        assert_eq!(
            default_base_url("global"),
            "https://aiplatform.googleapis.com/v1"
        );
        assert_eq!(
            default_base_url("us"),
            "https://aiplatform.us.rep.googleapis.com/v1"
        );
        assert_eq!(
            default_base_url("eu"),
            "https://aiplatform.eu.rep.googleapis.com/v1"
        );
        assert_eq!(
            default_base_url("us-east5"),
            "https://us-east5-aiplatform.googleapis.com/v1"
        );
    }

    #[test]
    fn the_environment_gives_region_project_and_base_url() {
        let vertex = Vertex::from_env_with(env(&[
            ("CLOUD_ML_REGION", "europe-west1"),
            ("ANTHROPIC_VERTEX_PROJECT_ID", "proj"),
        ]))
        .access_token("t")
        .resolve()
        .unwrap();
        assert_eq!(
            vertex.messages_url("claude-x@2025", true).unwrap().as_str(),
            "https://europe-west1-aiplatform.googleapis.com/v1/projects/proj/locations/europe-west1/publishers/anthropic/models/claude-x@2025:streamRawPredict"
        );
        let vertex = Vertex::from_env_with(env(&[
            ("CLOUD_ML_REGION", "global"),
            ("GOOGLE_CLOUD_PROJECT", "from-adc"),
            ("ANTHROPIC_VERTEX_BASE_URL", "http://127.0.0.1:9/v1/"),
        ]))
        .access_token("t")
        .resolve()
        .unwrap();
        assert_eq!(
            vertex.messages_url("m", false).unwrap().as_str(),
            "http://127.0.0.1:9/v1/projects/from-adc/locations/global/publishers/anthropic/models/m:rawPredict"
        );
    }

    #[test]
    fn a_missing_region_or_project_names_the_variable_to_set() {
        let error = Vertex::from_env_with(env(&[("ANTHROPIC_VERTEX_PROJECT_ID", "p")]))
            .resolve()
            .unwrap_err();
        assert!(error.is_config());
        assert!(error.to_string().contains("CLOUD_ML_REGION"), "{error}");
        let error = Vertex::from_env_with(env(&[("CLOUD_ML_REGION", "us-east5")]))
            .access_token("t")
            .resolve()
            .unwrap_err();
        assert!(
            error.to_string().contains("ANTHROPIC_VERTEX_PROJECT_ID"),
            "{error}"
        );
        let error = Vertex::new().region("").resolve().unwrap_err();
        assert!(error.to_string().contains("region"), "{error}");
    }

    #[test]
    fn a_service_account_key_names_the_project() {
        let key = r#"{"type":"service_account","project_id":"keyed"}"#;
        let vertex = Vertex::new()
            .region("us-east5")
            .service_account_key(key)
            .resolve()
            .unwrap();
        assert!(
            vertex
                .messages_url("m", false)
                .unwrap()
                .path()
                .contains("/projects/keyed/")
        );
        let vertex = Vertex::new()
            .region("us-east5")
            .project_id("explicit")
            .service_account_key(key)
            .resolve()
            .unwrap();
        assert!(
            vertex
                .messages_url("m", false)
                .unwrap()
                .path()
                .contains("/projects/explicit/")
        );
    }

    #[test]
    fn the_body_loses_its_model_and_gains_the_version() {
        let mut body = serde_json::json!({"model": "m", "max_tokens": 5, "stream": true});
        let map = body.as_object_mut().unwrap();
        vertex_body(map, "2026-10-21");
        assert_eq!(
            body.to_string(),
            r#"{"max_tokens":5,"stream":true,"anthropic_version":"2026-10-21"}"#
        );
    }

    #[test]
    fn debug_shows_no_credential() {
        let vertex = Vertex::new()
            .region("r")
            .access_token("ya29.secret-token")
            .service_account_key(r#"{"private_key":"-----BEGIN PRIVATE KEY-----secret"}"#);
        let shown = format!("{vertex:?}");
        assert!(!shown.contains("secret"), "{shown}");
        let platform = vertex.project_id("p").resolve().unwrap();
        let shown = format!("{platform:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
