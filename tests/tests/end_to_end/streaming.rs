//! Streamed turns over HTTP against a scripted server: typed events, the
//! accumulated message, partial reads, broken streams, and early tool start.

use crate::support;

use support::*;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use toolrunner::stream::{Delta, StreamEvent};
use toolrunner::testing::{Part, Reply, ScriptedServer, Sequence, sse_events};
use toolrunner::{State, StopReason, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::test]
async fn events_are_typed_and_build_the_message_the_loop_continues_with() {
    let first = message(
        "msg_1",
        json!([
            text("Adding now."),
            tool_use("toolu_1", "add", json!({"a": 20, "b": 22}))
        ]),
        "tool_use",
    );
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(&first),
        Reply::stream_message(message("msg_2", json!([text("It is 42.")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let mut runner = client_with_retries(&server, 1)
        .tool_runner(params(), toolset![add])
        .message_threads(false)
        .streaming();

    let turn = runner.next_turn().await.unwrap().expect("turn");
    let mut events = Vec::new();
    while let Some(event) = turn.next().await {
        events.push(event.expect("event"));
    }
    let names: Vec<&str> = events
        .iter()
        .map(|e| match e {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "block_start",
            StreamEvent::ContentBlockDelta {
                delta: Delta::Text(_),
                ..
            } => "text",
            StreamEvent::ContentBlockDelta {
                delta: Delta::InputJson(_),
                ..
            } => "json",
            StreamEvent::ContentBlockStop { .. } => "block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop => "message_stop",
            _ => "other",
        })
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "block_start",
            "text",
            "text",
            "block_stop",
            "block_start",
            "json",
            "json",
            "block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let streamed = turn.message().await.expect("message").clone();
    assert_eq!(streamed.text(), "Adding now.");
    assert_eq!(streamed.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(
        streamed.tool_uses().next().unwrap().input,
        json!({"a": 20, "b": 22})
    );
    assert_eq!(
        streamed.usage.input_tokens, 10,
        "usage from message_start is kept"
    );
    assert_eq!(streamed.usage.output_tokens, 5);

    let second = runner.next_turn().await.unwrap().expect("turn");
    assert_eq!(second.message().await.unwrap().text(), "It is 42.");
    assert!(runner.next_turn().await.is_none());

    let requests = server.requests();
    assert_eq!(requests[0]["stream"], true);
    assert_eq!(requests[1]["stream"], true);
    // The accumulated message goes back block for block, with the tool's result.
    assert_eq!(
        requests[1]["messages"],
        json!([
            {"role": "user", "content": "Go."},
            {"role": "assistant", "content": first["content"]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}]}
        ])
    );
}

#[tokio::test]
async fn a_body_that_reads_part_or_none_of_a_turn_still_gets_a_correct_loop() {
    let first = message(
        "msg_1",
        json!([
            text("Adding."),
            tool_use("toolu_1", "add", json!({"a": 1, "b": 2}))
        ]),
        "tool_use",
    );
    let second = message(
        "msg_2",
        json!([tool_use("toolu_2", "add", json!({"a": 3, "b": 4}))]),
        "tool_use",
    );
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream_message(&first),
        Reply::stream_message(&second),
        Reply::stream_message(message("msg_3", json!([text("Done.")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let mut runner = client_with_retries(&server, 1)
        .tool_runner(params(), toolset![add])
        .message_threads(false)
        .streaming();
    // Read two events of the first turn, then move on.
    let turn = runner.next_turn().await.unwrap().unwrap();
    turn.next().await.unwrap().unwrap();
    turn.next().await.unwrap().unwrap();
    // Read nothing of the second.
    runner.next_turn().await.unwrap().unwrap();
    let last = runner.next_turn().await.unwrap().unwrap();
    assert_eq!(last.message().await.unwrap().text(), "Done.");
    assert!(runner.next_turn().await.is_none());
    let requests = server.requests();
    assert_eq!(requests[1]["messages"][1]["content"], first["content"]);
    assert_eq!(requests[2]["messages"][3]["content"], second["content"]);
    assert_eq!(requests[2]["messages"][4]["content"][0]["content"], "7");
}

#[tokio::test]
async fn events_split_across_chunks_and_pings_are_handled() {
    let m = message(
        "msg_1",
        json!([
            text("héllo wörld"),
            tool_use("toolu_1", "add", json!({"a": 1, "b": 1}))
        ]),
        "end_turn",
    );
    let mut body = String::from(": a comment line\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n");
    body.extend(sse_events(&m));
    // Every byte its own network chunk (multibyte characters split too).
    let mut parts = Vec::new();
    let mut rest = body.as_str();
    while !rest.is_empty() {
        let end = (1..=rest.len())
            .find(|&i| rest.is_char_boundary(i))
            .unwrap();
        parts.push(Part::Chunk(rest[..end].to_owned()));
        rest = &rest[end..];
    }
    let server = ScriptedServer::start(Sequence::new([Reply::stream(parts)]))
        .await
        .unwrap();
    let mut runner = client_with_retries(&server, 1)
        .tool_runner(params(), toolset![add])
        .streaming();
    let turn = runner.next_turn().await.unwrap().unwrap();
    let first = turn.next().await.unwrap().unwrap();
    assert_eq!(first, StreamEvent::Ping);
    let message = turn.message().await.unwrap();
    assert_eq!(message.text(), "héllo wörld");
    assert_eq!(
        message.tool_uses().next().unwrap().input,
        json!({"a": 1, "b": 1})
    );
}

#[tokio::test]
async fn tool_input_fragments_are_joined_and_parsed_when_the_block_stops() {
    let events = [
        r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}"#,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"add","input":{}}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\": 4"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"0, \"b\""}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":": 2}"}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}"#,
        r#"{"type":"message_stop"}"#,
    ];
    let names = [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ];
    let parts = names
        .iter()
        .zip(events)
        .map(|(n, d)| Part::Chunk(format!("event: {n}\ndata: {d}\n\n")));
    let server = ScriptedServer::start(Sequence::new([Reply::stream(parts)]))
        .await
        .unwrap();
    let mut runner = client_with_retries(&server, 1)
        .tool_runner(params(), toolset![add])
        .streaming();
    let turn = runner.next_turn().await.unwrap().unwrap();
    let message = turn.message().await.unwrap();
    assert_eq!(
        message.tool_uses().next().unwrap().input,
        json!({"a": 40, "b": 2})
    );
    assert_eq!(message.usage.output_tokens, 9);
    assert_eq!(message.usage.input_tokens, 3);
}

#[tokio::test]
async fn an_error_event_mid_stream_is_a_typed_error() {
    let m = message("msg_1", json!([text("partial answer")]), "end_turn");
    let mut parts: Vec<Part> = sse_events(&m)
        .into_iter()
        .take(3)
        .map(Part::Chunk)
        .collect();
    parts.push(Part::Chunk(
        "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n".into(),
    ));
    let server = ScriptedServer::start(Sequence::new([Reply::stream(parts)]))
        .await
        .unwrap();
    let mut runner = client_with_retries(&server, 1)
        .tool_runner(params(), toolset![add])
        .streaming();
    let turn = runner.next_turn().await.unwrap().unwrap();
    let mut error = None;
    while let Some(event) = turn.next().await {
        if let Err(e) = event {
            error = Some(e);
        }
    }
    let error = error.expect("an error event");
    assert!(error.is_stream_error(), "{error}");
    assert_eq!(error.api_error_type(), Some("overloaded_error"));
    assert_eq!(error.api_message(), Some("Overloaded"));
    assert!(
        turn.message().await.is_err(),
        "no message from a failed stream"
    );
}

#[tokio::test]
async fn a_stream_cut_after_events_were_read_is_an_error_and_not_resent() {
    let m = message("msg_1", json!([text("this answer is cut")]), "end_turn");
    let mut parts: Vec<Part> = sse_events(&m)
        .into_iter()
        .take(3)
        .map(Part::Chunk)
        .collect();
    parts.push(Part::HangUp);
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream(parts),
        Reply::stream_message(message(
            "msg_2",
            json!([text("never asked for")]),
            "end_turn",
        )),
    ]))
    .await
    .unwrap();
    let mut runner = client_with_retries(&server, 1)
        .tool_runner(params(), toolset![add])
        .streaming();
    let turn = runner.next_turn().await.unwrap().unwrap();
    let mut seen = 0;
    let mut error = None;
    while let Some(event) = turn.next().await {
        match event {
            Ok(_) => seen += 1,
            Err(e) => error = Some(e),
        }
    }
    assert_eq!(seen, 3);
    let error = error.expect("the cut is reported");
    assert!(error.is_stream_broken(), "{error}");
    assert!(error.to_string().contains("message_stop"), "{error}");
    assert_eq!(
        server.requests().len(),
        1,
        "events were read: the turn is not requested again"
    );
}

#[tokio::test]
async fn a_stream_cut_before_any_event_was_read_is_requested_again() {
    let m = message("msg_1", json!([text("second time lucky")]), "end_turn");
    let mut cut: Vec<Part> = sse_events(&m)
        .into_iter()
        .take(2)
        .map(Part::Chunk)
        .collect();
    cut.push(Part::HangUp);
    let server = ScriptedServer::start(Sequence::new([
        Reply::stream(cut),
        Reply::stream_message(&m),
    ]))
    .await
    .unwrap();
    let mut runner = client_with_retries(&server, 1)
        .tool_runner(params(), toolset![add])
        .streaming();
    let turn = runner.next_turn().await.unwrap().unwrap();
    // Nothing was read before the cut: the message comes from the second try.
    assert_eq!(turn.message().await.unwrap().text(), "second time lucky");
    let recorded = server.recorded();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].body, recorded[1].body);
}

