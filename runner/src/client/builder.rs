//! [`ClientBuilder`]: configuration for a [`Client`].

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};

use super::middleware::{Chain, Middleware};
use super::retry::RetryPolicy;
use super::{Client, ClientRef};
use crate::error::Error;
use crate::platform::{FirstParty, Platform};

use super::credentials::{
    self, API_KEY_VAR, AUTH_TOKEN_VAR, Credential, SharedProvider, TokenProvider, WorkloadIdentity,
};

pub(crate) use super::credentials::BASE_URL_VAR;
pub(crate) const CUSTOM_HEADERS_VAR: &str = "ANTHROPIC_CUSTOM_HEADERS";
const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// [`DEFAULT_BASE_URL`] as [`Url`] writes it, to tell whether it was changed.
#[cfg_attr(not(feature = "bedrock"), allow(dead_code, reason = "for platforms"))]
const DEFAULT_BASE_URL_PARSED: &str = "https://api.anthropic.com/";
const DEFAULT_VERSION: &str = super::version::CURRENT;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DEFAULT_MAX_RETRIES: u32 = 2;
/// Connect timeout of the HTTP client the builder makes, as the official SDKs have.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const USER_AGENT_VALUE: &str = concat!("toolrunner/", env!("CARGO_PKG_VERSION"));

/// Configures and builds a [`Client`].
///
/// Setters never fail: the first invalid setting is kept and returned by
/// [`build`](Self::build).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use toolrunner::Client;
///
/// let client = Client::builder()
///     .api_key("sk-ant-...")
///     .base_url("https://api.anthropic.com")
///     .timeout(Duration::from_secs(120))
///     .max_retries(4)
///     .default_header("anthropic-beta", "token-efficient-tools-2025-02-19")
///     .build()?;
/// # drop(client);
/// # Ok::<(), toolrunner::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    config: Config,
    /// The first invalid setting.
    error: Option<Error>,
}

