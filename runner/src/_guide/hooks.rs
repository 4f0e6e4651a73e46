//! Hooks: allow, deny, defer or rewrite each tool call, and rewrite its result.
//!
//! ```
//! use std::collections::HashSet;
//! use std::sync::{Arc, Mutex};
//! use toolrunner::prelude::*;
//!
//! /// A runner whose tools run only once a human approved them.
//! fn guarded(client: &Client, params: MessageParams, tools: Toolset) -> ToolRunner {
//!     // The tools approved for this session, shared with the code that asks.
//!     let approved = Arc::new(Mutex::new(HashSet::from(["list_files".to_owned()])));
//!     client
//!         .tool_runner(params, tools)
//!         .before_tool_call(async move |call: PendingCall| {
//!             if approved.lock().unwrap().contains(&call.name) {
//!                 Decision::allow()
//!             } else {
//!                 Decision::deny(format!("`{}` needs a human's approval", call.name))
//!             }
//!         })
//!         .after_tool_call(async |_call: PendingCall, output: ToolOutput| output)
//! }
//! ```
//!
//! The before-call hook ([`before_tool_call`](crate::ToolRunner::before_tool_call))
//! sees each call's name, input and caller ([`PendingCall`](crate::PendingCall)),
//! and may allow it ([`Decision::allow()`](crate::Decision::allow)), deny it
//! ([`Decision::deny(message)`](crate::Decision::deny): the model sees the
//! message as an `is_error` result), replace its input
//! ([`Decision::replace(input)`](crate::Decision::replace)) or defer it to a
//! human ([`Decision::Defer`](crate::Decision::Defer), see
//! [durable runs](super::durable_runs#approvals)); the after-call hook
//! ([`after_tool_call`](crate::ToolRunner::after_tool_call)) may replace the
//! result.
//!
//! Every call meets them: the model's direct calls, calls from code in the
//! API's container, and calls from a code-mode program (`call.caller` says
//! which; a denied call from a program raises there, and one deferred with
//! `Decision::Defer` is denied, as a program cannot wait for a human).
//!
//! A hook is an async closure, or a closure returning an async block, and may
//! capture what it needs: it is cloned for each call, so capture an `Arc`. It
//! reads the toolset's shared state
//! ([`.with_state(...)`](crate::Toolset::with_state)) as a tool does:
//! [`call.state::<Approved>()`](crate::PendingCall::state).
//!
//! `examples/approval.rs` defers deletions (`Decision::Defer`), asks for
//! approval on stdin, and resumes the run with the answer: `cargo run
//! --example approval`.
