//! [`Request`]: one Messages API request, built in one place and sent as it is.

use bytes::Bytes;
use serde_json::Value;

use super::version::{Rejected, rejected_fields};
use crate::error::Error;
use crate::types::MessageParams;

/// A request ready to send: the JSON body and what goes beside it.
///
/// The runner builds one per turn (`runner/request.rs`); [`Client`](super::Client)
/// sends it, plain or streamed, as many times as retries need, without
/// looking into the body.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    /// The model, for the request's tracing span.
    pub(crate) model: String,
    /// The body's `max_tokens`, for deciding whether the reply must be
    /// streamed.
    pub(crate) max_tokens: u32,
    /// The JSON body, without `"stream"`.
    pub(crate) body: Bytes,
    /// Betas for the `anthropic-beta` header.
    pub(crate) betas: Vec<String>,
    /// The code-execution container the request names, so that an error
    /// about it can say which one.
    pub(crate) container: Option<String>,
    /// What API version `2026-10-21` would reject in this request, found
    /// while building it so the client can refuse it under that version
    /// without reading the body back.
    pub(crate) rejected: Vec<Rejected>,
    /// The `type` of each tool the body declares with one, found while
    /// building it so that the platform can refuse a tool it lacks
    /// without reading the body back.
    pub(crate) tool_types: Vec<String>,
}

impl Request {
    /// The request for `params` as they are.
    pub(crate) fn from_params(params: &MessageParams) -> Result<Request, Error> {
        let body = serde_json::to_vec(params).map_err(Error::encode)?;
        Ok(Request {
            model: params.model.clone(),
            max_tokens: params.max_tokens,
            body: Bytes::from(body),
            betas: params.betas.clone(),
            container: None,
            rejected: rejected_fields(params, 0),
            tool_types: tool_types(&params.tools),
        })
    }

    /// The body that asks for a streamed reply: `"stream": true` added as
    /// the last field. Added here, once, rather than passed through every
    /// serializer as a flag.
    pub(crate) fn streamed_body(&self) -> Bytes {
        let body = self.body.as_ref();
        let Some(open) = body.strip_suffix(b"}") else {
            return self.body.clone();
        };
        let mut streamed = Vec::with_capacity(body.len() + 16);
        streamed.extend_from_slice(open);
        if open.trim_ascii() != b"{" {
            streamed.push(b',');
        }
        streamed.extend_from_slice(br#""stream":true}"#);
        Bytes::from(streamed)
    }
}

/// The `type` of each of `tools` that has one, but `custom`: the tool
/// types a platform may lack.
pub(crate) fn tool_types<'a>(tools: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    tools
        .into_iter()
        .filter_map(|tool| tool.get("type").and_then(Value::as_str))
        .filter(|kind| *kind != "custom")
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> Request {
        Request {
            model: "m".into(),
            max_tokens: 1,
            body: Bytes::from(body.to_owned()),
            betas: Vec::new(),
            container: None,
            rejected: Vec::new(),
            tool_types: Vec::new(),
        }
    }

    #[test]
    fn streaming_appends_the_field_once() {
        assert_eq!(
            request(r#"{"model":"m"}"#).streamed_body(),
            r#"{"model":"m","stream":true}"#
        );
        assert_eq!(request("{}").streamed_body(), r#"{"stream":true}"#);
    }
}
