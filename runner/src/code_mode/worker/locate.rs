//! Finding the worker binary when a toolset is built, and saying exactly
//! what to add when there is none.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{Binary, Worker};

/// A worker binary, found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Located {
    pub(crate) path: PathBuf,
    /// Whether it is the current executable, started in worker mode.
    pub(crate) current_exe: bool,
}

/// The worker binary `worker` names, or why there is none.
///
/// `env` is the value of [`Worker::ENV`] and `exe` the current executable,
/// passed in so that tests need not change the process's own.
///
/// # Errors
///
/// A message for the developer: where it looked, and what to add.
pub(crate) fn locate(
    worker: &Worker,
    env: Option<OsString>,
    exe: Option<PathBuf>,
) -> Result<Located, String> {
    find(worker, env, exe).map(|path| Located {
        path,
        current_exe: worker.binary == Binary::CurrentExe,
    })
}

fn find(worker: &Worker, env: Option<OsString>, exe: Option<PathBuf>) -> Result<PathBuf, String> {
    match &worker.binary {
        Binary::Find => {}
        Binary::At(path) if path.is_file() => return Ok(path.clone()),
        Binary::At(path) => {
            return Err(format!(
                "code mode's worker `{}` does not exist",
                path.display()
            ));
        }
        Binary::CurrentExe => {
            return exe.ok_or_else(|| {
                "code mode cannot run the current executable as its worker: its path is unknown"
                    .to_owned()
            });
        }
    }
    if let Some(path) = env.filter(|v| !v.is_empty()).map(PathBuf::from) {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "code mode's worker `{}`, from {}, does not exist",
                path.display(),
                Worker::ENV
            ))
        };
    }
    let dirs = exe.as_deref().map(candidates).unwrap_or_default();
    let binary = format!("{}{}", Worker::BINARY, std::env::consts::EXE_SUFFIX);
    if let Some(found) = dirs.iter().map(|d| d.join(&binary)).find(|p| p.is_file()) {
        return Ok(found);
    }
    let searched = dirs
        .iter()
        .map(|d| format!("`{}`", d.display()))
        .collect::<Vec<_>>()
        .join(" and ");
    Err(format!(
        "code mode found no worker binary `{binary}` in {searched}, and {env} is not set. \
         Add `src/bin/toolrunner-worker.rs` containing `toolrunner::code_mode_worker!();` to your package \
         (cargo builds it beside your program), or set {env} to a worker's path \
         (`cargo install toolrunner --features code-mode --bin toolrunner-worker`), \
         or choose `Isolation::InProcess` for trusted code",
        searched = if searched.is_empty() {
            "no directory (the current executable is unknown)".to_owned()
        } else {
            searched
        },
        env = Worker::ENV,
    ))
}

/// Where cargo puts the binaries of the package that built `exe`: its own
/// directory, and the one above for tests and benchmarks (`deps/`) and
/// examples (`examples/`).
fn candidates(exe: &Path) -> Vec<PathBuf> {
    let Some(dir) = exe.parent() else {
        return Vec::new();
    };
    let mut dirs = vec![dir.to_path_buf()];
    if dir
        .file_name()
        .is_some_and(|n| n == "deps" || n == "examples")
        && let Some(up) = dir.parent()
    {
        dirs.push(up.to_path_buf());
    }
    dirs
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn found_beside_the_executable_or_above_cargo_deps() {
        let root = std::env::temp_dir().join(format!("toolrunner-locate-{}", std::process::id()));
        let deps = root.join("deps");
        fs::create_dir_all(&deps).unwrap();
        let worker = root.join(Worker::BINARY);
        fs::write(&worker, b"").unwrap();

        let found = locate(&Worker::new(), None, Some(deps.join("my_test-0123"))).unwrap();
        assert_eq!(found.path, worker);
        assert!(!found.current_exe);
        let found = locate(&Worker::new(), None, Some(root.join("my_app"))).unwrap();
        assert_eq!(found.path, worker);
        let found = locate(&Worker::current_exe(), None, Some(root.join("my_app"))).unwrap();
        assert_eq!(
            found,
            Located {
                path: root.join("my_app"),
                current_exe: true
            }
        );

        let err = locate(
            &Worker::new(),
            None,
            Some(PathBuf::from("/nowhere/bin/app")),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "code mode found no worker binary `toolrunner-worker` in `/nowhere/bin`, and TOOLRUNNER_WORKER is not set. \
             Add `src/bin/toolrunner-worker.rs` containing `toolrunner::code_mode_worker!();` to your package \
             (cargo builds it beside your program), or set TOOLRUNNER_WORKER to a worker's path \
             (`cargo install toolrunner --features code-mode --bin toolrunner-worker`), \
             or choose `Isolation::InProcess` for trusted code"
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_explicit_path_or_the_variable_comes_first() {
        let err = locate(&Worker::at("/nowhere/w"), None, None).unwrap_err();
        assert_eq!(err, "code mode's worker `/nowhere/w` does not exist");
        let err = locate(&Worker::new(), Some("/nowhere/v".into()), None).unwrap_err();
        assert_eq!(
            err,
            "code mode's worker `/nowhere/v`, from TOOLRUNNER_WORKER, does not exist"
        );
    }
}
