//! Server-sent events: splitting a byte stream into `(event, data)` pairs.
//!
//! Events may arrive split across network chunks at any byte; the parser
//! keeps the unfinished line until the rest comes.

/// One complete server-sent event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub(crate) event: String,
    pub(crate) data: String,
}

/// An incremental SSE parser.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// Bytes of a line not yet ended.
    partial: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// Feeds a chunk and appends the events it completes to `out`.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(end);
            rest = &tail[1..];
            if self.partial.is_empty() {
                self.line(line, out);
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(line);
                self.line(&whole, out);
            }
        }
        self.partial.extend_from_slice(rest);
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            if self.has_data {
                out.push(SseEvent {
                    event: if self.event.is_empty() {
                        "message".to_owned()
                    } else {
                        std::mem::take(&mut self.event)
                    },
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
            self.has_data = false;
            return;
        }
        if line.first() == Some(&b':') {
            return; // a comment
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (&*line, ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {} // `id`, `retry` and unknown fields mean nothing here
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_chunks(text: &str, size: usize) -> Vec<SseEvent> {
        let mut parser = SseParser::default();
        let mut out = Vec::new();
        for chunk in text.as_bytes().chunks(size) {
            parser.feed(chunk, &mut out);
        }
        out
    }

    #[test]
    fn events_split_at_every_byte_parse_the_same() {
        let text = "event: ping\ndata: {\"type\": \"ping\"}\n\n: a comment\r\nevent: content_block_delta\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata: bare\n\n";
        let whole = parse_in_chunks(text, text.len());
        assert_eq!(
            whole,
            vec![
                SseEvent {
                    event: "ping".into(),
                    data: "{\"type\": \"ping\"}".into()
                },
                SseEvent {
                    event: "content_block_delta".into(),
                    data: "{\"a\":\n1}".into()
                },
                SseEvent {
                    event: "message".into(),
                    data: "bare".into()
                },
            ]
        );
        for size in 1..text.len() {
            assert_eq!(parse_in_chunks(text, size), whole, "chunk size {size}");
        }
    }

    #[test]
    fn multibyte_characters_split_across_chunks_survive() {
        let text = "event: x\ndata: héllo → wörld\n\n";
        for size in 1..text.len() {
            let events = parse_in_chunks(text, size);
            assert_eq!(events[0].data, "héllo → wörld", "chunk size {size}");
        }
    }

    #[test]
    fn an_event_waits_for_its_blank_line() {
        let mut parser = SseParser::default();
        let mut out = Vec::new();
        parser.feed(b"event: message_stop\ndata: {}", &mut out);
        assert!(out.is_empty());
        parser.feed(b"\n", &mut out);
        assert!(out.is_empty());
        parser.feed(b"\n", &mut out);
        assert_eq!(
            out,
            vec![SseEvent {
                event: "message_stop".into(),
                data: "{}".into()
            }]
        );
    }
}
