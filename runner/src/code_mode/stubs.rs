//! Python stubs for tools, generated from their JSON schemas, and the
//! bindings that map a call from Python back to the tool.
//!
//! Each tool becomes `async def name(*, param: type, ...) -> Any` with the
//! tool's description as its docstring. Schema types map to Python's:
//! `enum` and `const` to `Literal`, nullable types and optional parameters
//! to `| None`, arrays to `list`, objects with properties to `TypedDict`s
//! (named from the tool and the property, or from a `$defs` entry), other
//! objects to `dict[str, ...]`. What has no Python counterpart is `Any`.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::names::{NameTable, is_identifier, pascal_case};
use crate::tool::ToolDefinition;

/// A signature longer than this is written one parameter per line.
const MAX_SIGNATURE_WIDTH: usize = 88;

/// Schemas nested deeper than this render as `Any`.
const MAX_TYPE_DEPTH: usize = 32;

/// The stubs of a set of tools, and how to call each tool from Python.
#[derive(Debug)]
pub(crate) struct Stubs {
    /// Python source declaring every function and the types it uses.
    pub(crate) source: String,
    /// One binding per tool, in the order given.
    pub(crate) bindings: Vec<Binding>,
}

/// How a Python function maps to its tool.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Binding {
    /// The function's Python name.
    pub(crate) function: String,
    /// The tool's name.
    pub(crate) tool: String,
    /// The keyword parameters, in schema order.
    pub(crate) params: Vec<Param>,
    /// Whether the tool accepts properties beyond `params` (its schema does
    /// not set `additionalProperties: false`); they pass through by name.
    pub(crate) extra: bool,
}

/// One keyword parameter.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Param {
    /// The parameter's Python name.
    pub(crate) name: String,
    /// The input property it fills.
    pub(crate) property: String,
    /// Whether the schema requires it.
    pub(crate) required: bool,
}

impl Binding {
    /// The parameter with Python name `name`.
    pub(crate) fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// The stubs for `tools`, in order.
pub(crate) fn generate<'a>(tools: impl IntoIterator<Item = &'a ToolDefinition>) -> Stubs {
    let tools: Vec<&ToolDefinition> = tools.into_iter().collect();
    let mut names = NameTable::module_level();
    // Functions are named first so that the classes make way for them.
    let functions: Vec<String> = tools.iter().map(|def| names.assign(&def.name)).collect();
    let mut imports = Imports::default();
    let mut blocks = Vec::new();
    let mut bindings = Vec::new();
    for (def, function) in tools.into_iter().zip(functions) {
        let mut writer = ToolWriter {
            root: &def.input_schema,
            names: &mut names,
            imports: &mut imports,
            classes: Vec::new(),
            refs: HashMap::new(),
            in_progress: HashSet::new(),
        };
        let (stub, binding) = writer.function(def, function);
        blocks.append(&mut writer.classes);
        blocks.push(stub);
        bindings.push(binding);
    }
    let mut source = imports.line();
    for block in blocks {
        source.push_str("\n\n");
        source.push_str(&block);
    }
    Stubs { source, bindings }
}

/// The names the stubs import from `typing`.
#[derive(Default)]
struct Imports {
    literal: bool,
    not_required: bool,
    typed_dict: bool,
}

impl Imports {
    fn line(&self) -> String {
        let mut names = vec!["Any"];
        if self.literal {
            names.push("Literal");
        }
        if self.not_required {
            names.push("NotRequired");
        }
        if self.typed_dict {
            names.push("TypedDict");
        }
        format!("from typing import {}\n", names.join(", "))
    }
}

/// Writes the stub of one tool, and the classes its types need.
struct ToolWriter<'a> {
    root: &'a Value,
    names: &'a mut NameTable,
    imports: &'a mut Imports,
    /// Class definitions, in the order they must appear.
    classes: Vec<String>,
    /// `$defs` entries already written as classes, by entry name.
    refs: HashMap<String, String>,
    /// `$defs` entries being written, to break cycles.
    in_progress: HashSet<String>,
}

/// A parameter as the signature shows it.
struct Signature {
    name: String,
    ty: String,
    default: Option<String>,
    description: Option<String>,
}

