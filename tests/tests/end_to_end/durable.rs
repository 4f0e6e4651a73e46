//! Durable runs: a run killed at any checkpoint goes on in a new process
//! as if nothing happened; deferred calls wait for a human across processes.
//!
//! The kill tests run `durable-child` (tests/src/bin) against a scripted
//! server in this process, kill it with SIGKILL where it stops on cue, and
//! start it again to resume from its file store.

use crate::support;
use support::durable::*;
use support::*;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::ScriptedServer;
use toolrunner::{Decision, FileStore, PendingCall, RunId, RunStore, tool, toolset};

/// A scripted model for the kill tests, on the first-party API.
async fn scripted_model() -> ScriptedServer {
    ScriptedServer::start(durable_model)
        .await
        .expect("bind loopback")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_at_any_checkpoint_resumes_as_if_never_killed() {
    let expected = uninterrupted(&scripted_model().await, "plain").await;
    assert_eq!(expected.1.len(), 3, "three model requests");
    assert_eq!(expected.0.as_array().map(Vec::len), Some(6));
    for n in 1..=CHECKPOINTS {
        kill_at_checkpoint_and_resume(&scripted_model().await, "plain", n, &expected).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_calls_at_once_killed_at_any_checkpoint_does_each_side_effect_once() {
    let expected = uninterrupted(&scripted_model().await, "concurrent").await;
    for n in 1..=CHECKPOINTS {
        kill_at_checkpoint_and_resume(&scripted_model().await, "concurrent", n, &expected).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_run_killed_at_any_checkpoint_resumes_as_if_never_killed() {
    let expected = uninterrupted(&scripted_model().await, "streaming").await;
    for n in 1..=CHECKPOINTS {
        kill_at_checkpoint_and_resume(&scripted_model().await, "streaming", n, &expected).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_killed_mid_flight_runs_again_with_the_same_idempotency_key() {
    let expected = uninterrupted(&scripted_model().await, "plain").await;
    let server = scripted_model().await;
    let dir = temp_dir("mid-call");
    let url = server.url();
    let (killed_dir, killed_url) = (dir.clone(), url.clone());
    let killed = blocking(move || {
        let child = Child {
            url: &killed_url,
            dir: &killed_dir,
            mode: "plain",
            pause: Some(("DURABLE_PAUSE_IN", "c".to_owned())),
            env: &[],
        };
        child.run(Some("in call c"))
    })
    .await;
    assert!(matches!(killed, Ending::Killed));
    let resumed = blocking(move || {
        let child = Child {
            url: &url,
            dir: &dir,
            mode: "plain",
            pause: None,
            env: &[],
        };
        (child.run(None), dir)
    })
    .await;
    let (Ending::Done(conversation), dir) = resumed else {
        panic!("the resumed child did not finish");
    };
    // The call the process died in ran twice, with one key; its side
    // effect happened once. The calls that finished before did not run again.
    assert_eq!(
        lines_per_key(&dir.join("attempts.log")),
        [
            ("order-7:toolu_a".to_owned(), 1),
            ("order-7:toolu_b".to_owned(), 1),
            ("order-7:toolu_c".to_owned(), 2),
        ]
    );
    assert_eq!(
        lines_per_key(&dir.join("effects.log")),
        [
            ("order-7:toolu_a".to_owned(), 1),
            ("order-7:toolu_b".to_owned(), 1),
            ("order-7:toolu_c".to_owned(), 1),
        ]
    );
    assert_eq!(conversation, expected.0);
    let bodies: Vec<String> = server.recorded().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, expected.1);
    let _ = std::fs::remove_dir_all(&dir);
}

static LOOKUPS: AtomicUsize = AtomicUsize::new(0);
static REFUNDS: AtomicUsize = AtomicUsize::new(0);

/// Look up an order.
#[tool]
fn lookup(order: u32) -> String {
    LOOKUPS.fetch_add(1, Ordering::SeqCst);
    format!("order {order}: paid")
}

/// Check an order. Not counted: the tests that count `lookup`'s calls run
/// beside the tests that use this one.
#[tool]
fn check_order(order: u32) -> String {
    format!("order {order}: paid")
}

/// Refund an order.
#[tool]
fn refund(order: u32) -> String {
    REFUNDS.fetch_add(1, Ordering::SeqCst);
    format!("order {order}: refunded")
}

/// Holds every refund for a human.
async fn refunds_need_a_human(call: PendingCall) -> Decision {
    if call.name == "refund" {
        Decision::Defer
    } else {
        Decision::Allow
    }
}

/// Runs a turn that asks for a lookup and a refund, with refunds deferred,
/// until the runner stops for approval; then lets `decide` approve or deny
/// on the stored state, resumes from the store, and returns the request the
/// resumed runner sent.
async fn defer_then(name: &str, decide: impl FnOnce(&mut toolrunner::RunState, &str)) -> Value {
    let server = support::server(vec![
        message(
            "msg_1",
            json!([
                tool_use("toolu_lookup", "lookup", json!({"order": 7})),
                tool_use("toolu_refund", "refund", json!({"order": 7}))
            ]),
            "tool_use",
        ),
        message("msg_2", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let dir = temp_dir(name);
    let store = std::sync::Arc::new(FileStore::new(&dir));
    let run = RunId::new("order-7").unwrap();
    let (lookups, refunds) = (
        LOOKUPS.load(Ordering::SeqCst),
        REFUNDS.load(Ordering::SeqCst),
    );

    let mut runner = client(&server)
        .tool_runner(params(), toolset![lookup, refund])
        .before_tool_call(refunds_need_a_human)
        .checkpoint(store.clone(), run.clone());
    let mut yielded = 0;
    while let Some(message) = runner.next().await {
        message.unwrap();
        yielded += 1;
    }
    // The lookup ran; the refund waits, and the runner stopped for it.
    assert_eq!(yielded, 1);
    assert_eq!(server.requests().len(), 1);
    assert_eq!(LOOKUPS.load(Ordering::SeqCst), lookups + 1);
    assert_eq!(REFUNDS.load(Ordering::SeqCst), refunds);
    let pending = runner.pending_approvals();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (
            pending[0].id.as_str(),
            pending[0].name.as_str(),
            &pending[0].input
        ),
        ("toolu_refund", "refund", &json!({"order": 7}))
    );
    drop(runner);

    // Later, elsewhere: a human decides on the stored state.
    let mut state = store.load(&run).await.unwrap().expect("a stored state");
    assert_eq!(state.pending_approvals(), pending);
    assert!(state.approve("toolu_nope").unwrap_err().is_run_state());
    decide(&mut state, "toolu_refund");
    store.save(&run, &state).await.unwrap();

    // And the run goes on from the store, with the same hook.
    let state = store.load(&run).await.unwrap().expect("a stored state");
    let last = client(&server)
        .resume(state, toolset![lookup, refund])
        .unwrap()
        .before_tool_call(refunds_need_a_human)
        .checkpoint(store.clone(), run.clone())
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "Done.");
    // The lookup did not run again.
    assert_eq!(LOOKUPS.load(Ordering::SeqCst), lookups + 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
    requests[1].clone()
}

// One test for both, since they count calls of the same tools.
#[tokio::test]
async fn a_deferred_call_waits_for_a_human_across_processes() {
    let refunds = REFUNDS.load(Ordering::SeqCst);
    let approved = defer_then("approve", |state, id| state.approve(id).unwrap()).await;
    assert_eq!(
        REFUNDS.load(Ordering::SeqCst),
        refunds + 1,
        "the approved refund ran"
    );
    // On the same thread, the results of both calls, in call order.
    assert_eq!(
        approved["thread"],
        json!({"type": "continue", "previous_message_id": "msg_1"})
    );
    assert_eq!(
        approved["messages"],
        json!([{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_lookup", "content": "order 7: paid"},
            {"type": "tool_result", "tool_use_id": "toolu_refund", "content": "order 7: refunded"}
        ]}])
    );

    let denied = defer_then("deny", |state, id| {
        state.deny(id, "a human refused the refund").unwrap();
    })
    .await;
    assert_eq!(
        REFUNDS.load(Ordering::SeqCst),
        refunds + 1,
        "the denied refund never ran"
    );
    assert_eq!(
        denied["messages"],
        json!([{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_lookup", "content": "order 7: paid"},
            {"type": "tool_result", "tool_use_id": "toolu_refund", "content": "a human refused the refund", "is_error": true}
        ]}])
    );
}

/// A file store whose first save fails, as a full disk would.
struct FirstSaveFails {
    saves: AtomicUsize,
    inner: FileStore,
}

impl RunStore for FirstSaveFails {
    fn load<'a>(
        &'a self,
        run: &'a RunId,
    ) -> toolrunner::StoreFuture<'a, Option<toolrunner::RunState>> {
        self.inner.load(run)
    }

    fn save<'a>(
        &'a self,
        run: &'a RunId,
        state: &'a toolrunner::RunState,
    ) -> toolrunner::StoreFuture<'a, ()> {
        Box::pin(async move {
            if self.saves.fetch_add(1, Ordering::SeqCst) == 0 {
                let full = std::io::Error::other("no space left on device");
                return Err(toolrunner::Error::store(
                    format!("could not save run `{run}`"),
                    full,
                ));
            }
            self.inner.save(run, state).await
        })
    }

    fn delete<'a>(&'a self, run: &'a RunId) -> toolrunner::StoreFuture<'a, ()> {
        self.inner.delete(run)
    }
}

#[tokio::test]
async fn a_failed_checkpoint_is_yielded_and_the_run_goes_on() {
    let server = support::server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_check", "check_order", json!({"order": 1}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let dir = temp_dir("failed-save");
    let store = std::sync::Arc::new(FirstSaveFails {
        saves: AtomicUsize::new(0),
        inner: FileStore::new(&dir),
    });
    let run = RunId::new("order-1").unwrap();
    let mut runner = client(&server)
        .tool_runner(params(), toolset![check_order])
        .checkpoint(store.clone(), run.clone());
    let mut seen = Vec::new();
    while let Some(item) = runner.next().await {
        seen.push(
            item.map(|m| m.id)
                .map_err(|e| (e.is_store(), e.to_string())),
        );
    }
    // The error, then the message it followed: nothing is lost.
    assert_eq!(
        seen,
        [
            Err((true, "could not save run `order-1`".to_owned())),
            Ok("msg_1".to_owned()),
            Ok("msg_2".to_owned()),
        ]
    );
    // Later checkpoints went through: the store has the run's end.
    let kept = store.load(&run).await.unwrap().expect("a kept state");
    assert_eq!(kept, runner.state());
    assert!(kept.is_finished());
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- the file store keeps runs to its owner ----

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A state worth saving: a run started, nothing sent.
fn some_state() -> toolrunner::RunState {
    let client = toolrunner::Client::builder().api_key("k").build().unwrap();
    client.tool_runner(params(), toolset![lookup]).state()
}

#[cfg(unix)]
#[tokio::test]
async fn file_store_writes_states_0600_in_folders_it_creates_0700() {
    let base = temp_dir("modes");
    let dir = base.join("runs/inner");
    let store = FileStore::new(&dir);
    let run = RunId::new("run-1").unwrap();
    store.save(&run, &some_state()).await.unwrap();
    assert_eq!(mode(&base.join("runs")), 0o700);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&store.path(&run)), 0o600);
    // A save replaces the file with a new one: owner-only as well.
    store.save(&run, &some_state()).await.unwrap();
    assert_eq!(mode(&store.path(&run)), 0o600);
    std::fs::remove_dir_all(&base).unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn file_store_uses_an_existing_open_folder_and_warns_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("open");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let logged = support::capture::Written::default();
    let _guard = logged.install();

    let store = FileStore::new(&dir);
    let run = RunId::new("run-1").unwrap();
    let state = some_state();
    store.save(&run, &state).await.unwrap();
    store.save(&run, &state).await.unwrap();
    assert_eq!(store.load(&run).await.unwrap(), Some(state));
    // Used as it is: its mode is the owner's choice; the state is still 0600.
    assert_eq!(mode(&dir), 0o755);
    assert_eq!(mode(&store.path(&run)), 0o600);

    let logged = logged.text();
    let warnings: Vec<&str> = logged.lines().filter(|l| l.contains(" WARN ")).collect();
    assert_eq!(warnings.len(), 1, "{logged}");
    assert!(
        warnings[0].contains("the run store's directory is open to other users"),
        "{logged}"
    );
    assert!(
        warnings[0].contains(&format!("dir={}", dir.display())),
        "{logged}"
    );
    assert!(warnings[0].contains("mode=755"), "{logged}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Stamp a document.
#[tool]
fn stamp(page: u32) -> String {
    format!("stamped page {page}")
}

#[tokio::test]
async fn a_run_stopped_at_its_limit_goes_on_under_a_higher_one() {
    let server = support::server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_stamp", "stamp", json!({"page": 1}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("Stamped.")]), "end_turn"),
    ])
    .await;
    let dir = temp_dir("limit");
    let store = std::sync::Arc::new(FileStore::new(&dir));
    let run = RunId::new("stamp-1").unwrap();
    let mut runner = client(&server)
        .tool_runner(params(), toolset![stamp])
        .max_iterations(1)
        .checkpoint(store.clone(), run.clone());
    let mut seen = Vec::new();
    while let Some(item) = runner.next().await {
        seen.push(item.map(|m| m.id).map_err(|e| e.is_max_iterations()));
    }
    assert_eq!(seen, [Ok("msg_1".to_owned()), Err(true)]);
    drop(runner);

    // The kept state stopped at the limit, with the call not run: not over.
    let state = store.load(&run).await.unwrap().expect("a kept state");
    assert!(!state.is_finished());
    assert_eq!(state.iterations(), 1);
    assert_eq!(server.requests().len(), 1);

    let resumed = client(&server)
        .resume(state, toolset![stamp])
        .unwrap()
        .max_iterations(5)
        .checkpoint(store.clone(), run.clone());
    let last = resumed.until_done().await.unwrap();
    assert_eq!(last.text(), "Stamped.");
    // The call of the last turn ran, then the next request went out, on
    // the run's thread.
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1]["thread"],
        json!({"type": "continue", "previous_message_id": "msg_1"})
    );
    assert_eq!(
        requests[1]["messages"],
        json!([{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_stamp", "content": "stamped page 1"}]}])
    );
    let kept = store.load(&run).await.unwrap().expect("a kept state");
    assert!(kept.is_finished());
    let _ = std::fs::remove_dir_all(&dir);
}
