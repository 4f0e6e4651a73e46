//! Code mode end to end: the stubs the model reads, JSON both ways,
//! concurrency, every limit, every way out of the sandbox, errors, state,
//! and a runner over loopback HTTP with the exact request bodies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Barrier;
use toolrunner::code_mode::{CodeMode, Isolation, Limits, RUN_CODE, Worker};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{Client, MessageParams, State, ToolCall, ToolOutput, Toolset, tool, toolset};

async fn run(tools: &Toolset, code: &str) -> ToolOutput {
    tools
        .call(
            RUN_CODE,
            json!({ "code": code }),
            ToolCall::new("toolu_run"),
        )
        .await
}

/// Programs run in the workspace's test worker, as by default they run in
/// a worker.
fn worker() -> Isolation {
    Isolation::Worker(Worker::at(env!("CARGO_BIN_EXE_code-mode-worker")))
}

fn code_mode(tools: Toolset, limits: Limits) -> Toolset {
    CodeMode::new(tools)
        .limits(limits)
        .isolation(worker())
        .build()
        .expect("code mode")
}

/// Asserts a successful result and returns its text.
fn ok(out: ToolOutput) -> String {
    assert!(
        !out.is_error,
        "unexpected error result:\n{}",
        out.text_content()
    );
    out.text_content()
}

/// Asserts an error result and returns its text.
fn err(out: ToolOutput) -> String {
    assert!(
        out.is_error,
        "expected an error result, got:\n{}",
        out.text_content()
    );
    out.text_content()
}

// ---------------------------------------------------------------------------
// What the model sees
// ---------------------------------------------------------------------------

/// A temperature unit.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

/// Get the current weather for a city.
#[tool(allowed_callers = ["direct", "code"])]
fn get_weather(
    /// The city name, e.g. "Paris".
    city: String,
    /// Temperature unit; celsius when left out.
    unit: Option<Unit>,
) -> String {
    let unit = match unit {
        Some(Unit::Fahrenheit) => "°F",
        Some(Unit::Celsius) | None => "°C",
    };
    format!("sunny in {city}, 20 {unit}")
}

/// A point on the map.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Location {
    /// Latitude in degrees.
    lat: f64,
    /// Longitude in degrees.
    lon: f64,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Filters {
    /// Only results after this date (YYYY-MM-DD).
    since: Option<String>,
    /// Tags that must all match.
    tags: Vec<String>,
    /// Where to search around.
    near: Location,
}

/// Search the catalogue.
#[tool(allowed_callers = ["code"])]
fn search(
    /// Free text.
    query: String,
    filters: Filters,
    /// At most this many results.
    #[tool(default = 10)]
    limit: u32,
    /// Weight per field.
    boosts: HashMap<String, f64>,
) -> Vec<String> {
    let _ = (filters, boosts);
    (0..limit.min(3)).map(|i| format!("{query} #{i}")).collect()
}

/// Look a user up.
#[tool(name = "get-user", allowed_callers = ["code"])]
fn get_user(
    #[tool(rename = "user-id")] user_id: u64,
    /// Only users of this class.
    #[tool(rename = "class")]
    class: Option<String>,
) -> Value {
    json!({"id": user_id, "class": class})
}

/// A category and the ones below it.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Category {
    name: String,
    children: Vec<Category>,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Owner {
    #[serde(rename = "e-mail")]
    email: String,
    /// Whether the owner is still around.
    active: bool,
}

/// Store a category tree.
#[tool(allowed_callers = ["code"])]
fn store_tree(root: Category, owners: Vec<Owner>) -> usize {
    owners.len() + root.children.len()
}

/// Answer with pong.
#[tool]
fn ping() -> &'static str {
    "pong"
}

