//! Content blocks: the parts of a message.

use std::borrow::Cow;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::de::StrRead;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::block_de::{self, Tag};
use super::caller::Caller;

/// One block of a message's content.
///
/// Blocks this crate has no variant for, and known blocks whose shape it does
/// not recognise, are kept as [`ContentBlock::Other`] with their exact JSON
/// text, so they go back to the API byte for byte.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ContentBlock {
    /// `text`
    Text(TextBlock),
    /// `image`
    Image(ImageBlock),
    /// `document`
    Document(DocumentBlock),
    /// `thinking`
    Thinking(ThinkingBlock),
    /// `redacted_thinking`
    RedactedThinking(RedactedThinkingBlock),
    /// `tool_use`: the model asks the client to run a tool.
    ToolUse(ToolUseBlock),
    /// `server_tool_use`: the model runs a server tool such as code execution.
    ServerToolUse(ServerToolUseBlock),
    /// `tool_result`: the answer to a `tool_use`.
    ToolResult(ToolResultBlock),
    /// Any other block, kept exactly as received.
    Other(OtherBlock),
}

impl ContentBlock {
    /// The fields a typed block keeps without modelling them.
    fn extra_mut(&mut self) -> Option<&mut Map<String, Value>> {
        match self {
            ContentBlock::Text(b) => Some(&mut b.extra),
            ContentBlock::Image(b) => Some(&mut b.extra),
            ContentBlock::Document(b) => Some(&mut b.extra),
            ContentBlock::Thinking(b) => Some(&mut b.extra),
            ContentBlock::RedactedThinking(b) => Some(&mut b.extra),
            ContentBlock::ToolUse(b) => Some(&mut b.extra),
            ContentBlock::ServerToolUse(b) => Some(&mut b.extra),
            ContentBlock::ToolResult(b) => Some(&mut b.extra),
            ContentBlock::Other(_) => None,
        }
    }

    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text(TextBlock::new(text))
    }

    /// The block's `type`.
    pub fn kind(&self) -> &str {
        match self {
            ContentBlock::Text(_) => "text",
            ContentBlock::Image(_) => "image",
            ContentBlock::Document(_) => "document",
            ContentBlock::Thinking(_) => "thinking",
            ContentBlock::RedactedThinking(_) => "redacted_thinking",
            ContentBlock::ToolUse(_) => "tool_use",
            ContentBlock::ServerToolUse(_) => "server_tool_use",
            ContentBlock::ToolResult(_) => "tool_result",
            ContentBlock::Other(other) => other.kind(),
        }
    }

    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ContentBlock::Text(block) => Some(&block.text),
            _ => None,
        }
    }

    /// The `tool_use` block, if this is one.
    pub fn as_tool_use(&self) -> Option<&ToolUseBlock> {
        match self {
            ContentBlock::ToolUse(block) => Some(block),
            _ => None,
        }
    }

    /// The `tool_result` block, if this is one.
    pub fn as_tool_result(&self) -> Option<&ToolResultBlock> {
        match self {
            ContentBlock::ToolResult(block) => Some(block),
            _ => None,
        }
    }
}

impl From<TextBlock> for ContentBlock {
    fn from(block: TextBlock) -> Self {
        ContentBlock::Text(block)
    }
}
impl From<ImageBlock> for ContentBlock {
    fn from(block: ImageBlock) -> Self {
        ContentBlock::Image(block)
    }
}
impl From<DocumentBlock> for ContentBlock {
    fn from(block: DocumentBlock) -> Self {
        ContentBlock::Document(block)
    }
}
impl From<ToolUseBlock> for ContentBlock {
    fn from(block: ToolUseBlock) -> Self {
        ContentBlock::ToolUse(block)
    }
}
impl From<ToolResultBlock> for ContentBlock {
    fn from(block: ToolResultBlock) -> Self {
        ContentBlock::ToolResult(block)
    }
}

