//! Credentials never show: a request on Bedrock (keys and a session
//! token), Vertex (an access token) and Foundry (an API key), answered and
//! refused, under a `tracing` subscriber taking everything at TRACE level;
//! no secret is in what it wrote, nor in the `Debug` of the builders, the
//! clients and the errors, nor in the errors' messages.

use crate::support;

use serde_json::Value;
use support::capture::Written;
use toolrunner::platform::{Bedrock, Foundry, Vertex};
use toolrunner::testing::platform_foundry::ScriptedFoundry;
use toolrunner::testing::platform_google::{ScriptedVertex, TEST_PROJECT_ID};
use toolrunner::testing::{
    AwsPlatform, Reply, ScriptedAws, Sequence, TEST_ACCESS_KEY, TEST_REGION, TEST_SECRET_KEY,
};
use toolrunner::{Client, MessageParams};

const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLEsecretsessiontoken";
const VERTEX_TOKEN: &str = "ya29.secret-vertex-access-token";
const FOUNDRY_KEY: &str = "secret-foundry-api-key";

/// What each client showed: the `Debug` of the client and of each error,
/// and each error's message.
fn shown(client: &Client, errors: &[toolrunner::Error]) -> String {
    let mut shown = format!("{client:?}");
    for error in errors {
        shown.push_str(&format!("\n{error}\n{error:?}"));
    }
    shown
}

// One thread: the subscriber set for this thread sees every task.
#[tokio::test(flavor = "current_thread")]
async fn no_credential_shows_in_trace_logs_debug_output_or_errors() {
    let written = Written::default();
    let _guard = written.install();
    let mut shown_by = Vec::new();

    // Bedrock: answered, then refused as expired (the keys are static).
    let bedrock = ScriptedAws::start(AwsPlatform::Bedrock, |_: &Value| Reply::text("Hi!"))
        .await
        .unwrap();
    let builder = Bedrock::new()
        .region(TEST_REGION)
        .base_url(bedrock.url())
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, Some(SESSION_TOKEN.into()))
        .client(Client::builder().max_retries(0));
    shown_by.push(format!("{builder:?}"));
    let client = builder.build().unwrap();
    let params = MessageParams::new("anthropic.claude-test", 64).user("Hi");
    assert_eq!(client.create_message(&params).await.unwrap().text(), "Hi!");
    bedrock.expire(TEST_ACCESS_KEY);
    let error = client.create_message(&params).await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(403));
    shown_by.push(shown(&client, &[error]));

    // Vertex: a static access token, accepted, then one it refuses.
    let vertex = ScriptedVertex::start_with_token(
        Sequence::new([Reply::text("Hi!")]),
        TEST_PROJECT_ID,
        "us-east5",
        VERTEX_TOKEN,
    )
    .await
    .unwrap();
    let vertex_client = |token: &str| {
        let builder = Vertex::new()
            .region("us-east5")
            .project_id(TEST_PROJECT_ID)
            .base_url(vertex.base_url())
            .access_token(token)
            .client(Client::builder().max_retries(0));
        (format!("{builder:?}"), builder.build().unwrap())
    };
    let (builder, client) = vertex_client(VERTEX_TOKEN);
    shown_by.push(builder);
    assert_eq!(client.create_message(&params).await.unwrap().text(), "Hi!");
    shown_by.push(shown(&client, &[]));
    let (_, stale) = vertex_client(&format!("{VERTEX_TOKEN}-stale"));
    let error = stale.create_message(&params).await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    shown_by.push(shown(&stale, &[error]));

    // Foundry: an API key, accepted, then a wrong one refused.
    let foundry = ScriptedFoundry::start_with_key(Sequence::new([Reply::text("Hi!")]), FOUNDRY_KEY)
        .await
        .unwrap();
    let foundry_client = |key: &str| {
        let builder = Foundry::new()
            .base_url(foundry.base_url())
            .api_key(key)
            .client(Client::builder().max_retries(0));
        (format!("{builder:?}"), builder.build().unwrap())
    };
    let (builder, client) = foundry_client(FOUNDRY_KEY);
    shown_by.push(builder);
    assert_eq!(client.create_message(&params).await.unwrap().text(), "Hi!");
    shown_by.push(shown(&client, &[]));
    let (_, wrong) = foundry_client(&format!("{FOUNDRY_KEY}-wrong"));
    let error = wrong.create_message(&params).await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    shown_by.push(shown(&wrong, &[error]));

    let logs = written.text();
    // The subscriber did see the requests, at every level.
    assert!(logs.contains("sending request"), "{logs}");
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"), "{logs}");
    let all = format!("{logs}\n{}", shown_by.join("\n"));
    for secret in [TEST_SECRET_KEY, SESSION_TOKEN, VERTEX_TOKEN, FOUNDRY_KEY] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
    // The signature, a value derived from the secret key, neither.
    for request in bedrock.recorded() {
        let authorization = request.header("authorization").unwrap();
        let signature = authorization.rsplit("Signature=").next().unwrap();
        assert!(!all.contains(signature), "a signature leaked:\n{all}");
    }
}
