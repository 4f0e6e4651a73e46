//! Downloads: a file's content as a byte stream ([`Download`]), or
//! streamed to disk ([`Files::download_to`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use super::Files;
use crate::error::Error;
use crate::types::ResponseMeta;

/// The content of a file, as it arrives: a stream of byte chunks, from
/// [`Files::download`]. Nothing is buffered beyond the chunk at hand.
///
/// The stream ends after the last byte. A download that breaks off ends
/// with an [`Error::is_download_incomplete`] error that says how many bytes
/// arrived.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
/// use futures_util::TryStreamExt;
///
/// let mut download = client.files().download("file_011CNha8iCJcU1wXNR6q4V8w").await?;
/// let mut total = 0;
/// while let Some(chunk) = download.try_next().await? {
///     total += chunk.len();
/// }
/// println!("{total} bytes");
/// # Ok(())
/// # }
/// ```
#[must_use = "a download does nothing until its stream is read"]
pub struct Download {
    file_id: String,
    content_length: Option<u64>,
    content_type: Option<String>,
    received: u64,
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    done: bool,
    response: ResponseMeta,
}

impl Download {
    fn new(file_id: &str, response: reqwest::Response) -> Self {
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Download {
            file_id: file_id.to_owned(),
            content_length: response.content_length(),
            content_type,
            received: 0,
            response: ResponseMeta::new(response.status(), response.headers().clone()),
            body: Box::pin(response.bytes_stream()),
            done: false,
        }
    }

    /// The status and headers of the download's response: its request id
    /// and the rest.
    pub fn response(&self) -> &ResponseMeta {
        &self.response
    }

    /// The `request-id` of the download's response.
    pub fn request_id(&self) -> Option<&str> {
        self.response.request_id()
    }

    /// The id of the file being downloaded.
    pub fn file_id(&self) -> &str {
        &self.file_id
    }

    /// The size the response announced, if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The response's content type, if it had one.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// How many bytes have arrived so far.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    /// The error for a download that stopped at `self.received`.
    fn incomplete(&self, source: Option<reqwest::Error>) -> Error {
        let source = source.map(|e| e.without_url().into());
        Error::download_incomplete(&self.file_id, self.received, self.content_length, source)
    }
}

impl Stream for Download {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let polled = self.body.poll_next_unpin(cx);
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                Poll::Ready(Some(Err(self.incomplete(Some(e)))))
            }
            Poll::Ready(None) => {
                self.done = true;
                // HTTP reports a body cut short of its `content-length`
                // as an error already; this catches any other way of
                // ending early.
                match self.content_length {
                    Some(expected) if self.received < expected => {
                        Poll::Ready(Some(Err(self.incomplete(None))))
                    }
                    _ => Poll::Ready(None),
                }
            }
        }
    }
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("file_id", &self.file_id)
            .field("content_length", &self.content_length)
            .field("content_type", &self.content_type)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl Files {
    /// The content of file `file_id`, as a stream of byte chunks:
    /// `GET /v1/files/{file_id}/content`. The request is retried as any
    /// other until the response's status is a success; the body, once
    /// begun, is not. The client's timeout covers the whole download.
    ///
    /// # Errors
    ///
    /// - [`Error::is_file_not_found`], [`Error::is_file_expired`],
    ///   [`Error::is_file_not_downloadable`] (the file was uploaded, not
    ///   written by a tool): [`Error::file_id`] names the file.
    /// - [`Error::is_invalid_request`]: `file_id` is empty or `.`/`..`.
    /// - Otherwise as for [`Client::create_message`](crate::Client::create_message).
    ///
    /// # Examples
    ///
    /// See [`Download`].
    pub async fn download(&self, file_id: &str) -> Result<Download, Error> {
        let response = self.content(file_id).await?;
        Ok(Download::new(file_id, response))
    }

    /// Downloads file `file_id` to `path`, streaming it to disk, and
    /// returns the number of bytes written. The bytes go to a temporary
    /// file next to `path` that is renamed to `path` once complete, so
    /// `path` never holds part of a file; an existing file at `path` is
    /// replaced. On any failure, or if the future is dropped, the
    /// temporary file is removed.
    ///
    /// To choose a name from the file's metadata without replacing
    /// anything, use [`download_to_dir`](Self::download_to_dir).
    ///
    /// # Errors
    ///
    /// - As for [`download`](Self::download).
    /// - [`Error::is_download_incomplete`]: the download broke off;
    ///   [`Error::bytes_received`] says after how many bytes.
    /// - [`Error::is_io`]: the file could not be written;
    ///   [`Error::path`] names it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// let bytes = client.files().download_to("file_011CNha8iCJcU1wXNR6q4V8w", "out/chart.png").await?;
    /// println!("wrote {bytes} bytes");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_to(&self, file_id: &str, path: impl AsRef<Path>) -> Result<u64, Error> {
        let path = path.as_ref();
        let download = self.download(file_id).await?;
        let temp = TempFile::next_to(path);
        let written = write_all(download, &temp.path).await?;
        tokio::fs::rename(&temp.path, path)
            .await
            .map_err(|e| Error::io("move the download to", path, e))?;
        temp.keep();
        tracing::debug!(file_id, bytes = written, path = %path.display(), "downloaded file");
        Ok(written)
    }
}

/// Writes every chunk of `download` to a new file at `path`, and syncs it.
pub(super) async fn write_all(mut download: Download, path: &Path) -> Result<u64, Error> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(|e| Error::io("create", path, e))?;
    while let Some(chunk) = download.next().await {
        let chunk = chunk?;
        file.write_all(&chunk)
            .await
            .map_err(|e| Error::io("write", path, e))?;
    }
    // Durable before the rename makes it visible under its real name.
    file.sync_all()
        .await
        .map_err(|e| Error::io("write", path, e))?;
    Ok(download.bytes_received())
}

/// A temporary file that is removed when dropped, unless kept: on errors
/// and on cancellation alike, no partial download stays behind.
pub(super) struct TempFile {
    pub(super) path: PathBuf,
    keep: bool,
}

impl TempFile {
    /// A fresh, hidden name in `target`'s directory: renaming within one
    /// directory stays on one file system, so it is atomic.
    pub(super) fn next_to(target: &Path) -> Self {
        let dir = target.parent().unwrap_or(Path::new(""));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir.join(format!(".{name}.{:016x}.part", fastrand::u64(..)));
        TempFile { path, keep: false }
    }

    /// Leaves the file where it is (it has been renamed away).
    pub(super) fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort: it may never have been created.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
