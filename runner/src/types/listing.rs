//! Wire types of the Models API, token counting, and the pages that list
//! batches and models.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::response::{Received, ResponseMeta, ResponseSlot, response_accessors};

/// One page of a listing (`GET /v1/messages/batches`, `GET /v1/models`).
///
/// # Examples
///
/// ```
/// use toolrunner::types::{ModelInfo, Page};
///
/// let page: Page<ModelInfo> = serde_json::from_str(r#"{
///     "data": [{"type": "model", "id": "claude-opus-5-5", "display_name": "Claude Opus 5.5",
///               "created_at": "2026-11-01T00:00:00Z"}],
///     "has_more": false, "first_id": "claude-opus-5-5", "last_id": "claude-opus-5-5"
/// }"#)?;
/// assert_eq!(page.data[0].display_name, "Claude Opus 5.5");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items on this page.
    pub data: Vec<T>,
    /// Whether there are more pages in the direction of travel.
    #[serde(default)]
    pub has_more: bool,
    /// The first item's id: the cursor for the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_id: Option<String>,
    /// The last item's id: the cursor for the page after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_id: Option<String>,
    /// The response this came in; not part of the value.
    #[serde(skip)]
    response: ResponseSlot,
}

// By hand: the macro takes no generic types.
impl<T> Page<T> {
    /// The status and headers of the response this page came in, when the
    /// client received it (not when you deserialized it).
    pub fn response(&self) -> Option<&ResponseMeta> {
        self.response.0.as_deref()
    }

    /// The `request-id` of the response this page came in.
    pub fn request_id(&self) -> Option<&str> {
        self.response()?.request_id()
    }
}

impl<T> Received for Page<T> {
    fn set_response(&mut self, meta: Arc<ResponseMeta>) {
        self.response = ResponseSlot(Some(meta));
    }
}

/// A model, as `GET /v1/models/{model_id}` describes it.
///
/// # Examples
///
/// ```
/// use toolrunner::types::ModelInfo;
///
/// let model: ModelInfo = serde_json::from_str(r#"{
///     "type": "model", "id": "claude-opus-5-5", "display_name": "Claude Opus 5.5",
///     "created_at": "2026-11-01T00:00:00Z", "max_input_tokens": 1000000, "max_tokens": 128000,
///     "lifecycle": "active"
/// }"#)?;
/// assert_eq!(model.max_tokens, Some(128000));
/// assert_eq!(model.lifecycle.as_deref(), Some("active"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The model's id, for [`MessageParams::model`](super::MessageParams::model).
    pub id: String,
    /// A name for people, e.g. "Claude Opus 5.5".
    pub display_name: String,
    /// When it was released, as an RFC 3339 timestamp.
    pub created_at: String,
    /// The largest context window it takes, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_tokens: Option<u64>,
    /// The largest `max_tokens` it accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// `active`, `deprecated` or `retired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
    /// When it was deprecated, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_at: Option<String>,
    /// When it is to be retired, if that is scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retires_at: Option<String>,
    /// Fields this crate does not model (such as `capabilities` and
    /// `line`), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The response this came in; not part of the value.
    #[serde(skip)]
    response: ResponseSlot,
}

/// The answer to `POST /v1/messages/count_tokens`.
///
/// # Examples
///
/// ```
/// use toolrunner::types::TokenCount;
///
/// let count: TokenCount = serde_json::from_str(r#"{"input_tokens": 2095}"#)?;
/// assert_eq!(count.input_tokens, 2095);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenCount {
    /// The tokens of the messages, system prompt and tools together.
    pub input_tokens: u64,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The response this came in; not part of the value.
    #[serde(skip)]
    response: ResponseSlot,
}

response_accessors!(ModelInfo, TokenCount);
