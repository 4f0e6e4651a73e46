//! Programmatic tool calling through the API's code-execution tool, end to
//! end against a scripted server: the wire mapping of callers, the added
//! code-execution tool, caller enforcement, containers, and the checks made
//! before anything is sent.

use crate::support;

use support::*;

use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::types::CodeExecutionOutcome;
use toolrunner::{
    Caller, Decision, ImageBlock, MessageParam, MessageParams, PendingCall, ToolCall, ToolOutput,
    tool, toolset,
};

const V: &str = "code_execution_20260120";

fn in_container(mut m: Value, container: &str) -> Value {
    m["container"] = json!({"id": container, "expires_at": "2026-11-21T12:00:00Z"});
    m
}

fn run_code(id: &str, code: &str) -> Value {
    json!({"type": "server_tool_use", "id": id, "name": "code_execution", "input": {"code": code}})
}

fn from_code(id: &str, name: &str, input: Value, run: &str) -> Value {
    json!({"type": "tool_use", "id": id, "name": name, "input": input, "caller": {"type": V, "tool_id": run}})
}

fn direct(id: &str, name: &str, input: Value) -> Value {
    json!({"type": "tool_use", "id": id, "name": name, "input": input, "caller": {"type": "direct"}})
}

fn code_result(run: &str, stdout: &str, return_code: i64) -> Value {
    json!({"type": "code_execution_tool_result", "tool_use_id": run, "content": {
        "type": "code_execution_result", "stdout": stdout, "stderr": "", "return_code": return_code, "content": []}})
}

fn params() -> MessageParams {
    MessageParams::new("claude-test", 512).user("Total the sales.")
}

/// Total sales of a region.
#[tool(allowed_callers = ["code"])]
fn query_sales(
    /// The region.
    region: String,
    call: ToolCall,
) -> Result<u64, String> {
    assert!(call.caller().is_code(), "only code reaches this tool");
    match region.as_str() {
        "north" => Ok(120),
        "south" => Ok(80),
        other => Err(format!("no region `{other}`")),
    }
}

/// Add two integers.
#[tool(allowed_callers = ["direct", "code"])]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

static CODE_ONLY_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Only code may call this; used by one test alone, which counts its runs.
#[tool(allowed_callers = ["code"])]
fn code_only() -> String {
    CODE_ONLY_RUNS.fetch_add(1, Ordering::SeqCst);
    "ran".into()
}

static DIRECT_ONLY_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Only the model may call this.
#[tool]
fn direct_only() -> String {
    DIRECT_ONLY_RUNS.fetch_add(1, Ordering::SeqCst);
    "ran".into()
}

static NOBODY_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Declared but never callable.
#[tool(allowed_callers = [])]
fn nobody() -> String {
    NOBODY_RUNS.fetch_add(1, Ordering::SeqCst);
    "ran".into()
}

/// Draw a chart.
#[tool(allowed_callers = ["direct", "code"])]
fn chart() -> ToolOutput {
    ToolOutput::text("a chart").with_image(ImageBlock::base64("image/png", "iVBORw0KGgo="))
}

