//! [`RequestOptions`]: settings for some requests rather than the whole
//! client: headers, timeouts, retries, extra body fields and query
//! parameters.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

use super::version::{self, Rejected};
use crate::error::Error;

use crate::platform::{USER_PROFILE_ID, WORKSPACE_ID};

/// Body fields that API version `2026-10-21` refuses.
const SAMPLING: [&str; 3] = ["temperature", "top_p", "top_k"];

/// Settings for the requests of one call, one runner or one derived client,
/// over the client's own: what the official SDKs take as `extra_headers`,
/// `timeout`, `max_retries`, `extra_body` and `extra_query`, and
/// `client.with_options(...)`.
///
/// Give them to [`Client::with_options`](crate::Client::with_options): the
/// client it returns shares the connection pool, credentials and
/// middleware, and sends every request (Messages, Files, ...) with these
/// settings; it costs one allocation, so making one per call is fine. A
/// runner takes them with
/// [`ToolRunner::request_options`](crate::ToolRunner::request_options).
///
/// Setters never fail: the first invalid setting is kept and the request is
/// refused with it, before anything is sent. So is an option that
/// conflicts with the request: an extra body field the request already
/// sets (or `stream`, which the client sets), a field the API version
/// refuses, a query parameter the request already has, or extra body
/// fields for a request without a JSON body.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
/// use std::time::Duration;
/// use toolrunner::{MessageParams, RequestOptions};
///
/// let options = RequestOptions::new()
///     .timeout(Duration::from_secs(30))
///     .max_retries(5)
///     .workspace_id("wrkspc_01")
///     .header("x-trace", "abc")
///     .extra_body("metadata", serde_json::json!({"user_id": "u-42"}));
/// let params = MessageParams::new(toolrunner::models::CURRENT, 256).user("Hi");
/// let message = client.with_options(options).create_message(&params).await?;
/// # drop(message);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct RequestOptions {
    /// Headers added to, or replacing, the client's.
    pub(crate) headers: HeaderMap,
    pub(crate) timeout: Option<Duration>,
    pub(crate) stream_idle_timeout: Option<Duration>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) extra_body: Map<String, Value>,
    pub(crate) extra_query: Vec<(String, String)>,
    /// The first invalid setting, as the error message.
    invalid: Option<String>,
}

impl RequestOptions {
    /// No settings: requests go as the client sends them.
    pub fn new() -> Self {
        RequestOptions::default()
    }

