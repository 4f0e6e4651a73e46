//! What a platform lacks among tools and betas is refused before anything
//! is sent, over loopback against the scripted platforms: programmatic tool
//! calling (the code-execution tool the runner adds), an explicit server
//! tool and a beta, on Amazon Bedrock and Vertex AI; `assume_offered` lets
//! one through as it was written; a platform that no source says lacks it
//! (Bedrock Mantle) gets it unchanged.

use serde_json::{Value, json};
use toolrunner::platform::{Bedrock, BedrockMantle, Vertex};
use toolrunner::testing::platform_google::{ScriptedVertex, TEST_PROJECT_ID, TokenEndpoint};
use toolrunner::testing::{
    AwsPlatform, Reply, ScriptedAws, Sequence, TEST_ACCESS_KEY, TEST_REGION, TEST_SECRET_KEY,
};
use toolrunner::{Client, Error, MessageParams, tool, toolset};

const BEDROCK_MODEL: &str = "anthropic.claude-test-v1:0";
const VERTEX_MODEL: &str = "claude-sonnet-4-5@20250929";
const VERTEX_REGION: &str = "us-east5";

/// The code-execution tool the runner adds for tools callable from code.
const ADDED: &str = "code_execution_20260120";

/// Rows of a table, looked up from code only.
#[tool(allowed_callers = ["code"])]
fn rows(table: String) -> String {
    format!("{table}: 3 rows")
}

fn bedrock_builder(server: &ScriptedAws) -> Bedrock {
    Bedrock::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, None)
        .client(Client::builder().max_retries(0))
}

fn vertex_builder(server: &ScriptedVertex, tokens: &TokenEndpoint) -> Vertex {
    Vertex::new()
        .region(VERTEX_REGION)
        .base_url(server.base_url())
        .service_account_key(tokens.service_account_key())
        .client(Client::builder().max_retries(0))
}

async fn vertex_served(replies: Vec<Reply>) -> (TokenEndpoint, ScriptedVertex) {
    let tokens = TokenEndpoint::start().await.unwrap();
    let server = ScriptedVertex::start(
        Sequence::new(replies),
        TEST_PROJECT_ID,
        VERTEX_REGION,
        &tokens,
    )
    .await
    .unwrap();
    (tokens, server)
}

/// A run whose toolset has a tool callable only from code.
async fn programmatic_run(client: &Client, model: &str) -> Result<toolrunner::Message, Error> {
    let params = MessageParams::new(model, 256).user("How many rows in `orders`?");
    client
        .tool_runner(params, toolset![rows])
        .until_done()
        .await
}

/// The error for `value` (a tool type, else a beta) on `platform`, whose
/// builder is `builder`.
fn refusal(feature: &str, what: &str, value: &str, platform: &str, builder: &str) -> String {
    let instead = if value.contains("code") {
        "use code mode (`toolrunner::code_mode::CodeMode`), which runs programs on the client; or, "
    } else {
        ""
    };
    format!(
        "{feature} ({what} `{value}`) is not offered on {platform}: {instead}if {platform} offers it now, \
         `{builder}::assume_offered(\"{value}\")` sends it anyway"
    )
}

fn code_tool(version: &str) -> Value {
    json!({"type": version, "name": "code_execution"})
}

#[tokio::test]
async fn programmatic_calling_on_bedrock_fails_before_the_first_request_and_suggests_code_mode() {
    let server = ScriptedAws::start(AwsPlatform::Bedrock, Sequence::new([]))
        .await
        .unwrap();
    let client = bedrock_builder(&server).build().unwrap();
    let error = programmatic_run(&client, BEDROCK_MODEL).await.unwrap_err();
    assert!(error.is_unsupported(), "{error:?}");
    assert_eq!(
        error.to_string(),
        refusal(
            "the code-execution tool",
            "tool type",
            ADDED,
            "Amazon Bedrock",
            "Bedrock"
        )
    );

    // An explicit code-execution tool, a web search tool, the beta: each
    // refused, plain or streamed.
    let with_tool = MessageParams::new(BEDROCK_MODEL, 64)
        .user("Hi")
        .tool(code_tool("code_execution_20250825"));
    let error = client.create_message(&with_tool).await.unwrap_err();
    assert!(error.to_string().starts_with(
        "the code-execution tool (tool type `code_execution_20250825`) is not offered on Amazon Bedrock"
    ));
    let streamed = client.stream_message(&with_tool).await.err().unwrap();
    assert!(streamed.is_unsupported(), "{streamed:?}");
    let search = MessageParams::new(BEDROCK_MODEL, 64)
        .user("Hi")
        .tool(json!({"type": "web_search_20250305", "name": "web_search"}));
    let error = client.create_message(&search).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        refusal(
            "the web search tool",
            "tool type",
            "web_search_20250305",
            "Amazon Bedrock",
            "Bedrock"
        )
    );
    let beta = MessageParams::new(BEDROCK_MODEL, 64)
        .user("Hi")
        .beta("code-execution-2025-08-25");
    let error = client.create_message(&beta).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        refusal(
            "the code-execution beta",
            "beta",
            "code-execution-2025-08-25",
            "Amazon Bedrock",
            "Bedrock"
        )
    );
    assert!(server.recorded().is_empty(), "{:?}", server.recorded());
}

