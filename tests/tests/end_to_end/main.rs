//! The end-to-end tests, one module per concern, built as one test binary:
//! one link of the whole crate instead of one per file, which is most of what
//! the tests cost to build and to keep on disk.
//!
//! `lints.rs` and `code_mode_worker.rs` stay binaries of their own: the first
//! checks the macros' expansions under crate-level lints, the second measures
//! this process's memory and limits, which other tests running beside it
//! would disturb.

mod confined;
mod support;

mod api_version;
mod batch_runner;
mod batches;
mod builtin;
mod builtin_props;
mod caching;
mod call_metadata;
mod call_spans;
mod code_mode;
mod code_mode_hooks;
mod compaction;
mod conformance;
mod durable;
mod fallback;
mod files;
mod hooks;
mod long_requests;
mod macro_dispatch;
mod mcp;
mod mcp_by_hand;
mod mcp_http_auth;
mod mcp_http_limits;
mod message_thread;
mod parsed;
mod platform_aws;
mod platform_foundry;
mod platform_google;
mod platform_refusals;
mod platform_secrets;
mod programmatic;
mod readme;
mod restate;
mod runner;
mod schema;
mod scripted;
mod state_check;
mod streaming;
mod structured;
mod telemetry;
mod threads;
mod tool_changes;
mod tool_concurrency;
mod tool_search;
mod validation;