/// A `text` block.
// Read by hand (`block_de`): the derived reader buffers the whole block.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TextBlock {
    /// The text.
    pub text: String,
    /// Prompt-caching breakpoint, e.g. `{"type": "ephemeral"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
    /// Fields this crate does not model (such as `citations`), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TextBlock {
    /// A text block with no other fields.
    pub fn new(text: impl Into<String>) -> Self {
        TextBlock {
            text: text.into(),
            cache_control: None,
            extra: Map::new(),
        }
    }
}

/// An `image` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageBlock {
    /// Where the image comes from: `{"type": "base64", "media_type", "data"}`,
    /// `{"type": "url", "url"}` or `{"type": "file", "file_id"}`.
    pub source: Value,
    /// Prompt-caching breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ImageBlock {
    /// An image given inline as base64 data, e.g. media type `image/png`.
    pub fn base64(media_type: impl Into<String>, data: impl Into<String>) -> Self {
        Self::from_source(serde_json::json!({
            "type": "base64",
            "media_type": media_type.into(),
            "data": data.into(),
        }))
    }

    /// An image the API fetches from a URL.
    pub fn url(url: impl Into<String>) -> Self {
        Self::from_source(serde_json::json!({ "type": "url", "url": url.into() }))
    }

    fn from_source(source: Value) -> Self {
        ImageBlock {
            source,
            cache_control: None,
            extra: Map::new(),
        }
    }
}

/// A `document` block (PDF or plain text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentBlock {
    /// Where the document comes from: `{"type": "base64", "media_type":
    /// "application/pdf", "data"}`, `{"type": "text", "media_type":
    /// "text/plain", "data"}`, `{"type": "url", "url"}` and others.
    pub source: Value,
    /// The document's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Prompt-caching breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
    /// Fields this crate does not model (such as `citations`), kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DocumentBlock {
    /// A PDF given inline as base64 data.
    pub fn pdf_base64(data: impl Into<String>) -> Self {
        Self::from_source(serde_json::json!({
            "type": "base64",
            "media_type": "application/pdf",
            "data": data.into(),
        }))
    }

    /// A plain-text document.
    pub fn plain_text(text: impl Into<String>) -> Self {
        Self::from_source(serde_json::json!({
            "type": "text",
            "media_type": "text/plain",
            "data": text.into(),
        }))
    }

    fn from_source(source: Value) -> Self {
        DocumentBlock {
            source,
            title: None,
            cache_control: None,
            extra: Map::new(),
        }
    }

    /// Sets the document's title.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

/// A `thinking` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThinkingBlock {
    /// The model's reasoning.
    pub thinking: String,
    /// Signature the API checks when the block is sent back.
    pub signature: String,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `redacted_thinking` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedactedThinkingBlock {
    /// Encrypted reasoning, sent back as received.
    pub data: String,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `tool_use` block: the model asks for a client tool to be run.
// Read by hand (`block_de`): the derived reader buffers the whole block.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolUseBlock {
    /// The call's id; its `tool_result` names it.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The tool's input, as the model wrote it.
    pub input: Value,
    /// Who made the call; absent means the model itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<CallerInfo>,
    /// Prompt-caching breakpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Why the streamed input was not valid JSON, when it was not (a stream
    /// cut by `max_tokens`, or eager input streaming); `input` then holds
    /// what could be read of it. Never sent: the runner answers such a call
    /// with an error result instead of running the tool.
    #[serde(skip)]
    pub input_error: Option<String>,
}

impl ToolUseBlock {
    /// A direct call of `name` with `input`.
    pub fn new(id: impl Into<String>, name: impl Into<String>, input: Value) -> Self {
        ToolUseBlock {
            id: id.into(),
            name: name.into(),
            input,
            caller: None,
            cache_control: None,
            extra: Map::new(),
            input_error: None,
        }
    }

