//! Message threads: the server holds the conversation, and each request
//! sends only what was added since the last reply.
//!
//! The first request creates a thread (`"thread": {"type": "create"}`) with
//! the whole history, `system` and `tools`. Each later one continues it
//! (`{"type": "continue", "previous_message_id": <last reply>}`) with only
//! the messages after that reply, and leaves `system` and `tools` out: the
//! thread has them. [`ThreadState`] tracks where the conversation stands;
//! the lifecycle asks it what each request sends and tells it what came
//! back.

use std::hash::{DefaultHasher, Hasher};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::Client;
use crate::error::Error;
use crate::platform::Feature;

use crate::types::{ContentBlock, Message, MessageParam, MessageParams, Role, StopReason};

/// The beta that message threads need.
pub(crate) const MESSAGE_THREADS_BETA: &str = "message-threads-2026-08-12";

/// Whether `client`'s platform offers message threads: where it does not,
/// the runner turns them off before the first request, rather than learn
/// it from a refused one.
pub(crate) fn offered_by(client: &Client) -> bool {
    client.offers(Feature::MessageThreads)
}

/// Where the conversation stands on a server-held thread. Kept in a
/// [`RunState`](crate::RunState), so that a resumed run continues the same
/// thread. The hashes come from `DefaultHasher`, stable within a build of
/// Rust; should another build hash differently, a changed history is
/// merely taken for a rewritten one, and a new thread starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ThreadState {
    position: Position,
    /// How many messages of the history the server has answered: those up
    /// to the last reply. A new thread sends them without `cache_control`,
    /// which was set for the request that sent them first.
    answered: usize,
    /// The history's length when the request in flight was built.
    sending: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Position {
    /// Threads are off: every request sends the whole history.
    Off,
    /// The server cannot thread this conversation: the whole history, with
    /// no thread and no beta, from now on.
    Unthreaded,
    /// The next request creates a thread with the whole history.
    New {
        /// Whether it replaces a thread the server did not find.
        replaces_lost: bool,
    },
    /// The server holds the history up to the reply `previous_message_id`.
    Continue(Held),
}

/// What the server holds of a thread.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Held {
    previous_message_id: String,
    /// The number of messages of the history it holds, the reply included.
    len: usize,
    /// A hash of those messages, to tell whether the caller rewrote them.
    fingerprint: u64,
    /// A hash of the `system` prompt and `tools` the thread was created with.
    created_with: u64,
    /// Whether this is the first thread after one the server lost.
    replaces_lost: bool,
}

/// What one request sends of the conversation.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The first message to send: 0 for the whole history.
    pub(crate) from: usize,
    /// The `thread` field.
    pub(crate) thread: Option<Value>,
    /// Whether to send `system` and `tools`.
    pub(crate) system_and_tools: bool,
    /// Messages before this index go without `cache_control`.
    pub(crate) strip_cache_control_before: usize,
    /// Whether the request needs the threads beta.
    pub(crate) beta: bool,
}

/// Why a thread is replaced or dropped, for the log.
#[derive(Clone, Copy, Debug)]
enum Why {
    ThreadNotFound,
    ThreadAlreadyContinued,
    ThreadContinueInFlight,
    Refusal,
    FallbackMessage,
    StreamEndedEarly,
    HistoryRewritten,
    SystemOrToolsChanged,
    Compacted,
}

impl Why {
    fn as_str(self) -> &'static str {
        match self {
            Why::ThreadNotFound => "thread_not_found",
            Why::ThreadAlreadyContinued => "thread_already_continued",
            Why::ThreadContinueInFlight => "thread_continue_in_flight",
            Why::Refusal => "refusal",
            Why::FallbackMessage => "fallback_message",
            Why::StreamEndedEarly => "stream_ended_before_message_stop",
            Why::HistoryRewritten => "history_rewritten",
            Why::SystemOrToolsChanged => "system_or_tools_changed",
            Why::Compacted => "compacted",
        }
    }
}

impl ThreadState {
    /// A conversation that threads if `enabled`.
    pub(crate) fn new(enabled: bool) -> Self {
        let position = if enabled {
            Position::New {
                replaces_lost: false,
            }
        } else {
            Position::Off
        };
        ThreadState {
            position,
            answered: 0,
            sending: 0,
        }
    }

    /// Turns threads on or off before the first request. Asking for what
    /// is already so changes nothing, so that setting it again on a resumed
    /// run keeps the thread it continues.
    pub(crate) fn set_enabled(&mut self, enabled: bool) {
        if enabled != matches!(self.position, Position::Off) {
            return;
        }
        *self = ThreadState::new(enabled);
    }