#[test]
fn stubs_are_generated_from_schemas() {
    let tools = CodeMode::new(toolset![get_weather, search, get_user, store_tree, ping])
        .isolation(worker())
        .build()
        .unwrap();
    // Direct tools stay; code-only ones are reachable through `run_code` only.
    assert_eq!(
        tools.names().collect::<Vec<_>>(),
        ["get_weather", "ping", "run_code"]
    );
    // Nothing advertises code callers, so the runner adds no code-execution tool.
    assert!(tools.definitions().all(|d| !d.allows_code()));
    let run_code = tools.get(RUN_CODE).unwrap().definition();
    insta::assert_snapshot!("stubs", run_code.description);
    insta::assert_json_snapshot!("run_code_input_schema", run_code.input_schema);
}

/// A direct tool that takes the name code mode needs.
#[tool(name = "run_code")]
fn clashing() -> &'static str {
    "mine"
}

#[test]
fn a_direct_tool_named_run_code_is_refused() {
    let err = CodeMode::new(toolset![clashing]).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "the toolset already has a tool named `run_code`"
    );
}

#[tokio::test]
async fn mapped_names_reach_their_tools() {
    let tools = code_mode(toolset![get_user, search], Limits::default());
    let text = ok(run(&tools, "await get_user(user_id=7, class_='admin')").await);
    assert_eq!(
        text,
        "Last expression (JSON):\n{\"id\": 7, \"class\": \"admin\"}"
    );
    let program = r#"
await search(query="tea", filters={"tags": ["green"], "near": {"lat": 1.5, "lon": 2}}, boosts={}, limit=2)
"#;
    assert_eq!(
        ok(run(&tools, program).await),
        "Last expression (JSON):\n[\"tea #0\", \"tea #1\"]"
    );
}

#[tokio::test]
async fn a_direct_and_code_tool_stays_callable_directly() {
    let tools = code_mode(toolset![get_weather], Limits::default());
    let out = tools
        .call(
            "get_weather",
            json!({"city": "Oslo"}),
            ToolCall::new("toolu_1"),
        )
        .await;
    assert_eq!(ok(out), "sunny in Oslo, 20 °C");
    let out = run(&tools, "await get_weather(city='Oslo', unit='fahrenheit')").await;
    assert_eq!(ok(out), "Last expression (JSON):\n\"sunny in Oslo, 20 °F\"");
}

// ---------------------------------------------------------------------------
// JSON both ways
// ---------------------------------------------------------------------------

/// Returns numbers no 64-bit type can hold.
#[tool(allowed_callers = ["code"])]
fn big() -> ToolOutput {
    ToolOutput::text(
        r#"{"big": 1234567890123456789012345678901234567890, "neg": -98765432109876543210987654321, "f": 1.5e300, "s": "é😀\n", "n": null, "ok": true, "list": [1, 2.5, []]}"#,
    )
}

#[tokio::test]
async fn big_integers_and_every_json_type_arrive_exactly() {
    let tools = code_mode(toolset![big], Limits::default());
    let program = r#"
v = await big()
print(v["big"] + 1, v["neg"] * 2, v["f"] / 1e300, v["n"] is None, v["ok"] is True, len(v["s"]))
v
"#;
    assert_eq!(
        ok(run(&tools, program).await),
        "Printed output:\n\
         1234567890123456789012345678901234567891 -197530864219753086421975308642 1.5 True True 3\n\n\
         Last expression (JSON):\n\
         {\"big\": 1234567890123456789012345678901234567890, \"neg\": -98765432109876543210987654321, \
         \"f\": 1.5e+300, \"s\": \"é😀\\n\", \"n\": null, \"ok\": true, \"list\": [1, 2.5, []]}"
    );
}

/// The inputs `echo` received.
struct Received(Mutex<Vec<Value>>);

/// Return the value given.
#[tool(allowed_callers = ["code"])]
fn echo(received: State<Received>, value: Value) -> Value {
    received.0.lock().unwrap().push(value.clone());
    json!({ "value": value })
}

