//! Microsoft Foundry end to end, over real HTTP on loopback
//! (`ScriptedFoundry`), with an API key or Entra ID tokens from a
//! provider, and side by side with the official Python SDK's
//! `AnthropicFoundry`.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::code_mode::{CodeMode, Isolation, Worker};
use toolrunner::platform::Foundry;
use toolrunner::testing::platform_foundry::ScriptedFoundry;
use toolrunner::testing::{Recorded, Reply, Sequence};
use toolrunner::{Client, FileStore, MessageParams, RunId, RunStore, tool, toolset};

const KEY: &str = "foundry-test-key";
const MODEL: &str = "claude-sonnet-4-5";
const MESSAGES: &str = "/anthropic/v1/messages";

async fn foundry(replies: impl IntoIterator<Item = Reply>) -> (ScriptedFoundry, Client) {
    let server = ScriptedFoundry::start_with_key(Sequence::new(replies), KEY)
        .await
        .unwrap();
    let client = keyed(&server);
    (server, client)
}

fn keyed(server: &ScriptedFoundry) -> Client {
    Foundry::new()
        .base_url(server.base_url())
        .api_key(KEY)
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap()
}

/// A client for `server` whose Entra token provider gives `token(n)` the
/// `n`th time it is asked (from 1), and how often it was asked.
fn entra(
    server: &ScriptedFoundry,
    token: impl Fn(usize) -> String + Send + Sync + 'static,
) -> (Client, Arc<AtomicUsize>) {
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let client = Foundry::new()
        .base_url(server.base_url())
        .token_provider(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let token = token(n);
            async move { Ok::<_, std::io::Error>(token) }
        })
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    (client, asked)
}

fn body(recorded: &Recorded) -> Value {
    serde_json::from_str(&recorded.body).unwrap()
}

/// Add two numbers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Add two numbers, from code.
#[tool(allowed_callers = ["code"])]
fn add_up(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::test]
async fn a_key_goes_in_both_key_headers_and_the_request_keeps_its_first_party_shape() {
    let (server, client) = foundry([Reply::text("Hello!")]).await;
    let params = MessageParams::new(MODEL, 64).user("Hi");
    assert_eq!(
        client.create_message(&params).await.unwrap().text(),
        "Hello!"
    );
    let sent = &server.server().recorded()[0];
    assert_eq!(sent.target, MESSAGES);
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("api-key"), Some(KEY));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.header("anthropic-version"), Some("2026-10-21"));
    assert_eq!(
        body(sent),
        json!({"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]})
    );
    assert!(!format!("{client:?}").contains(KEY));
}

#[tokio::test]
async fn entra_tokens_come_from_the_provider_and_a_refused_one_is_asked_for_again() {
    // The resource takes the second token only: the first is "expired".
    let server = ScriptedFoundry::start_with_entra(
        Sequence::new([Reply::text("first"), Reply::text("second")]),
        |token| token == "entra-2",
    )
    .await
    .unwrap();
    let (client, asked) = entra(&server, |n| format!("entra-{}", n.min(2)));
    let params = MessageParams::new(MODEL, 64).user("Hi");
    assert_eq!(
        client.create_message(&params).await.unwrap().text(),
        "first"
    );
    assert_eq!(
        client.create_message(&params).await.unwrap().text(),
        "second"
    );
    // Asked for each attempt: the refused one, its replacement, the next.
    assert_eq!(asked.load(Ordering::SeqCst), 3);
    let recorded = server.server().recorded();
    let bearers: Vec<Option<&str>> = recorded.iter().map(|r| r.header("authorization")).collect();
    assert_eq!(
        bearers,
        [
            Some("Bearer entra-1"),
            Some("Bearer entra-2"),
            Some("Bearer entra-2")
        ]
    );
    assert!(recorded.iter().all(|r| r.header("x-api-key").is_none()));
}

#[tokio::test]
async fn a_key_foundry_refuses_is_a_clear_401_sent_once() {
    let server = ScriptedFoundry::start_with_key(Sequence::new([]), KEY)
        .await
        .unwrap();
    let client = Foundry::new()
        .base_url(server.base_url())
        .api_key("wrong-key")
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let error = client
        .create_message(&MessageParams::new(MODEL, 64).user("Hi"))
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert!(
        error
            .api_message()
            .unwrap_or_default()
            .contains("Access denied")
    );
    assert_eq!(server.server().recorded().len(), 1);
    assert!(!format!("{error} {error:?}").contains("wrong-key"));
}

/// An overloaded Foundry is retried as on the first-party client.
#[tokio::test]
async fn an_overloaded_foundry_is_retried() {
    let overloaded =
        Reply::error(529, "overloaded_error", "Overloaded").header("retry-after-ms", "1");
    let server =
        ScriptedFoundry::start_with_key(Sequence::new([overloaded, Reply::text("Back.")]), KEY)
            .await
            .unwrap();
    let client = Foundry::new()
        .base_url(server.base_url())
        .api_key(KEY)
        .client(Client::builder().max_retries(1))
        .build()
        .unwrap();
    let recorded =
        support::answered_after_one_retry(&client, MODEL, || server.server().recorded()).await;
    assert_eq!(recorded[1].header("api-key"), Some(KEY));
}

#[tokio::test]
async fn a_403_from_foundry_is_an_api_error_with_its_request_id() {
    let denied = Reply::error(
        403,
        "permission_error",
        "this resource may not use the model",
    )
    .header("request-id", "req_foundry_403");
    let (_server, client) = foundry([denied]).await;
    let error = client
        .create_message(&MessageParams::new(MODEL, 64).user("Hi"))
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(error.api_error_type(), Some("permission_error"));
    assert_eq!(error.request_id(), Some("req_foundry_403"));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_tool_run_with_parallel_calls_uses_threads_on_foundry() {
    let (server, client) = foundry([
        Reply::tool_uses([
            ("add", json!({"a": 1, "b": 2})),
            ("add", json!({"a": 3, "b": 4})),
        ]),
        Reply::text("3 and 7"),
    ])
    .await;
    let last = client
        .tool_runner(
            MessageParams::new(MODEL, 256).user("1+2, 3+4?"),
            toolset![add],
        )
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "3 and 7");
    let recorded = server.server().recorded();
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|r| r.target == MESSAGES));
    // Foundry serves the first-party API, message threads included.
    assert_eq!(body(&recorded[0])["thread"]["type"], "create");
    assert_eq!(body(&recorded[1])["thread"]["type"], "continue");
    // On the thread, the second request sends only what is new.
    let second = body(&recorded[1]);
    let results = &support::last_message(&second)["content"];
    assert_eq!(results[0]["content"], "3");
    assert_eq!(results[1]["content"], "7");
}

