//! The Python with the official `anthropic` SDK that benches run beside
//! toolrunner: `TOOLRUNNER_BENCH_PYTHON`, else `target/bench-venv/bin/python`.

/// The Python to run, or why there is none to run.
pub fn sdk_python() -> Result<String, String> {
    let python = std::env::var("TOOLRUNNER_BENCH_PYTHON").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/bench-venv/bin/python"
        )
        .to_owned()
    });
    let has_sdk = std::process::Command::new(&python)
        .args(["-c", "import anthropic"])
        .output()
        .is_ok_and(|out| out.status.success());
    if has_sdk {
        Ok(python)
    } else {
        Err(format!(
            "no Python with `anthropic` at {python}; set TOOLRUNNER_BENCH_PYTHON"
        ))
    }
}
