//! What an error response says, whichever platform sent it: its type,
//! message, code and request id.

use reqwest::header::HeaderMap;

use super::SNIPPET_CHARS;

/// The request id response header: the API's `request-id`, or the one
/// AWS platforms send.
pub(super) fn request_id_of(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get("request-id")
        .or_else(|| headers.get("x-amzn-requestid"))?;
    value.to_str().ok().map(str::to_owned)
}

/// What an error body says, whichever of the shapes it has: the API's
/// `{"type":"error","error":{"type","message","details"},"request_id"}`;
/// AWS's `{"message"}` with the type in `__type` or the
/// `x-amzn-errortype` header; Google's `{"error":{"code","message","status"}}`,
/// possibly wrapped in a list.
#[derive(Default)]
pub(super) struct ErrorShape {
    pub(super) error_type: Option<String>,
    pub(super) message: Option<String>,
    pub(super) error_code: Option<String>,
    pub(super) request_id: Option<String>,
}

impl ErrorShape {
    pub(super) fn of(headers: &HeaderMap, body: &[u8]) -> Self {
        use serde_json::Value;
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let object = match &parsed {
            Some(Value::Array(items)) => items.first(),
            other => other.as_ref(),
        };
        let object = object.and_then(Value::as_object);
        let aws_type = headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| text(object.and_then(|o| o.get("__type"))))
            .map(|t| aws_error_type(&t).to_owned());
        let Some(object) = object else {
            return ErrorShape {
                error_type: aws_type,
                ..ErrorShape::default()
            };
        };
        match object.get("error").and_then(Value::as_object) {
            Some(error) => ErrorShape {
                // The API names its type; Google names a status.
                error_type: text(error.get("type")).or_else(|| text(error.get("status"))),
                message: text(error.get("message")),
                error_code: text(error.get("details").and_then(|d| d.get("error_code"))),
                request_id: text(object.get("request_id")),
            },
            None => ErrorShape {
                error_type: aws_type,
                message: text(object.get("message").or_else(|| object.get("Message"))),
                ..ErrorShape::default()
            },
        }
    }
}

/// An AWS error type without its namespace (`aws.protocols#`) or the
/// documentation URL after a colon.
fn aws_error_type(raw: &str) -> &str {
    let raw = raw.split(':').next().unwrap_or(raw);
    raw.rsplit('#').next().unwrap_or(raw)
}

/// The first [`SNIPPET_CHARS`] characters of `body`, lossily decoded, with
/// an ellipsis when cut.
pub(super) fn snippet(body: &[u8]) -> String {
    // Decode a little more than needed so a cut character is not an error.
    let head = &body[..body.len().min(SNIPPET_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(SNIPPET_CHARS).collect();
    if chars.next().is_some() || head.len() < body.len() {
        out.push('…');
    }
    out
}
