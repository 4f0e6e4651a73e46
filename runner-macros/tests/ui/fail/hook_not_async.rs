//! A before-call hook that returns a `Decision` rather than a future of one.
use toolrunner::{Client, Decision, MessageParams, PendingCall, toolset};

fn main() {
    let client = Client::builder().api_key("key").build().unwrap();
    let params = MessageParams::new("model", 1024);
    let _ = client
        .tool_runner(params, toolset![])
        .before_tool_call(|_call: PendingCall| Decision::allow());
}
