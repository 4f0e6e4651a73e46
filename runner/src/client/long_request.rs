//! Whether a request is too long to send without streaming.
//!
//! The API refuses a non-streaming request that it expects to run past ten
//! minutes, judged from `max_tokens`: an HTTP response that long would be
//! cut by proxies and timeouts on the way. The official SDKs check this
//! before sending, with the same arithmetic as here, and so do we: the
//! runner streams such a turn itself, and `create_message` says to stream.

use crate::error::Error;

/// What the API allows a non-streaming request to take.
const NON_STREAMING_LIMIT_SECS: u64 = 10 * 60;

/// The time the SDKs assume the longest possible reply takes, for
/// [`MAXIMUM_TIME_TOKENS`] output tokens: the estimate is linear in `max_tokens`.
const MAXIMUM_TIME_SECS: u64 = 60 * 60;

/// The output tokens [`MAXIMUM_TIME_SECS`] is for.
const MAXIMUM_TIME_TOKENS: u64 = 128_000;

/// Models with a lower cap on non-streaming `max_tokens`, as the official
/// Python SDK 2.14 lists them (`MODEL_NONSTREAMING_TOKENS`).
const MODEL_NON_STREAMING_TOKENS: &[(&str, u32)] = &[
    ("claude-opus-4-20250514", 8_192),
    ("claude-opus-4-0", 8_192),
    ("claude-4-opus-20250514", 8_192),
    ("anthropic.claude-opus-4-20250514-v1:0", 8_192),
    ("claude-opus-4@20250514", 8_192),
    ("anthropic.claude-opus-4-1-20250805-v1:0", 8_192),
    ("claude-opus-4-1@20250805", 8_192),
];

/// Whether a non-streaming request for `model` with `max_tokens` would be
/// refused for taking too long: over 21,333 tokens for most models (the
/// expected time passes ten minutes), or over the model's own cap.
pub(crate) fn must_stream(model: &str, max_tokens: u32) -> bool {
    // The expected time is MAXIMUM_TIME_SECS * max_tokens / MAXIMUM_TIME_TOKENS,
    // compared without dividing, as the SDKs compare fractional seconds: 21,334
    // tokens is 600.01 s, which integer division alone would round down.
    let over_time =
        MAXIMUM_TIME_SECS * u64::from(max_tokens) > NON_STREAMING_LIMIT_SECS * MAXIMUM_TIME_TOKENS;
    let over_cap = MODEL_NON_STREAMING_TOKENS
        .iter()
        .any(|(name, cap)| *name == model && max_tokens > *cap);
    over_time || over_cap
}

/// The error of `create_message` for a request that must be streamed.
pub(crate) fn streaming_required(model: &str, max_tokens: u32) -> Error {
    Error::invalid_request(format!(
        "max_tokens {max_tokens} for model {model} may take longer than 10 minutes, \
         which the API refuses without streaming: use Client::stream_message, \
         or a ToolRunner, which streams such turns itself"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_21_333_tokens() {
        assert!(!must_stream("claude-opus-5-5", 21_333));
        assert!(must_stream("claude-opus-5-5", 21_334));
        assert!(must_stream("claude-opus-5-5", 64_000));
    }

    #[test]
    fn some_models_have_a_lower_cap() {
        assert!(!must_stream("claude-opus-4-0", 8_192));
        assert!(must_stream("claude-opus-4-0", 8_193));
        assert!(!must_stream("claude-opus-4-5", 8_193));
    }
}