#[tokio::test]
async fn a_turn_mixing_direct_and_code_calls_is_answered_in_order_in_the_container() {
    let server = server(vec![
        in_container(
            message(
                "msg_1",
                json!([
                    text("Let me compute."),
                    run_code(
                        "srvtoolu_1",
                        "for r in ['north', 'south']: print(await query_sales(region=r))"
                    ),
                    direct("toolu_d", "add", json!({"a": 1, "b": 2})),
                    from_code(
                        "toolu_c1",
                        "query_sales",
                        json!({"region": "north"}),
                        "srvtoolu_1"
                    ),
                ]),
                "tool_use",
            ),
            "container_1",
        ),
        in_container(
            message(
                "msg_2",
                json!([from_code(
                    "toolu_c2",
                    "query_sales",
                    json!({"region": "south"}),
                    "srvtoolu_1"
                )]),
                "tool_use",
            ),
            "container_1",
        ),
        in_container(
            message(
                "msg_3",
                json!([
                    code_result("srvtoolu_1", "120\n80\n", 0),
                    text("North 120, south 80.")
                ]),
                "end_turn",
            ),
            "container_1",
        ),
    ])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![query_sales, add])
        .message_threads(false);
    while let Some(m) = runner.next().await {
        m.expect("message");
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 3);

    // The code-execution tool is added once, before the toolset's tools,
    // and "code" is written as the version it runs.
    assert_eq!(
        requests[0]["tools"],
        json!([
            {"type": V, "name": "code_execution"},
            {"name": "query_sales", "description": "Total sales of a region.", "input_schema": {
                "type": "object", "properties": {"region": {"type": "string", "description": "The region."}},
                "required": ["region"], "additionalProperties": false},
             "allowed_callers": [V]},
            {"name": "add", "description": "Add two integers.", "input_schema": {
                "type": "object", "properties": {"a": {"type": "integer", "format": "int64"}, "b": {"type": "integer", "format": "int64"}},
                "required": ["a", "b"], "additionalProperties": false},
             "allowed_callers": ["direct", V]}
        ])
    );
    assert!(
        server.recorded()[0].header("anthropic-beta").is_none(),
        "the current version needs no beta"
    );
    assert_eq!(requests[0].get("container"), None);
    assert_eq!(requests[1]["container"], "container_1");
    assert_eq!(requests[2]["container"], "container_1");
    assert_eq!(
        requests[1]["messages"][2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_d", "content": "3"},
            {"type": "tool_result", "tool_use_id": "toolu_c1", "content": "120"}
        ]})
    );
    assert_eq!(
        requests[2]["messages"][4],
        json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_c2", "content": "80"}]})
    );

    // The run, typed: its code, output and the calls it made.
    let runs = runner.code_executions();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, "srvtoolu_1");
    assert!(runs[0].code.as_deref().unwrap().contains("query_sales"));
    let calls: Vec<_> = runs[0].tool_calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(calls, ["toolu_c1", "toolu_c2"]);
    assert_eq!(
        runs[0].outcome,
        Some(CodeExecutionOutcome::Finished {
            stdout: "120\n80\n".into(),
            stderr: String::new(),
            return_code: 0,
            file_ids: vec![]
        })
    );
    assert!(!runs[0].is_failure());
}

#[tokio::test]
async fn several_pending_code_calls_are_all_answered_with_tool_results_only() {
    let server = server(vec![
        in_container(
            message(
                "msg_1",
                json!([
                    run_code("srvtoolu_1", "await asyncio.gather(...)"),
                    from_code(
                        "toolu_1",
                        "query_sales",
                        json!({"region": "north"}),
                        "srvtoolu_1"
                    ),
                    from_code(
                        "toolu_2",
                        "query_sales",
                        json!({"region": "south"}),
                        "srvtoolu_1"
                    ),
                    from_code(
                        "toolu_3",
                        "query_sales",
                        json!({"region": "west"}),
                        "srvtoolu_1"
                    ),
                ]),
                "tool_use",
            ),
            "container_9",
        ),
        message(
            "msg_2",
            json!([code_result("srvtoolu_1", "200", 0), text("200")]),
            "end_turn",
        ),
    ])
    .await;
    client(&server)
        .tool_runner(params(), toolset![query_sales])
        .message_threads(false)
        .until_done()
        .await
        .expect("run");
    let answer = &server.requests()[1]["messages"][2];
    assert_eq!(
        *answer,
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "120"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "80"},
            {"type": "tool_result", "tool_use_id": "toolu_3", "content": "no region `west`", "is_error": true}
        ]})
    );
}

