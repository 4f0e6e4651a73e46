//! [`FileList`]: `GET /v1/files`, one page per request, as a stream.

use futures_util::{Stream, TryStreamExt, stream};

use super::Files;
use crate::client::call::call_span;
use crate::client::paging::{self, Cursor, Pager};
use crate::error::Error;
use crate::types::{FileMetadata, FilePage};

/// A listing of the files, from [`Files::list`]: set the page size and
/// where to start, then read it as a stream of [`pages`](Self::pages) or of
/// [`files`](Self::files). Each page is one request, sent when the stream
/// gets to it.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
/// use futures_util::TryStreamExt;
///
/// let mut pages = std::pin::pin!(client.files().list().limit(50).pages());
/// while let Some(page) = pages.try_next().await? {
///     for file in &page.data {
///         println!("{} {} ({} bytes)", file.id, file.filename, file.size_bytes);
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a listing does nothing until its stream is read"]
pub struct FileList {
    files: Files,
    limit: Option<u32>,
    after_id: Option<String>,
    before_id: Option<String>,
}

impl FileList {
    pub(super) fn new(files: Files) -> Self {
        FileList {
            files,
            limit: None,
            after_id: None,
            before_id: None,
        }
    }

    /// Files per page (the API's default is 20, its range 1 to 1000).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Starts after the file `id`: the files older than it.
    pub fn after_id(mut self, id: impl Into<String>) -> Self {
        self.after_id = Some(id.into());
        self
    }

    /// Starts before the file `id`, paging towards newer files.
    pub fn before_id(mut self, id: impl Into<String>) -> Self {
        self.before_id = Some(id.into());
        self
    }

    /// The pages, in order. The stream ends after the last page, or after
    /// the first error.
    ///
    /// # Errors
    ///
    /// Each page's request fails as [`Files::metadata`] does, less the
    /// file-specific errors.
    pub fn pages(self) -> impl Stream<Item = Result<FilePage, Error>> + Send + 'static {
        let (after, before) = (self.after_id.clone(), self.before_id.clone());
        paging::pages(self, after, before)
    }

    /// The files of every page, in order.
    ///
    /// # Errors
    ///
    /// As [`pages`](Self::pages).
    pub fn files(self) -> impl Stream<Item = Result<FileMetadata, Error>> + Send + 'static {
        self.pages()
            .map_ok(|page| stream::iter(page.data.into_iter().map(Ok)))
            .try_flatten()
    }
}

impl Pager for FileList {
    type Page = FilePage;

    async fn page(&self, cursor: &Cursor) -> Result<FilePage, Error> {
        let mut url = self.files.url(&[])?;
        paging::add_query(&mut url, self.limit, cursor);
        let headers = self.files.headers()?;
        let span = call_span!(self.files.client, "files.list");
        let request = || Ok(self.files.http().get(url.clone()).headers(headers.clone()));
        self.files.json(&span, &url, request, None).await
    }
}
