//! [`MemoryTool`]: the API's memory tool (`memory_20250818`), run on a
//! [`MemoryStore`].

use std::io;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};

use super::commands::{Env, Target};
use super::store::{MemoryStore, StoreError, WriteMode};
use super::{Limits, LocalStore, MemoryPath};
use crate::{Tool, ToolContext, ToolDefinition, ToolFuture, ToolOutput, Toolset};

/// The memory tool's type on the wire.
pub const MEMORY_TOOL_TYPE: &str = "memory_20250818";
/// The memory tool's name; the API requires this one.
pub const MEMORY_TOOL_NAME: &str = "memory";

/// What the root is called in messages.
const DIRECTORY: &str = "memory directory";

/// The memory tool: the model keeps notes in files under `/memories` and
/// reads them back in later conversations.
///
/// Commands, as the API documents them: `view` (a directory two levels deep
/// with sizes, or a file with line numbers, optionally `view_range`),
/// `create`, `str_replace` (the text must appear exactly once), `insert`,
/// `delete` and `rename`. Failures, refusals included, are error results
/// for the model. Commands run one at a time.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("toolrunner-doc-memory-{}", std::process::id()));
/// use serde_json::json;
/// use toolrunner::builtin::MemoryTool;
///
/// let memory = MemoryTool::local(&dir).unwrap();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// memory.execute(json!({"command": "create", "path": "/memories/a.md", "file_text": "one\ntwo\n"})).await;
/// let out = memory.execute(json!({"command": "view", "path": "/memories/a.md"})).await;
/// assert_eq!(out.text_content(), "Here's the content of /memories/a.md with line numbers:\n     1\tone\n     2\ttwo");
/// # });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct MemoryTool<S = LocalStore> {
    store: S,
    limits: Limits,
    definition: ToolDefinition,
    /// One command at a time: `str_replace` reads, edits and writes back.
    lock: tokio::sync::Mutex<()>,
}

impl MemoryTool<LocalStore> {
    /// The memory tool on the local directory `dir` (created 0700 if
    /// missing), which the model sees as `/memories`.
    ///
    /// # Errors
    ///
    /// When `dir` cannot be created or is not a directory.
    pub fn local(dir: impl AsRef<Path>) -> io::Result<Self> {
        Ok(MemoryTool::new(LocalStore::new(dir)?))
    }
}

