//! Checking an input against the constraints strict mode cannot enforce.
//!
//! The schema sent for a strict tool leaves out numeric bounds, lengths and
//! item counts (see `strict.rs`), so the API no longer guarantees them. The
//! input is checked against the tool's own schema when it is read, so a tool
//! never runs on a value its schema rules out.

use serde_json::Value;

/// The first constraint of `schema` that `input` breaks, as a message naming
/// the value's path; `None` when it breaks none. Only the keywords strict mode
/// drops are checked: the rest the API enforced already.
pub(crate) fn violation(schema: &Value, input: &Value) -> Option<String> {
    check(schema, schema, input, "input", 0)
}

/// How deep `$ref`s are followed: far enough for any real input, and a
/// bound on a schema that refers to itself without consuming input.
const MAX_DEPTH: usize = 64;

fn check(root: &Value, schema: &Value, value: &Value, path: &str, depth: usize) -> Option<String> {
    let map = schema.as_object()?;
    if depth > MAX_DEPTH {
        return None;
    }
    if let Some(target) = map.get("$ref").and_then(Value::as_str)
        && let Some(name) = target.strip_prefix("#/$defs/")
        && let Some(def) = root.get("$defs").and_then(|defs| defs.get(name))
        && let Some(found) = check(root, def, value, path, depth + 1)
    {
        return Some(found);
    }
    if let Some(number) = value.as_f64() {
        let bound = |key: &str| map.get(key).and_then(Value::as_f64);
        let broken = [
            bound("minimum")
                .filter(|min| number < *min)
                .map(|min| format!("at least {min}")),
            bound("maximum")
                .filter(|max| number > *max)
                .map(|max| format!("at most {max}")),
            bound("exclusiveMinimum")
                .filter(|min| number <= *min)
                .map(|min| format!("above {min}")),
            bound("exclusiveMaximum")
                .filter(|max| number >= *max)
                .map(|max| format!("below {max}")),
            bound("multipleOf")
                .filter(|m| *m > 0.0 && (number / m).fract().abs() > 1e-9)
                .map(|m| format!("a multiple of {m}")),
        ];
        if let Some(rule) = broken.into_iter().flatten().next() {
            return Some(format!("`{path}` is {number}, but must be {rule}"));
        }
    }
    if let Some(text) = value.as_str() {
        let chars = text.chars().count() as u64;
        let bound = |key: &str| map.get(key).and_then(Value::as_u64);
        if let Some(min) = bound("minLength").filter(|min| chars < *min) {
            return Some(format!(
                "`{path}` has {chars} characters, but must have at least {min}"
            ));
        }
        if let Some(max) = bound("maxLength").filter(|max| chars > *max) {
            return Some(format!(
                "`{path}` has {chars} characters, but must have at most {max}"
            ));
        }
    }
    if let Some(items) = value.as_array() {
        let count = items.len() as u64;
        let bound = |key: &str| map.get(key).and_then(Value::as_u64);
        if let Some(min) = bound("minItems").filter(|min| count < *min) {
            return Some(format!(
                "`{path}` has {count} items, but must have at least {min}"
            ));
        }
        if let Some(max) = bound("maxItems").filter(|max| count > *max) {
            return Some(format!(
                "`{path}` has {count} items, but must have at most {max}"
            ));
        }
        if let Some(item_schema) = map.get("items") {
            for (i, item) in items.iter().enumerate() {
                if let Some(found) =
                    check(root, item_schema, item, &format!("{path}[{i}]"), depth + 1)
                {
                    return Some(found);
                }
            }
        }
    }
    if let (Some(fields), Some(properties)) = (
        value.as_object(),
        map.get("properties").and_then(Value::as_object),
    ) {
        for (key, field) in fields {
            if let Some(property) = properties.get(key)
                && let Some(found) =
                    check(root, property, field, &format!("{path}.{key}"), depth + 1)
            {
                return Some(found);
            }
        }
    }
    if let Some(all) = map.get("allOf").and_then(Value::as_array) {
        for part in all {
            if let Some(found) = check(root, part, value, path, depth + 1) {
                return Some(found);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::violation;

    #[test]
    fn bounds_the_wire_schema_lost_are_checked_with_the_value_path() {
        let schema = json!({
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 1, "maximum": 10},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "minItems": 2},
                "tree": {"$ref": "#/$defs/Node"}
            },
            "$defs": {"Node": {"type": "object", "properties": {
                "name": {"type": "string", "minLength": 1},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}}
        });
        assert_eq!(
            violation(&schema, &json!({"n": 5, "tags": ["a", "b"]})),
            None
        );
        assert_eq!(
            violation(&schema, &json!({"n": 11})).as_deref(),
            Some("`input.n` is 11, but must be at most 10")
        );
        assert_eq!(
            violation(&schema, &json!({"tags": ["a"]})).as_deref(),
            Some("`input.tags` has 1 items, but must have at least 2")
        );
        assert_eq!(
            violation(&schema, &json!({"tags": ["a", "long"]})).as_deref(),
            Some("`input.tags[1]` has 4 characters, but must have at most 3")
        );
        assert_eq!(
            violation(
                &schema,
                &json!({"tree": {"name": "a", "children": [{"name": ""}]}})
            )
            .as_deref(),
            Some("`input.tree.children[0].name` has 0 characters, but must have at least 1")
        );
    }
}
