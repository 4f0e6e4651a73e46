//! Best-effort reading of JSON text that was cut short.
//!
//! A tool's input is streamed as JSON fragments. When the model runs out of
//! tokens the text stops mid-value, and with eager input streaming it may not
//! be valid JSON at all. Like the official SDKs, we keep what can be read:
//! an unfinished string is closed, an unfinished key or literal is dropped,
//! and open objects and arrays are closed.

use serde_json::Value;

/// The value `text` was going to be, as far as it got; `None` when not even
/// a prefix of it reads as JSON.
pub(crate) fn parse_partial(text: &str) -> Option<Value> {
    let scan = Scan::of(text);
    // First the whole text, with an open string closed: this keeps a cut
    // string value and a complete trailing number or literal.
    let mut whole = text.to_owned();
    if scan.in_string {
        if scan.escaped {
            whole.pop();
        }
        whole.push('"');
    }
    whole.push_str(&scan.closers);
    if let Ok(value) = serde_json::from_str(&whole) {
        return Some(value);
    }
    // Then back to the last point where a value had just ended or a container
    // had just opened, dropping the unfinished entry after it.
    let (cut, closers) = scan.last_cut?;
    let mut shorter = text[..cut].to_owned();
    shorter.push_str(&closers);
    serde_json::from_str(&shorter).ok()
}

/// Where a scan of JSON text ended up.
struct Scan {
    /// Closing brackets for the containers still open, innermost first.
    closers: String,
    in_string: bool,
    /// Whether the text ended right after a backslash inside a string.
    escaped: bool,
    /// The last byte offset where the text could end if the given closers
    /// were appended.
    last_cut: Option<(usize, String)>,
}

impl Scan {
    fn of(text: &str) -> Scan {
        let mut stack: Vec<u8> = Vec::new();
        let mut in_string = false;
        let mut escaped = false;
        let mut last_cut = None;
        let closers_of = |stack: &[u8]| -> String {
            stack
                .iter()
                .rev()
                .map(|&open| if open == b'{' { '}' } else { ']' })
                .collect()
        };
        for (i, byte) in text.bytes().enumerate() {
            if in_string {
                match byte {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    stack.push(byte);
                    last_cut = Some((i + 1, closers_of(&stack)));
                }
                b'}' | b']' => {
                    stack.pop();
                    last_cut = Some((i + 1, closers_of(&stack)));
                }
                b',' => last_cut = Some((i, closers_of(&stack))),
                _ => {}
            }
        }
        Scan {
            closers: closers_of(&stack),
            in_string,
            escaped,
            last_cut,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::parse_partial;

    #[test]
    fn cut_text_reads_as_far_as_it_got() {
        let cases = [
            (
                r#"{"path": "/tmp/a.txt", "content": "hel"#,
                json!({"path": "/tmp/a.txt", "content": "hel"}),
            ),
            (r#"{"a": 12"#, json!({"a": 12})),
            (r#"{"a": 1, "b"#, json!({"a": 1})),
            (r#"{"a": 1, "b": "#, json!({"a": 1})),
            (r#"{"a": tr"#, json!({})),
            (
                r#"{"a": [1, 2, {"b": "x\"#,
                json!({"a": [1, 2, {"b": "x"}]}),
            ),
            (r#"{"#, json!({})),
            (r#"{"a": {"b": [true, nul"#, json!({"a": {"b": [true]}})),
            (r#"{"a": "é and ü"#, json!({"a": "é and ü"})),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_partial(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn text_that_is_not_json_at_all_is_none() {
        assert_eq!(parse_partial("not json"), None);
        assert_eq!(parse_partial("}}"), None);
    }
}
