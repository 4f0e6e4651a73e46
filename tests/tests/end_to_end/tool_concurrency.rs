//! `tool_concurrency` bounds the user's tools running at once whoever calls
//! them: the model directly, code in the API's container (programmatic
//! calling), or a program run by `run_code` (code mode), whose calls share
//! the bound without deadlocking on it.
//!
//! The tool here records the most calls in flight at once and holds each
//! call until the test lets it go, so no test depends on timing: the test
//! lets one go only when two are running (or when all have started).

use crate::support;

use support::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use toolrunner::code_mode::{CodeMode, Isolation, Worker};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{Decision, PendingCall, State, tool, toolset};

/// The bound every test sets.
const BOUND: usize = 2;

/// How many calls are running, the most that ran at once, and the gate
/// that holds them.
struct Gauge {
    running: AtomicUsize,
    most: AtomicUsize,
    started: mpsc::UnboundedSender<()>,
    /// One permit lets one call finish.
    gate: Semaphore,
}

impl Gauge {
    fn new() -> (Arc<Self>, mpsc::UnboundedReceiver<()>) {
        let (started, starts) = mpsc::unbounded_channel();
        let gauge = Gauge {
            running: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            started,
            gate: Semaphore::new(0),
        };
        (Arc::new(gauge), starts)
    }

    /// Lets the `total` calls go, one at a time, each once [`BOUND`] calls
    /// are running or all have started. Were the bound not kept, calls
    /// would start regardless and the most in flight would pass it.
    async fn release(&self, mut starts: mpsc::UnboundedReceiver<()>, total: usize) {
        let (mut started, mut released) = (0, 0);
        while released < total {
            if started - released < BOUND && started < total {
                starts.recv().await.expect("the gauge is alive");
                started += 1;
            } else {
                self.gate.add_permits(1);
                released += 1;
            }
        }
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// Hold a call until the test lets it go; returns `i`.
#[tool(allowed_callers = ["code"])]
async fn held(gauge: State<Gauge>, i: u32) -> u32 {
    let now = gauge.running.fetch_add(1, Ordering::SeqCst) + 1;
    gauge.most.fetch_max(now, Ordering::SeqCst);
    let _ = gauge.started.send(());
    // The gate is never closed.
    if let Ok(permit) = gauge.gate.acquire().await {
        permit.forget();
    }
    gauge.running.fetch_sub(1, Ordering::SeqCst);
    i
}

/// A run that deadlocks fails instead of hanging the suite; no test
/// measures time.
async fn or_deadlock<T>(run: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the run deadlocked")
}

// ---------------------------------------------------------------------------
// Code mode
// ---------------------------------------------------------------------------

/// A program calling `held` for each of `numbers` at once.
fn gather(numbers: std::ops::Range<u32>) -> String {
    format!(
        "import asyncio\nawait asyncio.gather(*(held(i=i) for i in range({}, {})))",
        numbers.start, numbers.end
    )
}

/// Two `run_code` calls in one turn, four calls each, under a bound of two:
/// were `run_code` to keep its slot, the two would hold both slots while
/// their eight calls wait for one.
async fn programs_share_the_bound(isolation: Isolation, hooked: bool) {
    let runs = [("toolu_a", gather(0..4)), ("toolu_b", gather(4..8))];
    let calls: Vec<Value> = runs
        .iter()
        .map(|(id, code)| tool_use(id, "run_code", json!({ "code": code })))
        .collect();
    let server = server(vec![
        message("msg_1", Value::Array(calls), "tool_use"),
        message("msg_2", json!([text("done")]), "end_turn"),
    ])
    .await;
    let (gauge, starts) = Gauge::new();
    let tools = CodeMode::new(toolset![held].with_shared_state(Arc::clone(&gauge)))
        .isolation(isolation)
        .build()
        .expect("code mode");
    let mut runner = client(&server)
        .tool_runner(params(), tools)
        .message_threads(false)
        .tool_concurrency(BOUND);
    if hooked {
        // With a hook, a program's calls go through the runner's hooks.
        runner = runner.before_tool_call(async |_: PendingCall| Decision::Allow);
    }
    let (last, ()) =
        or_deadlock(async { tokio::join!(runner.until_done(), gauge.release(starts, 8)) }).await;
    assert_eq!(last.expect("run").text(), "done");
    assert_eq!(
        gauge.most(),
        BOUND,
        "at most {BOUND} calls at once, and as many"
    );

    let answer = &server.requests()[1]["messages"][2];
    assert_eq!(
        *answer,
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_a", "content": "Last expression (JSON):\n[0, 1, 2, 3]"},
            {"type": "tool_result", "tool_use_id": "toolu_b", "content": "Last expression (JSON):\n[4, 5, 6, 7]"}
        ]})
    );
}

