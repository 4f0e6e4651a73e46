//! Checking a tool's input against its own input schema, so that the model
//! hears about every broken rule at once, each with the path of the value
//! at fault, and so that nested objects are as closed as the schema says.
//!
//! serde stops at the first error inside a value and ignores unknown fields
//! of nested structs that do not deny them; the schema knows better. What
//! the schema cannot express is still caught by serde when the tool reads
//! its arguments.

use std::fmt;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use jsonschema::{ValidationError, Validator};
use serde_json::{Map, Value};

use super::args::kind_of;

/// At most this many problems are listed; the rest are counted.
const MAX_ERRORS: usize = 20;

/// A problem's message is cut to about this many characters: it may quote a
/// long value.
const MAX_MESSAGE_CHARS: usize = 300;

/// A tool's input schema, compiled on first use. A clone starts without
/// one, so that a clone whose schema is changed never checks against the
/// old schema.
#[derive(Default)]
pub(crate) struct InputValidator(OnceLock<Option<Validator>>);

impl InputValidator {
    /// Every problem of `input` under `schema`, as `path: problem`.
    pub(crate) fn errors(&self, tool: &str, schema: &Value, input: &Value) -> Vec<String> {
        let Some(validator) = self.0.get_or_init(|| compile(tool, schema)) else {
            return Vec::new();
        };
        let empty;
        let input = if input.is_null() {
            empty = Value::Object(Map::new());
            &empty
        } else {
            input
        };
        // The common case, an input that is fine, costs one pass and no allocation.
        if validator.is_valid(input) {
            return Vec::new();
        }
        let mut problems = Vec::new();
        for error in validator.iter_errors(input) {
            if is_null_for_absent(schema, &error) {
                continue;
            }
            describe(schema, &error, &mut problems);
        }
        problems.dedup();
        if problems.len() > MAX_ERRORS {
            let more = problems.len() - MAX_ERRORS;
            problems.truncate(MAX_ERRORS);
            problems.push(format!("... and {more} more"));
        }
        problems
    }
}

fn compile(tool: &str, schema: &Value) -> Option<Validator> {
    match jsonschema::options().build(schema) {
        Ok(validator) => Some(validator),
        Err(error) => {
            tracing::warn!(tool, %error, "the tool's input schema does not compile; its inputs are not checked against it");
            None
        }
    }
}

impl Clone for InputValidator {
    fn clone(&self) -> Self {
        InputValidator::default()
    }
}

impl PartialEq for InputValidator {
    /// A cache: two definitions are equal whatever it holds.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for InputValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.0.get() {
            None => "not compiled yet",
            Some(Some(_)) => "compiled",
            Some(None) => "schema does not compile",
        };
        f.write_str(state)
    }
}

/// Whether `error` is about a `null` given for a parameter that is not
/// required: tools read that as the parameter left out (its default), so
/// the schema's type is not held against it.
fn is_null_for_absent(schema: &Value, error: &ValidationError<'_>) -> bool {
    if !error.instance().is_null() {
        return false;
    }
    let mut segments = error.instance_path().iter();
    let (Some(LocationSegment::Property(name)), None) = (segments.next(), segments.next()) else {
        return false;
    };
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|required| required.iter().any(|r| r.as_str() == Some(&*name)));
    !required
}

/// Adds the problems `error` stands for to `out`.
fn describe(schema: &Value, error: &ValidationError<'_>, out: &mut Vec<String>) {
    let path = instance_path(error);
    match error.kind() {
        // The input itself is not an object: say so plainly.
        ValidationErrorKind::Type { .. } if path.is_empty() && !error.instance().is_object() => {
            out.push(format!(
                "expected a JSON object, got {}",
                kind_of(error.instance().as_ref())
            ));
        }
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            out.push(format!("{}: missing required field", join(&path, &name)));
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let expected = expected_properties(schema, error, path.is_empty());
            for name in unexpected {
                out.push(format!("{}: unknown field{expected}", join(&path, name)));
            }
        }
        // An `anyOf` / `oneOf` that failed says only that; when exactly one
        // of its branches fits the value's kind (the struct of an
        // `Option<Struct>`, say), that branch's problems say much more.
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            let fitting: Vec<&Vec<ValidationError<'static>>> = context
                .iter()
                .filter(|branch| !is_wrong_kind(branch, error))
                .collect();
            match fitting.as_slice() {
                [only] => only.iter().for_each(|inner| describe(schema, inner, out)),
                _ => out.push(located(&path, &error.to_string())),
            }
        }
        _ => out.push(located(&path, &error.to_string())),
    }
}

/// Whether a branch failed only because the value is of another type.
fn is_wrong_kind(branch: &[ValidationError<'static>], parent: &ValidationError<'_>) -> bool {
    match branch {
        [single] => {
            matches!(
                single.kind(),
                ValidationErrorKind::Type { .. } | ValidationErrorKind::Constant { .. }
            ) && single.instance_path() == parent.instance_path()
        }
        _ => false,
    }
}

/// The value's path in the style of the tool's argument errors:
/// `order.items[2].name`; empty for the input itself.
fn instance_path(error: &ValidationError<'_>) -> String {
    let mut path = String::new();
    for segment in error.instance_path().iter() {
        match segment {
            LocationSegment::Property(name) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&name);
            }
            LocationSegment::Index(index) => {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
        }
    }
    path
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// `path: message`, with the message cut when it quotes a long value.
fn located(path: &str, message: &str) -> String {
    let path = if path.is_empty() { "input" } else { path };
    let mut message = message.to_owned();
    if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(cut);
        message.push_str("...");
    }
    format!("{path}: {message}")
}

/// `, expected one of `a`, `b`` for an unknown field: the properties of the
/// object schema the error comes from, when it can be found.
fn expected_properties(schema: &Value, error: &ValidationError<'_>, at_root: bool) -> String {
    let pointer = error.schema_path().as_str();
    let Some(object) = pointer
        .strip_suffix("/additionalProperties")
        .and_then(|parent| schema.pointer(parent))
    else {
        return String::new();
    };
    let Some(properties) = object.get("properties").and_then(Value::as_object) else {
        return String::new();
    };
    let names: Vec<String> = properties.keys().map(|k| format!("`{k}`")).collect();
    match names.as_slice() {
        [] if at_root => ", this tool takes no input".to_owned(),
        [] => ", this object takes no fields".to_owned(),
        [only] => format!(", expected {only}"),
        _ => format!(", expected one of {}", names.join(", ")),
    }
}
