//! MCP values to Messages API values: content, prompt messages, resources and
//! tool results.
//!
//! The rules, shared by every function here:
//!
//! - text → a text block;
//! - an image (JPEG, PNG, GIF or WebP) → an image block with a base64 source;
//! - an embedded resource → its contents, converted as
//!   [`mcp_resource_contents`] says;
//! - audio, resource links and images of other types have no Messages API
//!   equivalent and are refused with an [`McpError::is_unsupported`] error.

use base64::Engine as _;
use rmcp::model::{
    CallToolResult, ContentBlock as McpContent, PromptMessage, ReadResourceResult, ResourceContents,
};

use super::McpError;
use crate::tool::ToolOutput;
use crate::types::{ContentBlock, DocumentBlock, ImageBlock, MessageParam, Role};

/// The image types the Messages API accepts.
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Converts one MCP content item (from a tool result or a prompt message) to
/// a content block.
///
/// # Errors
///
/// When the item has no Messages API equivalent: audio, a resource link, an
/// image of a type the API does not take, or a resource as
/// [`mcp_resource_contents`] refuses.
///
/// # Examples
///
/// ```
/// use toolrunner::mcp::{mcp_content, rmcp::model::ContentBlock as McpContent};
/// use toolrunner::ContentBlock;
///
/// let block = mcp_content(&McpContent::image("iVBORw0KGgo=", "image/png")).unwrap();
/// let ContentBlock::Image(image) = block else { panic!() };
/// assert_eq!(image.source["media_type"], "image/png");
/// assert_eq!(image.source["data"], "iVBORw0KGgo=");
/// ```
pub fn mcp_content(content: &McpContent) -> Result<ContentBlock, McpError> {
    match content {
        McpContent::Text(text) => Ok(ContentBlock::text(text.text.clone())),
        McpContent::Image(image) => {
            let media_type = normalize_mime(&image.mime_type);
            if !IMAGE_TYPES.contains(&media_type.as_str()) {
                return Err(McpError::unsupported(format!(
                    "mcp image content of type `{}` has no Messages API equivalent (images are {})",
                    image.mime_type,
                    IMAGE_TYPES.join(", ")
                )));
            }
            Ok(ImageBlock::base64(media_type, image.data.clone()).into())
        }
        McpContent::Resource(embedded) => mcp_resource_contents(&embedded.resource),
        McpContent::Audio(audio) => Err(McpError::unsupported(format!(
            "mcp audio content ({}) has no Messages API equivalent",
            audio.mime_type
        ))),
        McpContent::ResourceLink(link) => Err(McpError::unsupported(format!(
            "mcp resource link `{}` has no Messages API equivalent (read the resource and send its contents instead)",
            link.uri
        ))),
        // `ContentBlock` is non-exhaustive: a kind added to MCP later is
        // refused by name rather than guessed at.
        other => Err(McpError::unsupported(format!(
            "mcp content of kind `{}` has no Messages API equivalent",
            kind_of(other)
        ))),
    }
}

/// Converts the contents of one resource to a content block.
///
/// - An image (JPEG, PNG, GIF, WebP) given as a blob → an image block.
/// - A PDF given as a blob → a document block with a base64 PDF source.
/// - Text → a plain-text document block; so does a blob of type `text/*` or
///   of no type, decoded as UTF-8.
/// - Documents are titled with the resource's URI, so the model can tell
///   them apart.
///
/// # Errors
///
/// When the resource is an image or a PDF given as text, a blob of another
/// type (such as `audio/wav` or `application/octet-stream`), or a text blob
/// that is not base64-encoded UTF-8.
///
/// # Examples
///
/// ```
/// use toolrunner::mcp::{mcp_resource_contents, rmcp::model::ResourceContents};
/// use toolrunner::ContentBlock;
///
/// let contents = ResourceContents::text("# Notes", "file:///notes.md");
/// let ContentBlock::Document(doc) = mcp_resource_contents(&contents).unwrap() else { panic!() };
/// assert_eq!(doc.source["data"], "# Notes");
/// assert_eq!(doc.title.as_deref(), Some("file:///notes.md"));
/// ```
pub fn mcp_resource_contents(contents: &ResourceContents) -> Result<ContentBlock, McpError> {
    let (uri, mime_type) = match contents {
        ResourceContents::TextResourceContents { uri, mime_type, .. }
        | ResourceContents::BlobResourceContents { uri, mime_type, .. } => (uri, mime_type),
        // `ResourceContents` is non-exhaustive: a kind added to MCP later is
        // refused rather than guessed at.
        _ => {
            return Err(McpError::unsupported(
                "mcp resource contents of an unknown kind have no Messages API equivalent",
            ));
        }
    };
    let mime = mime_type.as_deref().map(normalize_mime);
    let is_image = mime.as_deref().is_some_and(|m| IMAGE_TYPES.contains(&m));
    let is_pdf = mime.as_deref() == Some("application/pdf");
    match contents {
        ResourceContents::BlobResourceContents { blob, .. } if is_image => {
            Ok(ImageBlock::base64(mime.unwrap_or_default(), blob.clone()).into())
        }
        ResourceContents::BlobResourceContents { blob, .. } if is_pdf => {
            Ok(DocumentBlock::pdf_base64(blob.clone())
                .with_title(uri.clone())
                .into())
        }
        ResourceContents::TextResourceContents { .. } if is_image || is_pdf => {
            Err(McpError::unsupported(format!(
                "mcp resource `{uri}` of type `{}` must be a blob, not text",
                mime_type.as_deref().unwrap_or_default()
            )))
        }
        ResourceContents::TextResourceContents { text, .. } => {
            Ok(DocumentBlock::plain_text(text.clone())
                .with_title(uri.clone())
                .into())
        }
        ResourceContents::BlobResourceContents { blob, .. }
            if mime.as_deref().is_none_or(|m| m.starts_with("text/")) =>
        {
            let text = base64::engine::general_purpose::STANDARD
                .decode(blob.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    McpError::unsupported(format!(
                        "mcp resource `{uri}` is a text blob that is not base64-encoded UTF-8"
                    ))
                })?;
            Ok(DocumentBlock::plain_text(text)
                .with_title(uri.clone())
                .into())
        }
        _ => Err(McpError::unsupported(format!(
            "mcp resource `{uri}` of type `{}` has no Messages API equivalent (supported: text, {}, application/pdf)",
            mime_type.as_deref().unwrap_or_default(),
            IMAGE_TYPES.join(", ")
        ))),
    }
}

