//! [`BatchResults`]: a batch's results file (JSON Lines), read line by
//! line as the body arrives, in memory bounded by the longest line however
//! large the file.

use std::collections::HashSet;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use reqwest::header::{ACCEPT, HeaderValue};
use reqwest::{Method, Url};

use super::{Batches, path_id};
use crate::client::call::call_span;
use crate::client::without_password;
use crate::error::Error;
use crate::platform::Endpoint;
use crate::types::{BatchResponse, MessageBatch, ResponseMeta};

/// The longest line read: a line is one request's result, a message of at
/// most a few megabytes; anything longer is not a results file.
const MAX_LINE: usize = 64 * 1024 * 1024;

impl Batches {
    /// The results of batch `batch_id`, once it has ended: retrieves the
    /// batch, then reads its results file as a stream of
    /// [`BatchResponse`]s, one per request, in no particular order (match
    /// them by [`custom_id`](BatchResponse::custom_id)). See
    /// [`results_of`](Self::results_of) when you hold the batch already.
    ///
    /// # Errors
    ///
    /// - [`Error::is_batch_not_ended`]: the batch is still processing.
    /// - [`Error::is_batch_expired`]: its results are no longer available.
    /// - Otherwise as for [`retrieve`](Self::retrieve); the stream's own
    ///   errors are [`BatchResults`]'.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use futures_util::TryStreamExt;
    ///
    /// let mut results = client.batches().results("msgbatch_01").await?;
    /// while let Some(line) = results.try_next().await? {
    ///     println!("{}: {}", line.custom_id, line.result.kind());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn results(&self, batch_id: &str) -> Result<BatchResults, Error> {
        let batch = self.retrieve(batch_id).await?;
        self.results_of(&batch).await
    }

    /// The results of `batch`, as [`results`](Self::results) reads them,
    /// without retrieving it again: `batch` must say it has ended, as the
    /// one [`wait`](Self::wait) returns does.
    ///
    /// # Errors
    ///
    /// As [`results`](Self::results).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use futures_util::TryStreamExt;
    /// use toolrunner::Polling;
    ///
    /// let batch = client.batches().wait("msgbatch_01", &Polling::default()).await?;
    /// let all: Vec<_> = client.batches().results_of(&batch).await?.try_collect().await?;
    /// println!("{} results", all.len());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn results_of(&self, batch: &MessageBatch) -> Result<BatchResults, Error> {
        let id = batch.id.as_str();
        if !batch.is_ended() {
            return Err(Error::batch_not_ended(
                id,
                batch.processing_status.as_str(),
                None,
                0,
            ));
        }
        if batch.archived_at.is_some() {
            return Err(Error::batch_expired(id, batch.archived_at.clone()));
        }
        let Some(results_url) = &batch.results_url else {
            return Err(Error::batch_expired(id, None));
        };
        let mut call = self.client.call(
            Method::GET,
            Endpoint::Batches(&[path_id(id, "batch id")?, "results"]),
            &[],
            None,
            "batch results",
        )?;
        call.url = results_location(&call.url, results_url);
        call.headers
            .insert(ACCEPT, HeaderValue::from_static("application/binary"));
        let span = call_span!(self.client, "messages.batches.results", batch_id = id);
        let response = self.client.call_open(&span, &call).await?;
        let meta = ResponseMeta::new(response.status(), response.headers().clone());
        let body = Box::pin(response.bytes_stream());
        Ok(BatchResults::new(
            id,
            without_password(&call.url),
            meta,
            body,
        ))
    }
}

/// Where to read results from: the batch's `results_url` when it is on the
/// same origin as the client's own endpoint, since the client's credentials
/// go with the request; else the endpoint's own results path, which serves
/// the same file.
fn results_location(endpoint: &Url, results_url: &str) -> Url {
    match Url::parse(results_url) {
        Ok(url) if url.origin() == endpoint.origin() => url,
        _ => {
            tracing::debug!(
                results_url,
                "results_url is on another origin; reading the results from the client's endpoint"
            );
            endpoint.clone()
        }
    }
}

type Body = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

