//! Input schemas in the shape the Messages API wants.
//!
//! schemars does the type work; this module assembles one object schema from
//! a tool's parameters and strips what the API does not need: `$schema`,
//! `title`, and `$defs` of types that are not recursive (those are inlined).

use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value};

/// Builds the input schema of a tool, one parameter at a time.
///
/// ```
/// use toolrunner::SchemaBuilder;
///
/// let mut schema = SchemaBuilder::new();
/// schema.param::<String>("city", Some("The city name."), true);
/// schema.param::<u32>("days", None, false);
/// let schema = schema.finish();
/// assert_eq!(schema["required"], serde_json::json!(["city"]));
/// assert_eq!(schema["additionalProperties"], false);
/// ```
pub struct SchemaBuilder {
    generator: SchemaGenerator,
    properties: Map<String, Value>,
    required: Vec<Value>,
}

impl Default for SchemaBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SchemaBuilder {
    /// An object schema with no properties yet.
    pub fn new() -> Self {
        let settings = SchemaSettings::draft2020_12()
            .with(|s| {
                s.inline_subschemas = true;
                s.meta_schema = None;
            })
            .for_deserialize();
        SchemaBuilder {
            generator: settings.into_generator(),
            properties: Map::new(),
            required: Vec::new(),
        }
    }

    /// Adds the property `name` with `T`'s schema. A `description` replaces
    /// the type's own.
    pub fn param<T: JsonSchema + ?Sized>(
        &mut self,
        name: &str,
        description: Option<&str>,
        required: bool,
    ) -> &mut Self {
        let mut schema = self.generator.subschema_for::<T>().to_value();
        if let Some(description) = description {
            set_description(&mut schema, description);
        }
        self.properties.insert(name.to_owned(), schema);
        if required {
            self.required.push(Value::String(name.to_owned()));
        }
        self
    }

    /// The finished schema.
    pub fn finish(mut self) -> Value {
        let definitions = self.generator.take_definitions(true);
        let mut root = Map::new();
        root.insert("type".into(), "object".into());
        root.insert("properties".into(), Value::Object(self.properties));
        root.insert("required".into(), Value::Array(self.required));
        root.insert("additionalProperties".into(), Value::Bool(false));
        if !definitions.is_empty() {
            root.insert("$defs".into(), Value::Object(definitions));
        }
        let mut root = Value::Object(root);
        strip_noise(&mut root);
        root
    }
}

/// Puts `description` on a property schema. Beside a `$ref` it is allowed in
/// draft 2020-12, so a referenced type keeps its reference.
fn set_description(schema: &mut Value, description: &str) {
    match schema {
        Value::Object(map) => {
            map.insert("description".into(), Value::String(description.to_owned()));
        }
        // `true` (any value) becomes an object so it can carry a description.
        Value::Bool(true) => {
            let mut map = Map::new();
            map.insert("description".into(), Value::String(description.to_owned()));
            *schema = Value::Object(map);
        }
        _ => {}
    }
}

/// Removes `title` and `$schema` from every schema object, without touching
/// property names (a property may well be called `title`).
fn strip_noise(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    map.shift_remove("$schema");
    map.shift_remove("title");
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            // Maps from names to schemas.
            "properties" | "$defs" | "definitions" | "patternProperties" | "dependentSchemas" => {
                if let Value::Object(children) = value {
                    children.values_mut().for_each(strip_noise);
                }
            }
            // Lists of schemas.
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Value::Array(children) = value {
                    children.iter_mut().for_each(strip_noise);
                }
            }
            // Single schemas.
            "items"
            | "additionalProperties"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "unevaluatedProperties"
            | "unevaluatedItems" => strip_noise(value),
            _ => {}
        }
    }
}

/// Keywords strict tool use does not accept: bounds on numbers and on the
/// length of strings. Deserializing the input still checks them (a `u8`
/// rejects 300), so dropping them from the schema loses no safety.
const STRICT_UNSUPPORTED: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
];

/// Adapts a schema to what the API's strict mode accepts: every object
/// closed with `"additionalProperties": false`, no numeric or length
/// bounds, and no `format` on numbers (`int64`, `uint8`, `double`).
pub(crate) fn make_strict(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    for key in STRICT_UNSUPPORTED {
        map.shift_remove(*key);
    }
    let numeric = match map.get("type") {
        Some(Value::String(t)) => t == "integer" || t == "number",
        Some(Value::Array(types)) => types.iter().any(|t| t == "integer" || t == "number"),
        _ => false,
    };
    if numeric {
        map.shift_remove("format");
    }
    let is_object =
        map.get("type") == Some(&Value::String("object".into())) || map.contains_key("properties");
    if is_object && !map.contains_key("additionalProperties") {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" | "$defs" | "definitions" => {
                if let Value::Object(children) = value {
                    children.values_mut().for_each(make_strict);
                }
            }
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Value::Array(children) = value {
                    children.iter_mut().for_each(make_strict);
                }
            }
            "items" | "additionalProperties" | "not" => make_strict(value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn strict_schemas_lose_bounds_and_close_every_object() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "count": {"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255},
                "name": {"type": "string", "minLength": 1, "maxLength": 1, "format": "email"},
                "point": {"type": "object", "properties": {"x": {"type": "number", "format": "double"}}, "required": ["x"]},
                "items": {"type": "array", "items": {"type": "object", "properties": {"maximum": {"type": "string"}}}}
            },
            "required": ["count"],
            "additionalProperties": false
        });
        make_strict(&mut schema);
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "count": {"type": "integer"},
                    "name": {"type": "string", "format": "email"},
                    "point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"], "additionalProperties": false},
                    "items": {"type": "array", "items": {"type": "object", "properties": {"maximum": {"type": "string"}}, "additionalProperties": false}}
                },
                "required": ["count"],
                "additionalProperties": false
            })
        );
    }
}