impl ToolWriter<'_> {
    fn function(&mut self, def: &ToolDefinition, function: String) -> (String, Binding) {
        let schema = def.input_schema.as_object();
        let properties = schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object);
        let required = required_set(schema);
        let extra = schema
            .and_then(|s| s.get("additionalProperties"))
            .is_none_or(|a| *a != Value::Bool(false));

        let mut param_names = NameTable::default();
        let mut params = Vec::new();
        let mut signature = Vec::new();
        for (property, prop_schema) in properties.into_iter().flatten() {
            let name = param_names.assign(property);
            let is_required = required.contains(property.as_str());
            let hint = format!("{}{}", pascal_case(&function), pascal_case(property));
            let mut members = self.members(prop_schema, &hint, 0);
            let default = match prop_schema.get("default") {
                Some(value) if !is_required => Some(py_literal(value)),
                _ if is_required => None,
                _ => {
                    push_unique(&mut members, "None".to_owned());
                    Some("None".to_owned())
                }
            };
            signature.push(Signature {
                name: name.clone(),
                ty: members.join(" | "),
                default,
                description: prop_schema
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
            params.push(Param {
                name,
                property: property.clone(),
                required: is_required,
            });
        }

        let stub = write_function(&function, &def.description, &signature, extra);
        let binding = Binding {
            function,
            tool: def.name.clone(),
            params,
            extra,
        };
        (stub, binding)
    }

    /// The members of the union type `schema` describes, without repeats.
    fn members(&mut self, schema: &Value, hint: &str, depth: usize) -> Vec<String> {
        let Some(map) = schema.as_object() else {
            return vec!["Any".to_owned()];
        };
        if depth > MAX_TYPE_DEPTH {
            return vec!["Any".to_owned()];
        }
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            return self.reference(reference, hint, depth);
        }
        if let Some(value) = map.get("const") {
            return self.literal(std::slice::from_ref(value));
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            return self.literal(values);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(options)) = map.get(key) {
                let mut out = Vec::new();
                for option in options {
                    for member in self.members(option, hint, depth + 1) {
                        push_unique(&mut out, member);
                    }
                }
                return none_last(out);
            }
        }
        if let Some(Value::Array(parts)) = map.get("allOf")
            && let [only] = parts.as_slice()
        {
            return self.members(only, hint, depth + 1);
        }
        match map.get("type") {
            Some(Value::String(ty)) => vec![self.type_name(ty, map, hint, depth)],
            Some(Value::Array(types)) => {
                let mut out = Vec::new();
                for ty in types.iter().filter_map(Value::as_str) {
                    push_unique(&mut out, self.type_name(ty, map, hint, depth));
                }
                none_last(out)
            }
            _ if map.contains_key("properties") => vec![self.object(map, hint, depth)],
            _ if map.contains_key("items") || map.contains_key("prefixItems") => {
                vec![self.type_name("array", map, hint, depth)]
            }
            _ => vec!["Any".to_owned()],
        }
    }

    fn type_name(
        &mut self,
        ty: &str,
        map: &Map<String, Value>,
        hint: &str,
        depth: usize,
    ) -> String {
        match ty {
            "string" => "str".to_owned(),
            "integer" => "int".to_owned(),
            "number" => "float".to_owned(),
            "boolean" => "bool".to_owned(),
            "null" => "None".to_owned(),
            "array" => {
                if let Some(Value::Array(items)) = map.get("prefixItems") {
                    let items: Vec<String> = items
                        .iter()
                        .map(|item| {
                            self.members(item, &format!("{hint}Item"), depth + 1)
                                .join(" | ")
                        })
                        .collect();
                    return format!("tuple[{}]", items.join(", "));
                }
                match map.get("items") {
                    Some(items) => format!(
                        "list[{}]",
                        self.members(items, &format!("{hint}Item"), depth + 1)
                            .join(" | ")
                    ),
                    None => "list[Any]".to_owned(),
                }
            }
            "object" => self.object(map, hint, depth),
            _ => "Any".to_owned(),
        }
    }

    /// `Literal[...]` for the values Python literals can hold, `None` for
    /// null, and the plain type for the rest (floats, arrays, objects).
    fn literal(&mut self, values: &[Value]) -> Vec<String> {
        let mut literals = Vec::new();
        let mut out = Vec::new();
        let mut null = false;
        for value in values {
            match value {
                Value::Null => null = true,
                Value::String(_) | Value::Bool(_) => literals.push(py_literal(value)),
                Value::Number(n) if n.is_i64() || n.is_u64() => literals.push(py_literal(value)),
                Value::Number(_) => push_unique(&mut out, "float".to_owned()),
                Value::Array(_) => push_unique(&mut out, "list[Any]".to_owned()),
                Value::Object(_) => push_unique(&mut out, "dict[str, Any]".to_owned()),
            }
        }
        if !literals.is_empty() {
            self.imports.literal = true;
            out.insert(0, format!("Literal[{}]", literals.join(", ")));
        }
        if null {
            out.push("None".to_owned());
        }
        if out.is_empty() {
            out.push("Any".to_owned());
        }
        out
    }

    fn object(&mut self, map: &Map<String, Value>, hint: &str, depth: usize) -> String {
        let has_properties = map
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty());
        if has_properties {
            // An inlined object's description is its property's, which the
            // field's comment already shows.
            let mut fields = map.clone();
            fields.remove("description");
            // schemars inlines the first use of a recursive type and puts the
            // type in `$defs` for the others: one class serves both.
            if let Some(entry) = self.same_definition(&fields) {
                return self
                    .reference(&format!("#/$defs/{entry}"), hint, depth)
                    .join(" | ");
            }
            let name = self.names.assign(&pascal_case(hint));
            self.typed_dict(&fields, &name, depth);
            return name;
        }
        match map.get("additionalProperties") {
            Some(values @ Value::Object(_)) => format!(
                "dict[str, {}]",
                self.members(values, &format!("{hint}Value"), depth + 1)
                    .join(" | ")
            ),
            _ => "dict[str, Any]".to_owned(),
        }
    }

    /// Writes the `TypedDict` `name` for an object schema with properties.
    fn typed_dict(&mut self, map: &Map<String, Value>, name: &str, depth: usize) {
        self.imports.typed_dict = true;
        let required = required_set(Some(map));
        let properties = map.get("properties").and_then(Value::as_object);
        let mut fields = Vec::new();
        for (key, schema) in properties.into_iter().flatten() {
            let mut ty = self
                .members(schema, &format!("{name}{}", pascal_case(key)), depth + 1)
                .join(" | ");
            if !required.contains(key.as_str()) {
                self.imports.not_required = true;
                ty = format!("NotRequired[{ty}]");
            }
            let comment = schema
                .get("description")
                .and_then(Value::as_str)
                .map(|d| format!("  # {}", one_line(d)))
                .unwrap_or_default();
            fields.push((key, ty, comment));
        }
        let mut out = String::new();
        if fields.iter().all(|(key, ..)| is_identifier(key)) {
            let _ = writeln!(out, "class {name}(TypedDict):");
            if let Some(description) = map.get("description").and_then(Value::as_str) {
                let _ = writeln!(out, "{}", docstring(description, "    "));
            }
            for (key, ty, comment) in &fields {
                let _ = writeln!(out, "    {key}: {ty}{comment}");
            }
            if fields.is_empty() {
                out.push_str("    pass\n");
            }
        } else {
            // Keys that are not identifiers need the functional syntax.
            let _ = writeln!(out, "{name} = TypedDict(\"{name}\", {{");
            for (key, ty, comment) in &fields {
                let _ = writeln!(
                    out,
                    "    {}: {ty},{comment}",
                    py_literal(&Value::String((*key).clone()))
                );
            }
            out.push_str("})\n");
        }
        self.classes.push(out);
    }

    /// The `$defs` entry whose schema is `fields`, descriptions aside.
    fn same_definition(&self, fields: &Map<String, Value>) -> Option<String> {
        let defs = self.root.get("$defs").and_then(Value::as_object)?;
        defs.iter()
            .find(|(_, def)| {
                def.as_object().is_some_and(|def| {
                    let mut def = def.clone();
                    def.remove("description");
                    def == *fields
                })
            })
            .map(|(entry, _)| entry.clone())
    }

    fn reference(&mut self, reference: &str, hint: &str, depth: usize) -> Vec<String> {
        let Some(entry) = reference
            .strip_prefix("#/$defs/")
            .or_else(|| reference.strip_prefix("#/definitions/"))
        else {
            return vec!["Any".to_owned()];
        };
        if let Some(class) = self.refs.get(entry) {
            // A class still being written is named before it exists.
            return vec![if self.in_progress.contains(entry) {
                format!("\"{class}\"")
            } else {
                class.clone()
            }];
        }
        let root = self.root;
        let Some(target) = ["$defs", "definitions"]
            .iter()
            .find_map(|key| root.get(key).and_then(|defs| defs.get(entry)))
            .and_then(Value::as_object)
        else {
            return vec!["Any".to_owned()];
        };
        if self.in_progress.contains(entry) {
            // A cycle through types that are not classes.
            return vec!["Any".to_owned()];
        }
        self.in_progress.insert(entry.to_owned());
        let is_class = target
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty());
        let out = if is_class {
            let class = self.names.assign(&pascal_case(entry));
            self.refs.insert(entry.to_owned(), class.clone());
            self.typed_dict(target, &class, depth);
            vec![class]
        } else {
            self.members(&Value::Object(target.clone()), hint, depth + 1)
        };
        self.in_progress.remove(entry);
        out
    }
}

