//! What API version `2026-10-21` rejects, found while a request is built and
//! refused before it is sent.
//!
//! The API answers these with a 400 that costs a round trip and, inside the
//! runner, leaves the conversation stuck; naming the field here tells the
//! user what to change, or that `2023-06-01` still accepts it.

use std::fmt;

use crate::error::Error;
use crate::types::{Content, ContentBlock, MessageParams, Role, ToolResultContent};

/// The API version the client sends unless told otherwise; the official
/// SDKs' default since 2026-10-21.
pub(crate) const CURRENT: &str = "2026-10-21";

/// The version before [`CURRENT`], which still accepts everything below.
pub(crate) const LEGACY: &str = "2023-06-01";

/// One thing in a request that `2026-10-21` and later reject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// `temperature`, `top_p` or `top_k`: rejected even at their defaults.
    Sampling(&'static str),
    /// A `document` block directly in an assistant message.
    AssistantDocument { message: usize },
    /// A `text` block with non-empty `citations` in a user message, directly
    /// or inside a `search_result`.
    UserCitations { message: usize },
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::Sampling(field) => write!(
                f,
                "`{field}` is not accepted by API version {CURRENT}: remove it, \
                 or pin the old version with ClientBuilder::anthropic_version(\"{LEGACY}\")"
            ),
            Rejected::AssistantDocument { message } => write!(
                f,
                "messages[{message}] is an assistant message with a `document` block, \
                 which API version {CURRENT} does not accept: move the document to a user message, \
                 or pin the old version with ClientBuilder::anthropic_version(\"{LEGACY}\")"
            ),
            Rejected::UserCitations { message } => write!(
                f,
                "messages[{message}] is a user message with a `text` block carrying `citations`, \
                 which API version {CURRENT} does not accept: drop the citations, \
                 or pin the old version with ClientBuilder::anthropic_version(\"{LEGACY}\")"
            ),
        }
    }
}

/// Everything in `params` that `2026-10-21` rejects, in request order.
///
/// Only the messages from `from` on are looked at: the ones a request
/// sends. A thread continued on the server was checked when it was sent;
/// scanning it again would make every turn cost as much as the history.
pub(crate) fn rejected_fields(params: &MessageParams, from: usize) -> Vec<Rejected> {
    let mut found = Vec::new();
    let sampling = [
        ("temperature", params.temperature.is_some()),
        ("top_p", params.top_p.is_some()),
        ("top_k", params.top_k.is_some()),
    ];
    found.extend(
        sampling
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(field, _)| Rejected::Sampling(field)),
    );
    let sent = params.messages.iter().enumerate().skip(from);
    for (index, message) in sent {
        let Content::Blocks(blocks) = &message.content else {
            continue;
        };
        match message.role {
            Role::Assistant if blocks.iter().any(|b| b.kind() == "document") => {
                found.push(Rejected::AssistantDocument { message: index });
            }
            Role::User if blocks.iter().any(has_citations) => {
                found.push(Rejected::UserCitations { message: index });
            }
            _ => {}
        }
    }
    found
}

/// Refuses a request that `version` would reject.
///
/// # Errors
///
/// An invalid-request error naming the first rejected field.
pub(crate) fn check(version: &str, rejected: &[Rejected]) -> Result<(), Error> {
    match rejected.first() {
        Some(first) if rejects_legacy_fields(version) => {
            Err(Error::invalid_request(first.to_string()))
        }
        _ => Ok(()),
    }
}

/// Whether `version` is `2026-10-21` or later. Versions are dates, so they
/// compare as strings; an unknown later version is assumed to keep the rule.
fn rejects_legacy_fields(version: &str) -> bool {
    version >= CURRENT
}

/// Whether `block` is, or holds, a `text` block with non-empty `citations`:
/// directly, in a `search_result`, or in a tool result's `search_result`.
fn has_citations(block: &ContentBlock) -> bool {
    match block {
        ContentBlock::Text(text) => text.extra.get("citations").is_some_and(non_empty),
        ContentBlock::ToolResult(result) => match &result.content {
            Some(ToolResultContent::Blocks(blocks)) => blocks.iter().any(has_citations),
            _ => false,
        },
        ContentBlock::Other(other) if other.kind() == "search_result" => {
            search_result_has_citations(&other.to_value())
        }
        _ => false,
    }
}

fn search_result_has_citations(value: &serde_json::Value) -> bool {
    let content = value.get("content").and_then(serde_json::Value::as_array);
    content.into_iter().flatten().any(|block| {
        block.get("type").and_then(serde_json::Value::as_str) == Some("text")
            && block.get("citations").is_some_and(non_empty)
    })
}

/// `null`, `[]` and `{}` are no citations; the API accepts them.
fn non_empty(citations: &serde_json::Value) -> bool {
    match citations {
        serde_json::Value::Null => false,
        serde_json::Value::Array(items) => !items.is_empty(),
        serde_json::Value::Object(fields) => !fields.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::types::MessageParam;

    fn user_blocks(blocks: serde_json::Value) -> MessageParam {
        serde_json::from_value(json!({"role": "user", "content": blocks})).unwrap()
    }

    #[test]
    fn sampling_fields_are_named_in_order() {
        let params = MessageParams::new("m", 1).temperature(1.0).top_k(5);
        assert_eq!(
            rejected_fields(&params, 0),
            [
                Rejected::Sampling("temperature"),
                Rejected::Sampling("top_k")
            ]
        );
        let err = check(CURRENT, &rejected_fields(&params, 0)).unwrap_err();
        assert!(err.is_invalid_request());
        assert!(err.to_string().contains("`temperature`"), "{err}");
        assert!(err.to_string().contains(CURRENT), "{err}");
        assert!(check(LEGACY, &rejected_fields(&params, 0)).is_ok());
    }

    #[test]
    fn empty_citations_are_accepted() {
        let mut params = MessageParams::new("m", 1);
        params.messages.push(user_blocks(json!([
            {"type": "text", "text": "a", "citations": []},
            {"type": "text", "text": "b", "citations": null}
        ])));
        assert_eq!(rejected_fields(&params, 0), []);
    }

    #[test]
    fn citations_inside_a_search_result_in_a_tool_result_are_found() {
        let mut params = MessageParams::new("m", 1);
        params.messages.push(user_blocks(json!([{
            "type": "tool_result", "tool_use_id": "t",
            "content": [{
                "type": "search_result", "source": "s", "title": "t",
                "content": [{"type": "text", "text": "x", "citations": [{"type": "char_location"}]}]
            }]
        }])));
        assert_eq!(
            rejected_fields(&params, 0),
            [Rejected::UserCitations { message: 0 }]
        );
    }

    #[test]
    fn only_the_messages_sent_are_looked_at_and_named_by_their_place_in_the_history() {
        let cited =
            json!([{"type": "text", "text": "a", "citations": [{"type": "char_location"}]}]);
        let mut params = MessageParams::new("m", 1);
        params.messages.push(user_blocks(cited.clone()));
        params.messages.push(user_blocks(json!("plain")));
        params.messages.push(user_blocks(cited));
        assert_eq!(
            rejected_fields(&params, 0),
            [
                Rejected::UserCitations { message: 0 },
                Rejected::UserCitations { message: 2 }
            ]
        );
        assert_eq!(
            rejected_fields(&params, 1),
            [Rejected::UserCitations { message: 2 }]
        );
        assert_eq!(rejected_fields(&params, 3), []);
    }
}
