//! Keeping runs: the [`RunStore`] trait, [`RunId`], and [`FileStore`], a
//! store that needs no server.

use std::fmt;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::state::RunState;
use crate::error::Error;
use crate::owner_only;

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<RunState>();
    assert_send_sync::<RunId>();
    assert_send_sync::<FileStore>();
};

/// The future a [`RunStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// Where runs are kept between processes, by run id: the embedded
/// [`FileStore`], or a store of your own (a database table, an object store).
///
/// A runner with [`checkpoint`](crate::ToolRunner::checkpoint) saves its
/// [`RunState`] after every model response, every finished call and at
/// the end; a later process loads it and goes on with
/// [`Client::resume`](crate::Client::resume). A `save` must replace the
/// previous state whole or not at all: a state half written is a run lost.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use toolrunner::{RunId, RunState, RunStore, StoreFuture};
///
/// /// Runs kept in memory (for tests: a process that dies loses them).
/// #[derive(Default)]
/// struct Memory(Mutex<HashMap<String, Vec<u8>>>);
///
/// impl RunStore for Memory {
///     fn load<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, Option<RunState>> {
///         Box::pin(async move {
///             let runs = self.0.lock().unwrap();
///             runs.get(run.as_str()).map(|json| RunState::from_json(json)).transpose()
///         })
///     }
///     fn save<'a>(&'a self, run: &'a RunId, state: &'a RunState) -> StoreFuture<'a, ()> {
///         Box::pin(async move {
///             let json = state.to_json()?;
///             self.0.lock().unwrap().insert(run.as_str().to_owned(), json);
///             Ok(())
///         })
///     }
///     fn delete<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, ()> {
///         Box::pin(async move {
///             self.0.lock().unwrap().remove(run.as_str());
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait RunStore: Send + Sync + 'static {
    /// The state last saved for `run`; `None` when there is none.
    fn load<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, Option<RunState>>;

    /// Saves `state` as `run`'s, replacing the last one atomically.
    fn save<'a>(&'a self, run: &'a RunId, state: &'a RunState) -> StoreFuture<'a, ()>;

    /// Forgets `run`; forgetting a run that is not there is not an error.
    fn delete<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, ()>;
}

impl<S: RunStore + ?Sized> RunStore for Arc<S> {
    fn load<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, Option<RunState>> {
        (**self).load(run)
    }

    fn save<'a>(&'a self, run: &'a RunId, state: &'a RunState) -> StoreFuture<'a, ()> {
        (**self).save(run, state)
    }

    fn delete<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, ()> {
        (**self).delete(run)
    }
}

/// The name of a run in a [`RunStore`]: 1 to 128 ASCII letters, digits,
/// `-`, `_` and `.`, not starting with `.`. That makes it safe as a file
/// name and a key anywhere: no path separators, no `..`, nothing hidden.
///
/// ```
/// use toolrunner::RunId;
///
/// assert_eq!(RunId::new("order-7").unwrap().as_str(), "order-7");
/// assert!(RunId::new("../etc/passwd").is_err());
/// assert!(RunId::new("").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RunId(Arc<str>);

/// The longest run id, in bytes.
const MAX_RUN_ID_LEN: usize = 128;

impl RunId {
    /// Checks `id` and makes it a run id.
    ///
    /// # Errors
    ///
    /// A run-state error ([`Error::is_run_state`]) naming `id` when it is
    /// empty, too long, starts with `.` or holds any other character.
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        let valid = !id.is_empty()
            && id.len() <= MAX_RUN_ID_LEN
            && !id.starts_with('.')
            && id.chars().all(allowed);
        if !valid {
            return Err(Error::run_state(format!(
                "invalid run id {id:?}: use 1 to {MAX_RUN_ID_LEN} ASCII letters, digits, `-`, `_` or `.`, not starting with `.`"
            )));
        }
        Ok(RunId(id.into()))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn as_arc(&self) -> Arc<str> {
        Arc::clone(&self.0)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::str::FromStr for RunId {
    type Err = Error;

    fn from_str(id: &str) -> Result<Self, Error> {
        RunId::new(id)
    }
}

/// A [`RunStore`] in a directory: one JSON file per run, `<run id>.json`.
///
/// Each save writes a temporary file in the same directory, flushes it to
/// disk, renames it over the run's file and flushes the directory: a
/// process killed at any moment leaves the previous state or the new one,
/// never a mix. The directory is created on the first save.
///
/// A state holds the whole conversation, tool inputs and results, so on
/// Unix files are written 0600 and the directories created 0700: only
/// their owner can read them. A directory that already exists is used as
/// it is; when others may read it, the first save logs a `tracing`
/// warning naming it and its mode.
///
/// ```no_run
/// use toolrunner::{FileStore, RunId, RunStore};
///
/// # async fn f() -> Result<(), toolrunner::Error> {
/// let store = FileStore::new("runs");
/// let run = RunId::new("order-7")?;
/// if let Some(state) = store.load(&run).await? {
///     println!("{} messages so far", state.messages().len());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct FileStore {
    dir: PathBuf,
    /// Whether the warning about a directory open to others was logged:
    /// once per store (and its clones) is enough, not once per save.
    warned: Arc<AtomicBool>,
}

impl FileStore {
    /// A store keeping runs in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileStore {
            dir: dir.into(),
            warned: Arc::default(),
        }
    }

    /// The directory the runs are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file `run` is kept in.
    pub fn path(&self, run: &RunId) -> PathBuf {
        self.dir.join(format!("{run}.json"))
    }
}