#[tokio::test]
async fn a_streaming_tool_run_works_on_foundry() {
    let (server, client) = foundry([
        Reply::tool_use("add", json!({"a": 2, "b": 2})).streamed(),
        Reply::text("4").streamed(),
    ])
    .await;
    let last = client
        .tool_runner(MessageParams::new(MODEL, 256).user("2+2?"), toolset![add])
        .streaming()
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "4");
    let recorded = server.server().recorded();
    assert!(recorded.iter().all(|r| body(r)["stream"] == true));
}

#[tokio::test]
async fn a_run_stopped_after_a_checkpoint_resumes_on_a_new_client() {
    let (server, client) = foundry([
        Reply::tool_use("add", json!({"a": 5, "b": 6})),
        Reply::text("11"),
    ])
    .await;
    let dir =
        std::env::temp_dir().join(format!("toolrunner-foundry-resume-{}", std::process::id()));
    let store = Arc::new(FileStore::new(&dir));
    let run = RunId::new("foundry-run").unwrap();
    let mut runner = client
        .tool_runner(MessageParams::new(MODEL, 256).user("5+6?"), toolset![add])
        .checkpoint(store.clone(), run.clone());
    runner.next().await.unwrap().unwrap();
    drop(runner);
    drop(client);

    let state = store.load(&run).await.unwrap().expect("a checkpoint");
    let last = keyed(&server)
        .resume(state, toolset![add])
        .unwrap()
        .checkpoint(store.clone(), run.clone())
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "11");
    let recorded = server.server().recorded();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1].header("api-key"), Some(KEY));
    let _ = std::fs::remove_dir_all(dir);
}

/// Foundry for the durable-run child, which reads its key from
/// `ANTHROPIC_FOUNDRY_API_KEY` as `AnthropicFoundry` does.
struct OnFoundry(ScriptedFoundry);

impl support::durable::Served for OnFoundry {
    fn url(&self) -> String {
        self.0.base_url()
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DURABLE_PLATFORM".into(), "foundry".into()),
            ("ANTHROPIC_FOUNDRY_API_KEY".into(), KEY.into()),
        ]
    }

    fn bodies(&self) -> Vec<String> {
        self.0
            .server()
            .recorded()
            .into_iter()
            .map(|r| r.body)
            .collect()
    }
}

impl OnFoundry {
    async fn start() -> Self {
        let script = support::durable::durable_model;
        OnFoundry(ScriptedFoundry::start_with_key(script, KEY).await.unwrap())
    }
}

