//! JSON and sandbox values, both ways.
//!
//! Tool results reach the program as Python values: JSON text is parsed by
//! jiter, which keeps integers of any size exact (serde_json, built without
//! `arbitrary_precision` here, would round them to `f64`). Arguments go to
//! tools as [`serde_json::Value`], and the program's last value goes to the
//! model as JSON text written here, so its big integers stay exact too.
//!
//! Python values with no JSON form follow `json.dumps`: tuples become
//! arrays, dictionary keys that are numbers, booleans or `None` become
//! strings, and anything else (sets, bytes, NaN) is refused.

use std::fmt::Write as _;
use std::sync::Arc;

use jiter::JsonValue;
use monty_types::MontyObject;
use serde_json::{Map, Number, Value};

/// Values nested deeper than this are refused rather than risk the host's
/// stack; the sandbox's own recursion limit is far lower.
pub(crate) const MAX_DEPTH: usize = 512;

/// Why a sandbox value has no JSON form; the message is Python's own where
/// Python has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NotJson(pub(crate) String);

/// Parses `text` as one JSON value; `None` when it is not JSON.
pub(crate) fn parse_json(text: &str) -> Option<MontyObject> {
    let value = JsonValue::parse(text.as_bytes(), false).ok()?;
    Some(from_jiter(value))
}

fn from_jiter(value: JsonValue<'_>) -> MontyObject {
    match value {
        JsonValue::Null => MontyObject::None,
        JsonValue::Bool(b) => MontyObject::Bool(b),
        JsonValue::Int(i) => MontyObject::Int(i),
        // jiter takes some 19-digit numbers that fit `i64` as big integers.
        JsonValue::BigInt(i) => match i64::try_from(&i) {
            Ok(small) => MontyObject::Int(small),
            Err(_) => MontyObject::BigInt(i),
        },
        JsonValue::Float(f) => MontyObject::Float(f),
        JsonValue::Str(s) => MontyObject::String(s.into_owned()),
        JsonValue::Array(items) => MontyObject::List(
            Arc::try_unwrap(items)
                .unwrap_or_else(|shared| (*shared).clone())
                .into_iter()
                .map(from_jiter)
                .collect(),
        ),
        JsonValue::Object(pairs) => MontyObject::dict(
            Arc::try_unwrap(pairs)
                .unwrap_or_else(|shared| (*shared).clone())
                .into_iter()
                .map(|(k, v)| (MontyObject::String(k.into_owned()), from_jiter(v)))
                .collect::<Vec<_>>(),
        ),
    }
}

/// A [`serde_json::Value`] as a sandbox value. Integers beyond `i64` that
/// fit `u64` become Python ints; serde_json holds nothing larger.
#[cfg(test)]
pub(crate) fn value_to_object(value: &Value) -> MontyObject {
    match value {
        Value::Null => MontyObject::None,
        Value::Bool(b) => MontyObject::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => MontyObject::Int(i),
            (None, Some(u)) => MontyObject::BigInt(u.into()),
            _ => MontyObject::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => MontyObject::String(s.clone()),
        Value::Array(items) => MontyObject::List(items.iter().map(value_to_object).collect()),
        Value::Object(map) => MontyObject::dict(
            map.iter()
                .map(|(k, v)| (MontyObject::String(k.clone()), value_to_object(v)))
                .collect::<Vec<_>>(),
        ),
    }
}

/// A sandbox value as a tool argument.
///
/// # Errors
///
/// When the value has no JSON form, or is an integer beyond 64 bits (a
/// [`serde_json::Value`] cannot hold one).
pub(crate) fn object_to_value(object: &MontyObject) -> Result<Value, NotJson> {
    to_value(object, 0)
}

