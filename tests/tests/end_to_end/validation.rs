//! Inputs checked against the tool's own schema, end to end: the model's
//! call goes through a runner against a scripted server, and the next
//! request carries the tool result the model reads.

use crate::support;

use support::*;

use futures_util::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{MessageParams, ToolCall, tool, toolset};

#[derive(Debug, Deserialize, JsonSchema)]
struct Order {
    /// What to order.
    item: String,
    /// How many.
    quantity: u32,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Priority {
    Standard,
    Express,
}

/// Place an order.
#[tool]
fn place_order(order: Order, priority: Priority) -> String {
    format!("ordered {} x{} ({priority:?})", order.item, order.quantity)
}

/// The tool_result block the second request answers the first turn's
/// call with, and the text the runner ended on.
async fn result_of_one_call(input: Value) -> (Value, String) {
    let call = Reply::tool_use("place_order", input);
    let id = call.scripted_message().unwrap()["content"][0]["id"].clone();
    let server = ScriptedServer::start(Sequence::new([call, Reply::text("Done.")]))
        .await
        .unwrap();
    let params = MessageParams::new("claude-test", 256).user("Order tea.");
    let mut runner = client(&server).tool_runner(params, toolset![place_order]);
    let mut last = String::new();
    while let Some(message) = runner.next().await {
        last = message.unwrap().text();
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let result = last_message(&requests[1])["content"][0].clone();
    assert_eq!(result["tool_use_id"], id);
    (result, last)
}

#[tokio::test]
async fn a_valid_nested_input_runs_the_tool() {
    let (result, last) =
        result_of_one_call(json!({"order": {"item": "tea", "quantity": 2}, "priority": "express"}))
            .await;
    assert_eq!(last, "Done.");
    assert_eq!(result["content"], "ordered tea x2 (Express)");
    assert!(
        result.get("is_error").is_none_or(|e| e == false),
        "{result}"
    );
}

#[tokio::test]
async fn an_unknown_field_of_a_nested_struct_is_rejected() {
    let (result, _) = result_of_one_call(json!({
        "order": {"item": "tea", "quantity": 2, "gift_wrap": true},
        "priority": "standard"
    }))
    .await;
    assert_eq!(
        result,
        json!({
            "type": "tool_result",
            "tool_use_id": result["tool_use_id"],
            "content": "invalid input for tool `place_order`: order.gift_wrap: unknown field, expected one of `item`, `quantity`",
            "is_error": true
        })
    );
}

#[tokio::test]
async fn every_bad_field_is_reported_with_its_path_in_one_result() {
    let (result, _) = result_of_one_call(json!({
        "order": {"item": "tea", "quantity": -1},
        "priority": "overnight"
    }))
    .await;
    assert_eq!(
        result,
        json!({
            "type": "tool_result",
            "tool_use_id": result["tool_use_id"],
            "content": "invalid input for tool `place_order`:\n\
                - order.quantity: -1 is less than the minimum of 0\n\
                - priority: \"overnight\" is not one of \"standard\" or \"express\"",
            "is_error": true
        })
    );
}

#[test]
fn nested_structs_are_closed_in_the_schema_sent() {
    let schema = &place_order_definition().input_schema;
    assert_eq!(schema["properties"]["order"]["additionalProperties"], false);
    assert_eq!(schema["additionalProperties"], false);
}

fn place_order_definition() -> toolrunner::ToolDefinition {
    toolset![place_order].definitions().next().unwrap().clone()
}

#[tokio::test]
async fn what_the_schema_cannot_express_is_still_caught_by_serde() {
    // A schema with no upper bound on a u8 would let 300 through; serde
    // does not. Whichever catches it, the model hears the path.
    /// Set a level.
    #[tool(inline)]
    fn level(value: u8) -> u8 {
        value
    }
    let tools = toolset![level];
    let out = tools
        .call("level", json!({"value": 300}), ToolCall::new("toolu_1"))
        .await;
    assert!(out.is_error);
    assert!(
        out.text_content().contains("value: "),
        "{}",
        out.text_content()
    );
}
