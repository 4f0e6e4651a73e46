//! Typed answers from the client itself: [`Client::create_parsed`] and
//! [`Client::stream_parsed`] ask for structured output shaped as a Rust
//! type and parse the reply into it, as the runner's `until_done_parsed`
//! does (the same schema, the same parse error).

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::structured;
use crate::client::Client;
use crate::error::Error;
use crate::stream::{MessageStream, StreamEvent};
use crate::types::{Message, MessageParams};

/// A reply together with its text parsed as `T`.
///
/// Made by [`Client::create_parsed`] and [`ParsedStream::into_parsed`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ParsedMessage<T> {
    /// The reply as the API sent it.
    pub message: Message,
    /// Its text, parsed.
    pub parsed: T,
}

/// A streamed reply whose text is parsed as `T` at the end: a [`Stream`] of
/// [`StreamEvent`]s as [`MessageStream`] is, and [`parsed`](Self::parsed).
///
/// Made by [`Client::stream_parsed`].
pub struct ParsedStream<T> {
    stream: MessageStream,
    // `fn() -> T`: the stream holds no `T`, so it is `Send` and `Unpin`
    // whatever `T` is.
    parsed: PhantomData<fn() -> T>,
}

impl Client {
    /// Sends `params` asking for an answer shaped as `T` (structured
    /// output), and parses the reply's text into `T`.
    ///
    /// The request carries `output_config.format = {"type":
    /// "json_schema", "schema": ...}` with `T`'s schema, adapted as for
    /// strict tools (numeric and length bounds move into the description:
    /// parsing still checks them), and the parameters' other
    /// `output_config` fields.
    ///
    /// # Errors
    ///
    /// As [`create_message`](Self::create_message); an invalid-request error
    /// ([`Error::is_invalid_request`]) when `params` ask for a format of
    /// their own; a parse error ([`Error::is_parse`]) when the reply's text
    /// is not a `T`, keeping the text ([`Error::parse_text`]) and the field
    /// path where it failed ([`Error::parse_path`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use serde::Deserialize;
    /// use toolrunner::MessageParams;
    ///
    /// #[derive(Deserialize, schemars::JsonSchema)]
    /// struct Capital {
    ///     city: String,
    ///     population: u64,
    /// }
    ///
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 1024)
    ///     .user("The capital of France, and how many live there?");
    /// let answer = client.create_parsed::<Capital>(&params).await?;
    /// println!("{} ({})", answer.parsed.city, answer.parsed.population);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_parsed<T>(&self, params: &MessageParams) -> Result<ParsedMessage<T>, Error>
    where
        T: DeserializeOwned + JsonSchema,
    {
        let message = self.create_message(&with_format::<T>(params)?).await?;
        let parsed = structured::parse(&message)?;
        Ok(ParsedMessage { message, parsed })
    }

    /// As [`create_parsed`](Self::create_parsed), streamed: the events come
    /// as they are sent, and [`ParsedStream::parsed`] parses the text once
    /// the reply is complete.
    ///
    /// # Errors
    ///
    /// As [`stream_message`](Self::stream_message); an invalid-request
    /// error when `params` ask for a format of their own. Parse errors come
    /// from [`ParsedStream::parsed`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use futures_util::StreamExt;
    /// use toolrunner::stream::{Delta, StreamEvent};
    /// use toolrunner::MessageParams;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Haiku {
    ///     lines: Vec<String>,
    /// }
    ///
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("A haiku, please.");
    /// let mut stream = client.stream_parsed::<Haiku>(&params).await?;
    /// while let Some(event) = stream.next().await {
    ///     if let StreamEvent::ContentBlockDelta { delta: Delta::Text(json), .. } = event? {
    ///         print!("{json}");
    ///     }
    /// }
    /// let haiku = stream.parsed().await?;
    /// println!("\n{} lines", haiku.lines.len());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stream_parsed<T>(&self, params: &MessageParams) -> Result<ParsedStream<T>, Error>
    where
        T: DeserializeOwned + JsonSchema,
    {
        let stream = self.stream_message(&with_format::<T>(params)?).await?;
        Ok(ParsedStream {
            stream,
            parsed: PhantomData,
        })
    }
}

impl<T: DeserializeOwned> ParsedStream<T> {
    /// The complete message, reading whatever events are left.
    ///
    /// # Errors
    ///
    /// As [`MessageStream::message`].
    pub async fn message(&mut self) -> Result<&Message, Error> {
        self.stream.message().await
    }

    /// The reply's text parsed as `T`, reading whatever events are left.
    ///
    /// # Errors
    ///
    /// As [`MessageStream::message`]; a parse error as
    /// [`Client::create_parsed`]'s.
    pub async fn parsed(&mut self) -> Result<T, Error> {
        structured::parse(self.stream.message().await?)
    }

    /// The message and its parsed text, owned.
    ///
    /// # Errors
    ///
    /// As [`parsed`](Self::parsed).
    pub async fn into_parsed(self) -> Result<ParsedMessage<T>, Error> {
        let message = self.stream.into_message().await?;
        let parsed = structured::parse(&message)?;
        Ok(ParsedMessage { message, parsed })
    }
}

impl<T> Stream for ParsedStream<T> {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.get_mut().stream).poll_next(cx)
    }
}

impl<T> fmt::Debug for ParsedStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedStream")
            .field("stream", &self.stream)
            .field("type", &std::any::type_name::<T>())
            .finish()
    }
}

/// `params` asking for `T`. A format of their own is refused rather than
/// replaced: the caller would parse a reply that answers another schema.
pub(crate) fn with_format<T: JsonSchema>(params: &MessageParams) -> Result<MessageParams, Error> {
    if structured::has_format(params) {
        return Err(Error::invalid_request(
            "`output_config.format` is set in the parameters, but a parsed request sets it from the type it parses into; remove it, or send the parameters with `create_message`",
        ));
    }
    let mut params = params.clone();
    structured::set_format(&mut params, structured::format_for::<T>());
    Ok(params)
}
