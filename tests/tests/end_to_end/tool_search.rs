//! Large toolsets: 300 deferred tools, the search tool the runner declares,
//! and a `tool_reference` result that round-trips.

use crate::support;

use support::*;

use serde_json::{Value, json};
use toolrunner::{
    ToolContext, ToolDefinition, ToolFuture, ToolOutput, ToolSearch, Toolset, tool, toolset,
};

/// One of many generated tools: it answers with its number.
struct Numbered {
    n: usize,
    definition: ToolDefinition,
}

impl Numbered {
    fn new(n: usize) -> Self {
        let schema = json!({"type": "object", "properties": {}, "additionalProperties": false});
        Numbered {
            n,
            definition: ToolDefinition::new(
                format!("tool_{n}"),
                format!("Tool number {n}."),
                schema,
            ),
        }
    }
}

impl toolrunner::Tool for Numbered {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }

    fn call<'a>(&'a self, _input: Value, _cx: ToolContext) -> ToolFuture<'a> {
        Box::pin(async move { ToolOutput::text(format!("tool {} ran", self.n)) })
    }
}

fn many_tools() -> Toolset {
    let mut tools = Toolset::new();
    for n in 0..300 {
        tools.add(Numbered::new(n)).expect("unique names");
    }
    tools
}

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[tokio::test]
async fn deferred_toolset_gets_the_regex_search_and_a_reference_round_trips() {
    let search_turn = json!([
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "tool_search_tool_regex",
         "input": {"pattern": "tool_17\\b"}},
        {"type": "tool_search_tool_result", "tool_use_id": "srvtoolu_1", "content": {
            "type": "tool_search_tool_search_result",
            "tool_references": [{"type": "tool_reference", "tool_name": "tool_17"}]}},
        tool_use("toolu_1", "tool_17", json!({}))
    ]);
    let server = server(vec![
        message("msg_1", search_turn.clone(), "tool_use"),
        message("msg_2", json!([text("Done.")]), "end_turn"),
    ])
    .await;
    let tools = toolset![add]
        .merge(many_tools().defer_loading(true))
        .expect("merge");
    let runner = client(&server)
        .tool_runner(params(), tools)
        .message_threads(false);
    runner.until_done().await.expect("run");

    let requests = server.requests();
    let declared = requests[0]["tools"].as_array().expect("tools");
    assert_eq!(declared.len(), 302);
    assert_eq!(
        declared[0],
        json!({"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"})
    );
    assert_eq!(declared[1]["name"], "add");
    assert!(declared[1].get("defer_loading").is_none());
    assert_eq!(
        declared[19],
        json!({"name": "tool_17", "description": "Tool number 17.", "input_schema":
            {"type": "object", "properties": {}, "additionalProperties": false}, "defer_loading": true})
    );
    assert!(declared[2..].iter().all(|d| d["defer_loading"] == true));
    // The search turn goes back as received; the found tool ran.
    assert_eq!(
        requests[1]["messages"][1],
        json!({"role": "assistant", "content": search_turn})
    );
    assert_eq!(
        requests[1]["messages"][2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "tool 17 ran"}]})
    );
    assert_eq!(requests[1]["tools"], requests[0]["tools"]);
}

#[tokio::test]
async fn bm25_is_selectable_and_a_declared_search_tool_is_left_alone() {
    let server = server(vec![
        message("msg_1", json!([text("Hi.")]), "end_turn"),
        message("msg_2", json!([text("Hi.")]), "end_turn"),
        message("msg_3", json!([text("Hi.")]), "end_turn"),
    ])
    .await;
    let deferred = || many_tools().defer_loading(true);
    client(&server)
        .tool_runner(params(), deferred())
        .tool_search(ToolSearch::Bm25)
        .until_done()
        .await
        .expect("bm25");
    let mut own = params();
    own.tools
        .push(json!({"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"}));
    client(&server)
        .tool_runner(own, deferred())
        .tool_search(ToolSearch::Bm25)
        .until_done()
        .await
        .expect("declared");
    client(&server)
        .tool_runner(params(), toolset![add])
        .until_done()
        .await
        .expect("nothing deferred");

    let requests = server.requests();
    assert_eq!(
        requests[0]["tools"][0],
        json!({"type": "tool_search_tool_bm25_20251119", "name": "tool_search_tool_bm25"})
    );
    let searches = |r: &Value| {
        r["tools"].as_array().map(|t| {
            t.iter()
                .filter(|t| {
                    t["type"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("tool_search"))
                })
                .count()
        })
    };
    assert_eq!(searches(&requests[1]), Some(1));
    assert_eq!(
        requests[1]["tools"][0]["type"],
        "tool_search_tool_regex_20251119"
    );
    assert_eq!(searches(&requests[2]), Some(0));
}

#[test]
fn defer_loading_false_undoes_it() {
    let tools = many_tools().defer_loading(true).defer_loading(false);
    assert!(tools.definitions().all(|d| !d.defer_loading));
}
