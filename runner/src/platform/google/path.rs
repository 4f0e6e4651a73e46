//! Path segments from values, encoded as the official SDKs encode them.

use std::fmt::Write as _;

use crate::error::Error;

/// `value` percent-encoded for one URL path segment: every byte outside
/// RFC 3986's `pchar` set is encoded, `/` included.
pub(crate) fn encode_segment(value: &str) -> String {
    const SAFE: &[u8] = b"-._~!$&'()*+,;=:@";
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || SAFE.contains(&byte) {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `path`, a path built from encoded segments, checked as the SDKs check
/// one: a segment that is `.` or `..` (percent-encoded or not, before any
/// `;`) would climb out of the route, and one starting with `;` would be
/// dropped by servers that cut `;` and what follows. The last segment's
/// `;` is encoded, so that such a server does not drop the method after it.
///
/// # Errors
///
/// A configuration error naming `platform`, `what` and the segment.
pub(crate) fn checked_path(path: &str, platform: &str, what: &str) -> Result<String, Error> {
    for segment in path.split('/') {
        let head = segment.split(';').next().unwrap_or_default();
        let dots = head.replace("%2E", ".").replace("%2e", ".");
        if !head.is_empty() && (dots == "." || dots == "..") {
            return Err(Error::config(format!(
                "the {what} for {platform} makes the path segment {segment:?}, which is not allowed"
            )));
        }
        if segment.starts_with(';') {
            return Err(Error::config(format!(
                "the {what} for {platform} makes the path segment {segment:?}, which starts with ';'"
            )));
        }
    }
    Ok(match path.rsplit_once('/') {
        Some((parent, last)) => format!("{parent}/{}", last.replace(';', "%3B")),
        None => path.replace(';', "%3B"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_as_the_sdk_does() {
        assert_eq!(
            encode_segment("claude-sonnet-4@20250514"),
            "claude-sonnet-4@20250514"
        );
        assert_eq!(encode_segment("a/b c?d#é"), "a%2Fb%20c%3Fd%23%C3%A9");
        assert_eq!(encode_segment("x;y:z"), "x;y:z");
    }

    #[test]
    fn dot_segments_and_leading_semicolons_are_refused() {
        // `..;x` is `..` to a server that drops what follows `;`.
        assert!(checked_path("/models/..;x:rawPredict", "Vertex AI", "model").is_err());
        for model in ["..", "."] {
            let path = format!("/models/{}:rawPredict", encode_segment(model));
            let _ = checked_path(&path, "Vertex AI", "model").unwrap();
            let path = format!("/models/{}/x", encode_segment(model));
            let error = checked_path(&path, "Vertex AI", "model").unwrap_err();
            assert!(error.to_string().contains("Vertex AI"), "{error}");
        }
        assert!(checked_path("/models/;x/y", "Vertex AI", "model").is_err());
        assert!(checked_path("/a/%2e%2E/b", "Vertex AI", "model").is_err());
        // A value's own `%` is encoded, so it cannot spell a dot.
        assert_eq!(encode_segment("%2e"), "%252e");
        assert_eq!(
            checked_path("/models/a;b:rawPredict", "Vertex AI", "model").unwrap(),
            "/models/a%3Bb:rawPredict"
        );
    }
}
