//! A toolset missing a state its tools need is reported when the runner
//! starts or the MCP server is built, naming the tool and the type, before
//! any request is sent or any client is served.

use crate::support;

use support::*;

use futures_util::StreamExt;
use toolrunner::mcp::McpServer;
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{MessageParams, State, StateType, ToolCall, ToolsetError, tool, toolset};

struct Inventory {
    count: u32,
}

/// Count the stock.
#[tool]
fn stock(inventory: State<Inventory>, call: ToolCall) -> u32 {
    let _ = call;
    inventory.count
}

/// Say hello.
#[tool]
fn hello() -> &'static str {
    "hello"
}

/// The error of `result`, which must be one.
fn error_of<T, E>(result: Result<T, E>) -> E {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(error) => error,
    }
}

fn params() -> MessageParams {
    MessageParams::new("claude-test", 64).user("How many?")
}

const MISSING: &str = "tool `stock` needs a state of type `end_to_end::state_check::Inventory`, which the toolset was not given: add it with `.with_state(...)`";

#[test]
fn the_definition_lists_the_states_the_tool_needs() {
    let tools = toolset![stock, hello];
    let mut defs = tools.definitions();
    assert_eq!(
        defs.next().unwrap().required_states,
        [StateType::of::<Inventory>()]
    );
    assert!(defs.next().unwrap().required_states.is_empty());
    drop(defs);
    assert_eq!(
        tools.check_state(),
        Err(ToolsetError::MissingState {
            tool: "stock".into(),
            state: "end_to_end::state_check::Inventory",
            given: None,
        })
    );
    assert_eq!(tools.check_state().unwrap_err().to_string(), MISSING);
    assert_eq!(
        tools.with_state(Inventory { count: 3 }).check_state(),
        Ok(())
    );
}

#[tokio::test]
async fn the_runner_fails_before_its_first_request() {
    let server = ScriptedServer::start(Sequence::new([Reply::text("unused")]))
        .await
        .unwrap();
    let mut runner = client(&server).tool_runner(params(), toolset![hello, stock]);
    let error = runner.next().await.expect("an item").unwrap_err();
    assert!(error.is_config(), "{error:?}");
    assert_eq!(error.to_string(), MISSING);
    assert!(runner.next().await.is_none());
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn the_streaming_runner_fails_before_its_first_request() {
    let server = ScriptedServer::start(Sequence::new([Reply::text("unused")]))
        .await
        .unwrap();
    let mut runner = client(&server)
        .tool_runner(params(), toolset![stock])
        .streaming();
    let error = error_of(runner.next_turn().await.expect("an item"));
    assert_eq!(error.to_string(), MISSING);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_runner_with_the_state_runs() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::tool_use("stock", serde_json::json!({})),
        Reply::text("Three."),
    ]))
    .await
    .unwrap();
    let tools = toolset![stock].with_state(Inventory { count: 3 });
    let mut runner = client(&server).tool_runner(params(), tools);
    let mut last = String::new();
    while let Some(message) = runner.next().await {
        last = message.unwrap().text();
    }
    assert_eq!(last, "Three.");
    assert_eq!(
        last_message(&server.requests()[1])["content"][0]["content"],
        "3"
    );
}

#[tokio::test]
async fn the_mcp_server_is_refused_at_build_and_at_serve() {
    let error = error_of(McpServer::try_new(toolset![stock]));
    assert!(error.is_serve(), "{error:?}");
    assert_eq!(error.to_string(), format!("could not serve mcp: {MISSING}"));

    let (_client_end, server_end) = tokio::io::duplex(1 << 10);
    let error = error_of(McpServer::new(toolset![stock]).serve(server_end).await);
    assert_eq!(error.to_string(), format!("could not serve mcp: {MISSING}"));

    let error = error_of(
        McpServer::new(toolset![stock])
            .serve_http("127.0.0.1:0")
            .await,
    );
    assert_eq!(error.to_string(), format!("could not serve mcp: {MISSING}"));

    assert!(McpServer::try_new(toolset![stock].with_state(Inventory { count: 1 })).is_ok());
}

#[tokio::test]
async fn added_tools_bring_their_state_or_are_refused() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::tool_use("stock", serde_json::json!({})),
        Reply::text("Three."),
    ]))
    .await
    .unwrap();
    let mut runner = client(&server).tool_runner(params(), toolset![hello]);
    let error = runner.add_tools(toolset![stock]).unwrap_err();
    assert!(error.is_config(), "{error:?}");
    assert_eq!(error.to_string(), MISSING);
    assert!(!runner.toolset().contains("stock"));

    runner
        .add_tools(toolset![stock].with_state(Inventory { count: 3 }))
        .unwrap();
    let mut last = String::new();
    while let Some(message) = runner.next().await {
        last = message.unwrap().text();
    }
    assert_eq!(last, "Three.");
    assert_eq!(
        last_message(&server.requests()[1])["content"][0]["content"],
        "3"
    );
}

#[tokio::test]
async fn a_wrapped_state_is_named_with_the_fix() {
    // `with_state(Arc::new(..))` holds an `Arc<Inventory>`, not an `Inventory`.
    let arc = toolset![stock].with_state(std::sync::Arc::new(Inventory { count: 3 }));
    let error = arc.check_state().unwrap_err();
    assert_eq!(
        error,
        ToolsetError::MissingState {
            tool: "stock".into(),
            state: "end_to_end::state_check::Inventory",
            given: Some("alloc::sync::Arc<end_to_end::state_check::Inventory>"),
        }
    );
    let expected = "tool `stock` needs a state of type `end_to_end::state_check::Inventory`, but the toolset was given `alloc::sync::Arc<end_to_end::state_check::Inventory>`, another type: give the `Arc` with `.with_shared_state(arc)`, or the value itself with `.with_state(value)`";
    assert_eq!(error.to_string(), expected);

    // The runner says so before its first request; a call made anyway says
    // it to the model.
    let server = ScriptedServer::start(Sequence::new([Reply::text("unused")]))
        .await
        .unwrap();
    let mut runner = client(&server).tool_runner(params(), arc.clone());
    let error = runner.next().await.expect("an item").unwrap_err();
    assert_eq!(error.to_string(), expected);
    let out = arc
        .call("stock", serde_json::json!({}), ToolCall::new("toolu_1"))
        .await;
    assert!(out.is_error);
    assert_eq!(out.text_content(), format!("could not run: {expected}"));

    // Another wrapper: the tool could take it instead.
    let mutex = toolset![stock].with_state(std::sync::Mutex::new(Inventory { count: 3 }));
    let error = mutex.check_state().unwrap_err().to_string();
    assert!(
        error.starts_with("tool `stock` needs a state of type `end_to_end::state_check::Inventory`, but the toolset was given `std::sync::"),
        "{error}"
    );
    assert!(
        error.ends_with("Mutex<end_to_end::state_check::Inventory>>` in the tool, or give the toolset a `end_to_end::state_check::Inventory` with `.with_state(...)`"),
        "{error}"
    );

    // The fixes work.
    let inventory = std::sync::Arc::new(Inventory { count: 3 });
    assert!(
        toolset![stock]
            .with_shared_state(inventory)
            .check_state()
            .is_ok()
    );
}
