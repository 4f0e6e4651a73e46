//! What the loop logs about code-execution runs.

use crate::types::{CodeExecution, CodeExecutionOutcome};

/// Logs a code-execution run that has finished.
pub(super) fn code_execution(run: &CodeExecution) {
    match &run.outcome {
        Some(CodeExecutionOutcome::Finished {
            return_code,
            stdout,
            stderr,
            file_ids,
        }) if *return_code == 0 => tracing::info!(
            id = %run.id,
            tool_calls = run.tool_calls.len(),
            stdout_bytes = stdout.len(),
            stderr_bytes = stderr.len(),
            files = file_ids.len(),
            "code execution finished"
        ),
        Some(CodeExecutionOutcome::Finished {
            return_code,
            stderr,
            ..
        }) => tracing::warn!(id = %run.id, return_code, stderr = %stderr, "code execution failed"),
        Some(CodeExecutionOutcome::Encrypted {
            return_code,
            stderr,
            ..
        }) if *return_code != 0 => {
            tracing::warn!(id = %run.id, return_code, stderr = %stderr, "code execution failed")
        }
        Some(CodeExecutionOutcome::Encrypted { file_ids, .. }) => tracing::info!(
            id = %run.id,
            tool_calls = run.tool_calls.len(),
            files = file_ids.len(),
            "code execution finished (output encrypted)"
        ),
        Some(CodeExecutionOutcome::Error { error_code }) => {
            tracing::warn!(id = %run.id, error_code = %error_code, "code execution failed")
        }
        Some(CodeExecutionOutcome::Other(_)) | None => {}
    }
}
