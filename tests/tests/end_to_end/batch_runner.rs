//! The batch runner over HTTP, against the scripted batch server: what
//! each round's batch holds, retries, cancelling, progress; and the kill
//! tests, which run `batch-child` (tests/src/bin), kill it with SIGKILL
//! while a batch processes, while results are read or while tools run,
//! and start it again to resume from its file store.

use crate::support;
use support::kill::{self, Ending, blocking, lines_per_key, path, temp_dir};
use support::*;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{BatchOutcome, Reply, ScriptedServer};
use toolrunner::{BatchEvent, MessageParams, Polling, RunId, RunOutcome, toolset};

/// The runs of the kill tests, and the calls each makes.
const RUNS: usize = 3;
const CALLS: usize = 2;

/// The saves of an uninterrupted fleet, in order: round 1's requests
/// marked in flight (one per run), their results, each call, round 2's
/// requests in flight, their results, and each run's end.
const CHECKPOINTS: usize = RUNS + RUNS + RUNS * CALLS + RUNS + RUNS + RUNS;

/// The checkpoints after which a batch exists that not every run's state
/// names yet: the one window where requests go out again (see the
/// `BatchRunner` docs). Round 1's submission is saves `1..=RUNS`; round
/// 2's follows its results and calls.
fn in_window(n: usize) -> bool {
    let round_two = 2 * RUNS + RUNS * CALLS;
    (1..RUNS).contains(&n) || (round_two + 1..round_two + RUNS).contains(&n)
}