/// Converts the result of reading a resource (`resources/read`) to a content
/// block: the first of its contents that converts, as
/// [`mcp_resource_contents`] says.
///
/// # Errors
///
/// When the result has no contents, or none of them converts; the error
/// names the first one's problem.
pub fn mcp_resource_to_content(result: &ReadResourceResult) -> Result<ContentBlock, McpError> {
    let mut first_error = None;
    for contents in &result.contents {
        match mcp_resource_contents(contents) {
            Ok(block) => return Ok(block),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| McpError::unsupported("the mcp resource has no contents")))
}

/// Converts one MCP prompt message to a message with one content block.
///
/// # Errors
///
/// As [`mcp_content`], for the message's content.
///
/// # Examples
///
/// ```
/// use toolrunner::mcp::{mcp_message, rmcp::model::{PromptMessage, Role}};
/// use toolrunner::{ContentBlock, Role as ApiRole};
///
/// let message = mcp_message(&PromptMessage::new_text(Role::User, "Review this code.")).unwrap();
/// assert_eq!(message.role, ApiRole::User);
/// assert_eq!(message.content_blocks()[0], ContentBlock::text("Review this code."));
/// ```
pub fn mcp_message(message: &PromptMessage) -> Result<MessageParam, McpError> {
    let role = match message.role {
        rmcp::model::Role::User => Role::User,
        rmcp::model::Role::Assistant => Role::Assistant,
    };
    Ok(MessageParam::blocks(
        role,
        vec![mcp_content(&message.content)?],
    ))
}

/// Converts MCP prompt messages (the result of `prompts/get`) to messages,
/// in order.
///
/// # Errors
///
/// As [`mcp_message`], for the first message that does not convert.
pub fn mcp_messages<'a>(
    messages: impl IntoIterator<Item = &'a PromptMessage>,
) -> Result<Vec<MessageParam>, McpError> {
    messages.into_iter().map(mcp_message).collect()
}

/// Converts the result of an MCP tool call to a [`ToolOutput`]. Never fails:
///
/// - each content item converts as [`mcp_content`] says;
/// - `isError: true` makes an error result (`is_error`);
/// - empty content with `structuredContent` becomes that JSON as text (the
///   spec lets servers send structured content alone);
/// - content with no Messages API equivalent (audio, resource links) makes
///   the whole result an error result that names it, so the model learns
///   what happened instead of seeing part of an answer.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use toolrunner::mcp::{mcp_tool_result, rmcp::model::CallToolResult};
///
/// // A server that sends structured content alone.
/// let mut result = CallToolResult::default();
/// result.structured_content = Some(json!({"temperature": 21}));
/// let out = mcp_tool_result(result);
/// assert!(!out.is_error);
/// assert_eq!(out.text_content(), r#"{"temperature":21}"#);
/// ```
pub fn mcp_tool_result(result: CallToolResult) -> ToolOutput {
    let is_error = result.is_error.unwrap_or(false);
    if result.content.is_empty() {
        let content = match result.structured_content {
            Some(structured) if !structured.is_null() => {
                vec![ContentBlock::text(structured.to_string())]
            }
            _ => Vec::new(),
        };
        return ToolOutput { content, is_error };
    }
    match result
        .content
        .iter()
        .map(mcp_content)
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(content) => ToolOutput { content, is_error },
        Err(e) => ToolOutput::error(format!(
            "the tool's result could not be sent to the model: {e}"
        )),
    }
}

/// A MIME type without parameters, in lower case: `Image/PNG; x=y` → `image/png`.
fn normalize_mime(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The wire `type` of a content item, for error messages.
fn kind_of(content: &McpContent) -> String {
    serde_json::to_value(content)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}
