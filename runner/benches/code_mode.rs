//! Code mode, end to end on the host: a `run_code` call whose program makes
//! ten tool calls, against the same ten calls made directly (the difference
//! is the sandbox's overhead), and against the same program run by CPython
//! in a subprocess, the usual way to sandbox Python. Each `run_code` case
//! runs in a warm worker process (the default) and in process; `cold_start`
//! is a program in a new worker.
//!
//! ```sh
//! cargo bench -p toolrunner --features code-mode --bench code_mode
//! ```

use std::process::{Command, Stdio};
use std::sync::LazyLock;

use serde::Serialize;
use serde_json::json;
use toolrunner::code_mode::{CodeMode, Isolation, RUN_CODE, Worker};
use toolrunner::{ToolCall, Toolset, tool, toolset};

fn main() {
    if !python3_available() {
        println!("python3_subprocess: skipped, `python3` is not on the PATH");
    }
    divan::main();
}

#[derive(Serialize)]
struct Weather {
    city: String,
    celsius: i64,
    conditions: &'static str,
}

/// Get the weather in a city.
#[tool(inline, allowed_callers = ["code"])]
fn weather(city: String) -> Weather {
    Weather {
        celsius: city.len() as i64 * 3,
        city,
        conditions: "sunny",
    }
}

const CITIES: [&str; 10] = [
    "Paris", "Oslo", "Cairo", "Lima", "Tokyo", "Perth", "Quito", "Dakar", "Hanoi", "Reno",
];

/// Ten calls, one after another, and a little work on the results.
const SEQUENTIAL: &str = r#"
cities = ["Paris", "Oslo", "Cairo", "Lima", "Tokyo", "Perth", "Quito", "Dakar", "Hanoi", "Reno"]
temps = {}
for city in cities:
    w = await weather(city=city)
    temps[city] = w["celsius"]
warmest = max(temps, key=lambda c: temps[c])
print(f"warmest: {warmest}")
{"warmest": warmest, "mean": sum(temps.values()) / len(temps)}
"#;

/// The same ten calls, awaited together.
const GATHERED: &str = r#"
import asyncio
cities = ["Paris", "Oslo", "Cairo", "Lima", "Tokyo", "Perth", "Quito", "Dakar", "Hanoi", "Reno"]
results = await asyncio.gather(*(weather(city=c) for c in cities))
temps = {w["city"]: w["celsius"] for w in results}
warmest = max(temps, key=lambda c: temps[c])
print(f"warmest: {warmest}")
{"warmest": warmest, "mean": sum(temps.values()) / len(temps)}
"#;

/// The program for CPython, with `weather` defined in Python: a subprocess
/// cannot reach the host's tools without an IPC layer, which would only add
/// to its cost.
const CPYTHON: &str = r#"
import asyncio, json
async def weather(city):
    return json.loads(json.dumps({"city": city, "celsius": len(city) * 3, "conditions": "sunny"}))
async def main():
    cities = ["Paris", "Oslo", "Cairo", "Lima", "Tokyo", "Perth", "Quito", "Dakar", "Hanoi", "Reno"]
    results = await asyncio.gather(*(weather(city=c) for c in cities))
    temps = {w["city"]: w["celsius"] for w in results}
    warmest = max(temps, key=lambda c: temps[c])
    print(f"warmest: {warmest}")
    print(json.dumps({"warmest": warmest, "mean": sum(temps.values()) / len(temps)}))
asyncio.run(main())
"#;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
});

/// Where a case runs its programs.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Worker,
    InProcess,
}

const MODES: [Mode; 2] = [Mode::Worker, Mode::InProcess];

impl Mode {
    fn isolation(self) -> Isolation {
        match self {
            Mode::Worker => Isolation::Worker(Worker::at(env!("CARGO_BIN_EXE_toolrunner-worker"))),
            Mode::InProcess => Isolation::InProcess,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Worker => "worker",
            Mode::InProcess => "in_process",
        })
    }
}

fn code_mode(mode: Mode) -> Toolset {
    CodeMode::new(toolset![weather])
        .isolation(mode.isolation())
        .build()
        .expect("code mode")
}

fn run_code(tools: &Toolset, code: &str) -> String {
    let out = RUNTIME.block_on(tools.call(
        RUN_CODE,
        json!({ "code": code }),
        ToolCall::new("toolu_bench"),
    ));
    assert!(!out.is_error, "{out}");
    out.text_content()
}

/// The baseline: the ten calls made directly through the toolset.
#[divan::bench]
fn direct_10_calls(bencher: divan::Bencher<'_, '_>) {
    let tools = toolset![weather];
    bencher.bench(|| {
        RUNTIME.block_on(async {
            let mut total = 0;
            for city in CITIES {
                let out = tools
                    .call(
                        "weather",
                        json!({ "city": city }),
                        ToolCall::new("toolu_bench"),
                    )
                    .await;
                total += out.text_content().len();
            }
            total
        })
    });
}

/// A program that calls no tool: the fixed cost of a `run_code` call.
#[divan::bench(args = MODES)]
fn run_code_no_calls(bencher: divan::Bencher<'_, '_>, mode: Mode) {
    let tools = code_mode(mode);
    run_code(&tools, "1 + 1");
    bencher.bench(|| run_code(&tools, "1 + 1"));
}

/// Ten calls one after another, through `run_code`.
#[divan::bench(args = MODES)]
fn run_code_10_calls_sequential(bencher: divan::Bencher<'_, '_>, mode: Mode) {
    let tools = code_mode(mode);
    assert!(run_code(&tools, SEQUENTIAL).contains("\"warmest\": \"Paris\""));
    bencher.bench(|| run_code(&tools, SEQUENTIAL));
}

/// Ten calls awaited together, through `run_code`.
#[divan::bench(args = MODES)]
fn run_code_10_calls_gathered(bencher: divan::Bencher<'_, '_>, mode: Mode) {
    let tools = code_mode(mode);
    assert!(run_code(&tools, GATHERED).contains("\"warmest\": \"Paris\""));
    bencher.bench(|| run_code(&tools, GATHERED));
}

/// The ten sequential calls in a new worker: what the first program of a
/// toolset costs, before its pool is warm (process start included).
#[divan::bench(sample_count = 20)]
fn cold_start_10_calls_sequential(bencher: divan::Bencher<'_, '_>) {
    bencher
        .with_inputs(|| code_mode(Mode::Worker))
        .bench_local_values(|tools| run_code(&tools, SEQUENTIAL));
}

fn python3_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The same program (tools defined in Python) in a `python3` subprocess.
#[divan::bench(sample_count = 20)]
fn python3_subprocess(bencher: divan::Bencher<'_, '_>) {
    if !python3_available() {
        return;
    }
    bencher.bench(|| {
        let out = Command::new("python3")
            .args(["-I", "-c", CPYTHON])
            .output()
            .expect("python3 runs");
        assert!(out.status.success());
        out.stdout.len()
    });
}
