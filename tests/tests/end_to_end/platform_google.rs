//! Google's platforms end to end, over real HTTP on loopback: Vertex AI
//! (`ScriptedVertex`) and Claude on Google Cloud, with OAuth tokens from a
//! loopback token endpoint that checks each grant (gcloud user credentials'
//! refresh token, here, through google-cloud-auth; a service account's JWT
//! from the Python SDK's google-auth) or a service-account key's
//! self-signed JWT, and side by side with the official Python SDK's clients.

use crate::support;

use std::sync::Arc;

use serde_json::{Value, json};
use toolrunner::code_mode::{CodeMode, Isolation, Worker};
use toolrunner::platform::{GoogleCloud, Vertex};
use toolrunner::testing::platform_google::{
    METADATA_GRANT, REFRESH_TOKEN_GRANT, ScriptedGoogleCloud, ScriptedVertex, TEST_PROJECT_ID,
    TokenEndpoint, google_error,
};
use toolrunner::testing::{Part, Recorded, Reply, Script, Sequence};
use toolrunner::{Client, ClientBuilder, FileStore, MessageParams, RunId, RunStore, tool, toolset};

const REGION: &str = "us-east5";
const MODEL: &str = "claude-sonnet-4-5@20250929";

fn rawpredict(specifier: &str) -> String {
    format!(
        "/v1/projects/{TEST_PROJECT_ID}/locations/{REGION}/publishers/anthropic/models/{MODEL}:{specifier}"
    )
}

/// A token endpoint and Vertex in front of `script`, taking its tokens.
async fn served(script: impl Script) -> (TokenEndpoint, ScriptedVertex) {
    let tokens = TokenEndpoint::start().await.unwrap();
    let server = ScriptedVertex::start(script, TEST_PROJECT_ID, REGION, &tokens)
        .await
        .unwrap();
    (tokens, server)
}

/// A token endpoint, Vertex in front of `script`, and a client for them
/// with user credentials exchanged at the endpoint, never retrying.
async fn vertex(script: impl Script) -> (TokenEndpoint, ScriptedVertex, Client) {
    vertex_with(script, Client::builder().max_retries(0)).await
}

/// [`vertex`] with the client's `settings`.
async fn vertex_with(
    script: impl Script,
    settings: ClientBuilder,
) -> (TokenEndpoint, ScriptedVertex, Client) {
    let (tokens, server) = served(script).await;
    let client = client_with(&tokens, &server, settings);
    (tokens, server, client)
}

/// A file of gcloud user credentials whose `token_uri` is `tokens`, as
/// `gcloud auth application-default login` writes them; the test's files
/// are left in the system's temp folder, a few hundred bytes each.
fn user_credentials(tokens: &TokenEndpoint) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("toolrunner-google-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("adc-{n}.json"));
    std::fs::write(&file, tokens.authorized_user()).unwrap();
    file
}

/// A Vertex client for `server`, with user credentials exchanged at
/// `tokens` and the project they name, never retrying.
fn client_for(tokens: &TokenEndpoint, server: &ScriptedVertex) -> Client {
    client_with(tokens, server, Client::builder().max_retries(0))
}

/// [`client_for`] with the client's `settings`.
fn client_with(tokens: &TokenEndpoint, server: &ScriptedVertex, settings: ClientBuilder) -> Client {
    Vertex::new()
        .region(REGION)
        .base_url(server.base_url())
        .credentials_file(user_credentials(tokens))
        .client(settings)
        .build()
        .unwrap()
}

fn body(recorded: &Recorded) -> Value {
    serde_json::from_str(&recorded.body).unwrap()
}

/// Checks requests the Python SDK sent (the first `each`) against those
/// toolrunner sent (the next `each`), in order: same target, body and
/// headers, and each side's bearer token good for the same key: google-auth
/// (Python) exchanges the key's JWT at the token endpoint, google-cloud-auth
/// (ours) sends a self-signed JWT of the key, as Google's libraries may.
fn assert_same_as_python(recorded: &[Recorded], each: usize, tokens: &TokenEndpoint) {
    assert_eq!(recorded.len(), 2 * each, "{:?}", tokens.refusals());
    let (theirs, ours) = recorded.split_at(each);
    for (theirs, ours) in theirs.iter().zip(ours) {
        assert_eq!(ours.target, theirs.target);
        assert_eq!(body(ours), body(theirs));
        // Each side has a token of its own, both checked below.
        let skip = ["authorization"];
        assert_eq!(
            support::python::comparable_headers(ours, &skip),
            support::python::comparable_headers(theirs, &skip)
        );
        for sent in [theirs, ours] {
            let token = sent
                .header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "));
            assert!(
                tokens.is_valid(token.unwrap_or_default()),
                "{:?}",
                sent.headers
            );
        }
    }
    // One grant for Python, one self-signed JWT for us, each checked.
    assert_eq!(tokens.grants().len(), 1);
    assert_eq!(tokens.self_signed_tokens().len(), 1);
}

