//! What the model reads after a program: its printed output and the value
//! of its last expression, each under a label, or the error that ended it.

use std::fmt::Write as _;

use monty_types::{ExcType, MontyObject};

use super::convert::object_to_json_text;
use super::limits::{Limits, Stop};
use super::link::{Ending, Outcome};
use crate::tool::ToolOutput;

/// The label over the printed output.
pub(crate) const OUTPUT_LABEL: &str = "Printed output:";
/// The label over the last value, in JSON.
pub(crate) const VALUE_LABEL: &str = "Last expression (JSON):";

/// The `run_code` result for `outcome`: an error result unless the program
/// ran to its end.
pub(crate) fn render(outcome: &Outcome, limits: &Limits) -> ToolOutput {
    let mut sections: Vec<String> = Vec::new();
    let output = outcome.output.strip_suffix('\n').unwrap_or(&outcome.output);
    if !outcome.output.is_empty() {
        let label = match outcome.ending {
            Ending::Stopped(Stop::Output) => {
                format!("Printed output (cut at {} bytes):", limits.max_output_bytes)
            }
            _ => OUTPUT_LABEL.to_owned(),
        };
        sections.push(format!("{label}\n{output}"));
    }
    match &outcome.ending {
        Ending::Value(MontyObject::None) => {
            if sections.is_empty() {
                sections.push(
                    "The program printed nothing, and its last expression is None.".to_owned(),
                );
            }
        }
        Ending::Value(value) => sections.push(match object_to_json_text(value) {
            Ok(json) => format!("{VALUE_LABEL}\n{json}"),
            Err(why) => format!(
                "Last expression (Python repr; it has no JSON form: {}):\n{}",
                why.0,
                value.py_repr()
            ),
        }),
        Ending::Raised(exc) => {
            let mut text = format!("Error:\n{}", exc.to_string().trim_end());
            match exc.exc_type() {
                ExcType::RecursionError => {
                    let _ = write!(
                        text,
                        "\n(The sandbox allows at most {} nested calls.)",
                        limits.max_recursion_depth
                    );
                }
                ExcType::MemoryError => {
                    let _ = write!(
                        text,
                        "\n(The sandbox refuses values larger than {} bytes.)",
                        limits.max_allocation_bytes
                    );
                }
                _ => {}
            }
            sections.push(text);
        }
        Ending::Stopped(stop) => sections.push(format!("Error: {}", stop.message(limits))),
    }
    let text = sections.join("\n\n");
    match outcome.ending {
        Ending::Value(_) => ToolOutput::text(text),
        Ending::Raised(_) | Ending::Stopped(_) => ToolOutput::error(text),
    }
}

#[cfg(test)]
mod tests {
    use monty_types::MontyException;

    use super::*;

    fn outcome(output: &str, ending: Ending) -> Outcome {
        Outcome {
            output: output.to_owned(),
            ending,
            tool_calls: 0,
        }
    }

    #[test]
    fn output_and_value_are_labelled() {
        let limits = Limits::default();
        let value = MontyObject::dict(vec![(MontyObject::String("a".into()), MontyObject::Int(1))]);
        let out = render(&outcome("hi\n", Ending::Value(value)), &limits);
        assert!(!out.is_error);
        assert_eq!(
            out.text_content(),
            "Printed output:\nhi\n\nLast expression (JSON):\n{\"a\": 1}"
        );

        let out = render(&outcome("", Ending::Value(MontyObject::None)), &limits);
        assert_eq!(
            out.text_content(),
            "The program printed nothing, and its last expression is None."
        );

        let set = MontyObject::Set(vec![MontyObject::Int(1)]);
        let out = render(&outcome("", Ending::Value(set)), &limits);
        assert_eq!(
            out.text_content(),
            "Last expression (Python repr; it has no JSON form: Object of type set is not JSON serializable):\n{1}"
        );
    }

    #[test]
    fn errors_are_error_results() {
        let limits = Limits::default();
        let exc = MontyException::new(ExcType::ValueError, Some("bad".into()));
        let out = render(&outcome("", Ending::Raised(exc)), &limits);
        assert!(out.is_error);
        assert_eq!(out.text_content(), "Error:\nValueError: bad");

        let out = render(&outcome("x", Ending::Stopped(Stop::Output)), &limits);
        assert!(out.is_error);
        assert!(
            out.text_content()
                .starts_with("Printed output (cut at 20000 bytes):\nx\n\nError: ")
        );
    }
}
