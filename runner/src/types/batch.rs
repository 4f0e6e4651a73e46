//! Message Batches API wire types: the requests a batch is made of, the
//! batch as the API describes it, and one line of its results.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::message::Message;
use super::params::MessageParams;
use super::response::{ResponseSlot, response_accessors};

/// One request of a batch: a Messages request and the id its result will
/// carry.
///
/// The id must be unique in its batch and match `^[a-zA-Z0-9_-]{1,64}$`;
/// the client checks both before sending.
///
/// # Examples
///
/// ```
/// use toolrunner::MessageParams;
/// use toolrunner::types::BatchRequest;
///
/// let request = BatchRequest::new("question-1", MessageParams::new("claude-opus-5-5", 256).user("Hi"));
/// let json = serde_json::to_value(&request)?;
/// assert_eq!(json["custom_id"], "question-1");
/// assert_eq!(json["params"]["max_tokens"], 256);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BatchRequest {
    /// The id that matches the request's result to it, since results come
    /// in any order.
    pub custom_id: String,
    /// The Messages request. Its [`betas`](MessageParams::betas) go in the
    /// batch's `anthropic-beta` header (one header for the whole batch).
    pub params: MessageParams,
}

impl BatchRequest {
    /// The request `params`, identified by `custom_id`.
    pub fn new(custom_id: impl Into<String>, params: MessageParams) -> Self {
        BatchRequest {
            custom_id: custom_id.into(),
            params,
        }
    }
}

/// A Message Batch, as `GET /v1/messages/batches/{id}` describes it.
///
/// # Examples
///
/// ```
/// use toolrunner::types::{MessageBatch, ProcessingStatus};
///
/// let batch: MessageBatch = serde_json::from_str(r#"{
///     "id": "msgbatch_01", "type": "message_batch", "processing_status": "ended",
///     "request_counts": {"processing": 0, "succeeded": 2, "errored": 1, "canceled": 0, "expired": 0},
///     "created_at": "2026-12-06T12:00:00Z", "expires_at": "2026-12-07T12:00:00Z",
///     "ended_at": "2026-12-06T12:30:00Z", "archived_at": null, "cancel_initiated_at": null,
///     "results_url": "https://api.anthropic.com/v1/messages/batches/msgbatch_01/results"
/// }"#)?;
/// assert_eq!(batch.processing_status, ProcessingStatus::Ended);
/// assert_eq!(batch.request_counts.total(), 3);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageBatch {
    /// The batch's id (`msgbatch_...`).
    pub id: String,
    /// Whether it is still processing.
    pub processing_status: ProcessingStatus,
    /// Its requests, tallied by status. Requests stay `processing` until
    /// the whole batch ends.
    pub request_counts: RequestCounts,
    /// When it was created, as an RFC 3339 timestamp.
    pub created_at: String,
    /// When it expires (24 hours after creation): requests not processed
    /// by then end `expired`.
    pub expires_at: String,
    /// When processing ended; `None` until it has.
    #[serde(default)]
    pub ended_at: Option<String>,
    /// When it was archived and its results became unavailable.
    #[serde(default)]
    pub archived_at: Option<String>,
    /// When cancelling it was asked for, if it was.
    #[serde(default)]
    pub cancel_initiated_at: Option<String>,
    /// Where its results are (a JSON Lines file); `None` until it ends.
    #[serde(default)]
    pub results_url: Option<String>,
    /// Fields this crate does not model (such as `type`), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The response this came in; not part of the value.
    #[serde(skip)]
    response: ResponseSlot,
}

response_accessors!(MessageBatch, DeletedBatch);

impl MessageBatch {
    /// Whether processing has ended, so that its results can be read.
    pub fn is_ended(&self) -> bool {
        self.processing_status == ProcessingStatus::Ended
    }
}

/// Where a batch is in its processing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProcessingStatus {
    /// Its requests are being processed.
    InProgress,
    /// Cancelling was asked for; requests under way may still finish.
    Canceling,
    /// Every request succeeded, errored, was canceled or expired: the
    /// results are ready.
    Ended,
}

impl ProcessingStatus {
    /// The status as the API spells it, e.g. `in_progress`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessingStatus::InProgress => "in_progress",
            ProcessingStatus::Canceling => "canceling",
            ProcessingStatus::Ended => "ended",
        }
    }
}

