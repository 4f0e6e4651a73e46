//! Calls `#[tool]` functions through `Toolset::call`: input parsing and its
//! errors, defaults, context parameters, result conversion, panics, and
//! where synchronous tools run.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use toolrunner::{Caller, State, ToolCall, ToolOutput, Toolset, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// How often `counted` ran; only one test calls it.
static COUNTED_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Add two integers, counting calls.
#[tool]
fn counted(a: i64, b: i64) -> i64 {
    COUNTED_CALLS.fetch_add(1, Ordering::SeqCst);
    a + b
}

/// Greet someone, with an optional title.
#[tool]
async fn greet(name: String, title: Option<String>) -> String {
    match title {
        Some(title) => format!("Hello, {title} {name}!"),
        None => format!("Hello, {name}!"),
    }
}

/// List things, a page at a time.
#[tool]
fn page(
    #[tool(default)] offset: u32,
    #[tool(default = 10)] limit: u32,
    #[tool(default = Some(String::from("asc")))] order: Option<String>,
) -> String {
    format!("{offset} {limit} {order:?}")
}

/// Describe a kind of thing.
#[tool]
fn describe(#[tool(rename = "type")] kind: String, r#ref: Option<u8>) -> String {
    format!("{kind} {ref:?}", ref = r#ref)
}

struct Db {
    customers: Vec<(u64, String)>,
}

/// Look a customer up.
#[tool(name = "lookup_customer")]
async fn lookup(db: State<Db>, id: u64) -> Result<String, String> {
    db.customers
        .iter()
        .find(|(key, _)| *key == id)
        .map(|(_, name)| name.clone())
        .ok_or_else(|| format!("no customer {id}"))
}

/// Report the call.
#[tool(allowed_callers = ["direct", "code"])]
fn whoami(call: ToolCall) -> String {
    format!("{} {}", call.id(), call.caller())
}

#[derive(Debug)]
struct DbError {
    source: io::Error,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("database unavailable")
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Fail with a chain of errors.
#[tool]
async fn connect() -> Result<(), DbError> {
    Err(DbError {
        source: io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused"),
    })
}

/// Fail with an I/O error.
#[tool]
fn read_config() -> io::Result<String> {
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "config.toml not found",
    ))
}

/// Panic, asynchronously.
#[tool]
async fn explode_async() -> u8 {
    panic!("async boom")
}

/// Panic, synchronously.
#[tool]
fn explode_sync() -> u8 {
    panic!("sync boom")
}

#[derive(Serialize)]
struct Weather {
    city: String,
    temperature: f64,
}

/// Report the weather.
#[tool]
fn weather(city: String) -> Weather {
    Weather {
        city,
        temperature: 21.5,
    }
}

/// Do nothing.
#[tool]
fn nothing() {}

/// Return output blocks.
#[tool]
fn blocks() -> ToolOutput {
    ToolOutput::text("first").with_block(toolrunner::TextBlock::new("second"))
}

/// A channel a synchronous tool waits on.
struct Signal(Mutex<mpsc::Receiver<()>>);

/// Wait for the signal; blocks its thread.
#[tool]
fn wait_for_signal(signal: State<Signal>) -> String {
    let Ok(rx) = signal.0.lock() else {
        return "poisoned".to_owned();
    };
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(()) => "signalled".to_owned(),
        Err(_) => "timed out".to_owned(),
    }
}

/// The name of the thread the tool runs on.
#[tool]
fn thread_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_owned()
}

/// The name of the thread the tool runs on, run inline.
#[tool(inline)]
fn inline_thread_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_owned()
}

fn tools() -> Toolset {
    toolset![
        add,
        greet,
        page,
        describe,
        lookup,
        whoami,
        connect,
        read_config,
        explode_async,
        explode_sync,
        weather,
        nothing,
        blocks,
        thread_name,
        inline_thread_name,
    ]
}

async fn call(tools: &Toolset, name: &str, input: Value) -> ToolOutput {
    tools.call(name, input, ToolCall::new("toolu_1")).await
}

/// The text of a successful result; fails the test on an error result.
async fn ok(tools: &Toolset, name: &str, input: Value) -> String {
    let out = call(tools, name, input).await;
    assert!(!out.is_error, "{name} failed: {out}");
    out.text_content()
}

/// The text of an error result; fails the test on a successful one.
async fn err(tools: &Toolset, name: &str, input: Value) -> String {
    let out = call(tools, name, input).await;
    assert!(out.is_error, "{name} should have failed: {out}");
    out.text_content()
}

#[tokio::test]
async fn valid_input_runs_the_function() {
    assert_eq!(ok(&tools(), "add", json!({"a": 2, "b": 3})).await, "5");
}

