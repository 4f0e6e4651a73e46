//! A script keyed on the conversation rather than on the order of requests.

use serde_json::Value;

use super::{Reply, Script};

/// Replies chosen by how far the conversation has gone: a request whose
/// conversation holds `n` assistant messages gets reply `n` (from 0).
///
/// A [`Sequence`](super::Sequence) counts requests, so it starts over with
/// every new server. That breaks a test of a durable run across processes:
/// each process starts its own server, whose first request is the resumed
/// run's next turn, not the conversation's first. `ByTurn` reads the turn
/// from the request itself, and the runner always sends the whole
/// conversation to a server that does not hold its thread (see
/// [`ScriptedServer`](super::ScriptedServer)), so the same script answers
/// each process where the conversation stands. It also answers a request
/// sent again (a retry, a resumed turn) with the same reply.
///
/// Past its end, a request gets an error the client does not retry, naming
/// the turn that had no reply.
///
/// ```
/// use toolrunner::testing::{ByTurn, Reply, ScriptedServer};
/// use toolrunner::{Client, MessageParams};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let script = || ByTurn::new([Reply::text("first"), Reply::text("second")]);
/// let asked = MessageParams::new("scripted", 64)
///     .user("Hi")
///     .assistant("first")
///     .user("And then?");
/// // A server that never saw the first turn answers the second.
/// let server = ScriptedServer::start(script()).await.unwrap();
/// let client = Client::builder().api_key("test").base_url(server.url()).build().unwrap();
/// let message = client.create_message(&asked).await.unwrap();
/// assert_eq!(message.text(), "second");
/// # });
/// ```
#[derive(Debug)]
pub struct ByTurn {
    replies: Vec<Reply>,
}

impl ByTurn {
    /// The replies, one per turn: reply `n` answers a conversation that
    /// holds `n` assistant messages.
    pub fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
        ByTurn {
            replies: replies.into_iter().collect(),
        }
    }
}

/// How many assistant messages `request` carries: the turn it asks for.
fn turn(request: &Value) -> usize {
    request["messages"].as_array().map_or(0, |messages| {
        messages
            .iter()
            .filter(|message| message["role"] == "assistant")
            .count()
    })
}

impl Script for ByTurn {
    fn reply(&mut self, request: &Value) -> Reply {
        let turn = turn(request);
        match self.replies.get(turn) {
            Some(reply) => reply.clone(),
            None => Reply::error(
                500,
                "api_error",
                &format!(
                    "the script has no reply for turn {}: the conversation holds {turn} assistant messages and the script {} replies",
                    turn + 1,
                    self.replies.len()
                ),
            )
            .header("x-should-retry", "false"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text_of(reply: &Reply) -> &Value {
        &reply.scripted_message().expect("a message")["content"][0]["text"]
    }

    #[test]
    fn the_reply_is_the_one_for_the_turn_the_conversation_reached() {
        let mut script = ByTurn::new([Reply::text("first"), Reply::text("second")]);
        let second = json!({"messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "first"},
            {"role": "user", "content": "More?"},
        ]});
        // Asked twice, as a retry would: the same reply, not the next one.
        assert_eq!(text_of(&script.reply(&second)), "second");
        assert_eq!(text_of(&script.reply(&second)), "second");
        let first = json!({"messages": [{"role": "user", "content": "Hi"}]});
        assert_eq!(text_of(&script.reply(&first)), "first");
    }

    #[test]
    fn a_turn_past_the_script_is_an_error_naming_it() {
        let mut script = ByTurn::new([Reply::text("only")]);
        let request = json!({"messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "only"},
            {"role": "user", "content": "More?"},
        ]});
        let reply = script.reply(&request);
        assert_eq!(reply.status, 500);
        assert!(
            reply.body.contains("the script has no reply for turn 2"),
            "{}",
            reply.body
        );
        assert!(
            reply
                .headers
                .contains(&("x-should-retry".to_owned(), "false".to_owned()))
        );
    }
}
