//! Wire types of the Messages API.
//!
//! Everything the API sends back survives a round trip: content blocks this
//! crate does not know are kept as their exact JSON text, and unknown fields of
//! known blocks are kept in an `extra` map and sent back with the block.

mod batch;
mod block_de;
mod caller;
mod code_execution;
mod content;
mod file;
mod listing;
mod message;
mod options;
mod params;

pub use batch::{
    BatchRequest, BatchResponse, BatchResult, DeletedBatch, ErrorDetail, ErrorResponse,
    MessageBatch, ProcessingStatus, RequestCounts,
};
pub use caller::Caller;
pub use code_execution::{CodeExecution, CodeExecutionOutcome, code_executions};
pub use content::{
    CallerInfo, ContentBlock, DocumentBlock, ImageBlock, OtherBlock, RedactedThinkingBlock,
    ServerToolUseBlock, TextBlock, ThinkingBlock, ToolResultBlock, ToolResultContent, ToolUseBlock,
};
pub use file::{DeletedFile, FILES_BETA, FileMetadata, FilePage};
pub use listing::{ModelInfo, Page, TokenCount};
pub use message::{Container, Message, StopReason, Usage};
pub use options::{
    Effort, Metadata, ServiceTier, Speed, System, Thinking, ThinkingDisplay, ToolChoice,
};
pub(crate) use params::Body;
pub use params::{Content, MessageParam, MessageParams, Role};