fn write_function(function: &str, description: &str, params: &[Signature], extra: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !params.is_empty() {
        parts.push("*".to_owned());
    }
    for param in params {
        let mut part = format!("{}: {}", param.name, param.ty);
        if let Some(default) = &param.default {
            let _ = write!(part, " = {default}");
        }
        parts.push(part);
    }
    if extra {
        parts.push("**kwargs: Any".to_owned());
    }
    let one_line = format!("async def {function}({}) -> Any:", parts.join(", "));
    let mut out = if one_line.len() <= MAX_SIGNATURE_WIDTH {
        one_line
    } else {
        let mut out = format!("async def {function}(\n");
        for part in &parts {
            let _ = writeln!(out, "    {part},");
        }
        out.push_str(") -> Any:");
        out
    };
    out.push('\n');

    let mut doc = description.trim().to_owned();
    let described: Vec<&Signature> = params.iter().filter(|p| p.description.is_some()).collect();
    if !described.is_empty() {
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str("Args:");
        for param in described {
            let text = param.description.as_deref().unwrap_or_default().trim();
            let _ = write!(
                doc,
                "\n    {}: {}",
                param.name,
                text.replace('\n', "\n        ")
            );
        }
    }
    if doc.is_empty() {
        out.push_str("    ...\n");
    } else {
        out.push_str(&docstring(&doc, "    "));
        out.push('\n');
    }
    out
}