    /// The reply the next request continues from, when it continues a
    /// thread.
    pub(crate) fn previous_message_id(&self) -> Option<&str> {
        match &self.position {
            Position::Continue(held) => Some(&held.previous_message_id),
            _ => None,
        }
    }

    /// Whether requests carry a thread.
    pub(crate) fn is_threading(&self) -> bool {
        matches!(self.position, Position::New { .. } | Position::Continue(_))
    }

    /// What the next request sends of `params`. `taken_over` says the
    /// caller may have changed the history, the system prompt or the
    /// tools since the last reply: if the server's copy no longer matches,
    /// a new thread starts.
    pub(crate) fn plan(&mut self, params: &MessageParams, taken_over: bool) -> Plan {
        if taken_over && let Position::Continue(held) = &self.position {
            let why = if !held.matches(&params.messages) {
                Some(Why::HistoryRewritten)
            } else if held.created_with != system_and_tools(params) {
                Some(Why::SystemOrToolsChanged)
            } else {
                None
            };
            if let Some(why) = why {
                self.start_new(why, false);
            }
        }
        self.sending = params.messages.len();
        let whole = |thread: Option<Value>, answered: usize| Plan {
            from: 0,
            beta: thread.is_some(),
            thread,
            system_and_tools: true,
            strip_cache_control_before: answered,
        };
        match &self.position {
            Position::Off | Position::Unthreaded => whole(None, 0),
            Position::New { .. } => whole(
                Some(json!({"type": "create"})),
                self.answered.min(params.messages.len()),
            ),
            Position::Continue(held) => Plan {
                from: held.len.min(params.messages.len()),
                thread: Some(json!({
                    "type": "continue",
                    "previous_message_id": held.previous_message_id,
                })),
                system_and_tools: false,
                strip_cache_control_before: 0,
                beta: true,
            },
        }
    }

    /// Takes in a reply to the request in flight: the thread now holds the
    /// history as sent, then the reply, and the next request continues
    /// from it.
    pub(crate) fn on_reply(&mut self, params: &MessageParams, reply: &Message) {
        if !self.is_threading() {
            return;
        }
        if reply.stop_reason == Some(StopReason::Refusal) {
            // The server may hold the refused turn, or not: start again.
            self.start_new(Why::Refusal, false);
            return;
        }
        let sent = &params.messages[..self.sending.min(params.messages.len())];
        // The reply as the history will hold it, borrowed rather than copied.
        let reply_param = AsParam {
            role: reply.role,
            content: &reply.content,
        };
        let (fingerprint, replaces_lost) = match &self.position {
            Position::Continue(held) if held.len <= sent.len() => {
                (fold(held.fingerprint, &sent[held.len..]), false)
            }
            Position::New { replaces_lost } => (fold(SEED, sent), *replaces_lost),
            _ => (fold(SEED, sent), false),
        };
        let created_with = match &self.position {
            Position::Continue(held) => held.created_with,
            _ => system_and_tools(params),
        };
        self.answered = sent.len() + 1;
        self.position = Position::Continue(Held {
            previous_message_id: reply.id.clone(),
            len: sent.len() + 1,
            fingerprint: fold(fingerprint, [&reply_param]),
            created_with,
            replaces_lost,
        });
        if written_by_fallback(reply) {
            // The server keeps no turn that a fallback model wrote.
            self.start_new(Why::FallbackMessage, false);
        }
    }

    /// Takes in the error of the request in flight. `true` when it is a
    /// thread rejection this state has now adjusted for, so the request is
    /// to be built and sent again rather than the error yielded.
    pub(crate) fn recovers_from(&mut self, error: &Error) -> bool {
        let Some(details) = error_details(error) else {
            return false;
        };
        let code = details.get("error_code").and_then(Value::as_str);
        let replay = match code {
            Some("thread_not_found") => Some(Why::ThreadNotFound),
            Some("thread_already_continued") => Some(Why::ThreadAlreadyContinued),
            Some("thread_continue_in_flight") => Some(Why::ThreadContinueInFlight),
            _ => None,
        };
        if let (Some(why), Position::Continue(held)) = (replay, &self.position) {
            if matches!(why, Why::ThreadNotFound) && held.replaces_lost {
                // Lost again right after a replay: the server may be unable
                // to keep this conversation at all.
                tracing::info!(
                    previous_message_id = %held.previous_message_id,
                    "the server lost the message thread again right after a replay; continuing without a thread"
                );
                self.position = Position::Unthreaded;
            } else {
                self.start_new(why, matches!(why, Why::ThreadNotFound));
            }
            return true;
        }
        if code == Some("thread_unsupported_request") && self.is_threading() {
            let unsupported: Vec<&str> = details
                .get("unsupported")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            tracing::info!(
                unsupported = %unsupported.join(","),
                "the server cannot thread this request; continuing without a message thread"
            );
            self.position = Position::Unthreaded;
            return true;
        }
        false
    }

