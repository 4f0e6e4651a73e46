//! Where requests go: the first-party API, or a cloud platform that serves
//! Claude (Amazon Bedrock, Google Vertex AI, Microsoft Foundry, ...).
//!
//! A platform is a value under the client, never a branch in it: it
//! rewrites each Messages request from the first-party shape into its own
//! (URL, headers, body fields), authenticates each attempt (an API key, a
//! SigV4 signature, a bearer token), says how streamed replies are framed,
//! and what it offers. The client and the runner only ask it.
//!
//! Each platform's builder ends in `build()`, which returns the ordinary
//! [`Client`](crate::Client): the runner, streaming, durable runs and code
//! mode all work on it unchanged.

#![cfg_attr(
    not(feature = "bedrock"),
    allow(
        dead_code,
        reason = "the seam's other users are platforms, each behind a feature"
    )
)]

#[cfg(feature = "bedrock")]
mod aws;
#[cfg(feature = "bedrock")]
mod aws_api;
#[cfg(any(feature = "vertex", feature = "foundry"))]
mod base_url;
#[cfg(feature = "bedrock")]
mod bedrock;
mod first_party;
#[cfg(feature = "foundry")]
mod foundry;
#[cfg(feature = "vertex")]
pub(crate) mod google;
#[cfg(feature = "bedrock")]
mod mantle;
#[cfg(any(feature = "vertex", feature = "foundry"))]
mod token;
mod unoffered;

use std::fmt;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{StatusCode, Url};

use crate::error::Error;
pub(crate) use crate::stream::Framing;
#[cfg(feature = "bedrock")]
pub use aws_api::Aws;
#[cfg(feature = "bedrock")]
pub use bedrock::Bedrock;
pub(crate) use first_party::FirstParty;
#[cfg(any(feature = "bedrock", feature = "vertex"))]
pub(crate) use unoffered::{CODE_EXECUTION_BETA, CODE_EXECUTION_TOOL, Lacking, Unoffered};
pub(crate) use unoffered::{Refusals, refuse_unoffered};

/// The header that names the workspace a request is made in: set by the
/// client's options, required by the AWS-hosted APIs.
pub(crate) const WORKSPACE_ID: HeaderName = HeaderName::from_static("anthropic-workspace-id");
/// The header that names the end user a request is made for: set by the
/// client's options, moved into the body by Bedrock.
pub(crate) const USER_PROFILE_ID: HeaderName = HeaderName::from_static("anthropic-user-profile-id");
#[cfg(feature = "foundry")]
pub use foundry::Foundry;
#[cfg(feature = "vertex")]
pub use google::{GoogleCloud, Vertex};
#[cfg(feature = "bedrock")]
pub use mantle::BedrockMantle;
#[cfg(any(feature = "vertex", feature = "foundry"))]
pub use token::{TokenError, TokenProvider};

/// What every platform does to the requests of a [`Client`](crate::Client).
pub(crate) trait Platform: Send + Sync + fmt::Debug + 'static {
    /// The platform's name in errors and spans, e.g. "Amazon Bedrock".
    fn name(&self) -> &'static str;

    /// Rewrites one Messages request from the first-party shape (`POST
    /// {base}/v1/messages`, a JSON body with `model`, and `"stream": true`
    /// when streamed) into this platform's URL, body and headers. Pure: no
    /// I/O, so it is done once per request, not per attempt.
    ///
    /// # Errors
    ///
    /// [`Error::unsupported`] for what the platform lacks, naming the
    /// platform and the feature (the tools and betas in its
    /// [`refusals`](Self::refusals) were refused before it is asked); an
    /// invalid request (a model that cannot be put in a path).
    fn messages(&self, call: &MessagesCall<'_>) -> Result<PlatformRequest, Error>;

    /// The URL of another endpoint.
    ///
    /// # Errors
    ///
    /// [`Error::unsupported`] naming the platform and the feature when the
    /// platform does not offer the endpoint.
    fn endpoint(&self, endpoint: Endpoint<'_>) -> Result<Url, Error>;

    /// Authenticates one attempt once its URL, headers and body are final:
    /// adds an API key, a bearer token (minted and cached), or a signature.
    /// Called on every attempt, so that a signature's date is fresh.
    fn authorize<'a>(
        &'a self,
        http: &'a reqwest::Client,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// The platform refused an authorized attempt (`refused`): drops cached
    /// credentials that may be stale and says whether one more attempt may
    /// succeed. The client sends that attempt once per request, not
    /// counted as a retry.
    fn reauthorize<'a>(&'a self, refused: &'a Refused<'a>) -> BoxFuture<'a, bool> {
        let _ = refused;
        Box::pin(std::future::ready(false))
    }

    /// Rewrites one token-counting request from the first-party shape
    /// (`POST {base}/v1/messages/count_tokens`, the Messages body less what
    /// only generation takes) into this platform's. The client asks only
    /// platforms that [offer](Self::offers) [`Feature::CountTokens`].
    ///
    /// # Errors
    ///
    /// As [`messages`](Self::messages).
    fn count_tokens(&self, call: &MessagesCall<'_>) -> Result<PlatformRequest, Error> {
        let url = self.endpoint(Endpoint::CountTokens)?;
        Ok(PlatformRequest::first_party(call, url))
    }

    /// How streamed replies are framed.
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    /// Whether the platform offers `feature`.
    fn offers(&self, feature: Feature) -> bool;

    /// The tools and betas the platform lacks, checked by
    /// [`refuse_unoffered`] before [`messages`](Self::messages) and
    /// [`count_tokens`](Self::count_tokens) are asked; `None` when no
    /// source says it lacks any, so that all are passed through.
    fn refusals(&self) -> Option<&Refusals> {
        None
    }
}

