//! Claude on Amazon Bedrock: the same client, runner and tools, with the
//! requests signed with SigV4 and the replies streamed in AWS event-stream
//! frames.
//!
//! It runs offline against `testing::ScriptedAws`, which plays Bedrock on
//! loopback and checks each request as Bedrock would (path, moved body
//! fields, signature). Against the real Bedrock, build the client with
//! `Bedrock::from_env()` (`AWS_REGION` and AWS credentials, or
//! `AWS_BEARER_TOKEN_BEDROCK`) and a Bedrock model id.
//!
//! ```sh
//! cargo run --example bedrock
//! ```

use futures_util::StreamExt;
use serde_json::{Value, json};
use toolrunner::platform::Bedrock;
use toolrunner::testing::{
    AwsPlatform, Reply, ScriptedAws, TEST_ACCESS_KEY, TEST_REGION, TEST_SECRET_KEY,
};
use toolrunner::{Client, Delta, MessageParams, StreamEvent, tool, toolset};

const MODEL: &str = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";

/// The stock of a product.
#[tool]
fn stock(
    /// The product's SKU, e.g. "A-100".
    sku: String,
) -> Result<u32, String> {
    match sku.as_str() {
        "A-100" => Ok(42),
        "B-200" => Ok(0),
        _ => Err(format!("no product `{sku}`")),
    }
}

/// The scripted model: both stock lookups at once, then the answer.
fn model(request: &Value) -> Reply {
    let answered = request["messages"].as_array().is_some_and(|m| m.len() > 1);
    let reply = if answered {
        Reply::text("A-100: 42 in stock. B-200 is sold out.")
    } else {
        Reply::tool_uses([
            ("stock", json!({"sku": "A-100"})),
            ("stock", json!({"sku": "B-200"})),
        ])
    };
    // Streamed when asked: the server sends Bedrock's binary frames.
    if request["stream"] == true {
        reply.streamed()
    } else {
        reply
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bedrock = ScriptedAws::start(AwsPlatform::Bedrock, model).await?;
    let client: Client = Bedrock::new()
        .region(TEST_REGION)
        .base_url(bedrock.url())
        .credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, None)
        .build()?;

    let params = MessageParams::new(MODEL, 1024).user("How many A-100 and B-200 are in stock?");
    let mut runner = client.tool_runner(params, toolset![stock]).streaming();
    while let Some(turn) = runner.next_turn().await {
        let turn = turn?;
        while let Some(event) = turn.next().await {
            if let StreamEvent::ContentBlockDelta {
                delta: Delta::Text(text),
                ..
            } = event?
            {
                print!("{text}");
            }
        }
        let message = turn.message().await?;
        for call in message.tool_uses() {
            println!("[calls {} {}]", call.name, call.input);
        }
    }
    println!();

    for request in bedrock.recorded() {
        let body: Value = serde_json::from_str(&request.body)?;
        let signed = request
            .header("authorization")
            .and_then(|a| a.split(", ").next())
            .unwrap_or_default();
        println!("{} {}", request.method, request.target);
        println!("  {signed}");
        println!(
            "  anthropic_version in the body: {}",
            body["anthropic_version"]
        );
    }
    Ok(())
}
