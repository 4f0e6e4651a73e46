//! [`MessageThread`]: a conversation the server holds between turns, on its
//! own, without the tool loop; the official SDKs' `messages.thread()`.
//!
//! It keeps the whole history and sends each turn as the runner does (see
//! `thread.rs`): the first request creates the thread, later ones continue
//! it with only the new messages, and it recovers as the runner does. It
//! falls back to other models as the runner does (see `fallback.rs`).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::{FutureExt, Stream};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::caching::PromptCaching;
use super::conversation;
use super::fallback::Fallbacks;
use super::parsed::ParsedMessage;
use super::request::RequestBuilder;
use super::structured;
use super::thread::{self, ThreadState};
use crate::client::{Client, Request};
use crate::error::Error;
use crate::stream::{MessageStream, StreamEvent};
use crate::toolset::Toolset;
use crate::types::{Message, MessageParam, MessageParams};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A conversation the server holds between turns (message threads, beta
/// `message-threads-2026-08-12`), so that each request sends only the new
/// messages however long the history grows; the official SDKs'
/// `messages.thread()`. Made by [`Client::thread`], or forked from a
/// runner ([`ToolRunner::fork_thread`](crate::ToolRunner::fork_thread)).
///
/// [`send`](Self::send), [`stream`](Self::stream) and
/// [`parse`](Self::parse) each send one turn: the messages given, after any
/// [`append`](Self::append)ed before. The reply joins the history. A turn
/// that fails leaves the history as it was before it.
///
/// Like the runner, the thread starts a new thread with the whole history
/// when the server lost it, after a refusal, after a reply a server-side
/// fallback model wrote, and after a stream that broke off; it goes on
/// without a thread when the server cannot thread a request, and on a
/// platform that does not offer threads. With
/// [`fallback_models`](Self::fallback_models), a refused or overloaded turn
/// goes to the next model as in the runner.
///
/// See the [threads guide](crate::_guide::threads).
///
/// # Examples
///
/// ```no_run
/// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
/// use toolrunner::{MessageParam, MessageParams};
///
/// let mut thread = client.thread(MessageParams::new(toolrunner::models::CURRENT, 1024).system("Be terse."));
/// let first = thread.send([MessageParam::user("Name a prime.")]).await?;
/// // Only this message goes out; the server holds the rest.
/// let second = thread.send([MessageParam::user("Another.")]).await?;
/// println!("{} then {}", first.text(), second.text());
/// # Ok(())
/// # }
/// ```
pub struct MessageThread {
    client: Client,
    /// The parameters of the next turn, with the whole history.
    params: MessageParams,
    thread: ThreadState,
    fallbacks: Fallbacks,
    /// Off: a standalone thread adds no cache marks of its own.
    caching: PromptCaching,
    requests: RequestBuilder,
    /// No tools of the runner's: `params.tools` are sent as they are.
    declared: Toolset,
    /// Whether the history or the parameters changed since the last reply.
    touched: bool,
}

impl Client {
    /// A standalone message thread over `params`, whose messages are the
    /// history it starts with. Sends nothing.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(client: toolrunner::Client) {
    /// let thread = client
    ///     .thread(toolrunner::MessageParams::new(toolrunner::models::CURRENT, 1024))
    ///     .fallback_models(["claude-sonnet-4-5"]);
    /// # drop(thread);
    /// # }
    /// ```
    pub fn thread(&self, params: MessageParams) -> MessageThread {
        MessageThread::new(self.clone(), params, Fallbacks::default())
    }
}

impl MessageThread {
    pub(crate) fn new(client: Client, params: MessageParams, fallbacks: Fallbacks) -> Self {
        let threading = thread::offered_by(&client);
        MessageThread {
            client,
            params,
            thread: ThreadState::new(threading),
            fallbacks,
            caching: {
                let mut caching = PromptCaching::default();
                caching.set_enabled(false);
                caching
            },
            requests: RequestBuilder::new(),
            declared: Toolset::new(),
            touched: true,
        }
    }

    /// Whether turns use a message thread (on by default, where the
    /// platform offers threads): off, each request sends the whole
    /// history. Set it before the first turn.
    pub fn message_threads(mut self, enabled: bool) -> Self {
        let offered = thread::offered_by(&self.client);
        self.thread.set_enabled(enabled && offered);
        self
    }

    /// Falls back to `models`, in order, when the model refuses a turn or
    /// the API is overloaded, as
    /// [`ToolRunner::fallback_models`](crate::ToolRunner::fallback_models)
    /// does. A streamed turn that is refused goes on, in the same
    /// [`ThreadStream`], with the next model's events.
    pub fn fallback_models<S: Into<String>>(mut self, models: impl IntoIterator<Item = S>) -> Self {
        self.fallbacks = Fallbacks::new(models.into_iter().map(Into::into).collect());
        self
    }

    /// The whole conversation: the history, replies included, and any
    /// messages appended for the next turn.
    pub fn messages(&self) -> &[MessageParam] {
        &self.params.messages
    }

    /// The parameters of the next turn, with the whole history.
    pub fn params(&self) -> &MessageParams {
        &self.params
    }

    /// The reply the next turn continues from; `None` when it starts a
    /// new thread (or threads are off).
    pub fn previous_message_id(&self) -> Option<&str> {
        self.thread.previous_message_id()
    }

    /// Adds messages for the next turn without sending anything.
    pub fn append(&mut self, messages: impl IntoIterator<Item = MessageParam>) {
        self.params.messages.extend(messages);
        self.touched = true;
    }

    /// Changes the parameters of all later turns (`model`, `max_tokens`,
    /// `thinking`, ...), without sending anything.
    ///
    /// # Errors
    ///
    /// An invalid-request error ([`Error::is_invalid_request`]), and no
    /// change, when `update` changed the messages (use
    /// [`append`](Self::append)) or, once a turn created the thread, its
    /// `system` prompt or `tools`, which the server holds from then on
    /// (fork the thread for other ones).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn f(thread: &mut toolrunner::MessageThread) -> Result<(), toolrunner::Error> {
    /// thread.update(|params| params.max_tokens = 4096)?;
    /// # Ok(()) }
    /// ```
    pub fn update(&mut self, update: impl FnOnce(&mut MessageParams)) -> Result<(), Error> {
        let mut updated = self.params.clone();
        update(&mut updated);
        if updated.messages != self.params.messages {
            return Err(Error::invalid_request(
                "`update` changed the thread's messages; add messages with `append` or `send`",
            ));
        }
        if self.thread.previous_message_id().is_some() {
            let field = if updated.system != self.params.system {
                Some("system")
            } else if updated.tools != self.params.tools {
                Some("tools")
            } else {
                None
            };
            if let Some(field) = field {
                return Err(Error::invalid_request(format!(
                    "`update` changed `{field}`, which the server holds once a turn created the thread; fork the thread to change it"
                )));
            }
        }
        self.params = updated;
        self.touched = true;
        Ok(())
    }

    /// A new, independent thread with a copy of this one's history,
    /// parameters and fallback models, which starts a thread of its own
    /// with its first turn. Sends nothing.
    pub fn fork(&self) -> MessageThread {
        let mut fork = MessageThread::new(
            self.client.clone(),
            self.params.clone(),
            self.fallbacks.clone(),
        );
        fork.thread.set_enabled(self.thread.is_threading());
        fork
    }

    /// Sends `messages`, after any appended, as one turn, and returns the
    /// reply, which joins the history.
    ///
    /// # Errors
    ///
    /// As [`Client::create_message`]; the history is then as it was
    /// before the call. A thread the server lost or cannot thread, and a
    /// turn a fallback model takes over, are sent again rather than
    /// reported.
    pub async fn send(
        &mut self,
        messages: impl IntoIterator<Item = MessageParam>,
    ) -> Result<Message, Error> {
        let before = self.start_turn(messages);
        loop {
            let request = self.request(None).inspect_err(|_| self.undo(before))?;
            match self.complete(&request).await {
                Ok(reply) => {
                    if self.on_reply(&reply) {
                        return Ok(reply);
                    }
                }
                Err(error) => {
                    if !self.recovers_from(&error) {
                        self.undo(before);
                        return Err(error);
                    }
                }
            }
        }
    }

    /// As [`send`](Self::send), asking for an answer shaped as `T`
    /// (structured output) for this turn, and parsing the reply's text
    /// into it, as [`Client::create_parsed`] does.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send) and [`Client::create_parsed`]; a reply that
    /// does not parse stays in the history.
    pub async fn parse<T>(
        &mut self,
        messages: impl IntoIterator<Item = MessageParam>,
    ) -> Result<ParsedMessage<T>, Error>
    where
        T: DeserializeOwned + JsonSchema,
    {
        if structured::has_format(&self.params) {
            return Err(Error::invalid_request(
                "`output_config.format` is set in the thread's parameters, but `parse` sets it from the type it parses into; remove it, or use `send`",
            ));
        }
        let before = self.start_turn(messages);
        let format = structured::format_for::<T>();
        loop {
            let request = self
                .request(Some(&format))
                .inspect_err(|_| self.undo(before))?;
            match self.complete(&request).await {
                Ok(reply) => {
                    if self.on_reply(&reply) {
                        let parsed = structured::parse(&reply)?;
                        return Ok(ParsedMessage {
                            message: reply,
                            parsed,
                        });
                    }
                }
                Err(error) => {
                    if !self.recovers_from(&error) {
                        self.undo(before);
                        return Err(error);
                    }
                }
            }
        }
    }

    /// As [`send`](Self::send), streamed: the reply joins the history once
    /// the stream is read to its end ([`ThreadStream::message`], or the
    /// last event). The thread is borrowed until then.
    ///
    /// # Errors
    ///
    /// As [`Client::stream_message`]; the stream's own errors come from
    /// reading it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(mut thread: toolrunner::MessageThread) -> Result<(), toolrunner::Error> {
    /// use futures_util::StreamExt;
    /// use toolrunner::stream::{Delta, StreamEvent};
    /// use toolrunner::MessageParam;
    ///
    /// let mut stream = thread.stream([MessageParam::user("Write a haiku.")]).await?;
    /// while let Some(event) = stream.next().await {
    ///     if let StreamEvent::ContentBlockDelta { delta: Delta::Text(text), .. } = event? {
    ///         print!("{text}");
    ///     }
    /// }
    /// drop(stream);
    /// assert_eq!(thread.messages().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stream(
        &mut self,
        messages: impl IntoIterator<Item = MessageParam>,
    ) -> Result<ThreadStream<'_>, Error> {
        let before = self.start_turn(messages);
        let stream = self
            .open_stream()
            .await
            .inspect_err(|_| self.undo(before))?;
        Ok(ThreadStream {
            thread: self,
            state: Reading::Stream(Box::new(stream)),
            before,
            message: None,
        })
    }

    /// Stages `messages` and returns the history's length before them.
    fn start_turn(&mut self, messages: impl IntoIterator<Item = MessageParam>) -> usize {
        let before = self.params.messages.len();
        self.append(messages);
        before
    }

    /// Takes back the messages of a turn that failed.
    fn undo(&mut self, before: usize) {
        self.params.messages.truncate(before);
    }

    /// The request for the next turn; with `format`, asking for it.
    fn request(&mut self, format: Option<&serde_json::Value>) -> Result<Request, Error> {
        let configured = format.map(|format| {
            let configured = self.params.extra.get("output_config").cloned();
            structured::set_format(&mut self.params, format.clone());
            configured
        });
        let request = conversation::request(
            &mut self.params,
            &mut self.thread,
            &self.fallbacks,
            &self.caching,
            &mut self.requests,
            &self.declared,
            std::mem::take(&mut self.touched),
        );
        // The format is this turn's, not the thread's.
        match configured {
            Some(Some(config)) => {
                self.params.extra.insert("output_config".to_owned(), config);
            }
            Some(None) => {
                self.params.extra.shift_remove("output_config");
            }
            None => {}
        }
        request
    }

    /// Takes in a reply: `true` when it is the turn's, now in the history;
    /// `false` when a fallback model is to answer the turn instead.
    fn on_reply(&mut self, reply: &Message) -> bool {
        let fell_back = conversation::falls_back_on_reply(
            &mut self.params,
            &mut self.thread,
            &mut self.fallbacks,
            reply,
        );
        if !fell_back {
            self.params.messages.push(MessageParam::from(reply.clone()));
        }
        !fell_back
    }

    /// Sends `request` in the span of a call, with the whole history as
    /// what it may record.
    async fn complete(&self, request: &Request) -> Result<Message, Error> {
        let call = self.client.complete(request);
        self.client
            .in_call_span(&request.model, &self.params.messages, call)
            .await
    }

    /// Whether the turn is to be sent again after `error`.
    fn recovers_from(&mut self, error: &Error) -> bool {
        conversation::recovers_from(
            &mut self.params,
            &mut self.thread,
            &mut self.fallbacks,
            error,
        )
    }

    /// Opens the stream of the next turn, sending it again as the thread
    /// and the fallbacks say.
    async fn open_stream(&mut self) -> Result<MessageStream, Error> {
        loop {
            let request = self.request(None)?;
            let opened = self
                .client
                .open_stream_traced(&request, &self.params.messages)
                .await;
            match opened {
                Ok(stream) => return Ok(stream),
                Err(error) => {
                    if !self.recovers_from(&error) {
                        return Err(error);
                    }
                }
            }
        }
    }
}

