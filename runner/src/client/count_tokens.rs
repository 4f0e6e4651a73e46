//! [`Client::count_tokens`]: `POST /v1/messages/count_tokens`.

use tracing::field::Empty;

use super::Client;
use super::call::call_span;
use crate::error::Error;
use crate::platform::{Feature, MessagesCall};
use crate::types::{Body, MessageParams, TokenCount};
use bytes::Bytes;
use reqwest::Method;
use serde_json::{Map, Value};

/// The fields of a Messages body that only generation takes: the count
/// endpoint rejects them, so they are left out.
const GENERATION_ONLY: [&str; 10] = [
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "metadata",
    "service_tier",
    "inference_geo",
    "container",
    "stream",
];

impl Client {
    /// Counts the input tokens `params` would cost, without creating a
    /// message: `POST /v1/messages/count_tokens` with the messages, system
    /// prompt, tools, tool choice and thinking as
    /// [`create_message`](Self::create_message) would send them; betas go
    /// in the `anthropic-beta` header as there. Fields only generation
    /// takes (`max_tokens`, sampling, `stop_sequences`, `metadata`,
    /// `service_tier`, `inference_geo`, `container`) are left out.
    ///
    /// # Errors
    ///
    /// - [`Error::is_unsupported`]: the client's platform does not count
    ///   tokens (Amazon Bedrock, say); nothing is sent.
    /// - Otherwise as for [`create_message`](Self::create_message).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use toolrunner::MessageParams;
    ///
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 1024)
    ///     .system("You are terse.")
    ///     .user("What's 2 + 2?");
    /// let count = client.count_tokens(&params).await?;
    /// println!("{} input tokens", count.input_tokens);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn count_tokens(&self, params: &MessageParams) -> Result<TokenCount, Error> {
        let platform = self.platform();
        if !platform.offers(Feature::CountTokens) {
            return Err(Error::unsupported(
                platform.name(),
                Feature::CountTokens.as_str(),
            ));
        }
        // The options' extra fields go into the first-party body, which
        // the platform then rewrites as it does a Messages body.
        let body = self.with_extra_body(count_tokens_body(params)?)?;
        let (headers, betas) = self.request_headers(&params.betas)?;
        let tool_types = super::tool_types(&params.tools);
        let call = MessagesCall {
            model: &params.model,
            body: &body,
            stream: false,
            betas: &betas,
            tool_types: &tool_types,
            anthropic_version: &self.inner.anthropic_version,
            headers: &headers,
        };
        crate::platform::refuse_unoffered(platform, &call)?;
        let request = platform.count_tokens(&call)?;
        let call = super::call::Call {
            method: Method::POST,
            url: request.url,
            headers: request.headers,
            body: Some(request.body),
            expecting: "a token count",
        };
        let span = call_span!(
            self,
            "messages.count_tokens",
            otel.name = Empty,
            gen_ai.operation.name = Empty,
            gen_ai.request.model = Empty
        );
        // GenAI attributes as a `chat` span has them, under an operation
        // of its own: a count is not a generation.
        if self.telemetry().is_enabled() {
            let model = params.model.as_str();
            span.record("otel.name", format!("count_tokens {model}"));
            span.record("gen_ai.operation.name", "count_tokens");
            span.record("gen_ai.request.model", model);
        }
        self.call_json(&span, &call).await
    }
}

/// The count request's body: the Messages body of `params` less what only
/// generation takes.
pub(crate) fn count_tokens_body(params: &MessageParams) -> Result<Bytes, Error> {
    let value = serde_json::to_value(Body::of(params)).map_err(Error::encode)?;
    let mut body: Map<String, Value> = match value {
        Value::Object(body) => body,
        _ => Map::new(),
    };
    for field in GENERATION_ONLY {
        // `shift_remove` keeps the other fields in their order.
        body.shift_remove(field);
    }
    serde_json::to_vec(&body)
        .map(Bytes::from)
        .map_err(Error::encode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_keeps_what_counts_and_drops_what_generates() {
        let mut params = MessageParams::new("m", 99).system("s").user("hi");
        params.temperature = Some(0.5);
        params.stop_sequences = vec!["x".into()];
        params.tools = vec![serde_json::json!({"name": "t", "input_schema": {"type": "object"}})];
        params
            .extra
            .insert("output_config".into(), serde_json::json!({"effort": "low"}));
        let body: Value = serde_json::from_slice(&count_tokens_body(&params).unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "model": "m",
                "messages": [{"role": "user", "content": "hi"}],
                "system": "s",
                "tools": [{"name": "t", "input_schema": {"type": "object"}}],
                "output_config": {"effort": "low"},
            })
        );
    }
}