/// Add two numbers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::test]
async fn a_message_goes_to_rawpredict_with_a_granted_token_and_the_version_in_the_body() {
    let (tokens, server, client) = vertex(Sequence::new([
        Reply::text("Hello!"),
        Reply::text("Again."),
    ]))
    .await;
    let params = MessageParams::new(MODEL, 256)
        .system("Be brief.")
        .user("Hi")
        .beta("token-efficient-tools-2025-02-19");
    let message = client.create_message(&params).await.unwrap();
    assert_eq!(message.text(), "Hello!");
    client.create_message(&params).await.unwrap();

    let recorded = server.server().recorded();
    assert_eq!(recorded.len(), 2);
    let sent = &recorded[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.target, rawpredict("rawPredict"));
    assert_eq!(
        body(sent),
        json!({
            "max_tokens": 256,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "Hi"}],
            "anthropic_version": "2026-10-21",
        })
    );
    assert_eq!(
        sent.header("anthropic-beta"),
        Some("token-efficient-tools-2025-02-19")
    );
    assert_eq!(sent.header("anthropic-version"), None);
    assert_eq!(sent.header("x-api-key"), None);
    // One grant, checked by the endpoint, and its token on both requests.
    let grants = tokens.grants();
    assert_eq!(grants.len(), 1, "{:?}", tokens.refusals());
    let bearer = format!("Bearer {}", grants[0].access_token);
    assert_eq!(sent.header("authorization"), Some(bearer.as_str()));
    assert_eq!(recorded[1].header("authorization"), Some(bearer.as_str()));
    assert_eq!(
        grants[0].claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
}

/// A service-account key: google-cloud-auth signs a JWT with it that
/// Vertex takes as the access token, made once and sent on each request,
/// with no token endpoint asked; the key's project is the project.
#[tokio::test]
async fn a_service_account_key_is_sent_as_a_self_signed_jwt() {
    let (tokens, server) = served(Sequence::new([Reply::text("one"), Reply::text("two")])).await;
    let client = Vertex::new()
        .region(REGION)
        .base_url(server.base_url())
        .service_account_key(tokens.service_account_key())
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let params = MessageParams::new(MODEL, 64).user("Hi");
    assert_eq!(client.create_message(&params).await.unwrap().text(), "one");
    assert_eq!(client.create_message(&params).await.unwrap().text(), "two");
    let jwts = tokens.self_signed_tokens();
    assert_eq!(jwts.len(), 1, "{:?}", tokens.refusals());
    let bearer = format!("Bearer {}", jwts[0]);
    for sent in server.server().recorded() {
        assert_eq!(sent.target, rawpredict("rawPredict"));
        assert_eq!(sent.header("authorization"), Some(bearer.as_str()));
    }
    assert!(tokens.grants().is_empty());
}

#[tokio::test]
async fn a_streamed_reply_comes_from_streamrawpredict() {
    let (_tokens, server, client) =
        vertex(Sequence::new([Reply::text("Streamed hi").streamed()])).await;
    let params = MessageParams::new(MODEL, 64).user("Hi");
    let mut stream = client.stream_message(&params).await.unwrap();
    assert_eq!(stream.message().await.unwrap().text(), "Streamed hi");
    let recorded = server.server().recorded();
    assert_eq!(recorded[0].target, rawpredict("streamRawPredict"));
    assert_eq!(body(&recorded[0])["stream"], true);
    assert!(body(&recorded[0]).get("model").is_none());
}

// Each Google platform takes the same runs: parallel tool calls over
// several turns, streamed turns, a run killed and resumed on a new client,
// and a code-mode run. One body per run; `OnGoogle` gives the platform's
// client and checks what its requests show on the wire.

/// Which Google platform a run goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Google {
    Vertex,
    Cloud,
}

/// The workspace of the scripted Claude on Google Cloud gateway.
const WORKSPACE: &str = "wrkspc_1";

enum Served {
    Vertex(ScriptedVertex),
    Cloud(ScriptedGoogleCloud),
}

/// A token endpoint and a Google platform in front of a script.
struct OnGoogle {
    tokens: TokenEndpoint,
    served: Served,
}

