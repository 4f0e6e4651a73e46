//! The scripted server's prompt cache: usage reported as the API reports
//! it for prefix caching, so that a test's figures mean something.
//!
//! A request is read as one list of pieces, in the order the API caches
//! them: each tool, the system prompt (a string, or each of its blocks),
//! then each block of each message. Plain text, as the system prompt or a
//! message's content, is one piece, the same as a text block saying it.
//! A piece with `cache_control` (on itself or on a block inside it) is a
//! breakpoint; the top-level `cache_control` puts one on the last piece
//! that is not a thinking block.
//!
//! - **Reads.** The cache holds prefixes, by a hash of the model and the
//!   pieces up to a breakpoint. A request reads the longest prefix that an
//!   earlier request wrote and that ends at one of its breakpoints or at
//!   most 19 pieces before one (the API looks back 20 blocks).
//! - **Writes.** Each breakpoint past what was read writes its prefix;
//!   the tokens from the end of the read to the last breakpoint are
//!   reported as written.
//! - **Input.** The tokens after both are uncached input.
//!
//! Tokens are approximated deterministically: a piece counts its JSON
//! text (without `cache_control`, which does not change what is cached)
//! at four bytes a token, rounded up, and at least one. Output tokens are
//! the reply's content counted the same way. Not modelled: the minimum
//! cacheable length (1,024 tokens and up on the API), the cache's
//! lifetime (entries here never expire), and the parameters that
//! invalidate the messages' cache (`tool_choice`, `thinking`).
//!
//! Requests that ask for `diagnostics` get `diagnostics.cache_miss_reason`
//! in the reply, comparing the request with the one that got reply
//! `previous_message_id`: `model_changed`, `system_changed`,
//! `tools_changed`, `messages_changed` (with the tokens that would have
//! been read had the earlier request's messages been kept), or
//! `previous_message_not_found`; `null` when this request extends that one.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Value, json};

use super::Reply;

/// How far before a breakpoint the cache looks for a prefix it holds.
const LOOKBACK: usize = 20;

/// The usage of one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Counted {
    pub(crate) input_tokens: u64,
    pub(crate) cache_creation_input_tokens: u64,
    pub(crate) cache_read_input_tokens: u64,
}

/// The prefixes written, and what each reply's request looked like.
#[derive(Default)]
pub(crate) struct PromptCache {
    written: HashSet<u64>,
    requests: HashMap<String, Fingerprint>,
}

/// What a request's diagnosis compares.
#[derive(Clone)]
struct Fingerprint {
    model: u64,
    system: u64,
    tools: u64,
    /// The chained hash after each message piece, and the tokens of the
    /// whole prefix there.
    messages: Vec<(u64, u64)>,
}

/// A request cut into pieces.
struct Pieces {
    /// The chained hash of the prefix ending at each piece.
    chain: Vec<u64>,
    /// The tokens of the prefix ending at each piece.
    tokens: Vec<u64>,
    breakpoints: Vec<usize>,
    fingerprint: Fingerprint,
}

impl PromptCache {
    /// Takes in `request` and the script's `reply` to it: a reply that
    /// carries a message gets its diagnosis, if asked for, and, when the
    /// server counts its usage, the usage counted here.
    pub(crate) fn report(&mut self, request: &Value, reply: Reply) -> Reply {
        let Some(message) = &reply.message else {
            return reply;
        };
        let id = message["id"].as_str().map(str::to_owned);
        let output = tokens(&message["content"].to_string());
        let counted = self.count(request);
        let diagnosis = self.diagnose(request, id.as_deref());
        if !reply.counted && diagnosis.is_none() {
            return reply;
        }
        let usage = reply.counted.then(|| {
            json!({
                "input_tokens": counted.input_tokens,
                "cache_creation_input_tokens": counted.cache_creation_input_tokens,
                "cache_read_input_tokens": counted.cache_read_input_tokens,
                "output_tokens": output,
            })
        });
        reply.edit_message(|message| {
            if let Some(usage) = usage {
                message["usage"] = usage;
            }
            if let Some(diagnosis) = diagnosis {
                message["diagnostics"] = diagnosis;
            }
        })
    }