    /// Adds a header, replacing the client's header of that name (its
    /// default headers and credentials included). `anthropic-beta` values
    /// are merged with the request's betas instead, so that a beta the
    /// request needs is never dropped.
    ///
    /// An invalid name or value makes the request fail before sending; the
    /// value is not quoted, as it may be a secret.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let name = name.as_ref();
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            self.fail(format!("request option header name {name:?} is not valid"));
            return self;
        };
        match HeaderValue::from_str(value.as_ref()) {
            Ok(value) => self.insert_header(header, value),
            Err(_) => self.fail(format!(
                "request option header {name:?} has a value that is not a valid header value"
            )),
        }
        self
    }

    /// Makes the requests in workspace `id`: the `anthropic-workspace-id`
    /// header, as the official SDKs send it. Over a profile's workspace.
    pub fn workspace_id(self, id: impl AsRef<str>) -> Self {
        self.header(WORKSPACE_ID.as_str(), id)
    }

    /// Makes the requests on behalf of end user `id` (a user profile
    /// registered for your platform): the `anthropic-user-profile-id`
    /// header, as the official SDKs send it.
    pub fn user_profile_id(self, id: impl AsRef<str>) -> Self {
        self.header(USER_PROFILE_ID.as_str(), id)
    }

    /// Sets the timeout of each attempt, as
    /// [`ClientBuilder::timeout`](crate::ClientBuilder::timeout) does.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets how long a streamed body may send nothing, as
    /// [`ClientBuilder::stream_idle_timeout`](crate::ClientBuilder::stream_idle_timeout) does.
    pub fn stream_idle_timeout(mut self, idle: Duration) -> Self {
        self.stream_idle_timeout = Some(idle);
        self
    }

    /// Sets how often a failed request is retried; 0 disables retries.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = Some(max_retries);
        self
    }

    /// Adds a top-level field to the JSON body of each request, for a
    /// parameter this crate does not model yet. A field the request sets
    /// itself is refused rather than overwritten: set it on the request
    /// ([`MessageParams::extra`](crate::MessageParams::extra) for the rest).
    pub fn extra_body(mut self, key: impl Into<String>, value: Value) -> Self {
        self.extra_body.insert(key.into(), value);
        self
    }

    /// Adds a query parameter to each request's URL. A parameter the
    /// request has already (a Files listing's `limit`, say) is refused.
    pub fn extra_query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.extra_query.retain(|(k, _)| *k != key);
        self.extra_query.push((key, value.into()));
        self
    }

    fn insert_header(&mut self, name: HeaderName, value: HeaderValue) {
        if name == "anthropic-beta" {
            self.headers.append(name, value);
        } else {
            self.headers.insert(name, value);
        }
    }

    fn fail(&mut self, message: String) {
        self.invalid.get_or_insert(message);
    }

    /// These options over `base`: a setting made here wins.
    pub(crate) fn over(&self, base: &RequestOptions) -> RequestOptions {
        let mut merged = base.clone();
        for (name, value) in &self.headers {
            merged.insert_header(name.clone(), value.clone());
        }
        merged.timeout = self.timeout.or(base.timeout);
        merged.stream_idle_timeout = self.stream_idle_timeout.or(base.stream_idle_timeout);
        merged.max_retries = self.max_retries.or(base.max_retries);
        for (key, value) in &self.extra_body {
            merged.extra_body.insert(key.clone(), value.clone());
        }
        for (key, value) in &self.extra_query {
            merged = merged.extra_query(key.clone(), value.clone());
        }
        if let Some(invalid) = &self.invalid {
            merged.invalid.get_or_insert_with(|| invalid.clone());
        }
        merged
    }

    /// The first invalid setting, as the error requests are refused with.
    pub(crate) fn check(&self) -> Result<(), Error> {
        match &self.invalid {
            Some(message) => Err(Error::invalid_request(message.clone())),
            None => Ok(()),
        }
    }

    /// Refuses extra body fields for a request that has no JSON body.
    pub(crate) fn check_no_body(&self, what: &str) -> Result<(), Error> {
        match self.extra_body.keys().next() {
            Some(key) => Err(Error::invalid_request(format!(
                "request option extra_body field {key:?} cannot be sent: {what} has no JSON body"
            ))),
            None => Ok(()),
        }
    }

    /// Checks the extra query parameters against `url`'s own.
    pub(crate) fn check_query(&self, url: &Url) -> Result<(), Error> {
        if self.extra_query.is_empty() {
            return Ok(());
        }
        for (key, _) in url.query_pairs() {
            if self.extra_query.iter().any(|(k, _)| *k == key) {
                return Err(Error::invalid_request(format!(
                    "request option extra_query parameter {key:?} collides with one the request sets"
                )));
            }
        }
        Ok(())
    }

    /// Adds the extra query parameters to `url`.
    pub(crate) fn add_query(&self, url: &mut Url) {
        if self.extra_query.is_empty() {
            return;
        }
        let mut query = url.query_pairs_mut();
        for (key, value) in &self.extra_query {
            query.append_pair(key, value);
        }
    }

    /// `body`, a JSON object, with the extra body fields added at its end.
    ///
    /// # Errors
    ///
    /// An invalid-request error naming the field when the body sets it
    /// already, when it is `stream` (which the client sets), or when API
    /// `version` refuses it.
    pub(crate) fn add_body(&self, body: Bytes, version: &str) -> Result<Bytes, Error> {
        if self.extra_body.is_empty() {
            return Ok(body);
        }
        // Only the body's top-level names are read, not its values, and
        // only when extra fields are asked for: the request's own
        // serializer stays the one place that writes the body.
        let set: BTreeMap<String, IgnoredAny> =
            serde_json::from_slice(&body).map_err(|e| {
                Error::invalid_request(format!(
                    "request option extra_body cannot be added: the request body is not a JSON object ({e})"
                ))
            })?;
        for key in self.extra_body.keys() {
            if key == "stream" || set.contains_key(key) {
                return Err(Error::invalid_request(format!(
                    "request option extra_body field {key:?} collides with a field the request sets: set it on the request instead"
                )));
            }
            if let Some(field) = SAMPLING.iter().find(|f| **f == key) {
                let rejected = Rejected::Sampling(field);
                if version::check(version, std::slice::from_ref(&rejected)).is_err() {
                    return Err(Error::invalid_request(format!(
                        "request option extra_body field {rejected}"
                    )));
                }
            }
        }
        let Some(open) = body.strip_suffix(b"}") else {
            return Ok(body);
        };
        let mut spliced = Vec::with_capacity(body.len() + 64);
        spliced.extend_from_slice(open);
        for (key, value) in &self.extra_body {
            if spliced.trim_ascii_end() != b"{" {
                spliced.push(b',');
            }
            serde_json::to_writer(&mut spliced, key).map_err(Error::encode)?;
            spliced.push(b':');
            serde_json::to_writer(&mut spliced, value).map_err(Error::encode)?;
        }
        spliced.push(b'}');
        Ok(Bytes::from(spliced))
    }
}

