//! Where client-side compaction may cut a conversation without breaking
//! programmatic tool calling.
//!
//! Calls from code tie messages together in ways the API checks: the user
//! message answering calls from code may hold nothing but their results (so
//! no prompt may be merged into it), and a call's `caller.tool_id` names the
//! `server_tool_use` block running the code, which must still be in the
//! history.

use std::collections::HashSet;

use crate::tool::Caller;
use crate::types::{ContentBlock, MessageParam, Role};

/// Where the kept tail of `messages` starts: the summary replaces
/// `messages[..split]`. The tail holds at least the last turn and its
/// results; `None` when nothing before it can be summarised safely.
pub(crate) fn split_point(messages: &[MessageParam]) -> Option<usize> {
    let mut split = messages.len().checked_sub(2)?;
    while split > 0 {
        if is_safe_split(messages, split) {
            return Some(split);
        }
        split -= 1;
    }
    None
}

/// Whether the last turn has calls from code waiting for results: the code
/// run is not over, so compaction waits for it.
pub(crate) fn code_run_pending(messages: &[MessageParam]) -> bool {
    let [.., turn, _results] = messages else {
        return false;
    };
    turn.role == Role::Assistant && calls_from_code(turn)
}

fn is_safe_split(messages: &[MessageParam], split: usize) -> bool {
    let (head, tail) = messages.split_at(split);
    let [.., before_last, last] = head else {
        // The summary prompt follows a single user message: safe unless that
        // message answers something, and it cannot.
        return head.len() == 1 && head[0].role == Role::User && tail[0].role == Role::Assistant;
    };
    tail[0].role == Role::Assistant
        && last.role == Role::User
        // The summary prompt is appended after `last`, and the API merges
        // consecutive user messages.
        && !(before_last.role == Role::Assistant && calls_from_code(before_last))
        && !names_code_run_in(head, tail)
}

fn calls_from_code(message: &MessageParam) -> bool {
    message
        .content_blocks()
        .iter()
        .filter_map(ContentBlock::as_tool_use)
        .any(|call| call.caller().is_code())
}

/// Whether a call from code in `tail` names a `server_tool_use` in `head`.
fn names_code_run_in(head: &[MessageParam], tail: &[MessageParam]) -> bool {
    let runs: HashSet<String> = tail
        .iter()
        .flat_map(|m| m.content_blocks().into_owned())
        .filter_map(
            |block| match block.as_tool_use().map(|call| call.caller()) {
                Some(Caller::CodeExecution { tool_id, .. }) => Some(tool_id),
                _ => None,
            },
        )
        .collect();
    !runs.is_empty()
        && head.iter().any(|m| {
            m.content_blocks().iter().any(|block| match block {
                ContentBlock::ServerToolUse(run) => runs.contains(&run.id),
                _ => false,
            })
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{code_run_pending, split_point};
    use crate::types::MessageParam;

    fn history(messages: serde_json::Value) -> Vec<MessageParam> {
        serde_json::from_value(messages).unwrap()
    }

    fn from_code(id: &str, run: &str) -> serde_json::Value {
        json!({"type": "tool_use", "id": id, "name": "q", "input": {},
               "caller": {"type": "code_execution_20260120", "tool_id": run}})
    }

    #[test]
    fn a_plain_history_keeps_only_the_last_turn() {
        let messages = history(json!([
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": "one"},
            {"role": "user", "content": "more"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "q", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "1"}]},
        ]));
        assert_eq!(split_point(&messages), Some(3));
        assert!(!code_run_pending(&messages));
    }

    #[test]
    fn a_kept_call_from_code_keeps_the_server_tool_use_it_names() {
        let messages = history(json!([
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [
                {"type": "server_tool_use", "id": "srv1", "name": "code_execution", "input": {"code": "q()"}}]},
            {"role": "user", "content": "go on"},
            {"role": "assistant", "content": [from_code("t1", "srv1")]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "1"}]},
        ]));
        assert!(code_run_pending(&messages));
        assert_eq!(split_point(&messages), Some(1));
    }

    #[test]
    fn the_prompt_never_follows_results_for_code() {
        let messages = history(json!([
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [
                {"type": "server_tool_use", "id": "srv1", "name": "code_execution", "input": {"code": "q()"}},
                from_code("t1", "srv1")]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "1"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t2", "name": "q", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t2", "content": "2"}]},
        ]));
        assert_eq!(split_point(&messages), Some(1));
    }
}