/// Records when each call finishes.
struct Log(Mutex<Vec<String>>, AtomicUsize, Arc<tokio::sync::Notify>);

/// A slow lookup.
#[tool]
async fn slow_lookup(log: State<Log>, key: String) -> String {
    tokio::time::sleep(Duration::from_millis(50)).await;
    log.0.lock().unwrap().push(format!("tool {key} done"));
    if log.1.fetch_add(1, Ordering::SeqCst) + 1 == 2 {
        log.2.notify_one();
    }
    format!("value of {key}")
}

/// The turn: two tool calls, then a tail of text that the server holds back
/// until `gate` opens (or, without a gate, after a pause).
fn two_tools_then_tail(gate: Option<Arc<tokio::sync::Notify>>) -> Reply {
    let m = message(
        "msg_1",
        json!([
            tool_use("toolu_1", "slow_lookup", json!({"key": "a"})),
            tool_use("toolu_2", "slow_lookup", json!({"key": "b"})),
            text("...and a long explanation that takes a while to write.")
        ]),
        "tool_use",
    );
    let events = sse_events(&m);
    // Blocks 0 and 1 (the two calls) are complete after 1 + 2 * 4 events.
    let (head, tail) = events.split_at(9);
    let mut parts: Vec<Part> = head.iter().cloned().map(Part::Chunk).collect();
    parts.push(match gate {
        Some(gate) => Part::Wait(gate),
        None => Part::Delay(Duration::from_millis(100)),
    });
    parts.extend(tail.iter().cloned().map(Part::Chunk));
    Reply::stream(parts)
}