struct Config {
    api_key: Option<String>,
    auth_token: Option<String>,
    /// Where minted tokens come from: a profile, federation, or the
    /// user's provider.
    minted: Option<credentials::Source>,
    /// A profile named with [`ClientBuilder::profile`], and the directory
    /// of [`ClientBuilder::config_dir`]: loaded at build.
    profile: Option<String>,
    config_dir: Option<PathBuf>,
    base_url: Url,
    /// Whether the base URL was set, so that a profile's does not replace it.
    base_url_set: bool,
    default_headers: HeaderMap,
    timeout: Duration,
    stream_idle_timeout: Option<Duration>,
    max_retries: u32,
    anthropic_version: String,
    http: Option<reqwest::Client>,
    /// Outermost first.
    middleware: Vec<Arc<dyn Middleware>>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl ClientBuilder {
    /// A builder with the defaults: base URL `https://api.anthropic.com`,
    /// a 10-minute timeout per request, 2 retries, API version `2026-10-21`,
    /// and no credentials. Nothing is read from the environment; see
    /// [`Client::from_env`] for that.
    pub fn new() -> Self {
        ClientBuilder {
            config: Config {
                api_key: None,
                auth_token: None,
                minted: None,
                profile: None,
                config_dir: None,
                base_url: Url::parse(DEFAULT_BASE_URL).expect("the default base URL is valid"),
                base_url_set: false,
                default_headers: HeaderMap::new(),
                timeout: DEFAULT_TIMEOUT,
                stream_idle_timeout: None,
                max_retries: DEFAULT_MAX_RETRIES,
                anthropic_version: DEFAULT_VERSION.to_owned(),
                http: None,
                middleware: Vec::new(),
            },
            error: None,
        }
    }

    /// Reads the credentials, base URL and custom headers from the
    /// environment through `var`, a snapshot of it in tests. Credentials
    /// are found by [`credentials::resolve`], in the official SDKs' order.
    pub(crate) fn from_env_with(var: impl Fn(&str) -> Option<OsString>) -> Self {
        let mut builder = ClientBuilder::new();
        let mut env = credentials::Env::default();
        for name in credentials::VARS {
            if let Some(value) = builder.env_string(&var, name) {
                env.vars.insert((*name).to_owned(), value);
            }
        }
        env.home = var("HOME").map(std::path::PathBuf::from);
        match credentials::resolve(&env) {
            Ok(Some(Credential::ApiKey(key))) => builder = builder.api_key(key),
            Ok(Some(Credential::AuthToken(token))) => builder = builder.auth_token(token),
            Ok(Some(Credential::Minted(source))) => {
                // A profile's host is the client's unless one is set
                // explicitly (`ANTHROPIC_BASE_URL`, below, or the builder).
                if let Some(url) = source.base_url() {
                    builder = builder.base_url(url.as_str());
                }
                builder.config.minted = Some(source);
            }
            Ok(None) => builder.fail(Error::config(format!(
                "no credentials: neither {API_KEY_VAR} nor {AUTH_TOKEN_VAR} is set, \
                 and no profile or workload identity federation is configured"
            ))),
            Err(e) => builder.fail(e),
        }
        if let Some(url) = builder.env_string(&var, BASE_URL_VAR) {
            builder = builder.base_url(url);
        }
        if let Some(headers) = builder.env_string(&var, CUSTOM_HEADERS_VAR) {
            for (name, value) in custom_headers(&headers) {
                builder = builder.default_header(name, value);
            }
        }
        builder
    }

    /// A builder with only the headers of `ANTHROPIC_CUSTOM_HEADERS`, read
    /// through `var`: what the platform clients of the official SDKs read
    /// of the first-party environment.
    #[cfg_attr(not(feature = "bedrock"), allow(dead_code, reason = "for platforms"))]
    pub(crate) fn from_env_headers(var: impl Fn(&str) -> Option<String>) -> Self {
        let mut builder = ClientBuilder::new();
        if let Some(headers) = var(CUSTOM_HEADERS_VAR) {
            for (name, value) in custom_headers(&headers) {
                builder = builder.default_header(name, value);
            }
        }
        builder
    }

    /// The value of `name` when set and not empty. A value that is not
    /// unicode is kept as the builder's error; it is not quoted, as it may
    /// be a secret.
    fn env_string(&mut self, var: impl Fn(&str) -> Option<OsString>, name: &str) -> Option<String> {
        match var(name)?.into_string() {
            Ok(value) if value.is_empty() => None,
            Ok(value) => Some(value),
            Err(_) => {
                self.fail(Error::config(format!(
                    "environment variable {name} is not valid unicode"
                )));
                None
            }
        }
    }

    /// Sets the API key, sent in the `x-api-key` header. The key is kept out
    /// of `Debug` output, errors and logs.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = Some(key.into());
        self
    }

    /// Sets a bearer token, sent as `Authorization: Bearer <token>`, for
    /// gateways and short-lived OAuth tokens. With a token, an API key is
    /// not needed; with both, both headers are sent. The token is kept out
    /// of `Debug` output, errors and logs.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = toolrunner::Client::builder().auth_token("gateway-token").build()?;
    /// # drop(client);
    /// # Ok::<(), toolrunner::Error>(())
    /// ```
    pub fn auth_token(mut self, token: impl Into<String>) -> Self {
        self.config.auth_token = Some(token.into());
        self
    }

    /// Takes bearer tokens from `provider`, your own identity source (the
    /// official SDKs' `credentials=`): sent as `Authorization: Bearer`
    /// with the OAuth beta, cached and refreshed as [`TokenProvider`]
    /// describes, and replaced once when the API refuses one with `401`.
    /// An API key or auth token set as well takes precedence.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = toolrunner::Client::builder()
    ///     .credentials(|| async { Ok::<_, std::io::Error>(String::from("token from my broker")) })
    ///     .build()?;
    /// # drop(client);
    /// # Ok::<(), toolrunner::Error>(())
    /// ```
    pub fn credentials(mut self, provider: impl TokenProvider) -> Self {
        self.config.minted = Some(credentials::Source::Provider(SharedProvider::new(provider)));
        self
    }

