//! Reading a tool's arguments out of the model's JSON input.
//!
//! Generated code for `#[tool]` functions calls this; every field's error is
//! collected, so the model sees all of its mistakes in one result.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ToolOutput;

/// Takes a tool's arguments from its JSON input, one parameter at a time,
/// and collects every error with the path of the field at fault.
///
/// ```
/// use serde_json::json;
/// use toolrunner::ArgsReader;
///
/// let mut args = ArgsReader::new("add", json!({"a": 1, "b": "x"}), &["a", "b"]).unwrap();
/// let a: Option<i64> = args.required("a");
/// let b: Option<i64> = args.required("b");
/// assert_eq!((a, b), (Some(1), None));
/// let err = args.finish().unwrap_err();
/// assert!(err.text_content().contains(r#"b: invalid type: string "x", expected i64"#));
/// ```
#[derive(Debug)]
pub struct ArgsReader {
    tool: &'static str,
    /// The input object. Values are taken out in place (leaving `null`),
    /// found by comparing keys: on this hot path of every call, that beats
    /// hashing keys or moving values into a new collection.
    map: Map<String, Value>,
    errors: Vec<String>,
}

impl ArgsReader {
    /// Starts reading `input` for the tool `tool`, whose parameters are `params`.
    /// Fields of the input that are not parameters are errors.
    ///
    /// # Errors
    ///
    /// An error result when `input` is not a JSON object (`null` reads as an
    /// empty object).
    pub fn new(
        tool: &'static str,
        input: Value,
        params: &'static [&'static str],
    ) -> Result<Self, ToolOutput> {
        let map = match input {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(ToolOutput::error(format!(
                    "invalid input for tool `{tool}`: expected a JSON object, got {}",
                    kind_of(&other)
                )));
            }
        };
        let mut errors = Vec::new();
        for key in map.keys() {
            if !params.contains(&key.as_str()) {
                errors.push(unknown_field(key, params));
            }
        }
        Ok(ArgsReader { tool, map, errors })
    }

    /// Takes the input's value for `name`, if it has one. Each parameter is
    /// taken once, so the `null` left behind is never read.
    fn take(&mut self, name: &str) -> Option<Value> {
        self.map
            .iter_mut()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| std::mem::take(value))
    }

    /// Takes a required parameter. `None` means it was missing or invalid;
    /// the error is recorded.
    pub fn required<T: DeserializeOwned>(&mut self, name: &'static str) -> Option<T> {
        match self.take(name) {
            Some(value) => self.parse(name, value),
            None => {
                self.errors.push(format!("{name}: missing required field"));
                None
            }
        }
    }

    /// Takes an optional parameter: absent or `null` is `Some(None)`.
    pub fn optional<T: DeserializeOwned>(&mut self, name: &'static str) -> Option<Option<T>> {
        match self.take(name) {
            None | Some(Value::Null) => Some(None),
            Some(value) => self.parse(name, value).map(Some),
        }
    }

    /// Takes a parameter that falls back to `default()` when absent or `null`.
    pub fn or_else<T: DeserializeOwned>(
        &mut self,
        name: &'static str,
        default: impl FnOnce() -> T,
    ) -> Option<T> {
        match self.take(name) {
            None | Some(Value::Null) => Some(default()),
            Some(value) => self.parse(name, value),
        }
    }

    /// Finishes reading.
    ///
    /// # Errors
    ///
    /// One error result listing every problem found, when there was any.
    pub fn finish(self) -> Result<(), ToolOutput> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let mut message = format!("invalid input for tool `{}`:", self.tool);
        if let [only] = self.errors.as_slice() {
            message.push(' ');
            message.push_str(only);
        } else {
            for error in &self.errors {
                message.push_str("\n- ");
                message.push_str(error);
            }
        }
        Err(ToolOutput::error(message))
    }

    fn parse<T: DeserializeOwned>(&mut self, name: &str, value: Value) -> Option<T> {
        match serde_path_to_error::deserialize(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                self.errors.push(match path.as_str() {
                    "." => format!("{name}: {inner}"),
                    p if p.starts_with('[') => format!("{name}{p}: {inner}"),
                    p => format!("{name}.{p}: {inner}"),
                });
                None
            }
        }
    }
}

fn unknown_field(key: &str, params: &[&str]) -> String {
    if params.is_empty() {
        format!("{key}: unknown field, this tool takes no input")
    } else {
        let expected: Vec<String> = params.iter().map(|p| format!("`{p}`")).collect();
        format!(
            "{key}: unknown field, expected one of {}",
            expected.join(", ")
        )
    }
}

/// What a JSON value is, for messages to the model: "a string", "null".
pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
