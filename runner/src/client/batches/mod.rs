//! [`Batches`]: the Message Batches API, `client.batches()`.
//!
//! Many Messages requests sent as one batch, processed within 24 hours at
//! half the price. Every call goes through the client's retry loop, so it
//! is retried, timed out and reported ([`Error`], with the request id) as
//! Messages requests are.
//!
//! - [`create`](Batches::create): `POST /v1/messages/batches`, checked
//!   before sending (see [`create`](Batches::create)).
//! - [`retrieve`](Batches::retrieve): `GET /v1/messages/batches/{id}`.
//! - [`list`](Batches::list): `GET /v1/messages/batches`, page by page.
//! - [`cancel`](Batches::cancel): `POST /v1/messages/batches/{id}/cancel`.
//! - [`delete`](Batches::delete): `DELETE /v1/messages/batches/{id}`.
//! - [`results`](Batches::results): the batch's `results_url`, a JSON
//!   Lines file, read line by line as it arrives ([`BatchResults`]).
//! - [`wait`](Batches::wait): polls until the batch ends, with backoff,
//!   within a bound ([`Polling`]).

mod built;
mod create;
mod results;
mod wait;

use reqwest::Method;

pub use results::BatchResults;
pub use wait::Polling;

use super::Client;
use super::call::call_span;
use super::listing::{Listing, Source};
use crate::error::Error;
use crate::platform::Endpoint;
use crate::types::{BatchRequest, DeletedBatch, MessageBatch};

impl Client {
    /// The Message Batches API: create batches of Messages requests, follow
    /// them, and read their results.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use futures_util::TryStreamExt;
    /// use toolrunner::types::{BatchRequest, BatchResult};
    /// use toolrunner::{MessageParams, Polling};
    ///
    /// let requests: Vec<BatchRequest> = ["Paris", "Rome"]
    ///     .iter()
    ///     .map(|city| {
    ///         let params = MessageParams::new(toolrunner::models::CURRENT, 256)
    ///             .user(format!("One fact about {city}."));
    ///         BatchRequest::new(city.to_lowercase(), params)
    ///     })
    ///     .collect();
    /// let batch = client.batches().create(&requests).await?;
    /// let batch = client.batches().wait(&batch.id, &Polling::default()).await?;
    /// let mut results = client.batches().results_of(&batch).await?;
    /// while let Some(line) = results.try_next().await? {
    ///     if let BatchResult::Succeeded { message } = &line.result {
    ///         println!("{}: {}", line.custom_id, message.text());
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn batches(&self) -> Batches {
        Batches {
            client: self.clone(),
        }
    }
}

/// The Message Batches API of a [`Client`], from [`Client::batches`].
/// Cheap to clone.
///
/// Offered by the first-party API (and gateways that serve it); Amazon
/// Bedrock, Vertex AI and Microsoft Foundry have no batches, and every call
/// is refused there before sending ([`Error::is_unsupported`]).
#[derive(Clone, Debug)]
pub struct Batches {
    client: Client,
}