/// A batch's results, one [`BatchResponse`] per line of its results file,
/// from [`Batches::results`]. A [`Stream`]: each line is parsed as its
/// bytes arrive, and only the line being read is held, so memory stays
/// bounded however large the file. Ends after the last line, or after the
/// first error.
///
/// With [`expect_ids`](Self::expect_ids), each result is also matched to
/// the requests the batch was made of.
///
/// # Errors
///
/// Each item may be:
/// - [`Error::is_batch_results`]: a line that is not JSON, not a result, a
///   result for an id not expected or seen twice, or, at the end, ids with
///   no result; [`Error::line`] says which line (the last one for missing
///   ids).
/// - [`Error::is_connection`]: the body broke off.
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
/// use futures_util::TryStreamExt;
/// use toolrunner::types::BatchResult;
///
/// let results = client.batches().results("msgbatch_01").await?.expect_ids(["q1", "q2"]);
/// let mut results = std::pin::pin!(results);
/// while let Some(line) = results.try_next().await? {
///     match line.result {
///         BatchResult::Succeeded { message } => println!("{}: {}", line.custom_id, message.text()),
///         other => println!("{}: {}", line.custom_id, other.kind()),
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "results do nothing unless read"]
pub struct BatchResults {
    batch_id: String,
    url: Url,
    response: ResponseMeta,
    body: Body,
    /// Bytes read and not yet parsed: `buffer[start..]` is the line being
    /// read. Parsed lines are dropped from the front once per chunk rather
    /// than once per line, so that a chunk of many lines is not shifted
    /// once for each.
    buffer: Vec<u8>,
    start: usize,
    /// Lines read so far.
    line: u64,
    expected: Option<Expected>,
    /// The body has ended.
    eof: bool,
    /// The stream has ended.
    done: bool,
}

/// The ids a batch was made of, and those seen so far.
struct Expected {
    ids: HashSet<String>,
    seen: HashSet<String>,
}

impl BatchResults {
    fn new(batch_id: &str, url: Url, response: ResponseMeta, body: Body) -> Self {
        BatchResults {
            batch_id: batch_id.to_owned(),
            url,
            response,
            body,
            buffer: Vec::new(),
            start: 0,
            line: 0,
            expected: None,
            eof: false,
            done: false,
        }
    }

    /// Matches each result to the batch's requests: a result whose
    /// `custom_id` is not one of `ids`, or that comes twice, is an error,
    /// and so are ids without a result once the file ends.
    pub fn expect_ids<I: Into<String>>(mut self, ids: impl IntoIterator<Item = I>) -> Self {
        self.expected = Some(Expected {
            ids: ids.into_iter().map(Into::into).collect(),
            seen: HashSet::new(),
        });
        self
    }

    /// The batch these are the results of.
    pub fn batch_id(&self) -> &str {
        &self.batch_id
    }

    /// The status and headers of the response the results file comes in.
    pub fn response(&self) -> &ResponseMeta {
        &self.response
    }

    /// The `request-id` of the response the results file comes in.
    pub fn request_id(&self) -> Option<&str> {
        self.response.request_id()
    }

    /// How many lines were read so far.
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    /// The next complete line in the buffer, as a range of it, if any.
    fn next_line(&mut self) -> Option<(usize, usize)> {
        let rest = &self.buffer[self.start..];
        let end = rest.iter().position(|&b| b == b'\n')?;
        let range = (self.start, self.start + end);
        self.start += end + 1;
        Some(range)
    }

    /// Parses `buffer[from..to]`, line number `self.line`; `None` for a
    /// blank line.
    fn parse(&mut self, from: usize, to: usize) -> Option<Result<BatchResponse, Error>> {
        let bytes = self.buffer[from..to].trim_ascii();
        if bytes.is_empty() {
            return None;
        }
        let parsed = serde_json::from_slice::<BatchResponse>(bytes).map_err(|e| {
            let reason = if e.is_data() {
                "not a batch result"
            } else {
                "not JSON"
            };
            Error::batch_results(&self.batch_id, self.line, reason, Some(Box::new(e)))
        });
        Some(parsed.and_then(|response| self.matched(response)))
    }

    /// `response`, if its id is one expected and not seen before.
    fn matched(&mut self, response: BatchResponse) -> Result<BatchResponse, Error> {
        let Some(expected) = &mut self.expected else {
            return Ok(response);
        };
        let id = &response.custom_id;
        if !expected.ids.contains(id) {
            let reason = format!("a result for custom_id {id:?}, which the batch did not have");
            return Err(Error::batch_results(
                &self.batch_id,
                self.line,
                reason,
                None,
            ));
        }
        if !expected.seen.insert(id.clone()) {
            let reason = format!("a second result for custom_id {id:?}");
            return Err(Error::batch_results(
                &self.batch_id,
                self.line,
                reason,
                None,
            ));
        }
        Ok(response)
    }

    /// At the end of the file: an error for expected ids without a result.
    fn missing(&self) -> Option<Error> {
        let expected = self.expected.as_ref()?;
        let mut missing: Vec<&str> = expected
            .ids
            .iter()
            .filter(|id| !expected.seen.contains(*id))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            return None;
        }
        missing.sort_unstable();
        let shown: Vec<String> = missing.iter().take(5).map(|id| format!("{id:?}")).collect();
        let more = match missing.len() {
            n if n > 5 => format!(" and {} more", n - 5),
            _ => String::new(),
        };
        let reason = format!(
            "the file ended with no result for custom_id {}{more}",
            shown.join(", ")
        );
        Some(Error::batch_results(
            &self.batch_id,
            self.line,
            reason,
            None,
        ))
    }

    /// Ends the stream with `item`.
    fn finish<T>(&mut self, item: T) -> Poll<Option<T>> {
        self.done = true;
        Poll::Ready(Some(item))
    }
}

