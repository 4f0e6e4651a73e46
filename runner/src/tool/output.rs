//! What a tool returns: [`ToolOutput`] and the [`IntoToolOutput`] conversion.

use std::fmt;

use serde::Serialize;

use crate::types::{
    ContentBlock, DocumentBlock, ImageBlock, TextBlock, ToolResultBlock, ToolResultContent,
};

/// What the model reads for an error result that came without a message, such
/// as `Err(String::new())` or a hook's empty denial.
pub(crate) const FAILED_WITHOUT_MESSAGE: &str = "the tool failed without an error message";

/// The result of one tool call: content blocks for the model, and whether the
/// call failed.
///
/// Tools usually return plain values and let [`IntoToolOutput`] build this.
/// Return a `ToolOutput` yourself for images and documents:
///
/// ```
/// use toolrunner::{tool, ToolOutput, ImageBlock};
///
/// /// Render a chart of the given values as a PNG.
/// #[tool]
/// fn chart(values: Vec<f64>) -> ToolOutput {
///     let png_base64 = String::from("iVBORw0KGgo="); // draw it here
///     ToolOutput::text(format!("chart of {} values", values.len()))
///         .with_block(ImageBlock::base64("image/png", png_base64))
/// }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolOutput {
    /// The blocks the model sees: text, images, documents.
    pub content: Vec<ContentBlock>,
    /// Whether the call failed; the model sees `is_error: true`.
    pub is_error: bool,
}

impl ToolOutput {
    /// A successful result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        ToolOutput {
            content: vec![ContentBlock::Text(TextBlock::new(text))],
            is_error: false,
        }
    }

    /// A successful result with no content.
    pub fn empty() -> Self {
        ToolOutput::default()
    }

    /// A failed result; the model sees `message` with `is_error: true`.
    pub fn error(message: impl Into<String>) -> Self {
        ToolOutput {
            content: vec![ContentBlock::Text(TextBlock::new(message))],
            is_error: true,
        }
    }

    /// A successful result with the given blocks.
    pub fn blocks(content: impl IntoIterator<Item = ContentBlock>) -> Self {
        ToolOutput {
            content: content.into_iter().collect(),
            is_error: false,
        }
    }

    /// A result with `value` serialized as JSON text, or an error result
    /// saying why when it cannot be (a map with non-string keys, say).
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        match serde_json::to_string(value) {
            Ok(json) => ToolOutput::text(json),
            Err(e) => ToolOutput::error(format!("the tool's result could not be serialized: {e}")),
        }
    }

    /// Appends a block (text, image, document).
    #[must_use]
    pub fn with_block(mut self, block: impl Into<ContentBlock>) -> Self {
        self.content.push(block.into());
        self
    }

    /// Appends an image.
    #[must_use]
    pub fn with_image(self, image: ImageBlock) -> Self {
        self.with_block(image)
    }

    /// Appends a document.
    #[must_use]
    pub fn with_document(self, document: DocumentBlock) -> Self {
        self.with_block(document)
    }

    /// The text blocks joined by newlines.
    pub fn text_content(&self) -> String {
        self.content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether any block is something other than text (an image, a document).
    pub fn has_non_text(&self) -> bool {
        self.content.iter().any(|b| b.as_text().is_none())
    }

    /// The `tool_result` block answering `tool_use_id`. A single plain text
    /// block is sent as a string; anything else as a list of blocks.
    ///
    /// An error result is never sent empty: the API rejects `is_error: true`
    /// without content, and the bad result would stay in the history, so
    /// blank text is dropped and an error left with nothing says that the
    /// tool failed without an error message.
    pub fn into_result_block(self, tool_use_id: impl Into<String>) -> ToolResultBlock {
        let mut blocks = self.content;
        if self.is_error {
            blocks.retain(|b| b.as_text().is_none_or(|text| !text.trim().is_empty()));
            if blocks.is_empty() {
                blocks.push(ContentBlock::Text(TextBlock::new(FAILED_WITHOUT_MESSAGE)));
            }
        }
        let content = match <[ContentBlock; 1]>::try_from(blocks) {
            Ok([ContentBlock::Text(text)])
                if text.cache_control.is_none() && text.extra.is_empty() =>
            {
                Some(ToolResultContent::Text(text.text))
            }
            Ok([block]) => Some(ToolResultContent::Blocks(vec![block])),
            Err(blocks) if blocks.is_empty() => None,
            Err(blocks) => Some(ToolResultContent::Blocks(blocks)),
        };
        let mut block = ToolResultBlock::new(tool_use_id, content);
        block.is_error = self.is_error;
        block
    }
}

