//! Typed request options of [`MessageParams`](super::MessageParams):
//! `system`, `tool_choice`, `thinking`, `metadata`, `service_tier`, `speed`
//! and `output_config.effort`.
//!
//! Each serializes to the exact wire shape of the Messages API. Each enum has
//! an `Other` variant for a shape this crate does not know yet: it is sent as
//! given, and a value read from JSON that no variant matches lands there, so
//! nothing is lost on a round trip.

use serde::de::Deserializer;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::content::TextBlock;

/// The system prompt: plain text, or text blocks (which may carry
/// `cache_control`).
///
/// ```
/// use serde_json::json;
/// use toolrunner::types::System;
/// use toolrunner::TextBlock;
///
/// assert_eq!(serde_json::to_value(System::from("Be terse.")).unwrap(), json!("Be terse."));
/// let blocks = System::Blocks(vec![TextBlock::new("Be terse.")]);
/// assert_eq!(serde_json::to_value(blocks).unwrap(), json!([{"type": "text", "text": "Be terse."}]));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum System {
    /// A string.
    Text(String),
    /// An array of `text` blocks.
    Blocks(Vec<TextBlock>),
    /// Any other JSON, sent as given.
    Other(Value),
}

impl From<String> for System {
    fn from(text: String) -> Self {
        System::Text(text)
    }
}

impl From<&str> for System {
    fn from(text: &str) -> Self {
        System::Text(text.to_owned())
    }
}

impl From<Vec<TextBlock>> for System {
    fn from(blocks: Vec<TextBlock>) -> Self {
        System::Blocks(blocks)
    }
}

impl From<Value> for System {
    /// A string or an array of text blocks as such; anything else as [`System::Other`].
    fn from(value: Value) -> Self {
        match value {
            Value::String(text) => System::Text(text),
            Value::Array(items) if items.iter().all(|b| b["type"] == "text") => {
                match items
                    .iter()
                    .map(|item| {
                        let mut item = item.clone();
                        if let Some(fields) = item.as_object_mut() {
                            fields.shift_remove("type");
                        }
                        serde_json::from_value::<TextBlock>(item)
                    })
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(blocks) => System::Blocks(blocks),
                    Err(_) => System::Other(Value::Array(items)),
                }
            }
            other => System::Other(other),
        }
    }
}

impl Serialize for System {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(flatten)]
            block: &'a TextBlock,
        }
        match self {
            System::Text(text) => serializer.serialize_str(text),
            System::Blocks(blocks) => serializer.collect_seq(blocks.iter().map(|block| Tagged {
                kind: "text",
                block,
            })),
            System::Other(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for System {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(System::from)
    }
}

/// How the model may use tools: `tool_choice`.
///
/// ```
/// use serde_json::json;
/// use toolrunner::types::ToolChoice;
///
/// let choice = ToolChoice::tool("get_weather").disable_parallel_tool_use();
/// assert_eq!(
///     serde_json::to_value(choice).unwrap(),
///     json!({"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true})
/// );
/// assert_eq!(serde_json::to_value(ToolChoice::none()).unwrap(), json!({"type": "none"}));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ToolChoice {
    /// The model decides whether to use tools (`"auto"`).
    Auto {
        /// At most one tool call per turn.
        disable_parallel_tool_use: bool,
    },
    /// The model must use some tool (`"any"`).
    Any {
        /// Exactly one tool call per turn.
        disable_parallel_tool_use: bool,
    },
    /// The model must use the tool `name` (`"tool"`).
    Tool {
        /// The tool to use.
        name: String,
        /// Exactly one tool call per turn.
        disable_parallel_tool_use: bool,
    },
    /// The model may not use tools (`"none"`).
    None,
    /// Any other JSON, sent as given.
    Other(Value),
}

impl ToolChoice {
    /// `{"type": "auto"}`.
    pub fn auto() -> Self {
        ToolChoice::Auto {
            disable_parallel_tool_use: false,
        }
    }

    /// `{"type": "any"}`.
    pub fn any() -> Self {
        ToolChoice::Any {
            disable_parallel_tool_use: false,
        }
    }