impl<S: MemoryStore> MemoryTool<S> {
    /// The memory tool on `store`, with default [`Limits`].
    pub fn new(store: S) -> Self {
        MemoryTool {
            store,
            limits: Limits::default(),
            definition: ToolDefinition::typed(
                MEMORY_TOOL_TYPE,
                MEMORY_TOOL_NAME,
                "Store and retrieve information across conversations in files under /memories.",
                input_schema(),
            ),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Sets the size limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the prompt-caching breakpoint sent with the definition, such as
    /// `{"type": "ephemeral"}`.
    #[must_use]
    pub fn with_cache_control(mut self, cache_control: Value) -> Self {
        self.definition.cache_control = Some(cache_control);
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The size limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Runs one command, the `input` of a `memory` tool call.
    pub async fn execute(&self, input: Value) -> ToolOutput {
        let command = match Command::deserialize(&input) {
            Ok(command) => command,
            Err(e) => return ToolOutput::error(format!("invalid memory command: {e}")),
        };
        let _one_at_a_time = self.lock.lock().await;
        match self.run(command).await {
            Ok(text) => ToolOutput::text(text),
            Err(message) => ToolOutput::error(message),
        }
    }

    async fn run(&self, command: Command) -> Result<String, String> {
        let env = Env {
            store: &self.store,
            limits: &self.limits,
            directory: DIRECTORY,
        };
        match command {
            Command::View { path, view_range } => {
                let parsed = parse(&path)?;
                env.view(target(&parsed, &path), view_range, None).await
            }
            Command::Create { path, file_text } => {
                let parsed = parse(&path)?;
                env.write(&target(&parsed, &path), &file_text, WriteMode::CreateNew)
                    .await?;
                Ok(format!("File created successfully at: {parsed}"))
            }
            Command::StrReplace {
                path,
                old_str,
                new_str,
            } => {
                let parsed = parse(&path)?;
                env.str_replace(target(&parsed, &path), &old_str, &new_str)
                    .await
            }
            Command::Insert {
                path,
                insert_line,
                insert_text,
            } => {
                let parsed = parse(&path)?;
                env.insert(target(&parsed, &path), insert_line, &insert_text)
                    .await
            }
            Command::Delete { path } => {
                let parsed = parse(&path)?;
                if parsed.is_root() {
                    return Err(format!(
                        "cannot delete `{path}`: it is the memory directory itself"
                    ));
                }
                self.store
                    .delete(&parsed)
                    .await
                    .map_err(|e| env.failure(&path, e))?;
                Ok(format!("Successfully deleted {parsed}"))
            }
            Command::Rename { old_path, new_path } => {
                let from = parse(&old_path)?;
                let to = parse(&new_path)?;
                if from.is_root() || to.is_root() {
                    return Err(format!(
                        "cannot rename `{old_path}` to `{new_path}`: `/memories` itself cannot be moved or replaced"
                    ));
                }
                if to.is_within(&from) {
                    return Err(format!(
                        "cannot rename `{old_path}` to `{new_path}`: a directory cannot move inside itself"
                    ));
                }
                match self.store.stat(&from).await {
                    Ok(Some(_)) => {}
                    Ok(None) => return Err(env.failure(&old_path, StoreError::NotFound)),
                    Err(e) => return Err(env.failure(&old_path, e)),
                }
                match self.store.stat(&to).await {
                    Ok(None) => {}
                    Ok(Some(_)) => {
                        return Err(format!("the destination `{new_path}` already exists"));
                    }
                    Err(e) => return Err(env.failure(&new_path, e)),
                }
                self.store.rename(&from, &to).await.map_err(|e| match e {
                    StoreError::AlreadyExists => {
                        format!("the destination `{new_path}` already exists")
                    }
                    e => env.failure(&old_path, e),
                })?;
                Ok(format!("Successfully renamed {from} to {to}"))
            }
        }
    }
}

fn parse(raw: &str) -> Result<MemoryPath, String> {
    MemoryPath::parse_memory(raw).map_err(|refusal| refusal.message(DIRECTORY))
}

fn target<'a>(path: &'a MemoryPath, shown: &'a str) -> Target<'a> {
    Target { path, shown }
}

impl<S: MemoryStore> Tool for MemoryTool<S> {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, input: Value, _cx: ToolContext) -> ToolFuture<'a> {
        Box::pin(self.execute(input))
    }
}

/// A toolset holding just the memory tool, to merge with others.
impl<S: MemoryStore> From<MemoryTool<S>> for Toolset {
    fn from(tool: MemoryTool<S>) -> Self {
        let mut tools = Toolset::new();
        // "memory" is a valid name and the toolset is empty: this cannot fail.
        let _ = tools.add(tool);
        tools
    }
}

/// A memory command, as the API documents its input.
#[derive(Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
enum Command {
    View {
        path: String,
        #[serde(default)]
        view_range: Option<[i64; 2]>,
    },
    Create {
        path: String,
        file_text: String,
    },
    StrReplace {
        path: String,
        old_str: String,
        #[serde(default)]
        new_str: String,
    },
    Insert {
        path: String,
        insert_line: i64,
        insert_text: String,
    },
    Delete {
        path: String,
    },
    Rename {
        old_path: String,
        new_path: String,
    },
}

/// The input's schema, for local uses (code mode, MCP); the API has its own.
fn input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "command": {
                "type": "string",
                "enum": ["view", "create", "str_replace", "insert", "delete", "rename"]
            },
            "path": {"type": "string", "description": "A path under /memories."},
            "view_range": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
            "file_text": {"type": "string"},
            "old_str": {"type": "string"},
            "new_str": {"type": "string"},
            "insert_line": {"type": "integer"},
            "insert_text": {"type": "string"},
            "old_path": {"type": "string"},
            "new_path": {"type": "string"}
        },
        "required": ["command"]
    })
}