impl OnGoogle {
    async fn start(platform: Google, script: impl Script) -> Self {
        let tokens = TokenEndpoint::start().await.unwrap();
        let served = match platform {
            Google::Vertex => Served::Vertex(
                ScriptedVertex::start(script, TEST_PROJECT_ID, REGION, &tokens)
                    .await
                    .unwrap(),
            ),
            Google::Cloud => Served::Cloud(
                ScriptedGoogleCloud::start(script, TEST_PROJECT_ID, "global", WORKSPACE, &tokens)
                    .await
                    .unwrap(),
            ),
        };
        OnGoogle { tokens, served }
    }

    /// A new client of the platform, with user credentials exchanged at
    /// the endpoint, never retrying.
    fn client(&self) -> Client {
        match &self.served {
            Served::Vertex(server) => client_for(&self.tokens, server),
            Served::Cloud(server) => GoogleCloud::new()
                .base_url(server.base_url())
                .credentials_file(user_credentials(&self.tokens))
                .client(Client::builder().max_retries(0))
                .build()
                .unwrap(),
        }
    }

    fn recorded(&self) -> Vec<Recorded> {
        match &self.served {
            Served::Vertex(server) => server.server().recorded(),
            Served::Cloud(server) => server.server().recorded(),
        }
    }

    /// Checks every request received: the platform's path (`streamed` or
    /// not) and body shape, and a token the endpoint granted, no
    /// Anthropic key.
    fn check_wire(&self, streamed: bool) {
        self.check_wire_of(streamed, MODEL);
    }

    /// [`check_wire`](Self::check_wire) for requests for `model`.
    fn check_wire_of(&self, streamed: bool, model: &str) {
        let granted: Vec<String> = self
            .tokens
            .grants()
            .iter()
            .map(|grant| format!("Bearer {}", grant.access_token))
            .collect();
        for sent in self.recorded() {
            let auth = sent.header("authorization").expect("a token");
            assert!(granted.iter().any(|g| g == auth), "{auth} not granted");
            assert_eq!(sent.header("x-api-key"), None);
            let body = body(&sent);
            assert_eq!(body.get("stream") == Some(&Value::Bool(true)), streamed);
            match self.served {
                Served::Vertex(_) => {
                    let specifier = if streamed {
                        "streamRawPredict"
                    } else {
                        "rawPredict"
                    };
                    assert_eq!(sent.target, rawpredict(specifier).replace(MODEL, model));
                    assert_eq!(body["anthropic_version"], "2026-10-21");
                    // Vertex has no message threads: none was sent.
                    assert!(body.get("thread").is_none(), "{body}");
                    assert!(body.get("model").is_none(), "{body}");
                }
                Served::Cloud(_) => {
                    assert_eq!(
                        sent.target,
                        format!(
                            "/v1/projects/{TEST_PROJECT_ID}/locations/global/workspaces/{WORKSPACE}/invoke/v1/messages"
                        )
                    );
                    assert_eq!(sent.header("anthropic-version"), Some("2026-10-21"));
                    assert_eq!(body["model"], model);
                }
            }
        }
    }
}

/// The contents of the tool results `sent` carries, in order: in its last
/// message, whole history or a thread's continuation.
fn results(sent: &Recorded) -> Vec<Value> {
    let body = body(sent);
    let last = body["messages"].as_array().unwrap().last().unwrap().clone();
    last["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["content"].clone())
        .collect()
}

async fn parallel_calls_on(platform: Google) {
    let on = OnGoogle::start(
        platform,
        Sequence::new([
            Reply::tool_uses([
                ("add", json!({"a": 1, "b": 2})),
                ("add", json!({"a": 3, "b": 4})),
            ]),
            Reply::text("3 and 7"),
        ]),
    )
    .await;
    let params = MessageParams::new(MODEL, 256).user("Add 1+2 and 3+4.");
    let last = on
        .client()
        .tool_runner(params, toolset![add])
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "3 and 7");
    let recorded = on.recorded();
    assert_eq!(recorded.len(), 2);
    on.check_wire(false);
    assert_eq!(results(&recorded[1]), [json!("3"), json!("7")]);
    assert_eq!(on.tokens.grants().len(), 1);
}

async fn streamed_run_on(platform: Google) {
    let on = OnGoogle::start(
        platform,
        Sequence::new([
            Reply::tool_uses([("add", json!({"a": 2, "b": 2}))]).streamed(),
            Reply::text("4").streamed(),
        ]),
    )
    .await;
    let last = on
        .client()
        .tool_runner(MessageParams::new(MODEL, 256).user("2+2?"), toolset![add])
        .streaming()
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "4");
    let recorded = on.recorded();
    assert_eq!(recorded.len(), 2);
    on.check_wire(true);
    assert_eq!(results(&recorded[1]), [json!("4")]);
}

