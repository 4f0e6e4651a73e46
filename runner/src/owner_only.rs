//! Files and directories only their owner can read: what the built-in tools
//! and the run store write holds conversations and tool results.
//!
//! The mode is given when each is created, never changed afterwards, so
//! that no other user can open one in between.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::path::Path;

/// Mode of the files created: owner read and write only.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// Mode of the directories created: owner only.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

/// Creates the new file `path` (0600 on Unix), failing if anything is
/// there already, a symbolic link included: the file opened is the one
/// created here.
pub(crate) fn create_new_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options.open(path)
}

/// A directory builder that creates directories 0700 on Unix.
pub(crate) fn dir_builder() -> DirBuilder {
    #[allow(unused_mut)]
    let mut builder = DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder
}

/// The permission bits of the directory `dir` when others than its owner
/// have any access to it, such as `0o755`; `None` when it is owner-only
/// (or elsewhere than Unix, where modes do not apply).
pub(crate) fn open_to_others(dir: &Path) -> io::Result<Option<u32>> {
    let meta = fs::metadata(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        Ok((mode & 0o077 != 0).then_some(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(None)
    }
}