    /// Counts `request`'s input tokens, reading and writing the cache.
    pub(crate) fn count(&mut self, request: &Value) -> Counted {
        let pieces = Pieces::of(request);
        let total = pieces.tokens.last().copied().unwrap_or(0);
        let prefix = |end: Option<usize>| end.map_or(0, |i| pieces.tokens[i]);
        let read = pieces
            .breakpoints
            .iter()
            .flat_map(|&b| (b.saturating_sub(LOOKBACK - 1)..=b).rev())
            .filter(|&i| self.written.contains(&pieces.chain[i]))
            .max();
        let last = pieces.breakpoints.last().copied();
        for &b in &pieces.breakpoints {
            if read.is_none_or(|r| b > r) {
                self.written.insert(pieces.chain[b]);
            }
        }
        let cached_to = read.max(last);
        Counted {
            input_tokens: total - prefix(cached_to),
            cache_creation_input_tokens: prefix(cached_to) - prefix(read),
            cache_read_input_tokens: prefix(read),
        }
    }

    /// The `diagnostics` of the reply to `request`, when it asked for
    /// them; remembers the request under `reply_id` for later ones.
    pub(crate) fn diagnose(&mut self, request: &Value, reply_id: Option<&str>) -> Option<Value> {
        let fingerprint = Pieces::of(request).fingerprint;
        let asked = request
            .get("diagnostics")
            .map(|d| d["previous_message_id"].clone());
        let diagnosis = asked.map(|previous| match previous.as_str() {
            None => Value::Null,
            Some(id) => match self.requests.get(id) {
                None => json!({"cache_miss_reason": {"type": "previous_message_not_found"}}),
                Some(before) => match fingerprint.miss(before) {
                    Some(reason) => json!({"cache_miss_reason": reason}),
                    None => Value::Null,
                },
            },
        });
        if let Some(id) = reply_id {
            self.requests.insert(id.to_owned(), fingerprint);
        }
        diagnosis
    }
}

impl Fingerprint {
    /// Why `self` could not read all of `before`'s prefix, if it could not.
    fn miss(&self, before: &Fingerprint) -> Option<Value> {
        let before_tokens = before.messages.last().map_or(0, |&(_, t)| t);
        let missed = |kind: &str, kept: u64| json!({"type": kind, "cache_missed_input_tokens": before_tokens - kept});
        if self.model != before.model {
            return Some(missed("model_changed", 0));
        }
        if self.tools != before.tools {
            return Some(missed("tools_changed", 0));
        }
        if self.system != before.system {
            return Some(missed("system_changed", 0));
        }
        let kept = self
            .messages
            .iter()
            .zip(&before.messages)
            .take_while(|(a, b)| a.0 == b.0)
            .last()
            .map(|(_, b)| b.1);
        if self.messages.len() < before.messages.len()
            || kept != before.messages.last().map(|m| m.1)
        {
            return Some(missed("messages_changed", kept.unwrap_or(0)));
        }
        None
    }
}

impl Pieces {
    fn of(request: &Value) -> Self {
        let model = hash_of(&request["model"]);
        let mut pieces = Pieces {
            chain: Vec::new(),
            tokens: Vec::new(),
            breakpoints: Vec::new(),
            fingerprint: Fingerprint {
                model,
                system: 0,
                tools: 0,
                messages: Vec::new(),
            },
        };
        let mut state = (model, 0u64);
        for tool in request["tools"].as_array().into_iter().flatten() {
            pieces.push(&mut state, "tool", tool);
        }
        pieces.fingerprint.tools = state.0;
        match &request["system"] {
            Value::Array(blocks) => blocks
                .iter()
                .for_each(|b| pieces.push(&mut state, "system", b)),
            Value::Null => {}
            system => pieces.push(&mut state, "system", &as_block(system)),
        }
        pieces.fingerprint.system = state.0;
        for message in request["messages"].as_array().into_iter().flatten() {
            let role = message["role"].as_str().unwrap_or_default();
            match &message["content"] {
                Value::Array(blocks) => {
                    blocks.iter().for_each(|b| pieces.push(&mut state, role, b))
                }
                text => pieces.push(&mut state, role, &as_block(text)),
            }
            pieces.fingerprint.messages.push(state);
        }
        if request.get("cache_control").is_some_and(|c| !c.is_null())
            && let Some(last) = request["messages"]
                .as_array()
                .and_then(|m| m.last())
                .and_then(|m| automatic_breakpoint(&m["content"]))
        {
            // Counted back from the end of the pieces: the last message's
            // blocks are the last pieces.
            let blocks = request["messages"]
                .as_array()
                .and_then(|m| m.last())
                .and_then(|m| m["content"].as_array())
                .map_or(1, Vec::len);
            let at = pieces.chain.len() - blocks + last;
            if !pieces.breakpoints.contains(&at) {
                pieces.breakpoints.push(at);
            }
        }
        pieces
    }

