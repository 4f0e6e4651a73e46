//! [`FileList`]: `GET /v1/files`, one page per request, as a stream.

use futures_util::{Stream, TryStreamExt, stream};

use super::Files;
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

/// Where the next page starts.
#[derive(Clone, Debug, PartialEq)]
enum Cursor {
    Start,
    After(String),
    Before(String),
    Page(String),
    Done,
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
        let backwards = self.before_id.is_some();
        let start = match (&self.before_id, &self.after_id) {
            (Some(id), _) => Cursor::Before(id.clone()),
            (None, Some(id)) => Cursor::After(id.clone()),
            (None, None) => Cursor::Start,
        };
        stream::try_unfold((self, start), move |(list, cursor)| async move {
            if cursor == Cursor::Done {
                return Ok(None);
            }
            let page = list.page(&cursor).await?;
            let next = next_cursor(&page, backwards, &cursor);
            Ok(Some((page, (list, next))))
        })
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

    /// Requests the page at `cursor`.
    async fn page(&self, cursor: &Cursor) -> Result<FilePage, Error> {
        let mut url = self.files.url(&[])?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(limit) = self.limit {
                query.append_pair("limit", &limit.to_string());
            }
            match cursor {
                Cursor::After(id) => {
                    query.append_pair("after_id", id);
                }
                Cursor::Before(id) => {
                    query.append_pair("before_id", id);
                }
                Cursor::Page(page) => {
                    query.append_pair("page", page);
                }
                Cursor::Start | Cursor::Done => {}
            }
        }
        let headers = self.files.headers()?;
        let span = call_span!(self.files, "files.list");
        let request = || Ok(self.files.http().get(url.clone()).headers(headers.clone()));
        self.files.json(&span, &url, request, None).await
    }
}

/// The cursor after `page`: its opaque `next_page` if it has one, else the
/// id at its far end while `has_more` says there is more. A cursor that
/// would repeat the last one ends the listing rather than loop.
fn next_cursor(page: &FilePage, backwards: bool, last: &Cursor) -> Cursor {
    let next = match &page.next_page {
        Some(token) if !token.is_empty() => Cursor::Page(token.clone()),
        _ if !page.has_more => Cursor::Done,
        _ if backwards => page.first_id.clone().map_or(Cursor::Done, Cursor::Before),
        _ => page.last_id.clone().map_or(Cursor::Done, Cursor::After),
    };
    if &next == last { Cursor::Done } else { next }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(json: &str) -> FilePage {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn follows_whichever_cursor_the_page_has() {
        let ids = page(r#"{"data":[],"has_more":true,"first_id":"a","last_id":"b"}"#);
        assert_eq!(
            next_cursor(&ids, false, &Cursor::Start),
            Cursor::After("b".into())
        );
        assert_eq!(
            next_cursor(&ids, true, &Cursor::Start),
            Cursor::Before("a".into())
        );
        let token = page(r#"{"data":[],"next_page":"page_2"}"#);
        assert_eq!(
            next_cursor(&token, false, &Cursor::Start),
            Cursor::Page("page_2".into())
        );
        let last = page(r#"{"data":[],"has_more":false,"last_id":"b"}"#);
        assert_eq!(next_cursor(&last, false, &Cursor::Start), Cursor::Done);
        let stuck = page(r#"{"data":[],"has_more":true}"#);
        assert_eq!(next_cursor(&stuck, false, &Cursor::Start), Cursor::Done);
        assert_eq!(
            next_cursor(&ids, false, &Cursor::After("b".into())),
            Cursor::Done
        );
    }
}
