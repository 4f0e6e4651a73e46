//! The fleet's rounds over a fake Message Batches API in memory: what goes
//! into each batch, retries, cancelling, resuming and progress. The
//! integration tests (tests/tests/end_to_end/batch_runner.rs) do the same over HTTP
//! against the scripted batch server, and kill real processes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::api::{ApiFuture, BatchApi, Item, ItemResult, Standing};
use super::*;
use crate::tool::{Tool, ToolContext, ToolDefinition, ToolFuture, ToolOutput};
use crate::types::Message;
use crate::{RunState, StoreFuture};

/// What the fake model answers a request with: given its `custom_id` and
/// body.
type Model = dyn Fn(&str, &Value) -> ItemResult + Send + Sync;

#[derive(Default)]
struct Batches {
    /// Each batch's requests, by id, and whether it was cancelled.
    batches: HashMap<String, (Vec<(String, Value)>, bool)>,
    created: Vec<String>,
    polls: usize,
}

/// The Message Batches API in memory: a batch ends at its first poll,
/// unless `never_ends`, when only a cancel ends it.
struct Fake {
    state: Mutex<Batches>,
    model: Box<Model>,
    never_ends: bool,
}

impl Fake {
    fn new(model: impl Fn(&str, &Value) -> ItemResult + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Fake {
            state: Mutex::default(),
            model: Box::new(model),
            never_ends: false,
        })
    }

    /// The requests of each batch created, in order.
    fn created(&self) -> Vec<Vec<(String, Value)>> {
        let state = self.state.lock().unwrap();
        state
            .created
            .iter()
            .map(|id| state.batches[id].0.clone())
            .collect()
    }
}

impl BatchApi for Fake {
    fn create(&self, items: Vec<Item>) -> ApiFuture<String> {
        let mut state = self.state.lock().unwrap();
        let id = format!("msgbatch_{}", state.created.len() + 1);
        let items = items
            .into_iter()
            .map(|i| {
                (
                    i.custom_id,
                    serde_json::from_slice(&i.request.body).unwrap(),
                )
            })
            .collect();
        state.batches.insert(id.clone(), (items, false));
        state.created.push(id.clone());
        Box::pin(async move { Ok(id) })
    }

    fn retrieve(&self, id: &str) -> ApiFuture<Standing> {
        let mut state = self.state.lock().unwrap();
        state.polls += 1;
        let (items, cancelled) = &state.batches[id];
        let ended = !self.never_ends || *cancelled;
        let counts = crate::types::RequestCounts {
            processing: if ended { 0 } else { items.len() as u64 },
            ..Default::default()
        };
        let status = if ended { "ended" } else { "in_progress" };
        Box::pin(async move {
            Ok(Standing {
                ended,
                counts,
                status,
            })
        })
    }

    fn results(
        &self,
        id: &str,
    ) -> ApiFuture<
        futures_util::stream::BoxStream<'static, Result<(String, ItemResult), crate::Error>>,
    > {
        let state = self.state.lock().unwrap();
        let (items, cancelled) = &state.batches[id];
        let results: Vec<_> = items
            .iter()
            .map(|(custom_id, body)| {
                let result = if *cancelled {
                    ItemResult::Canceled
                } else {
                    (self.model)(custom_id, body)
                };
                Ok((custom_id.clone(), result))
            })
            .collect();
        Box::pin(async move { Ok(futures_util::stream::iter(results).boxed()) })
    }

    fn cancel(&self, id: &str) -> ApiFuture<()> {
        let mut state = self.state.lock().unwrap();
        if let Some(batch) = state.batches.get_mut(id) {
            batch.1 = true;
        }
        Box::pin(async { Ok(()) })
    }
}

fn reply(id: &str, stop: &str, content: Value, output_tokens: u64) -> ItemResult {
    ItemResult::Succeeded(Box::new(
        serde_json::from_value::<Message>(json!({
            "id": id, "type": "message", "role": "assistant", "model": "m",
            "content": content, "stop_reason": stop, "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": output_tokens, "cache_read_input_tokens": 5}
        }))
        .unwrap(),
    ))
}

