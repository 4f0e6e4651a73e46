//! [`Turn`]: one streamed response, as events and as the message they build.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::Stream;
use tokio_util::sync::CancellationToken;

use super::accumulate::Accumulator;
use super::event::{ParseError, StreamEvent, parse_event};
use super::sse::SseParser;
use crate::client::Client;
use crate::error::Error;
use crate::runner::{DispatchConfig, Early, start_early};
use crate::toolset::Toolset;
use crate::types::{ContentBlock, Message};

type Sending = Pin<Box<dyn Future<Output = Result<reqwest::Response, Error>> + Send>>;
type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// One streamed turn: a [`Stream`] of [`StreamEvent`]s, and the message they
/// build ([`message`](Self::message)).
///
/// Read as many events as you like, or none: [`message`](Self::message)
/// reads the rest, and the runner does too when it moves on, so the loop
/// always gets the complete message.
///
/// A stream that breaks off before any event was yielded is requested
/// again (within the client's retries); once events were yielded, a break
/// is an error ([`Error::is_stream_broken`]). An `error` event from the API
/// is an error too ([`Error::is_stream_error`]).
pub struct Turn {
    source: Source,
    resend: Resend,
    parser: SseParser,
    pending: VecDeque<StreamEvent>,
    accumulator: Accumulator,
    message: Option<Message>,
    /// Whether the caller has seen an event: after that, the turn cannot
    /// be requested again without the caller seeing events twice.
    delivered: bool,
    failed: bool,
    early: Option<EarlyStart>,
}

enum Source {
    Sending(Sending),
    Body(Body),
    Done,
}

struct Resend {
    client: Client,
    body: Bytes,
    betas: Vec<String>,
    container: Option<String>,
    left: u32,
}

/// Starting tools while the turn streams.
pub(crate) struct EarlyStart {
    pub(crate) toolset: Toolset,
    pub(crate) config: DispatchConfig,
    pub(crate) cancel: CancellationToken,
    pub(crate) started: HashMap<String, Early>,
}

impl Turn {
    pub(crate) fn start(
        client: Client,
        body: Bytes,
        betas: Vec<String>,
        container: Option<String>,
        early: Option<EarlyStart>,
    ) -> Self {
        let left = client.max_retries();
        let mut resend = Resend {
            client,
            body,
            betas,
            container,
            left,
        };
        Turn {
            source: Source::Sending(resend.send()),
            resend,
            parser: SseParser::default(),
            pending: VecDeque::new(),
            accumulator: Accumulator::default(),
            message: None,
            delivered: false,
            failed: false,
            early,
        }
    }

    /// The turn's complete message, reading whatever events are left.
    ///
    /// # Errors
    ///
    /// An error event from the API, a stream that broke off, or the
    /// request's own failure.
    pub async fn message(&mut self) -> Result<&Message, Error> {
        if self.message.is_none() {
            while let Some(event) = std::future::poll_fn(|cx| self.poll_event(cx)).await {
                event?;
            }
            let accumulator = std::mem::take(&mut self.accumulator);
            self.message = Some(accumulator.finish()?);
        }
        self.message
            .as_ref()
            .ok_or_else(|| Error::stream_broken("the turn has no message"))
    }

    /// The message and the calls started early, for the runner.
    pub(crate) async fn finish(mut self) -> Result<(Message, HashMap<String, Early>), Error> {
        self.message().await?;
        let early = self.early.take().map(|e| e.started).unwrap_or_default();
        match self.message.take() {
            Some(message) => Ok((message, early)),
            None => Err(Error::stream_broken("the turn has no message")),
        }
    }

    /// The next event, applied to the message; `None` after `message_stop`.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamEvent, Error>>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                if let Err(e) = self.apply(&event) {
                    return Poll::Ready(Some(Err(self.fail(e))));
                }
                return Poll::Ready(Some(Ok(event)));
            }
            if self.failed || self.accumulator.is_complete() || self.message.is_some() {
                return Poll::Ready(None);
            }
            match &mut self.source {
                Source::Done => return Poll::Ready(None),
                Source::Sending(sending) => match ready!(sending.as_mut().poll(cx)) {
                    Ok(response) => self.source = Source::Body(Box::pin(response.bytes_stream())),
                    Err(e) => return Poll::Ready(Some(Err(self.fail(e)))),
                },
                Source::Body(body) => match ready!(body.as_mut().poll_next(cx)) {
                    Some(Ok(chunk)) => {
                        if let Err(e) = self.read_chunk(&chunk) {
                            return Poll::Ready(Some(Err(self.fail(e))));
                        }
                    }
                    cut => {
                        let cause = match cut {
                            Some(Err(e)) => format!(": {e}"),
                            _ => String::new(),
                        };
                        // Requesting the turn again is safe only while the
                        // caller has seen nothing and no tool has started.
                        let untouched = self.early.as_ref().is_none_or(|e| e.started.is_empty());
                        if !self.delivered && untouched && self.resend.left > 0 {
                            tracing::debug!(
                                cause,
                                "stream broke off before any event was read; requesting it again"
                            );
                            self.restart();
                            continue;
                        }
                        let error = Error::stream_broken(format!(
                            "the stream ended before `message_stop`{cause}"
                        ));
                        return Poll::Ready(Some(Err(self.fail(error))));
                    }
                },
            }
        }
    }

    fn read_chunk(&mut self, chunk: &[u8]) -> Result<(), Error> {
        let mut events = Vec::new();
        self.parser.feed(chunk, &mut events);
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
        Ok(())
    }

    fn apply(&mut self, event: &StreamEvent) -> Result<(), Error> {
        self.accumulator.apply(event)?;
        if let (StreamEvent::ContentBlockStop { index }, Some(early)) = (event, self.early.as_mut())
            && let Some(ContentBlock::ToolUse(call)) = self.accumulator.block(*index)
        {
            let started = start_early(&early.toolset, call.clone(), &early.config, &early.cancel);
            early.started.insert(call.id.clone(), started);
        }
        Ok(())
    }

    /// Sends the request again, forgetting everything read so far.
    fn restart(&mut self) {
        self.resend.left -= 1;
        self.parser = SseParser::default();
        self.pending.clear();
        self.accumulator = Accumulator::default();
        self.source = Source::Sending(self.resend.send());
    }

    fn fail(&mut self, error: Error) -> Error {
        self.failed = true;
        self.source = Source::Done;
        crate::runner::classify_container_error(error, self.resend.container.clone())
    }
}

impl Resend {
    fn send(&mut self) -> Sending {
        let client = self.client.clone();
        let body = self.body.clone();
        let betas = self.betas.clone();
        Box::pin(async move { client.send_raw(body, &betas).await })
    }
}

impl Stream for Turn {
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

impl fmt::Debug for Turn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Turn")
            .field("delivered", &self.delivered)
            .field(
                "complete",
                &(self.message.is_some() || self.accumulator.is_complete()),
            )
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}
