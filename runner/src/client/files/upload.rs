//! [`FileUpload`]: what to upload, under which name and type.

use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use reqwest::header::HeaderValue;

use super::multipart;
use crate::error::Error;

/// A file to upload with [`Files::upload`](super::Files::upload): a file on
/// disk or bytes in memory, with the name and MIME type the API records.
///
/// # Examples
///
/// ```
/// use toolrunner::FileUpload;
///
/// let csv = FileUpload::path("data/sales.csv");
/// assert_eq!(csv.name(), "sales.csv");
/// assert_eq!(csv.content_type(), "text/csv");
///
/// let chart = FileUpload::bytes("chart", vec![0x89, b'P', b'N', b'G']).mime_type("image/png");
/// assert_eq!(chart.content_type(), "image/png");
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct FileUpload {
    source: Source,
    filename: String,
    mime_type: Option<String>,
}

#[derive(Clone)]
enum Source {
    Path(PathBuf),
    Bytes(Bytes),
}

impl fmt::Debug for Source {
    /// The path, or only the length of bytes: an upload may be large.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Source::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
        }
    }
}

impl FileUpload {
    /// The file at `path`, named after its last component. It is read when
    /// the request is sent, in pieces.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let filename = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        FileUpload {
            source: Source::Path(path),
            filename,
            mime_type: None,
        }
    }

    /// `bytes`, uploaded as a file named `filename`.
    pub fn bytes(filename: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        FileUpload {
            source: Source::Bytes(bytes.into()),
            filename: filename.into(),
            mime_type: None,
        }
    }

    /// Sets the name the API records (by default the path's file name).
    /// The API keeps only its last path component.
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = filename.into();
        self
    }

    /// Sets the MIME type, e.g. `application/pdf`. Without one it is
    /// guessed from the file name's extension for common types, and is
    /// `application/octet-stream` otherwise.
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }

    /// The name the file is uploaded as.
    pub fn name(&self) -> &str {
        &self.filename
    }

    /// The MIME type the file is uploaded as.
    pub fn content_type(&self) -> &str {
        self.mime_type
            .as_deref()
            .unwrap_or_else(|| guess_mime_type(&self.filename))
    }

    /// The multipart body of one attempt: its content type (with the
    /// boundary), length and body. A file on disk is opened anew.
    pub(super) fn multipart_body(&self) -> Result<(HeaderValue, u64, reqwest::Body), Error> {
        let content_type = self.content_type();
        // Both go into the part's header lines, where a line break would
        // start a header of its own.
        if content_type.chars().any(char::is_control) {
            return Err(Error::invalid_request(format!(
                "invalid MIME type {content_type:?}"
            )));
        }
        match &self.source {
            Source::Bytes(bytes) => Ok(multipart::from_bytes(
                &self.filename,
                content_type,
                bytes.clone(),
            )),
            Source::Path(path) => {
                let (file, length) = open(path)?;
                Ok(multipart::from_file(
                    &self.filename,
                    content_type,
                    file,
                    length,
                    path.clone(),
                ))
            }
        }
    }
}

/// Opens `path` for reading, with its length.
fn open(path: &Path) -> Result<(tokio::fs::File, u64), Error> {
    // Opened synchronously: the request is built in a synchronous closure,
    // and opening a file does not wait on its content.
    let file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let length = file
        .metadata()
        .map_err(|e| Error::io("read the size of", path, e))?
        .len();
    Ok((tokio::fs::File::from_std(file), length))
}

/// The MIME type of common extensions; the Files API stores what it is
/// told, and the model reads PDFs, text and images by their type.
fn guess_mime_type(filename: &str) -> &'static str {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "csv" => "text/csv",
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        let upload = FileUpload::path("/tmp/dir/Report.PDF");
        assert_eq!(upload.name(), "Report.PDF");
        assert_eq!(upload.content_type(), "application/pdf");
        let upload = FileUpload::bytes("blob", "x");
        assert_eq!(upload.content_type(), "application/octet-stream");
        let upload = upload.filename("a.json").mime_type("text/x-custom");
        assert_eq!(upload.content_type(), "text/x-custom");
        assert!(format!("{upload:?}").contains("Bytes(1 bytes)"));
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let upload = FileUpload::path("/no/such/file.csv");
        let e = upload.multipart_body().err().unwrap();
        assert!(e.is_io());
        assert_eq!(e.path(), Some(Path::new("/no/such/file.csv")));
        assert_eq!(e.to_string(), "could not open /no/such/file.csv");
    }
}
