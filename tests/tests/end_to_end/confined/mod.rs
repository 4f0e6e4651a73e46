//! Helpers for the built-in tool tests: throwaway directories with links
//! planted to lead outside the root, and snapshots of a tree to show that
//! nothing outside changed.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory under the system's temporary directory.
    pub fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "toolrunner-{tag}-{}-{:016x}",
            std::process::id(),
            rand_u64()
        ));
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// `base/root` for the tool and `base/outside` beside it, holding
/// `secret.txt` and `sub/deep.txt`. Inside the root, links lead out:
/// `link_out` (a directory link), `file_link` (a file link), `dangling`
/// (to a file that does not exist) and `abs_link` (an absolute link to the
/// outside directory).
pub struct Sandbox {
    pub dir: TempDir,
    pub root: PathBuf,
    pub outside: PathBuf,
}

impl Sandbox {
    pub fn new(tag: &str) -> Self {
        let dir = TempDir::new(tag);
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(outside.join("sub")).unwrap();
        fs::write(outside.join("secret.txt"), "top secret\n").unwrap();
        fs::write(outside.join("sub/deep.txt"), "deep secret\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            symlink("../outside", root.join("link_out")).unwrap();
            symlink("../outside/secret.txt", root.join("file_link")).unwrap();
            symlink("../outside/missing.txt", root.join("dangling")).unwrap();
            symlink(&outside, root.join("abs_link")).unwrap();
        }
        Sandbox { dir, root, outside }
    }

    /// Everything beside the root: the outside tree and the base directory's
    /// own entries (a file written next to the root would show here).
    pub fn outside_snapshot(&self) -> BTreeMap<String, String> {
        let mut snap = snapshot(&self.outside);
        for entry in fs::read_dir(self.dir.path()).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            snap.insert(format!("base:{name}"), String::new());
        }
        snap
    }
}

/// Every entry below `dir`, links not followed: path to kind and content
/// (or link target), plus the mode on Unix.
pub fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = fs::read_dir(&current) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(&path).unwrap();
            let described = if meta.file_type().is_symlink() {
                format!("link -> {}", fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                stack.push(path.clone());
                "dir".to_owned()
            } else {
                format!("file {:?}", fs::read(&path).unwrap())
            };
            out.insert(rel, format!("{described} {}", mode(&meta)));
        }
    }
    out
}

#[cfg(unix)]
pub fn mode(meta: &fs::Metadata) -> String {
    use std::os::unix::fs::PermissionsExt;
    format!("{:o}", meta.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
pub fn mode(_: &fs::Metadata) -> String {
    String::new()
}
