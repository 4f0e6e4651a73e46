//! [`Listing`]: a paged `GET` (batches, models), one page per request, as a
//! stream that follows `has_more` and the page's end ids.

use std::marker::PhantomData;

use super::Client;
use super::call::call_span;
use super::paging::{self, Cursor, Pager};
use crate::error::Error;
use crate::platform::Endpoint;
use crate::types::Page;
use futures_util::{Stream, TryStreamExt, stream};
use reqwest::Method;
use serde::de::DeserializeOwned;

/// A listing of batches ([`Batches::list`](crate::Batches::list)) or models
/// ([`Models::list`](crate::Models::list)): set the page size and where to
/// start, then read it as a stream of [`pages`](Self::pages) or of
/// [`items`](Self::items). Each page is one request, sent when the stream
/// gets to it; the next page starts after the last id of the one before,
/// while the API says it `has_more`.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
/// use futures_util::TryStreamExt;
///
/// let mut pages = std::pin::pin!(client.models().list().limit(10).pages());
/// while let Some(page) = pages.try_next().await? {
///     for model in &page.data {
///         println!("{} ({})", model.id, model.display_name);
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "a listing does nothing until its stream is read"]
pub struct Listing<T> {
    client: Client,
    source: Source,
    limit: Option<u32>,
    after_id: Option<String>,
    before_id: Option<String>,
    item: PhantomData<fn() -> T>,
}

/// What is listed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Source {
    Batches,
    Models,
}

impl Source {
    fn endpoint(self) -> Endpoint<'static> {
        match self {
            Source::Batches => Endpoint::Batches(&[]),
            Source::Models => Endpoint::Models(&[]),
        }
    }

    fn span(self, client: &Client) -> tracing::Span {
        match self {
            Source::Batches => call_span!(client, "messages.batches.list"),
            Source::Models => call_span!(client, "models.list"),
        }
    }

    fn expecting(self) -> &'static str {
        match self {
            Source::Batches => "a page of message batches",
            Source::Models => "a page of models",
        }
    }
}

impl<T> Clone for Listing<T> {
    fn clone(&self) -> Self {
        Listing {
            client: self.client.clone(),
            source: self.source,
            limit: self.limit,
            after_id: self.after_id.clone(),
            before_id: self.before_id.clone(),
            item: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Listing<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listing")
            .field("source", &self.source)
            .field("limit", &self.limit)
            .field("after_id", &self.after_id)
            .field("before_id", &self.before_id)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + Send + 'static> Listing<T> {
    pub(crate) fn new(client: Client, source: Source) -> Self {
        Listing {
            client,
            source,
            limit: None,
            after_id: None,
            before_id: None,
            item: PhantomData,
        }
    }

    /// Items per page (the API's default is 20, its range 1 to 1000).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Starts after the item `id`.
    pub fn after_id(mut self, id: impl Into<String>) -> Self {
        self.after_id = Some(id.into());
        self
    }

    /// Starts before the item `id`, paging the other way.
    pub fn before_id(mut self, id: impl Into<String>) -> Self {
        self.before_id = Some(id.into());
        self
    }

    /// The pages, in order. The stream ends after the last page, or after
    /// the first error.
    ///
    /// # Errors
    ///
    /// Each page's request fails as any request does ([`Error::is_api`],
    /// [`Error::is_connection`], ...), and with [`Error::is_unsupported`]
    /// on a platform that does not offer the API.
    pub fn pages(self) -> impl Stream<Item = Result<Page<T>, Error>> + Send + 'static {
        let (after, before) = (self.after_id.clone(), self.before_id.clone());
        paging::pages(self, after, before)
    }

    /// The items of every page, in order.
    ///
    /// # Errors
    ///
    /// As [`pages`](Self::pages).
    pub fn items(self) -> impl Stream<Item = Result<T, Error>> + Send + 'static {
        self.pages()
            .map_ok(|page| stream::iter(page.data.into_iter().map(Ok)))
            .try_flatten()
    }
}

impl<T: DeserializeOwned + Send + 'static> Pager for Listing<T> {
    type Page = Page<T>;

    async fn page(&self, cursor: &Cursor) -> Result<Page<T>, Error> {
        let expecting = self.source.expecting();
        let mut call =
            self.client
                .call(Method::GET, self.source.endpoint(), &[], None, expecting)?;
        paging::add_query(&mut call.url, self.limit, cursor);
        let span = self.source.span(&self.client);
        self.client.call_json(&span, &call).await
    }
}