async fn killed_run_resumes_on(platform: Google) {
    let on = OnGoogle::start(
        platform,
        Sequence::new([
            Reply::tool_uses([("add", json!({"a": 5, "b": 6}))]),
            Reply::text("11"),
        ]),
    )
    .await;
    let dir = std::env::temp_dir().join(format!(
        "toolrunner-{platform:?}-resume-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Arc::new(FileStore::new(&dir));
    let run = RunId::new("google-run").unwrap();
    let params = MessageParams::new(MODEL, 256).user("5+6?");
    let client = on.client();
    let mut runner = client
        .tool_runner(params, toolset![add])
        .checkpoint(store.clone(), run.clone());
    use futures_util::StreamExt;
    // The first turn and its tool call, then the process "dies".
    runner.next().await.unwrap().unwrap();
    drop(runner);
    drop(client);
    assert_eq!(on.recorded().len(), 1);

    let state = store.load(&run).await.unwrap().expect("a checkpoint");
    let last = on
        .client()
        .resume(state, toolset![add])
        .unwrap()
        .checkpoint(store.clone(), run.clone())
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "11");
    let recorded = on.recorded();
    assert_eq!(recorded.len(), 2);
    on.check_wire(false);
    assert_eq!(results(&recorded[1]), [json!("11")]);
    // The new client got its own token.
    assert_eq!(on.tokens.grants().len(), 2);
    let _ = std::fs::remove_dir_all(dir);
}

/// Add two numbers, from code.
#[tool(allowed_callers = ["code"])]
fn add_up(a: i64, b: i64) -> i64 {
    a + b
}

async fn code_mode_run_on(platform: Google) {
    let program = "print(await add_up(a=20, b=22))";
    let on = OnGoogle::start(
        platform,
        Sequence::new([
            Reply::tool_use("run_code", json!({"code": program})),
            Reply::text("42"),
        ]),
    )
    .await;
    let worker = Isolation::Worker(Worker::at(env!("CARGO_BIN_EXE_code-mode-worker")));
    let tools = CodeMode::new(toolset![add_up])
        .isolation(worker)
        .build()
        .unwrap();
    let last = on
        .client()
        .tool_runner(MessageParams::new(MODEL, 256).user("20+22 in code"), tools)
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "42");
    let recorded = on.recorded();
    on.check_wire(false);
    let result = &results(&recorded[1])[0];
    assert!(
        result.as_str().unwrap_or_default().contains("42"),
        "{result}"
    );
}

#[tokio::test]
async fn a_tool_run_with_parallel_calls_sends_no_thread_on_vertex() {
    parallel_calls_on(Google::Vertex).await;
}

#[tokio::test]
async fn a_tool_run_with_parallel_calls_works_on_google_cloud() {
    parallel_calls_on(Google::Cloud).await;
}

#[tokio::test]
async fn a_streaming_tool_run_streams_each_turn_through_streamrawpredict() {
    streamed_run_on(Google::Vertex).await;
}

#[tokio::test]
async fn a_streaming_tool_run_works_on_google_cloud() {
    streamed_run_on(Google::Cloud).await;
}

#[tokio::test]
async fn a_run_stopped_after_a_checkpoint_resumes_on_a_new_client() {
    killed_run_resumes_on(Google::Vertex).await;
}

#[tokio::test]
async fn a_killed_google_cloud_run_resumes_on_a_new_client() {
    killed_run_resumes_on(Google::Cloud).await;
}

#[tokio::test]
async fn a_code_mode_run_works_on_vertex() {
    code_mode_run_on(Google::Vertex).await;
}

#[tokio::test]
async fn a_code_mode_run_works_on_google_cloud() {
    code_mode_run_on(Google::Cloud).await;
}

/// Where the durable-run child's Application Default Credentials are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Adc {
    /// The metadata server `GCE_METADATA_HOST` names: the token endpoint's.
    MetadataServer,
    /// gcloud's user credentials in the folder `CLOUDSDK_CONFIG` names.
    GcloudConfig,
    /// gcloud's user credentials where gcloud puts them by default,
    /// `~/.config/gcloud`.
    HomeFolder,
}

/// A Google platform for the durable-run child, whose credentials come
/// from Application Default Credentials as in production. `HOME` is a
/// fresh folder, so that no file of this machine's is found.
struct ForChild {
    on: OnGoogle,
    platform: Google,
    adc: Adc,
    home: std::path::PathBuf,
}