/// A batch's requests, tallied by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestCounts {
    /// Still processing.
    #[serde(default)]
    pub processing: u64,
    /// Answered with a message.
    #[serde(default)]
    pub succeeded: u64,
    /// Answered with an error.
    #[serde(default)]
    pub errored: u64,
    /// Canceled before they were processed.
    #[serde(default)]
    pub canceled: u64,
    /// Not processed before the batch expired.
    #[serde(default)]
    pub expired: u64,
}

impl RequestCounts {
    /// The number of requests in the batch.
    pub fn total(&self) -> u64 {
        self.processing + self.succeeded + self.errored + self.canceled + self.expired
    }
}

/// The answer to `DELETE /v1/messages/batches/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeletedBatch {
    /// The id of the deleted batch.
    pub id: String,
    /// Fields this crate does not model (such as `type`), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The response this came in; not part of the value.
    #[serde(skip)]
    response: ResponseSlot,
}

/// One line of a batch's results: a request's id and what became of it.
///
/// # Examples
///
/// ```
/// use toolrunner::types::{BatchResponse, BatchResult};
///
/// let line = r#"{"custom_id": "q1", "result": {"type": "errored",
///     "error": {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}}}"#;
/// let response: BatchResponse = serde_json::from_str(line)?;
/// assert_eq!(response.custom_id, "q1");
/// match response.result {
///     BatchResult::Errored { error } => assert_eq!(error.error.message, "bad"),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchResponse {
    /// The id of the request this answers.
    pub custom_id: String,
    /// What became of the request.
    pub result: BatchResult,
}

/// What became of one request of a batch.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BatchResult {
    /// The model answered.
    Succeeded {
        /// Its message.
        message: Box<Message>,
    },
    /// The request failed: invalid, or an error on the API's side.
    Errored {
        /// The error, as the API would have answered the request alone.
        error: Box<ErrorResponse>,
    },
    /// The batch was canceled before this request was processed.
    Canceled,
    /// The batch expired before this request was processed.
    Expired,
}

impl BatchResult {
    /// The result's type as the API spells it: `succeeded`, `errored`,
    /// `canceled` or `expired`.
    pub fn kind(&self) -> &'static str {
        match self {
            BatchResult::Succeeded { .. } => "succeeded",
            BatchResult::Errored { .. } => "errored",
            BatchResult::Canceled => "canceled",
            BatchResult::Expired => "expired",
        }
    }

    /// The message, for a request that succeeded.
    pub fn message(&self) -> Option<&Message> {
        match self {
            BatchResult::Succeeded { message } => Some(message),
            _ => None,
        }
    }
}

// Written out rather than derived: an internally tagged enum buffers its
// input, and a message's content blocks must be read from the original text.
impl<'de> Deserialize<'de> for BatchResult {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Tagged {
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            message: Option<Box<RawValue>>,
            #[serde(default)]
            error: Option<Box<RawValue>>,
        }
        let tagged = Tagged::deserialize(deserializer)?;
        let field = |raw: Option<Box<RawValue>>, name: &'static str| {
            raw.ok_or_else(|| de::Error::missing_field(name))
        };
        match tagged.kind.as_str() {
            "succeeded" => {
                let raw = field(tagged.message, "message")?;
                let message = serde_json::from_str(raw.get())
                    .map_err(|e| de::Error::custom(format_args!("message: {e}")))?;
                Ok(BatchResult::Succeeded { message })
            }
            "errored" => {
                let raw = field(tagged.error, "error")?;
                let error = serde_json::from_str(raw.get())
                    .map_err(|e| de::Error::custom(format_args!("error: {e}")))?;
                Ok(BatchResult::Errored { error })
            }
            "canceled" => Ok(BatchResult::Canceled),
            "expired" => Ok(BatchResult::Expired),
            other => Err(de::Error::unknown_variant(
                other,
                &["succeeded", "errored", "canceled", "expired"],
            )),
        }
    }
}

/// An error response body, as the API sends it: for a batch request that
/// errored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// The error itself.
    pub error: ErrorDetail,
    /// The id of the request that failed, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Fields this crate does not model (such as `type`), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `error` object of an [`ErrorResponse`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// The error type, e.g. `invalid_request_error` or `overloaded_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What went wrong.
    #[serde(default)]
    pub message: String,
    /// Fields this crate does not model (such as `details`), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
