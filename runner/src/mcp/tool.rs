//! [`McpTool`]: one of an MCP server's tools as a [`Tool`], and how it is
//! named ([`McpToolOptions`], [`InvalidNames`]).

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::{McpClient, McpError};
use crate::tool::{Tool, ToolContext, ToolDefinition, ToolFuture, ToolOutput, is_valid_tool_name};

/// How an MCP server's tools become [`McpTool`]s: a name prefix, what to do
/// with names the Messages API rejects, and a time limit for calls.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use toolrunner::mcp::{InvalidNames, McpToolOptions};
///
/// let options = McpToolOptions::new()
///     .prefix("github_")
///     .invalid_names(InvalidNames::Sanitize)
///     .timeout(Duration::from_secs(60));
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct McpToolOptions {
    prefix: String,
    invalid_names: InvalidNames,
    timeout: Option<Duration>,
}

impl McpToolOptions {
    /// No prefix, invalid names rejected, no time limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `prefix` before every tool's name (`fs_` + `read_file` →
    /// `fs_read_file`), so that tools of several servers, and local tools,
    /// do not clash. Calls still go to the server under the tool's own name.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// What to do with a name (prefix included) that the Messages API
    /// rejects; [`InvalidNames::Reject`] by default.
    pub fn invalid_names(mut self, policy: InvalidNames) -> Self {
        self.invalid_names = policy;
        self
    }

    /// Gives up on a call after `timeout`; the model gets an error result
    /// and the server a cancellation notice. No limit by default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// What to do with an MCP tool whose name (prefix included) does not match
/// the Messages API's `^[a-zA-Z0-9_-]{1,64}$`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidNames {
    /// Fail with an [`McpError::is_invalid_tool_name`] error naming the tool.
    #[default]
    Reject,
    /// Map the name to a valid one: every character outside `a-z A-Z 0-9 _ -`
    /// becomes `_` (`files.read` → `files_read`), and a name longer than 64
    /// characters keeps its first 55 and ends with `_` and 8 hex digits of a
    /// hash of the whole name, so that long names stay distinct. Two tools
    /// that still map to one name are an error. The model sees the mapped
    /// name; the server is called with the original.
    Sanitize,
}

/// One of an MCP server's tools, callable by the model.
///
/// Its definition has the name (with the options' prefix), description and
/// input schema the server gave. A call goes to the server and its result
/// converts as [`mcp_tool_result`](super::mcp_tool_result) says. Failures are
/// error results, never panics: input that is not a JSON object, an error
/// the server answers with, a time-out, and a server that has gone away
/// (every pending and later call then fails).
///
/// Get them from [`McpClient::tools`] or [`McpClient::toolset`], or make one
/// with [`McpTool::new`]. A tool keeps its server's connection open.
pub struct McpTool {
    definition: ToolDefinition,
    remote: rmcp::model::Tool,
    client: McpClient,
    timeout: Option<Duration>,
}

impl McpTool {
    /// The tool `tool`, as listed by `client`'s server.
    ///
    /// # Errors
    ///
    /// When the name (with the options' prefix) is invalid for the Messages
    /// API and the options say [`InvalidNames::Reject`].
    pub fn new(
        client: &McpClient,
        tool: rmcp::model::Tool,
        options: &McpToolOptions,
    ) -> Result<Self, McpError> {
        let name = tool_name(&tool.name, options)?;
        let description = tool.description.as_deref().unwrap_or_default();
        let schema = Value::Object((*tool.input_schema).clone());
        Ok(McpTool {
            definition: ToolDefinition::new(name, description, schema),
            remote: tool,
            client: client.clone(),
            timeout: options.timeout,
        })
    }

    /// The tool's name on its server (without prefix or mapping).
    pub fn remote_name(&self) -> &str {
        &self.remote.name
    }

    /// The tool as the server listed it.
    pub fn mcp_tool(&self) -> &rmcp::model::Tool {
        &self.remote
    }

    /// The server's connection.
    pub fn client(&self) -> &McpClient {
        &self.client
    }
}