impl Stream for BatchResults {
    type Item = Result<BatchResponse, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.eof {
            return this.end();
        }
        loop {
            while let Some((from, to)) = this.next_line() {
                this.line += 1;
                match this.parse(from, to) {
                    Some(Ok(response)) => return Poll::Ready(Some(Ok(response))),
                    Some(Err(e)) => return this.finish(Err(e)),
                    None => {}
                }
            }
            if this.buffer.len() - this.start > MAX_LINE {
                let reason = format!("a line longer than {MAX_LINE} bytes");
                let e = Error::batch_results(&this.batch_id, this.line + 1, reason, None);
                return this.finish(Err(e));
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    this.buffer.drain(..this.start);
                    this.start = 0;
                    this.buffer.extend_from_slice(&chunk);
                }
                Poll::Ready(Some(Err(e))) => {
                    let url = Some(this.url.clone());
                    return this.finish(Err(Error::connection(e, url, 1)));
                }
                Poll::Ready(None) => return this.end(),
            }
        }
    }
}

impl BatchResults {
    /// At the end of the body: a last line without a newline, then the
    /// check for missing ids.
    fn end(&mut self) -> Poll<Option<Result<BatchResponse, Error>>> {
        let (from, to) = (self.start, self.buffer.len());
        self.start = to;
        if from < to {
            self.line += 1;
            match self.parse(from, to) {
                Some(Ok(response)) => {
                    // The check for missing ids comes on the next poll.
                    self.buffer.clear();
                    self.start = 0;
                    self.eof = true;
                    return Poll::Ready(Some(Ok(response)));
                }
                Some(Err(e)) => return self.finish(Err(e)),
                None => {}
            }
        }
        match self.missing() {
            Some(e) => self.finish(Err(e)),
            None => {
                self.done = true;
                Poll::Ready(None)
            }
        }
    }
}

impl std::fmt::Debug for BatchResults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchResults")
            .field("batch_id", &self.batch_id)
            .field("url", &self.url.as_str())
            .field("response", &self.response)
            .field("lines_read", &self.line)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::TryStreamExt;

    use super::*;

    /// The results of a body that arrives as `chunks`.
    fn results(chunks: Vec<Vec<u8>>) -> BatchResults {
        let chunks = chunks.into_iter().map(|c| Ok(Bytes::from(c)));
        let body: Body = Box::pin(futures_util::stream::iter(chunks));
        let meta = ResponseMeta::new(reqwest::StatusCode::OK, Default::default());
        BatchResults::new("b", Url::parse("http://x.local/").unwrap(), meta, body)
    }

    #[tokio::test]
    async fn lines_split_anywhere_read_the_same() {
        let file = concat!(
            r#"{"custom_id": "a", "result": {"type": "canceled"}}"#,
            "\r\n\n",
            r#"{"custom_id": "b", "result": {"type": "expired"}}"#,
            "\n",
            r#"{"custom_id": "c", "result": {"type": "canceled"}}"#,
        )
        .as_bytes();
        for i in 0..=file.len() {
            for j in (i..=file.len()).step_by(7) {
                let chunks = vec![file[..i].to_vec(), file[i..j].to_vec(), file[j..].to_vec()];
                let read: Vec<String> = results(chunks)
                    .expect_ids(["a", "b", "c"])
                    .map_ok(|r| r.custom_id)
                    .try_collect()
                    .await
                    .unwrap();
                assert_eq!(read, ["a", "b", "c"], "split at {i} and {j}");
            }
        }
    }

    #[tokio::test]
    async fn lines_are_numbered_from_one_blank_ones_included() {
        let file =
            b"\n{\"custom_id\": \"a\", \"result\": {\"type\": \"canceled\"}}\n{oops\n".to_vec();
        let mut results = results(vec![file]);
        assert_eq!(results.try_next().await.unwrap().unwrap().custom_id, "a");
        let e = results.try_next().await.unwrap_err();
        assert_eq!(e.line(), Some(3));
        assert!(results.try_next().await.unwrap().is_none());
    }

    #[test]
    fn results_are_read_from_the_batch_url_only_on_the_clients_origin() {
        let endpoint = Url::parse("https://proxy.local/v1/messages/batches/b1/results").unwrap();
        let same = "https://proxy.local/files/b1.jsonl";
        assert_eq!(results_location(&endpoint, same).as_str(), same);
        for other in [
            "https://elsewhere.example/v1/messages/batches/b1/results",
            "http://proxy.local/files/b1.jsonl",
            "not a url",
        ] {
            assert_eq!(results_location(&endpoint, other), endpoint, "{other}");
        }
    }
}