#[tokio::test]
async fn callers_are_enforced_both_ways_and_refused_tools_never_run() {
    let server = server(vec![
        in_container(
            message(
                "msg_1",
                json!([
                    run_code("srvtoolu_1", "direct_only()"),
                    direct("toolu_1", "code_only", json!({})),
                    from_code("toolu_2", "direct_only", json!({}), "srvtoolu_1"),
                    direct("toolu_3", "nobody", json!({})),
                    from_code("toolu_4", "nobody", json!({}), "srvtoolu_1"),
                    // A version the tool does not allow.
                    json!({"type": "tool_use", "id": "toolu_5", "name": "add", "input": {"a": 1, "b": 1},
                           "caller": {"type": "code_execution_20250825", "tool_id": "srvtoolu_1"}}),
                ]),
                "tool_use",
            ),
            "container_1",
        ),
        message("msg_2", json!([text("ok")]), "end_turn"),
    ])
    .await;
    let tools = toolset![code_only, direct_only, nobody, add];
    client(&server)
        .tool_runner(params(), tools)
        .message_threads(false)
        .until_done()
        .await
        .expect("run");
    let results = server.requests()[1]["messages"][2]["content"].clone();
    let texts: Vec<&str> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["content"].as_str().unwrap())
        .collect();
    for r in results.as_array().unwrap() {
        assert_eq!(r["is_error"], true, "{r}");
    }
    assert_eq!(
        texts[0],
        format!(
            "tool `code_only` cannot be called directly by the model; allowed callers: {}",
            "code"
        )
    );
    assert_eq!(
        texts[1],
        format!("tool `direct_only` cannot be called from code ({V}); allowed callers: direct")
    );
    assert_eq!(
        texts[2],
        "tool `nobody` cannot be called directly by the model; allowed callers: nobody"
    );
    assert_eq!(
        texts[3],
        format!("tool `nobody` cannot be called from code ({V}); allowed callers: nobody")
    );
    assert!(
        texts[4].starts_with("tool `add` cannot be called from code (code_execution_20250825)"),
        "{}",
        texts[4]
    );
    assert_eq!(
        CODE_ONLY_RUNS.load(Ordering::SeqCst),
        0,
        "code_only never ran"
    );
    assert_eq!(DIRECT_ONLY_RUNS.load(Ordering::SeqCst), 0);
    assert_eq!(NOBODY_RUNS.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_image_for_code_is_an_error_result_while_a_direct_call_gets_the_image() {
    let server = server(vec![
        in_container(
            message(
                "msg_1",
                json!([
                    run_code("srvtoolu_1", "chart()"),
                    from_code("toolu_1", "chart", json!({}), "srvtoolu_1"),
                    direct("toolu_2", "chart", json!({})),
                ]),
                "tool_use",
            ),
            "container_1",
        ),
        message("msg_2", json!([text("ok")]), "end_turn"),
    ])
    .await;
    client(&server)
        .tool_runner(params(), toolset![chart])
        .message_threads(false)
        .until_done()
        .await
        .expect("run");
    let results = server.requests()[1]["messages"][2]["content"].clone();
    assert_eq!(
        results[0],
        json!({"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true,
               "content": "tool `chart` returned image content, but a call from code can only receive text; return text (or JSON) when `ToolCall::caller()` is code"})
    );
    assert_eq!(
        results[1],
        json!({"type": "tool_result", "tool_use_id": "toolu_2", "content": [
            {"type": "text", "text": "a chart"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
        ]})
    );
}

#[tokio::test]
async fn pause_turn_in_the_middle_of_a_code_run_resumes_in_the_same_container() {
    let user_container =
        json!({"skills": [{"type": "anthropic", "skill_id": "pptx", "version": "latest"}]});
    let server = server(vec![
        in_container(
            message(
                "msg_1",
                json!([text("Working."), run_code("srvtoolu_1", "long_job()")]),
                "pause_turn",
            ),
            "container_7",
        ),
        in_container(
            message(
                "msg_2",
                json!([from_code(
                    "toolu_1",
                    "query_sales",
                    json!({"region": "north"}),
                    "srvtoolu_1"
                )]),
                "tool_use",
            ),
            "container_7",
        ),
        in_container(
            message(
                "msg_3",
                json!([code_result("srvtoolu_1", "", 1), text("It failed.")]),
                "end_turn",
            ),
            "container_7",
        ),
    ])
    .await;
    let params = params().container(user_container.clone());
    let mut runner = client(&server)
        .tool_runner(params, toolset![query_sales])
        .message_threads(false);
    let first = runner.next().await.unwrap().unwrap();
    assert_eq!(first.id, "msg_1");
    assert!(
        runner.tool_response().await.unwrap().is_none(),
        "a paused turn runs no tools"
    );
    assert!(runner.code_executions()[0].is_pending());
    while let Some(m) = runner.next().await {
        m.expect("message");
    }
    let requests = server.requests();
    let mut merged = user_container.clone();
    merged["id"] = json!("container_7");
    assert_eq!(requests[0]["container"], user_container);
    assert_eq!(requests[1]["container"], merged);
    assert_eq!(requests[2]["container"], merged);
    // The paused turn goes back as it came, with nothing after it.
    assert_eq!(
        requests[1]["messages"],
        json!([
            {"role": "user", "content": "Total the sales."},
            {"role": "assistant", "content": [text("Working."), run_code("srvtoolu_1", "long_job()")]}
        ])
    );
    // A non-zero return code is a failure, whatever the model's text says.
    let runs = runner.code_executions();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].is_failure());
}

