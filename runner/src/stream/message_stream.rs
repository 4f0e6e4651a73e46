//! [`MessageStream`]: one streamed reply, as events and as the message they build.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::Sleep;

use super::accumulate::Accumulator;
use super::event::{ParseError, StreamEvent, parse_event};
use super::framing::{Decoder, Framing};
use crate::error::Error;
use crate::types::response::Received;
use crate::types::{ContentBlock, Message, ResponseMeta};

/// Sending the request again: a response whose status was a success, unread.
pub(crate) type Sending = Pin<Box<dyn Future<Output = Result<reqwest::Response, Error>> + Send>>;
type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;
type Resend = Box<dyn FnMut() -> Sending + Send>;
/// Told how the stream ended: its message, or the error that ended it.
type OnEnd = Box<dyn FnOnce(Result<&Message, &Error>) + Send>;

/// One streamed reply of the Messages API: a [`Stream`] of [`StreamEvent`]s,
/// and the message they build ([`message`](Self::message)).
///
/// Read as many events as you like, or none: [`message`](Self::message)
/// reads the rest. A stream that breaks off before any event was yielded
/// is requested again (within the client's retries); once events were
/// yielded, a break is an error ([`Error::is_stream_broken`]). An `error`
/// event from the API is an error too ([`Error::is_stream_error`]).
///
/// Made by [`Client::stream_message`](crate::Client::stream_message).
pub struct MessageStream {
    source: Source,
    resend: Resend,
    resends_left: u32,
    framing: Framing,
    decoder: Decoder,
    pending: VecDeque<StreamEvent>,
    /// An error that came after the pending events, read once they are.
    pending_error: Option<Error>,
    accumulator: Accumulator,
    message: Option<Message>,
    /// Whether anyone outside has seen what was read: after that, the reply
    /// cannot be requested again without it being seen twice.
    delivered: bool,
    /// Whether `message_start` was read.
    started: bool,
    failed: bool,
    /// How long the body may send nothing, and the timer that measures it,
    /// reset by every chunk: a long stream is fine, a silent one is broken.
    idle: Duration,
    idle_timer: Pin<Box<Sleep>>,
    /// The status and headers of the response being read.
    response: Arc<ResponseMeta>,
    /// Told once how the stream ended (the call's span records it).
    on_end: Option<OnEnd>,
    /// The API's `error` event that ended the stream, as its type and
    /// message: reading the stream again reports it again, rather than a
    /// stream that merely broke off (an overload stays an overload).
    api_failure: Option<(String, String)>,
}

/// The metadata of `response`, before its body is read.
fn meta_of(response: &reqwest::Response) -> ResponseMeta {
    ResponseMeta::new(response.status(), response.headers().clone())
}

enum Source {
    Sending(Sending),
    Body(Body),
    Done,
}

impl MessageStream {
    /// A stream reading `response`, framed as `framing` says, the answer
    /// to a request that `resend` sends again, at most `resends` times,
    /// when the body breaks off before any event was seen.
    pub(crate) fn new(
        response: reqwest::Response,
        resend: impl FnMut() -> Sending + Send + 'static,
        resends: u32,
        idle: Duration,
        framing: Framing,
    ) -> Self {
        let meta = Arc::new(meta_of(&response));
        MessageStream {
            response: meta,
            source: Source::Body(Box::pin(response.bytes_stream())),
            resend: Box::new(resend),
            resends_left: resends,
            framing,
            decoder: Decoder::new(framing),
            pending: VecDeque::new(),
            pending_error: None,
            accumulator: Accumulator::default(),
            message: None,
            delivered: false,
            started: false,
            failed: false,
            idle,
            idle_timer: Box::pin(tokio::time::sleep(idle)),
            on_end: None,
            api_failure: None,
        }
    }

    /// Has `on_end` told how the stream ends: with its message, once it is
    /// complete, or with the error that ends it.
    pub(crate) fn on_end(
        &mut self,
        on_end: impl FnOnce(Result<&Message, &Error>) + Send + 'static,
    ) {
        self.on_end = Some(Box::new(on_end));
    }

    /// The complete message, reading whatever events are left.
    ///
    /// # Errors
    ///
    /// An error event from the API, or a stream that broke off.
    pub async fn message(&mut self) -> Result<&Message, Error> {
        if let Some((error_type, message)) = &self.api_failure {
            return Err(Error::stream_error(error_type.clone(), message.clone()));
        }
        if self.message.is_none() {
            while let Some(event) = std::future::poll_fn(|cx| self.poll_event(cx)).await {
                event?;
            }
        }
        if self.message.is_none() {
            // The body ended without completing the message: this says how.
            let accumulator = std::mem::take(&mut self.accumulator);
            let mut message = accumulator.finish()?;
            message.set_response(Arc::clone(&self.response));
            self.message = Some(message);
        }
        self.message
            .as_ref()
            .ok_or_else(|| Error::stream_broken("the stream has no message"))
    }

    /// The complete message, owned.
    ///
    /// # Errors
    ///
    /// As [`message`](Self::message).
    pub async fn into_message(mut self) -> Result<Message, Error> {
        self.message().await?;
        self.message
            .take()
            .ok_or_else(|| Error::stream_broken("the stream has no message"))
    }

    /// The status and headers of the response the stream reads: its
    /// request id, rate limits and the rest. After a body that broke off
    /// was requested again, the new response's.
    pub fn response(&self) -> &ResponseMeta {
        &self.response
    }

    /// The `request-id` of the response the stream reads.
    pub fn request_id(&self) -> Option<&str> {
        self.response.request_id()
    }

    /// Marks what was read as seen outside, so that a break is no longer
    /// answered by requesting the reply again (say, a tool started from it).
    pub(crate) fn hold(&mut self) {
        self.delivered = true;
    }