    /// Takes in a streamed reply that broke off after `message_start`: the
    /// server holds all of it or none, so the next request starts anew.
    pub(crate) fn on_partial_reply(&mut self) {
        if matches!(self.position, Position::Continue(_)) {
            self.start_new(Why::StreamEndedEarly, false);
        }
    }

    /// Takes in a compacted history: the server's copy is no longer it.
    pub(crate) fn on_compacted(&mut self) {
        self.answered = 0;
        if matches!(self.position, Position::Continue(_)) {
            self.start_new(Why::Compacted, false);
        }
    }

    fn start_new(&mut self, why: Why, replaces_lost: bool) {
        if let Position::Continue(held) = &self.position {
            tracing::info!(
                reason = why.as_str(),
                previous_message_id = %held.previous_message_id,
                "starting a new message thread with the whole history"
            );
        } else {
            tracing::info!(
                reason = why.as_str(),
                "starting a new message thread with the whole history"
            );
        }
        if self.is_threading() {
            self.position = Position::New { replaces_lost };
        }
    }
}

impl Held {
    /// Whether `messages` still begin with what the server holds.
    fn matches(&self, messages: &[MessageParam]) -> bool {
        messages.len() >= self.len && fold(SEED, &messages[..self.len]) == self.fingerprint
    }
}

const SEED: u64 = 0x6d65_7373_6167_6573;

/// Folds `messages`, as sent, into the hash `seed`: folding a history in
/// parts gives the hash of the whole.
fn fold<'a, T: Serialize + 'a>(seed: u64, messages: impl IntoIterator<Item = &'a T>) -> u64 {
    let mut hash = seed;
    // Each message is written out whole and then hashed in one call: the
    // hasher is a stream, so the hash is that of its pieces hashed one by
    // one, but a call per piece (a quote, a key, a comma) cost more than
    // the serializing did.
    let mut json = Vec::new();
    for message in messages {
        json.clear();
        // Serializing cannot fail; if it did, the hash would differ and
        // the next request would start a new thread, which is safe.
        let _ = serde_json::to_writer(&mut json, message);
        let mut hasher = DefaultHasher::new();
        hasher.write_u64(hash);
        hasher.write(&json);
        hash = hasher.finish();
    }
    hash
}

/// A reply as [`MessageParam::from`] makes it, borrowed: it serializes to
/// the same bytes, so it folds to the same hash.
#[derive(Serialize)]
struct AsParam<'a> {
    role: Role,
    content: &'a [ContentBlock],
}

/// A hash of the fields a thread takes from its `create`.
fn system_and_tools(params: &MessageParams) -> u64 {
    let mut hasher = DefaultHasher::new();
    // Hashed in one call, as in `fold`.
    let json = serde_json::to_vec(&(&params.system, &params.tools)).unwrap_or_default();
    hasher.write(&json);
    hasher.finish()
}

/// Whether a fallback model wrote `reply`: its `usage.iterations` hold a
/// `fallback_message` entry.
fn written_by_fallback(reply: &Message) -> bool {
    reply
        .usage
        .extra
        .get("iterations")
        .and_then(Value::as_array)
        .is_some_and(|list| {
            list.iter()
                .any(|i| i.get("type").and_then(Value::as_str) == Some("fallback_message"))
        })
}

/// The `error.details` object of an API error's body.
fn error_details(error: &Error) -> Option<serde_json::Map<String, Value>> {
    if !error.is_api() {
        return None;
    }
    let body: Value = serde_json::from_slice(error.body()?).ok()?;
    match body.get("error")?.get("details")? {
        Value::Object(details) => Some(details.clone()),
        _ => None,
    }
}

/// `messages` as a request sends them, without the `cache_control` of any
/// block in the first `answered` of them.
pub(crate) fn without_cache_control(
    messages: &[MessageParam],
    answered: usize,
) -> Result<Vec<Value>, Error> {
    messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let mut value = serde_json::to_value(message).map_err(Error::encode)?;
            if i < answered {
                strip(&mut value);
            }
            Ok(value)
        })
        .collect()
}

/// Keys whose values hold content blocks; free-form data such as a tool's
/// `input` is left as it is.
pub(crate) const KEYS_THAT_HOLD_BLOCKS: &[&str] = &["content", "source"];