    /// Who made the call, read from the block's `caller` field.
    pub fn caller(&self) -> Caller {
        match &self.caller {
            None => Caller::Direct,
            Some(info) => info.to_caller(),
        }
    }
}

/// The `caller` field of a `tool_use` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallerInfo {
    /// `direct`, or a code-execution tool version such as `code_execution_20260120`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For calls from code: the `server_tool_use` block running the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_id: Option<String>,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CallerInfo {
    /// The typed caller. Any type other than `direct` is a code run: the API
    /// names every code-execution version by its own type.
    pub fn to_caller(&self) -> Caller {
        if self.kind == "direct" {
            Caller::Direct
        } else {
            Caller::CodeExecution {
                version: self.kind.clone(),
                tool_id: self.tool_id.clone().unwrap_or_default(),
            }
        }
    }
}

/// A `server_tool_use` block: the model runs a server tool (code execution,
/// web search, ...). The client never runs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerToolUseBlock {
    /// The server call's id (`srvtoolu_...`).
    pub id: String,
    /// The server tool's name, e.g. `code_execution`.
    pub name: String,
    /// The input, e.g. `{"code": "..."}`.
    pub input: Value,
    /// Fields this crate does not model, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `tool_result` block: the answer to one `tool_use`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolResultBlock {
    /// The id of the `tool_use` this answers.
    pub tool_use_id: String,
    /// The result; absent for a tool that returned nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ToolResultContent>,
    /// Whether the call failed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_error: bool,
    /// Prompt-caching breakpoint, e.g. `{"type": "ephemeral"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
    /// Fields this crate does not model, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// Written out rather than derived: `#[serde(flatten)]` buffers the input, and
// the nested content blocks cannot be read from that buffer.
impl<'de> Deserialize<'de> for ToolResultBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut extra = Map::<String, Value>::deserialize(deserializer)?;
        extra.shift_remove("type");
        let tool_use_id = match extra.shift_remove("tool_use_id") {
            Some(Value::String(id)) => id,
            Some(other) => {
                return Err(de::Error::custom(format_args!(
                    "tool_result: `tool_use_id` must be a string, got {other}"
                )));
            }
            None => return Err(de::Error::missing_field("tool_use_id")),
        };
        let content = match extra.shift_remove("content") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                ToolResultContent::deserialize(value)
                    .map_err(|e| de::Error::custom(format_args!("tool_result content: {e}")))?,
            ),
        };
        let is_error = match extra.shift_remove("is_error") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => b,
            Some(other) => {
                return Err(de::Error::custom(format_args!(
                    "tool_result: `is_error` must be a boolean, got {other}"
                )));
            }
        };
        let cache_control = extra.shift_remove("cache_control").filter(|v| !v.is_null());
        Ok(ToolResultBlock {
            tool_use_id,
            content,
            is_error,
            cache_control,
            extra,
        })
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ToolResultBlock {
    /// A result answering `tool_use_id`.
    pub fn new(tool_use_id: impl Into<String>, content: Option<ToolResultContent>) -> Self {
        ToolResultBlock {
            tool_use_id: tool_use_id.into(),
            content,
            is_error: false,
            cache_control: None,
            extra: Map::new(),
        }
    }

    /// The result's text: the string content, or its text blocks joined by newlines.
    pub fn text(&self) -> String {
        match &self.content {
            None => String::new(),
            Some(ToolResultContent::Text(text)) => text.clone(),
            Some(ToolResultContent::Blocks(blocks)) => blocks
                .iter()
                .filter_map(ContentBlock::as_text)
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// The content of a `tool_result`: a string, or a list of blocks (text,
/// images, documents).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ToolResultContent {
    /// Plain text.
    Text(String),
    /// Content blocks.
    Blocks(Vec<ContentBlock>),
}

// Not `#[serde(untagged)]`: that buffers the input, and content blocks cannot
// be read from the buffer.
impl<'de> Deserialize<'de> for ToolResultContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => Ok(ToolResultContent::Text(text)),
            Value::Array(items) => items
                .into_iter()
                .map(ContentBlock::deserialize)
                .collect::<Result<Vec<_>, _>>()
                .map(ToolResultContent::Blocks)
                .map_err(de::Error::custom),
            other => Err(de::Error::custom(format_args!(
                "expected a string or an array of content blocks, got {other}"
            ))),
        }
    }
}

