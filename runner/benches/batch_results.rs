//! Reading a Message Batch's results file of 1 GB in constant memory.
//!
//! The scripted server makes the file as it sends it (one `succeeded`
//! result of about 1 KB a line), so nothing of its size is ever stored;
//! the client reads it with [`Batches::results`](toolrunner::Batches::results)
//! and drops each result once parsed. Prints, for a small file and for the
//! large one, the lines read, the throughput, and the process's peak
//! resident memory (`VmHWM`, reset before each pass where the kernel
//! allows): the two peaks should be alike, however large the file. Exits
//! with an error when the large file's peak exceeds the small one's by
//! more than 64 MiB. A control pass reads a 64 MiB file and keeps every
//! result, to show that the measure sees memory that is held.
//!
//! ```sh
//! cargo bench -p toolrunner --features testing --bench batch_results
//! # another size, in MiB:
//! TOOLRUNNER_BENCH_RESULTS_MB=4096 cargo bench -p toolrunner --features testing --bench batch_results
//! ```

use std::time::Instant;

use futures_util::TryStreamExt;
use toolrunner::Client;
use toolrunner::testing::{ScriptedBatch, ScriptedServer, Sequence};
use toolrunner::types::BatchResult;

/// A `succeeded` line of about 1 KB, numbered `i`.
fn line(i: u64) -> String {
    let text =
        "The batch processed this request and the model answered at some length. ".repeat(11);
    format!(
        r#"{{"custom_id":"request-{i}","result":{{"type":"succeeded","message":{{"id":"msg_{i:012}","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{{"type":"text","text":"{text}"}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":120,"output_tokens":180}}}}}}}}"#
    )
}

/// The process's peak resident memory, in KiB, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak to the current resident size, where the kernel allows.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

struct Pass {
    lines: u64,
    bytes: u64,
    seconds: f64,
    peak_kib: Option<u64>,
}

/// Reads a generated file of `lines` lines; `keep` keeps every result,
/// as a reader that buffers would.
async fn pass(server: &ScriptedServer, client: &Client, id: &str, lines: u64, keep: bool) -> Pass {
    server.add_batch(ScriptedBatch::generated(id, lines, line));
    reset_peak();
    let started = Instant::now();
    let mut results = client.batches().results(id).await.expect("results");
    let (mut read, mut succeeded) = (0u64, 0u64);
    let mut kept = Vec::new();
    while let Some(response) = results.try_next().await.expect("a result") {
        read += 1;
        if matches!(response.result, BatchResult::Succeeded { .. }) {
            succeeded += 1;
        }
        if keep {
            kept.push(response);
        }
    }
    assert_eq!((read, succeeded), (lines, lines));
    drop(kept);
    Pass {
        lines: read,
        bytes: lines * (line(0).len() as u64 + 1),
        seconds: started.elapsed().as_secs_f64(),
        peak_kib: peak_rss_kib(),
    }
}

fn report(name: &str, pass: &Pass) {
    let mib = pass.bytes as f64 / (1024.0 * 1024.0);
    println!(
        "{name:>6}: {} lines, {mib:.0} MiB in {:.2} s: {:.0} MiB/s, {:.0} lines/s; peak RSS {}",
        pass.lines,
        pass.seconds,
        mib / pass.seconds,
        pass.lines as f64 / pass.seconds,
        pass.peak_kib.map_or("unknown".to_owned(), |k| format!(
            "{:.1} MiB",
            k as f64 / 1024.0
        )),
    );
}

fn main() {
    let megabytes: u64 = std::env::var("TOOLRUNNER_BENCH_RESULTS_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let per_line = line(0).len() as u64 + 1;
    let large = megabytes * 1024 * 1024 / per_line;
    let small = (8 * 1024 * 1024 / per_line).min(large);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = ScriptedServer::start(Sequence::new([]))
            .await
            .expect("bind");
        let client = Client::builder()
            .api_key("bench")
            .base_url(server.url())
            .build()
            .expect("client");
        println!(
            "line: {per_line} bytes; resetting the peak: {}",
            reset_peak()
        );
        let small = pass(&server, &client, "msgbatch_small", small, false).await;
        report("small", &small);
        let large = pass(&server, &client, "msgbatch_large", large, false).await;
        report("large", &large);
        let control = 64 * 1024 * 1024 / per_line;
        let held = pass(&server, &client, "msgbatch_held", control, true).await;
        report("held", &held);
        if let (Some(small), Some(large)) = (small.peak_kib, large.peak_kib) {
            let grown = large.saturating_sub(small);
            println!("peak grew by {:.1} MiB", grown as f64 / 1024.0);
            if grown > 64 * 1024 {
                eprintln!("the large file's peak exceeds the small one's by more than 64 MiB");
                std::process::exit(1);
            }
        }
    });
}
