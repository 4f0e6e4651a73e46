//! npm packages for tests that talk to other MCP implementations: installed
//! from the registry into the target directory on first use, and reused by
//! later runs.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Installs `package@version` (once) and returns the directory it was
/// installed into, whose `node_modules` scripts placed there can import.
/// `Err` says why it is not available: no Node.js, no npm, no registry.
///
/// `check` is a file inside the installed package that shows the install
/// finished. Blocking: call it from `spawn_blocking`.
pub fn install(package: &str, version: &str, check: &str) -> Result<PathBuf, String> {
    let name: String = package
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("npm-{}-{version}", name.trim_matches('-')));
    let marker = dir.join("node_modules").join(package).join(check);
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|out| out.status.success()) {
        return Err("Node.js (`node`) is not installed".into());
    }
    // Tests of one binary run on several threads; two `npm install`s into
    // one prefix race on its package.json (EJSONPARSE), so one installs
    // while the others wait and then find it installed.
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if marker.exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let spec = format!("{package}@{version}");
    let mut install = Command::new("npm")
        .args(["install", "--prefix"])
        .arg(&dir)
        .arg(&spec)
        .args(["--no-audit", "--no-fund", "--loglevel=error"])
        // Some packages report installs from a postinstall script; not from tests.
        .env("SCARF_ANALYTICS", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `npm`: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        match install.try_wait() {
            Ok(Some(status)) if status.success() && marker.exists() => return Ok(dir),
            Ok(Some(status)) => {
                let mut stderr = String::new();
                if let Some(mut pipe) = install.stderr.take() {
                    use std::io::Read;
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return Err(format!(
                    "`npm install {spec}` failed ({status}): {}",
                    stderr.trim()
                ));
            }
            Ok(None) if Instant::now() > deadline => {
                let _ = install.kill();
                let _ = install.wait();
                return Err(format!("`npm install {spec}` took more than 5 minutes"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(format!("waiting for `npm install`: {e}")),
        }
    }
}