impl RunStore for FileStore {
    fn load<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, Option<RunState>> {
        let path = self.path(run);
        Box::pin(async move {
            let read = blocking(move || match std::fs::read(&path) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io("read", &path, e)),
            });
            match read.await? {
                Some(bytes) => RunState::from_json(&bytes).map(Some),
                None => Ok(None),
            }
        })
    }

    fn save<'a>(&'a self, run: &'a RunId, state: &'a RunState) -> StoreFuture<'a, ()> {
        let dir = self.dir.clone();
        let path = self.path(run);
        // A hidden name cannot be a run's file: run ids never start with `.`.
        let temp = dir.join(format!(".{run}.json.{:016x}.tmp", fastrand::u64(..)));
        let warned = Arc::clone(&self.warned);
        Box::pin(async move {
            let json = state.to_json()?;
            let shown = dir.clone();
            let open_mode = blocking(move || {
                let open_mode = make_dir(&dir)?;
                write_atomically(&dir, &temp, &path, &json)?;
                Ok(open_mode)
            })
            .await?;
            // Logged here, not on the blocking pool, so that it reaches the
            // subscriber of the task that saves.
            if let Some(mode) = open_mode
                && !warned.swap(true, Ordering::Relaxed)
            {
                tracing::warn!(
                    dir = %shown.display(),
                    mode = %format_args!("{mode:o}"),
                    "the run store's directory is open to other users, who may read the runs kept in it; make it 0700"
                );
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, ()> {
        let dir = self.dir.clone();
        let path = self.path(run);
        Box::pin(async move {
            blocking(move || {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(Error::io("delete", &path, e)),
                }
                sync_dir(&dir)
            })
            .await
        })
    }
}

/// Creates `dir` and its missing parents (0700); the mode of `dir` when
/// others may use it (it was there already, made by someone else).
fn make_dir(dir: &Path) -> Result<Option<u32>, Error> {
    owner_only::dir_builder()
        .recursive(true)
        .create(dir)
        .map_err(|e| Error::io("create", dir, e))?;
    owner_only::open_to_others(dir).map_err(|e| Error::io("inspect", dir, e))
}

/// Writes `bytes` to `path` through `temp`: write, fsync, rename, fsync the
/// directory, so that the rename itself survives a crash. The temporary
/// file is created 0600, so the state is never readable by others, not
/// even while it is written.
fn write_atomically(dir: &Path, temp: &Path, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let written = (|| {
        let mut file = owner_only::create_new_file(temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(temp);
        return Err(Error::io("write", temp, e));
    }
    if let Err(e) = std::fs::rename(temp, path) {
        let _ = std::fs::remove_file(temp);
        return Err(Error::io("rename into place", path, e));
    }
    sync_dir(dir)
}

/// Flushes a directory's entries to disk. Only Unix can open a directory
/// to do so; elsewhere the rename is left to the file system.
fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        let flushed = std::fs::File::open(dir).and_then(|d| d.sync_all());
        flushed.map_err(|e| Error::io("flush", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Runs file work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::store("the run store's file task failed", e))?
}

/// A runner's store and run id, to save its state to.
#[derive(Clone)]
pub(crate) struct Checkpoint {
    pub(crate) store: Arc<dyn RunStore>,
    pub(crate) run: RunId,
}

impl Checkpoint {
    /// Saves `state`, on a future that owns what it needs, so that a
    /// runner can keep it in its state machine.
    pub(crate) fn save(&self, state: RunState) -> StoreFuture<'static, ()> {
        let (store, run) = (Arc::clone(&self.store), self.run.clone());
        Box::pin(async move { store.save(&run, &state).await })
    }
}

#[cfg(test)]
mod tests;