/// A small deterministic generator, so that the test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_json(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 2 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 1),
        2 => json!(rng.next() as i64),
        3 => json!(rng.next()),
        // Floats with short decimal forms, which serde_json parses exactly.
        4 => json!((rng.next() as i16) as f64 / 256.0),
        5 => Value::String(
            (0..rng.below(6))
                .map(|_| ['a', 'é', '"', '\\', '\n', '😀', 'z', '\u{1}'][rng.below(8) as usize])
                .collect(),
        ),
        6 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(4))
                .map(|i| (format!("k{i}"), random_json(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// A JSON value written as a Python literal.
fn python(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(_) => value.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", json!(k), python(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[tokio::test]
async fn random_json_round_trips_through_arguments_and_results() {
    let received = Arc::new(Received(Mutex::new(Vec::new())));
    let tools = code_mode(
        toolset![echo].with_shared_state(Arc::clone(&received)),
        Limits::default(),
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200 {
        let value = random_json(&mut rng, 0);
        let program = format!("r = await echo(value={})\nr[\"value\"]", python(&value));
        let text = ok(run(&tools, &program).await);
        if value.is_null() {
            assert_eq!(
                text,
                "The program printed nothing, and its last expression is None."
            );
            assert_eq!(
                received.0.lock().unwrap().pop(),
                Some(value),
                "program: {program}"
            );
            continue;
        }
        let json = text
            .strip_prefix("Last expression (JSON):\n")
            .unwrap_or_else(|| panic!("no value in {text:?}"));
        let back: Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, value, "program: {program}");
        assert_eq!(
            received.0.lock().unwrap().pop(),
            Some(value),
            "program: {program}"
        );
    }
}

#[tokio::test]
async fn values_without_json_form_are_refused_clearly() {
    let received = Arc::new(Received(Mutex::new(Vec::new())));
    let tools = code_mode(
        toolset![echo].with_shared_state(received),
        Limits::default(),
    );
    let text = err(run(&tools, "await echo(value={1, 2})").await);
    assert!(
        text.ends_with(
            "TypeError: echo() argument 'value': Object of type set is not JSON serializable"
        ),
        "{text}"
    );
    let text = err(run(&tools, "await echo(value=2**64)").await);
    assert!(
        text.ends_with("TypeError: echo() argument 'value': integer 18446744073709551616 does not fit in 64 bits, the most a tool argument can hold"),
        "{text}"
    );
    // The last value need not be JSON: it comes back as its repr.
    let text = ok(run(&tools, "{1, 2}").await);
    assert_eq!(
        text,
        "Last expression (Python repr; it has no JSON form: Object of type set is not JSON serializable):\n{1, 2}"
    );
}

// ---------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------

/// Waits until ten calls are in flight, then sleeps 50 ms.
#[tool(allowed_callers = ["code"])]
async fn slow(barrier: State<Barrier>, i: u32) -> Result<u32, String> {
    tokio::time::timeout(Duration::from_secs(5), barrier.wait())
        .await
        .map_err(|_| "the ten calls were not in flight at once".to_owned())?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(i)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_awaited_together_run_concurrently() {
    let tools = code_mode(
        toolset![slow].with_state(Barrier::new(10)),
        Limits::default(),
    );
    let program = "import asyncio\nawait asyncio.gather(*(slow(i=i) for i in range(10)))";
    let started = Instant::now();
    let text = ok(run(&tools, program).await);
    let elapsed = started.elapsed();
    // The barrier lets no call finish before all ten have started, so the
    // calls cannot have run one after another. The bound is generous (they
    // take about 50 ms) and still far below the barrier's 5 s give-up.
    assert_eq!(
        text,
        "Last expression (JSON):\n[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
    );
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

static ADDS: AtomicUsize = AtomicUsize::new(0);

/// Add two integers.
#[tool(allowed_callers = ["code"])]
fn add(a: i64, b: i64) -> i64 {
    ADDS.fetch_add(1, Ordering::SeqCst);
    a + b
}

#[tokio::test]
async fn a_busy_program_is_stopped_at_the_time_limit() {
    let tools = code_mode(
        toolset![add],
        Limits::default().timeout(Duration::from_millis(200)),
    );
    for program in [
        "while True:\n    pass",
        // Catching the stop does not help.
        "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass",
    ] {
        let started = Instant::now();
        let text = err(run(&tools, program).await);
        assert_eq!(
            text,
            "Error: the program was stopped: it ran longer than the time limit of 200ms"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "took {:?}",
            started.elapsed()
        );
    }
}

static CANCELLED: AtomicUsize = AtomicUsize::new(0);

/// Never answers, until cancelled. It is synchronous, so it runs on the
/// blocking pool and dropping its future does not stop it: the token does.
#[tool(allowed_callers = ["code"])]
fn hang(call: ToolCall) -> String {
    while !call.is_cancelled() {
        std::thread::sleep(Duration::from_millis(5));
    }
    CANCELLED.fetch_add(1, Ordering::SeqCst);
    "cancelled".into()
}

#[tokio::test]
async fn the_time_limit_counts_time_spent_waiting_for_tools() {
    let tools = code_mode(
        toolset![hang],
        Limits::default().timeout(Duration::from_millis(200)),
    );
    let started = Instant::now();
    let text = err(run(&tools, "print('waiting')\nawait hang()").await);
    assert_eq!(
        text,
        "Printed output:\nwaiting\n\nError: the program was stopped: it ran longer than the time limit of 200ms"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    // The call left running is told that its result is no longer wanted.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(CANCELLED.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn tool_calls_past_the_limit_stop_the_program() {
    let tools = code_mode(toolset![add], Limits::default().max_tool_calls(3));
    let before = ADDS.load(Ordering::SeqCst);
    let program = "\
for i in range(5):
    try:
        print(await add(a=i, b=i))
    except Exception as e:
        print('caught', e)
";
    let text = err(run(&tools, program).await);
    assert_eq!(
        text,
        "Printed output:\n0\n2\n4\n\nError: the program was stopped: it tried to make more than 3 tool calls, the limit per program"
    );
    assert_eq!(ADDS.load(Ordering::SeqCst) - before, 3);
}

#[tokio::test]
async fn deep_recursion_raises_recursion_error() {
    let tools = code_mode(toolset![add], Limits::default().max_recursion_depth(50));
    let text = err(run(&tools, "def f(n):\n    return f(n + 1)\n\nf(0)").await);
    assert!(
        text.ends_with("RecursionError: maximum recursion depth exceeded\n(The sandbox allows at most 50 nested calls.)"),
        "{text}"
    );
    // Within the limit, recursion works.
    let text = ok(run(
        &tools,
        "def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\n\nf(40)",
    )
    .await);
    assert_eq!(text, "Last expression (JSON):\n40");
}

#[tokio::test]
async fn printed_output_past_the_limit_stops_the_program() {
    let tools = code_mode(toolset![add], Limits::default().max_output_bytes(25));
    for program in [
        "for i in range(1000):\n    print('x' * 10)",
        "for i in range(1000):\n    try:\n        print('x' * 10)\n    except BaseException:\n        pass",
    ] {
        let text = err(run(&tools, program).await);
        assert_eq!(
            text,
            "Printed output (cut at 25 bytes):\nxxxxxxxxxx\nxxxxxxxxxx\nxxx\n\n\
             Error: the program was stopped: it printed more than 25 bytes, the output limit"
        );
    }
}

#[tokio::test]
async fn huge_values_raise_memory_error() {
    // In a worker, one huge value is refused by the memory limit of the
    // whole program, which it cannot catch.
    let tools = code_mode(toolset![add], Limits::default().max_memory(1 << 20));
    let text = err(run(
        &tools,
        "try:\n    'x' * 10**9\nexcept MemoryError:\n    print('caught')",
    )
    .await);
    assert_eq!(text, "Error: MemoryError: the program used more than 1 MiB");
    // In process, single values are bounded.
    let tools = CodeMode::new(toolset![add])
        .limits(Limits::default().max_allocation_bytes(1 << 20))
        .isolation(Isolation::InProcess)
        .build()
        .unwrap();
    let text = err(run(&tools, "'x' * 10**9").await);
    assert!(
        text.ends_with(
            "MemoryError: memory limit exceeded: 1000000000 bytes > 1048576 bytes\n\
             (The sandbox refuses values larger than 1048576 bytes.)"
        ),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// No way out
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_program_cannot_reach_the_host() {
    let tools = code_mode(toolset![add], Limits::default());
    let attempts = [
        (
            "open('/etc/passwd').read()",
            "PermissionError: the sandbox has no file system: `open` of '/etc/passwd' is not allowed",
        ),
        (
            "open('/tmp/pwned', 'w').write('x')",
            "PermissionError: the sandbox has no file system: `open` of '/tmp/pwned' is not allowed",
        ),
        (
            "from pathlib import Path\nPath('/etc').iterdir()",
            "PermissionError: the sandbox has no file system: `Path.iterdir` of '/etc' is not allowed",
        ),
        (
            "from pathlib import Path\nPath('/tmp/pwned').write_text('x')",
            "PermissionError: the sandbox has no file system: `Path.write_text` of '/tmp/pwned' is not allowed",
        ),
        (
            "import os\nos.getenv('HOME')",
            "PermissionError: the sandbox has no environment variables",
        ),
        (
            "import os\nos.environ['PATH']",
            "PermissionError: the sandbox has no environment variables",
        ),
        (
            "import os\nos.system('echo pwned')",
            "AttributeError: module 'os' has no attribute 'system'",
        ),
        (
            "import subprocess",
            "ModuleNotFoundError: No module named 'subprocess'",
        ),
        (
            "import socket",
            "ModuleNotFoundError: No module named 'socket'",
        ),
        (
            "import urllib.request",
            "ModuleNotFoundError: No module named 'urllib.request'",
        ),
        (
            "import ctypes",
            "ModuleNotFoundError: No module named 'ctypes'",
        ),
        (
            "import numpy",
            "ModuleNotFoundError: No module named 'numpy'",
        ),
        (
            "__import__('os')",
            "NameError: name '__import__' is not defined",
        ),
        ("exec('import os')", "NameError: name 'exec' is not defined"),
        ("eval('1 + 1')", "NameError: name 'eval' is not defined"),
        (
            "import datetime\ndatetime.datetime.now()",
            "PermissionError: the sandbox has no clock: `datetime.now` is not available",
        ),
    ];
    for (program, error) in attempts {
        let text = err(run(&tools, program).await);
        assert!(
            text.starts_with("Error:\nTraceback (most recent call last):\n"),
            "{program}:\n{text}"
        );
        assert!(text.ends_with(error), "{program}:\n{text}");
    }
}

#[tokio::test]
async fn only_code_callable_tools_are_functions() {
    let tools = code_mode(toolset![add, ping], Limits::default());
    let text = err(run(&tools, "await ping()").await);
    assert!(
        text.ends_with("NameError: name 'ping' is not defined"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Finds a city.
#[tool(allowed_callers = ["code"])]
fn lookup(city: String) -> Result<String, String> {
    if city == "Paris" {
        Ok("found Paris".into())
    } else {
        Err(format!("no city named `{city}`"))
    }
}

#[tokio::test]
async fn a_tool_error_is_an_exception_the_program_can_catch() {
    let tools = code_mode(toolset![lookup, add], Limits::default());
    let program = "\
try:
    await lookup(city='Atlantis')
except RuntimeError as e:
    print('caught:', e)
await lookup(city='Paris')
";
    assert_eq!(
        ok(run(&tools, program).await),
        "Printed output:\ncaught: no city named `Atlantis`\n\nLast expression (JSON):\n\"found Paris\""
    );
    // Uncaught, it is the program's error, with its traceback.
    let text = err(run(&tools, "x = 1\nawait lookup(city='Atlantis')").await);
    assert_eq!(
        text,
        "Error:\nTraceback (most recent call last):\n  File \"main.py\", line 2, in <module>\n    \
         await lookup(city='Atlantis')\n    ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\nRuntimeError: no city named `Atlantis`"
    );
    // Invalid input is refused by the toolset's validation, as for a direct call.
    let text = err(run(&tools, "await add(a=1, b='x')").await);
    assert!(
        text.ends_with(
            "RuntimeError: invalid input for tool `add`: b: \"x\" is not of type \"integer\""
        ),
        "{text}"
    );
    // Arguments the stub does not declare are a TypeError before any call.
    let text = err(run(&tools, "await add(1, 2)").await);
    assert!(
        text.ends_with("TypeError: add() takes 0 positional arguments but 2 were given"),
        "{text}"
    );
    let text = err(run(&tools, "await add(a=1, c=2)").await);
    assert!(
        text.ends_with("TypeError: add() got an unexpected keyword argument 'c'"),
        "{text}"
    );
    let text = err(run(&tools, "await add(a=1)").await);
    assert!(
        text.ends_with("TypeError: add() missing required keyword argument: 'b'"),
        "{text}"
    );
}

#[tokio::test]
async fn a_syntax_error_is_reported_back() {
    let tools = code_mode(toolset![add], Limits::default());
    let text = err(run(&tools, "print('hi')\nx = (").await);
    assert_eq!(
        text,
        "Error:\nTraceback (most recent call last):\n  File \"main.py\", line 2\n    x = (\n         ~\nSyntaxError: unexpected EOF while parsing"
    );
}

#[tokio::test]
async fn invalid_input_to_run_code_is_an_error_result() {
    let tools = code_mode(toolset![add], Limits::default());
    let out = tools
        .call(RUN_CODE, json!({"program": "1"}), ToolCall::new("toolu_1"))
        .await;
    assert_eq!(
        err(out),
        "invalid input for tool `run_code`: unknown field `program`, expected `code`"
    );
}

// ---------------------------------------------------------------------------
// Context and state
// ---------------------------------------------------------------------------

struct Greeting(&'static str);

/// Say who called.
#[tool(allowed_callers = ["code"])]
fn whoami(greeting: State<Greeting>, call: ToolCall) -> String {
    format!("{} {} from {}", greeting.0, call.id(), call.caller())
}

#[tokio::test]
async fn calls_from_code_carry_the_caller_and_the_state() {
    // State given after wrapping reaches the calls from code too.
    let tools = CodeMode::new(toolset![whoami])
        .isolation(worker())
        .build()
        .unwrap()
        .with_state(Greeting("hello"));
    let text = ok(run(&tools, "print(await whoami())\nawait whoami()").await);
    assert_eq!(
        text,
        "Printed output:\nhello toolu_run#1 from code mode\n\nLast expression (JSON):\n\"hello toolu_run#2 from code mode\""
    );
}

/// Add two integers, failing on anything else.
#[tool(allowed_callers = ["code"])]
fn add_checked(a: Value, b: Value) -> Result<i64, String> {
    match (a.as_i64(), b.as_i64()) {
        (Some(a), Some(b)) => Ok(a + b),
        _ => Err("invalid type for `b`".to_owned()),
    }
}

#[tokio::test]
async fn gather_tasks_catch_their_own_tool_errors() {
    // monty would fail the whole gather; the Python wrappers prevent that.
    let tools = code_mode(toolset![add_checked], Limits::default());
    let program = "\
import asyncio
async def safe(a):
    try:
        return await add_checked(a=a, b='x' if a == 2 else 1)
    except RuntimeError as e:
        print('caught', a, e)
await asyncio.gather(*(safe(a) for a in range(4)))
";
    assert_eq!(
        ok(run(&tools, program).await),
        "Printed output:\ncaught 2 invalid type for `b`\n\nLast expression (JSON):\n[1, 2, null, 4]"
    );
}

#[tokio::test]
async fn tracebacks_name_programs_and_hide_the_wrappers() {
    let tools = CodeMode::new(toolset![add_checked])
        .persistent_state()
        .isolation(worker())
        .build()
        .unwrap();
    ok(run(
        &tools,
        "async def f():\n    return await add_checked(a=1, b='x')\n",
    )
    .await);
    assert_eq!(
        err(run(&tools, "x = 1\nawait f()").await),
        "Error:\nTraceback (most recent call last):\n  \
         File \"main.py\", line 2, in <module>\n    await f()\n    ~~~~~~~~~\n  \
         File \"<program 1>\", line 2, in f\n    return await add_checked(a=1, b='x')\n           ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n\
         RuntimeError: invalid type for `b`"
    );
}

#[tokio::test]
async fn state_persists_between_programs_when_asked() {
    let kept = CodeMode::new(toolset![add])
        .persistent_state()
        .isolation(worker())
        .build()
        .unwrap();
    ok(run(
        &kept,
        "total = await add(a=40, b=1)\ndef double(x):\n    return 2 * x",
    )
    .await);
    assert_eq!(
        ok(run(&kept, "double(total + 1)").await),
        "Last expression (JSON):\n84"
    );
    // An error keeps what came before it.
    err(run(&kept, "total = 1\nraise ValueError('x')").await);
    assert_eq!(ok(run(&kept, "total").await), "Last expression (JSON):\n1");

    let fresh = code_mode(toolset![add], Limits::default());
    ok(run(&fresh, "total = 1").await);
    let text = err(run(&fresh, "total").await);
    assert!(
        text.ends_with("NameError: name 'total' is not defined"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// The runner, end to end
// ---------------------------------------------------------------------------

/// Get the temperature in a city, in °C.
#[tool(allowed_callers = ["code"])]
fn temperature(city: String) -> Result<i64, String> {
    match city.as_str() {
        "Paris" => Ok(18),
        "Oslo" => Ok(7),
        "Cairo" => Ok(31),
        _ => Err(format!("no station in `{city}`")),
    }
}

const PROGRAM: &str = r#"import asyncio

async def temp(city):
    try:
        return await temperature(city=city)
    except RuntimeError as e:
        print(f"skipped {city}: {e}")

cities = ["Paris", "Oslo", "Cairo", "Atlantis"]
found = zip(cities, await asyncio.gather(*(temp(c) for c in cities)))
temps = {c: t for c, t in found if t is not None}
{"warmest": max(temps, key=lambda c: temps[c]), "temps": temps}"#;

fn message(id: &str, content: Value, stop_reason: &str) -> Value {
    json!({
        "id": id, "type": "message", "role": "assistant", "model": "claude-test",
        "content": content, "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 5}
    })
}

#[tokio::test]
async fn the_runner_sends_run_code_and_its_result() {
    let run_code_call = json!({"type": "tool_use", "id": "toolu_1", "name": "run_code", "input": {"code": PROGRAM}});
    let server = ScriptedServer::start(Sequence::new([
        Reply::message(message("msg_1", json!([run_code_call.clone()]), "tool_use")),
        Reply::message(message(
            "msg_2",
            json!([{"type": "text", "text": "Cairo is warmest."}]),
            "end_turn",
        )),
    ]))
    .await
    .unwrap();
    let client = Client::builder()
        .api_key("test-key")
        .base_url(server.url())
        .max_retries(0)
        .build()
        .unwrap();
    let tools = CodeMode::new(toolset![get_weather, temperature])
        .isolation(worker())
        .build()
        .unwrap();
    let params = MessageParams::new("claude-test", 256).user("Which city is warmest?");
    let last = client
        .tool_runner(params, tools)
        .message_threads(false)
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "Cairo is warmest.");

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    // The tools sent: `get_weather` directly, without code callers, and
    // `run_code`; no code-execution tool.
    insta::assert_json_snapshot!("runner_first_request", requests[0]);
    assert_eq!(
        requests[1]["messages"],
        json!([
            {"role": "user", "content": "Which city is warmest?"},
            {"role": "assistant", "content": [run_code_call]},
            {"role": "user", "content": [{
                "type": "tool_result",
                "tool_use_id": "toolu_1",
                "content": "Printed output:\nskipped Atlantis: no station in `Atlantis`\n\nLast expression (JSON):\n\
                            {\"warmest\": \"Cairo\", \"temps\": {\"Paris\": 18, \"Oslo\": 7, \"Cairo\": 31}}"
            }]}
        ])
    );
    assert_eq!(requests[1]["tools"], requests[0]["tools"]);
}