#[tokio::test]
async fn programmatic_calling_on_vertex_fails_before_the_first_request_or_token() {
    let (tokens, server) = vertex_served(Vec::new()).await;
    let client = vertex_builder(&server, &tokens).build().unwrap();
    let error = programmatic_run(&client, VERTEX_MODEL).await.unwrap_err();
    assert!(error.is_unsupported(), "{error:?}");
    assert_eq!(
        error.to_string(),
        refusal(
            "the code-execution tool",
            "tool type",
            ADDED,
            "Vertex AI",
            "Vertex"
        )
    );

    let fetch = MessageParams::new(VERTEX_MODEL, 64)
        .user("Hi")
        .tool(json!({"type": "web_fetch_20250910", "name": "web_fetch"}));
    let error = client.create_message(&fetch).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        refusal(
            "the web fetch tool",
            "tool type",
            "web_fetch_20250910",
            "Vertex AI",
            "Vertex"
        )
    );
    // Token counting, which Vertex offers, is refused the same way.
    let with_tool = MessageParams::new(VERTEX_MODEL, 64)
        .user("Hi")
        .tool(code_tool("code_execution_20260521"));
    let error = client.count_tokens(&with_tool).await.unwrap_err();
    assert!(error.to_string().starts_with(
        "the code-execution tool (tool type `code_execution_20260521`) is not offered on Vertex AI"
    ));
    let beta = MessageParams::new(VERTEX_MODEL, 64)
        .user("Hi")
        .beta("code-execution-2025-05-22");
    assert!(
        client
            .create_message(&beta)
            .await
            .unwrap_err()
            .is_unsupported()
    );

    assert!(server.server().recorded().is_empty());
    assert!(tokens.self_signed_tokens().is_empty());
}

/// The tools a request sent, by type.
fn sent_tool_types(body: &Value) -> Vec<&str> {
    body["tools"]
        .as_array()
        .map(|tools| tools.iter().filter_map(|t| t["type"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn assume_offered_sends_the_tool_and_beta_as_written() {
    let server = ScriptedAws::start(
        AwsPlatform::Bedrock,
        Sequence::new([Reply::text("3 rows."), Reply::text("ok")]),
    )
    .await
    .unwrap();
    let client = bedrock_builder(&server)
        .assume_offered(ADDED)
        .assume_offered("code-execution-2025-08-25")
        .build()
        .unwrap();
    let done = programmatic_run(&client, BEDROCK_MODEL).await.unwrap();
    assert_eq!(done.text(), "3 rows.");
    // Another version is still refused: only the names given go through.
    let other = MessageParams::new(BEDROCK_MODEL, 64)
        .user("Hi")
        .tool(code_tool("code_execution_20250825"));
    assert!(
        client
            .create_message(&other)
            .await
            .unwrap_err()
            .is_unsupported()
    );
    let beta = MessageParams::new(BEDROCK_MODEL, 64)
        .user("Hi")
        .beta("code-execution-2025-08-25");
    assert_eq!(client.create_message(&beta).await.unwrap().text(), "ok");

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0]["tools"],
        json!([
            {"type": ADDED, "name": "code_execution"},
            {
                "name": "rows",
                "description": "Rows of a table, looked up from code only.",
                "input_schema": {
                    "type": "object",
                    "properties": {"table": {"type": "string"}},
                    "required": ["table"],
                    "additionalProperties": false,
                },
                "allowed_callers": [ADDED],
            },
        ])
    );
    let sent: Value = serde_json::from_str(&server.recorded()[1].body).unwrap();
    assert_eq!(sent["anthropic_beta"], json!(["code-execution-2025-08-25"]));

    let (tokens, vertex) = vertex_served(vec![Reply::text("ran")]).await;
    let client = vertex_builder(&vertex, &tokens)
        .assume_offered("code_execution_20250825")
        .build()
        .unwrap();
    let explicit = MessageParams::new(VERTEX_MODEL, 64)
        .user("Hi")
        .tool(code_tool("code_execution_20250825"));
    assert_eq!(
        client.create_message(&explicit).await.unwrap().text(),
        "ran"
    );
    let recorded = vertex.server().recorded();
    assert_eq!(recorded.len(), 1);
    let body: Value = serde_json::from_str(&recorded[0].body).unwrap();
    assert_eq!(body["tools"], json!([code_tool("code_execution_20250825")]));
}

#[tokio::test]
async fn mantle_gets_programmatic_calling_unchanged() {
    let server = ScriptedAws::start(AwsPlatform::Mantle, Sequence::new([Reply::text("3 rows.")]))
        .await
        .unwrap();
    let client = BedrockMantle::new()
        .region(TEST_REGION)
        .base_url(server.url())
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, None)
        .client(Client::builder().max_retries(0))
        .build()
        .unwrap();
    let done = programmatic_run(&client, BEDROCK_MODEL).await.unwrap();
    assert_eq!(done.text(), "3 rows.");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(sent_tool_types(&requests[0]), [ADDED]);
    assert_eq!(requests[0]["tools"][1]["allowed_callers"], json!([ADDED]));
}
