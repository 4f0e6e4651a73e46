//! The scripted server's Message Batches API, served under
//! `/v1/messages/batches` as the real API serves it.
//!
//! A batch is created `in_progress`; it ends after as many retrieves as
//! [`ScriptedServer::set_batch_polls`] says (one, unless set), and then
//! each of its requests is answered by the server's script, as a Messages
//! request would be: a reply with a message is a `succeeded` result, an
//! error reply an `errored` one. [`ScriptedServer::set_batch_outcome`]
//! forces a request's result; a batch can be canceled, made to expire, or
//! archived. [`ScriptedServer::add_batch`] adds an ended batch whose
//! results file is given, line by line or generated as it is sent (for
//! files too large to hold).
//!
//! Each request is checked as the API checks it: headers (`anthropic-version`
//! and a credential), and for a create, the body (1 to 100,000 requests,
//! `custom_id`s unique and well formed, each with `model`, `max_tokens` and
//! `messages` and no `stream`). What fails is answered with the API's
//! error, naming what is wrong.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, PoisonError};

use serde_json::{Value, json};

use super::paging::{page, route};
use super::{Recorded, Script, ScriptedServer};

/// Where the scripted batches say they were created and expire.
const CREATED_AT: &str = "2026-12-06T12:00:00Z";
const EXPIRES_AT: &str = "2026-12-07T12:00:00Z";
const ENDED_AT: &str = "2026-12-06T12:30:00Z";
const ARCHIVED_AT: &str = "2027-01-04T12:00:00Z";

/// What a batch request ends as, when forced with
/// [`ScriptedServer::set_batch_outcome`] rather than answered by the script.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchOutcome {
    /// An `errored` result with this error.
    Errored {
        /// The error type, e.g. `overloaded_error`.
        error_type: String,
        /// The error message.
        message: String,
    },
    /// A `canceled` result.
    Canceled,
    /// An `expired` result.
    Expired,
}

impl BatchOutcome {
    /// An `errored` result with `error_type` and `message`.
    pub fn errored(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        BatchOutcome::Errored {
            error_type: error_type.into(),
            message: message.into(),
        }
    }

    fn result(&self) -> Value {
        match self {
            BatchOutcome::Errored {
                error_type,
                message,
            } => json!({"type": "errored", "error": {
                "type": "error",
                "error": {"type": error_type, "message": message},
            }}),
            BatchOutcome::Canceled => json!({"type": "canceled"}),
            BatchOutcome::Expired => json!({"type": "expired"}),
        }
    }
}

/// A batch that has ended, with its results file given: for results a
/// script cannot make (lines that are not JSON, results for ids the batch
/// did not have), or too large to hold.
///
/// # Examples
///
/// ```
/// use toolrunner::testing::ScriptedBatch;
///
/// let broken = ScriptedBatch::with_lines("msgbatch_broken", [
///     r#"{"custom_id": "a", "result": {"type": "canceled"}}"#,
///     "not json",
/// ]);
/// assert_eq!(broken.id(), "msgbatch_broken");
/// // A file of a million lines, made as it is sent.
/// let large = ScriptedBatch::generated("msgbatch_large", 1_000_000, |i| {
///     format!(r#"{{"custom_id": "r{i}", "result": {{"type": "expired"}}}}"#)
/// });
/// assert_eq!(large.id(), "msgbatch_large");
/// ```
#[derive(Clone)]
pub struct ScriptedBatch {
    id: String,
    file: ResultsFile,
}

impl ScriptedBatch {
    /// An ended batch whose results file is `lines`, each sent with a
    /// newline after it.
    pub fn with_lines(
        id: impl Into<String>,
        lines: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let lines: Vec<String> = lines.into_iter().map(Into::into).collect();
        ScriptedBatch {
            id: id.into(),
            file: ResultsFile::Lines(Arc::new(lines)),
        }
    }

    /// An ended batch whose results file has `count` lines, line `i` (from
    /// 0) being `line(i)`; each is made as it is sent, so a file of any
    /// size costs no memory.
    pub fn generated(
        id: impl Into<String>,
        count: u64,
        line: impl Fn(u64) -> String + Send + Sync + 'static,
    ) -> Self {
        ScriptedBatch {
            id: id.into(),
            file: ResultsFile::Generated {
                count,
                line: Arc::new(line),
            },
        }
    }