impl Batches {
    /// Creates a batch of `requests`: `POST /v1/messages/batches`. It starts
    /// processing at once; [`wait`](Self::wait) for it to end.
    ///
    /// Checked before sending, as the API would refuse it: one to 100,000
    /// requests, 256 MB at most, each `custom_id` unique and matching
    /// `^[a-zA-Z0-9_-]{1,64}$`, and nothing the API version rejects (see
    /// [`ClientBuilder::anthropic_version`](crate::ClientBuilder::anthropic_version)).
    /// The requests' [`betas`](crate::MessageParams::betas) are merged into
    /// the batch's one `anthropic-beta` header.
    ///
    /// # Errors
    ///
    /// - [`Error::is_invalid_request`], before sending: a check above
    ///   failed; the message names the offending id or limit.
    /// - [`Error::is_unsupported`], before sending: the platform has no
    ///   batches.
    /// - Otherwise as for [`Client::create_message`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use toolrunner::MessageParams;
    /// use toolrunner::types::BatchRequest;
    ///
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 256).user("Hi");
    /// let batch = client.batches().create(&[BatchRequest::new("greeting", params)]).await?;
    /// println!("{} is {}", batch.id, batch.processing_status.as_str());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(&self, requests: &[BatchRequest]) -> Result<MessageBatch, Error> {
        let body = create::body(requests, &self.client.inner.anthropic_version)?;
        let call = self.client.call(
            Method::POST,
            Endpoint::Batches(&[]),
            &body.betas,
            Some(body.json),
            "a message batch",
        )?;
        let span = call_span!(
            self.client,
            "messages.batches.create",
            requests = requests.len()
        );
        self.client.call_json(&span, &call).await
    }

    /// The batch `batch_id`, as it is now: `GET /v1/messages/batches/{id}`.
    ///
    /// # Errors
    ///
    /// - [`Error::is_api`]: no such batch (404), or any API error.
    /// - [`Error::is_invalid_request`]: `batch_id` is empty, `.` or `..`.
    /// - Otherwise as for [`create`](Self::create).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// let batch = client.batches().retrieve("msgbatch_01").await?;
    /// println!("{} of {} requests processing", batch.request_counts.processing, batch.request_counts.total());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn retrieve(&self, batch_id: &str) -> Result<MessageBatch, Error> {
        let id = path_id(batch_id, "batch id")?;
        let call = self.client.call(
            Method::GET,
            Endpoint::Batches(&[id]),
            &[],
            None,
            "a message batch",
        )?;
        let span = call_span!(self.client, "messages.batches.retrieve", batch_id);
        self.client.call_json(&span, &call).await
    }

    /// Lists the batches, newest first, as a stream of pages or of
    /// batches; see [`Listing`] to set the page size.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use futures_util::TryStreamExt;
    ///
    /// let batches: Vec<_> = client.batches().list().limit(100).items().try_collect().await?;
    /// println!("{} batches", batches.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> Listing<MessageBatch> {
        Listing::new(self.client.clone(), Source::Batches)
    }

    /// Asks for batch `batch_id` to be canceled:
    /// `POST /v1/messages/batches/{id}/cancel`. It goes to `canceling`,
    /// then ends; requests under way may still finish, the others end
    /// `canceled`.
    ///
    /// # Errors
    ///
    /// As for [`retrieve`](Self::retrieve).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// let batch = client.batches().cancel("msgbatch_01").await?;
    /// println!("{}", batch.processing_status.as_str());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn cancel(&self, batch_id: &str) -> Result<MessageBatch, Error> {
        let id = path_id(batch_id, "batch id")?;
        // An empty JSON-typed body, as the official SDKs send it.
        let call = self.client.call(
            Method::POST,
            Endpoint::Batches(&[id, "cancel"]),
            &[],
            Some(bytes::Bytes::new()),
            "a message batch",
        )?;
        let span = call_span!(self.client, "messages.batches.cancel", batch_id);
        self.client.call_json(&span, &call).await
    }

    /// Deletes batch `batch_id`, which must have ended (cancel it first
    /// if it has not): `DELETE /v1/messages/batches/{id}`.
    ///
    /// # Errors
    ///
    /// As for [`retrieve`](Self::retrieve).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// let deleted = client.batches().delete("msgbatch_01").await?;
    /// assert_eq!(deleted.id, "msgbatch_01");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, batch_id: &str) -> Result<DeletedBatch, Error> {
        let id = path_id(batch_id, "batch id")?;
        let call = self.client.call(
            Method::DELETE,
            Endpoint::Batches(&[id]),
            &[],
            None,
            "a deleted message batch",
        )?;
        let span = call_span!(self.client, "messages.batches.delete", batch_id);
        self.client.call_json(&span, &call).await
    }
}

/// `id` checked for use as one path segment: percent-encoding keeps `/`
/// and `?` inside it, but an empty id, `.` or `..` would change the path.
pub(crate) fn path_id<'a>(id: &'a str, what: &str) -> Result<&'a str, Error> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(Error::invalid_request(format!("invalid {what} {id:?}")));
    }
    Ok(id)
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Batches>();
    assert_send_sync::<Polling>();
    assert_send_sync::<Listing<MessageBatch>>();
};

#[allow(dead_code, reason = "documents that request futures can be spawned")]
fn assert_futures_are_send(batches: &Batches, requests: &[BatchRequest], batch: &MessageBatch) {
    fn is_send<T: Send>(_: &T) {}
    is_send(&batches.create(requests));
    is_send(&batches.retrieve("b"));
    is_send(&batches.cancel("b"));
    is_send(&batches.delete("b"));
    is_send(&batches.results("b"));
    is_send(&batches.results_of(batch));
    is_send(&batches.wait("b", &Polling::default()));
}