impl ForChild {
    async fn start(platform: Google, adc: Adc) -> Self {
        let on = OnGoogle::start(platform, support::durable::durable_model).await;
        let home = support::durable::temp_dir("google-home");
        let gcloud = match adc {
            Adc::MetadataServer => None,
            Adc::GcloudConfig => Some(home.join("gcloud-config")),
            Adc::HomeFolder => Some(home.join(".config/gcloud")),
        };
        if let Some(gcloud) = gcloud {
            std::fs::create_dir_all(&gcloud).unwrap();
            std::fs::write(
                gcloud.join("application_default_credentials.json"),
                on.tokens.authorized_user(),
            )
            .unwrap();
        }
        ForChild {
            on,
            platform,
            adc,
            home,
        }
    }

    /// The grants the children got: one per process, from the source
    /// `adc` names, each for the cloud-platform scope.
    fn assert_granted(&self, processes: usize) {
        let grants = self.on.tokens.grants();
        assert_eq!(grants.len(), processes, "{:?}", self.on.tokens.refusals());
        let (grant_type, scope) = match self.adc {
            Adc::MetadataServer => (METADATA_GRANT, &grants[0].claims["scopes"]),
            Adc::GcloudConfig | Adc::HomeFolder => {
                (REFRESH_TOKEN_GRANT, &grants[0].claims["scope"])
            }
        };
        assert!(grants.iter().all(|g| g.grant_type == grant_type));
        assert_eq!(scope, "https://www.googleapis.com/auth/cloud-platform");
        // The durable-run child asks for `claude-test`.
        self.on.check_wire_of(false, "claude-test");
    }
}