    /// `{"type": "tool", "name": name}`.
    pub fn tool(name: impl Into<String>) -> Self {
        ToolChoice::Tool {
            name: name.into(),
            disable_parallel_tool_use: false,
        }
    }

    /// `{"type": "none"}`.
    pub fn none() -> Self {
        ToolChoice::None
    }

    /// Sets `disable_parallel_tool_use`; no change to `None` or `Other`.
    #[must_use]
    pub fn disable_parallel_tool_use(mut self) -> Self {
        match &mut self {
            ToolChoice::Auto {
                disable_parallel_tool_use,
            }
            | ToolChoice::Any {
                disable_parallel_tool_use,
            }
            | ToolChoice::Tool {
                disable_parallel_tool_use,
                ..
            } => *disable_parallel_tool_use = true,
            ToolChoice::None | ToolChoice::Other(_) => {}
        }
        self
    }

    /// The wire `type`: `auto`, `any`, `tool`, `none`, or the `type` of an
    /// `Other` value.
    pub fn kind(&self) -> Option<&str> {
        match self {
            ToolChoice::Auto { .. } => Some("auto"),
            ToolChoice::Any { .. } => Some("any"),
            ToolChoice::Tool { .. } => Some("tool"),
            ToolChoice::None => Some("none"),
            ToolChoice::Other(value) => value.get("type").and_then(Value::as_str),
        }
    }

    /// Whether parallel tool use is disabled.
    pub fn disables_parallel_tool_use(&self) -> bool {
        match self {
            ToolChoice::Auto {
                disable_parallel_tool_use,
            }
            | ToolChoice::Any {
                disable_parallel_tool_use,
            }
            | ToolChoice::Tool {
                disable_parallel_tool_use,
                ..
            } => *disable_parallel_tool_use,
            ToolChoice::None => false,
            ToolChoice::Other(value) => {
                value.get("disable_parallel_tool_use") == Some(&true.into())
            }
        }
    }

    /// The tool a `"tool"` choice names.
    pub fn tool_name(&self) -> Option<&str> {
        match self {
            ToolChoice::Tool { name, .. } => Some(name),
            ToolChoice::Other(value) => value.get("name").and_then(Value::as_str),
            _ => None,
        }
    }
}

impl From<Value> for ToolChoice {
    /// A known shape as its variant; anything else (an unknown type, or a
    /// field this crate does not model) as [`ToolChoice::Other`].
    fn from(value: Value) -> Self {
        let Some(fields) = value.as_object() else {
            return ToolChoice::Other(value);
        };
        let known = |allowed: &[&str]| fields.keys().all(|k| allowed.contains(&k.as_str()));
        let disable = match fields.get("disable_parallel_tool_use") {
            None => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => None,
        };
        let parsed = match (fields.get("type").and_then(Value::as_str), disable) {
            (Some("auto"), Some(disable)) if known(&["type", "disable_parallel_tool_use"]) => {
                Some(ToolChoice::Auto {
                    disable_parallel_tool_use: disable,
                })
            }
            (Some("any"), Some(disable)) if known(&["type", "disable_parallel_tool_use"]) => {
                Some(ToolChoice::Any {
                    disable_parallel_tool_use: disable,
                })
            }
            (Some("tool"), Some(disable))
                if known(&["type", "name", "disable_parallel_tool_use"]) =>
            {
                fields
                    .get("name")
                    .and_then(Value::as_str)
                    .map(|name| ToolChoice::Tool {
                        name: name.to_owned(),
                        disable_parallel_tool_use: disable,
                    })
            }
            (Some("none"), _) if known(&["type"]) => Some(ToolChoice::None),
            _ => None,
        };
        parsed.unwrap_or(ToolChoice::Other(value))
    }
}

