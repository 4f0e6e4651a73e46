//! [`LocalStore`]: memory files in a local directory, kept inside it.
//!
//! Paths arrive without `..` (see [`MemoryPath`]), so the only way out is a
//! symbolic link. Every link met on the way is resolved and must land
//! inside the root; files are opened and then checked to be the file that
//! was inspected, and new files are written to a fresh temporary file (which
//! `create_new` refuses to open through a link) and renamed into place.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::MemoryPath;
use super::store::{Entry, EntryKind, MemoryStore, StoreError, WriteMode};
use crate::owner_only;

/// The default [`MemoryStore`]: a directory on the local disk.
///
/// Files are created 0600 and directories 0700 (on Unix), writes are atomic
/// (temporary file, fsync, rename), and nothing outside the directory is
/// read or written, symbolic links included.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("toolrunner-doc-local-{}", std::process::id()));
/// use toolrunner::builtin::LocalStore;
///
/// let store = LocalStore::new(&dir).unwrap(); // created if missing
/// assert_eq!(store.root(), std::fs::canonicalize(&dir).unwrap());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct LocalStore {
    /// Canonical, so that containment is a prefix test on resolved paths.
    root: Arc<Path>,
}

impl LocalStore {
    /// The store in `dir`, which is created (0700) if missing.
    ///
    /// # Errors
    ///
    /// When `dir` cannot be created or is not a directory.
    pub fn new(dir: impl AsRef<Path>) -> io::Result<Self> {
        let dir = dir.as_ref();
        owner_only::dir_builder().recursive(true).create(dir)?;
        let root = fs::canonicalize(dir)?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("`{}` is not a directory", dir.display()),
            ));
        }
        Ok(LocalStore { root: root.into() })
    }

    /// The directory, canonicalized.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real location of `path`, with every symbolic link on the way
    /// resolved and checked to stay inside the root. The last part is
    /// resolved only when `follow_last`; parts that do not exist yet are
    /// appended as they are.
    fn resolve(&self, path: &MemoryPath, follow_last: bool) -> Result<PathBuf, StoreError> {
        let parts: Vec<&str> = path.components().collect();
        let mut current = self.root.to_path_buf();
        for (i, part) in parts.iter().enumerate() {
            let next = current.join(part);
            let last = i + 1 == parts.len();
            match fs::symlink_metadata(&next) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let mut missing = next;
                    missing.extend(&parts[i + 1..]);
                    return Ok(missing);
                }
                Err(e) => return Err(io_error(e)),
                Ok(meta) if meta.file_type().is_symlink() => {
                    if last && !follow_last {
                        return Ok(next);
                    }
                    current = self.inside(&next)?;
                }
                Ok(_) => current = next,
            }
        }
        Ok(current)
    }

    /// Where the link `link` leads, if that is inside the root.
    fn inside(&self, link: &Path) -> Result<PathBuf, StoreError> {
        let target = fs::canonicalize(link).map_err(|_| {
            StoreError::Outside(
                "it goes through a symbolic link whose target does not exist".to_owned(),
            )
        })?;
        if target.starts_with(&self.root) {
            Ok(target)
        } else {
            Err(StoreError::Outside(
                "it goes through a symbolic link that leads outside".to_owned(),
            ))
        }
    }

    /// Creates the missing directories from the root down to `dir` (0700),
    /// and hands them back to be removed if what needs them fails. Those
    /// it created before failing itself are removed before it returns.
    fn make_dirs(&self, dir: &Path) -> Result<NewDirs, StoreError> {
        let rel = dir
            .strip_prefix(&self.root)
            .map_err(|_| StoreError::Outside("it resolves outside the root".to_owned()))?;
        let mut created = NewDirs(Vec::new());
        let mut current = self.root.to_path_buf();
        for part in rel.components() {
            current.push(part);
            match fs::symlink_metadata(&current) {
                Ok(meta) if meta.is_dir() => {}
                // `resolve` followed every link it saw; one here appeared since.
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(StoreError::Outside(
                        "a symbolic link appeared on the way while writing".to_owned(),
                    ));
                }
                Ok(_) => return Err(StoreError::NotADirectory),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    match owner_only::dir_builder().create(&current) {
                        Ok(()) => created.0.push(current.clone()),
                        // Made meanwhile by someone else: theirs to keep.
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                            if !fs::symlink_metadata(&current).is_ok_and(|m| m.is_dir()) {
                                return Err(StoreError::NotADirectory);
                            }
                        }
                        Err(e) => return Err(io_error(e)),
                    }
                }
                Err(e) => return Err(io_error(e)),
            }
        }
        Ok(created)
    }

    fn stat_blocking(&self, path: &MemoryPath) -> Result<Option<EntryKind>, StoreError> {
        let real = self.resolve(path, true)?;
        match fs::symlink_metadata(&real) {
            Ok(meta) => kind_of(&meta).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    fn list_blocking(&self, dir: &MemoryPath) -> Result<Vec<Entry>, StoreError> {
        let real = self.resolve(dir, true)?;
        let mut entries = Vec::new();
        for item in fs::read_dir(&real).map_err(io_error)? {
            let item = item.map_err(io_error)?;
            // Names that are not UTF-8 cannot be written back by the model.
            let Ok(name) = item.file_name().into_string() else {
                continue;
            };
            let Ok(mut meta) = fs::symlink_metadata(item.path()) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                // Links that lead outside are not shown at all.
                let Ok(target) = self.inside(&item.path()) else {
                    continue;
                };
                let Ok(target_meta) = fs::metadata(target) else {
                    continue;
                };
                meta = target_meta;
            }
            if let Ok(kind) = kind_of(&meta) {
                entries.push(Entry { name, kind });
            }
        }
        Ok(entries)
    }

    fn read_blocking(&self, path: &MemoryPath, max_bytes: u64) -> Result<String, StoreError> {
        let real = self.resolve(path, true)?;
        let seen = fs::symlink_metadata(&real).map_err(io_error)?;
        if let EntryKind::Dir = kind_of(&seen)? {
            return Err(StoreError::IsADirectory);
        }
        if seen.len() > max_bytes {
            return Err(StoreError::TooLarge(seen.len()));
        }
        let file = File::open(&real).map_err(io_error)?;
        let opened = file.metadata().map_err(io_error)?;
        if !same_file(&seen, &opened) {
            return Err(StoreError::Outside(
                "it was replaced while being opened".to_owned(),
            ));
        }
        self.check_opened(&file)?;
        let mut bytes = Vec::new();
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        if bytes.len() as u64 > max_bytes {
            return Err(StoreError::TooLarge(bytes.len() as u64));
        }
        String::from_utf8(bytes).map_err(|_| StoreError::NotText)
    }

    fn write_blocking(
        &self,
        path: &MemoryPath,
        text: &str,
        mode: WriteMode,
    ) -> Result<(), StoreError> {
        let target = self.resolve(path, true)?;
        let parent = target
            .parent()
            .filter(|p| p.starts_with(&self.root))
            .ok_or(StoreError::IsADirectory)?;
        let new_dirs = self.make_dirs(parent)?;
        match fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => return Err(StoreError::IsADirectory),
            Ok(_) if mode == WriteMode::CreateNew => return Err(StoreError::AlreadyExists),
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(StoreError::Outside(
                    "a symbolic link appeared while writing".to_owned(),
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(e)),
        }
        self.write_atomic(parent, &target, text.as_bytes(), mode)?;
        new_dirs.keep();
        Ok(())
    }

    /// Writes `bytes` to a new temporary file in `dir`, syncs it, and moves
    /// it to `target`; a crash leaves the old file or the new one, never half
    /// of one.
    fn write_atomic(
        &self,
        dir: &Path,
        target: &Path,
        bytes: &[u8],
        mode: WriteMode,
    ) -> Result<(), StoreError> {
        // Hidden, so that a listing never shows it; random, so that
        // concurrent writers never share one.
        let temp = dir.join(format!(
            ".tmp-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let mut file = owner_only::create_new_file(&temp).map_err(io_error)?;
        let written = self.check_opened(&file).and_then(|()| {
            file.write_all(bytes).map_err(io_error)?;
            file.sync_all().map_err(io_error)
        });
        drop(file);
        let placed = written.and_then(|()| match mode {
            // A hard link never replaces: a file created meanwhile is kept.
            WriteMode::CreateNew => match fs::hard_link(&temp, target) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                    // No hard links here (some network and FUSE file
                    // systems): commands run one at a time, so a rename
                    // after the check above is the next best thing.
                    fs::rename(&temp, target).map_err(io_error)
                }
                other => other.map_err(io_error),
            },
            WriteMode::Replace => fs::rename(&temp, target).map_err(io_error),
        });
        // Gone after a rename; after a link or a failure, remove it.
        let _ = fs::remove_file(&temp);
        placed?;
        // Make the new name durable too.
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// On Linux, checks where an opened file really is: a directory on the
    /// way swapped for a link after the checks shows up here.
    #[cfg(target_os = "linux")]
    fn check_opened(&self, file: &File) -> Result<(), StoreError> {
        use std::os::fd::AsRawFd;
        match fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
            Ok(actual) if !actual.starts_with(&self.root) => Err(StoreError::Outside(
                "it was moved outside while being opened".to_owned(),
            )),
            // Without /proc there is nothing more to learn.
            _ => Ok(()),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn check_opened(&self, _file: &File) -> Result<(), StoreError> {
        Ok(())
    }

    /// Refuses `link` when it is a symbolic link that does not lead inside:
    /// a command that only touches the link itself (delete, rename) is
    /// refused like any other on such a path, the link kept.
    fn check_link(&self, link: &Path, meta: &fs::Metadata) -> Result<(), StoreError> {
        if meta.file_type().is_symlink() {
            self.inside(link)?;
        }
        Ok(())
    }

    fn delete_blocking(&self, path: &MemoryPath) -> Result<(), StoreError> {
        // A link is removed itself, never what it points to.
        let real = self.resolve(path, false)?;
        let meta = fs::symlink_metadata(&real).map_err(io_error)?;
        self.check_link(&real, &meta)?;
        if meta.is_dir() {
            // Does not follow links inside the directory.
            fs::remove_dir_all(&real).map_err(io_error)
        } else {
            fs::remove_file(&real).map_err(io_error)
        }
    }

    fn rename_blocking(&self, from: &MemoryPath, to: &MemoryPath) -> Result<(), StoreError> {
        let source = self.resolve(from, false)?;
        let target = self.resolve(to, false)?;
        let meta = fs::symlink_metadata(&source).map_err(io_error)?;
        self.check_link(&source, &meta)?;
        match fs::symlink_metadata(&target) {
            Ok(_) => return Err(StoreError::AlreadyExists),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(e)),
        }
        let new_dirs = match target.parent() {
            Some(parent) => self.make_dirs(parent)?,
            None => NewDirs(Vec::new()),
        };
        fs::rename(&source, &target).map_err(io_error)?;
        new_dirs.keep();
        Ok(())
    }
}

/// Directories a command created, outermost first: removed again, deepest
/// first, when the command fails, so that a failed write leaves nothing it
/// created. Only empty ones go: one that something was put in meanwhile
/// stays.
struct NewDirs(Vec<PathBuf>);

impl NewDirs {
    /// The command succeeded: the directories stay.
    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for NewDirs {
    fn drop(&mut self) {
        for dir in self.0.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// Runs blocking file-system work off the async runtime's threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(StoreError::Other(format!("the store's task failed: {e}"))))
}

impl MemoryStore for LocalStore {
    async fn stat(&self, path: &MemoryPath) -> Result<Option<EntryKind>, StoreError> {
        let (store, path) = (self.clone(), path.clone());
        blocking(move || store.stat_blocking(&path)).await
    }

    async fn list(&self, dir: &MemoryPath) -> Result<Vec<Entry>, StoreError> {
        let (store, dir) = (self.clone(), dir.clone());
        blocking(move || store.list_blocking(&dir)).await
    }

    async fn read(&self, path: &MemoryPath, max_bytes: u64) -> Result<String, StoreError> {
        let (store, path) = (self.clone(), path.clone());
        blocking(move || store.read_blocking(&path, max_bytes)).await
    }

    async fn write(
        &self,
        path: &MemoryPath,
        text: &str,
        mode: WriteMode,
    ) -> Result<(), StoreError> {
        let (store, path, text) = (self.clone(), path.clone(), text.to_owned());
        blocking(move || store.write_blocking(&path, &text, mode)).await
    }

    async fn delete(&self, path: &MemoryPath) -> Result<(), StoreError> {
        let (store, path) = (self.clone(), path.clone());
        blocking(move || store.delete_blocking(&path)).await
    }

    async fn rename(&self, from: &MemoryPath, to: &MemoryPath) -> Result<(), StoreError> {
        let (store, from, to) = (self.clone(), from.clone(), to.clone());
        blocking(move || store.rename_blocking(&from, &to)).await
    }
}

fn kind_of(meta: &fs::Metadata) -> Result<EntryKind, StoreError> {
    if meta.is_dir() {
        Ok(EntryKind::Dir)
    } else if meta.is_file() {
        Ok(EntryKind::File { size: meta.len() })
    } else {
        Err(StoreError::Other(
            "is neither a regular file nor a directory".to_owned(),
        ))
    }
}

/// Whether two metadata describe the same file (on Unix: device and inode).
#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino() && b.is_file()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, b: &fs::Metadata) -> bool {
    b.is_file()
}

fn io_error(e: io::Error) -> StoreError {
    match e.kind() {
        io::ErrorKind::NotFound => StoreError::NotFound,
        io::ErrorKind::AlreadyExists => StoreError::AlreadyExists,
        io::ErrorKind::NotADirectory => StoreError::NotADirectory,
        io::ErrorKind::IsADirectory => StoreError::IsADirectory,
        _ => StoreError::Other(e.to_string().to_lowercase()),
    }
}