impl Drop for ForChild {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

impl support::durable::Served for ForChild {
    fn url(&self) -> String {
        match &self.on.served {
            Served::Vertex(server) => server.base_url(),
            Served::Cloud(server) => server.base_url(),
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        let home = self.home.to_str().unwrap().to_owned();
        let mut env = vec![("HOME".into(), home.clone())];
        match self.platform {
            Google::Vertex => env.extend([
                ("DURABLE_PLATFORM".into(), "vertex".into()),
                ("CLOUD_ML_REGION".into(), REGION.into()),
                ("ANTHROPIC_VERTEX_PROJECT_ID".into(), TEST_PROJECT_ID.into()),
            ]),
            Google::Cloud => env.push(("DURABLE_PLATFORM".into(), "google-cloud".into())),
        }
        match self.adc {
            Adc::MetadataServer => {
                env.push(("GCE_METADATA_HOST".into(), self.on.tokens.metadata_host()));
            }
            Adc::GcloudConfig => {
                env.push(("CLOUDSDK_CONFIG".into(), format!("{home}/gcloud-config")));
            }
            Adc::HomeFolder => {}
        }
        env
    }

    fn bodies(&self) -> Vec<String> {
        self.on.recorded().into_iter().map(|r| r.body).collect()
    }
}

/// A run on `platform` in a process of its own, killed with SIGKILL at a
/// checkpoint (mid-turn, then between turns), is resumed by a new process:
/// no request sent twice, no call run twice, the conversation the same as
/// an uninterrupted run's; each process got its own token from ADC.
async fn killed_process_resumes_on(platform: Google, adc: Adc) {
    use support::durable::{kill_at_checkpoint_and_resume, uninterrupted};
    let served = ForChild::start(platform, adc).await;
    let expected = uninterrupted(&served, "plain").await;
    assert_eq!(expected.1.len(), 3, "three model requests");
    served.assert_granted(1);
    for n in [2, 4] {
        let served = ForChild::start(platform, adc).await;
        kill_at_checkpoint_and_resume(&served, "plain", n, &expected).await;
        served.assert_granted(2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vertex_run_killed_in_its_process_resumes_in_a_new_one_with_metadata_server_tokens() {
    killed_process_resumes_on(Google::Vertex, Adc::MetadataServer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_google_cloud_run_killed_in_its_process_resumes_in_a_new_one_with_gcloud_user_credentials()
 {
    killed_process_resumes_on(Google::Cloud, Adc::GcloudConfig).await;
}

/// The default place of `gcloud auth application-default login`'s file,
/// found by google-cloud-auth itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vertex_run_killed_in_its_process_resumes_with_gcloud_credentials_from_the_home_folder() {
    killed_process_resumes_on(Google::Vertex, Adc::HomeFolder).await;
}

#[tokio::test]
async fn an_expired_token_is_replaced_once_then_the_refusal_is_an_error() {
    let (tokens, server, client) =
        vertex(Sequence::new([Reply::text("first"), Reply::text("second")])).await;
    let params = MessageParams::new(MODEL, 64).user("Hi");
    client.create_message(&params).await.unwrap();
    // The cached token outlives its grant: Vertex answers 401, and the
    // client gets a fresh grant and sends again, once.
    tokens.expire_issued_tokens();
    assert_eq!(
        client.create_message(&params).await.unwrap().text(),
        "second"
    );
    assert_eq!(tokens.grants().len(), 2);
    let recorded = server.server().recorded();
    assert_eq!(recorded.len(), 3);
    assert_ne!(
        recorded[1].header("authorization"),
        recorded[2].header("authorization")
    );
}

/// An unavailable Vertex is retried as on the first-party client, with
/// the cached token.
#[tokio::test]
async fn an_unavailable_vertex_is_retried_with_the_same_token() {
    let unavailable = google_error(503, "UNAVAILABLE", "The service is unavailable.")
        .header("retry-after-ms", "1");
    let script = Sequence::new([unavailable, Reply::text("Back.")]);
    let (tokens, server, client) = vertex_with(script, Client::builder().max_retries(1)).await;
    let recorded =
        support::answered_after_one_retry(&client, MODEL, || server.server().recorded()).await;
    assert_eq!(
        recorded[0].header("authorization"),
        recorded[1].header("authorization")
    );
    assert_eq!(tokens.grants().len(), 1);
}

/// A Vertex answer slower than the client's timeout is a timeout error, as
/// on the first-party client, and is not sent again without retries.
#[tokio::test]
async fn a_vertex_request_past_the_timeout_is_a_timeout_error() {
    // Headers, then a body that never comes.
    let silence = Arc::new(tokio::sync::Notify::new());
    let stalled = Reply::stream([Part::Wait(silence)]);
    let settings = Client::builder()
        .max_retries(0)
        .timeout(std::time::Duration::from_millis(300));
    let (_tokens, server, client) = vertex_with(Sequence::new([stalled]), settings).await;
    let error = client
        .create_message(&MessageParams::new(MODEL, 64).user("Hi"))
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(server.server().recorded().len(), 1);
}

#[tokio::test]
async fn a_token_refused_twice_ends_in_a_clear_401() {
    let tokens = TokenEndpoint::start().await.unwrap();
    // A Vertex that accepts one token only, which the endpoint never issues.
    let server = ScriptedVertex::start_with_token(
        Sequence::new([]),
        TEST_PROJECT_ID,
        REGION,
        "a-token-nobody-has",
    )
    .await
    .unwrap();
    let client = client_for(&tokens, &server);
    let error = client
        .create_message(&MessageParams::new(MODEL, 64).user("Hi"))
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.api_error_type(), Some("UNAUTHENTICATED"));
    assert!(!error.is_retryable());
    // The first token, then one fresh grant for the one more attempt.
    assert_eq!(tokens.grants().len(), 2);
    assert_eq!(server.server().recorded().len(), 2);
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("ya29."), "a token leaked: {shown}");
}

#[tokio::test]
async fn a_static_token_that_is_refused_is_not_sent_again() {
    let server =
        ScriptedVertex::start_with_token(Sequence::new([]), TEST_PROJECT_ID, REGION, "good")
            .await
            .unwrap();
    let client = Vertex::new()
        .region(REGION)
        .project_id(TEST_PROJECT_ID)
        .base_url(server.base_url())
        .access_token("stale-token")
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let error = client
        .create_message(&MessageParams::new(MODEL, 64).user("Hi"))
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(server.server().recorded().len(), 1);
    assert!(!format!("{error:?}{client:?}").contains("stale-token"));
}

#[tokio::test]
async fn a_token_provider_is_asked_before_each_request() {
    let server = ScriptedVertex::start_with_token(
        Sequence::new([Reply::text("one"), Reply::text("two")]),
        TEST_PROJECT_ID,
        REGION,
        "from-my-broker",
    )
    .await
    .unwrap();
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    let client = Vertex::new()
        .region(REGION)
        .project_id(TEST_PROJECT_ID)
        .base_url(server.base_url())
        .token_provider(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Ok::<_, std::io::Error>("from-my-broker".to_owned()) }
        })
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let params = MessageParams::new(MODEL, 64).user("Hi");
    client.create_message(&params).await.unwrap();
    client.create_message(&params).await.unwrap();
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
    let recorded = server.server().recorded();
    assert!(
        recorded
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer from-my-broker"))
    );
}

#[tokio::test]
async fn a_403_from_vertex_is_an_api_error_with_googles_status_and_request_id() {
    let denied = google_error(
        403,
        "PERMISSION_DENIED",
        "Permission 'aiplatform.endpoints.predict' denied on resource",
    )
    .header("request-id", "req_vertex_403");
    let (_tokens, server, client) = vertex(Sequence::new([denied])).await;
    let error = client
        .create_message(&MessageParams::new(MODEL, 64).user("Hi"))
        .await
        .unwrap_err();
    assert!(error.is_api());
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(error.api_error_type(), Some("PERMISSION_DENIED"));
    assert_eq!(
        error.api_message(),
        Some("Permission 'aiplatform.endpoints.predict' denied on resource")
    );
    assert_eq!(error.request_id(), Some("req_vertex_403"));
    assert!(!error.is_retryable());
    // A 403 is not an expired token: no second grant, no second attempt.
    assert_eq!(server.server().recorded().len(), 1);
}

#[tokio::test]
async fn what_vertex_lacks_is_refused_before_sending() {
    let (_tokens, server, client) = vertex(Sequence::new([])).await;
    let error = client.files().metadata("file_1").await.unwrap_err();
    assert!(error.is_unsupported(), "{error}");
    let shown = error.to_string();
    assert!(
        shown.contains("Vertex AI") && shown.contains("Files"),
        "{shown}"
    );
    assert!(server.server().recorded().is_empty());
}

#[test]
fn a_missing_region_or_project_names_the_variable_to_set() {
    let error = Vertex::new()
        .project_id("p")
        .access_token("t")
        .build()
        .unwrap_err();
    assert!(error.is_config());
    assert!(error.to_string().contains("CLOUD_ML_REGION"), "{error}");
    let error = Vertex::new()
        .region(REGION)
        .access_token("t")
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("ANTHROPIC_VERTEX_PROJECT_ID"),
        "{error}"
    );
}

/// The official Python SDK's `AnthropicVertex` and this crate's `Vertex`
/// send the same calls to one scripted Vertex, with the same service-account
/// key file, `GOOGLE_APPLICATION_CREDENTIALS` on the Python side
/// (google-auth's ADC) and [`Vertex::credentials_file`] on ours.
#[tokio::test]
async fn vertex_requests_match_the_python_sdks() {
    let Some(python) = support::python::sdk().await else {
        return;
    };
    let replies = || {
        [
            Reply::text("plain"),
            Reply::text("beta"),
            Reply::text("streamed").streamed(),
        ]
    };
    let tokens = TokenEndpoint::start().await.unwrap();
    let server = ScriptedVertex::start(
        Sequence::new(replies().into_iter().chain(replies())),
        TEST_PROJECT_ID,
        REGION,
        &tokens,
    )
    .await
    .unwrap();
    let params = MessageParams::new(MODEL, 128)
        .system("Be brief.")
        .user("What is 2+2?");
    let beta = "token-efficient-tools-2025-02-19";
    let plain = serde_json::to_value(&params).unwrap();

    let dir = std::env::temp_dir().join(format!("toolrunner-vertex-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key.json");
    std::fs::write(&key_file, tokens.service_account_key()).unwrap();
    let input = json!({"base_url": server.base_url(), "params": plain, "beta": beta}).to_string();
    let key_path = key_file.to_str().unwrap().to_owned();
    tokio::task::spawn_blocking(move || {
        support::python::run(
            &python,
            PYTHON_VERTEX,
            &input,
            &[
                ("GOOGLE_APPLICATION_CREDENTIALS", key_path.as_str()),
                ("ANTHROPIC_VERTEX_PROJECT_ID", TEST_PROJECT_ID),
                ("HOME", "/nonexistent"),
            ],
        )
    })
    .await
    .unwrap();

    let client = Vertex::new()
        .region(REGION)
        .base_url(server.base_url())
        .credentials_file(&key_file)
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    client.create_message(&params).await.unwrap();
    client
        .create_message(&params.clone().beta(beta))
        .await
        .unwrap();
    client
        .stream_message(&params)
        .await
        .unwrap()
        .message()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    assert_same_as_python(&server.server().recorded(), 3, &tokens);
}

const PYTHON_VERTEX: &str = r#"
import json, sys
from anthropic import AnthropicVertex

cfg = json.load(sys.stdin)
# The project comes from ANTHROPIC_VERTEX_PROJECT_ID: this SDK needs it
# before its credentials are loaded, on the first request.
client = AnthropicVertex(region="us-east5", base_url=cfg["base_url"], max_retries=0)
params = cfg["params"]
client.messages.create(**params)
client.beta.messages.create(betas=[cfg["beta"]], **params)
with client.messages.stream(**params) as stream:
    stream.get_final_message()
"#;

/// Claude on Google Cloud: the first-party request under the gateway's
/// workspace path, with a Google token and no Anthropic credential.
#[tokio::test]
async fn google_cloud_sends_the_first_party_request_with_a_google_token() {
    let tokens = TokenEndpoint::start().await.unwrap();
    let script = Sequence::new([
        Reply::tool_use("add", json!({"a": 1, "b": 1})),
        Reply::text("2"),
    ]);
    let server = ScriptedGoogleCloud::start(script, TEST_PROJECT_ID, "global", "wrkspc_1", &tokens)
        .await
        .unwrap();
    let base = server.base_url();
    let client = GoogleCloud::new()
        .base_url(&base)
        .credentials_file(user_credentials(&tokens))
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let last = client
        .tool_runner(
            MessageParams::new("claude-sonnet-4-5", 128).user("1+1?"),
            toolset![add],
        )
        .until_done()
        .await
        .unwrap();
    assert_eq!(last.text(), "2");
    let recorded = server.server().recorded();
    assert_eq!(recorded.len(), 2);
    let bearer = format!("Bearer {}", tokens.grants()[0].access_token);
    for sent in &recorded {
        assert_eq!(
            sent.target,
            format!(
                "/v1/projects/{TEST_PROJECT_ID}/locations/global/workspaces/wrkspc_1/invoke/v1/messages"
            )
        );
        assert_eq!(sent.header("authorization"), Some(bearer.as_str()));
        assert_eq!(sent.header("anthropic-version"), Some("2026-10-21"));
        assert_eq!(sent.header("x-api-key"), None);
        assert_eq!(body(sent)["model"], "claude-sonnet-4-5");
    }
    // The gateway serves the first-party API, message threads included.
    assert_eq!(body(&recorded[0])["thread"]["type"], "create");
    assert_eq!(tokens.grants().len(), 1);
}

/// The official Python SDK's `AnthropicGoogleCloud` and this crate's
/// `GoogleCloud` send the same calls to one scripted gateway, with the same
/// service-account key file.
#[tokio::test]
async fn google_cloud_requests_match_the_python_sdks() {
    let Some(python) = support::python::sdk().await else {
        return;
    };
    let replies = || [Reply::text("plain"), Reply::text("streamed").streamed()];
    let tokens = TokenEndpoint::start().await.unwrap();
    let script = Sequence::new(replies().into_iter().chain(replies()));
    let server = ScriptedGoogleCloud::start(script, TEST_PROJECT_ID, "global", "wrkspc_1", &tokens)
        .await
        .unwrap();
    let base = server.base_url();
    let params = MessageParams::new("claude-sonnet-4-5", 128)
        .system("Be brief.")
        .user("What is 2+2?");
    let dir = std::env::temp_dir().join(format!("toolrunner-gcloud-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key.json");
    std::fs::write(&key_file, tokens.service_account_key()).unwrap();
    let input = json!({"params": serde_json::to_value(&params).unwrap()}).to_string();
    let (key_path, python_base) = (key_file.to_str().unwrap().to_owned(), base.clone());
    tokio::task::spawn_blocking(move || {
        support::python::run(
            &python,
            PYTHON_GOOGLE_CLOUD,
            &input,
            &[
                ("GOOGLE_APPLICATION_CREDENTIALS", key_path.as_str()),
                ("ANTHROPIC_GOOGLE_CLOUD_BASE_URL", python_base.as_str()),
                ("HOME", "/nonexistent"),
            ],
        )
    })
    .await
    .unwrap();

    let client = GoogleCloud::new()
        .base_url(&base)
        .credentials_file(&key_file)
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    client.create_message(&params).await.unwrap();
    client
        .stream_message(&params)
        .await
        .unwrap()
        .message()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    assert_same_as_python(&server.server().recorded(), 2, &tokens);
}

const PYTHON_GOOGLE_CLOUD: &str = r#"
import json, sys
from anthropic import AnthropicGoogleCloud

cfg = json.load(sys.stdin)
client = AnthropicGoogleCloud(max_retries=0)
params = cfg["params"]
client.messages.create(**params)
with client.messages.stream(**params) as stream:
    stream.get_final_message()
"#;

#[tokio::test]
async fn the_gateway_refuses_a_token_it_did_not_issue() {
    let tokens = TokenEndpoint::start().await.unwrap();
    let server = ScriptedGoogleCloud::start(
        Sequence::new([]),
        TEST_PROJECT_ID,
        "global",
        "wrkspc_1",
        &tokens,
    )
    .await
    .unwrap();
    let client = GoogleCloud::new()
        .base_url(server.base_url())
        .access_token("not-from-google")
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let error = client
        .create_message(&MessageParams::new("claude-sonnet-4-5", 64).user("Hi"))
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.api_error_type(), Some("UNAUTHENTICATED"));
    // A fixed token cannot be replaced, so it is sent once.
    assert_eq!(server.server().recorded().len(), 1);
}