    /// The block at `index` so far.
    pub(crate) fn block(&self, index: usize) -> Option<&ContentBlock> {
        self.accumulator.block(index)
    }

    /// Whether `message_start` has been read: from then on the server has
    /// begun a reply, whether or not it arrives whole.
    pub(crate) fn has_started(&self) -> bool {
        self.started
    }

    /// The next event, applied to the message; `None` after `message_stop`.
    /// Does not count as delivered: [`Stream::poll_next`] does.
    pub(crate) fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<StreamEvent, Error>>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                if let Err(e) = self.accumulator.apply(&event) {
                    return Poll::Ready(Some(Err(self.fail(e))));
                }
                self.started |= matches!(event, StreamEvent::MessageStart { .. });
                return Poll::Ready(Some(Ok(event)));
            }
            if let Some(error) = self.pending_error.take() {
                return Poll::Ready(Some(Err(self.fail(error))));
            }
            if self.failed || self.message.is_some() {
                return Poll::Ready(None);
            }
            if self.accumulator.is_complete() {
                // The message is made as the stream ends, so that it is
                // known even to a reader that never asks for it.
                let accumulator = std::mem::take(&mut self.accumulator);
                match accumulator.finish() {
                    Ok(mut message) => {
                        message.set_response(Arc::clone(&self.response));
                        if let Some(on_end) = self.on_end.take() {
                            on_end(Ok(&message));
                        }
                        self.message = Some(message);
                        return Poll::Ready(None);
                    }
                    Err(e) => return Poll::Ready(Some(Err(self.fail(e)))),
                }
            }
            match &mut self.source {
                Source::Done => return Poll::Ready(None),
                Source::Sending(sending) => match ready!(sending.as_mut().poll(cx)) {
                    Ok(response) => {
                        self.response = Arc::new(meta_of(&response));
                        self.source = Source::Body(Box::pin(response.bytes_stream()));
                        self.reset_idle_timer();
                    }
                    Err(e) => return Poll::Ready(Some(Err(self.fail(e)))),
                },
                Source::Body(body) => match body.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(chunk))) => {
                        self.reset_idle_timer();
                        if let Err(e) = self.read_chunk(&chunk) {
                            return Poll::Ready(Some(Err(self.fail(e))));
                        }
                    }
                    Poll::Pending => {
                        ready!(self.idle_timer.as_mut().poll(cx));
                        let cause = format!(
                            ": nothing was received for {:?} (the stream idle timeout)",
                            self.idle
                        );
                        if let Some(error) = self.on_cut(cause) {
                            return Poll::Ready(Some(Err(error)));
                        }
                    }
                    Poll::Ready(cut) => {
                        let cause = match cut {
                            Some(Err(e)) => format!(": {e}"),
                            _ => String::new(),
                        };
                        if let Some(error) = self.on_cut(cause) {
                            return Poll::Ready(Some(Err(error)));
                        }
                    }
                },
            }
        }
    }

    /// A body that broke off, or went silent: requested again while that is
    /// safe (then `None`), an error after.
    fn on_cut(&mut self, cause: String) -> Option<Error> {
        // Requesting the reply again is safe only while nobody has seen any of it.
        if !self.delivered && self.resends_left > 0 {
            tracing::debug!(
                cause,
                "stream broke off before any event was read; requesting it again"
            );
            self.restart();
            return None;
        }
        let error = Error::stream_broken(format!("the stream ended before `message_stop`{cause}"));
        Some(self.fail(error))
    }

    fn reset_idle_timer(&mut self) {
        let deadline = tokio::time::Instant::now() + self.idle;
        self.idle_timer.as_mut().reset(deadline);
    }

    /// Decodes `chunk` into pending events. An error ends the stream, but
    /// only after the events the chunk carried before it are read.
    fn read_chunk(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let pending = self.pending.len();
        let read = self.decode(chunk);
        match read {
            Err(error) if self.pending.len() > pending => {
                self.pending_error = Some(error);
                Ok(())
            }
            other => other,
        }
    }

    fn decode(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let mut events = Vec::new();
        let framed = self.decoder.feed(chunk, &mut events);
        for sse in events {
            match parse_event(&sse.event, &sse.data) {
                Ok(event) => self.pending.push_back(event),
                Err(ParseError::Api {
                    error_type,
                    message,
                }) => {
                    return Err(Error::stream_error(error_type, message));
                }
                Err(ParseError::Malformed { event, detail }) => {
                    return Err(Error::stream_broken(format!(
                        "malformed `{event}` event: {detail}"
                    )));
                }
            }
        }
        framed
    }

    /// Sends the request again, forgetting everything read so far.
    fn restart(&mut self) {
        self.resends_left -= 1;
        self.decoder = Decoder::new(self.framing);
        self.pending.clear();
        self.pending_error = None;
        self.accumulator = Accumulator::default();
        self.started = false;
        self.source = Source::Sending((self.resend)());
    }

    fn fail(&mut self, error: Error) -> Error {
        self.failed = true;
        self.source = Source::Done;
        if error.is_stream_error()
            && let (Some(error_type), Some(message)) = (error.api_error_type(), error.api_message())
        {
            self.api_failure = Some((error_type.to_owned(), message.to_owned()));
        }
        if let Some(on_end) = self.on_end.take() {
            on_end(Err(&error));
        }
        error
    }
}

impl Stream for MessageStream {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let item = ready!(this.poll_event(cx));
        if matches!(item, Some(Ok(_))) {
            this.delivered = true;
        }
        Poll::Ready(item)
    }
}

impl fmt::Debug for MessageStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageStream")
            .field("delivered", &self.delivered)
            .field(
                "complete",
                &(self.message.is_some() || self.accumulator.is_complete()),
            )
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}
