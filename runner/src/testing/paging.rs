//! Paging as the API does it for files, batches and models: `limit`,
//! `after_id` or `before_id` in the query; `data`, `has_more`, `first_id`
//! and `last_id` in the page.

use serde_json::{Value, json};

/// The page of `items` (newest first) that `query` asks for; `id` names
/// an item and `json` describes it.
pub(super) fn page<T>(
    items: &[T],
    query: &str,
    id: impl Fn(&T) -> &str,
    json: impl Fn(&T) -> Value,
) -> Value {
    let limit = param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(20)
        .max(1);
    let position = |wanted: &str| items.iter().position(|item| id(item) == wanted);
    let (page, has_more): (&[T], bool) = if let Some(before) = param(query, "before_id") {
        let end = position(&before).unwrap_or(0);
        let start = end.saturating_sub(limit);
        (&items[start..end], start > 0)
    } else {
        let start = param(query, "after_id")
            .and_then(|after| position(&after))
            .map_or(0, |i| i + 1);
        let end = (start + limit).min(items.len());
        (&items[start..end], end < items.len())
    };
    json!({
        "data": page.iter().map(json).collect::<Vec<_>>(),
        "has_more": has_more,
        "first_id": page.first().map(&id),
        "last_id": page.last().map(&id),
    })
}

/// The value of query parameter `name`, percent-decoded.
pub(super) fn param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| percent_decode(value))
}

/// `text` with `%XX` escapes and `+` decoded.
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path segments after `prefix` in `target`, decoded, and the query.
pub(super) fn route<'a>(target: &'a str, prefix: &str) -> (Vec<String>, &'a str) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let rest = path
        .strip_prefix(prefix)
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    (rest, query)
}
