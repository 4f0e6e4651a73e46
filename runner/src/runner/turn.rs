//! [`Turn`]: one turn of a streaming runner, which may start tools while
//! it streams.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::Stream;
use tokio_util::sync::CancellationToken;

use super::dispatch::{DispatchConfig, Early, start_early};
use super::request::classify_container_error;
use crate::error::Error;
use crate::stream::{MessageStream, StreamEvent};
use crate::toolset::Toolset;
use crate::types::{ContentBlock, Message, ResponseMeta};

/// One streamed turn of a [`StreamingToolRunner`](crate::StreamingToolRunner):
/// a [`Stream`] of [`StreamEvent`]s, and the message they build
/// ([`message`](Self::message)).
///
/// Read as many events as you like, or none: [`message`](Self::message)
/// reads the rest, and the runner does too when it moves on, so the loop
/// always gets the complete message.
///
/// A stream that breaks off before any event was yielded (and before any
/// tool started early) is requested again, within the client's retries;
/// once events were yielded, a break is an error
/// ([`Error::is_stream_broken`]). An `error` event from the API is an error
/// too ([`Error::is_stream_error`]).
///
/// The first turn of a resumed run that a human decided calls of (see
/// [`Client::resume`](crate::Client::resume)) is the kept turn again: it
/// has no events, and its [`message`](Self::message) is the kept one.
pub struct Turn {
    source: Source,
    /// The container the request named, for errors about it.
    container: Option<String>,
    early: Option<EarlyStart>,
}

/// Where a turn's message comes from.
#[expect(
    clippy::large_enum_variant,
    reason = "every turn but a resumed run's first streams: boxing the stream would cost each of them an allocation"
)]
enum Source {
    /// A response streaming in.
    Streamed(MessageStream),
    /// A turn the loop had already, shown again.
    Kept(Box<Message>),
}

/// Starting tools while the turn streams.
pub(crate) struct EarlyStart {
    pub(crate) toolset: Toolset,
    pub(crate) config: DispatchConfig,
    pub(crate) cancel: CancellationToken,
    pub(crate) started: HashMap<String, Early>,
    /// The run's span, for the calls' spans.
    pub(crate) span: tracing::Span,
}

/// How a turn ended, for the runner.
pub(crate) enum Ending {
    /// The message, and the calls started early by `tool_use` id.
    Complete(Box<Message>, HashMap<String, Early>),
    /// The error, and whether the reply had begun (`message_start` was read).
    Failed(Error, bool),
    /// A kept turn, which the loop has already.
    Kept,
}

impl Turn {
    pub(crate) fn new(
        stream: MessageStream,
        container: Option<String>,
        early: Option<EarlyStart>,
    ) -> Self {
        Turn {
            source: Source::Streamed(stream),
            container,
            early,
        }
    }

    /// A turn the loop had already, shown again with no events.
    pub(crate) fn kept(message: Box<Message>) -> Self {
        Turn {
            source: Source::Kept(message),
            container: None,
            early: None,
        }
    }

    /// The status and headers of the response this turn's request got:
    /// its request id, rate limits and the rest. `None` for a kept turn
    /// shown again whose message was not received by this process.
    pub fn response(&self) -> Option<&ResponseMeta> {
        match &self.source {
            Source::Streamed(stream) => Some(stream.response()),
            Source::Kept(message) => message.response(),
        }
    }

    /// The `request-id` of the response this turn's request got.
    pub fn request_id(&self) -> Option<&str> {
        self.response()?.request_id()
    }

    /// The turn's complete message, reading whatever events are left.
    ///
    /// # Errors
    ///
    /// An error event from the API, or a stream that broke off.
    pub async fn message(&mut self) -> Result<&Message, Error> {
        while let Some(event) = std::future::poll_fn(|cx| self.poll_event(cx)).await {
            event?;
        }
        let container = self.container.clone();
        match &mut self.source {
            Source::Streamed(stream) => stream
                .message()
                .await
                .map_err(|e| classify_container_error(e, container)),
            Source::Kept(message) => Ok(&**message),
        }
    }

    /// The turn's text parsed as `T`, reading whatever events are left:
    /// `None` for a turn with no text (tool calls only). For a runner whose
    /// requests ask for `T` ([`ToolRunner::output_format`](crate::ToolRunner::output_format)).
    ///
    /// # Errors
    ///
    /// As [`message`](Self::message); inside the option, a parse error as
    /// [`ToolRunner::until_done_parsed`](crate::ToolRunner::until_done_parsed)'s.
    pub async fn parsed<T: serde::de::DeserializeOwned>(
        &mut self,
    ) -> Result<Option<Result<T, Error>>, Error> {
        Ok(super::structured::parse_turn(self.message().await?))
    }

    /// Reads the turn to its end, for the runner.
    pub(crate) async fn finish(mut self) -> Ending {
        if let Err(error) = self.message().await {
            let started = match &self.source {
                Source::Streamed(stream) => stream.has_started(),
                Source::Kept(_) => true,
            };
            return Ending::Failed(error, started);
        }
        let early = self.early.take().map(|e| e.started).unwrap_or_default();
        let Source::Streamed(stream) = self.source else {
            return Ending::Kept;
        };
        match stream.into_message().await {
            Ok(message) => Ending::Complete(Box::new(message), early),
            Err(error) => Ending::Failed(error, true),
        }
    }

    /// Marks the turn's reply as seen, so that it is not requested again.
    fn hold(&mut self) {
        if let Source::Streamed(stream) = &mut self.source {
            stream.hold();
        }
    }

    /// The next event; starts a tool whose `tool_use` block it completes,
    /// when tools start early.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamEvent, Error>>> {
        let Source::Streamed(stream) = &mut self.source else {
            return Poll::Ready(None);
        };
        let item = ready!(stream.poll_event(cx));
        if let Some(Ok(StreamEvent::ContentBlockStop { index })) = &item
            && let Some(early) = self.early.as_mut()
            && let Some(ContentBlock::ToolUse(call)) = stream.block(*index)
            // Input that is not valid JSON was cut short: never run a tool on
            // it; the call is answered with an error if the turn stops for tools.
            && call.input_error.is_none()
        {
            let started = start_early(
                &early.toolset,
                call.clone(),
                &early.config,
                &early.cancel,
                &early.span,
            );
            early.started.insert(call.id.clone(), started);
            // A tool has started from this reply: it must not be requested again.
            stream.hold();
        }
        Poll::Ready(
            item.map(|r| r.map_err(|e| classify_container_error(e, self.container.clone()))),
        )
    }
}

impl Stream for Turn {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let item = ready!(this.poll_event(cx));
        if matches!(item, Some(Ok(_))) {
            this.hold();
        }
        Poll::Ready(item)
    }
}

impl fmt::Debug for Turn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Turn");
        match &self.source {
            Source::Streamed(stream) => d.field("stream", stream),
            Source::Kept(message) => d.field("kept", &message.id),
        };
        d.field("container", &self.container)
            .field("early_start", &self.early.is_some())
            .finish()
    }
}