    /// The batch's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for ScriptedBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedBatch")
            .field("id", &self.id)
            .field("lines", &self.file.count())
            .finish()
    }
}

/// A results file: its lines, held or made as sent.
#[derive(Clone)]
pub(super) enum ResultsFile {
    Lines(Arc<Vec<String>>),
    Generated {
        count: u64,
        line: Arc<dyn Fn(u64) -> String + Send + Sync>,
    },
}

impl ResultsFile {
    fn count(&self) -> u64 {
        match self {
            ResultsFile::Lines(lines) => lines.len() as u64,
            ResultsFile::Generated { count, .. } => *count,
        }
    }

    /// Line `i`, without its newline.
    pub(super) fn line(&self, i: u64) -> String {
        match self {
            ResultsFile::Lines(lines) => lines[i as usize].clone(),
            ResultsFile::Generated { line, .. } => line(i),
        }
    }

    pub(super) fn lines(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.count()).map(|i| self.line(i))
    }

    /// The request counts a file of these lines stands for.
    fn counts(&self) -> Value {
        let mut counts = HashMap::new();
        if let ResultsFile::Lines(lines) = self {
            for line in lines.iter() {
                let parsed: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                if let Some(kind) = parsed["result"]["type"].as_str() {
                    *counts.entry(kind.to_owned()).or_insert(0u64) += 1;
                }
            }
        }
        let count = |kind: &str| counts.get(kind).copied().unwrap_or(0);
        json!({
            "processing": 0,
            "succeeded": count("succeeded"),
            "errored": count("errored"),
            "canceled": count("canceled"),
            "expired": count("expired"),
        })
    }
}

/// An answer to a batches request.
pub(super) enum Answer {
    Json(u16, Value),
    Results(ResultsFile),
}

/// Where a batch is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// In progress for this many more retrieves (`None`: until canceled or
    /// made to expire).
    InProgress(Option<u32>),
    Canceling,
    Ended,
}

struct Batch {
    id: String,
    /// Each request's `custom_id` and params.
    requests: Vec<(String, Value)>,
    status: Status,
    cancel_initiated: bool,
    /// Requests not processed when the batch ends are canceled, or expired.
    unprocessed: Option<BatchOutcome>,
    archived: bool,
    /// Set when it ends.
    results: Option<ResultsFile>,
    counts: Value,
}

impl Batch {
    fn json(&self, host: &str) -> Value {
        let ended = self.status == Status::Ended;
        let status = match self.status {
            Status::InProgress(_) => "in_progress",
            Status::Canceling => "canceling",
            Status::Ended => "ended",
        };
        json!({
            "id": self.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": self.counts,
            "created_at": CREATED_AT,
            "expires_at": EXPIRES_AT,
            "ended_at": ended.then_some(ENDED_AT),
            "archived_at": self.archived.then_some(ARCHIVED_AT),
            "cancel_initiated_at": self.cancel_initiated.then_some(CREATED_AT),
            "results_url": ended.then(|| format!("http://{host}/v1/messages/batches/{}/results", self.id)),
        })
    }

    /// Ends the batch: each request's result is forced, or left
    /// unprocessed (canceled, expired), or the script's answer.
    fn end(&mut self, outcomes: &HashMap<String, BatchOutcome>, script: &mut dyn Script) {
        let mut lines = Vec::with_capacity(self.requests.len());
        let mut counts: HashMap<&'static str, u64> = HashMap::new();
        for (custom_id, params) in &self.requests {
            let result = match (outcomes.get(custom_id), &self.unprocessed) {
                (Some(outcome), _) | (None, Some(outcome)) => outcome.result(),
                (None, None) => scripted_result(script, params),
            };
            let kind = match result["type"].as_str() {
                Some("succeeded") => "succeeded",
                Some("canceled") => "canceled",
                Some("expired") => "expired",
                _ => "errored",
            };
            *counts.entry(kind).or_insert(0) += 1;
            lines.push(json!({"custom_id": custom_id, "result": result}).to_string());
        }
        let count = |kind| counts.get(kind).copied().unwrap_or(0);
        self.counts = json!({
            "processing": 0,
            "succeeded": count("succeeded"),
            "errored": count("errored"),
            "canceled": count("canceled"),
            "expired": count("expired"),
        });
        self.results = Some(ResultsFile::Lines(Arc::new(lines)));
        self.status = Status::Ended;
    }
}