impl Serialize for ToolChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (kind, name, disable) = match self {
            ToolChoice::Auto {
                disable_parallel_tool_use,
            } => ("auto", None, *disable_parallel_tool_use),
            ToolChoice::Any {
                disable_parallel_tool_use,
            } => ("any", None, *disable_parallel_tool_use),
            ToolChoice::Tool {
                name,
                disable_parallel_tool_use,
            } => ("tool", Some(name), *disable_parallel_tool_use),
            ToolChoice::None => ("none", None, false),
            ToolChoice::Other(value) => return value.serialize(serializer),
        };
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", kind)?;
        if let Some(name) = name {
            map.serialize_entry("name", name)?;
        }
        if disable {
            map.serialize_entry("disable_parallel_tool_use", &true)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(ToolChoice::from)
    }
}

/// The model's thinking: `thinking`.
///
/// ```
/// use serde_json::json;
/// use toolrunner::types::Thinking;
///
/// assert_eq!(
///     serde_json::to_value(Thinking::enabled(2048)).unwrap(),
///     json!({"type": "enabled", "budget_tokens": 2048})
/// );
/// assert_eq!(serde_json::to_value(Thinking::adaptive()).unwrap(), json!({"type": "adaptive"}));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Thinking {
    /// Manual extended thinking with a token budget (`"enabled"`): at least
    /// 1024, and less than `max_tokens`.
    Enabled {
        /// Tokens the model may think with.
        budget_tokens: u32,
        /// How thinking appears; `None` leaves the model's default.
        display: Option<ThinkingDisplay>,
    },
    /// The model decides when and how much to think (`"adaptive"`).
    Adaptive {
        /// How thinking appears; `None` leaves the model's default.
        display: Option<ThinkingDisplay>,
    },
    /// Thinking between tool calls (`"between_tools"`).
    BetweenTools,
    /// No thinking (`"disabled"`).
    Disabled,
    /// Any other JSON, sent as given.
    Other(Value),
}

impl Thinking {
    /// `{"type": "enabled", "budget_tokens": budget_tokens}`.
    pub fn enabled(budget_tokens: u32) -> Self {
        Thinking::Enabled {
            budget_tokens,
            display: None,
        }
    }

    /// `{"type": "adaptive"}`.
    pub fn adaptive() -> Self {
        Thinking::Adaptive { display: None }
    }

    /// `{"type": "disabled"}`.
    pub fn disabled() -> Self {
        Thinking::Disabled
    }

    /// Sets `display` on an enabled or adaptive config; no change to others.
    #[must_use]
    pub fn display(mut self, how: ThinkingDisplay) -> Self {
        if let Thinking::Enabled { display, .. } | Thinking::Adaptive { display } = &mut self {
            *display = Some(how);
        }
        self
    }
}

impl From<Value> for Thinking {
    /// A known shape as its variant; anything else as [`Thinking::Other`].
    fn from(value: Value) -> Self {
        let Some(fields) = value.as_object() else {
            return Thinking::Other(value);
        };
        let known = |allowed: &[&str]| fields.keys().all(|k| allowed.contains(&k.as_str()));
        let display = match fields.get("display") {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(ThinkingDisplay::from(s.as_str()))),
            Some(_) => None,
        };
        let parsed = match (fields.get("type").and_then(Value::as_str), display) {
            (Some("enabled"), Some(display)) if known(&["type", "budget_tokens", "display"]) => {
                fields
                    .get("budget_tokens")
                    .and_then(Value::as_u64)
                    .and_then(|b| u32::try_from(b).ok())
                    .map(|budget_tokens| Thinking::Enabled {
                        budget_tokens,
                        display,
                    })
            }
            (Some("adaptive"), Some(display)) if known(&["type", "display"]) => {
                Some(Thinking::Adaptive { display })
            }
            (Some("between_tools"), _) if known(&["type"]) => Some(Thinking::BetweenTools),
            (Some("disabled"), _) if known(&["type"]) => Some(Thinking::Disabled),
            _ => None,
        };
        parsed.unwrap_or(Thinking::Other(value))
    }
}

