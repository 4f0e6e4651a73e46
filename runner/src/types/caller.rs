//! [`Caller`]: who asked for a tool call.

/// Who asked for a tool call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Caller {
    /// The model called the tool itself, with a `tool_use` block.
    Direct,
    /// Code the model wrote, running in the API's code-execution container,
    /// called the tool.
    CodeExecution {
        /// The code-execution tool version, e.g. `code_execution_20260120`.
        version: String,
        /// The id of the `server_tool_use` block running the code.
        tool_id: String,
    },
    /// Code the model wrote, running in the client-side sandbox (code mode),
    /// called the tool.
    CodeMode,
}

impl Caller {
    /// Whether the model called the tool directly.
    pub fn is_direct(&self) -> bool {
        matches!(self, Caller::Direct)
    }

    /// Whether code the model wrote called the tool, on the server or in code mode.
    pub fn is_code(&self) -> bool {
        !self.is_direct()
    }
}

impl std::fmt::Display for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Caller::Direct => f.write_str("direct"),
            Caller::CodeExecution { version, tool_id } => write!(f, "{version} ({tool_id})"),
            Caller::CodeMode => f.write_str("code mode"),
        }
    }
}