/// The result the script gives `params`, as a batch result.
fn scripted_result(script: &mut dyn Script, params: &Value) -> Value {
    let reply = script.reply(params);
    if let Some(message) = reply.scripted_message() {
        return json!({"type": "succeeded", "message": message});
    }
    let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    let error = if body["error"].is_object() {
        body
    } else {
        json!({"type": "error", "error": {
            "type": "api_error",
            "message": format!("the script answered with status {}", reply.status),
        }})
    };
    json!({"type": "errored", "error": error})
}

/// The batches, newest first, and how new ones behave.
pub(super) struct Store {
    batches: Vec<Batch>,
    polls_to_end: Option<u32>,
    outcomes: HashMap<String, BatchOutcome>,
    created: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            batches: Vec::new(),
            polls_to_end: Some(1),
            outcomes: HashMap::new(),
            created: 0,
        }
    }
}

impl Store {
    /// Answers `request`, to `/v1/messages/batches...`; ending a batch asks
    /// `script` for each of its requests.
    pub(super) fn respond(&mut self, request: &Recorded, script: &mut dyn Script) -> Answer {
        if let Some(refusal) = check_headers(request) {
            return refusal;
        }
        let host = request.header("host").unwrap_or("127.0.0.1").to_owned();
        let (rest, query) = route(&request.target, "/v1/messages/batches");
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        match (request.method.as_str(), rest.as_slice()) {
            ("POST", []) => self.create(request, &host),
            ("GET", []) => {
                let list = page(&self.batches, query, |b| &b.id, |b| b.json(&host));
                Answer::Json(200, list)
            }
            ("GET", [id]) => self.with_batch(id, |batch, outcomes| {
                match batch.status {
                    Status::InProgress(Some(0)) | Status::Canceling => batch.end(outcomes, script),
                    Status::InProgress(Some(left)) => {
                        batch.status = Status::InProgress(Some(left - 1));
                    }
                    Status::InProgress(None) | Status::Ended => {}
                }
                Answer::Json(200, batch.json(&host))
            }),
            ("POST", [id, "cancel"]) => self.with_batch(id, |batch, _| {
                if let Status::InProgress(_) = batch.status {
                    batch.status = Status::Canceling;
                    batch.cancel_initiated = true;
                    batch.unprocessed = Some(BatchOutcome::Canceled);
                }
                Answer::Json(200, batch.json(&host))
            }),
            ("GET", [id, "results"]) => self.with_batch(id, |batch, _| match &batch.results {
                _ if batch.archived => not_found(&format!("the results of {id} were archived")),
                Some(file) if batch.status == Status::Ended => Answer::Results(file.clone()),
                _ => invalid(&format!("batch {id} has not ended")),
            }),
            ("DELETE", [id]) => {
                let answer = self.with_batch(id, |batch, _| {
                    if batch.status == Status::Ended {
                        Answer::Json(200, json!({"id": id, "type": "message_batch_deleted"}))
                    } else {
                        invalid(&format!("batch {id} has not ended: cancel it first"))
                    }
                });
                if matches!(answer, Answer::Json(200, _)) {
                    self.batches.retain(|b| b.id != *id);
                }
                answer
            }
            _ => not_found("no such route"),
        }
    }

    fn with_batch(
        &mut self,
        id: &str,
        answer: impl FnOnce(&mut Batch, &HashMap<String, BatchOutcome>) -> Answer,
    ) -> Answer {
        match self.batches.iter_mut().find(|b| b.id == id) {
            Some(batch) => answer(batch, &self.outcomes),
            None => not_found(&format!("no batch {id}")),
        }
    }

    fn create(&mut self, request: &Recorded, host: &str) -> Answer {
        let body: Value = match serde_json::from_str(&request.body) {
            Ok(body) => body,
            Err(e) => return invalid(&format!("the body is not JSON: {e}")),
        };
        let requests = match checked_requests(&body) {
            Ok(requests) => requests,
            Err(message) => return invalid(&message),
        };
        self.created += 1;
        let n = requests.len();
        let batch = Batch {
            id: format!("msgbatch_scripted_{:04}", self.created),
            requests,
            status: Status::InProgress(self.polls_to_end),
            cancel_initiated: false,
            unprocessed: None,
            archived: false,
            results: None,
            counts: json!({"processing": n, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}),
        };
        let answer = batch.json(host);
        self.batches.insert(0, batch);
        Answer::Json(200, answer)
    }
}

