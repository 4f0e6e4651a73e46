//! Message threads at length and at scale, against a scripted server on
//! loopback (which keeps threads as the API does). Prints figures rather
//! than timing one function:
//!
//! - `long run`: one run of 1,000 tool-calling turns, threaded and not: the
//!   request body of turn 10 and of turn 1,000, and the median time per turn
//!   over turns 1–50 and 950–1,000. Threaded, both should stay flat.
//! - `fleet`: N runs of M turns at once on a multi-threaded runtime:
//!   turns per second, and the heap each run holds at its end.
//! - `side by side`: when `TOOLRUNNER_BENCH_PYTHON` names a Python with the
//!   official `anthropic` SDK (or `target/bench-venv/bin/python` has one), the
//!   same server answers `benches/sdk_runner.py` too: the overhead per turn
//!   above the server's floor at 200 turns, and a fleet of 100 runs × 100
//!   turns, for both.
//! - `once`: one fleet of 20 runs × 50 turns on a single-threaded runtime,
//!   and nothing else: a fixed workload to count instructions of, which on
//!   a shared machine is steadier evidence than a clock:
//!
//! ```sh
//! cargo bench -p toolrunner --features testing --bench threads
//! cargo bench -p toolrunner --features testing --bench threads --no-run
//! valgrind --tool=callgrind target/release/deps/threads-<hash> once
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer};
use toolrunner::{Client, MessageParams, tool, toolset};

#[path = "support/python.rs"]
mod support;

/// Counts the bytes the heap holds, for memory per run: only while
/// `COUNTING` is set, since one counter shared by every thread is itself a
/// cost (its cache line moves between cores on each allocation) that would
/// be charged to the runner's throughput.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter is only arithmetic beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: the caller's layout is passed on as given.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Add two integers.
#[tool(inline)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// The scripted model: a tool call per turn until `turns`, then an answer.
/// It counts turns in the conversation as the server holds it, so it
/// answers threaded and unthreaded runs alike.
fn script(turns: usize) -> impl FnMut(&Value) -> Reply + Send + 'static {
    // Replies are copied from two templates and patched: the server stands
    // in for the API, and its cost should weigh as little as can be on the
    // runner's side of the same machine.
    let call = json!({
        "id": "", "type": "message", "role": "assistant", "model": "bench",
        "content": [
            {"type": "text", "text": "Adding the next number to the running total."},
            {"type": "tool_use", "id": "", "name": "add", "input": {"a": 0, "b": 1}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 100, "output_tokens": 10}
    });
    let answer = json!({
        "id": "", "type": "message", "role": "assistant", "model": "bench",
        "content": [{"type": "text", "text": "Done."}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 100, "output_tokens": 10}
    });
    move |request: &Value| {
        let done = request["messages"].as_array().map_or(0, |m| m.len() / 2);
        let mut reply = if done + 1 >= turns {
            answer.clone()
        } else {
            let mut reply = call.clone();
            let tool_use = &mut reply["content"][1];
            tool_use["id"] = Value::String(format!("toolu_{done}"));
            tool_use["input"]["a"] = Value::from(done);
            reply
        };
        // Ids unique across runs, as the API's are: threads are keyed by them.
        reply["id"] = Value::String(format!("msg_{:016x}", ID.fetch_add(1, Ordering::Relaxed)));
        Reply::message(reply)
    }
}

static ID: AtomicUsize = AtomicUsize::new(0);

fn client(server: &ScriptedServer) -> Client {
    Client::builder()
        .api_key("bench")
        .base_url(server.url())
        .build()
        .expect("client")
}

fn params() -> MessageParams {
    MessageParams::new("bench", 256)
        .system("You count.")
        .user("Count up.")
}