/// A content block this crate has no variant for, kept as its exact JSON text.
#[derive(Clone, Debug)]
pub struct OtherBlock {
    kind: String,
    raw: Box<RawValue>,
    /// Stream deltas sent for this block that this crate cannot apply,
    /// kept for the user to read; never sent.
    deltas: Vec<Value>,
}

impl OtherBlock {
    /// Wraps the JSON of a block. Fails when it is not an object with a string `type`.
    ///
    /// # Errors
    ///
    /// When `json` is not valid JSON, or not an object with a string `type` field.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let raw = RawValue::from_string(json.to_owned())?;
        let kind = read_kind(&raw)?.into_owned();
        Ok(OtherBlock {
            kind,
            raw,
            deltas: Vec::new(),
        })
    }

    /// The stream deltas sent for this block that this crate could not apply
    /// to it (a delta type it does not model), as received, in order. They
    /// are not part of the block's JSON.
    pub fn deltas(&self) -> &[Value] {
        &self.deltas
    }

    pub(crate) fn push_delta(&mut self, delta: Value) {
        self.deltas.push(delta);
    }

    /// The block's `type`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The block's JSON text, exactly as received.
    pub fn json(&self) -> &str {
        self.raw.get()
    }

    /// The block parsed as a JSON value.
    pub fn to_value(&self) -> Value {
        // The text was parsed once already, so parsing it again cannot fail.
        serde_json::from_str(self.raw.get()).unwrap_or(Value::Null)
    }
}

impl PartialEq for OtherBlock {
    fn eq(&self, other: &Self) -> bool {
        self.raw.get() == other.raw.get()
    }
}

#[derive(Deserialize)]
struct Kind<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

fn read_kind(raw: &RawValue) -> Result<Cow<'_, str>, serde_json::Error> {
    match leading_kind(raw.get()) {
        Some(kind) => Ok(Cow::Borrowed(kind)),
        None => serde_json::from_str::<Kind<'_>>(raw.get()).map(|k| k.kind),
    }
}

/// The tag of a block that begins with it, `{"type": "text", ...`, as the
/// API writes every block: read off the front rather than by parsing the
/// whole block (tool input included) once more. Anything else, such as a
/// tag further in or one with escapes, is `None` and left to the parser.
/// Read byte by byte: JSON's whitespace and these marks are all ASCII.
fn leading_kind(json: &str) -> Option<&str> {
    let rest = json
        .trim_ascii_start()
        .strip_prefix('{')?
        .trim_ascii_start();
    let rest = rest.strip_prefix("\"type\"")?.trim_ascii_start();
    let rest = rest.strip_prefix(':')?.trim_ascii_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.bytes().position(|b| matches!(b, b'"' | b'\\'))?;
    (rest.as_bytes()[end] == b'"').then(|| &rest[..end])
}

impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Keep the block's text so that a block we cannot type goes back unchanged.
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let kind = read_kind(&raw)
            .map_err(|e| de::Error::custom(format_args!("content block without a `type`: {e}")))?;
        // A known type in a shape we do not expect is kept raw rather than
        // rejected: the API may add to a block before this crate learns of it.
        if let Ok(block) = typed(&kind, raw.get()) {
            return Ok(block);
        }
        let kind = kind.into_owned();
        Ok(ContentBlock::Other(OtherBlock {
            kind,
            raw,
            deltas: Vec::new(),
        }))
    }
}

