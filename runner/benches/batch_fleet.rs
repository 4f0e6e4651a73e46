//! A fleet of 1,000 runs driven through the Message Batches API, against
//! the scripted batch server on loopback. Each run makes two tool-calling
//! turns and answers: three rounds of one batch each. Prints figures
//! rather than timing one function, for each of two fleets: runs kept in
//! memory only, and runs kept in a [`FileStore`] (every result, call and
//! end saved to disk, as a durable fleet does):
//!
//! - the rounds, and the wall time of the whole fleet;
//! - the heap's peak during the fleet (the scripted server's included: it
//!   holds every batch's requests and results), and the process's peak
//!   resident memory (`VmHWM`, Linux only; over the whole process).
//!
//! ```sh
//! cargo bench -p toolrunner --features testing --bench batch_fleet
//! ```
//!
//! Measured on the shared 2-core build machine (December 2026): in memory,
//! 3 rounds in 0.48 s, heap peak 44 MiB; with a file store, 3 rounds in
//! 4.05 s (each save is flushed to disk), heap peak 44 MiB; the process's
//! peak resident memory 97 MiB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer};
use toolrunner::{Client, FileStore, MessageParams, Polling, RunId, tool, toolset};

/// Counts the bytes the heap holds, and the most it held.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters are only arithmetic beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's layout is passed on as given.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const RUNS: usize = 1_000;

/// Look a number up.
#[tool]
fn lookup(n: u64) -> u64 {
    n * 2
}

/// Two lookups, then an answer.
fn model(request: &Value) -> Reply {
    let turns = request["messages"]
        .as_array()
        .map_or(0, |m| m.iter().filter(|m| m["role"] == "assistant").count());
    let message = if turns < 2 {
        json!([{"type": "tool_use", "id": format!("toolu_{turns}"), "name": "lookup", "input": {"n": turns}}])
    } else {
        json!([{"type": "text", "text": "Done."}])
    };
    let stop = if turns < 2 { "tool_use" } else { "end_turn" };
    Reply::message(json!({
        "id": format!("msg_{turns}"), "type": "message", "role": "assistant", "model": "m",
        "content": message, "stop_reason": stop, "stop_sequence": null,
        "usage": {"input_tokens": 100, "output_tokens": 10}
    }))
}

/// The process's peak resident memory, in KiB, where Linux says it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn fleet(kept: Option<FileStore>) -> (u32, Duration, usize) {
    let server = ScriptedServer::start(model).await.expect("bind loopback");
    let client = Client::builder()
        .api_key("bench")
        .base_url(server.url())
        .max_retries(0)
        .build()
        .expect("client");
    let mut fleet = client
        .batch_runner(toolset![lookup])
        .polling(Polling::default().delays(Duration::from_millis(1), Duration::from_millis(1)));
    if let Some(store) = kept {
        fleet = fleet.store(store);
    }
    for i in 0..RUNS {
        let params = MessageParams::new("m", 64).user(format!("Task {i}."));
        fleet = fleet.run(RunId::new(format!("run-{i}")).expect("run id"), params);
    }
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    while let Some(event) = fleet.next().await {
        event.expect("no fleet error");
    }
    let wall = started.elapsed();
    let progress = fleet.progress();
    assert_eq!(progress.done, RUNS, "every run finished");
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    (progress.rounds, wall, peak)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!("batch fleet: {RUNS} runs, two tool turns and an answer each");
    let (rounds, wall, peak) = runtime.block_on(fleet(None));
    println!(
        "  in memory:  {rounds} rounds, {:.2} s, heap peak {:.1} MiB",
        wall.as_secs_f64(),
        peak as f64 / (1024.0 * 1024.0)
    );
    let dir = std::env::temp_dir().join(format!("toolrunner-bench-fleet-{}", std::process::id()));
    let (rounds, wall, peak) = runtime.block_on(fleet(Some(FileStore::new(&dir))));
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "  file store: {rounds} rounds, {:.2} s, heap peak {:.1} MiB",
        wall.as_secs_f64(),
        peak as f64 / (1024.0 * 1024.0)
    );
    if let Some(kib) = peak_rss_kib() {
        println!(
            "  process peak resident memory: {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
}