/// The model turns so far in a request's body.
fn turns(body: &Value) -> usize {
    body["messages"]
        .as_array()
        .map_or(0, |m| m.iter().filter(|m| m["role"] == "assistant").count())
}

/// Asks for `echo` once, then answers.
fn echo_then_answer(custom_id: &str, body: &Value) -> ItemResult {
    if turns(body) == 0 {
        let call = json!([{"type": "tool_use", "id": format!("toolu_{custom_id}"), "name": "echo", "input": {"word": custom_id}}]);
        reply("msg_1", "tool_use", call, 3)
    } else {
        reply(
            "msg_2",
            "end_turn",
            json!([{"type": "text", "text": "done"}]),
            7,
        )
    }
}

/// Answers at once.
fn answer(_: &str, _: &Value) -> ItemResult {
    reply(
        "msg_1",
        "end_turn",
        json!([{"type": "text", "text": "done"}]),
        1,
    )
}

/// A tool that echoes its input and counts its calls, with their keys.
struct Echo {
    definition: ToolDefinition,
    calls: Arc<Mutex<Vec<Option<String>>>>,
}

impl Tool for Echo {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }
    fn call<'a>(&'a self, input: Value, cx: ToolContext) -> ToolFuture<'a> {
        let key = cx.call().idempotency_key().map(str::to_owned);
        self.calls.lock().unwrap().push(key);
        Box::pin(async move { ToolOutput::text(input["word"].to_string()) })
    }
}

fn echo() -> (Toolset, Arc<Mutex<Vec<Option<String>>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let schema = json!({"type": "object", "properties": {"word": {"type": "string"}}});
    let tool = Echo {
        definition: ToolDefinition::new("echo", "Echo a word.", schema),
        calls: Arc::clone(&calls),
    };
    (Toolset::new().with_tool(tool).unwrap(), calls)
}

fn fleet(api: Arc<Fake>, toolset: Toolset, runs: usize) -> BatchRunner {
    let mut runner = BatchRunner::with_api(api, toolset).polling(
        crate::Polling::default().delays(Duration::from_millis(1), Duration::from_millis(1)),
    );
    for i in 0..runs {
        let params = MessageParams::new("m", 64).user(format!("task {i}"));
        runner = runner.run(RunId::new(format!("run-{i}")).unwrap(), params);
    }
    runner
}

/// Drives `runner` up to the first event `stop` picks.
async fn until(runner: &mut BatchRunner, stop: impl Fn(&BatchEvent) -> bool) {
    while let Some(event) = runner.next().await {
        if stop(&event.unwrap()) {
            return;
        }
    }
}

async fn events(runner: &mut BatchRunner) -> Vec<BatchEvent> {
    let mut events = Vec::new();
    while let Some(event) = runner.next().await {
        events.push(event.unwrap());
    }
    events
}

