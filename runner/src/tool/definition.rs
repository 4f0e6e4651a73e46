//! [`ToolDefinition`]: how a tool is declared to the model.

use std::fmt;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Caller;
use super::StateType;
use super::validate::InputValidator;

/// The code-execution tool version that `"code"` callers map to unless a
/// runner is told otherwise.
pub const DEFAULT_CODE_EXECUTION: &str = "code_execution_20260120";

/// Who may call a tool.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AllowedCaller {
    /// The model, with a `tool_use` block (`"direct"`).
    Direct,
    /// Code the model writes, in whichever code-execution version the runner
    /// uses, or in code mode (`"code"`).
    Code,
    /// Code running in one exact code-execution version, such as
    /// `code_execution_20260120`.
    CodeExecution(String),
}

impl AllowedCaller {
    /// Parses `"direct"`, `"code"` or a dated `code_execution_YYYYMMDD` version.
    ///
    /// # Errors
    ///
    /// When `s` is none of those, with a message listing what is accepted.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "direct" => Ok(AllowedCaller::Direct),
            "code" => Ok(AllowedCaller::Code),
            _ if is_code_execution_version(s) => Ok(AllowedCaller::CodeExecution(s.to_owned())),
            _ => Err(format!(
                "unknown caller `{s}`: expected \"direct\", \"code\" or a code execution version such as \"{DEFAULT_CODE_EXECUTION}\""
            )),
        }
    }

    /// The wire string, with `Code` mapped to `code_version`.
    pub fn wire_name<'a>(&'a self, code_version: &'a str) -> &'a str {
        match self {
            AllowedCaller::Direct => "direct",
            AllowedCaller::Code => code_version,
            AllowedCaller::CodeExecution(version) => version,
        }
    }

    /// Whether this entry admits calls from code.
    pub fn is_code(&self) -> bool {
        !matches!(self, AllowedCaller::Direct)
    }
}

impl fmt::Display for AllowedCaller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name("code"))
    }
}

/// Whether `s` is a dated code-execution tool version: `code_execution_` and eight digits.
pub fn is_code_execution_version(s: &str) -> bool {
    s.strip_prefix("code_execution_")
        .is_some_and(|date| date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()))
}

/// A tool as the model sees it: name, description, input schema and options.
///
/// It serializes to the Messages API's tool definition. `"code"` callers are
/// written as [`DEFAULT_CODE_EXECUTION`]; a runner configured for another
/// code-execution version writes that one instead.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ToolDefinition {
    /// The tool's name, matching `^[a-zA-Z0-9_-]{1,64}$`.
    pub name: String,
    /// What the tool does; the model reads it to decide when to call it.
    pub description: String,
    /// JSON schema of the input object.
    pub input_schema: Value,
    /// Who may call the tool; `None` means the model directly, and leaves the
    /// field out of the request.
    ///
    /// A code caller (programmatic tool calling) makes a runner add the
    /// API's code-execution tool to every request that lacks one; the
    /// runner logs this once, at debug level, naming the tools that caused it.
    pub allowed_callers: Option<Vec<AllowedCaller>>,
    /// Ask the API to guarantee that inputs match the schema. On the wire,
    /// the schema of a strict tool is adapted to what strict mode accepts:
    /// every object closed (maps too), `oneOf` sent as `anyOf`, and keywords
    /// strict mode lacks (numeric and length bounds, `maxItems`, formats it
    /// does not know, ...) moved into the description, so the model still
    /// reads them.
    pub strict: bool,
    /// Leave the tool out of the model's context until tool search finds it.
    pub defer_loading: bool,
    /// Prompt-caching breakpoint on the definition.
    pub cache_control: Option<Value>,
    /// The type of a tool the API defines, such as `memory_20250818`; `None`
    /// for a custom tool. A typed tool is sent as its type, name and
    /// [`type_options`](Self::type_options), without description or schema:
    /// the model already knows it. Its `input_schema` is still used locally
    /// (code mode, MCP).
    pub tool_type: Option<String>,
    /// Fields sent with a typed tool besides its type and name, such as the
    /// text editor's `max_characters`.
    pub type_options: serde_json::Map<String, Value>,
    /// Example inputs that show the model how to call the tool, sent as
    /// `input_examples` when there are any.
    pub input_examples: Vec<Value>,
    /// Whether the tool's input is streamed as the model writes it, unchecked
    /// (`eager_input_streaming`); `None` leaves the API's default. An input
    /// streamed this way may not be valid JSON: the runner answers such a
    /// call with an error result.
    pub eager_input_streaming: Option<bool>,
    /// Fields of a custom tool this crate does not model, sent as given, so
    /// that a definition read from JSON goes back with everything it had.
    pub extra: serde_json::Map<String, Value>,
    /// Check every input against `input_schema` before the tool runs, and
    /// answer one that breaks it with an error result listing every
    /// violation with its path. `#[tool]` turns this on; see
    /// [`input_errors`](Self::input_errors). Never sent.
    pub validate_input: bool,
    /// The toolset states the tool needs (`State<T>` parameters of a
    /// `#[tool]` function), checked by [`Toolset::check_state`](crate::Toolset::check_state).
    /// Never sent.
    pub required_states: Vec<StateType>,
    /// `input_schema` compiled, on first use.
    validator: InputValidator,
}

