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
//! `tools_changed`, `messages_changed` (each with the tokens that request
//! left cached and this one could not read), or
//! `previous_message_not_found`; `null` when this request extends that one.
//!
//! A request whose reply's usage the script set, and that asks for no
//! diagnostics, is not looked at: it neither reads nor writes the cache.

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

/// What a later request's diagnosis compares: a few hashes and counts,
/// whatever the length of the conversation.
#[derive(Clone, Copy)]
struct Fingerprint {
    model: u64,
    system: u64,
    tools: u64,
    /// The number of messages, and the chained hash after the last.
    messages: (usize, u64),
    /// The tokens up to the request's last breakpoint: what it left cached.
    cached: u64,
}

/// A request cut into pieces.
struct Pieces {
    /// The chained hash of the prefix ending at each piece.
    chain: Vec<u64>,
    /// The tokens of the prefix ending at each piece.
    tokens: Vec<u64>,
    breakpoints: Vec<usize>,
    /// The chained hash after each message.
    message_ends: Vec<u64>,
    model: u64,
    system: u64,
    tools: u64,
}

impl PromptCache {
    /// Takes in `request` and the script's `reply` to it: a reply that
    /// carries a message gets its diagnosis, if asked for, and, when the
    /// server counts its usage, the usage counted here. Requests whose
    /// replies need neither are not looked at (the script set their usage),
    /// so that a script's own figures cost no more than before.
    pub(crate) fn report(&mut self, request: &Value, reply: Reply) -> Reply {
        let Some(message) = &reply.message else {
            return reply;
        };
        if !reply.counted && request.get("diagnostics").is_none() {
            return reply;
        }
        let id = message["id"].as_str().map(str::to_owned);
        let output = tokens(&message["content"].to_string());
        let pieces = Pieces::of(request);
        let counted = self.count(&pieces);
        let diagnosis = self.diagnose(request, &pieces, &counted, id.as_deref());
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

    /// Counts the input tokens of a request, reading and writing the cache.
    fn count(&mut self, pieces: &Pieces) -> Counted {
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

    /// The `diagnostics` of the reply to `request` (cut into `pieces`, and
    /// `counted`), when it asked for them; remembers the request under
    /// `reply_id` for later ones.
    fn diagnose(
        &mut self,
        request: &Value,
        pieces: &Pieces,
        counted: &Counted,
        reply_id: Option<&str>,
    ) -> Option<Value> {
        let asked = request
            .get("diagnostics")
            .map(|d| d["previous_message_id"].clone());
        let diagnosis = asked.map(|previous| match previous.as_str() {
            None => Value::Null,
            Some(id) => match self.requests.get(id) {
                None => json!({"cache_miss_reason": {"type": "previous_message_not_found"}}),
                Some(before) => match pieces.miss(before, counted.cache_read_input_tokens) {
                    Some(reason) => json!({"cache_miss_reason": reason}),
                    None => Value::Null,
                },
            },
        });
        if let Some(id) = reply_id {
            let fingerprint = Fingerprint {
                model: pieces.model,
                system: pieces.system,
                tools: pieces.tools,
                messages: (
                    pieces.message_ends.len(),
                    pieces.message_ends.last().copied().unwrap_or(0),
                ),
                cached: counted.cache_read_input_tokens + counted.cache_creation_input_tokens,
            };
            self.requests.insert(id.to_owned(), fingerprint);
        }
        diagnosis
    }
}

impl Pieces {
    /// Why this request, which read `read` tokens from the cache, could not
    /// read all that `before` left cached, if it could not. The tokens
    /// missed are those `before` left cached less those read.
    fn miss(&self, before: &Fingerprint, read: u64) -> Option<Value> {
        let missed = |kind: &str| json!({"type": kind, "cache_missed_input_tokens": before.cached.saturating_sub(read)});
        if self.model != before.model {
            return Some(missed("model_changed"));
        }
        if self.tools != before.tools {
            return Some(missed("tools_changed"));
        }
        if self.system != before.system {
            return Some(missed("system_changed"));
        }
        let (len, end) = before.messages;
        let extends = len == 0 || self.message_ends.get(len - 1) == Some(&end);
        (!extends).then(|| missed("messages_changed"))
    }
}

impl Pieces {
    fn of(request: &Value) -> Self {
        let model = hash_of(&request["model"]);
        let mut pieces = Pieces {
            chain: Vec::new(),
            tokens: Vec::new(),
            breakpoints: Vec::new(),
            message_ends: Vec::new(),
            model,
            system: 0,
            tools: 0,
        };
        let mut state = (model, 0u64);
        for tool in request["tools"].as_array().into_iter().flatten() {
            pieces.push(&mut state, "tool", tool);
        }
        pieces.tools = state.0;
        match &request["system"] {
            Value::Array(blocks) => blocks
                .iter()
                .for_each(|b| pieces.push(&mut state, "system", b)),
            Value::Null => {}
            system => pieces.push(&mut state, "system", &as_block(system)),
        }
        pieces.system = state.0;
        for message in request["messages"].as_array().into_iter().flatten() {
            let role = message["role"].as_str().unwrap_or_default();
            match &message["content"] {
                Value::Array(blocks) => {
                    blocks.iter().for_each(|b| pieces.push(&mut state, role, b))
                }
                text => pieces.push(&mut state, role, &as_block(text)),
            }
            pieces.message_ends.push(state.0);
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
        // Most pieces carry no mark: only those are copied to strip it.
        let marked = has_mark(piece);
        let text = if marked {
            let mut plain = piece.clone();
            strip(&mut plain);
            plain.to_string()
        } else {
            piece.to_string()
        };
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

/// Whether a piece, or a block inside it, carries `cache_control`.
fn has_mark(value: &Value) -> bool {
    match value {
        Value::Object(object) => {
            object.get("cache_control").is_some_and(|c| !c.is_null())
                || object.get("content").is_some_and(has_mark)
        }
        Value::Array(items) => items.iter().any(has_mark),
        _ => false,
    }
}

/// Removes every `cache_control` from a piece and the blocks it holds.
fn strip(value: &mut Value) {
    match value {
        Value::Object(object) => {
            object.remove("cache_control");
            if let Some(content) = object.get_mut("content") {
                strip(content);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
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

    fn count(cache: &mut PromptCache, request: &Value) -> Counted {
        cache.count(&Pieces::of(request))
    }

    fn diagnose(cache: &mut PromptCache, request: &Value, id: Option<&str>) -> Option<Value> {
        let pieces = Pieces::of(request);
        let counted = cache.count(&pieces);
        cache.diagnose(request, &pieces, &counted, id)
    }

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
        let first = count(&mut cache, &request(turn1.clone(), true));
        assert_eq!(first.cache_read_input_tokens, 0);
        assert!(first.cache_creation_input_tokens > 0);
        assert_eq!(first.input_tokens, 0);
        let mut turn2 = turn1.as_array().unwrap().clone();
        turn2.push(json!({"role": "assistant", "content": [{"type": "text", "text": "4"}]}));
        turn2.push(json!({"role": "user", "content": "And 3 + 3?"}));
        let second = count(&mut cache, &request(Value::Array(turn2.clone()), true));
        assert_eq!(
            second.cache_read_input_tokens,
            first.cache_creation_input_tokens
        );
        assert!(second.cache_creation_input_tokens > 0);
        // Without a breakpoint, nothing is read: all of it is input.
        let third = count(&mut cache, &request(Value::Array(turn2), false));
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
        assert_eq!(diagnose(&mut cache, &first, Some("msg_1")), None);
        let mut rewritten = request(json!([{"role": "user", "content": "Hello"}]), true);
        rewritten["diagnostics"] = json!({"previous_message_id": "msg_1"});
        let diagnosis = diagnose(&mut cache, &rewritten, Some("msg_2")).unwrap();
        assert_eq!(diagnosis["cache_miss_reason"]["type"], "messages_changed");
        // All the first request left cached was missed: system prompt and message.
        let written = tokens(&json!({"type": "text", "text": "Be brief."}).to_string())
            + tokens(&json!({"type": "text", "text": "Hi"}).to_string());
        assert_eq!(
            diagnosis["cache_miss_reason"]["cache_missed_input_tokens"],
            written
        );
        let mut other_system = rewritten.clone();
        other_system["system"] = json!("Be long.");
        other_system["diagnostics"] = json!({"previous_message_id": "msg_2"});
        let diagnosis = diagnose(&mut cache, &other_system, None).unwrap();
        assert_eq!(diagnosis["cache_miss_reason"]["type"], "system_changed");
        other_system["diagnostics"] = json!({"previous_message_id": "msg_404"});
        let diagnosis = diagnose(&mut cache, &other_system, None).unwrap();
        assert_eq!(
            diagnosis["cache_miss_reason"]["type"],
            "previous_message_not_found"
        );
    }
}