impl Serialize for Thinking {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (kind, budget, display) = match self {
            Thinking::Enabled {
                budget_tokens,
                display,
            } => ("enabled", Some(budget_tokens), display.as_ref()),
            Thinking::Adaptive { display } => ("adaptive", None, display.as_ref()),
            Thinking::BetweenTools => ("between_tools", None, None),
            Thinking::Disabled => ("disabled", None, None),
            Thinking::Other(value) => return value.serialize(serializer),
        };
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", kind)?;
        if let Some(budget) = budget {
            map.serialize_entry("budget_tokens", budget)?;
        }
        if let Some(display) = display {
            map.serialize_entry("display", display)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Thinking {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Thinking::from)
    }
}

/// Request metadata: `metadata`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metadata {
    /// An opaque identifier of the end user (a uuid or a hash, never a
    /// name or an address), used to detect abuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Fields this crate does not model, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Metadata {
    /// Metadata with `user_id`.
    pub fn user_id(user_id: impl Into<String>) -> Self {
        Metadata {
            user_id: Some(user_id.into()),
            extra: Map::new(),
        }
    }
}

/// Declares a string enum with an `Other(String)` escape hatch, serialized
/// as its wire string.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// Another value, sent as given.
            Other(String),
        }

        impl $name {
            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Ok($name::from(s.as_str()))
            }
        }
    };
}

wire_enum! {
    /// How thinking appears in the response: `display` of a thinking config.
    ThinkingDisplay {
        /// Thinking is returned (`"summarized"`).
        Summarized = "summarized",
        /// Thinking is redacted, its signature kept (`"omitted"`).
        Omitted = "omitted",
    }
}

wire_enum! {
    /// Which capacity serves the request: `service_tier`.
    ServiceTier {
        /// Priority capacity when available, else standard (`"auto"`).
        Auto = "auto",
        /// Standard capacity only (`"standard_only"`).
        StandardOnly = "standard_only",
    }
}

wire_enum! {
    /// The inference speed: `speed`.
    Speed {
        /// `"standard"`.
        Standard = "standard",
        /// High output tokens per second (`"fast"`); some models need the
        /// `fast-mode-2026-02-01` beta.
        Fast = "fast",
    }
}