/// A run on Foundry in a process of its own, killed with SIGKILL at a
/// checkpoint (mid-turn, then between turns), is resumed by a new process:
/// no request sent twice, no call run twice, the conversation the same as
/// an uninterrupted run's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foundry_run_killed_in_its_process_resumes_in_a_new_one() {
    use support::durable::{kill_at_checkpoint_and_resume, uninterrupted};
    let expected = uninterrupted(&OnFoundry::start().await, "plain").await;
    assert_eq!(expected.1.len(), 3, "three model requests");
    for n in [2, 4] {
        let served = OnFoundry::start().await;
        kill_at_checkpoint_and_resume(&served, "plain", n, &expected).await;
        for sent in served.0.server().recorded() {
            assert_eq!(sent.target, MESSAGES);
            assert_eq!(sent.header("api-key"), Some(KEY));
        }
    }
}

/// A sales figure, from code only.
#[tool(allowed_callers = ["code"])]
fn sales(region: String) -> u64 {
    if region == "north" { 120 } else { 80 }
}

/// Programmatic tool calling through the API's code-execution tool works on
/// Foundry, whose API has that tool: the tool goes out with the callers it
/// allows, a call from code is answered in its container.
#[tokio::test]
async fn programmatic_calling_works_on_foundry() {
    const V: &str = "code_execution_20260120";
    let container = json!({"id": "container_1", "expires_at": "2026-11-21T12:00:00Z"});
    let mut first = support::message(
        "msg_1",
        json!([
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "code_execution",
             "input": {"code": "print(await sales(region='north'))"}},
            {"type": "tool_use", "id": "toolu_c1", "name": "sales", "input": {"region": "north"},
             "caller": {"type": V, "tool_id": "srvtoolu_1"}},
        ]),
        "tool_use",
    );
    first["container"] = container.clone();
    let mut last = support::message("msg_2", json!([support::text("North: 120.")]), "end_turn");
    last["container"] = container;
    let (server, client) = foundry([Reply::message(first), Reply::message(last)]).await;
    let answer = client
        .tool_runner(
            MessageParams::new(MODEL, 256).user("North?"),
            toolset![sales],
        )
        .message_threads(false)
        .until_done()
        .await
        .unwrap();
    assert_eq!(answer.text(), "North: 120.");
    let recorded = server.server().recorded();
    assert_eq!(recorded.len(), 2);
    let sent = body(&recorded[0]);
    let tools = sent["tools"].as_array().unwrap();
    assert!(tools.iter().any(|t| t["type"] == V), "{sent}");
    let tool = tools.iter().find(|t| t["name"] == "sales").unwrap();
    assert_eq!(tool["allowed_callers"], json!([V]));
    let second = body(&recorded[1]);
    assert_eq!(second["container"], "container_1");
    let result = &support::last_message(&second)["content"][0];
    assert_eq!(result["tool_use_id"], "toolu_c1");
    assert_eq!(result["content"], "120");
}

#[tokio::test]
async fn a_code_mode_run_works_on_foundry() {
    let (server, client) = foundry([
        Reply::tool_use(
            "run_code",
            json!({"code": "print(await add_up(a=20, b=22))"}),
        ),
        Reply::text("42"),
    ])
    .await;
    let worker = Isolation::Worker(Worker::at(env!("CARGO_BIN_EXE_code-mode-worker")));
    let tools = CodeMode::new(toolset![add_up])
        .isolation(worker)
        .build()
        .unwrap();
    let last = client
        .tool_runner(MessageParams::new(MODEL, 256).user("20+22 in code"), tools)
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "42");
    let recorded = server.server().recorded();
    let second = body(&recorded[1]);
    let result = &support::last_message(&second)["content"][0];
    assert_eq!(result["content"], "Printed output:\n42", "{result}");
}

#[test]
fn missing_settings_name_the_variables_to_set() {
    let error = Foundry::new().api_key(KEY).build().unwrap_err();
    assert!(error.is_config());
    assert!(
        error.to_string().contains("ANTHROPIC_FOUNDRY_RESOURCE"),
        "{error}"
    );
    let error = Foundry::new().resource("r").build().unwrap_err();
    assert!(
        error.to_string().contains("ANTHROPIC_FOUNDRY_API_KEY"),
        "{error}"
    );
}

