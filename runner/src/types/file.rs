//! Files API wire types, and the content blocks that put an uploaded file
//! in front of the model or into the code-execution container.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::content::{ContentBlock, DocumentBlock, ImageBlock, OtherBlock, TextBlock};
use super::params::{MessageParam, MessageParams, Role};
use super::response::{ResponseSlot, response_accessors};

/// The beta the Files API needs, in the `anthropic-beta` header: on the
/// Files API's own requests (the client sends it there) and on Messages
/// requests whose content names a `file_id`
/// ([`MessageParams::user_with_files`] adds it).
pub const FILES_BETA: &str = "files-api-2025-04-14";

/// A file stored by the Files API, as `GET /v1/files/{file_id}` describes it.
///
/// # Examples
///
/// ```
/// use toolrunner::types::FileMetadata;
///
/// let meta: FileMetadata = serde_json::from_str(r#"{
///     "type": "file", "id": "file_1", "filename": "chart.png", "mime_type": "image/png",
///     "size_bytes": 2048, "created_at": "2025-04-14T12:00:00Z", "downloadable": true
/// }"#)?;
/// assert_eq!(meta.filename, "chart.png");
/// assert!(meta.downloadable);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileMetadata {
    /// The file's id (`file_...`), to reference it in content blocks.
    pub id: String,
    /// The name it was uploaded or written with. It comes from whoever made
    /// the file, the model included: never use it as a path unsanitised
    /// (see [`sanitize_filename`](crate::sanitize_filename)).
    pub filename: String,
    /// Its MIME type, e.g. `text/csv`.
    pub mime_type: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// When it was created, as an RFC 3339 timestamp.
    pub created_at: String,
    /// Whether its content can be downloaded: only files a tool wrote
    /// (such as code execution's outputs) can be, not uploads.
    #[serde(default)]
    pub downloadable: bool,
    /// When it expires, as an RFC 3339 timestamp; `None` if never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Fields this crate does not model (such as `type` and `scope`), kept
    /// as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The response this came in; not part of the value.
    #[serde(skip)]
    response: ResponseSlot,
}

/// The answer to `DELETE /v1/files/{file_id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeletedFile {
    /// The id of the deleted file.
    pub id: String,
    /// Fields this crate does not model (such as `type`), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The response this came in; not part of the value.
    #[serde(skip)]
    response: ResponseSlot,
}

/// One page of `GET /v1/files`.
///
/// The API has paged with two kinds of cursor: `after_id`/`before_id`
/// with `has_more`, `first_id` and `last_id`, and an opaque `next_page`.
/// Both are read; [`FileList`](crate::FileList) follows whichever a page
/// carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FilePage {
    /// The files on this page.
    pub data: Vec<FileMetadata>,
    /// Whether there are more pages in the direction of travel.
    #[serde(default)]
    pub has_more: bool,
    /// The first file's id: the cursor for the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_id: Option<String>,
    /// The last file's id: the cursor for the page after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_id: Option<String>,
    /// An opaque cursor for the next page, when the API pages that way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
    /// The response this came in; not part of the value.
    #[serde(skip)]
    response: ResponseSlot,
}

response_accessors!(FileMetadata, DeletedFile, FilePage);

impl ContentBlock {
    /// A `container_upload` block: puts the uploaded file `file_id` into
    /// the code-execution container, where the model's code can read it.
    ///
    /// # Examples
    ///
    /// ```
    /// use toolrunner::ContentBlock;
    ///
    /// let block = ContentBlock::container_upload("file_1");
    /// assert_eq!(block.kind(), "container_upload");
    /// assert_eq!(
    ///     serde_json::to_string(&block)?,
    ///     r#"{"type":"container_upload","file_id":"file_1"}"#
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn container_upload(file_id: impl Into<String>) -> Self {
        let json = serde_json::json!({"type": "container_upload", "file_id": file_id.into()});
        // An object with a string `type` is always a valid block; the
        // crate has no typed variant for this one, so it travels as raw JSON.
        let block = OtherBlock::from_json(&json.to_string())
            .expect("an object with a string type is a content block");
        ContentBlock::Other(block)
    }
}