async fn run_turn(early: bool) -> Vec<String> {
    let gate = Arc::new(tokio::sync::Notify::new());
    let log = Arc::new(Log(
        Mutex::new(Vec::new()),
        AtomicUsize::new(0),
        Arc::clone(&gate),
    ));
    let server = ScriptedServer::start(Sequence::new([
        two_tools_then_tail(early.then(|| Arc::clone(&gate))),
        Reply::stream_message(message("msg_2", json!([text("done")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let tools = toolset![slow_lookup].with_shared_state(Arc::clone(&log));
    let mut runner = client_with_retries(&server, 1)
        .tool_runner(params(), tools)
        .message_threads(false)
        .streaming()
        .early_tool_start(early);
    let mut first = true;
    while let Some(turn) = runner.next_turn().await {
        let turn = turn.expect("turn");
        while let Some(event) = turn.next().await {
            if let StreamEvent::MessageStop = event.expect("event")
                && std::mem::take(&mut first)
            {
                log.0.lock().unwrap().push("turn streamed".into());
            }
        }
    }
    let results = &server.requests()[1]["messages"][2]["content"];
    assert_eq!(results[0]["content"], "value of a");
    assert_eq!(results[1]["content"], "value of b");
    log.0.lock().unwrap().clone()
}

#[tokio::test]
async fn early_tool_start_runs_tools_while_the_tail_streams_and_never_twice() {
    // The server holds the tail back until both tools are done: only
    // tools started early can open the gate, so this turn finishes at all
    // only because they ran while the turn was streaming.
    let early = tokio::time::timeout(Duration::from_secs(20), run_turn(true))
        .await
        .expect("early start finishes");
    assert_eq!(early.len(), 3, "each tool ran once: {early:?}");
    assert_eq!(
        early[2], "turn streamed",
        "both tools finished before the turn: {early:?}"
    );

    // Without early start the tools wait for the end of the turn.
    let late = run_turn(false).await;
    assert_eq!(late.len(), 3, "{late:?}");
    assert_eq!(
        late[0], "turn streamed",
        "tools ran after the turn: {late:?}"
    );
}

/// A streamed reply of one `tool_use` block whose input is streamed as
/// `fragments`, stopping for `stop_reason`.
fn streamed_tool_call(id: &str, name: &str, fragments: &[&str], stop_reason: &str) -> Reply {
    let mut events = vec![
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": id, "type": "message", "role": "assistant", "model": "m",
                "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}}),
        ),
    ];
    for fragment in fragments {
        events.push((
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": fragment}}),
        ));
    }
    events.push((
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push((
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}, "usage": {"output_tokens": 9}}),
    ));
    events.push(("message_stop", json!({"type": "message_stop"})));
    Reply::stream(
        events
            .into_iter()
            .map(|(name, data)| Part::Chunk(format!("event: {name}\ndata: {data}\n\n"))),
    )
}

#[tokio::test]
async fn a_tool_input_cut_by_max_tokens_ends_the_turn_with_its_stop_reason_and_what_was_read() {
    let server = ScriptedServer::start(Sequence::new([streamed_tool_call(
        "msg_1",
        "add",
        &[r#"{"a": 40, "#, r#""b": 2, "note": "unfin"#],
        "max_tokens",
    )]))
    .await
    .unwrap();
    let message = client_with_retries(&server, 0)
        .tool_runner(params(), toolset![add])
        .streaming()
        .until_done()
        .await
        .expect("a cut input is not a broken stream");
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(
        message.tool_uses().next().unwrap().input,
        json!({"a": 40, "b": 2, "note": "unfin"})
    );
    assert_eq!(server.requests().len(), 1, "nothing is requested again");
}

static EAGER_ADDS: AtomicUsize = AtomicUsize::new(0);

/// Add two integers, counting calls.
#[tool]
fn counted_add(a: i64, b: i64) -> i64 {
    EAGER_ADDS.fetch_add(1, Ordering::SeqCst);
    a + b
}

#[tokio::test]
async fn a_tool_input_that_is_not_json_gets_an_error_result_and_the_loop_goes_on() {
    // With eager input streaming the API may stop for tools on an input
    // that is not valid JSON.
    let server = ScriptedServer::start(Sequence::new([
        streamed_tool_call("msg_1", "counted_add", &[r#"{"a": 1, "b": "#], "tool_use"),
        Reply::stream_message(message("msg_2", json!([text("Sorry.")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let done = client_with_retries(&server, 0)
        .tool_runner(params(), toolset![counted_add])
        .message_threads(false)
        .streaming()
        .until_done()
        .await
        .expect("run");
    assert_eq!(done.text(), "Sorry.");
    assert_eq!(EAGER_ADDS.load(Ordering::SeqCst), 0, "the tool never ran");
    let second = &server.requests()[1];
    assert_eq!(
        second["messages"][1]["content"][0]["input"],
        json!({"a": 1}),
        "the history keeps what could be read, as an object"
    );
    let result = &second["messages"][2]["content"][0];
    assert_eq!(result["tool_use_id"], "toolu_1");
    assert_eq!(result["is_error"], true);
    let says = result["content"].as_str().unwrap();
    assert!(
        says.starts_with("the input of tool `counted_add` was not valid JSON ("),
        "{says}"
    );
}

/// An SSE body of `(event, data)` pairs, one chunk each.
fn sse(events: Vec<(&str, serde_json::Value)>) -> Reply {
    Reply::stream(
        events
            .into_iter()
            .map(|(name, data)| Part::Chunk(format!("event: {name}\ndata: {data}\n\n"))),
    )
}

#[tokio::test]
async fn compaction_summaries_stop_details_and_unknown_deltas_are_kept_from_the_stream() {
    let first = sse(vec![
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
            "model": "m", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "compaction", "content": null, "signature": "sig_c", "tool_changes": []}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "compaction_delta", "content": "The user asked for sums.", "encrypted_content": "enc_1"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 1,
            "content_block": {"type": "future_block", "value": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "future_delta", "more": "x"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 1}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 2,
            "content_block": {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {}}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": "{\"a\": 1, \"b\": 2}"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 2}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": null, "stop_details": {"type": "refusal", "category": null, "explanation": null}},
            "context_management": {"applied_edits": []},
            "usage": {"output_tokens": 9}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ]);
    let server = ScriptedServer::start(Sequence::new([
        first,
        Reply::stream_message(message("msg_2", json!([text("3")]), "end_turn")),
    ]))
    .await
    .unwrap();
    let mut runner = client_with_retries(&server, 0)
        .tool_runner(params(), toolset![add])
        .message_threads(false)
        .streaming();
    let turn = runner.next_turn().await.unwrap().unwrap();
    let mut unknown_deltas = Vec::new();
    while let Some(event) = turn.next().await {
        if let StreamEvent::ContentBlockDelta {
            delta: Delta::Other(raw),
            ..
        } = event.unwrap()
        {
            unknown_deltas.push(raw);
        }
    }
    assert_eq!(
        unknown_deltas,
        [json!({"type": "future_delta", "more": "x"})]
    );
    let message = turn.message().await.unwrap().clone();
    assert_eq!(
        message.extra["stop_details"],
        json!({"type": "refusal", "category": null, "explanation": null})
    );
    assert_eq!(
        message.extra["context_management"],
        json!({"applied_edits": []})
    );
    let toolrunner::ContentBlock::Other(future) = &message.content[1] else {
        panic!("an unknown block is kept raw: {:?}", message.content[1]);
    };
    assert_eq!(
        future.deltas(),
        [json!({"type": "future_delta", "more": "x"})]
    );
    runner.until_done().await.unwrap();
    let sent_back = &server.requests()[1]["messages"][1]["content"];
    assert_eq!(
        sent_back[0],
        json!({"type": "compaction", "content": "The user asked for sums.", "signature": "sig_c",
               "tool_changes": [], "encrypted_content": "enc_1"})
    );
    assert_eq!(sent_back[1], json!({"type": "future_block", "value": ""}));
}

/// A streamed text reply whose events come `gap` apart, `pieces` text deltas in all.
fn slow_stream(pieces: usize, gap: Duration) -> (Reply, String) {
    let mut parts = vec![Part::Chunk(format!(
        "event: message_start\ndata: {}\n\n",
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 3, "output_tokens": 1}}})
    ))];
    let block = json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}});
    parts.push(Part::Chunk(format!(
        "event: content_block_start\ndata: {block}\n\n"
    )));
    let mut expected = String::new();
    for i in 0..pieces {
        parts.push(Part::Delay(gap));
        let piece = format!("{i} ");
        expected.push_str(&piece);
        let delta = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}});
        parts.push(Part::Chunk(format!(
            "event: content_block_delta\ndata: {delta}\n\n"
        )));
    }
    for (name, data) in [
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 9}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ] {
        parts.push(Part::Chunk(format!("event: {name}\ndata: {data}\n\n")));
    }
    (Reply::stream(parts), expected)
}

#[tokio::test]
async fn a_stream_longer_than_the_request_timeout_arrives_complete() {
    // 14 events 250 ms apart: 3.5 s of body under a 1 s timeout.
    let (reply, expected) = slow_stream(14, Duration::from_millis(250));
    let server = ScriptedServer::start(Sequence::new([reply])).await.unwrap();
    let client = toolrunner::Client::builder()
        .api_key("test-key")
        .base_url(server.url())
        .max_retries(0)
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let mut stream = client
        .stream_message(&params())
        .await
        .expect("headers in time");
    let message = stream
        .message()
        .await
        .expect("the whole body, however long");
    assert!(started.elapsed() >= Duration::from_millis(3500));
    assert_eq!(message.text(), expected);
    assert_eq!(server.requests().len(), 1, "never requested again");
}

#[tokio::test]
async fn a_stream_silent_for_longer_than_the_idle_timeout_is_broken() {
    let (reply, _) = slow_stream(2, Duration::from_millis(600));
    let server = ScriptedServer::start(Sequence::new([reply])).await.unwrap();
    let client = toolrunner::Client::builder()
        .api_key("test-key")
        .base_url(server.url())
        .max_retries(0)
        .stream_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let mut stream = client.stream_message(&params()).await.unwrap();
    let error = stream.message().await.unwrap_err();
    assert!(error.is_stream_broken(), "{error}");
    assert!(
        error.to_string().contains("nothing was received for 200ms"),
        "{error}"
    );
}

#[tokio::test]
async fn the_streaming_runner_is_configured_as_the_plain_one() {
    let first = message(
        "msg_1",
        json!([
            tool_use("toolu_1", "add", json!({"a": 1, "b": 2})),
            tool_use("toolu_2", "add", json!({"a": 3, "b": 4}))
        ]),
        "tool_use",
    );
    let server = ScriptedServer::start(Sequence::new([Reply::stream_message(&first)]))
        .await
        .unwrap();
    let denied = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&denied);
    // Every setting after `streaming()`, as on the plain runner.
    let mut runner = client(&server)
        .tool_runner(params(), toolset![add])
        .streaming()
        .message_threads(false)
        .max_iterations(1)
        .tool_concurrency(1)
        .before_tool_call(async move |call: toolrunner::PendingCall| {
            if call.input["a"] == 3 {
                count.fetch_add(1, Ordering::SeqCst);
                toolrunner::Decision::deny("no threes")
            } else {
                toolrunner::Decision::allow()
            }
        })
        .after_tool_call(
            async |_call: toolrunner::PendingCall, output: toolrunner::ToolOutput| {
                toolrunner::ToolOutput::text(format!("[{}]", output.text_content()))
            },
        );
    assert_eq!(runner.toolset().len(), 1);
    assert!(runner.last_message().is_none());

    runner.next_turn().await.unwrap().expect("turn");
    // The same type as the plain runner's, which reads the turn first.
    let response: Result<Option<&mut toolrunner::MessageParam>, toolrunner::Error> =
        runner.tool_response().await;
    assert!(response.unwrap().is_some());
    assert_eq!(runner.last_message().map(|m| m.id.as_str()), Some("msg_1"));
    let pairs: Vec<(String, String, bool)> = runner
        .tool_results()
        .await
        .unwrap()
        .into_iter()
        .map(|(call, result)| (call.id.clone(), result.text(), result.is_error))
        .collect();
    assert_eq!(
        pairs,
        [
            ("toolu_1".to_owned(), "[3]".to_owned(), false),
            ("toolu_2".to_owned(), "no threes".to_owned(), true)
        ]
    );
    assert_eq!(denied.load(Ordering::SeqCst), 1, "the tools ran once");
    // `max_iterations(1)`: no second request.
    let error = runner.next_turn().await.expect("an error").unwrap_err();
    assert!(error.is_max_iterations(), "{error}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn message_delta_usage_is_typed_and_merged_into_the_message() {
    let first = message("msg_1", json!([text("Hi.")]), "end_turn");
    let server = ScriptedServer::start(Sequence::new([Reply::stream_message(&first)]))
        .await
        .unwrap();
    let mut runner = client(&server)
        .tool_runner(params(), toolset![])
        .message_threads(false)
        .streaming();
    let turn = runner.next_turn().await.unwrap().expect("turn");
    let mut delta_usage = None;
    while let Some(event) = turn.next().await {
        // At the crate root too.
        if let toolrunner::StreamEvent::MessageDelta { usage, .. } = event.unwrap() {
            delta_usage = usage;
        }
    }
    let usage: toolrunner::Usage = delta_usage.expect("usage in message_delta");
    let message = turn.message().await.unwrap();
    assert_eq!(usage.output_tokens, message.usage.output_tokens);
    assert!(message.usage.input_tokens > 0, "the start's count is kept");
    let _: Option<toolrunner::Delta> = None;
}
