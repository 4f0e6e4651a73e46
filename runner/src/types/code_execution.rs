//! A typed view of the API's code-execution runs, gathered from a conversation.
//!
//! The result blocks stay [`ContentBlock::Other`] in messages, so they are
//! sent back exactly as received; this module reads them without changing them.

use serde_json::Value;

use super::content::{ContentBlock, ToolUseBlock};

/// One run of code in the API's code-execution container: the code, what it
/// printed, how it ended, and the client tools it called.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CodeExecution {
    /// The id of the `server_tool_use` block that ran the code (`srvtoolu_...`).
    pub id: String,
    /// The server tool: `code_execution`, `bash_code_execution`,
    /// `text_editor_code_execution`.
    pub tool: String,
    /// The code (or shell command) that ran, when the input has one.
    pub code: Option<String>,
    /// The server tool's whole input.
    pub input: Value,
    /// How the run ended; `None` while it is still running (its tool calls
    /// pending, or the turn paused).
    pub outcome: Option<CodeExecutionOutcome>,
    /// The client tool calls the code made, in order.
    pub tool_calls: Vec<ToolUseBlock>,
}

/// How a code-execution run ended.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CodeExecutionOutcome {
    /// The code ran to its end.
    Finished {
        /// Standard output.
        stdout: String,
        /// Standard error.
        stderr: String,
        /// The process's exit status; anything but 0 is a failure.
        return_code: i64,
        /// Ids of the files the run wrote (download them with the Files API).
        file_ids: Vec<String>,
    },
    /// The code ran to its end, with standard output encrypted: the API sends
    /// `encrypted_code_execution_result` instead of `code_execution_result`
    /// when the code called the web search tool.
    Encrypted {
        /// Standard output, encrypted; only the model can read it.
        encrypted_stdout: String,
        /// Standard error.
        stderr: String,
        /// The process's exit status; anything but 0 is a failure.
        return_code: i64,
        /// Ids of the files the run wrote.
        file_ids: Vec<String>,
    },
    /// The container could not run the code: `unavailable`,
    /// `execution_time_exceeded`, `container_expired`, `invalid_tool_input`,
    /// `too_many_requests`, `output_file_too_large`, or a code this crate
    /// does not know yet.
    Error {
        /// The error code, as sent.
        error_code: String,
    },
    /// A result of a shape this crate does not read (a text-editor result,
    /// say), as received.
    Other(Value),
}

impl CodeExecution {
    /// Whether the run failed: a non-zero return code or an error result,
    /// whatever the model says about it.
    pub fn is_failure(&self) -> bool {
        match &self.outcome {
            Some(
                CodeExecutionOutcome::Finished { return_code, .. }
                | CodeExecutionOutcome::Encrypted { return_code, .. },
            ) => *return_code != 0,
            Some(CodeExecutionOutcome::Error { .. }) => true,
            Some(CodeExecutionOutcome::Other(_)) | None => false,
        }
    }

    /// Whether the run has not finished yet.
    pub fn is_pending(&self) -> bool {
        self.outcome.is_none()
    }

    /// The ids of the files the run wrote (charts, reports, data), empty
    /// for a run that wrote none or has not finished. Their metadata and
    /// content come from the Files API: [`Files::metadata`](crate::Files::metadata),
    /// [`Files::download_to_dir`](crate::Files::download_to_dir), or all
    /// of a run's at once with
    /// [`ToolRunner::download_artifacts`](crate::ToolRunner::download_artifacts).
    ///
    /// # Examples
    ///
    /// ```
    /// use toolrunner::types::{ContentBlock, code_executions};
    ///
    /// let blocks: Vec<ContentBlock> = serde_json::from_str(r#"[
    ///   {"type": "server_tool_use", "id": "srvtoolu_1", "name": "code_execution", "input": {"code": "plot()"}},
    ///   {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_1", "content": {
    ///     "type": "code_execution_result", "stdout": "", "stderr": "", "return_code": 0,
    ///     "content": [{"type": "code_execution_output", "file_id": "file_chart"}]}}
    /// ]"#)?;
    /// assert_eq!(code_executions(&blocks)[0].output_files(), ["file_chart"]);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn output_files(&self) -> &[String] {
        match &self.outcome {
            Some(
                CodeExecutionOutcome::Finished { file_ids, .. }
                | CodeExecutionOutcome::Encrypted { file_ids, .. },
            ) => file_ids,
            _ => &[],
        }
    }

    /// The error code of a run that ended in an error result.
    pub fn error_code(&self) -> Option<&str> {
        match &self.outcome {
            Some(CodeExecutionOutcome::Error { error_code }) => Some(error_code),
            _ => None,
        }
    }
}

/// The server tools that run code in the container.
fn is_code_tool(name: &str) -> bool {
    matches!(
        name,
        "code_execution" | "bash_code_execution" | "text_editor_code_execution"
    )
}