impl fmt::Debug for RequestOptions {
    /// Header names only: their values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("max_retries", &self.max_retries)
            .field("extra_body", &self.extra_body.keys().collect::<Vec<_>>())
            .field("extra_query", &self.extra_query)
            .field("invalid", &self.invalid)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_body_is_appended_and_collisions_are_refused() {
        let body = Bytes::from_static(br#"{"model":"m","max_tokens":1}"#);
        let options = RequestOptions::new().extra_body("speed", Value::from("fast"));
        let sent = options.add_body(body.clone(), "2026-10-21").unwrap();
        assert_eq!(sent, r#"{"model":"m","max_tokens":1,"speed":"fast"}"#);
        let empty = options.add_body(Bytes::from_static(b"{}"), "2026-10-21");
        assert_eq!(empty.unwrap(), r#"{"speed":"fast"}"#);

        let err = RequestOptions::new()
            .extra_body("model", Value::from("other"))
            .add_body(body.clone(), "2026-10-21")
            .unwrap_err();
        assert!(err.is_invalid_request());
        assert_eq!(
            err.to_string(),
            r#"invalid request: request option extra_body field "model" collides with a field the request sets: set it on the request instead"#
        );
        let stream = RequestOptions::new().extra_body("stream", Value::Bool(true));
        assert!(stream.add_body(body.clone(), "2026-10-21").is_err());
    }

    #[test]
    fn the_version_decides_about_sampling_fields() {
        let body = Bytes::from_static(br#"{"model":"m"}"#);
        let options = RequestOptions::new().extra_body("top_k", Value::from(5));
        let err = options.add_body(body.clone(), "2026-10-21").unwrap_err();
        assert!(err.to_string().starts_with(
            "invalid request: request option extra_body field `top_k` is not accepted by API version 2026-10-21"
        ));
        let legacy = options.add_body(body, "2023-06-01").unwrap();
        assert_eq!(legacy, r#"{"model":"m","top_k":5}"#);
    }

    #[test]
    fn later_options_win_and_betas_add_up() {
        let base = RequestOptions::new()
            .timeout(Duration::from_secs(1))
            .max_retries(1)
            .header("x-a", "1")
            .header("anthropic-beta", "b1")
            .extra_query("q", "1");
        let top = RequestOptions::new()
            .timeout(Duration::from_secs(2))
            .header("x-a", "2")
            .header("anthropic-beta", "b2")
            .extra_query("q", "2");
        let merged = top.over(&base);
        assert_eq!(merged.timeout, Some(Duration::from_secs(2)));
        assert_eq!(merged.max_retries, Some(1));
        assert_eq!(merged.headers["x-a"], "2");
        let betas: Vec<_> = merged.headers.get_all("anthropic-beta").iter().collect();
        assert_eq!(betas, ["b1", "b2"]);
        assert_eq!(merged.extra_query, [("q".to_owned(), "2".to_owned())]);
    }

    #[test]
    fn a_bad_header_is_kept_and_named() {
        let options = RequestOptions::new().header("bad name", "v").max_retries(1);
        let err = options.check().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid request: request option header name "bad name" is not valid"#
        );
        let secret = RequestOptions::new().header("x-key", "line\nbreak");
        assert!(!secret.check().unwrap_err().to_string().contains("line"));
    }

    #[test]
    fn query_collisions_are_refused() {
        let url = Url::parse("http://h/v1/files?limit=2").unwrap();
        let options = RequestOptions::new().extra_query("limit", "5");
        assert!(options.check_query(&url).is_err());
        let mut url = Url::parse("http://h/v1/messages").unwrap();
        let options = RequestOptions::new().extra_query("beta", "true");
        options.check_query(&url).unwrap();
        options.add_query(&mut url);
        assert_eq!(url.as_str(), "http://h/v1/messages?beta=true");
    }
}
