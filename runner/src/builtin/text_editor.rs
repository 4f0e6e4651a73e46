//! [`TextEditor`]: the API's text editor tool (`text_editor_20250728`),
//! confined to one local directory.

use std::io;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};

use super::commands::{Env, Target};
use super::path::PathRefusal;
use super::store::WriteMode;
use super::{Limits, LocalStore, MemoryPath};
use crate::{Tool, ToolContext, ToolDefinition, ToolFuture, ToolOutput, Toolset};

/// The text editor's type on the wire.
pub const TEXT_EDITOR_TYPE: &str = "text_editor_20250728";
/// The text editor's name; the API requires this one.
pub const TEXT_EDITOR_NAME: &str = "str_replace_based_edit_tool";

/// What the root is called in messages.
const DIRECTORY: &str = "editor's directory";

/// The text editor tool, working on the files of one local directory.
///
/// Commands, as the API documents them: `view` (a file with line numbers,
/// optionally `view_range`, or a directory two levels deep), `create`
/// (writes the whole file, replacing it), `str_replace` (the text must
/// appear exactly once) and `insert`. Paths are relative to the directory;
/// an absolute path is accepted only inside it. Everything else, as with
/// [`MemoryTool`](super::MemoryTool), is refused.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("toolrunner-doc-editor-{}", std::process::id()));
/// use serde_json::json;
/// use toolrunner::builtin::TextEditor;
///
/// let editor = TextEditor::local(&dir).unwrap().with_max_characters(5_000);
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// editor.execute(json!({"command": "create", "path": "hello.txt", "file_text": "hi\n"})).await;
/// let out = editor.execute(json!({"command": "str_replace", "path": "hello.txt", "old_str": "hi", "new_str": "hello"})).await;
/// assert!(!out.is_error, "{out}");
/// assert_eq!(std::fs::read_to_string(dir.join("hello.txt")).unwrap(), "hello\n");
/// # });
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct TextEditor {
    store: LocalStore,
    /// The directory as given, made absolute: absolute paths may use this
    /// spelling as well as the canonical one.
    given: String,
    limits: Limits,
    max_characters: Option<u64>,
    definition: ToolDefinition,
    /// One command at a time: `str_replace` reads, edits and writes back.
    lock: tokio::sync::Mutex<()>,
}

impl TextEditor {
    /// The text editor on the local directory `dir` (created 0700 if missing).
    ///
    /// # Errors
    ///
    /// When `dir` cannot be created or is not a directory.
    pub fn local(dir: impl AsRef<Path>) -> io::Result<Self> {
        let store = LocalStore::new(&dir)?;
        let given = std::path::absolute(dir.as_ref())?;
        Ok(TextEditor {
            given: given.to_string_lossy().trim_end_matches('/').to_owned(),
            store,
            limits: Limits::default(),
            max_characters: None,
            definition: ToolDefinition::typed(
                TEXT_EDITOR_TYPE,
                TEXT_EDITOR_NAME,
                "View, create and edit text files.",
                input_schema(),
            ),
            lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Shows at most `max` characters of a file per `view`, the rest cut
    /// with a note; sent to the API as `max_characters`.
    #[must_use]
    pub fn with_max_characters(mut self, max: u64) -> Self {
        self.max_characters = Some(max);
        self.definition = self
            .definition
            .with_type_option("max_characters", json!(max));
        self
    }

    /// Sets the size limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the prompt-caching breakpoint sent with the definition.
    #[must_use]
    pub fn with_cache_control(mut self, cache_control: Value) -> Self {
        self.definition.cache_control = Some(cache_control);
        self
    }

    /// The directory, canonicalized.
    pub fn root(&self) -> &Path {
        self.store.root()
    }

    /// Runs one command, the `input` of a `str_replace_based_edit_tool` call.
    pub async fn execute(&self, input: Value) -> ToolOutput {
        let command = match Command::deserialize(&input) {
            Ok(command) => command,
            Err(e) => return ToolOutput::error(format!("invalid text editor command: {e}")),
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
                let parsed = self.parse(&path)?;
                env.view(target(&parsed, &path), view_range, self.max_characters)
                    .await
            }
            Command::Create { path, file_text } => {
                let parsed = self.parse(&path)?;
                env.write(&target(&parsed, &path), &file_text, WriteMode::Replace)
                    .await?;
                Ok(format!("File created successfully at: {path}"))
            }
            Command::StrReplace {
                path,
                old_str,
                new_str,
            } => {
                let parsed = self.parse(&path)?;
                env.str_replace(target(&parsed, &path), &old_str, &new_str)
                    .await
            }
            Command::Insert {
                path,
                insert_line,
                insert_text,
            } => {
                let parsed = self.parse(&path)?;
                env.insert(target(&parsed, &path), insert_line, &insert_text)
                    .await
            }
        }
    }

    /// A path relative to the directory, or absolute inside it.
    fn parse(&self, raw: &str) -> Result<MemoryPath, String> {
        let refuse = |refusal: PathRefusal| refusal.message(DIRECTORY);
        if !raw.starts_with('/') {
            return MemoryPath::parse_relative(raw).map_err(refuse);
        }
        let root = self.store.root().to_string_lossy();
        let inside = [&*root, self.given.as_str()]
            .into_iter()
            .find_map(|prefix| {
                raw.strip_prefix(prefix)
                    .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            });
        match inside {
            Some(rest) => {
                // Check the whole spelling, then read the rest from the root;
                // a refusal names the path as the model wrote it.
                MemoryPath::parse_relative(raw).map_err(refuse)?;
                MemoryPath::parse_relative(rest).map_err(|refusal| {
                    refuse(PathRefusal {
                        path: raw.to_owned(),
                        ..refusal
                    })
                })
            }
            None => Err(refuse(PathRefusal::new(
                raw,
                format!("absolute paths must lie inside `{root}`"),
            ))),
        }
    }
}

fn target<'a>(path: &'a MemoryPath, shown: &'a str) -> Target<'a> {
    Target { path, shown }
}

impl Tool for TextEditor {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, input: Value, _cx: ToolContext) -> ToolFuture<'a> {
        Box::pin(self.execute(input))
    }
}

/// A toolset holding just the text editor, to merge with others.
impl From<TextEditor> for Toolset {
    fn from(tool: TextEditor) -> Self {
        let mut tools = Toolset::new();
        // A valid name in an empty toolset: this cannot fail.
        let _ = tools.add(tool);
        tools
    }
}

/// A text editor command, as the API documents its input.
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
        // Earlier versions of the tool named it `new_str`.
        #[serde(alias = "new_str")]
        insert_text: String,
    },
}

/// The input's schema, for local uses (code mode, MCP); the API has its own.
fn input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert"]},
            "path": {"type": "string"},
            "view_range": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
            "file_text": {"type": "string"},
            "old_str": {"type": "string"},
            "new_str": {"type": "string"},
            "insert_line": {"type": "integer"},
            "insert_text": {"type": "string"}
        },
        "required": ["command", "path"]
    })
}
