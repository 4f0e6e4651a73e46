//! Durable runs on a real Restate server (feature `restate`).
//!
//! Each test starts `restate-server` (from the npm package
//! `@restatedev/restate-server`, installed into the target directory on first
//! use; skipped with a reason where Node.js or the registry is missing) on
//! free loopback ports, starts the agent's endpoint (the `restate-agent`
//! binary of this package) as a child process against a scripted Messages
//! API server, registers it through the admin API and runs the agent
//! through the ingress.

use crate::support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{message, text, tool_use};

/// The Restate server the tests run against: pinned, a 1.7 release, the
/// series `restate-sdk` 0.13 is made for.
const RESTATE_VERSION: &str = "1.7.12";

/// How long any one wait in these tests may take.
const PATIENCE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_completes_with_each_request_sent_as_the_runner_builds_it() {
    let Some(restate) = Restate::start("completes").await else {
        return;
    };
    let model = support::server(vec![
        message(
            "msg_1",
            json!([
                text("Noting."),
                tool_use("toolu_1", "note", json!({"text": "hello"}))
            ]),
            "tool_use",
        ),
        message("msg_2", json!([text("Noted it.")]), "end_turn"),
    ])
    .await;
    let files = restate.dir.join("files");
    let agent = restate.serve_agent("Completes", &model.url(), &files, &[]);
    restate.register(&agent).await;

    let output = restate
        .call("Completes/run-1/run", &json!({"prompt": "Note hello."}))
        .await;

    assert_eq!(output["id"], "msg_2");
    assert_eq!(output["content"], json!([text("Noted it.")]));
    assert_eq!(lines(&files.join("effects")), ["note:hello"]);
    let requests = model.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let tools = requests[0]["tools"].clone();
    assert_eq!(
        requests[0],
        json!({
            "model": "claude-test",
            "max_tokens": 256,
            "messages": [{"role": "user", "content": "Note hello."}],
            "tools": tools,
            "thread": {"type": "create"}
        })
    );
    let names: Vec<&str> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["note", "slow", "deploy"]);
    assert_eq!(
        requests[1],
        json!({
            "model": "claude-test",
            "max_tokens": 256,
            "messages": [{"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "noted hello"}
            ]}],
            "thread": {"type": "continue", "previous_message_id": "msg_1"}
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_turn_resumes_without_running_a_finished_call_or_sending_a_request_again()
{
    let Some(restate) = Restate::start("killed").await else {
        return;
    };
    let model = support::server(vec![
        message(
            "msg_1",
            json!([
                tool_use("toolu_1", "note", json!({"text": "first"})),
                tool_use("toolu_2", "slow", json!({"text": "second"})),
                tool_use("toolu_3", "note", json!({"text": "third"})),
            ]),
            "tool_use",
        ),
        message("msg_2", json!([text("All three done.")]), "end_turn"),
    ])
    .await;
    let files = restate.dir.join("files");
    let mut agent = restate.serve_agent("Killed", &model.url(), &files, &[("BLOCK_SLOW", "1")]);
    restate.register(&agent).await;
    restate
        .call(
            "Killed/run-1/run/send",
            &json!({"prompt": "Do three things."}),
        )
        .await;

    // `slow` has started: the turn's first call finished, its third has not run.
    wait_for(|| lines(&files.join("started")).len() == 1).await;
    assert_eq!(lines(&files.join("effects")), ["note:first"]);
    agent.kill();
    let agent = restate.restart_agent(agent, &[]);

    let output = restate.get("restate/workflow/Killed/run-1/attach").await;

    assert_eq!(output["content"], json!([text("All three done.")]));
    // The call in flight when the process died ran again (it had no result
    // in the journal); the finished one did not.
    assert_eq!(
        lines(&files.join("started")),
        ["slow:second", "slow:second"]
    );
    assert_eq!(
        lines(&files.join("effects")),
        ["note:first", "slow:second", "note:third"]
    );
    let requests = model.requests();
    assert_eq!(
        requests.len(),
        2,
        "each request is sent once: {requests:#?}"
    );
    assert_eq!(
        requests[1]["messages"][0]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "noted first"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "slowly did second"},
            {"type": "tool_result", "tool_use_id": "toolu_3", "content": "noted third"},
        ])
    );
    drop(agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_calls_wait_for_a_human_who_approves_or_denies_them_through_the_ingress() {
    let Some(restate) = Restate::start("deferred").await else {
        return;
    };
    let model = support::server(vec![
        message(
            "msg_1",
            json!([
                tool_use("toolu_1", "deploy", json!({"target": "staging"})),
                tool_use("toolu_2", "deploy", json!({"target": "production"})),
                tool_use("toolu_3", "note", json!({"text": "deploying"})),
            ]),
            "tool_use",
        ),
        message("msg_2", json!([text("Staging only, then.")]), "end_turn"),
    ])
    .await;
    let files = restate.dir.join("files");
    let agent = restate.serve_agent("Deferred", &model.url(), &files, &[("DEFER", "deploy")]);
    restate.register(&agent).await;
    restate
        .call("Deferred/run-1/run/send", &json!({"prompt": "Deploy."}))
        .await;

    let mut pending = Value::Null;
    for _ in 0..600 {
        pending = restate.call("Deferred/run-1/pending", &Value::Null).await;
        if pending.as_array().is_some_and(|p| p.len() == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        pending,
        json!([
            {"call_id": "toolu_1", "name": "deploy", "input": {"target": "staging"}},
            {"call_id": "toolu_2", "name": "deploy", "input": {"target": "production"}},
        ])
    );
    // The call no one needs to approve ran; the deferred ones wait, and
    // keep waiting across a new process.
    assert_eq!(lines(&files.join("effects")), ["note:deploying"]);
    let mut agent = agent;
    agent.kill();
    let agent = restate.restart_agent(agent, &[("DEFER", "deploy")]);
    let unknown = restate
        .post(
            "Deferred/run-1/decide",
            &json!({"call_id": "toolu_9", "decision": "approve"}),
        )
        .await;
    assert_eq!(unknown.0, 404, "{}", unknown.1);
    assert!(
        unknown
            .1
            .contains("no call `toolu_9` is waiting for approval"),
        "{}",
        unknown.1
    );

    restate
        .call(
            "Deferred/run-1/decide",
            &json!({"call_id": "toolu_2", "decision": "deny", "message": "production needs a change ticket"}),
        )
        .await;
    restate
        .call(
            "Deferred/run-1/decide",
            &json!({"call_id": "toolu_1", "decision": "approve"}),
        )
        .await;
    let output = restate.get("restate/workflow/Deferred/run-1/attach").await;

    assert_eq!(output["content"], json!([text("Staging only, then.")]));
    assert_eq!(
        lines(&files.join("effects")),
        ["note:deploying", "deploy:staging"]
    );
    let requests = model.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!(
        requests[1]["messages"][0]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "deployed to staging"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "production needs a change ticket", "is_error": true},
            {"type": "tool_result", "tool_use_id": "toolu_3", "content": "noted deploying"},
        ])
    );
    let pending = restate.call("Deferred/run-1/pending", &Value::Null).await;
    assert_eq!(pending, json!([]));
    drop(agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_from_a_code_mode_program_meet_the_hook_and_cannot_wait() {
    let Some(restate) = Restate::start("code-mode").await else {
        return;
    };
    let program =
        "try:\n    await release(version=\"1.2\")\nexcept RuntimeError as e:\n    print(e)\n'done'";
    let model = support::server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "run_code", json!({"code": program}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("It needs a human.")]), "end_turn"),
    ])
    .await;
    let files = restate.dir.join("files");
    let agent = restate.serve_agent(
        "CodeMode",
        &model.url(),
        &files,
        &[("DEFER", "release"), ("CODE_MODE", "1")],
    );
    restate.register(&agent).await;
    let output = restate
        .call("CodeMode/run-1/run", &json!({"prompt": "Release 1.2."}))
        .await;
    assert_eq!(output["content"], json!([text("It needs a human.")]));
    // The hook deferred the call from code: it never ran, and nothing waits.
    assert!(lines(&files.join("effects")).is_empty());
    assert_eq!(
        model.requests()[1]["messages"][0]["content"],
        json!([{"type": "tool_result", "tool_use_id": "toolu_1",
                "content": "Printed output:\nthe call to tool `release` needs a human's approval, which a call from code cannot wait for; it did not run\n\nLast expression (JSON):\n\"done\""}])
    );
    let pending = restate.call("CodeMode/run-1/pending", &Value::Null).await;
    assert_eq!(pending, json!([]));
    drop(agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_from_a_code_mode_program_run_as_many_at_once_as_the_agent_allows() {
    let Some(restate) = Restate::start("code-mode-bound").await else {
        return;
    };
    // Six calls at once; each answers the most that ran at once so far.
    let program = "import asyncio\nmax(await asyncio.gather(*(gauge(n=i) for i in range(6))))";
    let model = support::server(vec![
        message(
            "msg_1",
            json!([tool_use("toolu_1", "run_code", json!({"code": program}))]),
            "tool_use",
        ),
        message("msg_2", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let files = restate.dir.join("files");
    let agent = restate.serve_agent(
        "Bounded",
        &model.url(),
        &files,
        &[("CODE_MODE", "1"), ("TOOL_CONCURRENCY", "2")],
    );
    restate.register(&agent).await;
    let output = restate
        .call("Bounded/run-1/run", &json!({"prompt": "Measure."}))
        .await;
    assert_eq!(output["content"], json!([text("Done.")]));
    // Two at a time, not the default 16.
    assert_eq!(
        model.requests()[1]["messages"][0]["content"],
        json!([{"type": "tool_result", "tool_use_id": "toolu_1",
                "content": "Last expression (JSON):\n2"}])
    );
    drop(agent);
}

// ---------------------------------------------------------------------------
// The Restate server and the agent's endpoint, as child processes.
// ---------------------------------------------------------------------------

/// A Restate server on free loopback ports, with its data in a directory of
/// its own; killed when dropped.
struct Restate {
    child: Child,
    dir: PathBuf,
    ingress: String,
    admin: String,
    http: reqwest::Client,
}

/// The agent's endpoint, a child process; killed when dropped.
struct AgentProcess {
    child: Child,
    port: u16,
    envs: Vec<(String, String)>,
}

impl AgentProcess {
    /// Kills the process at once (SIGKILL), as a crash would.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Drop for Restate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Says visibly (past libtest's capture) why a test did not run.
fn skip(reason: &str) {
    support::skip(format_args!("Restate is not available: {reason}"));
}

/// The `restate-server` binary, installed on first use.
fn restate_server() -> Result<PathBuf, String> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err("the tests install the linux-x64 server only".into());
    }
    let package = "@restatedev/restate-server";
    let dir = support::npm::install(package, RESTATE_VERSION, "package.json")?;
    let binary = dir.join("node_modules/@restatedev/restate-server-linux-x64/bin/restate-server");
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!("{} is missing after the install", binary.display()))
    }
}

/// A loopback port no one listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.local_addr().expect("local address").port()
}