impl fmt::Display for ToolOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_error {
            f.write_str("error: ")?;
        }
        let mut first = true;
        for block in &self.content {
            if !first {
                f.write_str("\n")?;
            }
            first = false;
            match block.as_text() {
                Some(text) => f.write_str(text)?,
                None => write!(f, "[{}]", block.kind())?,
            }
        }
        Ok(())
    }
}

/// Converts what a tool function returns into a [`ToolOutput`].
///
/// Implemented for every `Serialize` type: a value that serializes to a JSON
/// string (`String`, `&str`, a unit enum variant) goes to the model as plain
/// text, `()` as an empty result, and anything else as JSON text. Also
/// implemented for [`ToolOutput`] itself. `#[tool]` functions may also return
/// `Result<T, E>` with `T: IntoToolOutput` and `E: Display`; an `Err` becomes
/// an error result with the error's message and its source chain.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a tool",
    label = "this type cannot become a tool result",
    note = "return a type that implements `serde::Serialize`, a `toolrunner::ToolOutput`, or `Result<T, E>` of those with `E: Display`"
)]
pub trait IntoToolOutput {
    /// Performs the conversion.
    fn into_tool_output(self) -> ToolOutput;
}

impl IntoToolOutput for ToolOutput {
    fn into_tool_output(self) -> ToolOutput {
        self
    }
}

impl<T: Serialize> IntoToolOutput for T {
    fn into_tool_output(self) -> ToolOutput {
        match self.serialize(plain::PlainSerializer) {
            Ok(plain::Plain::Text(text)) => ToolOutput::text(text),
            Ok(plain::Plain::Unit) => ToolOutput::empty(),
            Err(plain::NotPlain) => ToolOutput::json(&self),
        }
    }
}

/// A serializer that only accepts strings and unit, so that string-like
/// results are sent as text while everything else fails fast and goes to JSON.
mod plain {
    use std::fmt;

    use serde::ser::{self, Impossible, Serialize};

    pub(super) enum Plain {
        Text(String),
        Unit,
    }

    #[derive(Debug)]
    pub(super) struct NotPlain;

    impl fmt::Display for NotPlain {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("not a string")
        }
    }
    impl std::error::Error for NotPlain {}
    impl ser::Error for NotPlain {
        fn custom<T: fmt::Display>(_: T) -> Self {
            NotPlain
        }
    }

    pub(super) struct PlainSerializer;

    macro_rules! not_plain {
        ($($method:ident($($ty:ty),*)),* $(,)?) => {
            $(fn $method(self $(, _: $ty)*) -> Result<Plain, NotPlain> { Err(NotPlain) })*
        };
    }

    impl ser::Serializer for PlainSerializer {
        type Ok = Plain;
        type Error = NotPlain;
        type SerializeSeq = Impossible<Plain, NotPlain>;
        type SerializeTuple = Impossible<Plain, NotPlain>;
        type SerializeTupleStruct = Impossible<Plain, NotPlain>;
        type SerializeTupleVariant = Impossible<Plain, NotPlain>;
        type SerializeMap = Impossible<Plain, NotPlain>;
        type SerializeStruct = Impossible<Plain, NotPlain>;
        type SerializeStructVariant = Impossible<Plain, NotPlain>;

        fn serialize_str(self, v: &str) -> Result<Plain, NotPlain> {
            Ok(Plain::Text(v.to_owned()))
        }
        fn serialize_char(self, v: char) -> Result<Plain, NotPlain> {
            Ok(Plain::Text(v.to_string()))
        }
        fn serialize_unit(self) -> Result<Plain, NotPlain> {
            Ok(Plain::Unit)
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
        ) -> Result<Plain, NotPlain> {
            Ok(Plain::Text(variant.to_owned()))
        }
        fn serialize_newtype_struct<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result<Plain, NotPlain> {
            value.serialize(self)
        }
        not_plain!(
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_i128(i128),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_u128(u128),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_bytes(&[u8]),
            serialize_none(),
            serialize_unit_struct(&'static str),
        );
        fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Plain, NotPlain> {
            Err(NotPlain)
        }
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Plain, NotPlain> {
            Err(NotPlain)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotPlain> {
            Err(NotPlain)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotPlain> {
            Err(NotPlain)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, NotPlain> {
            Err(NotPlain)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, NotPlain> {
            Err(NotPlain)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotPlain> {
            Err(NotPlain)
        }
        fn serialize_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStruct, NotPlain> {
            Err(NotPlain)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, NotPlain> {
            Err(NotPlain)
        }
    }
}