    /// Authenticates with workload identity federation set up in code (the
    /// official SDKs' `WorkloadIdentityCredentials`): see
    /// [`WorkloadIdentity`]. An API key or auth token set as well takes
    /// precedence.
    pub fn workload_identity(mut self, identity: WorkloadIdentity) -> Self {
        self.config.minted = Some(credentials::Source::Federation(identity.0));
        self
    }

    /// Authenticates with profile `name` (the official SDKs' `profile=`):
    /// `configs/<name>.json` under the [`config_dir`](Self::config_dir),
    /// or under `ANTHROPIC_CONFIG_DIR`, else `~/.config/anthropic`. Its
    /// tokens are minted, cached and refreshed as for
    /// [`Client::from_env`]; its `base_url` is used unless
    /// [`base_url`](Self::base_url) is set, and its `workspace_id` is sent
    /// unless a default header sets one. An API key or auth token set as
    /// well takes precedence. Nothing else is read from the environment:
    /// what the profile leaves out stays out.
    ///
    /// The profile is read at [`build`](Self::build), which fails with a
    /// configuration error naming it when it cannot be used.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let client = toolrunner::Client::builder()
    ///     .config_dir("/etc/anthropic")
    ///     .profile("ci")
    ///     .build()?;
    /// # drop(client);
    /// # Ok::<(), toolrunner::Error>(())
    /// ```
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.config.profile = Some(name.into());
        self
    }

    /// Reads profiles from `dir` (as `ANTHROPIC_CONFIG_DIR` does): the one
    /// named with [`profile`](Self::profile), else the one `dir/active_config`
    /// names, else `default`, which must then exist.
    pub fn config_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.config_dir = Some(dir.into());
        self
    }

    /// Sets the API's base URL, such as `https://api.anthropic.com` or a
    /// proxy's. Requests go to `{base_url}/v1/messages`.
    ///
    /// A URL that does not parse, or is not `http` or `https`, is an error
    /// at [`build`](Self::build).
    pub fn base_url(mut self, url: impl AsRef<str>) -> Self {
        let url = url.as_ref();
        match Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
                self.config.base_url = parsed;
                self.config.base_url_set = true;
            }
            Ok(parsed) => self.fail(Error::config(format!(
                "invalid base URL {url:?}: scheme {:?} is not http or https",
                parsed.scheme()
            ))),
            Err(e) => self.fail(Error::config_with(format!("invalid base URL {url:?}"), e)),
        }
        self
    }

    /// Adds a header sent with every request, replacing one of the same
    /// name. `anthropic-beta` values are merged with a request's betas.
    ///
    /// An invalid name or value is an error at [`build`](Self::build).
    pub fn default_header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        let header_name = match HeaderName::from_bytes(name.as_bytes()) {
            Ok(header_name) => header_name,
            Err(e) => {
                self.fail(Error::config_with(
                    format!("invalid default header name {name:?}"),
                    e,
                ));
                return self;
            }
        };
        // The value is not quoted in the error: it may be a secret.
        match HeaderValue::from_str(value.as_ref()) {
            Ok(value) => {
                self.config.default_headers.insert(header_name, value);
            }
            Err(e) => self.fail(Error::config_with(
                format!("invalid value for default header {name:?}"),
                e,
            )),
        }
        self
    }

    /// Sets the timeout of each HTTP request (default 10 minutes): for a
    /// message, from sending it to reading the whole response; for a stream,
    /// from sending it to receiving the response's headers. A streamed body
    /// is bounded by [`stream_idle_timeout`](Self::stream_idle_timeout)
    /// instead, never by its length, so a long generation is not cut. Each
    /// retry gets the full timeout again.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Sets how long a streamed body may go without sending anything before
    /// it is given up as broken (default: the [`timeout`](Self::timeout)).
    /// The API sends `ping` events while the model is busy, so a live stream
    /// is never idle for long.
    pub fn stream_idle_timeout(mut self, idle: Duration) -> Self {
        self.config.stream_idle_timeout = Some(idle);
        self
    }

    /// Sets how often a failed request is retried (default 2, so 3 attempts
    /// in all). 0 disables retries.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.config.max_retries = max_retries;
        self
    }

    /// Sets the `anthropic-version` header (default `2026-10-21`).
    ///
    /// Pin `2023-06-01` to keep sending what `2026-10-21` rejects
    /// (`temperature`, `top_p`, `top_k`, a `document` block in an assistant
    /// message, `citations` on a user's text): under `2026-10-21` the client
    /// refuses such a request before sending it.
    pub fn anthropic_version(mut self, version: impl Into<String>) -> Self {
        self.config.anthropic_version = version.into();
        self
    }

    /// Uses `client` for HTTP instead of one the builder makes; for
    /// proxies, custom TLS, or sharing a connection pool.
    ///
    /// The client's own timeout and default headers still apply, under the
    /// ones this builder sets per request.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.config.http = Some(client);
        self
    }

    /// Adds a [`Middleware`] around every request the client sends. The
    /// first added is the outermost: it sees each request first and its
    /// response last.
    ///
    /// # Examples
    ///
    /// See [`Middleware`].
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.config.middleware.push(Arc::new(middleware));
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// A configuration error ([`Error::is_config`]) for the first invalid
    /// setting, a missing API key, or an HTTP client that cannot be made.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let mut config = self.config;
        if config.profile.is_some() || config.config_dir.is_some() {
            let source = credentials::profile_source(
                config.config_dir.take(),
                config.profile.take(),
                |name| std::env::var_os(name),
            )?;
            if let (false, Some(url)) = (config.base_url_set, source.base_url()) {
                config.base_url = url.clone();
            }
            config.minted = Some(source);
        }

        if config.api_key.is_none() && config.auth_token.is_none() && config.minted.is_none() {
            return Err(Error::config(format!(
                "no credentials: set an API key with ClientBuilder::api_key or a bearer token with ClientBuilder::auth_token, or use Client::from_env to read {API_KEY_VAR} or {AUTH_TOKEN_VAR}"
            )));
        }
        let mut extra = HeaderMap::new();
        // A minted token is only accepted with the OAuth beta; a static key
        // or token takes precedence over a profile, so it is not needed then.
        let minted = match config.minted.take() {
            Some(source) if config.api_key.is_none() && config.auth_token.is_none() => {
                // The profile's headers (its workspace), under the
                // caller's own default headers, as the official SDKs do.
                for (name, value) in source.headers() {
                    if config.default_headers.contains_key(name) {
                        continue;
                    }
                    let value = HeaderValue::from_str(&value).map_err(|e| {
                        Error::config_with(format!("invalid {name} in the profile"), e)
                    })?;
                    extra.insert(name, value);
                }
                let beta = config
                    .default_headers
                    .get("anthropic-beta")
                    .and_then(|v| v.to_str().ok());
                let beta = match beta {
                    Some(betas) if !betas.trim().is_empty() => {
                        format!("{betas},{}", credentials::OAUTH_BETA)
                    }
                    _ => credentials::OAUTH_BETA.to_owned(),
                };
                let beta = HeaderValue::from_str(&beta)
                    .map_err(|e| Error::config_with("invalid anthropic-beta default header", e))?;
                extra.insert("anthropic-beta", beta);
                Some(credentials::TokenCache::new(source))
            }
            _ => None,
        };
        let platform = FirstParty::new(
            config.base_url.clone(),
            config.api_key.as_deref(),
            config.auth_token.as_deref(),
            minted,
        )?;
        finish(config, Arc::new(platform), extra)
    }

    /// Builds a client for `platform`, with this builder's HTTP client,
    /// timeouts, retries, API version and default headers. The first-party
    /// credentials and base URL are the platform's business, so setting
    /// them here is an error.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build), and a configuration error naming the
    /// platform when first-party credentials or a base URL were set.
    #[cfg_attr(not(feature = "bedrock"), allow(dead_code, reason = "for platforms"))]
    pub(crate) fn build_on(self, platform: Arc<dyn Platform>) -> Result<Client, Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let config = self.config;
        let first_party = [
            (config.api_key.is_some(), "an API key"),
            (config.auth_token.is_some(), "an auth token"),
            (config.minted.is_some(), "a credential provider or profile"),
            (
                config.profile.is_some() || config.config_dir.is_some(),
                "a profile",
            ),
            (
                config.base_url.as_str() != DEFAULT_BASE_URL_PARSED,
                "a base URL",
            ),
        ];
        if let Some((_, what)) = first_party.iter().find(|(set, _)| *set) {
            return Err(Error::config(format!(
                "{what} was set on the client builder, but {} takes its own: set it on the platform's builder",
                platform.name()
            )));
        }
        finish(config, platform, HeaderMap::new())
    }

    /// Keeps `error` unless an earlier one is kept already.
    fn fail(&mut self, error: Error) {
        self.error.get_or_insert(error);
    }
}

