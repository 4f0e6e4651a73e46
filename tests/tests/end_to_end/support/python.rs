//! A Python venv with the official `anthropic` SDK (its Bedrock and Vertex
//! extras) and botocore, for checks made by an independent implementation
//! and for comparisons with the SDK's platform clients: installed from PyPI
//! into the target directory once, and reused by later runs (and CI's
//! cache).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What the venv holds: pinned, so that a run is the same run later.
const PACKAGES: [&str; 2] = ["anthropic[bedrock,vertex]==2.17.0", "botocore==1.44.18"];

/// The venv's Python, installing the venv on first use. `Err` says why
/// there is none: no `python3`. A failed install panics: with Python
/// present, the checks must run.
pub fn python() -> Result<PathBuf, String> {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    VENV.get_or_init(|| {
        let check =
            "import anthropic, botocore, google.auth; assert anthropic.__version__ == '2.17.0'";
        match venv("sdk-checks-1", &PACKAGES, check) {
            Ok(Some(python)) => Ok(python),
            Ok(None) => Err("python3 is not installed".into()),
            Err(e) => panic!("{e}"),
        }
    })
    .clone()
}

/// Runs `aws_check.py <mode>` with `input` on stdin and returns its
/// output; panics with its stderr when it fails.
pub fn check(python: &PathBuf, mode: &str, input: &serde_json::Value) -> String {
    use std::io::Write;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/end_to_end/support/aws_check.py"
    );
    let mut child = Command::new(python)
        .arg(script)
        .arg(mode)
        // The SDK must see only what the test gives it.
        .env_remove("AWS_PROFILE")
        .env_remove("ANTHROPIC_CUSTOM_HEADERS")
        .env_remove("AWS_BEARER_TOKEN_BEDROCK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the venv's python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write the job");
    let out = child.wait_with_output().expect("wait for python");
    assert!(
        out.status.success(),
        "aws_check.py {mode} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The Python interpreter of a virtual environment named `name` with
/// `requirements` installed (once); `Ok(None)` when Python 3 itself is
/// missing, the one reason a comparison may be skipped. `Err` says what
/// else failed, and fails the test: a broken install must not pass as a skip.
///
/// `check` is Python code that must run once the install is complete (an
/// import, say). Blocking: call it from `spawn_blocking` in async tests.
pub fn venv(name: &str, requirements: &[&str], check: &str) -> Result<Option<PathBuf>, String> {
    let found = Command::new("python3").arg("--version").output();
    if !found.is_ok_and(|out| out.status.success()) {
        return Ok(None);
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("py-{name}"));
    let python = dir.join("bin").join("python");
    // One installer at a time, across test binaries: the others wait for
    // its lock to go. A lock older than the longest install is left over
    // from a killed run.
    let lock = dir.with_extension("lock");
    let started = Instant::now();
    loop {
        if runs(&python, check) {
            return Ok(Some(python));
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let stale = std::fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > INSTALL_LIMIT));
                if stale {
                    let _ = std::fs::remove_file(&lock);
                } else if started.elapsed() > INSTALL_LIMIT {
                    return Err(format!("{} was held for too long", lock.display()));
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => return Err(format!("creating {}: {e}", lock.display())),
        }
    }
    let installed = install(&dir, requirements);
    let _ = std::fs::remove_file(&lock);
    installed?;
    if runs(&python, check) {
        Ok(Some(python))
    } else {
        Err(format!(
            "{check:?} fails after installing {}",
            requirements.join(" ")
        ))
    }
}

/// How long an install may take.
const INSTALL_LIMIT: Duration = Duration::from_secs(600);

/// A fresh virtual environment in `dir` with `requirements`.
fn install(dir: &Path, requirements: &[&str]) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(dir)
        .output()
        .map_err(|e| format!("running `python3 -m venv`: {e}"))?;
    if !made.status.success() {
        return Err(format!(
            "`python3 -m venv` failed: {}",
            String::from_utf8_lossy(&made.stderr).trim()
        ));
    }
    let installed = Command::new(dir.join("bin").join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(requirements)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running pip: {e}"))?;
    if installed.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`pip install {}` failed: {}",
            requirements.join(" "),
            String::from_utf8_lossy(&installed.stderr).trim()
        ))
    }
}

fn runs(python: &Path, check: &str) -> bool {
    Command::new(python)
        .args(["-c", check])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs `program` with `python`, `input` on its standard input and only
/// `env` (and `PATH`) in its environment, so that no variable of the test's
/// own reaches the SDK; fails with its output when it fails.
pub fn run(python: &Path, program: &str, input: &str, env: &[(&str, &str)]) {
    use std::io::Write;
    let mut command = Command::new(python);
    command
        .args(["-c", program])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write the program's input");
    let out = child.wait_with_output().expect("python ran");
    assert!(
        out.status.success(),
        "the Python side failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Headers that tell two clients apart without being part of what a
/// platform receives: the SDK's identity (`user-agent`, `x-stainless-*`:
/// language, OS, runtime, retry count, timeout), the HTTP library's own
/// (`accept`, `accept-encoding`, `connection`). Credentials are compared
/// by the caller.
pub fn is_volatile(name: &str) -> bool {
    matches!(
        name,
        "user-agent" | "accept" | "accept-encoding" | "connection"
    ) || name.starts_with("x-stainless-")
}

/// [`python`] from an async test: the interpreter, or `None` after
/// printing why the comparison is skipped (Python 3 is missing); a failed
/// install fails the test.
pub async fn sdk() -> Option<PathBuf> {
    let found = tokio::task::spawn_blocking(python)
        .await
        .expect("the install ran");
    match found {
        Ok(python) => Some(python),
        Err(reason) => {
            super::skip(format_args!(
                "{reason}, so the Python SDK cannot be compared"
            ));
            None
        }
    }
}

/// The headers of `recorded` that are the same from any client: all but
/// the [volatile](is_volatile) ones and those in `skip`.
pub fn comparable_headers(
    recorded: &toolrunner::testing::Recorded,
    skip: &[&str],
) -> std::collections::BTreeMap<String, String> {
    recorded
        .headers
        .iter()
        .filter(|(name, _)| !is_volatile(name) && !skip.contains(&name.as_str()))
        .cloned()
        .collect()
}
