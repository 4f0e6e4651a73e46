//! The scripted server's Files API: files held in memory, served under
//! `/v1/files` as the real API serves them.
//!
//! Uploads are kept (not downloadable, as with the real API); files the
//! test adds with [`ScriptedServer::add_file`](super::ScriptedServer::add_file)
//! stand for what the code-execution container wrote. A file can be made
//! to have expired, or to have its download broken off.

use bytes::Bytes;
use serde_json::{Value, json};

use super::Recorded;

/// A file held by the scripted server.
///
/// # Examples
///
/// ```
/// use toolrunner::testing::ScriptedFile;
///
/// let chart = ScriptedFile::new("file_chart", "chart.png", "image/png", vec![0x89, b'P', b'N', b'G']);
/// assert_eq!(chart.content().len(), 4);
/// let gone = ScriptedFile::new("file_old", "old.csv", "text/csv", "a,b").expired();
/// assert_eq!(gone.filename(), "old.csv");
/// ```
#[derive(Clone, Debug)]
pub struct ScriptedFile {
    id: String,
    filename: String,
    mime_type: String,
    content: Bytes,
    downloadable: bool,
    expired: bool,
    cut_after: Option<usize>,
}

impl ScriptedFile {
    /// A downloadable file, as the code-execution container writes them.
    pub fn new(
        id: impl Into<String>,
        filename: impl Into<String>,
        mime_type: impl Into<String>,
        content: impl Into<Bytes>,
    ) -> Self {
        ScriptedFile {
            id: id.into(),
            filename: filename.into(),
            mime_type: mime_type.into(),
            content: content.into(),
            downloadable: true,
            expired: false,
            cut_after: None,
        }
    }

    /// The file has expired: requests for it get the API's `file_expired`
    /// error.
    #[must_use]
    pub fn expired(mut self) -> Self {
        self.expired = true;
        self
    }

    /// Its download announces the whole length but the connection closes
    /// after `bytes` bytes.
    #[must_use]
    pub fn cut_after(mut self, bytes: usize) -> Self {
        self.cut_after = Some(bytes);
        self
    }

    /// The file's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its name, as uploaded or given.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// Its MIME type.
    pub fn mime_type(&self) -> &str {
        &self.mime_type
    }

    /// Its content.
    pub fn content(&self) -> &Bytes {
        &self.content
    }

    fn metadata(&self) -> Value {
        json!({
            "type": "file",
            "id": self.id,
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": self.content.len(),
            "created_at": "2025-04-14T12:00:00Z",
            "downloadable": self.downloadable,
        })
    }
}

/// The files, newest first (the order the API lists them in).
#[derive(Debug, Default)]
pub(super) struct Store {
    files: Vec<ScriptedFile>,
    uploads: usize,
}

/// An answer to a Files API request.
pub(super) struct Response {
    pub(super) status: u16,
    pub(super) content_type: String,
    pub(super) body: Bytes,
    /// Close the connection after this many body bytes.
    pub(super) cut_after: Option<usize>,
}

impl Store {
    pub(super) fn add(&mut self, file: ScriptedFile) {
        self.files.retain(|f| f.id != file.id);
        self.files.insert(0, file);
    }

    pub(super) fn get(&self, id: &str) -> Option<&ScriptedFile> {
        self.files.iter().find(|f| f.id == id)
    }