wire_enum! {
    /// How much effort the model puts into its answer: `output_config.effort`.
    Effort {
        /// `"low"`.
        Low = "low",
        /// `"medium"`.
        Medium = "medium",
        /// `"high"`.
        High = "high",
        /// `"xhigh"`.
        XHigh = "xhigh",
        /// `"max"`.
        Max = "max",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::MessageParams;

    /// The request body of `params`, less the fields every body has.
    fn body(params: MessageParams) -> Value {
        let mut body = serde_json::to_value(&params).unwrap();
        let fields = body.as_object_mut().unwrap();
        for always in ["model", "max_tokens", "messages"] {
            fields.shift_remove(always);
        }
        body
    }

    fn params() -> MessageParams {
        MessageParams::new("m", 4096)
    }

    #[test]
    fn every_typed_field_is_sent_in_its_wire_shape() {
        let sent = body(
            params()
                .system("Be terse.")
                .tool_choice(ToolChoice::any().disable_parallel_tool_use())
                .thinking(Thinking::enabled(2048).display(ThinkingDisplay::Omitted))
                .stop_sequences(["END", "STOP"])
                .metadata(Metadata::user_id("u-1"))
                .service_tier(ServiceTier::StandardOnly)
                .speed(Speed::Fast)
                .inference_geo("us")
                .cache_control(json!({"type": "ephemeral"}))
                .top_k(5)
                .effort(Effort::XHigh)
                .diagnostics(json!({"previous_message_id": null})),
        );
        assert_eq!(
            sent,
            json!({
                "system": "Be terse.",
                "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
                "top_k": 5,
                "stop_sequences": ["END", "STOP"],
                "metadata": {"user_id": "u-1"},
                "thinking": {"type": "enabled", "budget_tokens": 2048, "display": "omitted"},
                "service_tier": "standard_only",
                "speed": "fast",
                "inference_geo": "us",
                "cache_control": {"type": "ephemeral"},
                "output_config": {"effort": "xhigh"},
                "diagnostics": {"previous_message_id": null}
            })
        );
    }

    #[test]
    fn system_blocks_are_tagged_text_blocks() {
        let mut cached = crate::TextBlock::new("Long rules.");
        cached.cache_control = Some(json!({"type": "ephemeral"}));
        let sent = body(params().system(vec![crate::TextBlock::new("Be terse."), cached]));
        assert_eq!(
            sent["system"],
            json!([
                {"type": "text", "text": "Be terse."},
                {"type": "text", "text": "Long rules.", "cache_control": {"type": "ephemeral"}}
            ])
        );
    }

    #[test]
    fn each_tool_choice_has_its_shape() {
        let cases = [
            (ToolChoice::auto(), json!({"type": "auto"})),
            (
                ToolChoice::auto().disable_parallel_tool_use(),
                json!({"type": "auto", "disable_parallel_tool_use": true}),
            ),
            (ToolChoice::any(), json!({"type": "any"})),
            (
                ToolChoice::tool("add"),
                json!({"type": "tool", "name": "add"}),
            ),
            (
                ToolChoice::tool("add").disable_parallel_tool_use(),
                json!({"type": "tool", "name": "add", "disable_parallel_tool_use": true}),
            ),
            (ToolChoice::none(), json!({"type": "none"})),
            (
                ToolChoice::Other(json!({"type": "future", "x": 1})),
                json!({"type": "future", "x": 1}),
            ),
        ];
        for (choice, wire) in cases {
            assert_eq!(
                body(params().tool_choice(choice.clone()))["tool_choice"],
                wire
            );
            // Read back, each lands on the same variant.
            assert_eq!(ToolChoice::from(wire), choice);
        }
    }

    #[test]
    fn each_thinking_config_has_its_shape() {
        let cases = [
            (
                Thinking::enabled(1024),
                json!({"type": "enabled", "budget_tokens": 1024}),
            ),
            (Thinking::adaptive(), json!({"type": "adaptive"})),
            (
                Thinking::adaptive().display(ThinkingDisplay::Summarized),
                json!({"type": "adaptive", "display": "summarized"}),
            ),
            (Thinking::disabled(), json!({"type": "disabled"})),
            (Thinking::BetweenTools, json!({"type": "between_tools"})),
            (
                Thinking::Other(json!({"type": "deep", "depth": 3})),
                json!({"type": "deep", "depth": 3}),
            ),
        ];
        for (thinking, wire) in cases {
            assert_eq!(body(params().thinking(thinking.clone()))["thinking"], wire);
            assert_eq!(Thinking::from(wire), thinking);
        }
    }

    #[test]
    fn raw_json_still_works_and_unknown_shapes_pass_through() {
        let sent = body(
            params()
                .tool_choice(json!({"type": "auto", "disable_parallel_tool_use": true}))
                .thinking(json!({"type": "enabled", "budget_tokens": 2048, "new_knob": 1})),
        );
        assert_eq!(
            sent["tool_choice"],
            json!({"type": "auto", "disable_parallel_tool_use": true})
        );
        assert_eq!(
            sent["thinking"],
            json!({"type": "enabled", "budget_tokens": 2048, "new_knob": 1})
        );
        assert!(matches!(
            params().tool_choice(json!({"type": "auto"})).tool_choice,
            Some(ToolChoice::Auto {
                disable_parallel_tool_use: false
            })
        ));
        assert_eq!(
            serde_json::to_value(ServiceTier::from("premium")).unwrap(),
            json!("premium")
        );
        assert_eq!(
            serde_json::from_value::<Effort>(json!("max")).unwrap(),
            Effort::Max
        );
    }

    #[test]
    fn effort_keeps_the_rest_of_output_config() {
        let mut with_format = params();
        with_format.extra.insert(
            "output_config".into(),
            json!({"format": {"type": "json_schema", "schema": {}}}),
        );
        let sent = body(with_format.effort(Effort::Low));
        assert_eq!(
            sent["output_config"],
            json!({"format": {"type": "json_schema", "schema": {}}, "effort": "low"})
        );
    }

    #[test]
    fn unset_fields_are_left_out() {
        assert_eq!(body(params()), json!({}));
    }
}