/// One Messages request in the first-party shape, for
/// [`Platform::messages`].
#[derive(Debug)]
pub(crate) struct MessagesCall<'a> {
    /// The request's model, as in the body.
    pub(crate) model: &'a str,
    /// The first-party JSON body: `model` included, and `"stream": true`
    /// when [`stream`](Self::stream).
    pub(crate) body: &'a Bytes,
    /// Whether the reply is streamed.
    pub(crate) stream: bool,
    /// The betas of the request and of the default `anthropic-beta` header,
    /// deduplicated, in order.
    pub(crate) betas: &'a [String],
    /// The `type` of each tool the body declares with one (server tools
    /// and Anthropic-defined tools), known from building the body, so
    /// that it is never read back for them.
    pub(crate) tool_types: &'a [String],
    /// The API version the client sends.
    pub(crate) anthropic_version: &'a str,
    /// The headers the first-party API would get, credentials aside:
    /// `anthropic-version`, `anthropic-beta` (the betas joined), content
    /// type, user agent, and the default headers.
    pub(crate) headers: &'a HeaderMap,
}

/// A Messages request in a platform's shape, ready for
/// [`Platform::authorize`].
#[derive(Debug)]
pub(crate) struct PlatformRequest {
    pub(crate) url: Url,
    pub(crate) body: Bytes,
    pub(crate) headers: HeaderMap,
}

impl PlatformRequest {
    /// The request unchanged, sent to `url`.
    pub(crate) fn first_party(call: &MessagesCall<'_>, url: Url) -> Self {
        PlatformRequest {
            url,
            body: call.body.clone(),
            headers: call.headers.clone(),
        }
    }
}

/// An attempt the platform refused, for [`Platform::reauthorize`].
#[derive(Debug)]
pub(crate) struct Refused<'a> {
    pub(crate) status: StatusCode,
    /// The credential headers the attempt was sent with (`authorization`,
    /// `x-api-key`); empty when a middleware answered it.
    pub(crate) sent: &'a HeaderMap,
    /// The response's headers and body.
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

/// An endpoint other than Messages.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Endpoint<'a> {
    /// `/v1/files` followed by these path segments, each percent-encoded.
    Files(&'a [&'a str]),
    /// `/v1/messages/batches` followed by these path segments, each
    /// percent-encoded.
    Batches(&'a [&'a str]),
    /// `/v1/messages/count_tokens`.
    CountTokens,
    /// `/v1/models` followed by these path segments, each percent-encoded.
    Models(&'a [&'a str]),
}

impl Endpoint<'_> {
    /// Where the first-party API serves the endpoint under `base`; for
    /// platforms that keep its paths.
    pub(crate) fn first_party_url(self, base: &Url) -> Url {
        let (prefix, segments): (&[&str], &[&str]) = match self {
            Endpoint::Files(segments) => (&["v1", "files"], segments),
            Endpoint::Batches(segments) => (&["v1", "messages", "batches"], segments),
            Endpoint::CountTokens => (&["v1", "messages", "count_tokens"], &[]),
            Endpoint::Models(segments) => (&["v1", "models"], segments),
        };
        let all: Vec<&str> = prefix.iter().chain(segments).copied().collect();
        join(base, &all)
    }

    /// The feature the endpoint belongs to.
    pub(crate) fn feature(self) -> Feature {
        match self {
            Endpoint::Files(_) => Feature::Files,
            Endpoint::Batches(_) => Feature::Batches,
            Endpoint::CountTokens => Feature::CountTokens,
            Endpoint::Models(_) => Feature::Models,
        }
    }
}

/// What a platform may or may not offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Feature {
    /// Server-held conversations (the `thread` field).
    MessageThreads,
    /// Automatic prompt caching: a top-level `cache_control`, which the
    /// API applies to the last cacheable block.
    AutomaticCaching,
    /// Cache diagnostics: `diagnostics.previous_message_id` in a request,
    /// `diagnostics.cache_miss_reason` in its reply.
    CacheDiagnostics,
    /// The Files API.
    Files,
    /// The Message Batches API.
    Batches,
    /// Token counting.
    CountTokens,
    /// The Models API.
    Models,
}

impl Feature {
    /// The feature's name in errors.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Feature::MessageThreads => "message threads",
            Feature::AutomaticCaching => "automatic prompt caching",
            Feature::CacheDiagnostics => "cache diagnostics",
            Feature::Files => "the Files API",
            Feature::Batches => "the Message Batches API",
            Feature::CountTokens => "token counting",
            Feature::Models => "the Models API",
        }
    }
}

/// `{base}` with `segments` appended, each percent-encoded so that no value
/// can reach another path; `base`'s own path is kept.
pub(crate) fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// The error for `endpoint` on a platform that does not offer it.
pub(crate) fn unsupported_endpoint(platform: &dyn Platform, endpoint: Endpoint<'_>) -> Error {
    Error::unsupported(platform.name(), endpoint.feature().as_str())
}

#[cfg(test)]
mod redaction_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_the_base_path_and_encodes_segments() {
        let base = Url::parse("http://proxy.local/anthropic/").unwrap();
        assert_eq!(
            join(&base, &["v1", "files", "a/b?c"]).as_str(),
            "http://proxy.local/anthropic/v1/files/a%2Fb%3Fc"
        );
        let base = Url::parse("http://proxy.local").unwrap();
        assert_eq!(
            join(&base, &["v1", "messages"]).as_str(),
            "http://proxy.local/v1/messages"
        );
    }
}
