//! [`MemoryStore`]: where the memory tool keeps its files.
//!
//! The tool parses and confines paths, and implements the commands (line
//! numbers, unique replacement, insertion) once, on top of these few
//! operations; a store only moves whole files. The local directory,
//! [`LocalStore`](super::LocalStore), is the default.

use std::fmt;
use std::future::Future;

use super::MemoryPath;

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryKind {
    /// A file of `size` bytes.
    File {
        /// Its size in bytes.
        size: u64,
    },
    /// A directory.
    Dir,
}

/// One entry of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its name within the directory.
    pub name: String,
    /// A file or a directory.
    pub kind: EntryKind,
}

/// How [`MemoryStore::write`] treats an existing file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMode {
    /// Fail with [`StoreError::AlreadyExists`] when the path exists.
    CreateNew,
    /// Replace the file's content (or create it).
    Replace,
}

/// Why a store operation failed. The tool turns it into an error result
/// naming the path.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// Nothing at the path.
    NotFound,
    /// Something already at the path.
    AlreadyExists,
    /// A directory where a file was needed.
    IsADirectory,
    /// A file where a directory was needed.
    NotADirectory,
    /// The path leads outside the root (a symbolic link, say); the reason.
    Outside(String),
    /// The file is larger than the limit it was read with; its size in bytes.
    TooLarge(u64),
    /// The file is not UTF-8 text.
    NotText,
    /// Anything else, such as an I/O error; lower-case, for the model.
    Other(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound => f.write_str("does not exist"),
            StoreError::AlreadyExists => f.write_str("already exists"),
            StoreError::IsADirectory => f.write_str("is a directory"),
            StoreError::NotADirectory => f.write_str("is not a directory"),
            StoreError::Outside(reason) => write!(f, "is outside the root: {reason}"),
            StoreError::TooLarge(size) => write!(f, "is too large ({size} bytes)"),
            StoreError::NotText => f.write_str("is not UTF-8 text"),
            StoreError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for StoreError {}

/// A place to keep memory files: a local directory, a database, object
/// storage.
///
/// Paths arrive parsed and normalized (no `..`, no backslashes); a store
/// whose names can alias (symbolic links, say) must still keep every
/// operation inside its root and answer [`StoreError::Outside`] otherwise.
/// Calls arrive one at a time from a given tool.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Mutex;
/// use toolrunner::builtin::{Entry, EntryKind, MemoryPath, MemoryStore, MemoryTool, StoreError, WriteMode};
///
/// /// Memories in a map: flat, no directories.
/// #[derive(Default)]
/// struct MapStore(Mutex<BTreeMap<String, String>>);
///
/// impl MemoryStore for MapStore {
///     async fn stat(&self, path: &MemoryPath) -> Result<Option<EntryKind>, StoreError> {
///         if path.is_root() {
///             return Ok(Some(EntryKind::Dir));
///         }
///         let files = self.0.lock().unwrap();
///         Ok(files.get(path.as_str()).map(|text| EntryKind::File { size: text.len() as u64 }))
///     }
///     async fn list(&self, dir: &MemoryPath) -> Result<Vec<Entry>, StoreError> {
///         if !dir.is_root() {
///             return Err(StoreError::NotFound);
///         }
///         let files = self.0.lock().unwrap();
///         Ok(files.iter().map(|(name, text)| Entry {
///             name: name.clone(),
///             kind: EntryKind::File { size: text.len() as u64 },
///         }).collect())
///     }
///     async fn read(&self, path: &MemoryPath, _max_bytes: u64) -> Result<String, StoreError> {
///         self.0.lock().unwrap().get(path.as_str()).cloned().ok_or(StoreError::NotFound)
///     }
///     async fn write(&self, path: &MemoryPath, text: &str, mode: WriteMode) -> Result<(), StoreError> {
///         let mut files = self.0.lock().unwrap();
///         if mode == WriteMode::CreateNew && files.contains_key(path.as_str()) {
///             return Err(StoreError::AlreadyExists);
///         }
///         if path.parent() != Some(MemoryPath::root()) {
///             return Err(StoreError::Other("this store has no directories".into()));
///         }
///         files.insert(path.as_str().to_owned(), text.to_owned());
///         Ok(())
///     }
///     async fn delete(&self, path: &MemoryPath) -> Result<(), StoreError> {
///         self.0.lock().unwrap().remove(path.as_str()).map(drop).ok_or(StoreError::NotFound)
///     }
///     async fn rename(&self, from: &MemoryPath, to: &MemoryPath) -> Result<(), StoreError> {
///         let mut files = self.0.lock().unwrap();
///         let text = files.remove(from.as_str()).ok_or(StoreError::NotFound)?;
///         files.insert(to.as_str().to_owned(), text);
///         Ok(())
///     }
/// }
///
/// let tool = MemoryTool::new(MapStore::default());
/// # let _ = tool;
/// ```
pub trait MemoryStore: Send + Sync + 'static {
    /// What `path` names, or `None` when nothing is there.
    fn stat(
        &self,
        path: &MemoryPath,
    ) -> impl Future<Output = Result<Option<EntryKind>, StoreError>> + Send;

    /// The entries directly inside the directory `dir`, in any order.
    fn list(&self, dir: &MemoryPath)
    -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// The text of the file at `path`; [`StoreError::TooLarge`] when it is
    /// over `max_bytes`, checked before reading it.
    fn read(
        &self,
        path: &MemoryPath,
        max_bytes: u64,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// Writes the whole file at `path`, creating missing parent
    /// directories. It should be atomic: a reader sees the old content or
    /// the new, never a mix.
    fn write(
        &self,
        path: &MemoryPath,
        text: &str,
        mode: WriteMode,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the file, or the directory with everything in it.
    fn delete(&self, path: &MemoryPath) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Moves a file or directory to `to`, which does not exist, creating
    /// missing parent directories.
    fn rename(
        &self,
        from: &MemoryPath,
        to: &MemoryPath,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