fn to_value(object: &MontyObject, depth: usize) -> Result<Value, NotJson> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(match object {
        MontyObject::None => Value::Null,
        MontyObject::Bool(b) => Value::Bool(*b),
        MontyObject::Int(i) => Value::from(*i),
        MontyObject::BigInt(i) => match (i64::try_from(i), u64::try_from(i)) {
            (Ok(small), _) => Value::from(small),
            (_, Ok(u)) => Value::from(u),
            _ => {
                return Err(NotJson(format!(
                    "integer {i} does not fit in 64 bits, the most a tool argument can hold"
                )));
            }
        },
        MontyObject::Float(f) => Value::Number(Number::from_f64(*f).ok_or_else(|| bad_float(*f))?),
        MontyObject::String(s) => Value::String(s.clone()),
        MontyObject::List(items)
        | MontyObject::Tuple(items)
        | MontyObject::NamedTuple { values: items, .. } => Value::Array(
            items
                .iter()
                .map(|i| to_value(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        MontyObject::Dict(pairs) => {
            let mut map = Map::with_capacity(pairs.len());
            for (k, v) in pairs {
                map.insert(dict_key(k)?, to_value(v, depth + 1)?);
            }
            Value::Object(map)
        }
        other => return Err(not_serializable(other)),
    })
}

/// A sandbox value as JSON text in `json.dumps` style (`", "` and `": "`
/// separators, non-ASCII kept), with integers of any size exact.
///
/// # Errors
///
/// When the value has no JSON form.
pub(crate) fn object_to_json_text(object: &MontyObject) -> Result<String, NotJson> {
    let mut out = String::new();
    write_json(&mut out, object, 0)?;
    Ok(out)
}

fn write_json(out: &mut String, object: &MontyObject, depth: usize) -> Result<(), NotJson> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    match object {
        MontyObject::None => out.push_str("null"),
        MontyObject::Bool(true) => out.push_str("true"),
        MontyObject::Bool(false) => out.push_str("false"),
        MontyObject::Int(i) => {
            let _ = write!(out, "{i}");
        }
        MontyObject::BigInt(i) => {
            let _ = write!(out, "{i}");
        }
        MontyObject::Float(f) => {
            let number = Number::from_f64(*f).ok_or_else(|| bad_float(*f))?;
            let _ = write!(out, "{number}");
        }
        MontyObject::String(s) => write_str(out, s),
        MontyObject::List(items)
        | MontyObject::Tuple(items)
        | MontyObject::NamedTuple { values: items, .. } => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(out, item, depth + 1)?;
            }
            out.push(']');
        }
        MontyObject::Dict(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, &dict_key(k)?);
                out.push_str(": ");
                write_json(out, v, depth + 1)?;
            }
            out.push('}');
        }
        other => return Err(not_serializable(other)),
    }
    Ok(())
}