impl ToolDefinition {
    /// A definition with default options.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        ToolDefinition {
            name: name.into(),
            description: description.into(),
            input_schema,
            allowed_callers: None,
            strict: false,
            defer_loading: false,
            cache_control: None,
            tool_type: None,
            type_options: serde_json::Map::new(),
            input_examples: Vec::new(),
            eager_input_streaming: None,
            extra: serde_json::Map::new(),
            validate_input: false,
            required_states: Vec::new(),
            validator: InputValidator::default(),
        }
    }

    /// Sets [`validate_input`](Self::validate_input).
    #[must_use]
    pub fn with_input_validation(mut self, validate: bool) -> Self {
        self.validate_input = validate;
        self
    }

    /// Adds a state the tool needs to [`required_states`](Self::required_states).
    #[must_use]
    pub fn with_required_state(mut self, state: StateType) -> Self {
        if !self.required_states.contains(&state) {
            self.required_states.push(state);
        }
        self
    }

    /// Every way `input` breaks the tool's input schema, each as `path:
    /// problem` (`order.quantity: -1 is less than the minimum of 0`); empty
    /// when it breaks none, or when [`validate_input`](Self::validate_input)
    /// is off.
    ///
    /// The schema is compiled on the first call and kept with the
    /// definition (a clone compiles its own). A schema that does not
    /// compile is logged once and checks nothing. `null` reads as `{}`,
    /// as tools read it.
    ///
    /// ```
    /// use serde_json::json;
    /// use toolrunner::ToolDefinition;
    ///
    /// let schema = json!({
    ///     "type": "object",
    ///     "properties": {"n": {"type": "integer", "minimum": 1}},
    ///     "required": ["n"],
    ///     "additionalProperties": false
    /// });
    /// let def = ToolDefinition::new("count", "Count.", schema).with_input_validation(true);
    /// assert!(def.input_errors(&json!({"n": 2})).is_empty());
    /// assert_eq!(
    ///     def.input_errors(&json!({"n": 0, "x": 1})),
    ///     ["n: 0 is less than the minimum of 1", "x: unknown field, expected `n`"]
    /// );
    /// ```
    pub fn input_errors(&self, input: &Value) -> Vec<String> {
        if !self.validate_input {
            return Vec::new();
        }
        self.validator.errors(&self.name, &self.input_schema, input)
    }

    /// The definition of a tool the API defines, sent as `{"type": tool_type,
    /// "name": name}`; `input_schema` describes its input for local uses.
    ///
    /// ```
    /// use serde_json::json;
    /// use toolrunner::ToolDefinition;
    ///
    /// let def = ToolDefinition::typed("memory_20250818", "memory", "Memory files.", json!({"type": "object"}));
    /// assert_eq!(serde_json::to_value(&def).unwrap(), json!({"type": "memory_20250818", "name": "memory"}));
    /// ```
    pub fn typed(
        tool_type: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        let mut def = ToolDefinition::new(name, description, input_schema);
        def.tool_type = Some(tool_type.into());
        def
    }

    /// Adds a field sent with a typed tool, such as `max_characters`.
    #[must_use]
    pub fn with_type_option(mut self, key: impl Into<String>, value: Value) -> Self {
        self.type_options.insert(key.into(), value);
        self
    }

    /// Sets who may call the tool.
    #[must_use]
    pub fn with_allowed_callers(
        mut self,
        callers: impl IntoIterator<Item = AllowedCaller>,
    ) -> Self {
        self.allowed_callers = Some(callers.into_iter().collect());
        self
    }

    /// Sets `strict`.
    #[must_use]
    pub fn with_strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Sets `defer_loading`.
    #[must_use]
    pub fn with_defer_loading(mut self, defer: bool) -> Self {
        self.defer_loading = defer;
        self
    }

    /// Sets the example inputs sent as `input_examples`.
    #[must_use]
    pub fn with_input_examples(mut self, examples: impl IntoIterator<Item = Value>) -> Self {
        self.input_examples = examples.into_iter().collect();
        self
    }

    /// Sets `eager_input_streaming`.
    #[must_use]
    pub fn with_eager_input_streaming(mut self, eager: bool) -> Self {
        self.eager_input_streaming = Some(eager);
        self
    }

    /// Whether the model may call the tool with a `tool_use` block.
    pub fn allows_direct(&self) -> bool {
        match &self.allowed_callers {
            None => true,
            Some(callers) => callers.contains(&AllowedCaller::Direct),
        }
    }

    /// Whether `caller` may call the tool, when `"code"` stands for the
    /// code-execution version `code_version`.
    ///
    /// A call from code in another version is refused even for a `"code"`
    /// tool: the request declared the tool callable from `code_version`
    /// only. Versions the API tags alike (see [`same_code_caller`]) count as
    /// one. Code mode (the client-side sandbox) is admitted by `"code"`.
    ///
    /// [`same_code_caller`]: super::same_code_caller
    pub fn allows_caller(&self, caller: &Caller, code_version: &str) -> bool {
        let Some(callers) = &self.allowed_callers else {
            return caller.is_direct();
        };
        callers.iter().any(|allowed| match (allowed, caller) {
            (AllowedCaller::Direct, Caller::Direct) => true,
            (AllowedCaller::Code, Caller::CodeExecution { version, .. }) => {
                super::same_code_caller(version, code_version)
            }
            (AllowedCaller::Code, Caller::CodeMode) => true,
            (AllowedCaller::CodeExecution(v), Caller::CodeExecution { version, .. }) => {
                super::same_code_caller(version, v)
            }
            _ => false,
        })
    }

    /// Whether some code may call the tool, in the API's container or in code mode.
    pub fn allows_code(&self) -> bool {
        self.allowed_callers
            .as_ref()
            .is_some_and(|callers| callers.iter().any(AllowedCaller::is_code))
    }

    /// Who may call the tool, for error messages: `direct, code`, or `nobody`.
    pub fn describe_callers(&self) -> String {
        match &self.allowed_callers {
            None => "direct".to_owned(),
            Some(callers) if callers.is_empty() => "nobody".to_owned(),
            Some(callers) => callers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The wire JSON, with `"code"` callers written as `code_version`.
    pub fn to_wire(&self, code_version: &str) -> Value {
        // Serializing plain maps and strings into a `Value` cannot fail.
        WireDefinition {
            def: self,
            code_version,
        }
        .serialize(serde_json::value::Serializer)
        .unwrap_or(Value::Null)
    }

    pub(crate) fn serialize_wire<S: Serializer>(
        &self,
        serializer: S,
        code_version: &str,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(tool_type) = &self.tool_type {
            // The API knows a typed tool's description and schema.
            map.serialize_entry("type", tool_type)?;
            map.serialize_entry("name", &self.name)?;
            for (key, value) in &self.type_options {
                map.serialize_entry(key, value)?;
            }
        } else {
            map.serialize_entry("name", &self.name)?;
            map.serialize_entry("description", &self.description)?;
            if self.strict {
                let mut schema = self.input_schema.clone();
                super::schema::make_strict(&mut schema);
                map.serialize_entry("input_schema", &schema)?;
            } else {
                map.serialize_entry("input_schema", &self.input_schema)?;
            }
        }
        if let Some(callers) = &self.allowed_callers {
            let mut names: Vec<&str> = Vec::with_capacity(callers.len());
            for caller in callers {
                let name = caller.wire_name(code_version);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            map.serialize_entry("allowed_callers", &names)?;
        }
        if self.strict {
            map.serialize_entry("strict", &true)?;
        }
        if self.defer_loading {
            map.serialize_entry("defer_loading", &true)?;
        }
        if !self.input_examples.is_empty() {
            map.serialize_entry("input_examples", &self.input_examples)?;
        }
        if let Some(eager) = self.eager_input_streaming {
            map.serialize_entry("eager_input_streaming", &eager)?;
        }
        if let Some(cache_control) = &self.cache_control {
            map.serialize_entry("cache_control", cache_control)?;
        }
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A definition serialized with a chosen code-execution version.
pub(crate) struct WireDefinition<'a> {
    pub(crate) def: &'a ToolDefinition,
    pub(crate) code_version: &'a str,
}

impl Serialize for WireDefinition<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.def.serialize_wire(serializer, self.code_version)
    }
}

impl Serialize for ToolDefinition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_wire(serializer, DEFAULT_CODE_EXECUTION)
    }
}

