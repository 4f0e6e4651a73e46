//! The `multipart/form-data` body of an upload: one part, `file`.
//!
//! Written here rather than with reqwest's `multipart` feature: one part is
//! a few lines, and this way the body's exact bytes and length are known up
//! front (sent as `content-length`, not chunked) and a file on disk streams
//! in pieces.

use std::io;
use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, stream};
use reqwest::header::HeaderValue;
use tokio::io::AsyncReadExt;

/// How much of a file is read at a time.
const CHUNK: usize = 64 * 1024;

/// The body for `bytes`: content type, length, body.
pub(super) fn from_bytes(
    filename: &str,
    content_type: &str,
    bytes: Bytes,
) -> (HeaderValue, u64, reqwest::Body) {
    let frame = Frame::new(filename, content_type);
    let length = frame.length(bytes.len() as u64);
    let parts = [frame.head.clone(), bytes, frame.tail.clone()].map(Ok::<_, io::Error>);
    let body = reqwest::Body::wrap_stream(stream::iter(parts));
    (frame.content_type, length, body)
}

/// The body for `length` bytes of `file` (read from `path`), read in
/// pieces as the request goes out.
pub(super) fn from_file(
    filename: &str,
    content_type: &str,
    file: tokio::fs::File,
    length: u64,
    path: PathBuf,
) -> (HeaderValue, u64, reqwest::Body) {
    let frame = Frame::new(filename, content_type);
    let total = frame.length(length);
    let content = stream::try_unfold((file, length), move |(mut file, left)| {
        let path = path.clone();
        async move {
            if left == 0 {
                return Ok(None);
            }
            let want = usize::try_from(left).unwrap_or(CHUNK).min(CHUNK);
            let mut buf = BytesMut::with_capacity(want);
            let read = file.read_buf(&mut buf).await?;
            if read == 0 {
                // The length was sent already; the request cannot be
                // completed honestly, so it fails.
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{} shrank while it was uploaded", path.display()),
                ));
            }
            buf.truncate(want);
            let left = left - buf.len() as u64;
            Ok(Some((buf.freeze(), (file, left))))
        }
    });
    let body = stream::once(async move { Ok(frame.head) })
        .chain(content)
        .chain(stream::once(async move { Ok(frame.tail) }));
    (frame.content_type, total, reqwest::Body::wrap_stream(body))
}

/// What goes around the file's bytes.
struct Frame {
    content_type: HeaderValue,
    head: Bytes,
    tail: Bytes,
}

impl Frame {
    fn new(filename: &str, content_type: &str) -> Self {
        // 128 random bits: the content cannot contain it but by chance.
        let boundary = format!(
            "toolrunner-{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        );
        let head = format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{}\"\r\ncontent-type: {content_type}\r\n\r\n",
            escape(filename)
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        let content_type = format!("multipart/form-data; boundary={boundary}");
        Frame {
            // Only ASCII letters, digits, `-`, `/`, `;`, `=` and spaces.
            content_type: HeaderValue::from_str(&content_type)
                .expect("a multipart content type is a valid header value"),
            head: Bytes::from(head),
            tail: Bytes::from(tail),
        }
    }

    fn length(&self, content: u64) -> u64 {
        self.head.len() as u64 + content + self.tail.len() as u64
    }
}

/// `filename` as a quoted-string in a part header, escaped byte for byte as
/// the official Python SDK's HTTP client (httpx2, with httpx's rules)
/// escapes it, so that the API reads the same name from either: `"` as
/// `%22`, `\` as `\\`, and every C0 control but ESC (0x1b) as `%XX`. ESC,
/// DEL and non-ASCII characters go as they are (UTF-8). Node's `FormData`
/// escapes only `"`, CR and LF; the extra escapes keep raw control bytes
/// out of the header.
fn escape(filename: &str) -> String {
    let mut escaped = String::with_capacity(filename.len());
    for c in filename.chars() {
        match c {
            '"' => escaped.push_str("%22"),
            '\\' => escaped.push_str("\\\\"),
            '\u{1b}' => escaped.push(c),
            c if c < ' ' => escaped.push_str(&format!("%{:02X}", u32::from(c))),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_escaped() {
        assert_eq!(escape("a\"b\r\nc.csv"), "a%22b%0D%0Ac.csv");
        assert_eq!(
            escape("a\\b\u{0}\t\u{1b}\u{1f}\u{7f}"),
            "a\\\\b%00%09\u{1b}%1F\u{7f}"
        );
        assert_eq!(escape("ünï.txt"), "ünï.txt");
    }

    #[test]
    fn length_counts_head_content_and_tail() {
        let frame = Frame::new("a.csv", "text/csv");
        let boundary = frame
            .content_type
            .to_str()
            .unwrap()
            .split("boundary=")
            .nth(1)
            .unwrap();
        assert!(
            frame
                .head
                .starts_with(format!("--{boundary}\r\n").as_bytes())
        );
        assert_eq!(frame.tail, format!("\r\n--{boundary}--\r\n"));
        assert_eq!(
            frame.length(4),
            (frame.head.len() + 4 + frame.tail.len()) as u64
        );
    }
}
