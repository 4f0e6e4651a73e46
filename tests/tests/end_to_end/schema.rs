//! Snapshots of the definitions `#[tool]` generates, in the Messages API's
//! wire format: the input schema of representative signatures, and the
//! options.
//!
//! The API wants a root `"type": "object"` with `properties`, `required` and
//! `"additionalProperties": false`; no `$schema` or `title`; nested types
//! inlined unless recursive; `Option<T>` parameters simply not required.

// The parameter types' fields are only read by serde and schemars.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use toolrunner::{State, ToolCall, Toolset, tool, toolset};

/// The wire JSON of the tool `name`.
fn wire(tools: &Toolset, name: &str) -> Value {
    let Some(tool) = tools.get(name) else {
        panic!("no tool `{name}`");
    };
    serde_json::to_value(tool.definition()).expect("definitions serialize")
}

/// Panics unless no schema object in `value` has a `title` or `$schema`.
fn assert_no_noise(value: &Value, path: &str) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let is_keyword_position =
                    !path.ends_with("/properties") && !path.ends_with("/$defs");
                if is_keyword_position {
                    assert_ne!(key, "title", "`title` at {path}");
                    assert_ne!(key, "$schema", "`$schema` at {path}");
                }
                assert_no_noise(child, &format!("{path}/{key}"));
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                assert_no_noise(child, &format!("{path}/{i}"));
            }
        }
        _ => {}
    }
}

/// Whether a schema admits `null` at its top level.
fn is_nullable(schema: &Value) -> bool {
    let null_type = |t: &Value| {
        t == "null"
            || t.as_array()
                .is_some_and(|ts| ts.iter().any(|t| t == "null"))
    };
    schema.get("type").is_some_and(null_type)
        || ["anyOf", "oneOf"].iter().any(|key| {
            schema
                .get(*key)
                .and_then(Value::as_array)
                .is_some_and(|options| options.iter().any(is_nullable))
        })
}

/// Take one of each primitive.
#[tool]
fn primitives(
    /// Some text.
    text: String,
    count: i64,
    small: u8,
    ratio: f64,
    flag: bool,
    letter: char,
) -> String {
    format!("{text}{count}{small}{ratio}{flag}{letter}")
}

/// Temperature units.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    /// Degrees Celsius.
    Celsius,
    /// Degrees Fahrenheit.
    Fahrenheit,
}

/// Get the current weather for a city.
///
/// Returns the temperature and the conditions.
#[tool]
async fn get_weather(
    /// The city name, e.g. "Paris".
    city: String,
    /// Temperature unit; celsius when left out.
    unit: Option<Unit>,
    /// How many days to forecast.
    #[tool(default = 1)]
    days: u8,
) -> String {
    let _ = (unit, days);
    city
}

/// A shape.
#[derive(Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Shape {
    /// A circle.
    Circle {
        /// Its radius.
        radius: f64,
    },
    /// A rectangle.
    Rectangle { width: f64, height: f64 },
}

/// A postal address.
#[derive(Deserialize, JsonSchema)]
struct Address {
    /// Street and number.
    street: String,
    city: String,
    /// Left out when unknown.
    zip: Option<String>,
}

/// Search options, in camelCase on the wire.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SearchOptions {
    max_results: u32,
    #[serde(rename = "q")]
    query: String,
    #[serde(default)]
    include_archived: bool,
}

/// Exercise structured parameters.
#[tool]
fn structured(
    shape: Shape,
    /// Where to deliver.
    address: Address,
    addresses: Vec<Address>,
    tags: Vec<String>,
    counts: HashMap<String, u32>,
    sorted: BTreeMap<String, Vec<u8>>,
    options: SearchOptions,
    maybe_address: Option<Address>,
) {
    let _ = (
        shape,
        address,
        addresses,
        tags,
        counts,
        sorted,
        options,
        maybe_address,
    );
}

/// A tree of folders.
#[derive(Deserialize, JsonSchema)]
struct Folder {
    name: String,
    children: Vec<Folder>,
}

/// Count the folders in a tree.
#[tool]
fn count_folders(root: Folder) -> usize {
    1 + root.children.into_iter().map(count_folders).sum::<usize>()
}

/// Report the time.
#[tool]
fn now() -> String {
    String::from("noon")
}

struct Db;

/// Rename and hide parameters: context ones are not in the schema.
#[tool(name = "lookup_customer")]
fn lookup(
    db: State<Db>,
    call: ToolCall,
    /// The customer's id.
    #[tool(rename = "customer-id")]
    id: u64,
    r#type: Option<String>,
    #[tool(default)] verbose: bool,
) -> u64 {
    let _ = (db, call, r#type, verbose);
    id
}

/// Called from code only, strictly, and loaded on demand.
#[tool(
    allowed_callers = ["code", "code_execution_20250825"],
    strict = true,
    defer_loading = true
)]
fn options(a: i64) -> i64 {
    a
}

