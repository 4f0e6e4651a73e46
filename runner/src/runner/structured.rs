//! Structured output: the final answer as a Rust type.
//!
//! The request asks for JSON matching the type's schema
//! (`output_config.format`), and the final message's text is parsed into
//! the type. The schema gets the same adaptation as a strict tool's input
//! schema, because structured outputs accept the same subset of JSON Schema.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::tool::schema::make_strict;
use crate::types::{ContentBlock, Message, MessageParams};

/// The `output_config.format` asking for JSON that parses into `T`.
pub(crate) fn format_for<T: JsonSchema>() -> Value {
    let settings = SchemaSettings::draft2020_12()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .for_deserialize();
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Value::Object(map) = &mut schema {
        // The type's name says nothing the model needs.
        map.shift_remove("title");
    }
    make_strict(&mut schema);
    json!({"type": "json_schema", "schema": schema})
}

/// Puts `format` in the parameters' `output_config`, keeping its other
/// fields (such as `effort`).
pub(crate) fn set_format(params: &mut MessageParams, format: Value) {
    let config = params
        .extra
        .entry("output_config")
        .or_insert_with(|| Value::Object(Map::new()));
    if !config.is_object() {
        *config = Value::Object(Map::new());
    }
    if let Value::Object(config) = config {
        config.insert("format".to_owned(), format);
    }
}

/// Drops `output_config.format`, for a request whose answer is not the
/// final one (a client-side summary).
pub(crate) fn clear_format(params: &mut MessageParams) {
    let Some(Value::Object(config)) = params.extra.get_mut("output_config") else {
        return;
    };
    config.shift_remove("format");
    if config.is_empty() {
        params.extra.shift_remove("output_config");
    }
}

/// Whether the parameters ask for a format already.
pub(crate) fn has_format(params: &MessageParams) -> bool {
    params
        .extra
        .get("output_config")
        .and_then(|config| config.get("format"))
        .is_some_and(|format| !format.is_null())
}

/// One turn's text parsed into `T`: `None` for a turn with no text (tool
/// calls only), which answers nothing yet.
pub(crate) fn parse_turn<T: DeserializeOwned>(message: &Message) -> Option<Result<T, Error>> {
    let has_text = message
        .content
        .iter()
        .any(|block| matches!(block, ContentBlock::Text(_)));
    has_text.then(|| parse(message))
}

/// Parses the final message's text into `T`.
///
/// # Errors
///
/// A parse error ([`Error::is_parse`]) keeping the text and the field path
/// where it failed.
pub(crate) fn parse<T: DeserializeOwned>(message: &Message) -> Result<T, Error> {
    let text = message.text();
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    match serde_path_to_error::deserialize(&mut deserializer) {
        // Text after the value is as wrong as a bad value.
        Ok(value) => match deserializer.end() {
            Ok(()) => Ok(value),
            Err(error) => Err(Error::parse(text, ".".to_owned(), error)),
        },
        Err(error) => {
            let path = error.path().to_string();
            Err(Error::parse(text.clone(), path, error.into_inner()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Answer {
        count: u8,
        note: Option<String>,
    }

    #[test]
    fn format_is_closed_and_unbounded() {
        let format = format_for::<Answer>();
        assert_eq!(format["type"], "json_schema");
        let schema = &format["schema"];
        assert_eq!(schema["additionalProperties"], false);
        // Bounds strict mode does not take leave the schema for the
        // description, where the model still reads them.
        assert_eq!(
            schema["properties"]["count"],
            json!({"type": "integer", "description": "{format: \"uint8\", minimum: 0, maximum: 255}"})
        );
        assert!(schema.get("title").is_none());
        assert!(schema.get("$schema").is_none());
    }

    #[test]
    fn set_format_keeps_other_fields() {
        let mut params = MessageParams::new("m", 1);
        params
            .extra
            .insert("output_config".into(), json!({"effort": "low"}));
        set_format(&mut params, json!({"type": "json_schema"}));
        assert_eq!(
            params.extra["output_config"],
            json!({"effort": "low", "format": {"type": "json_schema"}})
        );
        clear_format(&mut params);
        assert_eq!(params.extra["output_config"], json!({"effort": "low"}));
    }
}