#[tokio::test]
async fn invalid_input_names_the_field_and_never_runs_the_function() {
    let tools = toolset![counted];
    let text = err(&tools, "counted", json!({"a": 1, "b": "x"})).await;
    assert_eq!(
        text,
        r#"invalid input for tool `counted`: b: "x" is not of type "integer""#
    );
    let text = err(&tools, "counted", json!({"a": 1})).await;
    assert_eq!(
        text,
        "invalid input for tool `counted`: b: missing required field"
    );
    let text = err(&tools, "counted", json!([1, 2])).await;
    assert_eq!(
        text,
        "invalid input for tool `counted`: expected a JSON object, got an array"
    );
    assert_eq!(
        COUNTED_CALLS.load(Ordering::SeqCst),
        0,
        "the function ran on invalid input"
    );
    assert_eq!(ok(&tools, "counted", json!({"a": 1, "b": 2})).await, "3");
    assert_eq!(COUNTED_CALLS.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once() {
    let text = err(&tools(), "add", json!({"a": "x", "b": true, "c": 1})).await;
    assert_eq!(
        text,
        "invalid input for tool `add`:\n\
         - a: \"x\" is not of type \"integer\"\n\
         - b: true is not of type \"integer\"\n\
         - c: unknown field, expected one of `a`, `b`"
    );
}

#[tokio::test]
async fn unknown_fields_are_rejected() {
    let text = err(&tools(), "add", json!({"a": 1, "b": 2, "c": 3})).await;
    assert_eq!(
        text,
        "invalid input for tool `add`: c: unknown field, expected one of `a`, `b`"
    );
    let text = err(&tools(), "nothing", json!({"x": 1})).await;
    assert_eq!(
        text,
        "invalid input for tool `nothing`: x: unknown field, this tool takes no input"
    );
}

#[tokio::test]
async fn option_parameters_may_be_absent_or_null() {
    let tools = tools();
    let absent = ok(&tools, "greet", json!({"name": "Ada"})).await;
    let null = ok(&tools, "greet", json!({"name": "Ada", "title": null})).await;
    let given = ok(&tools, "greet", json!({"name": "Ada", "title": "Dr"})).await;
    assert_eq!(absent, "Hello, Ada!");
    assert_eq!(null, "Hello, Ada!");
    assert_eq!(given, "Hello, Dr Ada!");
}

#[tokio::test]
async fn defaults_fill_absent_and_null_parameters() {
    let tools = tools();
    assert_eq!(ok(&tools, "page", json!({})).await, r#"0 10 Some("asc")"#);
    assert_eq!(ok(&tools, "page", Value::Null).await, r#"0 10 Some("asc")"#);
    let nulls = json!({"offset": null, "limit": null, "order": null});
    assert_eq!(ok(&tools, "page", nulls).await, r#"0 10 Some("asc")"#);
    let given = json!({"offset": 5, "limit": 2, "order": "desc"});
    assert_eq!(ok(&tools, "page", given).await, r#"5 2 Some("desc")"#);
    let text = err(&tools, "page", json!({"limit": -1})).await;
    assert!(
        text.contains("limit: -1 is less than the minimum of 0"),
        "{text}"
    );
}

#[tokio::test]
async fn renamed_and_raw_parameters_use_their_property_names() {
    let tools = tools();
    let out = ok(&tools, "describe", json!({"type": "fruit", "ref": 3})).await;
    assert_eq!(out, "fruit Some(3)");
    let text = err(&tools, "describe", json!({"kind": "fruit"})).await;
    assert_eq!(
        text,
        "invalid input for tool `describe`:\n\
         - kind: unknown field, expected one of `type`, `ref`\n\
         - type: missing required field"
    );
}

#[tokio::test]
async fn state_parameters_come_from_the_toolset() {
    let db = Db {
        customers: vec![(7, "Ada".to_owned())],
    };
    let tools = tools().with_state(db);
    assert_eq!(ok(&tools, "lookup_customer", json!({"id": 7})).await, "Ada");
    let text = err(&tools, "lookup_customer", json!({"id": 8})).await;
    assert_eq!(text, "no customer 8");
}

#[tokio::test]
async fn missing_state_is_an_error_naming_the_type() {
    let text = err(&tools(), "lookup_customer", json!({"id": 7})).await;
    assert!(text.contains("lookup_customer"), "{text}");
    assert!(text.contains("macro_dispatch::Db"), "{text}");
    assert!(text.contains("with_state"), "{text}");
}

#[tokio::test]
async fn tool_call_parameters_see_the_call() {
    let tools = tools();
    assert_eq!(ok(&tools, "whoami", json!({})).await, "toolu_1 direct");
    let call = ToolCall::new("toolu_9").with_caller(Caller::CodeMode);
    let out = tools.call("whoami", json!({}), call).await;
    assert_eq!(out.text_content(), "toolu_9 code mode");
}

#[tokio::test]
async fn errors_become_error_results_with_their_source_chain() {
    let tools = tools();
    let text = err(&tools, "connect", json!({})).await;
    assert_eq!(text, "database unavailable: connection refused");
    let text = err(&tools, "read_config", json!({})).await;
    assert_eq!(text, "config.toml not found");
}

#[tokio::test]
async fn panics_become_error_results() {
    let tools = tools();
    let text = err(&tools, "explode_async", json!({})).await;
    assert_eq!(text, "tool `explode_async` panicked: async boom");
    let text = err(&tools, "explode_sync", json!({})).await;
    assert_eq!(text, "tool `explode_sync` panicked: sync boom");
}

#[tokio::test]
async fn results_convert_by_type() {
    let tools = tools();
    let greeting = call(&tools, "greet", json!({"name": "Ada"})).await;
    assert_eq!(greeting.content.len(), 1);
    assert_eq!(greeting.text_content(), "Hello, Ada!");

    let weather = ok(&tools, "weather", json!({"city": "Paris"})).await;
    let weather: Value = serde_json::from_str(&weather).expect("JSON text");
    assert_eq!(weather, json!({"city": "Paris", "temperature": 21.5}));

    let nothing = call(&tools, "nothing", json!({})).await;
    assert!(!nothing.is_error);
    assert!(nothing.content.is_empty());

    let blocks = call(&tools, "blocks", json!({})).await;
    assert_eq!(blocks.content.len(), 2);
    assert_eq!(blocks.text_content(), "first\nsecond");
}

/// A current-thread runtime has one thread: a synchronous tool that blocks
/// it would keep the signal from ever being sent, and time out. It is
/// signalled because it runs on the blocking pool.
#[tokio::test(flavor = "current_thread")]
async fn sync_tools_run_on_the_blocking_pool() {
    let (tx, rx) = mpsc::channel();
    let tools = toolset![wait_for_signal].with_state(Signal(Mutex::new(rx)));
    let waiting = tokio::spawn(tools.call("wait_for_signal", json!({}), ToolCall::new("toolu_1")));
    // Let the tool start, then signal it from this (the runtime's only) thread.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    tx.send(()).expect("the tool is waiting");
    let out = waiting.await.expect("no panic");
    assert_eq!(out.text_content(), "signalled");
}

#[tokio::test(flavor = "current_thread")]
async fn sync_tools_run_off_the_runtime_thread_unless_inline() {
    let tools = tools();
    let here = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .to_owned();
    let pooled = ok(&tools, "thread_name", json!({})).await;
    let inline = ok(&tools, "inline_thread_name", json!({})).await;
    assert_ne!(pooled, here);
    assert_eq!(inline, here);
}

#[test]
fn functions_stay_directly_callable() {
    assert_eq!(add(2, 2), 4);
    assert_eq!(page(1, 2, None), "1 2 None");
    assert_eq!(describe("x".to_owned(), None), "x None");
    assert_eq!(weather("Oslo".to_owned()).city, "Oslo");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let greeting = runtime.block_on(greet("Ada".to_owned(), None));
    assert_eq!(greeting, "Hello, Ada!");
}

#[test]
fn sync_tools_run_inline_outside_a_runtime() {
    // `Toolset::call` futures can be polled by any executor; without tokio
    // the blocking pool is not available and the body runs in place.
    let out = futures_util::FutureExt::now_or_never(tools().call(
        "add",
        json!({"a": 1, "b": 1}),
        ToolCall::new("toolu_1"),
    ));
    assert_eq!(out.map(|o| o.text_content()), Some("2".to_owned()));
}

/// The macro crate's own copy of the API's rules, compiled here on its own so
/// that one test can hold it against the runtime's.
#[path = "../../../runner-macros/src/rules.rs"]
mod macro_rules;

#[test]
fn the_macro_and_the_runtime_agree_on_tool_names_and_caller_versions() {
    let long = "a".repeat(64);
    let too_long = "a".repeat(65);
    let names = [
        "",
        "a",
        "get_weather",
        "get-weather",
        "A9",
        "with space",
        "dot.ted",
        "é",
        "naïve",
        long.as_str(),
        too_long.as_str(),
        "code_execution_20260120",
    ];
    for name in names {
        assert_eq!(
            macro_rules::is_valid_tool_name(name),
            toolrunner::is_valid_tool_name(name),
            "tool name {name:?}"
        );
    }
    let versions = [
        "code_execution_20260120",
        "code_execution_20260521",
        "code_execution_20250825",
        "code_execution_2026012",
        "code_execution_202601200",
        "code_execution_2026012x",
        "code_execution_",
        "code",
        "direct",
        "Code_execution_20260120",
        "code_execution_２0260120",
    ];
    for version in versions {
        assert_eq!(
            macro_rules::is_code_execution_version(version),
            toolrunner::is_code_execution_version(version),
            "caller version {version:?}"
        );
    }
}