/// The official Python SDK's `AnthropicFoundry` and this crate's `Foundry`
/// send the same calls to one scripted resource, with the key from
/// `ANTHROPIC_FOUNDRY_API_KEY`.
#[tokio::test]
async fn foundry_requests_match_the_python_sdks() {
    let Some(python) = support::python::sdk().await else {
        return;
    };
    let replies = || [Reply::text("plain"), Reply::text("streamed").streamed()];
    let server =
        ScriptedFoundry::start_with_key(Sequence::new(replies().into_iter().chain(replies())), KEY)
            .await
            .unwrap();
    let params = MessageParams::new(MODEL, 128)
        .system("Be brief.")
        .user("What is 2+2?")
        .beta("token-efficient-tools-2025-02-19");
    let mut plain = serde_json::to_value(&params).unwrap();
    let input =
        json!({"params": plain.take(), "beta": "token-efficient-tools-2025-02-19"}).to_string();
    let base_url = server.base_url();
    tokio::task::spawn_blocking(move || {
        support::python::run(
            &python,
            PYTHON_FOUNDRY,
            &input,
            &[
                ("ANTHROPIC_FOUNDRY_API_KEY", KEY),
                ("ANTHROPIC_FOUNDRY_BASE_URL", base_url.as_str()),
            ],
        )
    })
    .await
    .unwrap();

    plain_then_streamed(&keyed(&server), &params).await;
    // The key headers too: both sides send the same key.
    for ours in same_as_python(&server) {
        assert_eq!(ours.header("api-key"), Some(KEY));
    }
}

/// One plain and one streamed call of `params`, as the Python scripts make.
async fn plain_then_streamed(client: &Client, params: &MessageParams) {
    client.create_message(params).await.unwrap();
    client
        .stream_message(params)
        .await
        .unwrap()
        .message()
        .await
        .unwrap();
}

/// Checks the two requests the Python SDK sent against the two toolrunner
/// sent next, in order: same target, body and every header but the
/// volatile ones (credentials included). Gives toolrunner's.
fn same_as_python(server: &ScriptedFoundry) -> Vec<Recorded> {
    let recorded = server.server().recorded();
    assert_eq!(recorded.len(), 4);
    let (theirs, ours) = recorded.split_at(2);
    for (theirs, ours) in theirs.iter().zip(ours) {
        assert_eq!(ours.target, theirs.target);
        assert_eq!(body(ours), body(theirs));
        assert_eq!(
            support::python::comparable_headers(ours, &[]),
            support::python::comparable_headers(theirs, &[])
        );
    }
    ours.to_vec()
}

const PYTHON_FOUNDRY: &str = r#"
import json, sys
from anthropic import AnthropicFoundry

cfg = json.load(sys.stdin)
client = AnthropicFoundry(max_retries=0)
params = cfg["params"]
client.beta.messages.create(betas=[cfg["beta"]], **params)
with client.beta.messages.stream(betas=[cfg["beta"]], **params) as stream:
    stream.get_final_message()
"#;

/// The official Python SDK's `AnthropicFoundry(azure_ad_token_provider=...)`
/// and this crate's `Foundry::token_provider` send the same calls to one
/// scripted resource that takes the Entra token only: path, body and every
/// header equal, the bearer token included, and no key header on either.
#[tokio::test]
async fn foundry_requests_with_an_entra_token_provider_match_the_python_sdks() {
    const TOKEN: &str = "entra-scripted-access-token";
    let Some(python) = support::python::sdk().await else {
        return;
    };
    let replies = || [Reply::text("plain"), Reply::text("streamed").streamed()];
    let script = Sequence::new(replies().into_iter().chain(replies()));
    let server = ScriptedFoundry::start_with_entra(script, |token| token == TOKEN)
        .await
        .unwrap();
    let params = MessageParams::new(MODEL, 128)
        .system("Be brief.")
        .user("What is 2+2?");
    let input = json!({
        "params": serde_json::to_value(&params).unwrap(),
        "base_url": server.base_url(),
        "token": TOKEN,
    })
    .to_string();
    tokio::task::spawn_blocking(move || {
        support::python::run(&python, PYTHON_FOUNDRY_ENTRA, &input, &[])
    })
    .await
    .unwrap();

    let (client, asked) = entra(&server, |_| TOKEN.to_owned());
    plain_then_streamed(&client, &params).await;
    // Asked before each request, as the SDK asks on every request.
    assert_eq!(asked.load(Ordering::SeqCst), 2);

    for ours in same_as_python(&server) {
        let bearer = format!("Bearer {TOKEN}");
        assert_eq!(ours.header("authorization"), Some(bearer.as_str()));
        assert_eq!(ours.header("api-key"), None);
        assert_eq!(ours.header("x-api-key"), None);
    }
}

const PYTHON_FOUNDRY_ENTRA: &str = r#"
import json, sys
from anthropic import AnthropicFoundry

cfg = json.load(sys.stdin)
client = AnthropicFoundry(
    azure_ad_token_provider=lambda: cfg["token"],
    base_url=cfg["base_url"],
    max_retries=0,
)
params = cfg["params"]
client.messages.create(**params)
with client.messages.stream(**params) as stream:
    stream.get_final_message()
"#;
