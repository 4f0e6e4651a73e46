//! Kill tests' harness: start a child process, read what it says line by
//! line, SIGKILL it when it says a given line, or read its last word.
//! Used by the durable-run tests (`durable-child`) and the batch runner's
//! (`batch-child`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What a child said.
pub enum Ending {
    /// It stopped on cue and was killed with SIGKILL.
    Killed,
    /// It ran to the end: the JSON after its `done ` line.
    Done(serde_json::Value),
}

/// Runs `command` with its stdout read here; when it says `wait_for`,
/// kills it. A child that ends says `done <JSON>` last.
pub fn run(mut command: Command, wait_for: Option<&str>) -> Ending {
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = command.spawn().expect("start the child");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    for line in stdout.lines() {
        let line = line.expect("read the child's stdout");
        if Some(line.as_str()) == wait_for {
            child.kill().expect("SIGKILL the child");
            let status = child.wait().expect("reap the child");
            assert!(!status.success(), "the child was killed: {status}");
            return Ending::Killed;
        }
        if let Some(json) = line.strip_prefix("done ") {
            let status = child.wait().expect("reap the child");
            assert!(status.success(), "{status}");
            return Ending::Done(serde_json::from_str(json).expect("the child's last word"));
        }
    }
    let status = child.wait().expect("reap the child");
    panic!("the child ended without a word for the test: {status}");
}

/// A fresh directory under the system's temp directory.
///
/// Unique per call, not only per name: two tests running at once may both
/// want an uninterrupted run, and sharing a directory would have each child
/// resume the other's run.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "toolrunner-kill-{name}-{}-{unique}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn path(p: &Path) -> String {
    p.to_str().expect("a UTF-8 temp path").to_owned()
}

/// Each key of `log` with how many lines it has, sorted by key.
pub fn lines_per_key(log: &Path) -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for key in text.lines().filter_map(|l| l.split('\t').next()) {
        match counts.iter_mut().find(|(k, _)| k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key.to_owned(), 1)),
        }
    }
    counts.sort();
    counts
}

/// Runs blocking process work off the runtime's threads, so that the
/// scripted server goes on answering.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work)
        .await
        .expect("blocking task")
}
