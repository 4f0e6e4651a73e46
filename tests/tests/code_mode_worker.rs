//! Code mode's worker process: a program that runs out of memory, crashes
//! the interpreter, is killed or hangs ends with an error result while the
//! host and the run go on, and no worker outlives its use.
//!
//! The tests count this process's children, so they run one at a time.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;
use toolrunner::code_mode::{CodeMode, Isolation, Limits, RUN_CODE, Worker};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{Client, MessageParams, ToolCall, ToolOutput, Toolset, tool, toolset};

/// Held by every test: they count the same children.
static SERIAL: Mutex<()> = Mutex::const_new(());

const WORKER: &str = env!("CARGO_BIN_EXE_code-mode-worker");

/// Set in the child that runs the runaway programs under an address-space cap.
const UNDER_CAP: &str = "CODE_MODE_TEST_UNDER_AS_CAP";

/// Set in the child that dies in the middle of a program.
const DYING_HOST: &str = "CODE_MODE_TEST_DYING_HOST";

const RUNAWAY: &str = "x = []\nwhile True:\n    x.append('a' * 1000000)";
const RUNAWAY_NESTED: &str = "x = []\nwhile True:\n    x = [x, [0] * 100000]";

/// Add two integers.
#[tool(allowed_callers = ["code"])]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn code_mode(limits: Limits) -> Toolset {
    CodeMode::new(toolset![add])
        .limits(limits)
        .isolation(Isolation::Worker(Worker::at(WORKER)))
        .build()
        .expect("code mode")
}

async fn run(tools: &Toolset, code: &str) -> ToolOutput {
    tools
        .call(
            RUN_CODE,
            json!({ "code": code }),
            ToolCall::new("toolu_run"),
        )
        .await
}

/// Asserts that `tools` still runs programs.
async fn still_works(tools: &Toolset) {
    let out = run(tools, "await add(a=40, b=2)").await;
    assert!(!out.is_error, "{out}");
    assert_eq!(out.text_content(), "Last expression (JSON):\n42");
}

