//! A Python venv with botocore and the official `anthropic` SDK, for checks
//! made by an independent implementation: installed from PyPI into the
//! target directory once, and reused by later runs (and CI's cache).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// What the venv holds: pinned, so that a run is the same run later.
const PACKAGES: [&str; 2] = ["anthropic[bedrock]==2.17.0", "botocore==1.44.18"];

/// The venv's Python, installing the venv on first use. `Err` says why
/// there is none: no `python3`. A failed install panics: with Python
/// present, the checks must run.
pub fn python() -> Result<PathBuf, String> {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    VENV.get_or_init(install).clone()
}

fn install() -> Result<PathBuf, String> {
    let found = Command::new("python3").arg("--version").output();
    if !found.is_ok_and(|out| out.status.success()) {
        return Err("python3 is not installed".into());
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("py-aws-check-1");
    let python = dir.join("bin").join("python");
    let marker = dir.join("installed");
    if marker.exists() {
        return Ok(python);
    }
    let run = |command: &mut Command, what: &str| {
        let out = command
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&dir),
        "python3 -m venv",
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PACKAGES),
        "pip install",
    );
    std::fs::write(&marker, PACKAGES.join("\n")).expect("write the venv marker");
    Ok(python)
}

/// Runs `aws_check.py <mode>` with `input` on stdin and returns its
/// output; panics with its stderr when it fails.
pub fn check(python: &PathBuf, mode: &str, input: &serde_json::Value) -> String {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/aws_check.py");
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