/// `text` as a docstring indented by `indent`; a multi-line one closes on
/// its own line.
fn docstring(text: &str, indent: &str) -> String {
    // Three quotes would end the docstring early.
    let text = text.trim().replace("\"\"\"", "'''");
    if !text.contains('\n') {
        return format!("{indent}\"\"\"{text}\"\"\"");
    }
    let mut out = format!("{indent}\"\"\"");
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.trim().is_empty() {
                out.push_str(indent);
            }
        }
        out.push_str(line.trim_end());
    }
    let _ = write!(out, "\n{indent}\"\"\"");
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn required_set(schema: Option<&Map<String, Value>>) -> HashSet<&str> {
    schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn push_unique(out: &mut Vec<String>, member: String) {
    if !out.contains(&member) {
        out.push(member);
    }
}

/// Puts `None` at the end of a union, where readers expect it.
fn none_last(mut members: Vec<String>) -> Vec<String> {
    if let Some(i) = members.iter().position(|m| m == "None") {
        let none = members.remove(i);
        members.push(none);
    }
    members
}

/// A JSON value as a Python literal.
fn py_literal(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        // JSON string escapes are valid Python string escapes.
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    py_literal(&Value::String(k.clone())),
                    py_literal(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stub(schema: Value) -> String {
        let def = ToolDefinition::new("t", "Do it.", schema);
        generate([&def]).source
    }

    #[test]
    fn scalar_types_optional_and_literal() {
        let source = stub(json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city."},
                "unit": {"anyOf": [{"type": "string", "enum": ["celsius", "fahrenheit"]}, {"type": "null"}]},
                "days": {"type": ["integer", "null"], "default": 3},
                "exact": {"type": "boolean"}
            },
            "required": ["city", "exact"],
            "additionalProperties": false
        }));
        assert_eq!(
            source,
            r#"from typing import Any, Literal


async def t(
    *,
    city: str,
    unit: Literal["celsius", "fahrenheit"] | None = None,
    days: int | None = 3,
    exact: bool,
) -> Any:
    """Do it.

    Args:
        city: The city.
    """
"#
        );
    }

    #[test]
    fn recursive_definitions_refer_to_themselves() {
        let source = stub(json!({
            "type": "object",
            "properties": {"tree": {"$ref": "#/$defs/Node"}},
            "required": ["tree"],
            "additionalProperties": false,
            "$defs": {"Node": {"type": "object", "properties": {
                "value": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }, "required": ["value"]}}
        }));
        assert!(source.contains("class Node(TypedDict):\n    value: int\n    children: NotRequired[list[\"Node\"]]\n"), "{source}");
        assert!(
            source.contains("async def t(*, tree: Node) -> Any:"),
            "{source}"
        );
    }

    #[test]
    fn open_schemas_take_keyword_arguments() {
        let def = ToolDefinition::new("echo", "", json!({"type": "object"}));
        let stubs = generate([&def]);
        assert!(
            stubs
                .source
                .contains("async def echo(**kwargs: Any) -> Any:\n    ...\n"),
            "{}",
            stubs.source
        );
        assert!(stubs.bindings[0].extra);
    }

    #[test]
    fn parameter_names_are_mapped() {
        let def = ToolDefinition::new(
            "get-user",
            "Get a user.",
            json!({"type": "object", "properties": {"user-id": {"type": "string"}, "from": {"type": "integer"}},
                   "required": ["user-id"], "additionalProperties": false}),
        );
        let stubs = generate([&def]);
        let binding = &stubs.bindings[0];
        assert_eq!(binding.function, "get_user");
        assert_eq!(binding.tool, "get-user");
        assert_eq!(
            binding.params,
            [
                Param {
                    name: "user_id".into(),
                    property: "user-id".into(),
                    required: true
                },
                Param {
                    name: "from_".into(),
                    property: "from".into(),
                    required: false
                },
            ]
        );
        assert!(
            stubs
                .source
                .contains("async def get_user(*, user_id: str, from_: int | None = None) -> Any:")
        );
    }
}
