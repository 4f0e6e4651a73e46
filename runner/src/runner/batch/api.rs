//! What the batch runner needs of the Message Batches API, as a seam:
//! the client's batches in use, a fake in the unit tests.

use std::pin::Pin;

use futures_util::stream::BoxStream;

use crate::client::Request;
use crate::error::Error;
use crate::types::Message;

pub(crate) type ApiFuture<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'static>>;

/// One request of a batch: the body the loop built, under its id.
pub(crate) struct Item {
    pub(crate) custom_id: String,
    pub(crate) request: Request,
}

/// Where a batch stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Standing {
    /// Whether processing is over and the results can be read.
    pub(crate) ended: bool,
    pub(crate) counts: crate::types::RequestCounts,
    /// The batch's status, for an error about it.
    pub(crate) status: &'static str,
}

/// What came of one request of a batch.
pub(crate) enum ItemResult {
    Succeeded(Box<Message>),
    Errored(Error),
    Canceled,
    Expired,
}

/// The Message Batches API, as the batch runner uses it.
pub(crate) trait BatchApi: Send + Sync + 'static {
    /// Creates a batch of `items`; its id.
    fn create(&self, items: Vec<Item>) -> ApiFuture<String>;
    /// Where batch `id` stands.
    fn retrieve(&self, id: &str) -> ApiFuture<Standing>;
    /// The results of batch `id`, each with its `custom_id`, as they are read.
    fn results(
        &self,
        id: &str,
    ) -> ApiFuture<BoxStream<'static, Result<(String, ItemResult), Error>>>;
    /// Asks the API to cancel batch `id`.
    fn cancel(&self, id: &str) -> ApiFuture<()>;
}