fn main() {
    // `cargo bench --bench threads -- fleet` runs one part only (`long`,
    // `fleet`, `sdk` or `once`); other arguments (cargo passes `--bench`)
    // are ignored.
    let parts: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| ["long", "fleet", "sdk", "once"].contains(&a.as_str()))
        .collect();
    if parts.iter().any(|p| p == "once") {
        // One thread, so that the count does not depend on how a
        // multi-threaded scheduler happened to steal work.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (rate, _) = rt.block_on(fleet_once(20, 50, true, false));
        println!("once: 20 runs x 50 turns, threads on: {rate:.0} turns/s");
        return;
    }
    let wanted = |part: &str| parts.is_empty() || parts.iter().any(|p| p == part);
    if wanted("long") {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        println!("long run: 1,000 turns, one runner");
        for threads in [true, false] {
            rt.block_on(long_run(1000, threads));
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if wanted("fleet") {
        println!("\nfleet: concurrent runs");
        for (runs, turns) in [(100, 100), (1000, 10)] {
            rt.block_on(fleet(runs, turns, true));
        }
        rt.block_on(fleet(100, 100, false));
    }
    if wanted("sdk") {
        side_by_side(&rt);
    }
}

async fn long_run(turns: usize, threads: bool) {
    let server = ScriptedServer::start(script(turns)).await.expect("server");
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .max_iterations(turns)
        .message_threads(threads);
    let mut times = Vec::with_capacity(turns);
    let mut started = Instant::now();
    while let Some(message) = runner.next().await {
        message.expect("reply");
        times.push(started.elapsed());
        started = Instant::now();
    }
    assert_eq!(runner.iterations(), turns);
    let bodies: Vec<usize> = server.recorded().iter().map(|r| r.body.len()).collect();
    // The median: on a shared machine a mean is one preempted turn away
    // from noise.
    let median = |range: std::ops::Range<usize>| -> Duration {
        let mut window = times[range].to_vec();
        window.sort();
        window[window.len() / 2]
    };
    let (early, late) = (median(0..50), median(turns - 50..turns));
    println!(
        "  threads {:>5}: body of turn 10 {:>6} B, of turn {turns} {:>7} B ({:.1}x); median per turn: turns 1-50 {:>7.1} µs, {}-{turns} {:>7.1} µs ({:.2}x)",
        if threads { "on" } else { "off" },
        bodies[9],
        bodies[turns - 1],
        bodies[turns - 1] as f64 / bodies[9] as f64,
        early.as_secs_f64() * 1e6,
        turns - 50,
        late.as_secs_f64() * 1e6,
        late.as_secs_f64() / early.as_secs_f64(),
    );
}

/// Runs the fleet, prints its figures and returns its turns per second:
/// the median of three timed runs, then one more that counts the heap.
async fn fleet(runs: usize, turns: usize, threads: bool) -> f64 {
    let mut rates = Vec::with_capacity(3);
    for _ in 0..3 {
        let (rate, _) = fleet_once(runs, turns, threads, false).await;
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let rate = rates[1];
    let (_, held) = fleet_once(runs, turns, threads, true).await;
    println!(
        "  {runs:>4} runs x {turns:>3} turns, threads {:>3}: {:>8.0} turns/s (median of {:.0}, {:.0}, {:.0}), {:>7.1} KiB per finished run",
        if threads { "on" } else { "off" },
        rate,
        rates[0],
        rates[1],
        rates[2],
        held as f64 / runs as f64 / 1024.0,
    );
    rate
}

/// One fleet: its turns per second, and (when `count`) the heap bytes the
/// finished runs held.
async fn fleet_once(runs: usize, turns: usize, threads: bool, count: bool) -> (f64, usize) {
    let server = ScriptedServer::start(script(turns)).await.expect("server");
    let client = client(&server);
    COUNTING.store(count, Ordering::Relaxed);
    let started = Instant::now();
    // Each run ends holding its whole conversation: what dropping the runs
    // gives back, over the runs, is what a run costs to keep.
    let finished: Vec<_> = futures_util::stream::iter(0..runs)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut runner = client
                    .tool_runner(params(), toolset![add])
                    .max_iterations(turns)
                    .message_threads(threads);
                while let Some(message) = runner.next().await {
                    message.expect("reply");
                }
                runner
            })
        })
        .buffer_unordered(runs)
        .map(|joined| joined.expect("run"))
        .collect()
        .await;
    let elapsed = started.elapsed();
    let total: usize = finished.iter().map(|r| r.iterations()).sum();
    assert_eq!(total, runs * turns);
    let live = LIVE.load(Ordering::Relaxed);
    drop(finished);
    // Wrapping: frees of blocks allocated before counting began may have
    // taken the counter below zero; the difference is right all the same.
    let held = live.wrapping_sub(LIVE.load(Ordering::Relaxed));
    COUNTING.store(false, Ordering::Relaxed);
    (total as f64 / elapsed.as_secs_f64(), held)
}

