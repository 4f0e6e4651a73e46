//! Built-in client tools: the API's memory tool and text editor, run on
//! your machine and kept inside the directory you give them.
//!
//! Both are [`Tool`](crate::Tool)s: add them to a [`Toolset`](crate::Toolset)
//! next to `#[tool]` functions. The request carries only their type and
//! name (`{"type": "memory_20250818", "name": "memory"}`); the model knows
//! their commands.
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("toolrunner-doc-builtin-{}", std::process::id()));
//! use serde_json::json;
//! use toolrunner::builtin::{MemoryTool, TextEditor};
//! use toolrunner::{tool, toolset, ToolCall, Toolset};
//!
//! /// Add two integers.
//! #[tool]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! let memory = MemoryTool::local(dir.join("memories")).unwrap();
//! let editor = TextEditor::local(dir.join("workspace")).unwrap().with_max_characters(10_000);
//! let tools = toolset![add]
//!     .merge(Toolset::from(memory)).unwrap()
//!     .merge(Toolset::from(editor)).unwrap();
//! assert_eq!(
//!     tools.wire_definitions("code_execution_20260120")[1],
//!     json!({"type": "memory_20250818", "name": "memory"})
//! );
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let input = json!({"command": "create", "path": "/memories/likes.md", "file_text": "coffee\n"});
//! let out = tools.call("memory", input, ToolCall::new("toolu_1")).await;
//! assert_eq!(out.text_content(), "File created successfully at: /memories/likes.md");
//!
//! let input = json!({"command": "view", "path": "/memories/../../etc/passwd"});
//! let out = tools.call("memory", input, ToolCall::new("toolu_2")).await;
//! assert!(out.is_error);
//! assert!(out.text_content().contains("is outside the memory directory"));
//! # });
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! # Confinement
//!
//! A path is refused, with an error result saying it is outside the
//! directory and nothing touched, when its spelling could leave the root
//! (`..` above it, another absolute path, a backslash, a NUL byte,
//! percent-encoding such as `%2e%2e`: see [`MemoryPath`]) or when a
//! symbolic link on the way leads outside (see [`LocalStore`]).

mod commands;
mod local;
mod memory;
mod path;
mod store;
mod text;
mod text_editor;

pub use local::LocalStore;
pub use memory::{MEMORY_TOOL_NAME, MEMORY_TOOL_TYPE, MemoryTool};
pub use path::{MEMORY_ROOT, MemoryPath, PathRefusal};
pub use store::{Entry, EntryKind, MemoryStore, StoreError, WriteMode};
pub use text_editor::{TEXT_EDITOR_NAME, TEXT_EDITOR_TYPE, TextEditor};

/// Size limits of a built-in tool; going over one is an error result that
/// names the limit.
///
/// ```
/// use toolrunner::builtin::Limits;
///
/// let limits = Limits::default().with_max_file_bytes(64 * 1024).with_max_view_chars(20_000);
/// assert_eq!(limits.max_file_bytes, 65_536);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest file read or written, in bytes (default 1 MiB).
    pub max_file_bytes: u64,
    /// The longest view returned, in characters (default 100,000, about
    /// 25,000 tokens).
    pub max_view_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 1024 * 1024,
            max_view_chars: 100_000,
        }
    }
}

impl Limits {
    /// Sets [`max_file_bytes`](Self::max_file_bytes).
    #[must_use]
    pub fn with_max_file_bytes(mut self, bytes: u64) -> Self {
        self.max_file_bytes = bytes;
        self
    }

    /// Sets [`max_view_chars`](Self::max_view_chars).
    #[must_use]
    pub fn with_max_view_chars(mut self, chars: usize) -> Self {
        self.max_view_chars = chars;
        self
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{MemoryTool, TextEditor};
    use crate::{Tool, ToolDefinition};

    #[test]
    fn typed_definitions_send_type_name_and_options_only() {
        let dir = std::env::temp_dir().join(format!("toolrunner-defs-{}", std::process::id()));
        let memory = MemoryTool::local(&dir).unwrap();
        let editor = TextEditor::local(&dir)
            .unwrap()
            .with_max_characters(500)
            .with_cache_control(json!({"type": "ephemeral"}));
        assert_eq!(
            serde_json::to_value(memory.definition()).unwrap(),
            json!({"type": "memory_20250818", "name": "memory"})
        );
        let wire = editor.definition().to_wire("code_execution_20260120");
        assert_eq!(
            wire,
            json!({
                "type": "text_editor_20250728",
                "name": "str_replace_based_edit_tool",
                "max_characters": 500,
                "cache_control": {"type": "ephemeral"}
            })
        );
        // Read back, a typed definition keeps its type and options.
        let back: ToolDefinition = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(back.tool_type.as_deref(), Some("text_editor_20250728"));
        assert_eq!(back.to_wire("code_execution_20260120"), wire);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn custom_definitions_are_unchanged() {
        let def = ToolDefinition::new("add", "Add.", json!({"type": "object"}));
        let wire =
            json!({"name": "add", "description": "Add.", "input_schema": {"type": "object"}});
        assert_eq!(serde_json::to_value(&def).unwrap(), wire);
        let mut tagged = wire.clone();
        tagged["type"] = json!("custom");
        let back: ToolDefinition = serde_json::from_value(tagged).unwrap();
        assert_eq!(back, def);
        let missing: Result<ToolDefinition, _> = serde_json::from_value(json!({"name": "x"}));
        assert!(missing.unwrap_err().to_string().contains("input_schema"));
    }
}