impl Restate {
    /// Starts a server for the test `name`; `None` (having said why) when
    /// the server is not available here.
    async fn start(name: &str) -> Option<Restate> {
        let binary = match tokio::task::spawn_blocking(restate_server).await {
            Ok(Ok(binary)) => binary,
            Ok(Err(reason)) => {
                skip(&reason);
                return None;
            }
            Err(e) => panic!("installing restate-server: {e}"),
        };
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("restate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("files")).expect("create the test's directory");
        let (ingress, admin, pgsql, node) = (free_port(), free_port(), free_port(), free_port());
        // Small and quick: one partition, little memory, no telemetry, and
        // retries soon after the endpoint comes back.
        let config = format!(
            r#"
disable-telemetry = true
default-num-partitions = 1
rocksdb-total-memory-size = "256 MiB"
log-filter = "warn"
log-disable-ansi-codes = true

[default-retry-policy]
initial-interval = "100ms"
exponentiation-factor = 2.0
max-interval = "1s"
max-attempts = 100
on-max-attempts = "kill"

[ingress]
bind-address = "127.0.0.1:{ingress}"

[admin]
bind-address = "127.0.0.1:{admin}"

[admin.query-engine]
pgsql-bind-address = "127.0.0.1:{pgsql}"
"#
        );
        std::fs::write(dir.join("config.toml"), config).expect("write the server's config");
        let log = std::fs::File::create(dir.join("restate.log")).expect("create the server log");
        let child = Command::new(&binary)
            .arg("--config-file")
            .arg(dir.join("config.toml"))
            .arg("--base-dir")
            .arg(dir.join("data"))
            .args(["--no-logo", "--listen-mode", "tcp", "--node-name", "test"])
            .arg(format!("--bind-address=127.0.0.1:{node}"))
            .env("DO_NOT_TRACK", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log's handle"))
            .stderr(log)
            .spawn()
            .expect("start restate-server");
        let restate = Restate {
            child,
            ingress: format!("http://127.0.0.1:{ingress}"),
            admin: format!("http://127.0.0.1:{admin}"),
            http: reqwest::Client::builder()
                .timeout(PATIENCE)
                .build()
                .expect("http client"),
            dir,
        };
        let started = Instant::now();
        loop {
            let admin_up = restate.ok(&format!("{}/health", restate.admin)).await;
            let ingress_up = restate
                .ok(&format!("{}/restate/health", restate.ingress))
                .await;
            if admin_up && ingress_up {
                break;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "restate-server did not start: {}",
                restate.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(restate)
    }

    async fn ok(&self, url: &str) -> bool {
        let response = self.http.get(url).send().await;
        response.is_ok_and(|r| r.status().is_success())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("restate.log")).unwrap_or_default()
    }

    /// Starts the endpoint serving the agent `name` against the model at
    /// `model_url`, its tools writing into `files`, with `extra` variables.
    fn serve_agent(
        &self,
        name: &str,
        model_url: &str,
        files: &Path,
        extra: &[(&str, &str)],
    ) -> AgentProcess {
        let port = free_port();
        let path = |file: &str| files.join(file).display().to_string();
        let mut envs = vec![
            ("AGENT_NAME".to_owned(), name.to_owned()),
            ("AGENT_PORT".to_owned(), port.to_string()),
            ("MODEL_URL".to_owned(), model_url.to_owned()),
            ("EFFECTS".to_owned(), path("effects")),
            ("STARTED".to_owned(), path("started")),
        ];
        envs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        spawn_agent(port, envs)
    }

    /// Starts `killed`'s endpoint again on the same port, with the same
    /// variables but for `extra` in place of the first start's extras.
    fn restart_agent(&self, killed: AgentProcess, extra: &[(&str, &str)]) -> AgentProcess {
        let mut envs: Vec<(String, String)> = killed.envs[..5].to_vec();
        envs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let port = killed.port;
        drop(killed);
        spawn_agent(port, envs)
    }

    /// Registers `agent`'s endpoint through the admin API.
    async fn register(&self, agent: &AgentProcess) {
        let response = self
            .http
            .post(format!("{}/deployments", self.admin))
            .header("content-type", "application/json")
            .body(json!({"uri": format!("http://127.0.0.1:{}", agent.port)}).to_string())
            .send()
            .await
            .expect("register the deployment");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "registering failed ({status}): {body}");
    }

    /// POSTs `body` to the ingress at `path`: the status and the body.
    async fn post(&self, path: &str, body: &Value) -> (u16, String) {
        let mut request = self.http.post(format!("{}/{path}", self.ingress));
        if !body.is_null() {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("call the ingress");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// POSTs `body` to the ingress at `path` and returns the JSON answer.
    async fn call(&self, path: &str, body: &Value) -> Value {
        let (status, text) = self.post(path, body).await;
        assert!(
            (200..300).contains(&status),
            "POST {path} failed ({status}): {text}\n{}",
            self.log()
        );
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("a JSON answer")
        }
    }

    /// GETs `path` from the ingress and returns the JSON answer.
    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/{path}", self.ingress))
            .send()
            .await
            .expect("call the ingress");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "GET {path} failed ({status}): {text}");
        serde_json::from_str(&text).expect("a JSON answer")
    }
}

fn spawn_agent(port: u16, envs: Vec<(String, String)>) -> AgentProcess {
    let child = Command::new(env!("CARGO_BIN_EXE_restate-agent"))
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the agent's endpoint");
    let mut agent = AgentProcess { child, port, envs };
    let started = Instant::now();
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
        if let Ok(Some(status)) = agent.child.try_wait() {
            panic!("the agent's endpoint exited: {status}");
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the agent's endpoint did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    agent
}

/// The lines of `path`; none when it does not exist.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits until `done` holds.
async fn wait_for(done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < PATIENCE, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
