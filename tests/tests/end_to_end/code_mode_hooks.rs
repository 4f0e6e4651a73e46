//! Calls made from a code-mode program meet the runner's hooks as direct
//! calls do, in process and in a worker, and carry idempotency keys that a
//! checkpointed run's rerun repeats.

use crate::support;

use support::*;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::code_mode::{CodeMode, Isolation, Worker};
use toolrunner::{
    AuthInfo, Caller, Decision, Message, PendingCall, RunId, RunState, RunStore, State,
    StoreFuture, ToolCall, ToolOutput, ToolRunner, Toolset, tool, toolset,
};

/// How many times `lookup` ran; the test keeps a clone.
#[derive(Clone, Default)]
struct Lookups(Arc<AtomicUsize>);

/// Look up a record.
#[tool(allowed_callers = ["direct", "code"])]
fn lookup(lookups: State<Lookups>, id: u32) -> u32 {
    lookups.0.fetch_add(1, Ordering::SeqCst);
    id
}

/// Where programs run: in the workspace's test worker, and in process.
fn isolations() -> [(&'static str, Isolation); 2] {
    [
        (
            "worker",
            Isolation::Worker(Worker::at(env!("CARGO_BIN_EXE_code-mode-worker"))),
        ),
        ("in process", Isolation::InProcess),
    ]
}

fn code_mode(tools: Toolset, isolation: Isolation) -> Toolset {
    CodeMode::new(tools)
        .isolation(isolation)
        .build()
        .expect("code mode")
}

fn run_code(id: &str, code: &str) -> Value {
    tool_use(id, "run_code", json!({ "code": code }))
}

/// The `tool_result` blocks a request sends last.
fn results(request: &Value) -> &Value {
    &last_message(request)["content"]
}

/// Runs `runner` to its end, and returns the last message it yielded.
async fn drive(runner: &mut ToolRunner) -> Message {
    let mut last = None;
    while let Some(message) = runner.next().await {
        last = Some(message.expect("a turn"));
    }
    last.expect("a message")
}

/// Every call a hook saw: its id, tool and caller.
type Seen = Arc<Mutex<Vec<(String, String, Caller)>>>;

fn seen_by(seen: &Seen, call: &PendingCall) {
    seen.lock()
        .unwrap()
        .push((call.id.clone(), call.name.clone(), call.caller.clone()));
}

#[tokio::test]
async fn a_tool_a_hook_denies_is_denied_from_code_too() {
    for (place, isolation) in isolations() {
        let server = server(vec![
            message(
                "msg_1",
                json!([tool_use("toolu_1", "lookup", json!({"id": 1}))]),
                "tool_use",
            ),
            message(
                "msg_2",
                json!([run_code("toolu_2", "await lookup(id=1)")]),
                "tool_use",
            ),
            message("msg_3", json!([text("Denied both ways.")]), "end_turn"),
        ])
        .await;
        let lookups = Lookups::default();
        let tools = code_mode(toolset![lookup], isolation).with_state(lookups.clone());
        let seen = Seen::default();
        let log = Arc::clone(&seen);
        let mut runner = client(&server)
            .tool_runner(params(), tools.clone())
            .message_threads(false)
            .before_tool_call(move |call: PendingCall| {
                seen_by(&log, &call);
                async move {
                    if call.name == "lookup" {
                        Decision::deny("a human must approve each lookup")
                    } else {
                        Decision::Allow
                    }
                }
            });
        let last = drive(&mut runner).await;
        assert_eq!(last.text(), "Denied both ways.", "{place}");
        assert!(runner.pending_approvals().is_empty(), "{place}");

        assert_eq!(lookups.0.load(Ordering::SeqCst), 0, "{place}: lookup ran");
        let requests = server.requests();
        assert_eq!(
            *results(&requests[1]),
            json!([{"type": "tool_result", "tool_use_id": "toolu_1",
                    "content": "a human must approve each lookup", "is_error": true}]),
            "{place}"
        );
        // The denial raised in the program, which did not catch it.
        assert_eq!(
            *results(&requests[2]),
            json!([{"type": "tool_result", "tool_use_id": "toolu_2",
                    "content": "Error:\nTraceback (most recent call last):\n  File \"main.py\", line 1, in <module>\n    await lookup(id=1)\n    ~~~~~~~~~~~~~~~~~~\nRuntimeError: a human must approve each lookup",
                    "is_error": true}]),
            "{place}"
        );
        assert_eq!(
            *seen.lock().unwrap(),
            [
                ("toolu_1".to_owned(), "lookup".to_owned(), Caller::Direct),
                ("toolu_2".to_owned(), "run_code".to_owned(), Caller::Direct),
                (
                    "toolu_2#1".to_owned(),
                    "lookup".to_owned(),
                    Caller::CodeMode
                ),
            ],
            "{place}"
        );
    }
}

#[tokio::test]
async fn hooks_replace_the_input_and_the_result_of_a_call_from_code() {
    for (place, isolation) in isolations() {
        let server = server(vec![
            message(
                "msg_1",
                json!([run_code(
                    "toolu_1",
                    "[await lookup(id=1), await lookup(id=2)]"
                )]),
                "tool_use",
            ),
            message("msg_2", json!([text("Done.")]), "end_turn"),
        ])
        .await;
        let lookups = Lookups::default();
        let tools = code_mode(toolset![lookup], isolation).with_state(lookups.clone());
        let after_seen = Seen::default();
        let log = Arc::clone(&after_seen);
        client(&server)
            .tool_runner(params(), tools.clone())
            .message_threads(false)
            .before_tool_call(async |call: PendingCall| {
                // Only the second call is rewritten: the hook sees each.
                if call.name == "lookup" && call.input == json!({"id": 2}) {
                    Decision::replace(json!({"id": 20}))
                } else {
                    Decision::Allow
                }
            })
            .after_tool_call(move |call: PendingCall, output: ToolOutput| {
                seen_by(&log, &call);
                async move {
                    if call.caller == Caller::CodeMode {
                        ToolOutput::text(format!("{}0", output.text_content()))
                    } else {
                        output
                    }
                }
            })
            .until_done()
            .await
            .expect(place);
        assert_eq!(lookups.0.load(Ordering::SeqCst), 2, "{place}");
        assert_eq!(
            *results(&server.requests()[1]),
            json!([{"type": "tool_result", "tool_use_id": "toolu_1",
                    "content": "Last expression (JSON):\n[10, 200]"}]),
            "{place}"
        );
        // The after-hook saw each call from code, then `run_code` itself.
        assert_eq!(
            *after_seen.lock().unwrap(),
            [
                (
                    "toolu_1#1".to_owned(),
                    "lookup".to_owned(),
                    Caller::CodeMode
                ),
                (
                    "toolu_1#2".to_owned(),
                    "lookup".to_owned(),
                    Caller::CodeMode
                ),
                ("toolu_1".to_owned(), "run_code".to_owned(), Caller::Direct),
            ],
            "{place}"
        );
    }
}

#[tokio::test]
async fn a_call_from_code_a_hook_defers_fails_in_the_program_and_never_runs() {
    for (place, isolation) in isolations() {
        let program =
            "try:\n    await lookup(id=1)\nexcept RuntimeError as e:\n    print(e)\n'after'";
        let server = server(vec![
            message("msg_1", json!([run_code("toolu_1", program)]), "tool_use"),
            message("msg_2", json!([text("It needs a human.")]), "end_turn"),
        ])
        .await;
        let lookups = Lookups::default();
        let tools = code_mode(toolset![lookup], isolation).with_state(lookups.clone());
        let mut runner = client(&server)
            .tool_runner(params(), tools.clone())
            .message_threads(false)
            .before_tool_call(async |call: PendingCall| {
                if call.name == "lookup" {
                    Decision::Defer
                } else {
                    Decision::Allow
                }
            });
        let last = drive(&mut runner).await;
        // Nothing waits for a human: the call was answered, in the program.
        assert_eq!(last.text(), "It needs a human.", "{place}");
        assert!(runner.pending_approvals().is_empty(), "{place}");
        assert_eq!(lookups.0.load(Ordering::SeqCst), 0, "{place}: lookup ran");
        assert_eq!(
            *results(&server.requests()[1]),
            json!([{"type": "tool_result", "tool_use_id": "toolu_1",
                    "content": "Printed output:\nthe call to tool `lookup` needs a human's approval, which a call from code cannot wait for; it did not run\n\nLast expression (JSON):\n\"after\""}]),
            "{place}"
        );
    }
}

/// Every save of a run, in memory: the last one is what a process killed
/// now would resume from.
#[derive(Default)]
struct Saves(Mutex<Vec<RunState>>);

impl RunStore for Saves {
    fn load<'a>(&'a self, _run: &'a RunId) -> StoreFuture<'a, Option<RunState>> {
        Box::pin(async move { Ok(self.0.lock().unwrap().last().cloned()) })
    }

    fn save<'a>(&'a self, _run: &'a RunId, state: &'a RunState) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.0.lock().unwrap().push(state.clone());
            Ok(())
        })
    }

    fn delete<'a>(&'a self, _run: &'a RunId) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.0.lock().unwrap().clear();
            Ok(())
        })
    }
}

