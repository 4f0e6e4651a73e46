//! The scripted server's Models API (`/v1/models`) and token counting
//! (`/v1/messages/count_tokens`).
//!
//! The models are a fixed list, [`crate::models::CURRENT`] first. A count
//! is one token per four bytes of the request's `messages`, `system` and
//! `tools` as JSON (at least one): not the model's tokenizer, but the same
//! request always counts the same, and a longer one more. Requests are
//! checked as the API checks them: headers, and for a count, a body with
//! `model` and `messages` and none of the fields only generation takes.

use serde_json::{Value, json};

use super::Recorded;
use super::batches::{Answer, check_headers, invalid, not_found};
use super::paging::{page, route};

/// The models served: id, display name, release date.
const MODELS: [(&str, &str, &str); 3] = [
    (
        crate::models::CURRENT,
        "Claude Opus 5.5",
        "2026-11-01T00:00:00Z",
    ),
    (
        "claude-sonnet-4-6",
        "Claude Sonnet 4.6",
        "2026-02-17T00:00:00Z",
    ),
    (
        "claude-haiku-4-5",
        "Claude Haiku 4.5",
        "2025-10-01T00:00:00Z",
    ),
];

/// Fields a count refuses: only generation takes them. Written out again
/// rather than taken from the client, so that the server checks the
/// client instead of agreeing with it by construction.
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

fn model(entry: &(&str, &str, &str)) -> Value {
    let (id, name, created) = entry;
    json!({
        "type": "model",
        "id": id,
        "display_name": name,
        "created_at": created,
        "max_input_tokens": 1_000_000,
        "max_tokens": 128_000,
        "lifecycle": "active",
    })
}

/// Answers a request to `/v1/models...`.
pub(super) fn models(request: &Recorded) -> Answer {
    if let Some(refusal) = check_headers(request) {
        return refusal;
    }
    let (rest, query) = route(&request.target, "/v1/models");
    match (request.method.as_str(), rest.as_slice()) {
        ("GET", []) => Answer::Json(200, page(&MODELS, query, |m| m.0, model)),
        ("GET", [id]) => match MODELS.iter().find(|m| m.0 == id) {
            Some(entry) => Answer::Json(200, model(entry)),
            None => not_found(&format!("model: {id}")),
        },
        _ => not_found("no such route"),
    }
}

/// Answers `POST /v1/messages/count_tokens`.
pub(super) fn count_tokens(request: &Recorded) -> Answer {
    if let Some(refusal) = check_headers(request) {
        return refusal;
    }
    if request.method != "POST" {
        return not_found("no such route");
    }
    let body: Value = match serde_json::from_str(&request.body) {
        Ok(Value::Object(body)) => Value::Object(body),
        _ => return invalid("the body is not a JSON object"),
    };
    if !body["model"].is_string() {
        return invalid("model: field required");
    }
    if !body["messages"].is_array() {
        return invalid("messages: field required");
    }
    if let Some(field) = GENERATION_ONLY.iter().find(|f| body.get(**f).is_some()) {
        return invalid(&format!("{field}: Extra inputs are not permitted"));
    }
    let counted: usize = ["messages", "system", "tools"]
        .iter()
        .filter_map(|field| body.get(*field))
        .map(|value| value.to_string().len())
        .sum();
    Answer::Json(200, json!({"input_tokens": (counted / 4).max(1)}))
}
