//! Unit tests of code mode: programs run through a built toolset.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::tool::AllowedCaller;
use crate::{Tool, ToolCall, ToolContext, ToolFuture, ToolOutput};

/// A tool from a closure, since `#[tool]` cannot be used inside its own crate.
struct FnTool<F> {
    definition: ToolDefinition,
    f: F,
}

impl<F: Fn(serde_json::Value) -> ToolOutput + Send + Sync + 'static> Tool for FnTool<F> {
    fn definition(&self) -> &ToolDefinition {
        &self.definition
    }
    fn call<'a>(&'a self, input: serde_json::Value, _cx: ToolContext) -> ToolFuture<'a> {
        Box::pin(async move { (self.f)(input) })
    }
}

fn add() -> Toolset {
    let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                        "required": ["a", "b"], "additionalProperties": false});
    let definition = ToolDefinition::new("add", "Add two integers.", schema)
        .with_allowed_callers([AllowedCaller::Code]);
    let mut tools = Toolset::new();
    tools
        .add(FnTool {
            definition,
            f: |input: serde_json::Value| match (input["a"].as_i64(), input["b"].as_i64()) {
                (Some(a), Some(b)) => ToolOutput::text((a + b).to_string()),
                _ => ToolOutput::error("invalid type for `b`"),
            },
        })
        .unwrap();
    tools
}

async fn run(tools: &Toolset, code: &str) -> ToolOutput {
    tools
        .call(RUN_CODE, json!({ "code": code }), ToolCall::new("toolu_1"))
        .await
}

#[tokio::test]
async fn gather_tasks_catch_their_own_tool_errors() {
    // monty would fail the whole gather; the Python wrappers prevent that.
    let tools = CodeMode::new(add())
        .isolation(Isolation::InProcess)
        .build()
        .unwrap();
    let program = "\
import asyncio
async def safe(a):
    try:
        return await add(a=a, b='x' if a == 2 else 1)
    except RuntimeError as e:
        print('caught', a, e)
await asyncio.gather(*(safe(a) for a in range(4)))
";
    let out = run(&tools, program).await;
    assert_eq!(
        out.text_content(),
        "Printed output:\ncaught 2 invalid type for `b`\n\nLast expression (JSON):\n[1, 2, null, 4]"
    );
}

#[tokio::test]
async fn tracebacks_name_programs_and_hide_the_wrappers() {
    let tools = CodeMode::new(add())
        .persistent_state()
        .isolation(Isolation::InProcess)
        .build()
        .unwrap();
    let out = run(&tools, "async def f():\n    return await add(a=1, b='x')\n").await;
    assert!(!out.is_error, "{out}");
    let out = run(&tools, "x = 1\nawait f()").await;
    assert_eq!(
        out.text_content(),
        "Error:\nTraceback (most recent call last):\n  \
         File \"main.py\", line 2, in <module>\n    await f()\n    ~~~~~~~~~\n  \
         File \"<program 1>\", line 2, in f\n    return await add(a=1, b='x')\n           ~~~~~~~~~~~~~~~~~~~~~\n\
         RuntimeError: invalid type for `b`"
    );
}

#[tokio::test]
async fn a_dropped_call_stops_its_program() {
    let ticks = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&ticks);
    let schema = json!({"type": "object", "properties": {}, "additionalProperties": false});
    let definition =
        ToolDefinition::new("tick", "Count.", schema).with_allowed_callers([AllowedCaller::Code]);
    let mut tools = Toolset::new();
    tools
        .add(FnTool {
            definition,
            f: move |_| {
                counted.fetch_add(1, Ordering::SeqCst);
                ToolOutput::empty()
            },
        })
        .unwrap();
    let limits = Limits::default().max_tool_calls(usize::MAX);
    let tools = CodeMode::new(tools)
        .limits(limits)
        .isolation(Isolation::InProcess)
        .build()
        .unwrap();
    let running = run(&tools, "while True:\n    await tick()");
    assert!(
        tokio::time::timeout(Duration::from_millis(50), running)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after_drop = ticks.load(Ordering::SeqCst);
    assert!(after_drop > 0);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        ticks.load(Ordering::SeqCst),
        after_drop,
        "the program kept calling tools"
    );
}