/// Declared for nobody.
#[tool(allowed_callers = [])]
fn nobody() {}

/// Called directly and from code.
#[tool(allowed_callers = ["direct", "code"], description = "An explicit description.")]
fn both() {}

fn tools() -> Toolset {
    toolset![
        primitives,
        get_weather,
        structured,
        count_folders,
        now,
        lookup,
        options,
        nobody,
        both
    ]
}

#[test]
fn primitive_parameters() {
    insta::assert_json_snapshot!("primitives", wire(&tools(), "primitives"));
}

#[test]
fn docs_options_and_unit_enums() {
    insta::assert_json_snapshot!("get_weather", wire(&tools(), "get_weather"));
}

#[test]
fn structured_parameters_are_inlined() {
    insta::assert_json_snapshot!("structured", wire(&tools(), "structured"));
}

#[test]
fn recursive_types_keep_their_definitions() {
    insta::assert_json_snapshot!("count_folders", wire(&tools(), "count_folders"));
}

#[test]
fn no_parameters_is_an_empty_object() {
    insta::assert_json_snapshot!("now", wire(&tools(), "now"));
}

#[test]
fn context_parameters_and_renames() {
    insta::assert_json_snapshot!("lookup_customer", wire(&tools(), "lookup_customer"));
}

#[test]
fn options_on_the_wire() {
    let tools = tools();
    insta::assert_json_snapshot!("options", wire(&tools, "options"));
    insta::assert_json_snapshot!("nobody", wire(&tools, "nobody"));
    insta::assert_json_snapshot!("both", wire(&tools, "both"));
    // Another code-execution version is written where `"code"` was given.
    let wire = tools.wire_definitions("code_execution_20990101");
    let both = wire.iter().find(|d| d["name"] == "both").expect("both");
    assert_eq!(
        both["allowed_callers"],
        serde_json::json!(["direct", "code_execution_20990101"])
    );
}

#[test]
fn every_schema_has_the_shape_the_api_wants() {
    let tools = tools();
    assert_eq!(tools.len(), 9);
    for definition in tools.definitions() {
        let schema = &definition.input_schema;
        let name = &definition.name;
        assert_eq!(schema["type"], "object", "{name}");
        assert!(schema["properties"].is_object(), "{name}");
        assert!(schema["required"].is_array(), "{name}");
        assert_eq!(schema["additionalProperties"], false, "{name}");
        assert!(!definition.description.is_empty(), "{name}");
        assert_no_noise(schema, "");
        // `Option<T>` parameters are optional, never nullable unions.
        for (property, value) in schema["properties"].as_object().into_iter().flatten() {
            assert!(!is_nullable(value), "{name}.{property}: {value}");
        }
    }
}

/// A shape, with data in each variant.
#[derive(Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Figure {
    /// A circle.
    Circle {
        /// The radius, above zero.
        #[schemars(range(min = 0.1))]
        radius: f64,
    },
    /// A rectangle.
    Rect { width: u32, height: u32 },
}

/// A node of a tree.
#[derive(Deserialize, JsonSchema)]
struct TreeNode {
    /// The node's name.
    #[schemars(length(min = 1, max = 40))]
    name: String,
    children: Vec<TreeNode>,
}

/// A nested configuration.
#[derive(Deserialize, JsonSchema)]
struct Layout {
    margins: Margins,
    /// Tags, at least two.
    #[schemars(length(min = 2))]
    tags: Vec<String>,
    /// Where to send the result.
    #[schemars(email)]
    notify: Option<String>,
    #[schemars(url)]
    link: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct Margins {
    top: u8,
    bottom: u8,
}

/// Draw shapes, strictly.
#[tool(strict)]
fn draw(shapes: Vec<Figure>, weights: HashMap<String, f32>, layout: Layout) -> String {
    format!(
        "{} shapes, {} weights, {} tags",
        shapes.len(),
        weights.len(),
        layout.tags.len()
    )
}

/// Store a tree, strictly.
#[tool(strict)]
fn store_tree(root: TreeNode) -> String {
    root.name
}

#[test]
fn strict_schemas_of_enums_with_data_maps_and_nested_types() {
    let tools = toolset![draw];
    insta::assert_json_snapshot!("strict_draw", wire(&tools, "draw"));
}

#[test]
fn strict_schemas_of_recursive_types() {
    let tools = toolset![store_tree];
    insta::assert_json_snapshot!("strict_store_tree", wire(&tools, "store_tree"));
}
