//! Unit tests of code mode: programs run through a built toolset.

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
            f: |input: serde_json::Value| {
                ToolOutput::text(
                    (input["a"].as_i64().unwrap() + input["b"].as_i64().unwrap()).to_string(),
                )
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
async fn explore() {
    let tools = CodeMode::new(add()).build().unwrap();
    for code in [
        "1 + 1",
        "await add(a=1, b=2)",
        "x = add(a=1, b=2)\nprint(x)\nawait x",
        "open('/etc/passwd').read()",
        "import os\nos.getenv('HOME')",
        "import os\nos.environ['HOME']",
        "import subprocess",
        "import socket",
        "import os\nos.system('ls')",
        "from pathlib import Path\nPath('/etc/passwd').read_text()",
        "def f(n):\n    return f(n + 1)\nf(0)",
        "while True:\n    pass",
        "x = (",
        "raise ValueError('boom')",
        "'x' * 10**10",
        "import datetime\ndatetime.datetime.now()",
        "2**100",
        "print(__import__('os'))",
        "eval('1')",
        "add(1, 2)",
        "await add(a=1)",
    ] {
        let limits = Limits::default().timeout(std::time::Duration::from_millis(500));
        let tools = CodeMode::new(add()).limits(limits).build().unwrap();
        let out = run(&tools, code).await;
        println!(
            "=== {code:?}\n{}{}\n",
            if out.is_error { "[error] " } else { "" },
            out.text_content()
        );
    }
    let _ = tools;
}
