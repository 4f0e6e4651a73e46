//! Messages API values to MCP values: a [`ToolOutput`] as an MCP tool result.

use rmcp::model::{CallToolResult, ContentBlock as McpContent, Resource, ResourceContents};
use serde_json::Value;

use crate::tool::ToolOutput;
use crate::types::ContentBlock;

/// Converts a tool's output to an MCP tool result, for serving a toolset
/// over MCP. `tool` names the tool, for the URIs of embedded documents.
///
/// - text → text content;
/// - an image with a base64 source → image content;
/// - a base64 document (a PDF) → an embedded blob resource, and a text
///   document → an embedded text resource, each with the URI
///   `toolrunner://{tool}/document/{n}` (`n` is the block's index in the
///   output); MCP resource contents have no title, so a title is not kept;
/// - an image or a document with a `url` source → a resource link to it;
/// - anything else (such as a `file` source) → its JSON as text, so nothing
///   is dropped silently;
/// - `is_error` → `isError: true`.
///
/// # Examples
///
/// ```
/// use toolrunner::mcp::tool_output_to_mcp;
/// use toolrunner::{ImageBlock, ToolOutput};
///
/// let out = ToolOutput::text("a chart").with_image(ImageBlock::base64("image/png", "iVBORw0KGgo="));
/// let result = tool_output_to_mcp("chart", out);
/// assert_eq!(result.content.len(), 2);
/// assert_eq!(result.content[1].as_image().unwrap().mime_type, "image/png");
/// assert_eq!(result.is_error, Some(false));
/// ```
pub fn tool_output_to_mcp(tool: &str, output: ToolOutput) -> CallToolResult {
    let content = output
        .content
        .into_iter()
        .enumerate()
        .map(|(i, block)| block_to_mcp(tool, i, block))
        .collect();
    if output.is_error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    }
}

fn block_to_mcp(tool: &str, index: usize, block: ContentBlock) -> McpContent {
    match block {
        ContentBlock::Text(text) => McpContent::text(text.text),
        ContentBlock::Image(image) => match source_kind(&image.source) {
            Some("base64") => match (
                str_at(&image.source, "data"),
                str_at(&image.source, "media_type"),
            ) {
                (Some(data), Some(media_type)) => McpContent::image(data, media_type),
                _ => as_json_text(&ContentBlock::Image(image)),
            },
            Some("url") => link(&image.source, "image")
                .unwrap_or_else(|| as_json_text(&ContentBlock::Image(image))),
            _ => as_json_text(&ContentBlock::Image(image)),
        },
        ContentBlock::Document(doc) => {
            let uri = format!("toolrunner://{tool}/document/{index}");
            let media_type = str_at(&doc.source, "media_type");
            match (source_kind(&doc.source), str_at(&doc.source, "data")) {
                (Some("base64"), Some(data)) => McpContent::resource(
                    ResourceContents::blob(data, uri)
                        .with_mime_type(media_type.unwrap_or("application/pdf")),
                ),
                (Some("text"), Some(text)) => McpContent::resource(
                    ResourceContents::text(text, uri)
                        .with_mime_type(media_type.unwrap_or("text/plain")),
                ),
                (Some("url"), _) => {
                    let name = doc.title.as_deref().unwrap_or("document");
                    link(&doc.source, name)
                        .unwrap_or_else(|| as_json_text(&ContentBlock::Document(doc)))
                }
                _ => as_json_text(&ContentBlock::Document(doc)),
            }
        }
        other => as_json_text(&other),
    }
}

/// A resource link to the `url` of `source`.
fn link(source: &Value, name: &str) -> Option<McpContent> {
    str_at(source, "url").map(|url| McpContent::resource_link(Resource::new(url, name)))
}

fn source_kind(source: &Value) -> Option<&str> {
    str_at(source, "type")
}

fn str_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn as_json_text(block: &ContentBlock) -> McpContent {
    // Serializing a content block into a string cannot fail: it holds only
    // JSON values and strings.
    McpContent::text(serde_json::to_string(block).unwrap_or_default())
}