#[tokio::test]
async fn runs_advance_together_one_batch_per_round() {
    let api = Fake::new(echo_then_answer);
    let (tools, calls) = echo();
    let mut runner = fleet(Arc::clone(&api), tools, 3);
    let events = events(&mut runner).await;

    let created = api.created();
    assert_eq!(created.len(), 2, "one batch per round");
    let ids: Vec<&str> = created[0].iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["r0", "r1", "r2"]);
    for (_, body) in created.iter().flatten() {
        // A batch request carries the whole conversation, never a thread.
        assert!(body.get("thread").is_none(), "{body}");
    }
    let second = &created[1][1].1;
    assert_eq!(second["messages"].as_array().unwrap().len(), 3, "{second}");
    assert_eq!(second["messages"][0]["content"], "task 1");
    assert_eq!(
        second["messages"][2]["content"][0]["tool_use_id"],
        "toolu_r1"
    );
    // Each tool ran once; no store, so no idempotency keys.
    assert_eq!(*calls.lock().unwrap(), [None, None, None]);

    let submitted = events
        .iter()
        .filter(|e| matches!(e, BatchEvent::Submitted { requests: 3, .. }))
        .count();
    assert_eq!(submitted, 2);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, BatchEvent::RunFinished { .. }))
            .count(),
        3
    );
    assert!(matches!(
        events.last(),
        Some(BatchEvent::RunFinished { .. })
    ));

    let progress = runner.progress();
    assert_eq!(
        (
            progress.done,
            progress.running,
            progress.failed,
            progress.rounds
        ),
        (3, 0, 0, 2)
    );
    // The loop core's own sum, one per run, added up.
    let each = crate::usage::TokenUsage {
        requests: 2,
        input_tokens: 20,
        output_tokens: 3 + 7,
        cache_read_input_tokens: 10,
        ..Default::default()
    };
    assert_eq!(
        progress.usage,
        crate::usage::RunUsage {
            turns: each + each + each,
            compaction: Default::default(),
        }
    );

    let report = runner.into_report();
    assert_eq!(report.runs.len(), 3);
    for run in &report.runs {
        assert!(matches!(&run.outcome, RunOutcome::Finished(m) if m.text() == "done"));
        assert_eq!(run.usage.turns, each);
        assert_eq!(run.usage, run.state.usage());
        assert_eq!(run.state.messages().len(), 4);
    }
}

#[tokio::test]
async fn an_errored_request_goes_into_the_next_round() {
    let attempts = AtomicUsize::new(0);
    let api = Fake::new(move |custom_id, body| {
        if custom_id == "r0" && attempts.fetch_add(1, Ordering::SeqCst) == 0 {
            ItemResult::Errored(crate::Error::batch("overloaded"))
        } else {
            answer(custom_id, body)
        }
    });
    let mut runner = fleet(Arc::clone(&api), Toolset::new(), 2);
    let events = events(&mut runner).await;

    let created = api.created();
    assert_eq!(created.len(), 2);
    assert_eq!(created[1].len(), 1, "only the errored request goes again");
    assert_eq!(created[1][0].1, created[0][0].1, "the same request");
    assert!(events.iter().any(|e| matches!(e,
        BatchEvent::Retrying { run, retry: 1, reason } if run.as_str() == "run-0" && reason == "overloaded")));
    assert_eq!(runner.progress().done, 2);
}

#[tokio::test]
async fn a_request_failing_past_its_retries_fails_its_run_only() {
    let api = Fake::new(|custom_id, body| {
        if custom_id == "r0" {
            ItemResult::Expired
        } else {
            echo_then_answer(custom_id, body)
        }
    });
    let (tools, _) = echo();
    let mut runner = fleet(Arc::clone(&api), tools, 2).max_retries(1);
    let events = events(&mut runner).await;

    // r0: sent, retried once, then failed; r1 went on to its answer.
    let sent: Vec<usize> = api.created().iter().map(Vec::len).collect();
    assert_eq!(sent, [2, 2]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, BatchEvent::RunFailed { run, error }
        if run.as_str() == "run-0" && error.contains("expired")))
    );
    let progress = runner.progress();
    assert_eq!((progress.done, progress.failed), (1, 1));
    let report = runner.into_report();
    assert!(matches!(&report.runs[0].outcome, RunOutcome::Failed(e) if e.is_batch_run()));
    assert!(matches!(&report.runs[1].outcome, RunOutcome::Finished(_)));
}

#[tokio::test]
async fn cancelling_cancels_the_batch_in_flight_and_keeps_what_it_did() {
    let api = Arc::new(Fake {
        state: Mutex::default(),
        model: Box::new(answer),
        never_ends: true,
    });
    let mut runner = fleet(Arc::clone(&api), Toolset::new(), 2);
    let cancel = runner.cancel_token();
    let mut seen = Vec::new();
    while let Some(event) = runner.next().await {
        let event = event.unwrap();
        if matches!(event, BatchEvent::Submitted { .. }) {
            cancel.cancel();
        }
        seen.push(event);
    }
    assert!(matches!(&seen[1], BatchEvent::Cancelling { batch_id } if batch_id == "msgbatch_1"));
    assert!(matches!(&seen[2], BatchEvent::Polled { ended: true, .. }));
    assert_eq!(api.created().len(), 1, "nothing submitted after the cancel");
    let report = runner.into_report();
    assert!(
        report
            .runs
            .iter()
            .all(|r| matches!(r.outcome, RunOutcome::Unfinished))
    );
}