#[tokio::test]
async fn an_expired_container_in_a_result_is_a_typed_error_with_its_id() {
    let server = server(vec![in_container(
        message(
            "msg_1",
            json!([
                run_code("srvtoolu_1", "x"),
                {"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_1",
                 "content": {"type": "code_execution_tool_result_error", "error_code": "container_expired"}},
                text("The container expired.")
            ]),
            "end_turn",
        ),
        "container_old",
    )])
    .await;
    let mut runner = client(&server).tool_runner(params(), toolset![query_sales]);
    let first = runner
        .next()
        .await
        .unwrap()
        .expect("the message itself arrives");
    assert_eq!(first.id, "msg_1");
    let error = runner.next().await.expect("an error follows").unwrap_err();
    assert!(error.is_container_expired(), "{error}");
    assert_eq!(error.container_id(), Some("container_old"));
    assert!(error.to_string().contains("container_old"), "{error}");
    assert!(runner.next().await.is_none());
    // The turn is kept, so a caller can start afresh from the history.
    assert_eq!(runner.messages().len(), 2);
    assert_eq!(
        runner.code_executions()[0].error_code(),
        Some("container_expired")
    );
}

#[tokio::test]
async fn an_api_error_about_the_container_is_a_typed_error_with_its_id() {
    let server = ScriptedServer::start(Sequence::new([Reply::error(
        400,
        "invalid_request_error",
        "Container container_gone has expired.",
    )]))
    .await
    .unwrap();
    let params = params().container(json!("container_gone"));
    let error = client(&server)
        .tool_runner(params, toolset![query_sales])
        .until_done()
        .await
        .unwrap_err();
    assert!(error.is_container_expired(), "{error}");
    assert_eq!(error.container_id(), Some("container_gone"));
    let source = std::error::Error::source(&error).expect("the API's answer is kept");
    assert!(source.to_string().contains("has expired"), "{source}");
}

#[tokio::test]
async fn an_older_version_is_selectable_and_brings_its_betas() {
    let server = server(vec![message("msg_1", json!([text("hi")]), "end_turn")]).await;
    client(&server)
        .tool_runner(params(), toolset![query_sales, add])
        .message_threads(false)
        .code_execution_version("code_execution_20250825")
        .until_done()
        .await
        .expect("run");
    let request = &server.requests()[0];
    assert_eq!(
        request["tools"][0],
        json!({"type": "code_execution_20250825", "name": "code_execution"})
    );
    assert_eq!(
        request["tools"][1]["allowed_callers"],
        json!(["code_execution_20250825"])
    );
    assert_eq!(
        request["tools"][2]["allowed_callers"],
        json!(["direct", "code_execution_20250825"])
    );
    assert_eq!(
        server.recorded()[0].header("anthropic-beta"),
        Some("code-execution-2025-08-25,advanced-tool-use-2025-11-20")
    );
}

