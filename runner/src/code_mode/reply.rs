//! A tool's answer to a call from a program, as it travels from the host to
//! the interpreter (in process, or over a worker's pipe), and as the program
//! receives it.

use monty_types::MontyObject;
use serde::{Deserialize, Serialize};

use super::convert::parse_json;
use crate::tool::ToolOutput;

/// What a tool answered, reduced to what code can receive. JSON text is
/// parsed on the interpreter's side, within its memory limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Reply {
    /// Text, which the program gets as the JSON value it holds, or as a `str`.
    Text(String),
    /// No content: `None`.
    Empty,
    /// The call failed, with this message; the tool's wrapper raises it as
    /// `RuntimeError`.
    Failed(String),
}

impl Reply {
    /// The reply to a call of `tool` that returned `output`.
    pub(crate) fn from_output(tool: &str, output: ToolOutput) -> Self {
        if output.is_error {
            return Reply::Failed(output.text_content());
        }
        if output.has_non_text() {
            let mut kinds: Vec<&str> = output
                .content
                .iter()
                .filter(|b| b.as_text().is_none())
                .map(|b| b.kind())
                .collect();
            kinds.dedup();
            return Reply::Failed(format!(
                "tool `{tool}` returned {} content, which code cannot receive; only text reaches code",
                kinds.join(" and ")
            ));
        }
        if output.content.is_empty() {
            return Reply::Empty;
        }
        Reply::Text(output.text_content())
    }

    /// The value the program receives: JSON text as the value it holds,
    /// other text as a `str`, and a failure as a one-element tuple with its
    /// message, which the tool's wrapper raises (see [`super::session`]).
    pub(crate) fn into_python(self) -> MontyObject {
        match self {
            Reply::Text(text) => parse_json(&text).unwrap_or(MontyObject::String(text)),
            Reply::Empty => MontyObject::None,
            Reply::Failed(message) => MontyObject::Tuple(vec![MontyObject::String(message)]),
        }
    }
}