impl<'de> Deserialize<'de> for ToolDefinition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(default, rename = "type")]
            tool_type: Option<String>,
            name: String,
            #[serde(default)]
            description: String,
            #[serde(default)]
            input_schema: Option<Value>,
            #[serde(default)]
            allowed_callers: Option<Vec<String>>,
            #[serde(default)]
            strict: bool,
            #[serde(default)]
            defer_loading: bool,
            #[serde(default)]
            cache_control: Option<Value>,
            #[serde(default)]
            input_examples: Vec<Value>,
            #[serde(default)]
            eager_input_streaming: Option<bool>,
            #[serde(flatten)]
            rest: serde_json::Map<String, Value>,
        }
        let wire = Wire::deserialize(deserializer)?;
        // `"type": "custom"` is the API's spelling of an untyped tool.
        let tool_type = wire.tool_type.filter(|t| t != "custom");
        let input_schema = match (wire.input_schema, &tool_type) {
            (Some(schema), _) => schema,
            (None, Some(_)) => serde_json::json!({"type": "object"}),
            (None, None) => return Err(serde::de::Error::missing_field("input_schema")),
        };
        // What is not modelled goes back as it came: with a typed tool as its
        // options, with a custom tool as extra fields.
        let (type_options, extra) = if tool_type.is_some() {
            (wire.rest, serde_json::Map::new())
        } else {
            (serde_json::Map::new(), wire.rest)
        };
        let allowed_callers = wire
            .allowed_callers
            .map(|callers| {
                callers
                    .iter()
                    .map(|c| AllowedCaller::parse(c))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .map_err(serde::de::Error::custom)?;
        Ok(ToolDefinition {
            name: wire.name,
            description: wire.description,
            input_schema,
            allowed_callers,
            strict: wire.strict,
            defer_loading: wire.defer_loading,
            cache_control: wire.cache_control,
            tool_type,
            type_options,
            input_examples: wire.input_examples,
            eager_input_streaming: wire.eager_input_streaming,
            extra,
            validate_input: false,
            required_states: Vec::new(),
            validator: InputValidator::default(),
        })
    }
}

/// Whether `name` is a valid tool name: 1 to 64 of `a-z A-Z 0-9 _ -`.
pub fn is_valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