impl fmt::Debug for MessageThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageThread")
            .field("model", &self.params.model)
            .field("messages", &self.params.messages.len())
            .field("previous_message_id", &self.previous_message_id())
            .field("threading", &self.thread.is_threading())
            .finish_non_exhaustive()
    }
}

/// One streamed turn of a [`MessageThread`]: a [`Stream`] of
/// [`StreamEvent`]s. The reply joins the thread's history once the stream
/// is read to its end. When the model refuses and a fallback model is left,
/// the stream goes on with that model's events (a second `message_start`),
/// and [`message`](Self::message) is that model's reply.
pub struct ThreadStream<'a> {
    thread: &'a mut MessageThread,
    state: Reading,
    /// The history's length before the turn, to take it back on failure.
    before: usize,
    /// The reply, once the stream ended and it joined the history.
    message: Option<Message>,
}

enum Reading {
    Stream(Box<MessageStream>),
    /// A fallback model's stream being opened.
    Opening(BoxFuture<Result<MessageStream, Error>>),
    Done,
}

impl ThreadStream<'_> {
    /// The turn's reply, reading whatever events are left.
    ///
    /// # Errors
    ///
    /// An error event from the API, or a stream that broke off (the
    /// history is then as before the turn).
    pub async fn message(&mut self) -> Result<&Message, Error> {
        while let Some(event) = std::future::poll_fn(|cx| self.poll_event(cx)).await {
            event?;
        }
        self.message
            .as_ref()
            .ok_or_else(|| Error::stream_broken("the stream has no message"))
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamEvent, Error>>> {
        loop {
            match &mut self.state {
                Reading::Done => return Poll::Ready(None),
                Reading::Opening(opening) => match ready!(opening.as_mut().poll(cx)) {
                    Ok(stream) => self.state = Reading::Stream(Box::new(stream)),
                    Err(error) => return Poll::Ready(Some(Err(self.fail(error, false)))),
                },
                Reading::Stream(stream) => match ready!(Pin::new(&mut **stream).poll_next(cx)) {
                    Some(Ok(event)) => return Poll::Ready(Some(Ok(event))),
                    Some(Err(error)) => {
                        let started = stream.has_started();
                        return Poll::Ready(Some(Err(self.fail(error, started))));
                    }
                    None => {
                        // Every event was read: the message is ready at once.
                        let reply = match stream.message().now_or_never() {
                            Some(Ok(reply)) => reply.clone(),
                            Some(Err(error)) => {
                                return Poll::Ready(Some(Err(self.fail(error, true))));
                            }
                            None => {
                                let error =
                                    Error::stream_broken("the stream ended without its message");
                                return Poll::Ready(Some(Err(self.fail(error, true))));
                            }
                        };
                        if self.thread.on_reply(&reply) {
                            self.message = Some(reply);
                            self.state = Reading::Done;
                            return Poll::Ready(None);
                        }
                        self.state = self.next_model();
                    }
                },
            }
        }
    }

    /// The stream of the fallback model that answers the refused turn.
    fn next_model(&mut self) -> Reading {
        match self.thread.request(None) {
            Ok(request) => {
                let client = self.thread.client.clone();
                let input = self.thread.params.messages.clone();
                Reading::Opening(Box::pin(async move {
                    client.open_stream_traced(&request, &input).await
                }))
            }
            Err(error) => Reading::Opening(Box::pin(std::future::ready(Err(error)))),
        }
    }

    /// Ends the turn on `error`; `started` says the reply had begun.
    fn fail(&mut self, error: Error, started: bool) -> Error {
        if started {
            self.thread.thread.on_partial_reply();
        }
        self.thread.undo(self.before);
        self.state = Reading::Done;
        error
    }
}

impl Stream for ThreadStream<'_> {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx)
    }
}

impl fmt::Debug for ThreadStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadStream")
            .field("thread", &self.thread)
            .field("done", &matches!(self.state, Reading::Done))
            .finish_non_exhaustive()
    }
}
