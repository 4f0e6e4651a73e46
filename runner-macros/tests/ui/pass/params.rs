//! Parameter forms: `Option`, defaults, renames, raw identifiers, `mut`,
//! docs, types from `macro_rules!`, and no parameters at all.

use std::collections::{BTreeMap, HashMap};

use toolrunner::{tool, toolset};

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

fn default_city() -> String {
    String::from("Paris")
}

/// Get the weather.
#[tool]
fn weather(
    /// The city name, e.g. "Paris".
    #[tool(default = default_city())]
    city: String,
    /// Temperature unit; celsius when left out.
    unit: Option<Unit>,
    #[tool(default)] days: u8,
    #[tool(default = Some(3))] hours: Option<u8>,
    #[tool(rename = "type")] kind: String,
    r#match: bool,
    mut tags: Vec<String>,
    extra: HashMap<String, String>,
    sorted: BTreeMap<String, i64>,
    full: std::option::Option<u8>,
) -> String {
    tags.push(kind);
    let _ = (city, unit, days, hours, r#match, extra, sorted, full);
    tags.join(",")
}

/// Take a documented parameter, with a doc comment written as an attribute.
#[tool]
fn attr_docs(#[doc = " The value."] value: u8) -> u8 {
    value
}

/**
 * Block doc comments work too.
 */
#[tool]
fn block_docs() {}

/// Take nothing.
#[tool]
fn nothing() {}

/// Give the wrong time.
#[tool]
fn clock() -> &'static str {
    "noon"
}

macro_rules! typed_tool {
    ($name:ident, $ty:ty) => {
        /// Made by a macro.
        #[tool]
        fn $name(value: $ty, maybe: Option<$ty>) -> $ty {
            maybe.unwrap_or(value)
        }
    };
}

typed_tool!(through_macro, u32);

fn main() {
    let _ = weather(
        String::new(),
        None,
        0,
        None,
        String::new(),
        true,
        vec![],
        HashMap::new(),
        BTreeMap::new(),
        None,
    );
    assert_eq!(attr_docs(1), 1);
    nothing();
    block_docs();
    assert_eq!(clock(), "noon");
    assert_eq!(through_macro(1, None), 1);
    let tools = toolset![weather, attr_docs, block_docs, nothing, clock, through_macro];
    assert_eq!(tools.len(), 6);
}