    /// Answers `request`, whose target starts with `/v1/files`.
    pub(super) fn respond(&mut self, request: &Recorded, body: &[u8]) -> Response {
        let (rest, query) = super::paging::route(&request.target, "/v1/files");
        match (request.method.as_str(), rest.as_slice()) {
            ("POST", []) => self.upload(request, body),
            ("GET", []) => self.list(query),
            ("GET", [id]) => self.with_file(id, |f| json_response(200, &f.metadata())),
            ("GET", [id, content]) if content == "content" => self.with_file(id, |f| {
                if !f.downloadable {
                    return error(
                        400,
                        "invalid_request_error",
                        &format!("file {id} is not downloadable"),
                        Some("file_not_downloadable"),
                    );
                }
                Response {
                    status: 200,
                    content_type: f.mime_type.clone(),
                    body: f.content.clone(),
                    cut_after: f.cut_after,
                }
            }),
            ("DELETE", [id]) => {
                let answer = self.with_file(id, |f| {
                    json_response(200, &json!({"type": "file_deleted", "id": f.id}))
                });
                if answer.status == 200 {
                    self.files.retain(|f| f.id != *id);
                }
                answer
            }
            _ => error(404, "not_found_error", "no such route", None),
        }
    }

    fn with_file(&self, id: &str, answer: impl FnOnce(&ScriptedFile) -> Response) -> Response {
        match self.get(id) {
            None => error(
                404,
                "not_found_error",
                &format!("file not found: {id}"),
                None,
            ),
            Some(f) if f.expired => error(
                404,
                "not_found_error",
                &format!("file {id} has expired"),
                Some("file_expired"),
            ),
            Some(f) => answer(f),
        }
    }

    fn upload(&mut self, request: &Recorded, body: &[u8]) -> Response {
        let Some(part) = parse_upload(request, body) else {
            return error(
                400,
                "invalid_request_error",
                "expected a multipart body with a `file` part",
                None,
            );
        };
        self.uploads += 1;
        let mut file = ScriptedFile::new(
            format!("file_upload_{}", self.uploads),
            part.filename,
            part.content_type,
            part.content,
        );
        // As with the real API: only files a tool wrote can be downloaded.
        file.downloadable = false;
        let answer = json_response(200, &file.metadata());
        self.add(file);
        answer
    }

    /// A page in the `after_id`/`before_id` style.
    fn list(&self, query: &str) -> Response {
        let page = super::paging::page(&self.files, query, |f| &f.id, ScriptedFile::metadata);
        json_response(200, &page)
    }
}

struct Part {
    filename: String,
    content_type: String,
    content: Vec<u8>,
}

/// The `file` part of a `multipart/form-data` body.
fn parse_upload(request: &Recorded, body: &[u8]) -> Option<Part> {
    let content_type = request.header("content-type")?;
    let boundary = content_type.split("boundary=").nth(1)?.trim_matches('"');
    let delimiter = format!("--{boundary}");
    let mut rest = body.strip_prefix(delimiter.as_bytes())?;
    loop {
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let content_start = head_end + 4;
        let end = content_start
            + find(
                &rest[content_start..],
                format!("\r\n{delimiter}").as_bytes(),
            )?;
        let content = &rest[content_start..end];
        let mut filename = None;
        let mut part_type = "application/octet-stream".to_owned();
        let mut is_file = false;
        for line in head.lines() {
            let (name, value) = line.split_once(':')?;
            match name.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    is_file = value.contains("name=\"file\"");
                    filename = value
                        .split("filename=\"")
                        .nth(1)
                        .and_then(|v| v.split('"').next())
                        .map(str::to_owned);
                }
                "content-type" => part_type = value.trim().to_owned(),
                _ => {}
            }
        }
        if is_file {
            return Some(Part {
                filename: filename.unwrap_or_default(),
                content_type: part_type,
                content: content.to_vec(),
            });
        }
        rest = &rest[end + 2 + delimiter.len()..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn json_response(status: u16, body: &Value) -> Response {
    Response {
        status,
        content_type: "application/json".into(),
        body: Bytes::from(body.to_string()),
        cut_after: None,
    }
}

pub(super) fn error(status: u16, error_type: &str, message: &str, code: Option<&str>) -> Response {
    let mut detail = json!({"type": error_type, "message": message});
    if let Some(code) = code {
        detail["details"] = json!({"error_code": code});
    }
    json_response(status, &json!({"type": "error", "error": detail}))
}
