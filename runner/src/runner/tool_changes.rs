//! Tools added and removed mid-run.
//!
//! Changing the `tools` parameter would miss the prompt cache (and a
//! continued message thread does not take `tools` at all), so changes go
//! into the conversation instead: one `system`-role message of
//! `tool_addition` and `tool_removal` blocks before the next request.
//! Dispatch follows each change at once.
//!
//! A deferred tool (`defer_loading`) is found through a tool-search tool.
//! When the first one arrives mid-run and the request's `tools` offer no
//! search tool, the search tool arrives with it, as a `tool_addition` of
//! its own just before the tool's. Removing the last deferred tool leaves
//! the search tool in place: it then finds nothing, and taking it away
//! would be one more change to the model's tools for no gain (a deferred
//! tool added later needs it again).

use serde_json::{Value, json};

use super::tool_search::ToolSearch;
use crate::error::Error;
use crate::tool::WireDefinition;
use crate::toolset::Toolset;
use crate::types::{ContentBlock, MessageParam, MessageParams, OtherBlock, Role};

/// The beta for `tool_addition` / `tool_removal` blocks.
pub(crate) const TOOL_CHANGES_BETA: &str = "mid-conversation-tool-changes-2026-07-01";

/// The beta for tools defined inline in a `tool_addition` block.
pub(crate) const INLINE_TOOLS_BETA: &str = "inline-tools-2026-09-15";

/// Changes made since the last request, in order.
#[derive(Default)]
pub(crate) struct ToolChanges {
    pending: Vec<Value>,
    /// Whether a search tool was added for a deferred tool.
    search_added: bool,
}

impl ToolChanges {
    /// Changes a run state kept, not yet sent, and whether the search
    /// tool was added.
    pub(crate) fn restore(pending: Vec<Value>, search_added: bool) -> Self {
        ToolChanges {
            pending,
            search_added,
        }
    }

    /// Whether a search tool was added for a deferred tool (sent or not).
    pub(crate) fn search_added(&self) -> bool {
        self.search_added
    }

    /// The changes not yet sent, in order.
    pub(crate) fn pending(&self) -> &[Value] {
        &self.pending
    }

    /// Runs `added`'s tools from now on, in place of any of the same name,
    /// and tells the model with the next request. `search` is the search
    /// tool to add with the first deferred tool, `None` when the request's
    /// `tools` offer one already.
    ///
    /// # Errors
    ///
    /// When a definition cannot be serialized (it cannot: definitions are
    /// JSON values and strings).
    pub(crate) fn add(
        &mut self,
        live: &mut Toolset,
        added: Toolset,
        code_version: &str,
        search: Option<ToolSearch>,
    ) -> Result<(), Error> {
        if let Some(search) = search
            && !self.search_added
            && added.definitions().any(|d| d.defer_loading)
        {
            // Before the deferred tool, so that the tool it is found with
            // is there when the model reads of it.
            self.pending.push(addition(search.definition()));
            self.search_added = true;
        }
        for tool in added.tools() {
            let def = tool.definition();
            let definition = serde_json::to_value(WireDefinition { def, code_version })
                .map_err(Error::encode)?;
            self.pending.push(addition(definition));
            live.remove(&def.name);
            // The name is free now, and the toolset checked it when it was built.
            let _ = live.add_arc(tool.clone());
        }
        Ok(())
    }

    /// Stops running the tools `names` at once, and tells the model with the
    /// next request. A search tool added for deferred tools stays.
    ///
    /// # Errors
    ///
    /// An invalid-request error naming a tool the runner has not got, in
    /// its toolset or in the parameters' `tools`; nothing is removed then.
    pub(crate) fn remove<'a>(
        &mut self,
        live: &mut Toolset,
        params: &MessageParams,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        let names: Vec<&str> = names.into_iter().collect();
        let added = |name: &str| {
            self.pending.iter().any(|change| {
                change["type"] == "tool_addition" && change["tool"]["definition"]["name"] == name
            })
        };
        let declared = |name: &str| params.tools.iter().any(|t| t["name"] == name);
        if let Some(unknown) = names
            .iter()
            .find(|n| !live.contains(n) && !declared(n) && !added(n))
        {
            return Err(Error::invalid_request(format!(
                "cannot remove tool `{unknown}`: the runner has no tool of that name"
            )));
        }
        for name in names {
            live.remove(name);
            self.pending.push(json!({
                "type": "tool_removal",
                "tool": {"type": "tool_reference", "name": name},
            }));
        }
        Ok(())
    }

    /// Appends the pending changes to the history as one `system`-role
    /// message, and the betas they need to the parameters (kept for every
    /// later request, since the history now holds the blocks).
    pub(crate) fn flush(&mut self, params: &mut MessageParams) {
        if self.pending.is_empty() {
            return;
        }
        let inline = self.pending.iter().any(|c| c["type"] == "tool_addition");
        let changes = std::mem::take(&mut self.pending);
        params.messages.push(system_message(changes));
        let betas = [Some(TOOL_CHANGES_BETA), inline.then_some(INLINE_TOOLS_BETA)];
        for beta in betas.into_iter().flatten() {
            if !params.betas.iter().any(|b| b == beta) {
                params.betas.push(beta.to_owned());
            }
        }
    }
}