/// This process's children (zombies too): pid, state and name.
fn children() -> Vec<(u32, char, String)> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (name) state ppid ...`; the name may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let mut rest = stat[close + 1..].split_whitespace();
        let (Some(state), Some(ppid)) = (rest.next(), rest.next()) else {
            continue;
        };
        if ppid == me {
            let pid = stat[..open].trim().parse().unwrap();
            let state = state.chars().next().unwrap();
            found.push((pid, state, stat[open + 1..close].to_owned()));
        }
    }
    found
}

/// The pids of this process's worker children, zombies included.
fn workers() -> Vec<u32> {
    children()
        .into_iter()
        .filter(|(_, _, name)| name.starts_with("code-mode-work"))
        .map(|(pid, _, _)| pid)
        .collect()
}

/// Waits (generously) until `done`, and asserts it came.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still not so after 10 s: {what}; children: {:?}",
            children()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// This process's resident memory, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn runaway_programs_are_stopped_by_the_memory_limit() {
    let _serial = SERIAL.lock().await;
    if std::env::var_os(UNDER_CAP).is_some() {
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max address space"))
            .unwrap();
        assert!(line.contains("4294967296"), "{line}");
        println!("under the cap: {line}");
    }
    let tools = code_mode(Limits::default());
    let rss_before = rss();
    for program in [RUNAWAY, RUNAWAY_NESTED] {
        let started = Instant::now();
        let out = run(&tools, program).await;
        assert!(out.is_error);
        assert_eq!(
            out.text_content(),
            "Error: MemoryError: the program used more than 256 MiB"
        );
        // The message says the memory limit stopped it, not the time
        // limit; so it ended before the time limit, however loaded the
        // machine (a stricter bound here only measured the machine).
        assert!(
            started.elapsed() < Limits::default().timeout,
            "took {:?}",
            started.elapsed()
        );
        // The host did not grow with the program.
        let grown = rss().saturating_sub(rss_before);
        assert!(grown < 64 << 20, "the host grew by {grown} bytes");
        still_works(&tools).await;
    }
    drop(tools);
    eventually("the workers are gone", || workers().is_empty()).await;
}

#[tokio::test]
async fn runaway_programs_under_a_4_gib_address_space_cap() {
    if std::env::var_os(UNDER_CAP).is_some() {
        return;
    }
    let _serial = SERIAL.lock().await;
    let exe: PathBuf = std::env::current_exe().unwrap();
    // The test above, in a child of this test binary whose address space
    // is capped at 4 GiB, as in an ordinary container.
    let out = tokio::process::Command::new("sh")
        .args(["-c", "ulimit -v 4194304 && exec \"$0\" \"$@\""])
        .arg(&exe)
        .args([
            "runaway_programs_are_stopped_by_the_memory_limit",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(UNDER_CAP, "1")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("under the cap"), "{stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[tokio::test]
async fn an_interpreter_crash_ends_only_its_program() {
    let _serial = SERIAL.lock().await;
    let tools = code_mode(Limits::default());
    // The test worker aborts on this allocation (see its source).
    let out = run(&tools, "print('before')\n'x' * 123456789").await;
    assert!(out.is_error);
    assert_eq!(
        out.text_content(),
        "Error: the program was stopped: the interpreter crashed (its worker process was killed by signal 6, SIGABRT)"
    );
    still_works(&tools).await;
    drop(tools);
    eventually("the workers are gone", || workers().is_empty()).await;
}

#[tokio::test]
async fn a_worker_killed_mid_program_ends_only_its_program() {
    let _serial = SERIAL.lock().await;
    let tools = code_mode(Limits::default());
    still_works(&tools).await;
    let [pid] = workers()[..] else {
        panic!("one warm worker expected: {:?}", children())
    };
    let running = run(&tools, "while True:\n    pass");
    let kill = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        signal(pid, "-9");
    };
    let (out, ()) = tokio::join!(running, kill);
    assert!(out.is_error);
    assert_eq!(
        out.text_content(),
        "Error: the program was stopped: the interpreter crashed (its worker process was killed by signal 9, SIGKILL)"
    );
    // Reaped, not a zombie; and the next program gets a new worker.
    assert!(!workers().contains(&pid), "{:?}", children());
    still_works(&tools).await;
    drop(tools);
    eventually("the workers are gone", || workers().is_empty()).await;
}

#[tokio::test]
async fn a_hung_worker_is_killed_past_the_time_limit() {
    let _serial = SERIAL.lock().await;
    let tools = code_mode(Limits::default().timeout(Duration::from_secs(1)));
    still_works(&tools).await;
    let [pid] = workers()[..] else {
        panic!("one warm worker expected: {:?}", children())
    };
    let started = Instant::now();
    let running = run(&tools, "while True:\n    pass");
    // Stopped, the worker cannot stop the program itself: the host kills it.
    let stop = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        signal(pid, "-STOP");
    };
    let (out, ()) = tokio::join!(running, stop);
    assert!(out.is_error);
    assert_eq!(
        out.text_content(),
        "Error: the program was stopped: it ran longer than the time limit of 1s"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    eventually("the hung worker is gone", || !workers().contains(&pid)).await;
    still_works(&tools).await;
    drop(tools);
    eventually("the workers are gone", || workers().is_empty()).await;
}

#[tokio::test]
async fn a_worker_is_bounded_and_bare() {
    let _serial = SERIAL.lock().await;
    let tools = code_mode(Limits::default().max_memory(64 << 20));
    still_works(&tools).await;
    let [pid] = workers()[..] else {
        panic!("one warm worker expected: {:?}", children())
    };
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let limits = std::fs::read_to_string(proc.join("limits")).unwrap();
    let limit = |name: &str| {
        let line = limits.lines().find(|l| l.starts_with(name)).unwrap();
        line[name.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    // Twice the memory limit and 1 GiB of address space; no files, no core.
    assert_eq!(
        limit("Max address space"),
        ((128u64 << 20) + (1 << 30)).to_string()
    );
    assert_eq!(
        limit("Max data size"),
        ((128u64 << 20) + (1 << 30)).to_string()
    );
    assert_eq!(limit("Max file size"), "0");
    assert_eq!(limit("Max core file size"), "0");
    assert_eq!(limit("Max open files"), "16");
    // Nothing of the host's environment or working directory; a group of
    // its own.
    assert_eq!(std::fs::read(proc.join("environ")).unwrap(), b"");
    assert_eq!(
        std::fs::read_link(proc.join("cwd")).unwrap(),
        PathBuf::from("/")
    );
    let stat = std::fs::read_to_string(proc.join("stat")).unwrap();
    let pgrp = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(2)
        .unwrap();
    assert_eq!(pgrp, pid.to_string());
    drop(tools);
    eventually("the workers are gone", || workers().is_empty()).await;
}

#[tokio::test]
async fn a_worker_without_monty_allocator_refuses_to_run_programs() {
    let _serial = SERIAL.lock().await;
    let path = env!("CARGO_BIN_EXE_code-mode-worker-unbounded");
    let tools = CodeMode::new(toolset![add])
        .isolation(Isolation::Worker(Worker::at(path)))
        .build()
        .unwrap();
    let out = run(&tools, "1").await;
    assert!(out.is_error);
    assert_eq!(
        out.text_content(),
        format!(
            "code mode's worker `{path}` cannot run programs: this worker's global allocator is not monty's, \
             so it cannot bound a program's memory: build it with `toolrunner::code_mode_worker!()`, \
             or make `toolrunner::code_mode::WorkerAllocator` its global allocator"
        )
    );
    drop(tools);
    eventually("the workers are gone", || children().is_empty()).await;
}

#[tokio::test]
async fn a_binary_that_is_not_a_worker_is_named() {
    let _serial = SERIAL.lock().await;
    let tools = CodeMode::new(toolset![add])
        .isolation(Isolation::Worker(Worker::at("/bin/true")))
        .build()
        .unwrap();
    let out = run(&tools, "1").await;
    assert!(out.is_error);
    assert_eq!(
        out.text_content(),
        "code mode's worker `/bin/true` ended before it was ready (exit status: 0): \
         is it a code-mode worker of this version?"
    );
    drop(tools);
    eventually("the processes are gone", || children().is_empty()).await;
}

/// In a child of this test binary: starts an endless program, prints its
/// worker's pid, and dies.
#[tokio::test]
async fn a_host_that_dies_mid_program() {
    if std::env::var_os(DYING_HOST).is_none() {
        return;
    }
    let tools = code_mode(Limits::default());
    let running = run(&tools, "while True:\n    pass");
    let die = async {
        eventually("the worker runs", || workers().len() == 1).await;
        println!("worker pid: {}", workers()[0]);
        std::process::abort();
    };
    tokio::join!(running, die);
}

#[tokio::test]
async fn a_worker_does_not_outlive_its_host() {
    if std::env::var_os(DYING_HOST).is_some() {
        return;
    }
    let _serial = SERIAL.lock().await;
    let out = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["a_host_that_dies_mid_program", "--exact", "--nocapture"])
        .env(DYING_HOST, "1")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let pid: u32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("worker pid: "))
        .unwrap_or_else(|| panic!("no worker pid in {stdout}"))
        .parse()
        .unwrap();
    // Its stdin closed with its host: it exits at once, not at the end of
    // the program's 30 s.
    let stat = format!("/proc/{pid}/stat");
    eventually("the orphaned worker exits", || {
        std::fs::read_to_string(&stat).map_or(true, |s| !s.contains("(code-mode-work"))
    })
    .await;
}

fn message(id: &str, content: Value, stop_reason: &str) -> Value {
    json!({
        "id": id, "type": "message", "role": "assistant", "model": "claude-test",
        "content": content, "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 5}
    })
}

#[tokio::test]
async fn dropping_the_runner_mid_program_leaves_no_process() {
    let _serial = SERIAL.lock().await;
    eventually("no worker from earlier tests", || workers().is_empty()).await;
    let baseline = children().len();
    let call = json!({"type": "tool_use", "id": "toolu_1", "name": "run_code",
                      "input": {"code": "while True:\n    pass"}});
    let server = ScriptedServer::start(Sequence::new([Reply::message(message(
        "msg_1",
        json!([call]),
        "tool_use",
    ))]))
    .await
    .unwrap();
    let client = Client::builder()
        .api_key("test-key")
        .base_url(server.url())
        .max_retries(0)
        .build()
        .unwrap();
    let tools = code_mode(Limits::default());
    let params = MessageParams::new("claude-test", 256).user("Loop.");
    let runner = client.tool_runner(params, tools.clone()).until_done();
    let running = tokio::time::timeout(Duration::from_millis(500), runner).await;
    assert!(running.is_err(), "the program cannot have ended");
    // The runner and its program are dropped: the worker is killed and reaped.
    eventually("the worker is gone", || workers().is_empty()).await;
    // Warm workers end with their toolset.
    still_works(&tools).await;
    assert_eq!(workers().len(), 1);
    drop(tools);
    eventually("back to the children before the test", || {
        children().len() == baseline
    })
    .await;
}

#[tokio::test]
async fn persistent_state_lives_in_its_worker() {
    let _serial = SERIAL.lock().await;
    let tools = CodeMode::new(toolset![add])
        .persistent_state()
        .isolation(Isolation::Worker(Worker::at(WORKER)))
        .build()
        .unwrap();
    assert!(!run(&tools, "total = await add(a=1, b=2)").await.is_error);
    // Going over the memory limit stops the program, not the session.
    let out = run(
        &tools,
        "def grow():\n    x = []\n    while True:\n        x.append('a' * 1000000)\ngrow()",
    )
    .await;
    assert_eq!(
        out.text_content(),
        "Error: MemoryError: the program used more than 256 MiB"
    );
    assert_eq!(
        run(&tools, "total").await.text_content(),
        "Last expression (JSON):\n3"
    );
    // A session whose worker dies loses its variables, and says so.
    let [pid] = workers()[..] else {
        panic!("one session worker expected: {:?}", children())
    };
    signal(pid, "-9");
    eventually("the worker is dead", || {
        children()
            .iter()
            .all(|(p, state, _)| *p != pid || *state == 'Z')
    })
    .await;
    let out = run(&tools, "total").await;
    assert_eq!(
        out.text_content(),
        "Error: the program was stopped: the interpreter crashed (its worker process was killed by signal 9, SIGKILL)\n\
         (The variables of earlier programs were lost with it: the next program starts afresh.)"
    );
    let out = run(&tools, "total").await;
    assert!(
        out.text_content()
            .ends_with("NameError: name 'total' is not defined"),
        "{out}"
    );
    drop(tools);
    eventually("the workers are gone", || workers().is_empty()).await;
}