#[tokio::test]
async fn a_declared_code_execution_tool_is_left_alone_and_sets_the_version() {
    let server = server(vec![message("msg_1", json!([text("hi")]), "end_turn")]).await;
    let declared = json!({"type": "code_execution_20250825", "name": "code_execution"});
    let params = params()
        .tool(declared.clone())
        .beta("code-execution-2025-08-25");
    client(&server)
        .tool_runner(params, toolset![query_sales])
        .message_threads(false)
        .until_done()
        .await
        .expect("run");
    let request = &server.requests()[0];
    let tools = request["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2, "no second code-execution tool: {tools:?}");
    assert_eq!(tools[0], declared);
    assert_eq!(
        tools[1]["allowed_callers"],
        json!(["code_execution_20250825"])
    );
    assert_eq!(
        server.recorded()[0].header("anthropic-beta"),
        Some("code-execution-2025-08-25")
    );
}

#[tokio::test]
async fn no_code_execution_tool_is_added_without_code_callers() {
    let server = server(vec![message("msg_1", json!([text("hi")]), "end_turn")]).await;
    client(&server)
        .tool_runner(params(), toolset![direct_only])
        .until_done()
        .await
        .expect("run");
    let tools = server.requests()[0]["tools"].clone();
    assert_eq!(tools.as_array().unwrap().len(), 1);
    assert_eq!(tools[0]["name"], "direct_only");
    assert_eq!(tools[0].get("allowed_callers"), None);
}

/// Strict and callable from code: not allowed.
#[tool(strict = true, allowed_callers = ["code"])]
fn strict_from_code() -> String {
    String::new()
}

async fn expect_invalid(runner: toolrunner::ToolRunner, server: &ScriptedServer, needle: &str) {
    let error = runner.until_done().await.unwrap_err();
    assert!(error.is_invalid_request(), "{error}");
    assert!(
        error.to_string().contains(needle),
        "`{error}` lacks `{needle}`"
    );
    assert!(server.requests().is_empty(), "nothing is sent");
}

#[tokio::test]
async fn incompatible_combinations_are_refused_before_sending() {
    let server = server(vec![]).await;
    let c = client(&server);

    expect_invalid(
        c.tool_runner(params(), toolset![strict_from_code]),
        &server,
        "tool `strict_from_code` is `strict` and callable from code",
    )
    .await;

    let forced = params().tool_choice(json!({"type": "tool", "name": "query_sales"}));
    expect_invalid(
        c.tool_runner(forced, toolset![query_sales]),
        &server,
        "forces tool `query_sales`",
    )
    .await;

    let no_parallel =
        params().tool_choice(json!({"type": "auto", "disable_parallel_tool_use": true}));
    expect_invalid(
        c.tool_runner(no_parallel, toolset![add]),
        &server,
        "disable_parallel_tool_use",
    )
    .await;

    let raw_strict = params().tool(json!({"name": "raw", "input_schema": {"type": "object"}, "strict": true, "allowed_callers": [V]}));
    expect_invalid(
        c.tool_runner(raw_strict, toolset![direct_only]),
        &server,
        "tool `raw` is `strict`",
    )
    .await;

    // The same options are fine without code callers.
    let server2 = self::server(vec![message("msg_1", json!([text("hi")]), "end_turn")]).await;
    let fine = params().tool_choice(
        json!({"type": "tool", "name": "direct_only", "disable_parallel_tool_use": true}),
    );
    client(&server2)
        .tool_runner(fine, toolset![direct_only])
        .until_done()
        .await
        .expect("allowed");
}

#[tokio::test]
async fn answering_pending_code_calls_with_anything_but_tool_results_is_refused() {
    let server = server(vec![in_container(
        message(
            "msg_1",
            json!([
                run_code("srvtoolu_1", "q()"),
                from_code(
                    "toolu_1",
                    "query_sales",
                    json!({"region": "north"}),
                    "srvtoolu_1"
                )
            ]),
            "tool_use",
        ),
        "container_1",
    )])
    .await;
    let mut runner = client(&server).tool_runner(params(), toolset![query_sales]);
    let first = runner.next().await.unwrap().unwrap();
    let results = runner
        .tool_response()
        .await
        .unwrap()
        .expect("tools")
        .clone();
    let mut answer = results.content_blocks().into_owned();
    answer.push(toolrunner::ContentBlock::text("And a note."));
    runner.push_messages([
        MessageParam::from(first),
        MessageParam::blocks(toolrunner::Role::User, answer),
    ]);
    let error = runner.next().await.unwrap().unwrap_err();
    assert!(error.is_invalid_request(), "{error}");
    assert!(
        error
            .to_string()
            .contains("only `tool_result` blocks, but it has a `text` block"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 1, "the bad request was not sent");
}

#[tokio::test]
async fn calls_from_code_under_20260521_are_answered_though_tagged_20260120() {
    // The API tags calls from code with `code_execution_20260120` whichever of
    // the interchangeable versions the request declared.
    let server = server(vec![
        in_container(
            message(
                "msg_1",
                json!([
                    run_code("srvtoolu_1", "print(query_sales('north'))"),
                    from_code("toolu_1", "query_sales", json!({"region": "north"}), "srvtoolu_1"),
                    // A truly different caller is still refused.
                    json!({"type": "tool_use", "id": "toolu_2", "name": "add", "input": {"a": 1, "b": 1},
                           "caller": {"type": "code_execution_20250825", "tool_id": "srvtoolu_1"}}),
                ]),
                "tool_use",
            ),
            "container_1",
        ),
        message("msg_2", json!([text("done")]), "end_turn"),
    ])
    .await;
    client(&server)
        .tool_runner(params(), toolset![query_sales, add])
        .message_threads(false)
        .code_execution_version("code_execution_20260521")
        .until_done()
        .await
        .expect("run");
    let requests = server.requests();
    assert_eq!(
        requests[0]["tools"][0],
        json!({"type": "code_execution_20260521", "name": "code_execution"})
    );
    let results = &requests[1]["messages"][2]["content"];
    assert_eq!(
        results[0],
        json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": "120"})
    );
    assert_eq!(results[1]["is_error"], true);
    assert!(
        results[1]["content"]
            .as_str()
            .unwrap()
            .starts_with("tool `add` cannot be called from code (code_execution_20250825)"),
        "{}",
        results[1]
    );
}

#[tokio::test]
async fn an_encrypted_result_is_read_and_its_return_code_counts() {
    let encrypted = json!({"type": "code_execution_tool_result", "tool_use_id": "srvtoolu_1", "content": {
        "type": "encrypted_code_execution_result", "encrypted_stdout": "EnCrYpTeD", "stderr": "Traceback",
        "return_code": 1, "content": [{"type": "code_execution_output", "file_id": "file_9"}]}});
    let server = server(vec![in_container(
        message(
            "msg_1",
            json!([
                run_code("srvtoolu_1", "search()"),
                encrypted.clone(),
                text("It failed.")
            ]),
            "end_turn",
        ),
        "container_1",
    )])
    .await;
    let mut runner = client(&server)
        .tool_runner(params(), toolset![query_sales])
        .message_threads(false);
    while runner.next().await.is_some() {}
    let runs = runner.code_executions();
    assert_eq!(
        runs[0].outcome,
        Some(CodeExecutionOutcome::Encrypted {
            encrypted_stdout: "EnCrYpTeD".into(),
            stderr: "Traceback".into(),
            return_code: 1,
            file_ids: vec!["file_9".into()],
        })
    );
    assert!(runs[0].is_failure());
    assert_eq!(runs[0].output_files(), ["file_9"]);
}

static REFUNDS: AtomicUsize = AtomicUsize::new(0);

/// Refund an order; used by one test alone, which counts its runs.
#[tool(allowed_callers = ["code"])]
fn refund(order: u32) -> String {
    REFUNDS.fetch_add(1, Ordering::SeqCst);
    format!("order {order} refunded")
}

/// A before-call hook for calls from the container: refunds of order 1 are
/// denied, of order 2 deferred; the rest run.
async fn refunds_checked(call: PendingCall) -> Decision {
    assert!(call.caller.is_code(), "{:?}", call.caller);
    match (call.name.as_str(), call.input["order"].as_u64()) {
        ("refund", Some(1)) => Decision::deny("order 1 is not refundable"),
        ("refund", Some(2)) => Decision::Defer,
        _ => Decision::Allow,
    }
}

#[tokio::test]
async fn calls_from_the_container_meet_the_hooks() {
    let container_turn = |calls: Value| {
        let mut content = vec![run_code("srvtoolu_1", "refund(...)")];
        content.extend(calls.as_array().unwrap().iter().cloned());
        in_container(message("msg_1", json!(content), "tool_use"), "container_1")
    };
    let server = server(vec![
        container_turn(json!([
            from_code("toolu_1", "refund", json!({"order": 1}), "srvtoolu_1"),
            from_code("toolu_2", "add", json!({"a": 1, "b": 2}), "srvtoolu_1"),
        ])),
        message("msg_2", json!([text("ok")]), "end_turn"),
        container_turn(json!([from_code(
            "toolu_3",
            "refund",
            json!({"order": 2}),
            "srvtoolu_1"
        ),])),
    ])
    .await;
    let refunds = REFUNDS.load(Ordering::SeqCst);
    client(&server)
        .tool_runner(params(), toolset![refund, add])
        .message_threads(false)
        .before_tool_call(refunds_checked)
        .after_tool_call(async |call: PendingCall, output: ToolOutput| {
            ToolOutput::text(format!(
                "{} (seen by {})",
                output.text_content(),
                call.caller
            ))
        })
        .until_done()
        .await
        .expect("run");
    assert_eq!(
        REFUNDS.load(Ordering::SeqCst),
        refunds,
        "the denied refund ran"
    );
    assert_eq!(
        server.requests()[1]["messages"][2]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "order 1 is not refundable", "is_error": true},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": format!("3 (seen by {V} (srvtoolu_1))")}
        ])
    );

    // A deferred call from the container waits for a human like a direct one.
    let mut runner = client(&server)
        .tool_runner(params(), toolset![refund, add])
        .message_threads(false)
        .before_tool_call(refunds_checked);
    while let Some(message) = runner.next().await {
        message.expect("turn");
    }
    assert_eq!(
        REFUNDS.load(Ordering::SeqCst),
        refunds,
        "the deferred refund ran"
    );
    let pending = runner.pending_approvals();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (
            pending[0].id.as_str(),
            &pending[0].input,
            &pending[0].caller
        ),
        (
            "toolu_3",
            &json!({"order": 2}),
            &Caller::CodeExecution {
                version: V.into(),
                tool_id: "srvtoolu_1".into()
            }
        )
    );
    assert_eq!(server.requests().len(), 3);
}

