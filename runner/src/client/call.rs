//! [`Call`]: one request to an endpoint other than Messages, built in one
//! place and sent through the client's retry loop.
//!
//! The Batches, Models and token-counting APIs each build a `Call` and hand
//! it to [`Client::call_json`] or [`Client::call_open`]; per-request options
//! (headers, a timeout) belong on `Call`, so that they reach every such
//! endpoint from one place. Each runs in a span named after its operation
//! ([`call_span!`]), and its answer keeps the response's metadata.

use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::{Client, Deadline, read_whole};
use crate::error::Error;
use crate::platform::{Endpoint, unsupported_endpoint};
use crate::runner::open_telemetry::Telemetry;
use crate::runner::telemetry;
use crate::types::ResponseMeta;
use crate::types::response::Received;

/// The span of one call to an endpoint other than Messages: `$name`, the
/// operation (`messages.batches.create`), with its own fields, and those
/// of every call: the attempt, `error.type` once a call fails, and, unless
/// the client's telemetry is off, the GenAI provider and the client's
/// conversation. Fields a caller records only with telemetry on are
/// declared `tracing::field::Empty`.
macro_rules! call_span {
    ($client:expr, $name:literal $(, $($field:tt)+)?) => {{
        let span = tracing::info_span!(
            $name,
            $($($field)+,)?
            attempt = tracing::field::Empty,
            gen_ai.provider.name = tracing::field::Empty,
            gen_ai.conversation.id = tracing::field::Empty,
            error.type = tracing::field::Empty
        );
        $crate::client::call::record_genai(&span, $client.telemetry());
        span
    }};
}
pub(crate) use call_span;

/// One request, ready for the retry loop.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    /// The JSON body, if the request has one.
    pub(crate) body: Option<Bytes>,
    /// What a success response holds, for decode errors: "a message batch".
    pub(crate) expecting: &'static str,
}

impl Client {
    /// The URL of `endpoint` on the client's platform, or a refusal naming
    /// the platform and the feature when the platform does not offer it.
    pub(crate) fn endpoint_url(&self, endpoint: Endpoint<'_>) -> Result<Url, Error> {
        let platform = self.platform();
        if !platform.offers(endpoint.feature()) {
            return Err(unsupported_endpoint(platform, endpoint));
        }
        platform.endpoint(endpoint)
    }

    /// A call to `endpoint` with the client's headers and `betas`, and
    /// the JSON content type unless it is a `GET`.
    pub(crate) fn call(
        &self,
        method: Method,
        endpoint: Endpoint<'_>,
        betas: &[String],
        body: Option<Bytes>,
        expecting: &'static str,
    ) -> Result<Call, Error> {
        let url = self.endpoint_url(endpoint)?;
        let (headers, _) = self.request_headers(betas)?;
        let mut headers = headers.into_owned();
        // The options' extra body fields go into a JSON body; a call with
        // none (a `GET`, a bodiless `POST`) refuses them, naming the option.
        let body = match body {
            Some(body) if !body.is_empty() => Some(self.with_extra_body(body)?),
            body => {
                self.refuse_extra_body(&url)?;
                body
            }
        };
        match &body {
            // As the official SDKs: a `GET` has no content type, a
            // `DELETE` keeps the JSON one.
            None if method == Method::GET => {
                headers.remove(CONTENT_TYPE);
            }
            None => {}
            // The HTTP client sends no length for an empty body; the
            // official SDKs send `0`, which some proxies want on a POST.
            Some(body) if body.is_empty() => {
                headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            }
            Some(_) => {}
        }
        Ok(Call {
            method,
            url,
            headers,
            body,
            expecting,
        })
    }

    /// Sends `call` with retries and decodes its JSON answer, which keeps
    /// the response's metadata. A failure is recorded in `span`.
    pub(crate) async fn call_json<T: DeserializeOwned + Received>(
        &self,
        span: &tracing::Span,
        call: &Call,
    ) -> Result<T, Error> {
        let sent = self
            .execute_request(span, &call.url, || Ok(self.build(call)), read_whole)
            .instrument(span.clone())
            .await;
        let decoded = sent.and_then(|(whole, attempts)| decode(whole, attempts, call.expecting));
        recorded(span, decoded)
    }

    /// Sends `call` with retries and returns the successful response
    /// unread, its body to be read as it comes: the timeout bounds the
    /// response's headers only.
    pub(crate) async fn call_open(
        &self,
        span: &tracing::Span,
        call: &Call,
    ) -> Result<reqwest::Response, Error> {
        let opened = self
            .execute_request_with(
                span,
                &call.url,
                Deadline::Headers,
                || Ok(self.build(call)),
                async |response| Ok(response),
            )
            .instrument(span.clone())
            .await
            .map(|(response, _)| response);
        recorded(span, opened)
    }

    fn build(&self, call: &Call) -> reqwest::RequestBuilder {
        let builder = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .headers(call.headers.clone());
        match &call.body {
            Some(body) => builder.body(body.clone()),
            None => builder,
        }
    }
}

/// A successful response's JSON body as a `T` that keeps the response's
/// status and headers; `expecting` says what it should have held.
pub(crate) fn decode<T: DeserializeOwned + Received>(
    (status, headers, body): (StatusCode, HeaderMap, Bytes),
    attempts: u32,
    expecting: &'static str,
) -> Result<T, Error> {
    let mut value: T = serde_json::from_slice(&body)
        .map_err(|e| Error::decode(e, status, &headers, &body, attempts).expecting(expecting))?;
    value.set_response(Arc::new(ResponseMeta::new(status, headers)));
    Ok(value)
}

/// Records the GenAI attributes of every call on `span`, a
/// [`call_span!`], when `telemetry` is on: a client whose telemetry is off
/// makes no GenAI spans.
pub(crate) fn record_genai(span: &tracing::Span, telemetry: &Telemetry) {
    if telemetry.is_enabled() {
        span.record("gen_ai.provider.name", telemetry::PROVIDER);
        if let Some(conversation) = telemetry.conversation() {
            span.record("gen_ai.conversation.id", conversation);
        }
    }
}

/// `result`, its failure recorded in `span` (see [`call_span!`]).
pub(crate) fn recorded<T>(span: &tracing::Span, result: Result<T, Error>) -> Result<T, Error> {
    if let Err(error) = &result {
        telemetry::record_error(span, error);
    }
    result
}
