//! Conformance with the wire as the official SDKs declare it: every content
//! block, delta, stream event and stop reason of their current unions is read
//! into its variant or kept verbatim, and goes back byte for byte; the SSE
//! parser and response decoding survive any input; and a streamed reply
//! builds the same message as the same reply sent whole.

use crate::support;

use support::*;

use proptest::prelude::*;
use serde_json::{Value, json};
use toolrunner::stream::{Delta, StreamEvent};
use toolrunner::testing::{Part, Reply, ScriptedServer, Sequence, parse_sse};
use toolrunner::{ContentBlock, Message, StopReason, tool, toolset};

/// Where the lists below were read from.
const SDK: &str = "anthropic (Python) 2.14.0, types/beta";

/// `BetaContentBlock`: each type with an example as the API sends it, and
/// whether this crate has a typed variant for it.
const CONTENT_BLOCKS: &[(&str, bool, &str)] = &[
    (
        "text",
        true,
        r#"{"type":"text","text":"Hi.","citations":[{"type":"char_location","cited_text":"Hi","document_index":0,"document_title":null,"start_char_index":0,"end_char_index":2}]}"#,
    ),
    (
        "thinking",
        true,
        r#"{"type":"thinking","thinking":"Let me see.","signature":"sig_1"}"#,
    ),
    (
        "redacted_thinking",
        true,
        r#"{"type":"redacted_thinking","data":"opaque"}"#,
    ),
    (
        "tool_use",
        true,
        r#"{"type":"tool_use","id":"toolu_1","name":"echo","input":{"text":"x"}}"#,
    ),
    (
        "server_tool_use",
        true,
        r#"{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"rust"}}"#,
    ),
    (
        "web_search_tool_result",
        false,
        r#"{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://www.rust-lang.org","title":"Rust","encrypted_content":"e","page_age":null}]}"#,
    ),
    (
        "web_fetch_tool_result",
        false,
        r#"{"type":"web_fetch_tool_result","tool_use_id":"srvtoolu_2","content":{"type":"web_fetch_tool_result_error","error_code":"url_not_accessible"}}"#,
    ),
    (
        "advisor_tool_result",
        false,
        r#"{"type":"advisor_tool_result","tool_use_id":"srvtoolu_3","content":{"type":"advisor_result","text":"Consider caching."}}"#,
    ),
    (
        "code_execution_tool_result",
        false,
        r#"{"type":"code_execution_tool_result","tool_use_id":"srvtoolu_4","content":{"type":"encrypted_code_execution_result","encrypted_stdout":"e","stderr":"","return_code":0,"content":[]}}"#,
    ),
    (
        "bash_code_execution_tool_result",
        false,
        r#"{"type":"bash_code_execution_tool_result","tool_use_id":"srvtoolu_5","content":{"type":"bash_code_execution_result","stdout":"ok","stderr":"","return_code":0,"content":[]}}"#,
    ),
    (
        "text_editor_code_execution_tool_result",
        false,
        r#"{"type":"text_editor_code_execution_tool_result","tool_use_id":"srvtoolu_6","content":{"type":"text_editor_code_execution_view_result","content":"x","file_type":"text","num_lines":1,"start_line":1,"total_lines":1}}"#,
    ),
    (
        "tool_search_tool_result",
        false,
        r#"{"type":"tool_search_tool_result","tool_use_id":"srvtoolu_7","content":{"type":"tool_search_tool_search_result","tool_references":[{"type":"tool_reference","tool_name":"echo"}]}}"#,
    ),
    (
        "mcp_tool_use",
        false,
        r#"{"type":"mcp_tool_use","id":"mcptoolu_1","name":"lookup","server_name":"crm","input":{"id":7}}"#,
    ),
    (
        "mcp_tool_result",
        false,
        r#"{"type":"mcp_tool_result","tool_use_id":"mcptoolu_1","is_error":false,"content":[{"type":"text","text":"found"}]}"#,
    ),
    (
        "container_upload",
        false,
        r#"{"type":"container_upload","file_id":"file_1"}"#,
    ),
    (
        "compaction",
        false,
        r#"{"type":"compaction","content":"Summary.","encrypted_content":"enc","signature":"sig_c","tool_changes":[]}"#,
    ),
    (
        "fallback",
        false,
        r#"{"type":"fallback","from":{"model":"a"},"to":{"model":"b"},"trigger":{"type":"refusal"}}"#,
    ),
    (
        "mcp_tool_listing",
        false,
        r#"{"type":"mcp_tool_listing","mcp_server_name":"crm","tools":[]}"#,
    ),
];

