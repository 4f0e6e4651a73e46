//! Adapting a schema to what strict tool use accepts.
//!
//! Strict mode compiles the schema into a grammar and supports only part of
//! JSON Schema. The adaptation follows the official SDKs: every object is
//! closed (maps too: strict mode has no open objects), `oneOf` becomes
//! `anyOf`, string formats outside the supported list and `minItems` above 1
//! are dropped, and every other unsupported keyword is removed and written
//! into the description, so the model still reads the constraint it no
//! longer enforces. One walker, schemars' [`transform_subschemas`], visits
//! every subschema keyword, so no nested schema is missed.

use schemars::Schema;
use schemars::transform::{Transform, transform_subschemas};
use serde_json::{Map, Value};

/// Keywords strict mode accepts as they are.
const SUPPORTED: &[&str] = &[
    "type",
    "description",
    "title",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "allOf",
    "$ref",
    "$defs",
    "definitions",
];

/// String formats strict mode accepts.
const STRING_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "uri",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Adapts `schema`, and every schema inside it, to strict mode.
pub(crate) fn make_strict(schema: &mut Value) {
    let Ok(mut wrapped) = Schema::try_from(std::mem::take(schema)) else {
        return;
    };
    StrictMode.transform(&mut wrapped);
    *schema = wrapped.to_value();
}

/// The schemars transform that adapts one schema object, then its subschemas.
struct StrictMode;

impl Transform for StrictMode {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(map) = schema.as_object_mut() {
            adapt(map);
        }
        transform_subschemas(self, schema);
    }
}

/// Adapts one schema object, leaving its subschemas to the walker.
fn adapt(map: &mut Map<String, Value>) {
    if let Some(one_of) = map.shift_remove("oneOf") {
        // Strict mode has no "exactly one"; the variants schemars makes for
        // an enum with data are told apart by their tag anyway.
        map.entry("anyOf").or_insert(one_of);
    }
    let is_object = is_type(map, "object") || map.contains_key("properties");
    let mut unsupported = Map::new();
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let keep = match key.as_str() {
            // The value type of a map cannot be expressed once the object is
            // closed: it goes to the description with the rest.
            "additionalProperties" => !is_object || map[&key] == Value::Bool(false),
            "enum" => map[&key]
                .as_array()
                .is_some_and(|values| values.iter().all(is_primitive)),
            "const" => is_primitive(&map[&key]),
            "format" => {
                is_type(map, "string")
                    && map[&key]
                        .as_str()
                        .is_some_and(|f| STRING_FORMATS.contains(&f))
            }
            "minItems" => matches!(map[&key].as_u64(), Some(0 | 1)),
            other => SUPPORTED.contains(&other),
        };
        if !keep && let Some(value) = map.shift_remove(&key) {
            unsupported.insert(key, value);
        }
    }
    if is_object {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    if !unsupported.is_empty() {
        fold_into_description(map, &unsupported);
    }
}

/// Appends the removed keywords to the description, as `{key: value, ...}`.
fn fold_into_description(map: &mut Map<String, Value>, removed: &Map<String, Value>) {
    let listed = removed
        .iter()
        .map(|(key, value)| format!("{key}: {value}"))
        .collect::<Vec<_>>()
        .join(", ");
    let description = match map.get("description").and_then(Value::as_str) {
        Some(text) if !text.is_empty() => format!("{text}\n\n{{{listed}}}"),
        _ => format!("{{{listed}}}"),
    };
    map.insert("description".into(), Value::String(description));
}

fn is_type(map: &Map<String, Value>, name: &str) -> bool {
    match map.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(types)) => types.iter().any(|t| t == name),
        _ => false,
    }
}

fn is_primitive(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::make_strict;

    #[test]
    fn every_subschema_keyword_is_reached_and_unsupported_ones_are_described() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "count": {"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255},
                "email": {"type": "string", "format": "email", "minLength": 3},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 5},
                "scores": {"type": "object", "additionalProperties": {"type": "number"}},
                "shape": {"oneOf": [{"type": "object", "properties": {"r": {"type": "number", "exclusiveMinimum": 0}}}]}
            },
            "$defs": {"Deep": {"type": "object", "properties": {"x": {"type": "string", "pattern": "^a"}}}}
        });
        make_strict(&mut schema);
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "count": {"type": "integer", "description": "{format: \"uint8\", minimum: 0, maximum: 255}"},
                    "email": {"type": "string", "format": "email", "description": "{minLength: 3}"},
                    "tags": {"type": "array", "items": {"type": "string"}, "description": "{minItems: 2, maxItems: 5}"},
                    "scores": {"type": "object", "additionalProperties": false,
                               "description": "{additionalProperties: {\"type\":\"number\"}}"},
                    "shape": {"anyOf": [{"type": "object", "properties": {"r": {"type": "number", "description": "{exclusiveMinimum: 0}"}},
                                         "additionalProperties": false}]}
                },
                "$defs": {"Deep": {"type": "object", "properties": {"x": {"type": "string", "description": "{pattern: \"^a\"}"}},
                                   "additionalProperties": false}},
                "additionalProperties": false
            })
        );
    }
}
