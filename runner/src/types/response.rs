//! [`ResponseMeta`]: what the HTTP response of a successful call said
//! beside its body: the request id and the headers (rate limits among them).

use std::fmt;
use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// The status and headers of the response a value came in, for a
/// successful call: its request id (quote it to support), rate-limit
/// headers, the workspace it ran in, and any other header.
///
/// Found on a [`Message`](crate::Message) the client returned
/// ([`Message::response`](crate::Message::response)), on a
/// [`MessageStream`](crate::stream::MessageStream), on each runner
/// [`Turn`](crate::Turn), on Files API answers, on token counts, models,
/// batches and their [`Page`](crate::types::Page)s, and on
/// [`BatchResults`](crate::BatchResults). It is not part of the
/// value: it is never serialized, and two messages that differ only in it
/// are equal.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
/// use toolrunner::types::RateLimit;
///
/// let params = toolrunner::MessageParams::new(toolrunner::models::CURRENT, 64).user("Hi");
/// let message = client.create_message(&params).await?;
/// if let Some(response) = message.response() {
///     println!("request {}", response.request_id().unwrap_or("?"));
///     let tokens = response.rate_limit(RateLimit::Tokens);
///     println!("{:?} of {:?} tokens left", tokens.remaining, tokens.limit);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ResponseMeta {
    status: StatusCode,
    headers: HeaderMap,
}

/// A rate limit the API reports in `anthropic-ratelimit-*` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimit {
    /// `anthropic-ratelimit-requests-*`.
    Requests,
    /// `anthropic-ratelimit-tokens-*`.
    Tokens,
    /// `anthropic-ratelimit-input-tokens-*`.
    InputTokens,
    /// `anthropic-ratelimit-output-tokens-*`.
    OutputTokens,
}

impl RateLimit {
    fn prefix(self) -> &'static str {
        match self {
            RateLimit::Requests => "anthropic-ratelimit-requests",
            RateLimit::Tokens => "anthropic-ratelimit-tokens",
            RateLimit::InputTokens => "anthropic-ratelimit-input-tokens",
            RateLimit::OutputTokens => "anthropic-ratelimit-output-tokens",
        }
    }
}

/// One rate limit's state, as far as the response's headers say it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitState {
    /// The most allowed in the period (`...-limit`).
    pub limit: Option<u64>,
    /// What is left of it (`...-remaining`).
    pub remaining: Option<u64>,
    /// When it is replenished, an RFC 3339 time (`...-reset`).
    pub reset: Option<String>,
}

impl ResponseMeta {
    /// The metadata of a response with `status` and `headers`.
    pub(crate) fn new(status: StatusCode, headers: HeaderMap) -> Self {
        ResponseMeta { status, headers }
    }

    /// The response's `request-id` header.
    pub fn request_id(&self) -> Option<&str> {
        self.header("request-id")
    }

    /// The workspace the request ran in (`anthropic-workspace-id`).
    pub fn workspace_id(&self) -> Option<&str> {
        self.header("anthropic-workspace-id")
    }

    /// The response's status: a success.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// All the response's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// What the response says of rate limit `which`.
    pub fn rate_limit(&self, which: RateLimit) -> RateLimitState {
        let prefix = which.prefix();
        let field = |suffix: &str| self.header(&format!("{prefix}-{suffix}"));
        let number = |suffix: &str| field(suffix).and_then(|v| v.trim().parse().ok());
        RateLimitState {
            limit: number("limit"),
            remaining: number("remaining"),
            reset: field("reset").map(str::to_owned),
        }
    }
}

impl fmt::Debug for ResponseMeta {
    /// The status and request id; header values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseMeta")
            .field("status", &self.status)
            .field("request_id", &self.request_id())
            .finish_non_exhaustive()
    }
}

/// Where a value keeps the metadata of the response it came in: outside
/// its equality and its serialized form.
#[derive(Clone, Default)]
pub(crate) struct ResponseSlot(pub(crate) Option<Arc<ResponseMeta>>);

impl PartialEq for ResponseSlot {
    /// Always equal: metadata is about the delivery, not the value.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for ResponseSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(meta) => fmt::Debug::fmt(&meta.request_id(), f),
            None => f.write_str("None"),
        }
    }
}

/// What a value the client received says of its response, for values
/// that keep it, like [`Message`](crate::Message), in a `response:
/// ResponseSlot` field.
pub(crate) trait Received {
    /// Keeps `meta` as the response the value came in.
    fn set_response(&mut self, meta: Arc<ResponseMeta>);
}

/// `response()`, `request_id()` and [`Received`] for types with a
/// `response: ResponseSlot` field.
macro_rules! response_accessors {
    ($($ty:ty),+) => {$(
        impl $ty {
            /// The status and headers of the response this came in, when
            /// the client received it (not when you deserialized it).
            pub fn response(&self) -> Option<&$crate::types::ResponseMeta> {
                self.response.0.as_deref()
            }

            /// The `request-id` of the response this came in.
            pub fn request_id(&self) -> Option<&str> {
                self.response()?.request_id()
            }
        }

        impl $crate::types::response::Received for $ty {
            fn set_response(&mut self, meta: ::std::sync::Arc<$crate::types::ResponseMeta>) {
                self.response = $crate::types::response::ResponseSlot(Some(meta));
            }
        }
    )+};
}
pub(crate) use response_accessors;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_and_ids_are_read_from_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("request-id", "req_1".parse().unwrap());
        headers.insert("anthropic-ratelimit-tokens-limit", "1000".parse().unwrap());
        headers.insert(
            "anthropic-ratelimit-tokens-remaining",
            "250".parse().unwrap(),
        );
        headers.insert(
            "anthropic-ratelimit-tokens-reset",
            "2026-12-06T18:00:00Z".parse().unwrap(),
        );
        headers.insert(
            "anthropic-ratelimit-requests-limit",
            "many".parse().unwrap(),
        );
        let meta = ResponseMeta::new(StatusCode::OK, headers);
        assert_eq!(meta.request_id(), Some("req_1"));
        let tokens = meta.rate_limit(RateLimit::Tokens);
        assert_eq!(tokens.limit, Some(1000));
        assert_eq!(tokens.remaining, Some(250));
        assert_eq!(tokens.reset.as_deref(), Some("2026-12-06T18:00:00Z"));
        assert_eq!(meta.rate_limit(RateLimit::Requests).limit, None);
        assert_eq!(
            meta.rate_limit(RateLimit::OutputTokens),
            RateLimitState::default()
        );
    }
}
