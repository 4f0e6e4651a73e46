//! The guide: how to use each part of toolrunner, with examples that compile.
//!
//! The README is the overview; these pages are the long form, one topic
//! each, read on docs.rs next to the API they describe. Every example here is
//! a doctest, so the guide cannot drift from the code. Start with
//! [`tools`], [`the_loop`] and [`client`]; the other pages stand alone. A
//! page about a cargo feature is there when the feature is on (docs.rs
//! builds them all).
//!
//! This module holds documentation only: nothing in it is code to call.

// One line per page, each page one file of `//!` docs whose first line is
// its summary in the list rustdoc shows; a feature's page is gated on it.
pub mod builtin_tools;
pub mod client;
pub mod client_options;
pub mod compaction;
pub mod cost;
pub mod durable_runs;
pub mod fallback;
pub mod files;
pub mod hooks;
pub mod platforms;
pub mod programmatic;
pub mod streaming;
pub mod telemetry;
pub mod the_loop;
pub mod threads;
pub mod tool_changes;
pub mod tool_search;
pub mod tools;
pub mod typed_answers;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod batch_runner;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod batches;
#[cfg(feature = "bedrock")]
#[cfg_attr(docsrs, doc(cfg(feature = "bedrock")))]
pub mod bedrock;
#[cfg(feature = "code-mode")]
#[cfg_attr(docsrs, doc(cfg(feature = "code-mode")))]
pub mod code_mode;
#[cfg(feature = "foundry")]
#[cfg_attr(docsrs, doc(cfg(feature = "foundry")))]
pub mod foundry;
#[cfg(feature = "vertex")]
#[cfg_attr(docsrs, doc(cfg(feature = "vertex")))]
pub mod google;
#[cfg(feature = "mcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "mcp")))]
pub mod mcp;
#[cfg(feature = "mcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "mcp")))]
pub mod mcp_by_hand;
#[cfg(feature = "restate")]
#[cfg_attr(docsrs, doc(cfg(feature = "restate")))]
pub mod restate;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