/// The block of type `kind` read from its JSON text; an error for a type
/// this crate has no variant for, or a shape it does not expect.
fn typed(kind: &str, json: &str) -> serde_json::Result<ContentBlock> {
    // The two blocks of every tool-calling turn have their own readers,
    // which drop the tag as they meet it rather than keep it to be removed.
    fn untagged<'a, T>(
        json: &'a str,
        read: impl FnOnce(&mut serde_json::Deserializer<StrRead<'a>>) -> serde_json::Result<T>,
    ) -> serde_json::Result<T> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let block = read(&mut deserializer)?;
        deserializer.end()?;
        Ok(block)
    }
    let mut block = match kind {
        "text" => {
            return untagged(json, |d| block_de::text(d, Tag::Drop)).map(ContentBlock::Text);
        }
        "tool_use" => {
            return untagged(json, |d| block_de::tool_use(d, Tag::Drop)).map(ContentBlock::ToolUse);
        }
        "image" => serde_json::from_str(json).map(ContentBlock::Image),
        "document" => serde_json::from_str(json).map(ContentBlock::Document),
        "thinking" => serde_json::from_str(json).map(ContentBlock::Thinking),
        "redacted_thinking" => serde_json::from_str(json).map(ContentBlock::RedactedThinking),
        "server_tool_use" => serde_json::from_str(json).map(ContentBlock::ServerToolUse),
        "tool_result" => serde_json::from_str(json).map(ContentBlock::ToolResult),
        _ => Err(de::Error::custom("unknown")),
    }?;
    // The derived readers keep every field they do not model, the tag
    // included; it is written from the variant, so it must not stay in
    // `extra` too or the block would go back with two `type`s.
    if let Some(extra) = block.extra_mut() {
        extra.shift_remove("type");
    }
    Ok(block)
}

#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    block: &'a T,
}