/// The client for `platform`: the common headers (version, content type,
/// user agent, the default headers, then `extra`), the HTTP client, and
/// the retry policy.
fn finish(config: Config, platform: Arc<dyn Platform>, extra: HeaderMap) -> Result<Client, Error> {
    let version = HeaderValue::from_str(&config.anthropic_version).map_err(|e| {
        Error::config_with(
            format!("invalid anthropic version {:?}", config.anthropic_version),
            e,
        )
    })?;
    let mut headers = HeaderMap::new();
    headers.insert("anthropic-version", version);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    for (name, value) in &config.default_headers {
        headers.insert(name, value.clone());
    }
    for (name, value) in &extra {
        headers.insert(name, value.clone());
    }
    let http = match config.http {
        Some(http) => http,
        None => reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| Error::config_with("could not create the HTTP client", e))?,
    };
    Ok(Client {
        inner: Arc::new(ClientRef {
            http,
            platform,
            headers,
            default_header_names: config.default_headers.keys().cloned().collect(),
            anthropic_version: config.anthropic_version,
            timeout: config.timeout,
            stream_idle_timeout: config.stream_idle_timeout.unwrap_or(config.timeout),
            retry: RetryPolicy {
                max_retries: config.max_retries,
            },
            middleware: Chain(config.middleware.into()),
        }),
        options: None,
        telemetry: Default::default(),
    })
}

