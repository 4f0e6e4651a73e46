//! What the kill tests' children share (`durable-child`, `batch-child`):
//! the `append` tool with its logs, a file store that announces each save
//! and can stop after one, and the words they say to the test.
#![allow(dead_code)]

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use toolrunner::{FileStore, RunId, RunState, RunStore, State, StoreFuture, ToolCall, tool};

/// Where `append` logs, and the word whose call waits to be killed.
pub struct Logs {
    pub dir: PathBuf,
    pub pause_in: Option<String>,
}

/// Append a word to the log.
///
/// Writes `<idempotency key>\t<word>` to `effects.log` (its side effect,
/// done once per key) and to `attempts.log` (every time it runs). The call
/// appending `pause_in` says `in call <word>` after its side effect and
/// waits to be killed.
#[tool]
pub fn append(logs: State<Logs>, call: ToolCall, word: String) -> Result<String, String> {
    let key = call
        .idempotency_key()
        .ok_or("the run is kept, so calls have idempotency keys")?
        .to_owned();
    let line = format!("{key}\t{word}\n");
    write_line(&logs.dir.join("attempts.log"), &line)?;
    // The side effect, once per key: a call run again after a crash finds
    // its key and does nothing twice.
    let effects = logs.dir.join("effects.log");
    let done = std::fs::read_to_string(&effects).unwrap_or_default();
    if !done
        .lines()
        .any(|l| l.split('\t').next() == Some(key.as_str()))
    {
        write_line(&effects, &line)?;
    }
    if logs.pause_in.as_deref() == Some(word.as_str()) {
        say(&format!("in call {word}"));
        wait_to_be_killed();
    }
    Ok(format!("appended {word}"))
}

fn write_line(path: &PathBuf, line: &str) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    file.write_all(line.as_bytes()).map_err(|e| e.to_string())
}

/// A file store that says `checkpoint <n>` after each save, and stops
/// after save `pause_at`.
pub struct Announcing {
    inner: FileStore,
    saves: AtomicUsize,
    pause_at: Option<usize>,
}

impl Announcing {
    pub fn new(dir: &str, pause_at: Option<usize>) -> Self {
        Announcing {
            inner: FileStore::new(dir),
            saves: AtomicUsize::new(0),
            pause_at,
        }
    }
}

impl RunStore for Announcing {
    fn load<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, Option<RunState>> {
        self.inner.load(run)
    }

    fn save<'a>(&'a self, run: &'a RunId, state: &'a RunState) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inner.save(run, state).await?;
            let n = self.saves.fetch_add(1, Ordering::SeqCst) + 1;
            say(&format!("checkpoint {n}"));
            if self.pause_at == Some(n) {
                wait_to_be_killed();
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, ()> {
        self.inner.delete(run)
    }
}

/// Says `line` to the test, at once.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Blocks this thread until the test kills the process.
pub fn wait_to_be_killed() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// Ends the process if it is still running after two minutes: a child
/// that hangs fails its test rather than holding it up forever.
pub fn give_up_after_a_while(name: &'static str) {
    const LIFETIME: Duration = Duration::from_secs(120);
    std::thread::spawn(move || {
        std::thread::sleep(LIFETIME);
        eprintln!("{name}: still running after {LIFETIME:?}; giving up");
        std::process::exit(3);
    });
}

/// The number in environment variable `name`, if set.
pub fn number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}