/// The official Python SDK against the same kind of server, if available.
fn side_by_side(rt: &tokio::runtime::Runtime) {
    let python = match support::sdk_python() {
        Ok(python) => python,
        Err(why) => {
            println!("\nside by side: skipped ({why})");
            return;
        }
    };
    let sdk_script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/sdk_runner.py");
    println!("\nside by side with the official Python SDK ({python})");
    rt.block_on(async {
        // Three rounds, taken in turns like the fleets below. The server's
        // floor (a bare client sending one tiny request per turn) is the
        // fastest of its three, so that a slow spell cannot raise it above
        // a runner's time; each runner's time is its median.
        let (mut floors, mut ours, mut sdks) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..3 {
            floors.push(floor_per_turn(200).await);
            ours.push(long_run_time(200).await);
            let server = ScriptedServer::start(script(200)).await.expect("server");
            sdks.push(run_sdk(&python, sdk_script, &server.url(), 1, 200));
        }
        for times in [&mut floors, &mut ours, &mut sdks] {
            times.sort_by(f64::total_cmp);
        }
        let (floor, ours, sdk) = (floors[0], ours[1], sdks[1]);
        println!(
            "  200 turns, per turn: server floor {:.1} µs; toolrunner {:.1} µs (+{:.1}); SDK {:.1} µs (+{:.1}); overhead ratio {:.0}x",
            floor * 1e6,
            ours * 1e6,
            (ours - floor) * 1e6,
            sdk * 1e6,
            (sdk - floor) * 1e6,
            (sdk - floor) / (ours - floor).max(1e-9),
        );
        // The fleets take turns, three each, so that a slow spell of a
        // shared machine falls on both sides; each side's median counts.
        let (mut ours, mut sdk) = (Vec::with_capacity(3), Vec::with_capacity(3));
        for _ in 0..3 {
            ours.push(fleet_once(100, 100, true, false).await.0);
            let server = ScriptedServer::start(script(100)).await.expect("server");
            sdk.push(1.0 / run_sdk(&python, sdk_script, &server.url(), 100, 100));
        }
        ours.sort_by(f64::total_cmp);
        sdk.sort_by(f64::total_cmp);
        println!(
            "  fleet 100 x 100, turns/s (median of three, taken in turns): toolrunner {:.0} ({:.0}-{:.0}), SDK {:.0} ({:.0}-{:.0}): {:.0}x",
            ours[1], ours[0], ours[2], sdk[1], sdk[0], sdk[2],
            ours[1] / sdk[1]
        );
    });
}

/// Seconds per turn of a whole 200-turn run of this runner.
async fn long_run_time(turns: usize) -> f64 {
    let server = ScriptedServer::start(script(turns)).await.expect("server");
    let started = Instant::now();
    client(&server)
        .tool_runner(params(), toolset![add])
        .max_iterations(turns)
        .until_done()
        .await
        .expect("run");
    started.elapsed().as_secs_f64() / turns as f64
}

/// Seconds per request of a bare client posting the smallest threaded body.
async fn floor_per_turn(turns: usize) -> f64 {
    let server = ScriptedServer::start(script(turns)).await.expect("server");
    let url = format!("{}/v1/messages", server.url());
    let http = reqwest::Client::new();
    let started = Instant::now();
    for _ in 0..turns {
        let body = json!({"model": "bench", "max_tokens": 256, "messages": [{"role": "user", "content": "Count up."}]});
        let response = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("send");
        response.bytes().await.expect("body");
    }
    started.elapsed().as_secs_f64() / turns as f64
}

/// Runs the SDK script and returns its seconds per turn.
fn run_sdk(python: &str, script: &str, url: &str, runs: usize, turns: usize) -> f64 {
    let out = std::process::Command::new(python)
        .args([script, url, &runs.to_string(), &turns.to_string()])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "the SDK script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let seconds: f64 = text.trim().parse().expect("seconds from the SDK script");
    seconds / (runs * turns) as f64
}
