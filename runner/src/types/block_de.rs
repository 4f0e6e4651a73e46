//! Readers for the two blocks every tool-calling turn carries, `text` and
//! `tool_use`, written out by hand. The derived readers' `#[serde(flatten)]`
//! first buffers the whole block into serde's intermediate tree and reads
//! the fields from there, which made reading a reply cost about twice what
//! it needs to. The rules are the derived ones: a required field is
//! required, a known field given twice is an error, and every other field
//! (the `type` tag included) lands in `extra`, in order. Read as a
//! [`ContentBlock`](super::ContentBlock)'s variant, the tag is dropped
//! instead: the variant writes it, and keeping it only to remove it again
//! cost a key, a value and two lookups per block.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::content::{CallerInfo, TextBlock, ToolUseBlock};

/// A field name, borrowed from the input when it has no escapes.
pub(super) struct Key<'de>(pub(super) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }

            fn visit_string<E: de::Error>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Fills a field once; a second value is the derived readers' error.
fn put<T, E: de::Error>(slot: &mut Option<T>, field: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}

/// Whether a block's `type` is kept in `extra`, as the derived readers
/// keep it, or dropped, as a [`ContentBlock`](super::ContentBlock) wants.
#[derive(Clone, Copy)]
pub(super) enum Tag {
    Keep,
    Drop,
}

/// The fields both blocks read alike: `cache_control`, the tag, and the
/// rest into `extra`.
fn shared<'de, A: MapAccess<'de>>(
    map: &mut A,
    key: Cow<'de, str>,
    tag: Tag,
    cache_control: &mut Option<Option<Value>>,
    extra: &mut Map<String, Value>,
) -> Result<(), A::Error> {
    match (&*key, tag) {
        ("cache_control", _) => put(cache_control, "cache_control", map.next_value()?),
        ("type", Tag::Drop) => map.next_value::<de::IgnoredAny>().map(drop),
        _ => {
            extra.insert(key.into_owned(), map.next_value()?);
            Ok(())
        }
    }
}

impl<'de> Deserialize<'de> for TextBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        text(deserializer, Tag::Keep)
    }
}

/// Reads a `text` block, its tag kept or dropped as `tag` says.
pub(super) fn text<'de, D: Deserializer<'de>>(
    deserializer: D,
    tag: Tag,
) -> Result<TextBlock, D::Error> {
    struct TextVisitor(Tag);

    impl<'de> Visitor<'de> for TextVisitor {
        type Value = TextBlock;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a text block")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TextBlock, A::Error> {
            let (mut text, mut cache_control) = (None, None);
            let mut extra = Map::new();
            while let Some(Key(key)) = map.next_key()? {
                match &*key {
                    "text" => put(&mut text, "text", map.next_value::<String>()?)?,
                    _ => shared(&mut map, key, self.0, &mut cache_control, &mut extra)?,
                }
            }
            Ok(TextBlock {
                text: text.ok_or_else(|| de::Error::missing_field("text"))?,
                cache_control: cache_control.flatten(),
                extra,
            })
        }
    }

    deserializer.deserialize_map(TextVisitor(tag))
}

impl<'de> Deserialize<'de> for ToolUseBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        tool_use(deserializer, Tag::Keep)
    }
}

/// Reads a `tool_use` block, its tag kept or dropped as `tag` says.
pub(super) fn tool_use<'de, D: Deserializer<'de>>(
    deserializer: D,
    tag: Tag,
) -> Result<ToolUseBlock, D::Error> {
    struct ToolUseVisitor(Tag);

    impl<'de> Visitor<'de> for ToolUseVisitor {
        type Value = ToolUseBlock;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a tool_use block")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ToolUseBlock, A::Error> {
            let (mut id, mut name, mut input) = (None, None, None);
            let (mut caller, mut cache_control) = (None, None);
            let mut extra = Map::new();
            while let Some(Key(key)) = map.next_key()? {
                match &*key {
                    "id" => put(&mut id, "id", map.next_value::<String>()?)?,
                    "name" => put(&mut name, "name", map.next_value::<String>()?)?,
                    "input" => put(&mut input, "input", map.next_value::<Value>()?)?,
                    "caller" => put(
                        &mut caller,
                        "caller",
                        map.next_value::<Option<CallerInfo>>()?,
                    )?,
                    _ => shared(&mut map, key, self.0, &mut cache_control, &mut extra)?,
                }
            }
            Ok(ToolUseBlock {
                id: id.ok_or_else(|| de::Error::missing_field("id"))?,
                name: name.ok_or_else(|| de::Error::missing_field("name"))?,
                input: input.ok_or_else(|| de::Error::missing_field("input"))?,
                caller: caller.flatten(),
                cache_control: cache_control.flatten(),
                extra,
                input_error: None,
            })
        }
    }

    deserializer.deserialize_map(ToolUseVisitor(tag))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_keeps_unknown_fields_in_order_and_requires_text() {
        let block: TextBlock = serde_json::from_value(json!({
            "type": "text", "text": "hi", "citations": [1], "cache_control": {"type": "ephemeral"}, "z": null
        }))
        .unwrap();
        assert_eq!(block.text, "hi");
        assert_eq!(block.cache_control, Some(json!({"type": "ephemeral"})));
        assert_eq!(
            block.extra.keys().collect::<Vec<_>>(),
            ["type", "citations", "z"]
        );
        let err = serde_json::from_str::<TextBlock>(r#"{"type": "text"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `text`"), "{err}");
        let err = serde_json::from_str::<TextBlock>(r#"{"text": "a", "text": "b"}"#).unwrap_err();
        assert!(err.to_string().contains("duplicate field `text`"), "{err}");
        let err = serde_json::from_str::<TextBlock>(r#"{"text": 1}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }

    #[test]
    fn tool_use_reads_every_field_and_requires_id_name_and_input() {
        let block: ToolUseBlock = serde_json::from_str(
            r#"{"type": "tool_use", "id": "t\u0031", "name": "n", "input": {"b": 1, "a": 2},
                "caller": {"type": "direct"}, "cache_control": null, "new": true}"#,
        )
        .unwrap();
        assert_eq!(block.id, "t1");
        assert_eq!(block.name, "n");
        assert_eq!(
            serde_json::to_string(&block.input).unwrap(),
            r#"{"b":1,"a":2}"#
        );
        assert!(block.caller.is_some());
        assert_eq!(block.cache_control, None);
        assert_eq!(block.extra.keys().collect::<Vec<_>>(), ["type", "new"]);
        assert_eq!(block.input_error, None);
        for (json, field) in [
            (r#"{"name": "n", "input": {}}"#, "id"),
            (r#"{"id": "t", "input": {}}"#, "name"),
            (r#"{"id": "t", "name": "n"}"#, "input"),
        ] {
            let err = serde_json::from_str::<ToolUseBlock>(json).unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("missing field `{field}`")),
                "{err}"
            );
        }
    }
}