fn write_str(out: &mut String, s: &str) {
    // Serializing a string cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// A dictionary key as `json.dumps` writes it.
fn dict_key(key: &MontyObject) -> Result<String, NotJson> {
    match key {
        MontyObject::String(s) => Ok(s.clone()),
        MontyObject::Int(i) => Ok(i.to_string()),
        MontyObject::BigInt(i) => Ok(i.to_string()),
        MontyObject::Float(f) if f.is_finite() => Ok(key.py_repr()),
        MontyObject::Bool(b) => Ok(b.to_string()),
        MontyObject::None => Ok("null".to_owned()),
        other => Err(NotJson(format!(
            "keys must be str, int, float, bool or None, not {}",
            other.type_name()
        ))),
    }
}

fn bad_float(f: f64) -> NotJson {
    NotJson(format!(
        "Out of range float values are not JSON compliant: {}",
        MontyObject::Float(f).py_repr()
    ))
}

fn not_serializable(object: &MontyObject) -> NotJson {
    NotJson(format!(
        "Object of type {} is not JSON serializable",
        object.type_name()
    ))
}

fn too_deep() -> NotJson {
    NotJson(format!("value nested more than {MAX_DEPTH} levels deep"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn big(digits: &str) -> MontyObject {
        MontyObject::BigInt(digits.parse().unwrap())
    }

    #[test]
    fn json_text_becomes_python_values() {
        let parsed = parse_json(r#"{"a": [1, -2.5, true, null, "x"], "b": {}}"#).unwrap();
        assert_eq!(
            parsed,
            MontyObject::dict(vec![
                (
                    MontyObject::String("a".into()),
                    MontyObject::List(vec![
                        MontyObject::Int(1),
                        MontyObject::Float(-2.5),
                        MontyObject::Bool(true),
                        MontyObject::None,
                        MontyObject::String("x".into()),
                    ])
                ),
                (
                    MontyObject::String("b".into()),
                    MontyObject::dict(Vec::new())
                ),
            ])
        );
        assert_eq!(parse_json("sunny in Paris"), None);
        assert_eq!(parse_json(""), None);
        assert_eq!(parse_json("[1, 2] trailing"), None);
    }

    #[test]
    fn big_integers_stay_exact_both_ways() {
        let text = "[123456789012345678901234567890, -98765432109876543210, 18446744073709551615]";
        let parsed = parse_json(text).unwrap();
        assert_eq!(
            parsed,
            MontyObject::List(vec![
                big("123456789012345678901234567890"),
                big("-98765432109876543210"),
                big("18446744073709551615"),
            ])
        );
        assert_eq!(object_to_json_text(&parsed).unwrap(), text);
        // A tool argument holds at most 64 bits: u64::MAX fits, more does not.
        assert_eq!(
            object_to_value(&big("18446744073709551615")).unwrap(),
            json!(u64::MAX)
        );
        let err = object_to_value(&big("18446744073709551616")).unwrap_err();
        assert_eq!(
            err.0,
            "integer 18446744073709551616 does not fit in 64 bits, the most a tool argument can hold"
        );
    }

    #[test]
    fn python_values_follow_json_dumps() {
        let value = MontyObject::dict(vec![
            (
                MontyObject::Int(1),
                MontyObject::Tuple(vec![MontyObject::Int(1), MontyObject::Float(2.0)]),
            ),
            (MontyObject::Bool(true), MontyObject::String("é\"\n".into())),
            (MontyObject::None, MontyObject::None),
        ]);
        assert_eq!(
            object_to_json_text(&value).unwrap(),
            r#"{"1": [1, 2.0], "true": "é\"\n", "null": null}"#
        );
        assert_eq!(
            object_to_value(&value).unwrap(),
            json!({"1": [1, 2.0], "true": "é\"\n", "null": null})
        );
        let set = MontyObject::Set(vec![MontyObject::Int(1)]);
        assert_eq!(
            object_to_value(&set).unwrap_err().0,
            "Object of type set is not JSON serializable"
        );
        let nan = MontyObject::Float(f64::NAN);
        assert_eq!(
            object_to_json_text(&nan).unwrap_err().0,
            "Out of range float values are not JSON compliant: nan"
        );
        let bad_key = MontyObject::dict(vec![(MontyObject::Tuple(vec![]), MontyObject::None)]);
        assert_eq!(
            object_to_value(&bad_key).unwrap_err().0,
            "keys must be str, int, float, bool or None, not tuple"
        );
    }

    #[test]
    fn deep_values_are_refused_not_overflowed() {
        let mut value = MontyObject::None;
        for _ in 0..MAX_DEPTH + 2 {
            value = MontyObject::List(vec![value]);
        }
        assert_eq!(object_to_value(&value).unwrap_err(), too_deep());
        assert_eq!(object_to_json_text(&value).unwrap_err(), too_deep());
    }

    /// A random JSON value from `rng`, with numbers of every kind.
    fn random_json(rng: &mut fastrand::Rng, depth: usize) -> Value {
        let pick = if depth > 3 {
            rng.u8(0..6)
        } else {
            rng.u8(0..8)
        };
        match pick {
            0 => Value::Null,
            1 => Value::Bool(rng.bool()),
            2 => json!(rng.i64(..)),
            3 => json!(rng.u64(..)),
            4 => Number::from_f64(f64::from_bits(rng.u64(..)))
                .map(Value::Number)
                .unwrap_or(json!(0.5)),
            5 => {
                let len = rng.usize(0..8);
                Value::String(
                    (0..len)
                        .map(|_| match rng.u8(0..4) {
                            0 => rng.char('\0'..'\u{7f}'),
                            1 => rng.char('\u{80}'..'\u{d7ff}'),
                            2 => rng.char('\u{10000}'..'\u{10ffff}'),
                            _ => '"',
                        })
                        .collect(),
                )
            }
            6 => Value::Array(
                (0..rng.usize(0..5))
                    .map(|_| random_json(rng, depth + 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.usize(0..5))
                    .map(|i| (format!("k{i}{}", rng.u8(..)), random_json(rng, depth + 1)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn any_json_round_trips_exactly() {
        let mut rng = fastrand::Rng::with_seed(0x5eed);
        for _ in 0..2_000 {
            let value = random_json(&mut rng, 0);
            let text = serde_json::to_string(&value).unwrap();
            // Text -> sandbox, as a tool result.
            let object = parse_json(&text).unwrap_or_else(|| panic!("not parsed: {text}"));
            assert_eq!(object, value_to_object(&value), "{text}");
            // Sandbox -> text -> sandbox, as the program's last value. (Not
            // compared through serde_json, whose float parsing is not exact
            // without `float_roundtrip`.)
            let written = object_to_json_text(&object).unwrap();
            assert_eq!(parse_json(&written), Some(object.clone()), "{text}");
            // Value -> sandbox -> Value, as a tool argument.
            assert_eq!(
                object_to_value(&value_to_object(&value)).unwrap(),
                value,
                "{text}"
            );
            assert_eq!(object_to_value(&object).unwrap(), value, "{text}");
        }
    }
}
