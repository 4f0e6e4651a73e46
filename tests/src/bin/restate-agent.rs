//! A Restate endpoint serving one agent, for the Restate tests: they run it
//! as a child process, kill it mid-run and start it again.
//!
//! Configured by environment variables:
//!
//! - `AGENT_NAME`: the workflow's name;
//! - `AGENT_PORT`: the loopback port to serve on;
//! - `MODEL_URL`: the scripted Messages API server's URL;
//! - `EFFECTS`: a file each tool appends its side effect to, one line each;
//! - `STARTED`: a file `slow` appends a line to each time it starts;
//! - `BLOCK_SLOW`: when set, `slow` blocks for good once it has started,
//!   until the test kills the process;
//! - `DEFER`: tool names, comma-separated, whose calls wait for approval;
//! - `CODE_MODE`: when set, the tools are `note` and `run_code`, whose
//!   programs may call `release` and `gauge` (in process);
//! - `TOOL_CONCURRENCY`: when set, the agent's `tool_concurrency`.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use toolrunner::code_mode::{CodeMode, Isolation};
use toolrunner::restate::{Agent, sdk};
use toolrunner::{Client, Decision, MessageParams, PendingCall, Toolset, tool, toolset};

/// Appends `line` to the file named by the environment variable `var`.
fn append(var: &str, line: &str) -> Result<(), String> {
    let path = std::env::var(var).map_err(|_| format!("{var} is not set"))?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("cannot open {path}: {e}"))?;
    writeln!(file, "{line}")
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {path}: {e}"))
}

/// Note something down.
#[tool]
fn note(text: String) -> Result<String, String> {
    append("EFFECTS", &format!("note:{text}"))?;
    Ok(format!("noted {text}"))
}

/// Do something slowly.
#[tool]
async fn slow(text: String) -> Result<String, String> {
    append("STARTED", &format!("slow:{text}"))?;
    if std::env::var_os("BLOCK_SLOW").is_some() {
        std::future::pending::<()>().await;
    }
    append("EFFECTS", &format!("slow:{text}"))?;
    Ok(format!("slowly did {text}"))
}

/// Deploy to an environment.
#[tool]
fn deploy(target: String) -> Result<String, String> {
    append("EFFECTS", &format!("deploy:{target}"))?;
    Ok(format!("deployed to {target}"))
}

/// Release a version; callable from code only.
#[tool(allowed_callers = ["code"])]
fn release(version: String) -> Result<String, String> {
    append("EFFECTS", &format!("release:{version}"))?;
    Ok(format!("released {version}"))
}

/// Calls of `gauge` running now, and the most there were at once.
static IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static MOST: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Hold a slot for a while; returns the most calls that ran at once so far.
/// `n` only tells the calls apart.
#[tool(allowed_callers = ["code"])]
async fn gauge(n: u32) -> u32 {
    use std::sync::atomic::Ordering;
    let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
    MOST.fetch_max(now, Ordering::SeqCst);
    // Long enough for every call a program starts at once to overlap.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    let _ = n;
    MOST.load(Ordering::SeqCst) as u32
}

/// The agent's tools, as `CODE_MODE` chooses.
fn tools() -> Result<Toolset, String> {
    if std::env::var_os("CODE_MODE").is_none() {
        return Ok(toolset![note, slow, deploy]);
    }
    CodeMode::new(toolset![note, release, gauge])
        .isolation(Isolation::InProcess)
        .build()
        .map_err(|e| e.to_string())
}

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

async fn serve() -> Result<(), String> {
    let name = var("AGENT_NAME")?;
    let port: u16 = var("AGENT_PORT")?
        .parse()
        .map_err(|e| format!("AGENT_PORT: {e}"))?;
    let client = Client::builder()
        .api_key("test-key")
        .base_url(var("MODEL_URL")?)
        .max_retries(0)
        .build()
        .map_err(|e| e.to_string())?;
    let deferred: Vec<String> = std::env::var("DEFER")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut agent = Agent::new(name, client, tools()?, |input| {
        let prompt = input["prompt"]
            .as_str()
            .ok_or("the input needs a `prompt` string")?;
        Ok(MessageParams::new("claude-test", 256).user(prompt))
    })
    .map_err(|e| e.to_string())?
    .before_tool_call(move |call: PendingCall| {
        let defer = deferred.contains(&call.name);
        async move {
            if defer {
                Decision::Defer
            } else {
                Decision::Allow
            }
        }
    });
    if let Ok(n) = std::env::var("TOOL_CONCURRENCY") {
        let n = n.parse().map_err(|e| format!("TOOL_CONCURRENCY: {e}"))?;
        agent = agent.tool_concurrency(n);
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| format!("cannot listen on port {port}: {e}"))?;
    let endpoint = sdk::endpoint::Endpoint::builder().bind(agent).build();
    sdk::http_server::HttpServer::new(endpoint)
        .serve(listener)
        .await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("restate-agent: {error}");
            ExitCode::FAILURE
        }
    }
}