impl Tool for McpTool {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, input: Value, cx: ToolContext) -> ToolFuture<'a> {
        Box::pin(async move {
            let arguments = match input {
                Value::Object(map) => Some(map),
                Value::Null => None,
                other => {
                    return ToolOutput::error(format!(
                        "tool `{}` takes a JSON object as input, got {other}",
                        self.definition.name
                    ));
                }
            };
            let cancel = cx.call().cancellation();
            self.client
                .call_tool_output(&self.remote.name, arguments, self.timeout, cancel)
                .await
        })
    }
}

impl fmt::Debug for McpTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpTool")
            .field("name", &self.definition.name)
            .field("remote_name", &self.remote.name)
            .field("server", &self.client.server_name())
            .finish_non_exhaustive()
    }
}

/// The Messages API name of the MCP tool `remote`.
pub(crate) fn tool_name(remote: &str, options: &McpToolOptions) -> Result<String, McpError> {
    let full = format!("{}{remote}", options.prefix);
    if is_valid_tool_name(&full) {
        return Ok(full);
    }
    match options.invalid_names {
        InvalidNames::Reject => Err(McpError::invalid_tool_name(
            full.clone(),
            reject_reason(&full),
        )),
        InvalidNames::Sanitize => sanitize(&full),
    }
}

fn reject_reason(name: &str) -> String {
    const RULE: &str = "names are 1 to 64 of a-z, A-Z, 0-9, `_` and `-`";
    const HINT: &str = "map it with `InvalidNames::Sanitize`";
    if name.is_empty() {
        return format!("the name is empty; {RULE}");
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '_' && *c != '-')
    {
        return format!("`{bad}` is not allowed; {RULE} ({HINT})");
    }
    format!(
        "it is {} characters long; {RULE} (use a shorter prefix, or {HINT})",
        name.len()
    )
}

fn sanitize(name: &str) -> Result<String, McpError> {
    const MAX: usize = 64;
    const KEEP: usize = MAX - 9;
    if name.is_empty() {
        return Err(McpError::invalid_tool_name(
            String::new(),
            reject_reason(name),
        ));
    }
    let mapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if mapped.len() <= MAX {
        return Ok(mapped);
    }
    // Every character of `mapped` is ASCII, so byte offsets are char offsets.
    Ok(format!(
        "{}_{:08x}",
        &mapped[..KEEP],
        fnv1a(name.as_bytes())
    ))
}

/// 32-bit FNV-1a: a small, stable hash, so that a mapped name is the same in
/// every build and on every machine.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(remote: &str, options: &McpToolOptions) -> Result<String, String> {
        tool_name(remote, options).map_err(|e| e.to_string())
    }

    #[test]
    fn valid_names_pass_with_their_prefix() {
        assert_eq!(
            name("read_file", &McpToolOptions::new()).unwrap(),
            "read_file"
        );
        let prefixed = McpToolOptions::new().prefix("fs_");
        assert_eq!(name("read_file", &prefixed).unwrap(), "fs_read_file");
    }

    #[test]
    fn invalid_names_are_rejected_by_default_with_the_reason() {
        assert_eq!(
            name("files.read", &McpToolOptions::new()).unwrap_err(),
            "invalid tool name `files.read`: `.` is not allowed; names are 1 to 64 of a-z, A-Z, 0-9, `_` and `-` (map it with `InvalidNames::Sanitize`)"
        );
        let long = "x".repeat(60);
        let err = name(&long, &McpToolOptions::new().prefix("server_")).unwrap_err();
        assert!(err.contains("it is 67 characters long"), "{err}");
    }

    #[test]
    fn sanitize_maps_characters_and_shortens_long_names_distinctly() {
        let options = McpToolOptions::new().invalid_names(InvalidNames::Sanitize);
        assert_eq!(
            name("files.read/all é", &options).unwrap(),
            "files_read_all__"
        );
        let a = name(&format!("{}a", "x".repeat(70)), &options).unwrap();
        let b = name(&format!("{}b", "x".repeat(70)), &options).unwrap();
        assert_eq!(a.len(), 64);
        assert!(is_valid_tool_name(&a));
        assert_ne!(a, b);
        assert_eq!(a[..55], "x".repeat(55));
        assert!(name("", &options).is_err());
    }
}