/// The run number a request is about: its first message is "Go <i>.".
fn run_of(request: &Value) -> String {
    let first = request["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    first
        .trim_start_matches("Go ")
        .trim_end_matches('.')
        .to_owned()
}

fn turns(request: &Value) -> usize {
    request["messages"]
        .as_array()
        .map_or(0, |m| m.iter().filter(|m| m["role"] == "assistant").count())
}

/// The model's side: what it says depends on the run and how far its
/// conversation is (never on how many requests came), so that a request
/// sent twice would be answered alike, and seen in the record.
async fn scripted_model() -> ScriptedServer {
    ScriptedServer::start(|request: &Value| {
        let i = run_of(request);
        let append = |call: &str| {
            let word = format!("{call}{i}");
            tool_use(
                &format!("toolu_{i}_{call}"),
                "append",
                json!({"word": word}),
            )
        };
        let reply = match turns(request) {
            0 => message(
                &format!("msg_{i}_1"),
                json!([append("a"), append("b")]),
                "tool_use",
            ),
            _ => message(
                &format!("msg_{i}_2"),
                json!([text("All appended.")]),
                "end_turn",
            ),
        };
        Reply::message(reply)
    })
    .await
    .expect("bind loopback")
}

/// The bodies of the batches created on `server`, in order.
fn creations(server: &ScriptedServer) -> Vec<String> {
    server
        .recorded()
        .into_iter()
        .filter(|r| r.method == "POST" && r.target == "/v1/messages/batches")
        .map(|r| r.body)
        .collect()
}

/// Runs `batch-child` on `url` in `dir`, with `pause` set, until it says
/// `wait_for` (then kills it) or ends.
fn child(url: &str, dir: &Path, pause: Option<(&str, &str)>, wait_for: Option<&str>) -> Ending {
    let mut command = Command::new(env!("CARGO_BIN_EXE_batch-child"));
    command
        .args([
            url,
            &path(&dir.join("store")),
            &path(dir),
            &RUNS.to_string(),
        ])
        .env_remove("BATCH_PAUSE_AT")
        .env_remove("BATCH_PAUSE_IN")
        .env_remove("BATCH_PAUSE_ON");
    if let Some((name, value)) = pause {
        command.env(name, value);
    }
    kill::run(command, wait_for)
}

/// Kills a child where `pause` stops it (it says `wait_for`), resumes the
/// fleet in a new one, and returns what it ended with, the server and the
/// logs' directory.
async fn kill_then_resume(
    name: &str,
    pause: (&'static str, String),
    wait_for: String,
    polls: Option<u32>,
) -> (Value, ScriptedServer, std::path::PathBuf) {
    let server = scripted_model().await;
    if polls.is_some() {
        server.set_batch_polls(polls);
    }
    let dir = temp_dir(name);
    let (url, killed_dir) = (server.url(), dir.clone());
    let killed = blocking(move || {
        child(
            &url,
            &killed_dir,
            Some((pause.0, &pause.1)),
            Some(&wait_for),
        )
    })
    .await;
    assert!(
        matches!(killed, Ending::Killed),
        "{name}: the child stopped on cue"
    );
    let (url, resumed_dir) = (server.url(), dir.clone());
    let resumed = blocking(move || child(&url, &resumed_dir, None, None)).await;
    let Ending::Done(conversations) = resumed else {
        panic!("{name}: the resumed child did not finish");
    };
    (conversations, server, dir)
}

/// One uninterrupted fleet in a child: its conversations and the batches
/// it created, byte for byte.
async fn uninterrupted() -> (Value, Vec<String>) {
    let server = scripted_model().await;
    let dir = temp_dir("batch-straight");
    let (url, child_dir) = (server.url(), dir.clone());
    let ending = blocking(move || child(&url, &child_dir, None, None)).await;
    let Ending::Done(conversations) = ending else {
        panic!("a child without a pause runs to the end");
    };
    let _ = std::fs::remove_dir_all(&dir);
    (conversations, creations(&server))
}

/// Every call's key, `count` times.
fn every_call(count: usize) -> Vec<(String, usize)> {
    let mut keys: Vec<(String, usize)> = (0..RUNS)
        .flat_map(|i| ["a", "b"].map(|c| (format!("run-{i}:toolu_{i}_{c}"), count)))
        .collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_killed_at_any_checkpoint_resumes_as_if_never_killed() {
    let expected = uninterrupted().await;
    assert_eq!(expected.1.len(), 2, "two rounds, one batch each");
    assert_eq!(expected.0.as_object().map(|o| o.len()), Some(RUNS));
    for n in 1..=CHECKPOINTS {
        let (conversations, server, dir) = kill_then_resume(
            &format!("batch-{n}"),
            ("BATCH_PAUSE_AT", n.to_string()),
            format!("checkpoint {n}"),
            None,
        )
        .await;
        // Each call's side effect happened once, and each call ran once:
        // none was in flight at a checkpoint.
        assert_eq!(
            lines_per_key(&dir.join("effects.log")),
            every_call(1),
            "checkpoint {n}"
        );
        assert_eq!(
            lines_per_key(&dir.join("attempts.log")),
            every_call(1),
            "checkpoint {n}"
        );
        // The same conversations as the fleet that was never killed.
        assert_eq!(conversations, expected.0, "killed at checkpoint {n}");
        let created = creations(&server);
        if in_window(n) {
            // Killed between a batch's creation and the last run's save
            // of its id: the runs that had not saved it submit their
            // requests again, in one more batch.
            assert_eq!(created.len(), expected.1.len() + 1, "checkpoint {n}");
        } else {
            // No request was submitted twice: the same batches, byte for
            // byte (a kill while results were read included: the results
            // kept were not asked for again).
            assert_eq!(created, expected.1, "killed at checkpoint {n}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_killed_while_its_batch_processes_polls_that_batch_when_resumed() {
    let expected = uninterrupted().await;
    let (conversations, server, dir) = kill_then_resume(
        "batch-processing",
        ("BATCH_PAUSE_ON", "polled".to_owned()),
        "event polled false".to_owned(),
        Some(2),
    )
    .await;
    assert_eq!(
        creations(&server),
        expected.1,
        "the batch in flight was not submitted again"
    );
    assert_eq!(conversations, expected.0);
    assert_eq!(lines_per_key(&dir.join("effects.log")), every_call(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_killed_mid_flight_runs_again_with_its_key_and_its_effect_once() {
    let expected = uninterrupted().await;
    let (conversations, server, dir) = kill_then_resume(
        "batch-mid-call",
        ("BATCH_PAUSE_IN", "a1".to_owned()),
        "in call a1".to_owned(),
        None,
    )
    .await;
    let mut attempts = every_call(1);
    for (key, n) in &mut attempts {
        if key == "run-1:toolu_1_a" {
            *n = 2;
        }
    }
    assert_eq!(lines_per_key(&dir.join("attempts.log")), attempts);
    assert_eq!(lines_per_key(&dir.join("effects.log")), every_call(1));
    assert_eq!(conversations, expected.0);
    assert_eq!(creations(&server), expected.1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The custom ids of each batch created, and the params of each request.
fn batches(server: &ScriptedServer) -> Vec<Vec<(String, Value)>> {
    creations(server)
        .iter()
        .map(|body| {
            let body: Value = serde_json::from_str(body).expect("a create body");
            body["requests"]
                .as_array()
                .expect("requests")
                .iter()
                .map(|r| {
                    (
                        r["custom_id"].as_str().unwrap().to_owned(),
                        r["params"].clone(),
                    )
                })
                .collect()
        })
        .collect()
}

fn fleet_params(i: usize) -> MessageParams {
    MessageParams::new("claude-test", 256).user(format!("Go {i}."))
}

fn fast() -> Polling {
    Polling::default().delays(Duration::from_millis(1), Duration::from_millis(5))
}

#[tokio::test]
async fn errored_and_expired_requests_are_retried_then_fail_their_run_only() {
    // Run 0's first request errors; run 1's always expires.
    let errors = AtomicUsize::new(0);
    let server = ScriptedServer::start(move |request: &Value| {
        if run_of(request) == "0" && errors.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::error(529, "overloaded_error", "Overloaded");
        }
        Reply::message(message("msg", json!([text("Done.")]), "end_turn"))
    })
    .await
    .expect("bind loopback");
    server.set_batch_outcome("r1", BatchOutcome::Expired);
    let mut fleet = client(&server)
        .batch_runner(toolset![])
        .polling(fast())
        .max_retries(1);
    for i in 0..3 {
        fleet = fleet.run(RunId::new(format!("run-{i}")).unwrap(), fleet_params(i));
    }
    let mut events = Vec::new();
    while let Some(event) = fleet.next().await {
        events.push(event.expect("no fleet error"));
    }

    let sent = batches(&server);
    let ids: Vec<Vec<&str>> = sent
        .iter()
        .map(|b| b.iter().map(|(id, _)| id.as_str()).collect())
        .collect();
    assert_eq!(ids, [vec!["r0", "r1", "r2"], vec!["r0", "r1"]]);
    // Without a thread, each request is marked for prompt caching, as the
    // runner marks its own: the top-level mark, which the API takes.
    for (_, request) in sent.iter().flatten() {
        assert_eq!(request["cache_control"], json!({"type": "ephemeral"}));
        assert!(request.get("diagnostics").is_none());
    }
    // A retried request is the same request, and carries the whole
    // conversation: batches take no message thread.
    assert_eq!(sent[1][0].1, sent[0][0].1);
    for (_, params) in sent.iter().flatten() {
        assert!(params.get("thread").is_none(), "{params}");
        assert!(params.get("stream").is_none(), "{params}");
    }
    let create = server
        .recorded()
        .into_iter()
        .find(|r| r.target == "/v1/messages/batches")
        .expect("a create");
    assert_eq!(create.header("x-api-key"), Some("test-key"));
    assert!(create.header("anthropic-version").is_some());
    assert_eq!(create.header("anthropic-beta"), None, "no threads beta");

    let retried: Vec<(String, u32, bool)> = events
        .iter()
        .filter_map(|e| match e {
            BatchEvent::Retrying { run, retry, reason } => Some((
                run.to_string(),
                *retry,
                reason.contains("overloaded_error") || reason.contains("expired"),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        retried,
        [("run-0".to_owned(), 1, true), ("run-1".to_owned(), 1, true)]
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, BatchEvent::RunFailed { run, error }
        if run.as_str() == "run-1" && error.contains("expired")))
    );
    let progress = fleet.progress();
    assert_eq!((progress.done, progress.failed, progress.rounds), (2, 1, 2));
    assert_eq!(progress.usage.turns.requests, 2);
    assert_eq!(progress.usage.turns.output_tokens, 10);
    assert!(progress.usage.compaction.is_empty());
    let report = fleet.into_report();
    assert!(matches!(&report.runs[1].outcome, RunOutcome::Failed(e) if e.is_batch_run()));
    assert!(matches!(&report.runs[0].outcome, RunOutcome::Finished(m) if m.text() == "Done."));
    assert_eq!(report.runs[0].usage.turns.output_tokens, 5);
    assert_eq!(report.runs[0].usage, report.runs[0].state.usage());
}

#[tokio::test]
async fn cancelling_cancels_the_batch_in_flight_and_ends_the_stream() {
    let server = ScriptedServer::start(|_: &Value| {
        Reply::message(message("msg", json!([text("Done.")]), "end_turn"))
    })
    .await
    .expect("bind loopback");
    // The batch never ends by itself.
    server.set_batch_polls(None);
    let mut fleet = client(&server).batch_runner(toolset![]).polling(fast());
    for i in 0..2 {
        fleet = fleet.run(RunId::new(format!("run-{i}")).unwrap(), fleet_params(i));
    }
    let cancel = fleet.cancel_token();
    let mut events = Vec::new();
    while let Some(event) = fleet.next().await {
        let event = event.expect("no fleet error");
        if matches!(event, BatchEvent::Submitted { .. }) {
            cancel.cancel();
        }
        events.push(event);
    }
    let cancels: Vec<String> = server
        .recorded()
        .into_iter()
        .filter(|r| r.method == "POST" && r.target.ends_with("/cancel"))
        .map(|r| r.target)
        .collect();
    let BatchEvent::Submitted { batch_id, .. } = &events[0] else {
        panic!("the first event is the submission: {events:?}");
    };
    assert_eq!(cancels, [format!("/v1/messages/batches/{batch_id}/cancel")]);
    assert!(
        matches!(&events[1], BatchEvent::Cancelling { .. }),
        "{events:?}"
    );
    assert!(
        matches!(&events[2], BatchEvent::Polled { ended: true, counts, .. } if counts.canceled == 2)
    );
    assert_eq!(creations(&server).len(), 1, "no round after the cancel");
    let report = fleet.into_report();
    assert!(
        report
            .runs
            .iter()
            .all(|r| matches!(r.outcome, RunOutcome::Unfinished))
    );
}

#[tokio::test]
async fn progress_is_reported_each_poll_and_round() {
    let server = scripted_model().await;
    server.set_batch_polls(Some(1));
    let mut fleet = client(&server)
        .batch_runner(toolset![append])
        .polling(fast());
    for i in 0..2 {
        fleet = fleet.run(RunId::new(format!("run-{i}")).unwrap(), fleet_params(i));
    }
    let mut seen = Vec::new();
    while let Some(event) = fleet.next().await {
        let event = event.expect("no fleet error");
        let p = fleet.progress();
        let word = match &event {
            BatchEvent::Submitted {
                round, requests, ..
            } => format!("submitted {round} ({requests})"),
            BatchEvent::Polled { ended, counts, .. } => {
                format!(
                    "polled {ended} ({} processing, {} succeeded)",
                    counts.processing, counts.succeeded
                )
            }
            BatchEvent::RoundEnded { round } => format!("round {round} ended"),
            BatchEvent::RunFinished { run } => format!("{run} finished"),
            other => format!("{other:?}"),
        };
        seen.push(format!(
            "{word}: {} done, {} running, {} output tokens",
            p.done,
            p.running,
            p.usage.total().output_tokens
        ));
    }
    assert_eq!(
        seen,
        [
            "submitted 1 (2): 0 done, 2 running, 0 output tokens",
            "polled false (2 processing, 0 succeeded): 0 done, 2 running, 0 output tokens",
            "polled true (0 processing, 2 succeeded): 0 done, 2 running, 0 output tokens",
            "round 1 ended: 0 done, 2 running, 10 output tokens",
            "submitted 2 (2): 0 done, 2 running, 10 output tokens",
            "polled false (2 processing, 0 succeeded): 0 done, 2 running, 10 output tokens",
            "polled true (0 processing, 2 succeeded): 0 done, 2 running, 10 output tokens",
            "round 2 ended: 0 done, 2 running, 20 output tokens",
            "run-0 finished: 2 done, 0 running, 20 output tokens",
            "run-1 finished: 2 done, 0 running, 20 output tokens",
        ]
    );
}

/// Append a word (the progress test's tool; it only answers).
#[toolrunner::tool]
fn append(word: String) -> String {
    format!("appended {word}")
}