#[tokio::test]
async fn calls_from_programs_in_a_worker_share_the_runners_bound() {
    let worker = Worker::at(env!("CARGO_BIN_EXE_code-mode-worker"));
    programs_share_the_bound(Isolation::Worker(worker), false).await;
}

#[tokio::test]
async fn calls_from_programs_in_process_through_hooks_share_the_runners_bound() {
    programs_share_the_bound(Isolation::InProcess, true).await;
}

// ---------------------------------------------------------------------------
// Programmatic calling, from the API's container
// ---------------------------------------------------------------------------

const V: &str = "code_execution_20260120";

/// A turn in container `container_1` whose code calls `held` six times.
fn container_turn() -> Value {
    let mut content = vec![json!({"type": "server_tool_use", "id": "srvtoolu_1",
        "name": "code_execution", "input": {"code": "await asyncio.gather(...)"}})];
    content.extend((0..6).map(|i| {
        json!({"type": "tool_use", "id": format!("toolu_{i}"), "name": "held", "input": {"i": i},
            "caller": {"type": V, "tool_id": "srvtoolu_1"}})
    }));
    let mut turn = message("msg_1", Value::Array(content), "tool_use");
    turn["container"] = json!({"id": "container_1", "expires_at": "2026-11-21T12:00:00Z"});
    turn
}

/// The answer to [`container_turn`]: each call's number, in call order.
fn container_answer() -> Value {
    let results: Vec<Value> = (0..6)
        .map(|i| json!({"type": "tool_result", "tool_use_id": format!("toolu_{i}"), "content": i.to_string()}))
        .collect();
    json!({"role": "user", "content": results})
}

fn end() -> Value {
    json!([{"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_1", "content": {
        "type": "code_execution_result", "stdout": "15", "stderr": "", "return_code": 0, "content": []}},
        text("done")])
}

#[tokio::test]
async fn calls_from_the_container_share_the_runners_bound() {
    let server = server(vec![container_turn(), message("msg_2", end(), "end_turn")]).await;
    let (gauge, starts) = Gauge::new();
    let runner = client(&server)
        .tool_runner(
            params(),
            toolset![held].with_shared_state(Arc::clone(&gauge)),
        )
        .message_threads(false)
        .tool_concurrency(BOUND);
    let (last, ()) =
        or_deadlock(async { tokio::join!(runner.until_done(), gauge.release(starts, 6)) }).await;
    assert_eq!(last.expect("run").text(), "done");
    assert_eq!(gauge.most(), BOUND);
    assert_eq!(server.requests()[1]["messages"][2], container_answer());
}

/// Calls started while the turn streams are no turn's to bound: they take
/// slots of the run's bound as every call does. The turn is read to its end
/// before any call is let go, so every call has been started early: unbound,
/// all six would be running at once.
#[tokio::test]
async fn calls_from_the_container_started_early_share_the_runners_bound() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(container_turn()),
        Reply::stream_message(message("msg_2", end(), "end_turn")),
    ]))
    .await
    .expect("bind loopback");
    let (gauge, starts) = Gauge::new();
    let mut runner = client(&server)
        .tool_runner(
            params(),
            toolset![held].with_shared_state(Arc::clone(&gauge)),
        )
        .message_threads(false)
        .tool_concurrency(BOUND)
        .streaming()
        .early_tool_start(true);
    let first = runner.next_turn().await.expect("a turn").expect("turn");
    assert_eq!(first.message().await.expect("streamed").content.len(), 7);
    // The next turn comes once the calls are answered.
    let last = or_deadlock(async {
        let (next, ()) = tokio::join!(
            async {
                let turn = runner.next_turn().await.expect("a turn").expect("turn");
                turn.message().await.expect("streamed").text()
            },
            gauge.release(starts, 6)
        );
        next
    })
    .await;
    assert_eq!(last, "done");
    assert_eq!(gauge.most(), BOUND);
    assert_eq!(server.requests()[1]["messages"][2], container_answer());
}