/// Every code-execution run in `blocks` (the content of a conversation's
/// messages, in order), with its outcome and tool calls.
pub fn code_executions<'a>(
    blocks: impl IntoIterator<Item = &'a ContentBlock>,
) -> Vec<CodeExecution> {
    let mut runs: Vec<CodeExecution> = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::ServerToolUse(call) if is_code_tool(&call.name) => {
                let code = ["code", "command"]
                    .iter()
                    .find_map(|key| call.input.get(*key).and_then(Value::as_str))
                    .map(str::to_owned);
                runs.push(CodeExecution {
                    id: call.id.clone(),
                    tool: call.name.clone(),
                    code,
                    input: call.input.clone(),
                    outcome: None,
                    tool_calls: Vec::new(),
                });
            }
            ContentBlock::ToolUse(call) => {
                let Some(tool_id) = call.caller.as_ref().and_then(|c| c.tool_id.as_deref()) else {
                    continue;
                };
                if let Some(run) = runs.iter_mut().rev().find(|r| r.id == tool_id) {
                    run.tool_calls.push(call.clone());
                }
            }
            ContentBlock::Other(other) if other.kind().ends_with("code_execution_tool_result") => {
                let value = other.to_value();
                let Some(id) = value.get("tool_use_id").and_then(Value::as_str) else {
                    continue;
                };
                if let Some(run) = runs.iter_mut().rev().find(|r| r.id == id) {
                    run.outcome = Some(read_outcome(
                        value.get("content").cloned().unwrap_or(Value::Null),
                    ));
                }
            }
            _ => {}
        }
    }
    runs
}

fn read_outcome(content: Value) -> CodeExecutionOutcome {
    let kind = content
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind.ends_with("_tool_result_error") {
        let error_code = content
            .get("error_code")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        return CodeExecutionOutcome::Error { error_code };
    }
    let text = |key: &str| {
        content
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let return_code = content
        .get("return_code")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if kind == "encrypted_code_execution_result" {
        return CodeExecutionOutcome::Encrypted {
            encrypted_stdout: text("encrypted_stdout"),
            stderr: text("stderr"),
            return_code,
            file_ids: output_file_ids(&content),
        };
    }
    if kind == "code_execution_result" || kind == "bash_code_execution_result" {
        return CodeExecutionOutcome::Finished {
            stdout: text("stdout"),
            stderr: text("stderr"),
            return_code,
            file_ids: output_file_ids(&content),
        };
    }
    CodeExecutionOutcome::Other(content)
}

/// The ids of the files listed in a result's `content`.
fn output_file_ids(content: &Value) -> Vec<String> {
    content
        .get("content")
        .and_then(Value::as_array)
        .map(|outputs| {
            outputs
                .iter()
                .filter_map(|o| o.get("file_id").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn blocks(json: Value) -> Vec<ContentBlock> {
        serde_json::from_value(json).expect("blocks")
    }

    #[test]
    fn gathers_code_output_and_tool_calls() {
        let content = blocks(json!([
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "code_execution", "input": {"code": "print(1)"}},
            {"type": "tool_use", "id": "toolu_1", "name": "query", "input": {}, "caller": {"type": "code_execution_20260120", "tool_id": "srvtoolu_1"}},
            {"type": "tool_use", "id": "toolu_2", "name": "direct_one", "input": {}},
            {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_1", "content": {
                "type": "code_execution_result", "stdout": "1\n", "stderr": "", "return_code": 0,
                "content": [{"type": "code_execution_output", "file_id": "file_1"}]}},
            {"type": "server_tool_use", "id": "srvtoolu_2", "name": "code_execution", "input": {"code": "1/0"}},
            {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_2", "content": {
                "type": "code_execution_result", "stdout": "", "stderr": "ZeroDivisionError", "return_code": 1, "content": []}},
            {"type": "server_tool_use", "id": "srvtoolu_3", "name": "code_execution", "input": {"code": "x"}},
            {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_3", "content": {
                "type": "code_execution_tool_result_error", "error_code": "container_expired"}},
            {"type": "server_tool_use", "id": "srvtoolu_4", "name": "code_execution", "input": {"code": "pending()"}}
        ]));
        let runs = code_executions(&content);
        assert_eq!(runs.len(), 4);
        assert_eq!(runs[0].code.as_deref(), Some("print(1)"));
        assert_eq!(runs[0].tool_calls.len(), 1);
        assert_eq!(runs[0].tool_calls[0].id, "toolu_1");
        assert_eq!(
            runs[0].outcome,
            Some(CodeExecutionOutcome::Finished {
                stdout: "1\n".into(),
                stderr: String::new(),
                return_code: 0,
                file_ids: vec!["file_1".into()]
            })
        );
        assert!(!runs[0].is_failure());
        assert!(runs[1].is_failure());
        assert!(runs[2].is_failure());
        assert_eq!(runs[2].error_code(), Some("container_expired"));
        assert!(runs[3].is_pending());
        assert!(!runs[3].is_failure());
    }
}