/// The headers of `ANTHROPIC_CUSTOM_HEADERS`: one `Name: value` a line,
/// split at the first colon and trimmed, as the official SDKs read it. A
/// line without a colon or without a name is skipped.
fn custom_headers(lines: &str) -> impl Iterator<Item = (&str, &str)> {
    lines.split('\n').filter_map(|line| {
        let (name, value) = line.split_once(':')?;
        let name = name.trim();
        (!name.is_empty()).then(|| (name, value.trim()))
    })
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("ClientBuilder")
            .field("api_key", &c.api_key.as_ref().map(|_| "<redacted>"))
            .field("auth_token", &c.auth_token.as_ref().map(|_| "<redacted>"))
            .field("minted", &c.minted)
            .field("profile", &c.profile)
            .field("config_dir", &c.config_dir)
            .field("base_url", &super::ShownUrl(c.base_url.as_str()))
            .field(
                "default_headers",
                &c.default_headers.keys().collect::<Vec<_>>(),
            )
            .field("timeout", &c.timeout)
            .field("stream_idle_timeout", &c.stream_idle_timeout)
            .field("max_retries", &c.max_retries)
            .field("anthropic_version", &c.anthropic_version)
            .field("http_client", &c.http.is_some())
            .field("middleware", &c.middleware.len())
            .field("error", &self.error)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn from_env_with_only_a_token_sends_bearer() {
        let client = ClientBuilder::from_env_with(env(&[(AUTH_TOKEN_VAR, "tok-1")]))
            .build()
            .unwrap();
        let headers = &client.authorized_headers();
        assert_eq!(headers[reqwest::header::AUTHORIZATION], "Bearer tok-1");
        assert!(headers.get("x-api-key").is_none());
        assert_eq!(headers["anthropic-version"], "2026-10-21");
    }

    #[test]
    fn from_env_prefers_the_key_over_the_token() {
        let client = ClientBuilder::from_env_with(env(&[
            (API_KEY_VAR, "sk-test"),
            (AUTH_TOKEN_VAR, "tok-1"),
        ]))
        .build()
        .unwrap();
        let headers = &client.authorized_headers();
        assert_eq!(headers["x-api-key"], "sk-test");
        assert!(headers.get(reqwest::header::AUTHORIZATION).is_none());
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let builder = ClientBuilder::new()
            .api_key("sk-secret")
            .auth_token("tok-secret");
        let shown = format!("{builder:?}");
        assert!(!shown.contains("secret"), "{shown}");
        let shown = format!("{:?}", builder.build().unwrap());
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn from_env_without_key_names_the_variable() {
        let err = ClientBuilder::from_env_with(env(&[])).build().unwrap_err();
        assert!(err.is_config());
        assert_eq!(
            err.to_string(),
            "no credentials: neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is set, \
             and no profile or workload identity federation is configured"
        );
        let err = ClientBuilder::from_env_with(env(&[(API_KEY_VAR, ""), (AUTH_TOKEN_VAR, "")]))
            .build()
            .unwrap_err();
        assert!(err.to_string().contains(API_KEY_VAR));
    }

    #[test]
    fn from_env_reads_key_and_base_url() {
        let client = ClientBuilder::from_env_with(env(&[
            (API_KEY_VAR, "sk-test"),
            (BASE_URL_VAR, "http://127.0.0.1:9/proxy/"),
        ]))
        .build()
        .unwrap();
        assert_eq!(
            client.messages_url().as_str(),
            "http://127.0.0.1:9/proxy/v1/messages"
        );
        assert_eq!(client.authorized_headers()["x-api-key"], "sk-test");

        let client = ClientBuilder::from_env_with(env(&[(API_KEY_VAR, "sk-test")]))
            .build()
            .unwrap();
        assert_eq!(
            client.messages_url().as_str(),
            "https://api.anthropic.com/v1/messages"
        );
    }

    #[test]
    fn from_env_adds_custom_headers() {
        let client = ClientBuilder::from_env_with(env(&[
            (API_KEY_VAR, "sk-test"),
            (
                CUSTOM_HEADERS_VAR,
                "X-Team: tools\nno colon here\n: nameless\nX-Trace:  a:b  \n",
            ),
        ]))
        .build()
        .unwrap();
        let headers = &client.authorized_headers();
        assert_eq!(headers["x-team"], "tools");
        assert_eq!(headers["x-trace"], "a:b");
        assert_eq!(client.inner.default_header_names.len(), 2);
        // Header values may be secrets: names only in `Debug`.
        assert!(!format!("{client:?}").contains("tools"));
    }

    #[test]
    fn from_env_rejects_a_bad_base_url() {
        let err = ClientBuilder::from_env_with(env(&[
            (API_KEY_VAR, "sk-test"),
            (BASE_URL_VAR, "not a url"),
        ]))
        .build()
        .unwrap_err();
        assert_eq!(err.to_string(), r#"invalid base URL "not a url""#);
    }
}
