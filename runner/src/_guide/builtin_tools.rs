//! Built-in tools: the memory tool and the text editor, run on your machine
//! and confined to one directory.
//!
//! Two of the API's client tools come ready to run, each confined to one local
//! directory: [`MemoryTool`](crate::builtin::MemoryTool) (`memory_20250818`,
//! the model's notes under `/memories`) and
//! [`TextEditor`](crate::builtin::TextEditor) (`text_editor_20250728`). Add
//! them next to `#[tool]` functions; the request carries only their type and
//! name.
//!
//! ```no_run
//! use toolrunner::builtin::{MemoryTool, TextEditor};
//! use toolrunner::{Toolset, tool, toolset};
//!
//! /// Get the current weather for a city.
//! #[tool]
//! fn get_weather(city: String) -> String {
//!     format!("Sunny in {city}")
//! }
//!
//! # fn tools() -> Result<Toolset, Box<dyn std::error::Error>> {
//! let tools = toolset![get_weather]
//!     .merge(Toolset::from(MemoryTool::local("agent-memory")?))?
//!     .merge(Toolset::from(TextEditor::local("workspace")?.with_max_characters(20_000)))?;
//! # Ok(tools) }
//! ```
//!
//! A path that could leave the directory (`..`, another absolute path, a
//! symbolic link leading out, backslashes, NUL bytes, `%2e%2e`) is refused with
//! an error result naming the path as the model sent it, and nothing is
//! touched: deleting or renaming a link that leads out is refused too, the
//! link kept. Files are created 0600 and directories 0700, every write is a
//! temporary file renamed into place (a write that fails removes the
//! directories it made), and [`Limits`](crate::builtin::Limits) caps file and
//! view sizes. Other backends (a database, object storage) implement
//! [`MemoryStore`](crate::builtin::MemoryStore). `examples/memory.rs` shows
//! the model remembering across two conversations: `cargo run --example
//! memory`.