/// `BetaRawContentBlockDelta`: each type with an example.
const DELTAS: &[(&str, &str)] = &[
    ("text_delta", r#"{"type":"text_delta","text":"more"}"#),
    (
        "input_json_delta",
        r#"{"type":"input_json_delta","partial_json":"{\"a\":"}"#,
    ),
    (
        "citations_delta",
        r#"{"type":"citations_delta","citation":{"type":"char_location","cited_text":"Hi","document_index":0,"document_title":null,"start_char_index":0,"end_char_index":2}}"#,
    ),
    (
        "thinking_delta",
        r#"{"type":"thinking_delta","thinking":"hmm"}"#,
    ),
    (
        "signature_delta",
        r#"{"type":"signature_delta","signature":"sig"}"#,
    ),
    (
        "compaction_delta",
        r#"{"type":"compaction_delta","content":"Summary.","encrypted_content":"enc"}"#,
    ),
];

/// `BetaRawMessageStreamEvent`.
const STREAM_EVENTS: &[&str] = &[
    "message_start",
    "message_delta",
    "message_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
];

/// `BetaStopReason`.
const STOP_REASONS: &[&str] = &[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "compaction",
    "refusal",
    "model_context_window_exceeded",
];

/// Echo the text back.
#[tool]
fn echo(text: String) -> String {
    text
}

#[test]
fn every_content_block_type_is_typed_or_kept_verbatim() {
    for (kind, typed, json) in CONTENT_BLOCKS {
        let block: ContentBlock =
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{SDK}: `{kind}`: {e}"));
        assert_eq!(block.kind(), *kind, "{SDK}");
        assert_eq!(
            !matches!(block, ContentBlock::Other(_)),
            *typed,
            "{SDK}: `{kind}` read as {block:?}"
        );
        let back = serde_json::to_value(&block).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<Value>(json).unwrap(),
            "{SDK}: `{kind}`"
        );
        if let ContentBlock::Other(other) = &block {
            assert_eq!(other.json(), *json, "{SDK}: `{kind}` kept byte for byte");
        }
    }
}

#[tokio::test]
async fn every_content_block_goes_back_to_the_api_byte_for_byte() {
    let content: Vec<Value> = CONTENT_BLOCKS
        .iter()
        .map(|(_, _, json)| serde_json::from_str(json).unwrap())
        .collect();
    let server = ScriptedServer::start(Sequence::new([
        Reply::message(message("msg_1", Value::Array(content), "tool_use")),
        Reply::message(message("msg_2", json!([text("ok")]), "end_turn")),
    ]))
    .await
    .unwrap();
    client(&server)
        .tool_runner(params(), toolset![echo])
        .message_threads(false)
        .until_done()
        .await
        .unwrap();
    let sent = &server.recorded()[1].body;
    for (kind, typed, json) in CONTENT_BLOCKS {
        if !typed {
            assert!(
                sent.contains(json),
                "{SDK}: `{kind}` not sent back verbatim: {sent}"
            );
        }
    }
    let request: Value = serde_json::from_str(sent).unwrap();
    let returned = request["messages"][1]["content"].as_array().unwrap();
    for (i, (kind, _, json)) in CONTENT_BLOCKS.iter().enumerate() {
        assert_eq!(
            returned[i],
            serde_json::from_str::<Value>(json).unwrap(),
            "{SDK}: `{kind}`"
        );
    }
}

