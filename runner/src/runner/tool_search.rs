//! Large toolsets: tools loaded on demand through the API's tool search.
//!
//! A tool with `defer_loading` is declared but not put in front of the
//! model; the model finds it with a tool-search tool, whose results
//! (`tool_reference` blocks) load the definitions it asked for. When some
//! tool is deferred and the request declares no search tool, the runner
//! declares one, so that deferring is all a caller has to do. A deferred
//! tool added mid-run brings the search tool along in the same
//! `tool_addition` message when `tools` offers none (see `tool_changes`).

use serde_json::{Value, json};

use crate::toolset::Toolset;
use crate::types::MessageParams;

/// The tool search the runner declares when some tool is deferred, for
/// [`ToolRunner::tool_search`](crate::ToolRunner::tool_search).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolSearch {
    /// `tool_search_tool_regex_20251119`: the model searches names and
    /// descriptions with a regular expression (the default).
    #[default]
    Regex,
    /// `tool_search_tool_bm25_20251119`: the model searches in natural
    /// language.
    Bm25,
}

impl ToolSearch {
    /// The tool's definition, as sent in `tools`.
    pub(crate) fn definition(self) -> Value {
        match self {
            ToolSearch::Regex => {
                json!({"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"})
            }
            ToolSearch::Bm25 => {
                json!({"type": "tool_search_tool_bm25_20251119", "name": "tool_search_tool_bm25"})
            }
        }
    }
}

/// The search tool to declare for a request: `None` when no tool is
/// deferred, or when the parameters declare a search tool already.
pub(crate) fn search_tool(
    search: ToolSearch,
    params: &MessageParams,
    toolset: &Toolset,
) -> Option<Value> {
    (has_deferred(params, toolset) && !declares_search(params)).then(|| search.definition())
}

/// Whether the `tools` a request for `params` and `toolset` sends offer a
/// search tool: one the parameters declare, or the one the runner adds
/// for a deferred tool.
pub(crate) fn in_tools(params: &MessageParams, toolset: &Toolset) -> bool {
    declares_search(params) || has_deferred(params, toolset)
}

fn declares_search(params: &MessageParams) -> bool {
    params.tools.iter().any(|tool| {
        tool["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("tool_search_tool_"))
    })
}

fn has_deferred(params: &MessageParams, toolset: &Toolset) -> bool {
    toolset.definitions().any(|d| d.defer_loading)
        || params.tools.iter().any(|t| t["defer_loading"] == true)
}
