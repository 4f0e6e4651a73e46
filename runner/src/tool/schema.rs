//! Input schemas in the shape the Messages API wants.
//!
//! schemars does the type work; this module assembles one object schema from
//! a tool's parameters and strips what the API does not need: `$schema`,
//! `title`, and `$defs` of types that are not recursive (those are inlined).
//! Struct-like objects are closed at every depth (`additionalProperties:
//! false`), as the input object itself is: inputs are checked against this
//! schema, so a nested struct rejects unknown fields too.

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
        close_objects(&mut root);
        root
    }
}

/// Closes every struct-like object schema below the root (which is closed
/// already): one with `properties` and nothing else that decides which
/// other fields it takes. The model is told not to invent fields, and a
/// tool's input checked against the schema rejects them at every depth, as
/// it does at the top. Maps (`additionalProperties` set) and compositions
/// (`allOf`, `anyOf`, `oneOf`, `$ref`), whose properties may come from
/// elsewhere, are left open.
fn close_objects(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    const DECIDES_FIELDS: [&str; 8] = [
        "additionalProperties",
        "unevaluatedProperties",
        "patternProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "$ref",
        "if",
    ];
    if map.contains_key("properties") && !DECIDES_FIELDS.iter().any(|k| map.contains_key(*k)) {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" | "$defs" | "definitions" | "patternProperties" | "dependentSchemas" => {
                if let Value::Object(children) = value {
                    children.values_mut().for_each(close_objects);
                }
            }
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Value::Array(children) = value {
                    children.iter_mut().for_each(close_objects);
                }
            }
            "items" | "additionalProperties" | "not" | "then" | "else" | "contains" => {
                close_objects(value)
            }
            _ => {}
        }
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

pub(crate) use super::strict::make_strict;