/// The requests of a create body, or what is wrong with it.
fn checked_requests(body: &Value) -> Result<Vec<(String, Value)>, String> {
    let Some(requests) = body["requests"].as_array() else {
        return Err("requests: field required".into());
    };
    if requests.is_empty() || requests.len() > 100_000 {
        return Err(format!(
            "requests: {} items; a batch takes 1 to 100000",
            requests.len()
        ));
    }
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(requests.len());
    for (i, request) in requests.iter().enumerate() {
        let Some(id) = request["custom_id"].as_str() else {
            return Err(format!("requests.{i}.custom_id: field required"));
        };
        let well_formed = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !well_formed {
            return Err(format!(
                "requests.{i}.custom_id: {id:?} does not match ^[a-zA-Z0-9_-]{{1,64}}$"
            ));
        }
        if !seen.insert(id) {
            return Err(format!("requests.{i}.custom_id: {id:?} is not unique"));
        }
        let params = &request["params"];
        for (field, ok) in [
            ("model", params["model"].is_string()),
            ("max_tokens", params["max_tokens"].is_u64()),
            ("messages", params["messages"].is_array()),
        ] {
            if !ok {
                return Err(format!("requests.{i}.params.{field}: field required"));
            }
        }
        if params.get("stream").is_some() {
            return Err(format!(
                "requests.{i}.params.stream: batch requests cannot be streamed"
            ));
        }
        checked.push((id.to_owned(), params.clone()));
    }
    Ok(checked)
}

/// The API's refusal of a request without `anthropic-version` or a
/// credential.
pub(super) fn check_headers(request: &Recorded) -> Option<Answer> {
    if request.header("anthropic-version").is_none() {
        return Some(invalid("anthropic-version: header is required"));
    }
    if request.header("x-api-key").is_none() && request.header("authorization").is_none() {
        return Some(Answer::Json(
            401,
            error_body("authentication_error", "x-api-key: header is required"),
        ));
    }
    None
}

fn error_body(error_type: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type, "message": message}})
}

pub(super) fn invalid(message: &str) -> Answer {
    Answer::Json(400, error_body("invalid_request_error", message))
}

pub(super) fn not_found(message: &str) -> Answer {
    Answer::Json(404, error_body("not_found_error", message))
}

impl ScriptedServer {
    /// How many retrieves a batch created from now on answers
    /// `in_progress` before it ends (one, unless set); `None`: it never
    /// ends unless canceled or made to expire.
    pub fn set_batch_polls(&self, polls: Option<u32>) {
        self.batch_store().polls_to_end = polls;
    }

    /// Forces the result of batch requests with `custom_id`, instead of
    /// asking the script.
    pub fn set_batch_outcome(&self, custom_id: impl Into<String>, outcome: BatchOutcome) {
        self.batch_store()
            .outcomes
            .insert(custom_id.into(), outcome);
    }

    /// Makes batch `id` expire: it ends at its next retrieve, each request
    /// not forced otherwise `expired`. `false` when there is no such batch.
    pub fn expire_batch(&self, id: &str) -> bool {
        let mut store = self.batch_store();
        let Some(batch) = store.batches.iter_mut().find(|b| b.id == id) else {
            return false;
        };
        if batch.status != Status::Ended {
            batch.status = Status::InProgress(Some(0));
            batch.unprocessed = Some(BatchOutcome::Expired);
        }
        true
    }

    /// Archives batch `id`: its results are no longer available.
    /// `false` when there is no such batch.
    pub fn archive_batch(&self, id: &str) -> bool {
        let mut store = self.batch_store();
        let found = store.batches.iter_mut().find(|b| b.id == id);
        found.map(|batch| batch.archived = true).is_some()
    }

    /// Adds `batch`, ended, as the newest batch.
    pub fn add_batch(&self, batch: ScriptedBatch) {
        let counts = batch.file.counts();
        let added = Batch {
            id: batch.id,
            requests: Vec::new(),
            status: Status::Ended,
            cancel_initiated: false,
            unprocessed: None,
            archived: false,
            results: Some(batch.file),
            counts,
        };
        self.batch_store().batches.insert(0, added);
    }

    fn batch_store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.shared
            .batches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
