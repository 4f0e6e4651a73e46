//! Programmatic tool calling through the API's code-execution tool: what
//! `allowed_callers = ["code"]` means on the wire, the code-execution tool
//! the runner adds for it, and the checks a request must pass first.

use serde_json::{Value, json};

use crate::error::Error;
use crate::tool::{DEFAULT_CODE_EXECUTION, ToolDefinition, is_code_execution_version};
use crate::toolset::Toolset;
use crate::types::{Content, ContentBlock, MessageParam, MessageParams, Role};

/// What a request needs for programmatic calling.
#[derive(Debug, PartialEq)]
pub(crate) struct CodeSetup {
    /// The version that `"code"` callers are written as.
    pub(crate) version: String,
    /// The code-execution tool to add, when the request needs one and lacks it.
    pub(crate) added_tool: Option<Value>,
    /// Beta headers the added tool needs.
    pub(crate) betas: &'static [&'static str],
}

/// The `type` of a code-execution tool the user declared, if any.
fn declared_code_tool(params: &MessageParams) -> Option<&str> {
    params
        .tools
        .iter()
        .filter_map(|tool| tool.get("type").and_then(Value::as_str))
        .find(|kind| is_code_execution_version(kind))
}

/// Whether some tool of the toolset may be called from code.
fn has_code_callers(toolset: &Toolset) -> bool {
    toolset.definitions().any(ToolDefinition::allows_code)
}

/// Decides the code-execution version and tool for the next request.
///
/// `"code"` stands for the runner's configured version; without one, for
/// the version of a code-execution tool the user declared (which is left
/// alone); without that, for [`DEFAULT_CODE_EXECUTION`], and the tool is added.
pub(crate) fn setup(
    params: &MessageParams,
    toolset: &Toolset,
    configured: Option<&str>,
) -> CodeSetup {
    let declared = declared_code_tool(params);
    let version = configured
        .or(declared)
        .unwrap_or(DEFAULT_CODE_EXECUTION)
        .to_owned();
    if declared.is_some() || !has_code_callers(toolset) {
        return CodeSetup {
            version,
            added_tool: None,
            betas: &[],
        };
    }
    let betas: &'static [&'static str] = match version.as_str() {
        // The first code-execution version was a beta, and calling tools
        // from it needed the advanced tool use beta as well.
        "code_execution_20250825" => &["code-execution-2025-08-25", "advanced-tool-use-2025-11-20"],
        _ => &[],
    };
    CodeSetup {
        added_tool: Some(json!({"type": version, "name": "code_execution"})),
        version,
        betas,
    }
}

/// Says, at debug level, that the runner adds `tool` (the code-execution
/// tool) to its requests, and which tools made it: nothing the user wrote
/// names it, so a request carrying it would otherwise be a surprise.
pub(crate) fn log_added_tool(tool: &Value, toolset: &Toolset) {
    let callers: Vec<&str> = toolset
        .definitions()
        .filter(|def| def.allows_code())
        .map(|def| def.name.as_str())
        .collect();
    let version = tool.get("type").and_then(Value::as_str).unwrap_or_default();
    tracing::debug!(
        tool = %version,
        callable_from_code = ?callers,
        "adding the code-execution tool to requests, for tools callable from code (programmatic tool calling)"
    );
}

/// Checks what the API would reject about programmatic calling, before
/// anything is sent.
///
/// # Errors
///
/// An invalid-request error naming the tool or field at fault.
pub(crate) fn validate(params: &MessageParams, toolset: &Toolset) -> Result<(), Error> {
    for def in toolset.definitions() {
        if def.strict && def.allows_code() {
            return Err(Error::invalid_request(format!(
                "tool `{}` is `strict` and callable from code; programmatic tool calling does not allow `strict: true` on such tools: drop `strict` or the \"code\" caller",
                def.name
            )));
        }
    }
    for raw in &params.tools {
        let from_code = raw
            .get("allowed_callers")
            .and_then(Value::as_array)
            .is_some_and(|c| {
                c.iter()
                    .filter_map(Value::as_str)
                    .any(is_code_execution_version)
            });
        if from_code && raw.get("strict") == Some(&Value::Bool(true)) {
            return Err(Error::invalid_request(format!(
                "tool `{}` is `strict` and callable from code; programmatic tool calling does not allow `strict: true` on such tools",
                raw.get("name").and_then(Value::as_str).unwrap_or("?")
            )));
        }
    }

    let any_code = has_code_callers(toolset) || params.tools.iter().any(raw_allows_code);
    if let Some(choice) = &params.tool_choice {
        if any_code && choice.disables_parallel_tool_use() {
            return Err(Error::invalid_request(
                "`tool_choice.disable_parallel_tool_use` cannot be used with tools callable from code (programmatic tool calling)",
            ));
        }
        if choice.kind() == Some("tool") {
            let name = choice.tool_name().unwrap_or_default();
            let direct = match toolset.get(name) {
                Some(tool) => tool.definition().allows_direct(),
                None => params
                    .tools
                    .iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
                    .is_none_or(raw_allows_direct),
            };
            if !direct {
                return Err(Error::invalid_request(format!(
                    "`tool_choice` forces tool `{name}`, which the model may not call directly (its allowed callers lack \"direct\")"
                )));
            }
        }
    }
    validate_pending_answers(&params.messages)
}

fn raw_allows_code(tool: &Value) -> bool {
    tool.get("allowed_callers")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .filter_map(Value::as_str)
                .any(is_code_execution_version)
        })
}

fn raw_allows_direct(tool: &Value) -> bool {
    match tool.get("allowed_callers").and_then(Value::as_array) {
        None => true,
        Some(callers) => callers.iter().any(|c| c == "direct"),
    }
}

/// When the last assistant turn has calls from code waiting, the message
/// answering it may hold only `tool_result` blocks, one for each of them.
fn validate_pending_answers(messages: &[MessageParam]) -> Result<(), Error> {
    let [.., assistant, answer] = messages else {
        return Ok(());
    };
    if assistant.role != Role::Assistant || answer.role != Role::User {
        return Ok(());
    }
    let Content::Blocks(blocks) = &assistant.content else {
        return Ok(());
    };
    let pending: Vec<&str> = blocks
        .iter()
        .filter_map(ContentBlock::as_tool_use)
        .filter(|call| call.caller().is_code())
        .map(|call| call.id.as_str())
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let answer_blocks = answer.content_blocks();
    if let Some(other) = answer_blocks.iter().find(|b| b.as_tool_result().is_none()) {
        return Err(Error::invalid_request(format!(
            "the last message answers tool calls made from code, so it may hold only `tool_result` blocks, but it has a `{}` block",
            other.kind()
        )));
    }
    for id in pending {
        if !answer_blocks
            .iter()
            .filter_map(ContentBlock::as_tool_result)
            .any(|r| r.tool_use_id == id)
        {
            return Err(Error::invalid_request(format!(
                "the tool call `{id}` made from code has no `tool_result` in the last message"
            )));
        }
    }
    Ok(())
}