impl ImageBlock {
    /// An image uploaded with the Files API, referenced by its id.
    ///
    /// # Examples
    ///
    /// ```
    /// use toolrunner::ImageBlock;
    ///
    /// let image = ImageBlock::file("file_1");
    /// assert_eq!(image.source["type"], "file");
    /// assert_eq!(image.source["file_id"], "file_1");
    /// ```
    pub fn file(file_id: impl Into<String>) -> Self {
        ImageBlock {
            source: file_source(file_id.into()),
            cache_control: None,
            extra: Map::new(),
        }
    }
}

impl DocumentBlock {
    /// A document (PDF or plain text) uploaded with the Files API,
    /// referenced by its id.
    ///
    /// # Examples
    ///
    /// ```
    /// use toolrunner::DocumentBlock;
    ///
    /// let doc = DocumentBlock::file("file_1").with_title("Q3 report");
    /// assert_eq!(doc.source["file_id"], "file_1");
    /// assert_eq!(doc.title.as_deref(), Some("Q3 report"));
    /// ```
    pub fn file(file_id: impl Into<String>) -> Self {
        DocumentBlock {
            source: file_source(file_id.into()),
            title: None,
            cache_control: None,
            extra: Map::new(),
        }
    }
}

impl MessageParams {
    /// Appends a user message of `text` followed by `files`: blocks that
    /// reference uploaded files, such as
    /// [`ContentBlock::container_upload`], [`ImageBlock::file`] or
    /// [`DocumentBlock::file`]. Enables the [`FILES_BETA`] the request
    /// needs for them.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use toolrunner::{ContentBlock, DocumentBlock, MessageParams};
    /// use toolrunner::types::FILES_BETA;
    ///
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 4096)
    ///     .tool(json!({"type": "code_execution_20250825", "name": "code_execution"}))
    ///     .user_with_files(
    ///         "Chart the monthly totals in sales.csv, compared with the report.",
    ///         [ContentBlock::container_upload("file_csv"), DocumentBlock::file("file_pdf").into()],
    ///     );
    /// assert_eq!(params.betas, [FILES_BETA]);
    /// let sent = serde_json::to_value(&params)?;
    /// assert_eq!(sent["messages"][0]["content"][1]["type"], "container_upload");
    /// assert_eq!(sent["messages"][0]["content"][2]["source"]["file_id"], "file_pdf");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[must_use]
    pub fn user_with_files(
        self,
        text: impl Into<String>,
        files: impl IntoIterator<Item = ContentBlock>,
    ) -> Self {
        let mut blocks = vec![ContentBlock::Text(TextBlock::new(text))];
        blocks.extend(files);
        self.message(MessageParam::blocks(Role::User, blocks))
            .beta(FILES_BETA)
    }
}

/// A `source` that names an uploaded file.
fn file_source(file_id: String) -> Value {
    serde_json::json!({"type": "file", "file_id": file_id})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keeps_unknown_fields() {
        let json = r#"{"id":"file_1","filename":"a.csv","mime_type":"text/csv","size_bytes":3,"created_at":"2025-01-01T00:00:00Z","downloadable":false,"type":"file","scope":{"type":"session","id":"s"}}"#;
        let meta: FileMetadata = serde_json::from_str(json).unwrap();
        assert_eq!(meta.extra["scope"]["id"], "s");
        let back = serde_json::to_value(&meta).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(json).unwrap());
    }

    #[test]
    fn container_upload_round_trips() {
        let block = ContentBlock::container_upload("file_\"x");
        let json = serde_json::to_string(&block).unwrap();
        let back: ContentBlock = serde_json::from_str(&json).unwrap();
        assert_eq!(back, block);
        assert_eq!(serde_json::to_value(&back).unwrap()["file_id"], "file_\"x");
    }

    #[test]
    fn page_reads_either_cursor() {
        let old: FilePage =
            serde_json::from_str(r#"{"data":[],"has_more":true,"first_id":"a","last_id":"b"}"#)
                .unwrap();
        assert!(old.has_more && old.next_page.is_none());
        let new: FilePage = serde_json::from_str(r#"{"data":[],"next_page":"page_2"}"#).unwrap();
        assert_eq!(new.next_page.as_deref(), Some("page_2"));
        assert!(!new.has_more);
    }
}
