//! Message threads as the scripted server keeps them: each request on a
//! thread is answered as if it carried the whole conversation, and the
//! errors the API gives for a thread it does not hold or was continued
//! already.

use serde_json::Value;

use super::Reply;

/// The threads the server holds, by the id of their last reply.
#[derive(Default)]
pub(super) struct Threads {
    held: std::collections::HashMap<String, Thread>,
    /// Replies that a later request continued already.
    continued: std::collections::HashSet<String>,
}

struct Thread {
    messages: Vec<Value>,
    system: Option<Value>,
    tools: Option<Value>,
}

/// Which thread a request is on.
pub(super) struct OnThread {
    /// The reply it continues, if any.
    previous: Option<String>,
    /// How many messages the thread held before this request.
    held: usize,
}

impl Threads {
    /// The messages of the thread whose last reply is `id`, as the model
    /// sees them.
    pub(super) fn conversation(&self, id: &str) -> Option<Vec<Value>> {
        self.held.get(id).map(|t| t.messages.clone())
    }

    /// Forgets every thread, as a server that lost them.
    pub(super) fn forget(&mut self) {
        self.held.clear();
    }

    /// The request as the model sees it, with the whole conversation, and
    /// the thread it is on; or the error the API answers with. A thread
    /// being continued is taken out until [`keep`](Self::keep) puts it back.
    pub(super) fn resolve(
        &mut self,
        mut request: Value,
    ) -> Result<(Value, Option<OnThread>), Box<Reply>> {
        let Some(thread) = request.get("thread").cloned() else {
            return Ok((request, None));
        };
        match thread["type"].as_str() {
            Some("create") => {
                let on = OnThread {
                    previous: None,
                    held: 0,
                };
                Ok((request, Some(on)))
            }
            Some("continue") => {
                let previous = thread["previous_message_id"].as_str().unwrap_or_default();
                for field in ["system", "tools"] {
                    if request.get(field).is_some() {
                        return Err(Box::new(Reply::error(
                            400,
                            "invalid_request_error",
                            &format!("`{field}` cannot be sent when continuing a thread"),
                        )));
                    }
                }
                if self.continued.contains(previous) {
                    return Err(Box::new(thread_error(
                        400,
                        "invalid_request_error",
                        "thread_already_continued",
                    )));
                }
                let Some(held) = self.held.remove(previous) else {
                    return Err(Box::new(thread_error(
                        404,
                        "not_found_error",
                        "thread_not_found",
                    )));
                };
                let on = OnThread {
                    previous: Some(previous.to_owned()),
                    held: held.messages.len(),
                };
                let mut messages = held.messages;
                if let Some(Value::Array(added)) = request.get_mut("messages") {
                    messages.append(added);
                }
                request["messages"] = Value::Array(messages);
                for (field, value) in [("system", held.system), ("tools", held.tools)] {
                    if let Some(value) = value {
                        request[field] = value;
                    }
                }
                Ok((request, Some(on)))
            }
            _ => Err(Box::new(Reply::error(
                400,
                "invalid_request_error",
                "unknown `thread.type`",
            ))),
        }
    }

    /// Keeps `reply`, the answer to `seen`, on its thread; puts a thread
    /// that got no message back as it was.
    pub(super) fn keep(&mut self, on: OnThread, mut seen: Value, reply: &Reply) {
        let mut messages = match seen.get_mut("messages") {
            Some(Value::Array(messages)) => std::mem::take(messages),
            _ => Vec::new(),
        };
        // `seen` is done with: its `system` and `tools` move into the thread.
        let (system, tools) = match seen.as_object_mut() {
            Some(fields) => (fields.remove("system"), fields.remove("tools")),
            None => (None, None),
        };
        let thread = |messages| Thread {
            messages,
            system,
            tools,
        };
        let kept = reply.message.as_ref().and_then(|message| {
            let id = message["id"].as_str()?;
            Some((id.to_owned(), message.get("content")?.clone()))
        });
        match (kept, on.previous) {
            (Some((id, content)), previous) => {
                // Built as a map: `json!` would copy `content` by serializing it.
                let mut turn = serde_json::Map::new();
                turn.insert("role".into(), "assistant".into());
                turn.insert("content".into(), content);
                messages.push(Value::Object(turn));
                self.held.insert(id, thread(messages));
                if let Some(previous) = previous {
                    self.continued.insert(previous);
                }
            }
            (None, Some(previous)) => {
                messages.truncate(on.held);
                self.held.insert(previous, thread(messages));
            }
            (None, None) => {}
        }
    }
}

fn thread_error(status: u16, error_type: &str, code: &str) -> Reply {
    Reply::error_with_details(
        status,
        error_type,
        &format!("{code} (scripted)"),
        serde_json::json!({"error_code": code}),
    )
}
