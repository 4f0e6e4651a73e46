//! A tool run as it is under another definition: what a toolset hands out
//! when a caller changes how a tool is declared (its `defer_loading`, say)
//! without touching how it runs.

use std::sync::Arc;

use serde_json::Value;

use super::{Tool, ToolContext, ToolDefinition, ToolFuture};

/// `tool` with its definition's `defer_loading` set to `defer`; `tool`
/// itself when it is already so.
pub(crate) fn with_defer_loading(tool: Arc<dyn Tool>, defer: bool) -> Arc<dyn Tool> {
    if tool.definition().defer_loading == defer {
        return tool;
    }
    let definition = tool.definition().clone().with_defer_loading(defer);
    Arc::new(Redefined { tool, definition })
}

/// A tool run as it is, with another definition.
struct Redefined {
    tool: Arc<dyn Tool>,
    definition: ToolDefinition,
}

impl Tool for Redefined {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, input: Value, cx: ToolContext) -> ToolFuture<'a> {
        self.tool.call(input, cx)
    }
}