fn strip(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.remove("cache_control");
            for (key, item) in object.iter_mut() {
                if KEYS_THAT_HOLD_BLOCKS.contains(&key.as_str()) {
                    strip(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(status: u16, details: Value) -> Error {
        let body =
            json!({"type": "error", "error": {"type": "x", "message": "y", "details": details}});
        Error::api(
            reqwest::StatusCode::from_u16(status).unwrap(),
            &reqwest::header::HeaderMap::new(),
            bytes::Bytes::from(body.to_string()),
            1,
            false,
        )
    }

    #[test]
    fn a_borrowed_reply_folds_as_the_history_will_hold_it() {
        let reply: Message = serde_json::from_value(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [
                {"type": "text", "text": "a", "citations": [{"type": "char_location"}]},
                {"type": "tool_use", "id": "t", "name": "n", "input": {"b": 1, "a": [2]}},
                {"type": "brand_new_block", "x": {"y": null}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 1, "output_tokens": 1}
        }))
        .unwrap();
        let borrowed = AsParam {
            role: reply.role,
            content: &reply.content,
        };
        let held = MessageParam::from(reply.clone());
        assert_eq!(
            serde_json::to_string(&borrowed).unwrap(),
            serde_json::to_string(&held).unwrap()
        );
        assert_eq!(fold(SEED, [&borrowed]), fold(SEED, &[held]));
    }

    /// A saved run's fingerprint was made by hashing each piece of JSON as
    /// the serializer wrote it; `fold` hashes the whole message at once.
    /// The hasher is a stream, so the two agree, and a run saved before
    /// goes on with its thread.
    #[test]
    fn folding_whole_messages_hashes_as_piece_by_piece() {
        struct Pieces<'a>(&'a mut DefaultHasher);
        impl std::io::Write for Pieces<'_> {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.write(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let messages = [
            MessageParam::user("Count \"up\".\n"),
            MessageParam::from(reply("msg_1")),
        ];
        let mut hash = SEED;
        for message in &messages {
            let mut hasher = DefaultHasher::new();
            hasher.write_u64(hash);
            serde_json::to_writer(Pieces(&mut hasher), message).unwrap();
            hash = hasher.finish();
        }
        assert_eq!(fold(SEED, &messages), hash);
    }

    fn reply(id: &str) -> Message {
        serde_json::from_value(json!({
            "id": id, "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
            "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 1}
        }))
        .unwrap()
    }

    /// A state continuing from reply `msg_1` to the first request of `params`.
    fn continuing(params: &mut MessageParams) -> ThreadState {
        let mut state = ThreadState::new(true);
        state.plan(params, false);
        state.on_reply(params, &reply("msg_1"));
        params.messages.push(MessageParam::from(reply("msg_1")));
        params.messages.push(MessageParam::user("next"));
        state
    }

    #[test]
    fn each_replay_code_starts_a_new_thread_and_a_second_loss_drops_threads() {
        for code in [
            "thread_already_continued",
            "thread_continue_in_flight",
            "thread_not_found",
        ] {
            let mut params = MessageParams::new("m", 1).user("hi");
            let mut state = continuing(&mut params);
            assert!(state.recovers_from(&rejection(400, json!({"error_code": code}))));
            let plan = state.plan(&params, false);
            assert_eq!(plan.thread, Some(json!({"type": "create"})), "{code}");
            assert_eq!(plan.from, 0);
        }
        // Lost right after the replay that replaced a lost thread: unthreaded.
        let mut params = MessageParams::new("m", 1).user("hi");
        let mut state = continuing(&mut params);
        let lost = rejection(404, json!({"error_code": "thread_not_found"}));
        assert!(state.recovers_from(&lost));
        state.plan(&params, false);
        state.on_reply(&params, &reply("msg_2"));
        assert!(state.recovers_from(&lost));
        let plan = state.plan(&params, false);
        assert_eq!(plan.thread, None);
        assert!(!plan.beta);
        // Other errors are not the thread's.
        assert!(!state.recovers_from(&rejection(400, json!({"error_code": "other"}))));
    }

    #[test]
    fn a_replay_sends_answered_messages_without_cache_control() {
        let cached = MessageParam::blocks(
            crate::types::Role::User,
            vec![crate::types::ContentBlock::ToolResult(
                crate::types::ToolResultBlock {
                    cache_control: Some(json!({"type": "ephemeral"})),
                    ..crate::types::ToolResultBlock::new("toolu_1", None)
                },
            )],
        );
        let mut params = MessageParams::new("m", 1).message(cached.clone());
        let mut state = continuing(&mut params);
        params.messages.push(cached);
        assert!(state.recovers_from(&rejection(404, json!({"error_code": "thread_not_found"}))));
        let plan = state.plan(&params, false);
        assert_eq!(plan.strip_cache_control_before, 2);
        let sent =
            without_cache_control(&params.messages, plan.strip_cache_control_before).unwrap();
        assert_eq!(sent[0]["content"][0].get("cache_control"), None);
        // The message not yet answered keeps its own.
        assert_eq!(
            sent[3]["content"][0]["cache_control"],
            json!({"type": "ephemeral"})
        );
    }
}