#[test]
fn every_delta_type_is_typed_and_kept_whole() {
    for (kind, json) in DELTAS {
        let body = format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{json}}}\n\n"
        );
        let events = parse_sse([body.as_bytes()]);
        let Ok(StreamEvent::ContentBlockDelta { delta, .. }) = &events[0] else {
            panic!("{SDK}: `{kind}` read as {events:?}");
        };
        assert!(
            !matches!(delta, Delta::Other(_)),
            "{SDK}: `{kind}` is not typed"
        );
        assert_eq!(
            serde_json::to_string(&delta.to_value()).unwrap(),
            *json,
            "{SDK}: `{kind}` kept whole"
        );
    }
    let unknown = r#"{"type":"future_delta","x":1}"#;
    let body = format!("event: content_block_delta\ndata: {{\"index\":0,\"delta\":{unknown}}}\n\n");
    let events = parse_sse([body.as_bytes()]);
    let expected: Value = serde_json::from_str(unknown).unwrap();
    assert!(
        matches!(&events[0], Ok(StreamEvent::ContentBlockDelta { delta: Delta::Other(v), .. }) if *v == expected),
        "{events:?}"
    );
}

#[test]
fn every_stream_event_and_stop_reason_is_typed() {
    let data = |event: &str| match event {
        "message_start" => {
            json!({"type": event, "message": {"id": "msg_1", "type": "message", "role": "assistant",
            "model": "m", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 0}}})
        }
        "message_delta" => {
            json!({"type": event, "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}})
        }
        "content_block_start" => {
            json!({"type": event, "index": 0, "content_block": {"type": "text", "text": ""}})
        }
        "content_block_delta" => {
            json!({"type": event, "index": 0, "delta": {"type": "text_delta", "text": "x"}})
        }
        _ => json!({"type": event, "index": 0}),
    };
    for event in STREAM_EVENTS {
        let body = format!("event: {event}\ndata: {}\n\n", data(event));
        let events = parse_sse([body.as_bytes()]);
        assert!(
            matches!(&events[..], [Ok(e)] if !matches!(e, StreamEvent::Other { .. })),
            "{SDK}: `{event}` read as {events:?}"
        );
    }
    for reason in STOP_REASONS {
        let parsed: StopReason = serde_json::from_value(json!(reason)).unwrap();
        assert!(
            !matches!(parsed, StopReason::Other(_)),
            "{SDK}: `{reason}` is not typed"
        );
        assert_eq!(parsed.as_str(), *reason);
    }
}

/// The SSE events of a reply that uses every block and delta type, and the
/// same message whole.
fn transcript() -> (Vec<String>, Value) {
    let citation = json!({"type": "char_location", "cited_text": "Hi", "document_index": 0,
                          "document_title": null, "start_char_index": 0, "end_char_index": 2});
    let whole = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [
            {"type": "thinking", "thinking": "Let me see.", "signature": "sig_1"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "Hi there.", "citations": [citation]},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "code_execution", "input": {"code": "print(1)"}},
            {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_1", "content": {"type": "code_execution_result",
                "stdout": "1\n", "stderr": "", "return_code": 0, "content": []}},
            {"type": "compaction", "content": "Summary.", "encrypted_content": "enc", "signature": "sig_c"},
            {"type": "tool_use", "id": "toolu_1", "name": "echo", "input": {"text": "é"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 20},
        "stop_details": null,
        "context_management": {"applied_edits": []}
    });
    let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    let mut start = whole.clone();
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["usage"]["output_tokens"] = json!(1);
    for key in ["stop_details", "context_management"] {
        start.as_object_mut().unwrap().shift_remove(key);
    }
    let mut events = vec![event(
        "message_start",
        json!({"type": "message_start", "message": start}),
    )];
    let blocks: &[(Value, Vec<Value>)] = &[
        (
            json!({"type": "thinking", "thinking": "", "signature": ""}),
            vec![
                json!({"type": "thinking_delta", "thinking": "Let me "}),
                json!({"type": "thinking_delta", "thinking": "see."}),
                json!({"type": "signature_delta", "signature": "sig_1"}),
            ],
        ),
        (
            json!({"type": "redacted_thinking", "data": "opaque"}),
            vec![],
        ),
        (
            json!({"type": "text", "text": ""}),
            vec![
                json!({"type": "text_delta", "text": "Hi "}),
                json!({"type": "citations_delta", "citation": citation}),
                json!({"type": "text_delta", "text": "there."}),
            ],
        ),
        (
            json!({"type": "server_tool_use", "id": "srvtoolu_1", "name": "code_execution", "input": {}}),
            vec![
                json!({"type": "input_json_delta", "partial_json": "{\"code\": \"pri"}),
                json!({"type": "input_json_delta", "partial_json": "nt(1)\"}"}),
            ],
        ),
        (whole["content"][4].clone(), vec![]),
        (
            json!({"type": "compaction", "content": null, "encrypted_content": null, "signature": "sig_c"}),
            vec![
                json!({"type": "compaction_delta", "content": "Summary.", "encrypted_content": "enc"}),
            ],
        ),
        (
            json!({"type": "tool_use", "id": "toolu_1", "name": "echo", "input": {}}),
            vec![json!({"type": "input_json_delta", "partial_json": "{\"text\": \"\\u00e9\"}"})],
        ),
    ];
    for (index, (opening, deltas)) in blocks.iter().enumerate() {
        events.push(event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": opening}),
        ));
        for delta in deltas {
            events.push(event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": delta}),
            ));
        }
        events.push(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
    }
    events.push(event(
        "message_delta",
        json!({"type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": null, "stop_details": null},
        "context_management": {"applied_edits": []}, "usage": {"output_tokens": 20}}),
    ));
    events.push(event("message_stop", json!({"type": "message_stop"})));
    (events, whole)
}

