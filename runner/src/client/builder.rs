//! [`ClientBuilder`]: configuration for a [`Client`].

use std::ffi::OsString;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};

use super::retry::RetryPolicy;
use super::{Client, ClientRef};
use crate::error::Error;

pub(crate) const API_KEY_VAR: &str = "ANTHROPIC_API_KEY";
pub(crate) const BASE_URL_VAR: &str = "ANTHROPIC_BASE_URL";
const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
const DEFAULT_VERSION: &str = "2023-06-01";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DEFAULT_MAX_RETRIES: u32 = 2;
/// Connect timeout of the HTTP client the builder makes, as the official SDKs have.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const USER_AGENT_VALUE: &str = concat!("toolrunner/", env!("CARGO_PKG_VERSION"));

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
    base_url: Url,
    default_headers: HeaderMap,
    timeout: Duration,
    stream_idle_timeout: Option<Duration>,
    max_retries: u32,
    anthropic_version: String,
    http: Option<reqwest::Client>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl ClientBuilder {
    /// A builder with the defaults: base URL `https://api.anthropic.com`,
    /// a 10-minute timeout per request, 2 retries, API version `2023-06-01`,
    /// and no API key. Nothing is read from the environment; see
    /// [`Client::from_env`] for that.
    pub fn new() -> Self {
        ClientBuilder {
            config: Config {
                api_key: None,
                base_url: Url::parse(DEFAULT_BASE_URL).expect("the default base URL is valid"),
                default_headers: HeaderMap::new(),
                timeout: DEFAULT_TIMEOUT,
                stream_idle_timeout: None,
                max_retries: DEFAULT_MAX_RETRIES,
                anthropic_version: DEFAULT_VERSION.to_owned(),
                http: None,
            },
            error: None,
        }
    }

    /// Reads the API key and base URL from the environment through `var`.
    pub(crate) fn from_env_with(var: impl Fn(&str) -> Option<OsString>) -> Self {
        let mut builder = ClientBuilder::new();
        match var(API_KEY_VAR) {
            Some(key) if !key.is_empty() => match key.into_string() {
                Ok(key) => builder = builder.api_key(key),
                Err(_) => {
                    builder.fail(Error::config(format!(
                        "environment variable {API_KEY_VAR} is not valid unicode"
                    )));
                }
            },
            _ => builder.fail(Error::config(format!(
                "environment variable {API_KEY_VAR} is not set"
            ))),
        }
        match var(BASE_URL_VAR) {
            Some(url) if !url.is_empty() => match url.into_string() {
                Ok(url) => builder = builder.base_url(url),
                Err(url) => builder.fail(Error::config(format!(
                    "environment variable {BASE_URL_VAR} is not valid unicode: {url:?}"
                ))),
            },
            _ => {}
        }
        builder
    }

    /// Sets the API key, sent in the `x-api-key` header. The key is kept out
    /// of `Debug` output, errors and logs.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = Some(key.into());
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

    /// Sets the `anthropic-version` header (default `2023-06-01`).
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
        let config = self.config;

        let Some(api_key) = config.api_key else {
            return Err(Error::config(format!(
                "no API key: set one with ClientBuilder::api_key, or use Client::from_env to read {API_KEY_VAR}"
            )));
        };
        // The key is not quoted in the error: it is a secret.
        let mut key = HeaderValue::from_str(&api_key)
            .map_err(|e| Error::config_with("invalid API key: not a valid header value", e))?;
        key.set_sensitive(true);
        let version = HeaderValue::from_str(&config.anthropic_version).map_err(|e| {
            Error::config_with(
                format!("invalid anthropic version {:?}", config.anthropic_version),
                e,
            )
        })?;

        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", key);
        headers.insert("anthropic-version", version);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        for (name, value) in &config.default_headers {
            headers.insert(name, value.clone());
        }

        let base = config.base_url.as_str().trim_end_matches('/');
        let messages_url = Url::parse(&format!("{base}/v1/messages")).map_err(|e| {
            Error::config_with(
                format!("invalid base URL {:?}", config.base_url.as_str()),
                e,
            )
        })?;

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
                messages_url,
                base_url: config.base_url,
                headers,
                default_header_names: config.default_headers.keys().cloned().collect(),
                anthropic_version: config.anthropic_version,
                timeout: config.timeout,
                stream_idle_timeout: config.stream_idle_timeout.unwrap_or(config.timeout),
                retry: RetryPolicy {
                    max_retries: config.max_retries,
                },
            }),
        })
    }

    /// Keeps `error` unless an earlier one is kept already.
    fn fail(&mut self, error: Error) {
        self.error.get_or_insert(error);
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("ClientBuilder")
            .field("api_key", &c.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &super::without_password(&c.base_url).as_str())
            .field(
                "default_headers",
                &c.default_headers.keys().collect::<Vec<_>>(),
            )
            .field("timeout", &c.timeout)
            .field("stream_idle_timeout", &c.stream_idle_timeout)
            .field("max_retries", &c.max_retries)
            .field("anthropic_version", &c.anthropic_version)
            .field("http_client", &c.http.is_some())
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
    fn from_env_without_key_names_the_variable() {
        let err = ClientBuilder::from_env_with(env(&[])).build().unwrap_err();
        assert!(err.is_config());
        assert_eq!(
            err.to_string(),
            "environment variable ANTHROPIC_API_KEY is not set"
        );
        let err = ClientBuilder::from_env_with(env(&[(API_KEY_VAR, "")]))
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
            client.inner.messages_url.as_str(),
            "http://127.0.0.1:9/proxy/v1/messages"
        );
        assert_eq!(client.inner.headers["x-api-key"], "sk-test");

        let client = ClientBuilder::from_env_with(env(&[(API_KEY_VAR, "sk-test")]))
            .build()
            .unwrap();
        assert_eq!(
            client.inner.messages_url.as_str(),
            "https://api.anthropic.com/v1/messages"
        );
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
