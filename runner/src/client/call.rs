//! [`Call`]: one request to an endpoint other than Messages, built in one
//! place and sent through the client's retry loop.
//!
//! The Batches, Models and token-counting APIs each build a `Call` and hand
//! it to [`Client::call_json`] or [`Client::call_open`]; per-request options
//! (headers, a timeout) belong on `Call`, so that they reach every such
//! endpoint from one place.

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::{Client, Deadline, read_whole};
use crate::error::Error;
use crate::platform::{Endpoint, unsupported_endpoint};

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
        let (mut headers, _) = self.request_headers(betas)?;
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

    /// Sends `call` with retries and decodes its JSON answer.
    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        span: &tracing::Span,
        call: &Call,
    ) -> Result<T, Error> {
        let ((status, headers, body), attempts) = self
            .execute_request(span, &call.url, || Ok(self.build(call)), read_whole)
            .instrument(span.clone())
            .await?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::decode(e, status, &headers, &body, attempts).expecting(call.expecting)
        })
    }

    /// Sends `call` with retries and returns the successful response
    /// unread, its body to be read as it comes: the timeout bounds the
    /// response's headers only.
    pub(crate) async fn call_open(
        &self,
        span: &tracing::Span,
        call: &Call,
    ) -> Result<reqwest::Response, Error> {
        self.execute_request_with(
            span,
            &call.url,
            Deadline::Headers,
            || Ok(self.build(call)),
            async |response| Ok(response),
        )
        .instrument(span.clone())
        .await
        .map(|(response, _)| response)
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