#[tokio::test]
async fn a_streamed_and_a_whole_reply_build_the_same_message() {
    let (events, whole) = transcript();
    let server = ScriptedServer::start(Sequence::new([
        Reply::message(whole),
        Reply::stream(events.into_iter().map(Part::Chunk)),
    ]))
    .await
    .unwrap();
    let client = client(&server);
    let sent_whole = client.create_message(&params()).await.unwrap();
    let mut stream = client.stream_message(&params()).await.unwrap();
    let streamed: Message = stream.message().await.unwrap().clone();
    assert_eq!(streamed, sent_whole);
    assert_eq!(
        serde_json::to_string(&streamed).unwrap(),
        serde_json::to_string(&sent_whole).unwrap()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_sse_parser_reads_any_split_as_it_reads_the_whole(
        body in proptest::collection::vec(any::<u8>(), 0..400),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        use_transcript in any::<bool>(),
    ) {
        let body = if use_transcript { transcript().0.concat().into_bytes() } else { body };
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut from = 0;
        for cut in cuts {
            chunks.push(&body[from..cut]);
            from = cut;
        }
        chunks.push(&body[from..]);
        let whole = format!("{:?}", parse_sse([&body[..]]));
        let split = format!("{:?}", parse_sse(chunks));
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn decoding_any_json_never_panics(value in arbitrary_json()) {
        let _ = serde_json::from_value::<Message>(value.clone());
        let _ = serde_json::from_value::<ContentBlock>(value.clone());
        let text = format!("event: message_start\ndata: {value}\n\nevent: content_block_start\ndata: {value}\n\n");
        let _ = parse_sse([text.as_bytes()]);
    }
}

/// Any JSON value, with object keys the decoders look for.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("type".to_owned()),
        Just("content".to_owned()),
        Just("id".to_owned()),
        Just("text".to_owned()),
        Just("input".to_owned()),
        Just("usage".to_owned()),
        Just("message".to_owned()),
        Just("index".to_owned()),
        Just("delta".to_owned()),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("text".to_owned()),
            Just("tool_use".to_owned()),
            Just("message".to_owned()),
            ".{0,8}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}