/// The changes `messages` make to the model's tools, folded into one
/// `system`-role message, for a history that loses those messages to
/// client-side compaction; `None` when they leave the tools as the
/// request's `tools` declare them (`declared` says whether it declares a
/// name).
///
/// A tool's last change stands for it: a tool added and not removed keeps
/// its last `tool_addition`; a tool removed keeps its `tool_removal` only
/// when it is declared (one added and removed again is gone). The
/// blocks keep the order of those last changes, so a search tool still
/// comes before the deferred tool it finds. Changes naming no tool (an
/// MCP toolset, say) are all kept, in order. The changes of a `compaction`
/// block count as well: they stand for the system messages it summarised.
pub(crate) fn standing_changes(
    messages: &[MessageParam],
    declared: impl Fn(&str) -> bool,
) -> Option<MessageParam> {
    // (tool name, change); a later change of a name replaces the earlier.
    let mut standing: Vec<(Option<String>, Value)> = Vec::new();
    for change in messages.iter().flat_map(changes_in) {
        let name = changed_tool(&change).map(str::to_owned);
        if name.is_some() {
            standing.retain(|(kept, _)| *kept != name);
        }
        standing.push((name, change));
    }
    let changes: Vec<Value> = standing
        .into_iter()
        .filter(|(name, change)| {
            change["type"] != "tool_removal" || name.as_deref().is_none_or(&declared)
        })
        .map(|(_, change)| change)
        .collect();
    (!changes.is_empty()).then(|| system_message(changes))
}

/// One `system`-role message of `changes` (`tool_addition` /
/// `tool_removal` blocks), the shape the API takes them in.
fn system_message(changes: Vec<Value>) -> MessageParam {
    let blocks = changes
        .into_iter()
        .filter_map(|change| OtherBlock::from_json(&change.to_string()).ok())
        .map(ContentBlock::Other)
        .collect();
    MessageParam::blocks(Role::System, blocks)
}

/// The `tool_addition` / `tool_removal` blocks of one message, in order:
/// a `system` message's own, or those a `compaction` block carries.
fn changes_in(message: &MessageParam) -> Vec<Value> {
    let blocks = message.content_blocks();
    let values = blocks.iter().filter_map(|block| match block {
        ContentBlock::Other(other) => Some(other.to_value()),
        _ => None,
    });
    match message.role {
        Role::System => values.filter(is_change).collect(),
        Role::Assistant => values
            .filter(|block| block["type"] == "compaction")
            .filter_map(|block| block.get("tool_changes").and_then(Value::as_array).cloned())
            .flatten()
            .filter(is_change)
            .collect(),
        Role::User => Vec::new(),
    }
}

fn is_change(block: &Value) -> bool {
    matches!(
        block["type"].as_str(),
        Some("tool_addition" | "tool_removal")
    )
}

/// The name of the tool a change is about: a `tool_reference`'s, or an
/// inline definition's; `None` for anything else.
fn changed_tool(change: &Value) -> Option<&str> {
    let tool = &change["tool"];
    match tool["type"].as_str()? {
        "tool_reference" => tool["name"].as_str(),
        "tool_definition" => tool["definition"]["name"].as_str(),
        _ => None,
    }
}

/// The `tool_addition` block defining `definition` inline.
fn addition(definition: Value) -> Value {
    json!({
        "type": "tool_addition",
        "tool": {"type": "tool_definition", "definition": definition},
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::standing_changes;
    use crate::types::MessageParam;

    fn reference(kind: &str, name: &str) -> Value {
        json!({"type": kind, "tool": {"type": "tool_reference", "name": name}})
    }

    #[test]
    fn the_last_change_of_each_tool_stands_and_compaction_blocks_count() {
        let toolset = json!({"type": "tool_addition", "tool": {"type": "mcp_toolset", "mcp_server_name": "docs"}});
        let messages: Vec<MessageParam> = serde_json::from_value(json!([
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "compaction", "content": "Earlier.",
                "tool_changes": [reference("tool_addition", "search"), reference("tool_addition", "old")]}]},
            {"role": "system", "content": [
                reference("tool_removal", "old"), toolset, reference("tool_addition", "lookup")]},
            {"role": "system", "content": [
                reference("tool_removal", "lookup"), reference("tool_removal", "declared"),
                reference("tool_addition", "search")]},
        ]))
        .unwrap();
        let standing = standing_changes(&messages, |name| name == "declared").expect("changes");
        assert_eq!(
            serde_json::to_value(standing).unwrap(),
            json!({"role": "system", "content": [
                toolset, reference("tool_removal", "declared"), reference("tool_addition", "search")]})
        );
        assert_eq!(standing_changes(&messages[..1], |_| true), None);
    }
}