/// The keys `charge` saw, and the run's state when it first ran; the test
/// keeps a clone.
#[derive(Clone)]
struct Charges {
    store: Arc<Saves>,
    keys: Arc<Mutex<Vec<Option<String>>>>,
    killed_at: Arc<OnceLock<RunState>>,
}

/// Charge the customer.
#[tool(allowed_callers = ["code"])]
fn charge(charges: State<Charges>, call: ToolCall, cents: u32) -> u32 {
    charges
        .keys
        .lock()
        .unwrap()
        .push(call.idempotency_key().map(str::to_owned));
    // Were the process killed now, mid-program, its run would resume from
    // the state saved last.
    let _ = charges.killed_at.set(
        charges
            .store
            .0
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a save"),
    );
    cents
}

#[tokio::test]
async fn calls_from_code_carry_idempotency_keys_a_rerun_repeats() {
    let program = "a = await charge(cents=100)\nb = await charge(cents=250)\na + b";
    let server = server(vec![
        message("msg_1", json!([run_code("toolu_1", program)]), "tool_use"),
        message("msg_2", json!([text("Charged.")]), "end_turn"),
        message("msg_2", json!([text("Charged.")]), "end_turn"),
    ])
    .await;
    let store = Arc::new(Saves::default());
    let charges = Charges {
        store: Arc::clone(&store),
        keys: Arc::default(),
        killed_at: Arc::default(),
    };
    let (_, isolation) = isolations().into_iter().next().unwrap();
    let tools = code_mode(toolset![charge], isolation).with_state(charges.clone());
    let run = RunId::new("order-7").unwrap();
    client(&server)
        .tool_runner(params(), tools.clone())
        .message_threads(false)
        .checkpoint(Arc::clone(&store), run.clone())
        .until_done()
        .await
        .unwrap();
    let first = std::mem::take(&mut *charges.keys.lock().unwrap());
    assert_eq!(
        first,
        [
            Some("order-7:toolu_1#1".to_owned()),
            Some("order-7:toolu_1#2".to_owned())
        ]
    );

    // The process dies mid-program; a new one resumes from the state saved
    // before the program ran, and runs it again.
    let state = charges.killed_at.get().cloned().unwrap();
    assert!(!state.is_finished());
    client(&server)
        .resume(state, tools)
        .unwrap()
        .message_threads(false)
        .checkpoint(Arc::clone(&store), run)
        .until_done()
        .await
        .unwrap();
    assert_eq!(*charges.keys.lock().unwrap(), first);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2], requests[1], "the rerun sent the same request");
    assert_eq!(
        *results(&requests[1]),
        json!([{"type": "tool_result", "tool_use_id": "toolu_1",
                "content": "Last expression (JSON):\n350"}])
    );
}

/// Say who the call is for.
#[tool(allowed_callers = ["code"])]
fn identity(call: ToolCall) -> Value {
    json!({
        "subject": call.auth().and_then(|auth| auth.subject()),
        "key": call.idempotency_key(),
    })
}

#[tokio::test]
async fn calls_from_code_act_for_whoever_made_the_run_code_call() {
    // As an MCP server calls `run_code` for an authenticated client: the
    // program's calls are that client's, not calls without an identity.
    let tools = code_mode(toolset![identity], Isolation::InProcess);
    let call = ToolCall::new("mcp_1")
        .with_auth(AuthInfo::new().with_subject("alice"))
        .with_idempotency_key("session-9:mcp_1");
    let out = tools
        .call("run_code", json!({"code": "await identity()"}), call)
        .await;
    assert_eq!(
        out.text_content(),
        "Last expression (JSON):\n{\"subject\": \"alice\", \"key\": \"session-9:mcp_1#1\"}"
    );
}