/// The debug events of the `toolrunner` crate, as `message` and fields.
#[derive(Clone, Default)]
struct DebugEvents(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl tracing::Subscriber for DebugEvents {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target().starts_with("toolrunner") && *metadata.level() == tracing::Level::DEBUG
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn the_added_code_execution_tool_is_logged_once_per_runner_naming_its_callers() {
    let events = DebugEvents::default();
    let _guard = support::capture::set_default(events.clone());
    let added = || {
        events
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.contains("adding the code-execution tool"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let server = server(vec![
        message(
            "msg_1",
            json!([direct("toolu_1", "add", json!({"a": 1, "b": 2}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("3")]), "end_turn"),
        message("msg_3", json!([text("hi")]), "end_turn"),
    ])
    .await;
    client(&server)
        .tool_runner(params(), toolset![direct_only, add])
        .message_threads(false)
        .until_done()
        .await
        .expect("run");
    // Two requests, each with the tool, and one event.
    assert_eq!(server.requests().len(), 2);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r["tools"][0] == json!({"type": V, "name": "code_execution"}))
    );
    assert_eq!(
        added(),
        [format!(
            " message=adding the code-execution tool to requests, for tools callable from code (programmatic tool calling) tool={V} callable_from_code=[\"add\"]"
        )]
    );

    // Another runner says it again; one without code callers does not.
    client(&server)
        .tool_runner(params(), toolset![add])
        .until_done()
        .await
        .expect("run");
    assert_eq!(added().len(), 2);
    let quiet = self::server(vec![message("msg_1", json!([text("hi")]), "end_turn")]).await;
    client(&quiet)
        .tool_runner(params(), toolset![direct_only])
        .until_done()
        .await
        .expect("run");
    assert_eq!(added().len(), 2);
}