/// Runs kept in memory.
#[derive(Default)]
struct Memory(Mutex<HashMap<String, Vec<u8>>>);

impl RunStore for Memory {
    fn load<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, Option<RunState>> {
        let json = self.0.lock().unwrap().get(run.as_str()).cloned();
        Box::pin(async move { json.map(|j| RunState::from_json(&j)).transpose() })
    }
    fn save<'a>(&'a self, run: &'a RunId, state: &'a RunState) -> StoreFuture<'a, ()> {
        let json = state.to_json();
        Box::pin(async move {
            self.0
                .lock()
                .unwrap()
                .insert(run.as_str().to_owned(), json?);
            Ok(())
        })
    }
    fn delete<'a>(&'a self, run: &'a RunId) -> StoreFuture<'a, ()> {
        self.0.lock().unwrap().remove(run.as_str());
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn a_fleet_resumed_while_a_batch_processes_polls_it_rather_than_submit_again() {
    let api = Fake::new(echo_then_answer);
    let store = Arc::new(Memory::default());
    let (tools, calls) = echo();
    let mut first = fleet(Arc::clone(&api), tools.clone(), 2).store(Arc::clone(&store));
    // Given up as soon as its first batch is in: a process that died.
    until(&mut first, |e| matches!(e, BatchEvent::Submitted { .. })).await;
    drop(first);

    let mut resumed = fleet(Arc::clone(&api), tools, 2).store(Arc::clone(&store));
    let events = events(&mut resumed).await;
    assert!(
        matches!(&events[0], BatchEvent::Resumed { batch_id, requests: 2 } if batch_id == "msgbatch_1")
    );
    assert_eq!(
        api.created().len(),
        2,
        "the batch in flight was not submitted again"
    );
    // Kept in the store, the calls had idempotency keys.
    let mut keys: Vec<Option<String>> = calls.lock().unwrap().clone();
    keys.sort();
    assert_eq!(
        keys,
        [
            Some("run-0:toolu_r0".to_owned()),
            Some("run-1:toolu_r1".to_owned())
        ]
    );
    let report = resumed.into_report();
    assert!(
        report
            .runs
            .iter()
            .all(|r| matches!(r.outcome, RunOutcome::Finished(_)))
    );
    // The usage of the replies read by the first process is not lost.
    assert_eq!(report.progress.usage.turns.requests, 4);
    let saved = store
        .load(&RunId::new("run-0").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(saved.is_finished());
}

#[tokio::test]
async fn a_run_whose_calls_wait_for_a_human_leaves_the_fleet() {
    let api = Fake::new(echo_then_answer);
    let (tools, calls) = echo();
    let mut runner = fleet(Arc::clone(&api), tools, 1)
        .before_tool_call(|_call: crate::PendingCall| async { crate::Decision::Defer });
    let events = events(&mut runner).await;
    assert!(matches!(
        events.last(),
        Some(BatchEvent::RunAwaitingApproval { .. })
    ));
    assert!(calls.lock().unwrap().is_empty());
    assert_eq!(runner.progress().awaiting_approval, 1);
    let report = runner.into_report();
    assert!(matches!(
        report.runs[0].outcome,
        RunOutcome::AwaitingApproval
    ));
    assert_eq!(report.runs[0].state.pending_approvals().len(), 1);
}

#[tokio::test]
async fn a_run_added_twice_is_refused_before_anything_is_sent() {
    let api = Fake::new(answer);
    let params = MessageParams::new("m", 64).user("task");
    let id = RunId::new("same").unwrap();
    let mut runner = BatchRunner::with_api(Arc::clone(&api) as Arc<dyn BatchApi>, Toolset::new())
        .run(id.clone(), params.clone())
        .run(id, params);
    let error = runner.next().await.unwrap().unwrap_err();
    assert!(error.is_invalid_request());
    assert_eq!(
        error.to_string(),
        "invalid request: run `same` was added to the batch runner twice"
    );
    assert!(api.created().is_empty());
}

#[tokio::test]
async fn a_summary_request_goes_into_a_batch_and_compacts_its_run() {
    // Two calls, then an answer; the summary request is told apart by the
    // compaction prompt, its last message.
    let api = Fake::new(|custom_id, body| {
        let history = body["messages"].to_string();
        let last = &body["messages"][body["messages"].as_array().unwrap().len() - 1];
        if last["content"] == crate::DEFAULT_COMPACTION_PROMPT {
            return reply(
                "msg_s",
                "end_turn",
                json!([{"type": "text", "text": "SUMMARY"}]),
                2,
            );
        }
        let (next, stop) = if history.contains("toolu_2") {
            (json!([{"type": "text", "text": "done"}]), "end_turn")
        } else if history.contains("toolu_1") {
            (
                json!([{"type": "tool_use", "id": "toolu_2", "name": "echo", "input": {"word": custom_id}}]),
                "tool_use",
            )
        } else {
            (
                json!([{"type": "tool_use", "id": "toolu_1", "name": "echo", "input": {"word": custom_id}}]),
                "tool_use",
            )
        };
        reply("msg", stop, next, 1)
    });
    let (tools, _) = echo();
    // Every turn is past this threshold: compaction is due after each.
    let mut runner =
        fleet(Arc::clone(&api), tools, 1).compaction(crate::Compaction::new().threshold(1));
    events(&mut runner).await;

    let summaries: Vec<usize> = api
        .created()
        .iter()
        .enumerate()
        .filter(|(_, batch)| {
            batch
                .iter()
                .any(|(_, body)| body.to_string().contains("about to be cut"))
        })
        .map(|(round, _)| round + 1)
        .collect();
    assert!(!summaries.is_empty(), "a summary request went into a batch");
    let report = runner.into_report();
    let run = &report.runs[0];
    assert!(matches!(&run.outcome, RunOutcome::Finished(m) if m.text() == "done"));
    let first = serde_json::to_value(&run.state.messages()[0])
        .unwrap()
        .to_string();
    assert!(
        first.contains("<summary>") && first.contains("SUMMARY"),
        "{first}"
    );
    // The summaries' usage counts as compaction, apart from the turns'.
    assert_eq!(run.usage.turns.requests, 3);
    assert_eq!(run.usage.compaction.requests, summaries.len() as u64);
}

#[tokio::test]
async fn a_batch_that_never_ends_is_an_error_past_the_wait_and_polling_again_waits_on() {
    let api = Arc::new(Fake {
        state: Mutex::default(),
        model: Box::new(answer),
        never_ends: true,
    });
    let mut runner = fleet(Arc::clone(&api), Toolset::new(), 1).polling(
        crate::Polling::default()
            .delays(Duration::from_millis(1), Duration::from_millis(1))
            .within(Duration::ZERO),
    );
    let mut errors = Vec::new();
    while errors.len() < 2 {
        match runner
            .next()
            .await
            .expect("the stream goes on after an error")
        {
            Ok(_) => {}
            Err(error) => errors.push(error),
        }
    }
    for error in &errors {
        assert!(error.is_batch_not_ended(), "{error}");
        assert_eq!(error.batch_id(), Some("msgbatch_1"));
    }
    assert_eq!(api.created().len(), 1, "waiting on is not submitting again");
    assert!(api.state.lock().unwrap().polls >= 2);
}

#[tokio::test]
async fn a_run_approved_in_the_store_goes_on_when_the_fleet_is_started_again() {
    let api = Fake::new(echo_then_answer);
    let store = Arc::new(Memory::default());
    let (tools, calls) = echo();
    let mut first = fleet(Arc::clone(&api), tools.clone(), 1)
        .store(Arc::clone(&store))
        .before_tool_call(|_call: crate::PendingCall| async { crate::Decision::Defer });
    events(&mut first).await;
    assert!(calls.lock().unwrap().is_empty());

    // A human approves, from anywhere that reaches the store.
    let id = RunId::new("run-0").unwrap();
    let mut state = store.load(&id).await.unwrap().unwrap();
    let call = state.pending_approvals()[0].id.clone();
    state.approve(&call).unwrap();
    store.save(&id, &state).await.unwrap();

    let mut again = fleet(Arc::clone(&api), tools, 1).store(Arc::clone(&store));
    let events = events(&mut again).await;
    assert!(matches!(
        events.last(),
        Some(BatchEvent::RunFinished { .. })
    ));
    assert_eq!(*calls.lock().unwrap(), [Some("run-0:toolu_r0".to_owned())]);
    assert_eq!(
        api.created().len(),
        2,
        "the approved call's result went out in one more round"
    );
    let report = again.into_report();
    assert!(matches!(&report.runs[0].outcome, RunOutcome::Finished(m) if m.text() == "done"));
}

/// A `UsageTotals` as the batch runner wrote it into its record before it
/// used the loop core's usage: the run's first reply (`echo_then_answer`'s
/// tool call), written out as that type serialized.
const LEGACY_BATCH_USAGE: &str = r#"{"requests":1,"input_tokens":10,"output_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":5,"server_tool_uses":0}"#;

#[tokio::test]
async fn a_record_with_the_batch_runners_own_usage_sum_loads_and_counts_each_reply_once() {
    // A run kept after its first round: the reply read, its call not run.
    let api = Fake::new(echo_then_answer);
    let store = Arc::new(Memory::default());
    let (tools, _) = echo();
    let mut first = fleet(Arc::clone(&api), tools.clone(), 1).store(Arc::clone(&store));
    until(&mut first, |e| matches!(e, BatchEvent::RoundEnded { .. })).await;
    drop(first);
    let id = RunId::new("run-0").unwrap();
    let kept: Value = serde_json::from_slice(&store.0.lock().unwrap()[id.as_str()]).unwrap();
    assert!(
        kept["run"]["batch"].get("usage").is_none(),
        "the record no longer sums usage apart: {}",
        kept["run"]["batch"]
    );
    let first_reply: crate::usage::TokenUsage = serde_json::from_str(LEGACY_BATCH_USAGE).unwrap();

    // The two shapes written before: with the core's usage beside the
    // record's sum (both counted the same reply), and from before the core
    // summed usage (the record's sum is all there is).
    let mut both = kept.clone();
    both["run"]["batch"]["usage"] = serde_json::from_str(LEGACY_BATCH_USAGE).unwrap();
    let mut record_only = both.clone();
    record_only["run"].as_object_mut().unwrap().remove("usage");

    for (shape, old) in [("both", both), ("record only", record_only)] {
        let bytes = serde_json::to_vec(&old).unwrap();
        let state = RunState::from_json(&bytes).unwrap();
        assert_eq!(state.usage().turns, first_reply, "{shape}");
        assert!(state.usage().compaction.is_empty(), "{shape}");

        // Resumed from the old record, the run counts its second reply on
        // top of the first, once.
        let store = Arc::new(Memory::default());
        store.save(&id, &state).await.unwrap();
        let api = Fake::new(echo_then_answer);
        let mut resumed = fleet(Arc::clone(&api), tools.clone(), 1).store(Arc::clone(&store));
        events(&mut resumed).await;
        let report = resumed.into_report();
        assert!(
            matches!(&report.runs[0].outcome, RunOutcome::Finished(m) if m.text() == "done"),
            "{shape}"
        );
        let second_reply = crate::usage::TokenUsage {
            output_tokens: 7,
            ..first_reply
        };
        assert_eq!(
            report.runs[0].usage.turns,
            first_reply + second_reply,
            "{shape}"
        );
        assert_eq!(report.progress.usage, report.runs[0].usage, "{shape}");
    }
}
