//! Paging for the listings (files, batches, models): where each page
//! starts, the query that asks for it, and the stream of pages that
//! follows the cursors each page carries.

use std::future::Future;

use futures_util::{Stream, stream};
use reqwest::Url;

use crate::error::Error;
use crate::types::{FilePage, Page};

/// Where the next page starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cursor {
    Start,
    After(String),
    Before(String),
    /// An opaque `next_page` token.
    Page(String),
    Done,
}

/// What a page says about the pages around it.
pub(crate) trait Cursors {
    fn has_more(&self) -> bool;
    fn first_id(&self) -> Option<&str>;
    fn last_id(&self) -> Option<&str>;
    /// An opaque cursor for the next page, for APIs that page that way.
    fn next_page(&self) -> Option<&str> {
        None
    }
}

impl Cursors for FilePage {
    fn has_more(&self) -> bool {
        self.has_more
    }
    fn first_id(&self) -> Option<&str> {
        self.first_id.as_deref()
    }
    fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }
    fn next_page(&self) -> Option<&str> {
        self.next_page.as_deref()
    }
}

impl<T> Cursors for Page<T> {
    fn has_more(&self) -> bool {
        self.has_more
    }
    fn first_id(&self) -> Option<&str> {
        self.first_id.as_deref()
    }
    fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }
}

/// A listing that fetches one page at a time.
pub(crate) trait Pager: Send + Sync + 'static {
    type Page: Cursors + Send + 'static;

    /// Requests the page at `cursor`.
    fn page<'a>(
        &'a self,
        cursor: &'a Cursor,
    ) -> impl Future<Output = Result<Self::Page, Error>> + Send + 'a;
}

/// The pages of `list`, from the one `after` or `before` name (`before`
/// pages backwards), each requested when the stream gets to it. Ends after
/// the last page, or after the first error.
pub(crate) fn pages<L: Pager>(
    list: L,
    after: Option<String>,
    before: Option<String>,
) -> impl Stream<Item = Result<L::Page, Error>> + Send + 'static {
    let backwards = before.is_some();
    let start = match (before, after) {
        (Some(id), _) => Cursor::Before(id),
        (None, Some(id)) => Cursor::After(id),
        (None, None) => Cursor::Start,
    };
    stream::try_unfold((list, start), move |(list, cursor)| async move {
        if cursor == Cursor::Done {
            return Ok(None);
        }
        let page = list.page(&cursor).await?;
        let next = next_cursor(&page, backwards, &cursor);
        Ok(Some((page, (list, next))))
    })
}

/// Adds `limit` and `cursor` to `url`'s query.
pub(crate) fn add_query(url: &mut Url, limit: Option<u32>, cursor: &Cursor) {
    let mut query = url.query_pairs_mut();
    if let Some(limit) = limit {
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

/// The cursor after `page`: its opaque `next_page` if it has one, else the
/// id at its far end while `has_more` says there is more. A cursor that
/// would repeat the last one ends the listing rather than loop.
fn next_cursor(page: &impl Cursors, backwards: bool, last: &Cursor) -> Cursor {
    let end = |id: Option<&str>, cursor: fn(String) -> Cursor| {
        id.map_or(Cursor::Done, |id| cursor(id.to_owned()))
    };
    let next = match page.next_page() {
        Some(token) if !token.is_empty() => Cursor::Page(token.to_owned()),
        _ if !page.has_more() => Cursor::Done,
        _ if backwards => end(page.first_id(), Cursor::Before),
        _ => end(page.last_id(), Cursor::After),
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
        let models: Page<crate::types::ModelInfo> =
            serde_json::from_str(r#"{"data":[],"has_more":true,"last_id":"m"}"#).unwrap();
        assert_eq!(
            next_cursor(&models, false, &Cursor::Start),
            Cursor::After("m".into())
        );
    }
}