    /// Adds one piece, by `who` (a role, or where it sits).
    fn push(&mut self, state: &mut (u64, u64), who: &str, piece: &Value) {
        let mut plain = piece.clone();
        let marked = strip(&mut plain);
        let text = plain.to_string();
        let mut hasher = DefaultHasher::new();
        (state.0, who, &text).hash(&mut hasher);
        state.0 = hasher.finish();
        state.1 += tokens(&text);
        if marked {
            self.breakpoints.push(self.chain.len());
        }
        self.chain.push(state.0);
        self.tokens.push(state.1);
    }
}

/// Plain text as the text block it stands for: the cache holds the two alike.
fn as_block(text: &Value) -> Value {
    json!({"type": "text", "text": text})
}

/// The block of `content` the top-level `cache_control` marks: the last
/// that is not a thinking block.
fn automatic_breakpoint(content: &Value) -> Option<usize> {
    match content {
        Value::Array(blocks) => blocks
            .iter()
            .rposition(|b| !matches!(b["type"].as_str(), Some("thinking" | "redacted_thinking"))),
        _ => Some(0),
    }
}

/// Removes every `cache_control` from a piece and the blocks it holds;
/// whether there was one.
fn strip(value: &mut Value) -> bool {
    match value {
        Value::Object(object) => {
            let own = object.remove("cache_control").is_some_and(|c| !c.is_null());
            let mut inner = false;
            for (key, item) in object.iter_mut() {
                if key == "content" {
                    inner |= strip(item);
                }
            }
            own || inner
        }
        Value::Array(items) => {
            // Every item is stripped, whether or not one before was marked.
            let mut marked = false;
            for item in items {
                marked |= strip(item);
            }
            marked
        }
        _ => false,
    }
}

/// The approximate tokens of a JSON text: four bytes a token, at least one.
pub(crate) fn tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4).max(1)
}

fn hash_of(value: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.to_string().hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(messages: Value, cache_control: bool) -> Value {
        let mut request = json!({"model": "m", "system": "Be brief.", "messages": messages});
        if cache_control {
            request["cache_control"] = json!({"type": "ephemeral"});
        }
        request
    }

    #[test]
    fn each_turn_reads_what_the_previous_wrote() {
        let mut cache = PromptCache::default();
        let turn1 = json!([{"role": "user", "content": "What is 2 + 2?"}]);
        let first = cache.count(&request(turn1.clone(), true));
        assert_eq!(first.cache_read_input_tokens, 0);
        assert!(first.cache_creation_input_tokens > 0);
        assert_eq!(first.input_tokens, 0);
        let mut turn2 = turn1.as_array().unwrap().clone();
        turn2.push(json!({"role": "assistant", "content": [{"type": "text", "text": "4"}]}));
        turn2.push(json!({"role": "user", "content": "And 3 + 3?"}));
        let second = cache.count(&request(Value::Array(turn2.clone()), true));
        assert_eq!(
            second.cache_read_input_tokens,
            first.cache_creation_input_tokens
        );
        assert!(second.cache_creation_input_tokens > 0);
        // Without a breakpoint, nothing is read: all of it is input.
        let third = cache.count(&request(Value::Array(turn2), false));
        assert_eq!(third.cache_read_input_tokens, 0);
        assert_eq!(
            third.input_tokens,
            second.cache_read_input_tokens + second.cache_creation_input_tokens
        );
    }

    #[test]
    fn a_diagnosis_names_what_changed() {
        let mut cache = PromptCache::default();
        let first = request(json!([{"role": "user", "content": "Hi"}]), true);
        assert_eq!(cache.diagnose(&first, Some("msg_1")), None);
        let mut rewritten = request(json!([{"role": "user", "content": "Hello"}]), true);
        rewritten["diagnostics"] = json!({"previous_message_id": "msg_1"});
        let diagnosis = cache.diagnose(&rewritten, Some("msg_2")).unwrap();
        assert_eq!(diagnosis["cache_miss_reason"]["type"], "messages_changed");
        let mut other_system = rewritten.clone();
        other_system["system"] = json!("Be long.");
        other_system["diagnostics"] = json!({"previous_message_id": "msg_2"});
        let diagnosis = cache.diagnose(&other_system, None).unwrap();
        assert_eq!(diagnosis["cache_miss_reason"]["type"], "system_changed");
        other_system["diagnostics"] = json!({"previous_message_id": "msg_404"});
        let diagnosis = cache.diagnose(&other_system, None).unwrap();
        assert_eq!(
            diagnosis["cache_miss_reason"]["type"],
            "previous_message_not_found"
        );
    }
}