impl Serialize for ContentBlock {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn tagged<S: Serializer, T: Serialize>(
            serializer: S,
            kind: &'static str,
            block: &T,
        ) -> Result<S::Ok, S::Error> {
            Tagged { kind, block }.serialize(serializer)
        }
        match self {
            ContentBlock::Text(b) => tagged(serializer, "text", b),
            ContentBlock::Image(b) => tagged(serializer, "image", b),
            ContentBlock::Document(b) => tagged(serializer, "document", b),
            ContentBlock::Thinking(b) => tagged(serializer, "thinking", b),
            ContentBlock::RedactedThinking(b) => tagged(serializer, "redacted_thinking", b),
            ContentBlock::ToolUse(b) => tagged(serializer, "tool_use", b),
            ContentBlock::ServerToolUse(b) => tagged(serializer, "server_tool_use", b),
            ContentBlock::ToolResult(b) => tagged(serializer, "tool_result", b),
            ContentBlock::Other(b) => b.raw.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod type_once_tests {
    use super::*;

    #[test]
    fn the_leading_tag_is_read_off_the_front_and_anything_else_is_parsed() {
        assert_eq!(leading_kind(r#"{"type":"text","text":"a"}"#), Some("text"));
        assert_eq!(
            leading_kind(" {\n \"type\" :\t\"tool_use\" }"),
            Some("tool_use")
        );
        assert_eq!(leading_kind(r#"{"text":"a","type":"text"}"#), None);
        assert_eq!(leading_kind(r#"{"type":"te\u0078t"}"#), None);
        assert_eq!(leading_kind(r#"{"type":1}"#), None);
        assert_eq!(leading_kind(r#"{"type":"unterminated"#), None);
        // The slow path reads what the fast one leaves, to the same answer.
        for json in [
            r#"{"text":"a","type":"text"}"#,
            r#"{"type":"te\u0078t","text":"a"}"#,
        ] {
            let block: ContentBlock = serde_json::from_str(json).unwrap();
            assert!(matches!(block, ContentBlock::Text(_)), "{json}");
        }
    }

    /// Every typed block read from the API is written back with one `type`.
    #[test]
    fn a_block_read_and_written_back_has_one_type() {
        for json in [
            r#"{"type":"text","text":"hi"}"#,
            r#"{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}"#,
            r#"{"type":"thinking","thinking":"t","signature":"s"}"#,
            r#"{"type":"tool_use","id":"toolu_1","name":"add","input":{}}"#,
            r#"{"type":"tool_result","tool_use_id":"toolu_1","content":"3"}"#,
        ] {
            let block: ContentBlock = serde_json::from_str(json).unwrap();
            let written = serde_json::to_string(&block).unwrap();
            assert_eq!(
                written.matches("\"type\":").count(),
                json.matches("\"type\":").count(),
                "{written}"
            );
        }
    }
}

#[cfg(test)]
mod tagless_tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// Text and `tool_use` blocks drop their tag as they read it: their
    /// other fields stay, in order, and a shape they do not expect leaves
    /// the block exactly as it came.
    #[test]
    fn text_and_tool_use_read_without_their_tag_and_fall_back_to_the_exact_text() {
        let block: ContentBlock =
            serde_json::from_str(r#"{"z":1,"type":"text","text":"hi","a":[2]}"#).unwrap();
        let ContentBlock::Text(text) = &block else {
            panic!("not a text block: {block:?}");
        };
        assert_eq!(text.extra.keys().collect::<Vec<_>>(), ["z", "a"]);
        assert_eq!(
            serde_json::to_string(&block).unwrap(),
            r#"{"type":"text","text":"hi","z":1,"a":[2]}"#
        );
        let block: ContentBlock = serde_json::from_str(
            r#"{"type":"tool_use","id":"t","name":"n","input":{"b":1,"a":2},"new":null}"#,
        )
        .unwrap();
        let ContentBlock::ToolUse(call) = &block else {
            panic!("not a tool_use block: {block:?}");
        };
        assert_eq!(call.extra.keys().collect::<Vec<_>>(), ["new"]);
        for json in [
            r#"{"type": "text", "text": {"rich": true}}"#,
            r#"{"type":"text","text":"a","text":"b"}"#,
            r#"{"type":"tool_use","id":"t","name":"n"}"#,
            r#"{"type":"tool_use","id":"t","name":"n","input":{},"caller":"direct"}"#,
        ] {
            let block: ContentBlock = serde_json::from_str(json).unwrap();
            assert!(
                matches!(&block, ContentBlock::Other(other) if other.json() == json),
                "{json} read as {block:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever other fields a text block carries, and wherever its tag
        /// stands among them, it is written back with the same fields and
        /// one tag, its unknown fields in the order they came.
        #[test]
        fn a_text_block_with_any_fields_goes_back_with_the_same_fields(
            fields in proptest::collection::vec(("[a-z_]{1,6}", any::<i32>()), 0..6),
            tag_at in 0usize..7,
        ) {
            let mut object = Map::new();
            let mut extra = Vec::new();
            for (i, (key, value)) in fields.iter().enumerate() {
                if i == tag_at {
                    object.insert("type".to_owned(), json!("text"));
                }
                if !["type", "text", "cache_control"].contains(&key.as_str())
                    && !object.contains_key(key)
                {
                    object.insert(key.clone(), json!(value));
                    extra.push(key.clone());
                }
            }
            object.entry("type").or_insert(json!("text"));
            object.insert("text".to_owned(), json!("hi"));
            let json = serde_json::to_string(&object).unwrap();
            let block: ContentBlock = serde_json::from_str(&json).unwrap();
            let ContentBlock::Text(text) = &block else {
                panic!("{json} read as {block:?}");
            };
            prop_assert_eq!(text.extra.keys().cloned().collect::<Vec<_>>(), extra);
            let written = serde_json::to_string(&block).unwrap();
            prop_assert_eq!(written.matches("\"type\":").count(), 1);
            prop_assert_eq!(
                serde_json::from_str::<Value>(&written).unwrap(),
                Value::Object(object)
            );
        }
    }
}
