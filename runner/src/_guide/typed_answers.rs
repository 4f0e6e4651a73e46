//! Typed answers: structured output parsed into your type.
//!
//! [`until_done_parsed::<T>()`](crate::ToolRunner::until_done_parsed) (on the
//! plain and the streaming runner) runs the loop with structured output: every
//! request carries `output_config.format = {"type": "json_schema", "schema":
//! ...}` built from `T: Deserialize + JsonSchema` (adapted as for
//! [strict tools](super::tools#strict-schemas): closed objects, no numeric or
//! length bounds, which parsing still checks), tools keep running, and the
//! final text is parsed into `T`.
//!
//! ```no_run
//! use serde::Deserialize;
//! use toolrunner::prelude::*;
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Verdict {
//!     ok: bool,
//!     /// Why, in one sentence.
//!     reason: Option<String>,
//! }
//!
//! # async fn run(client: Client) -> Result<(), toolrunner::Error> {
//! let params = MessageParams::new(models::CURRENT, 1024).user("Is 42 even?");
//! match client.tool_runner(params, toolset![]).until_done_parsed::<Verdict>().await {
//!     Ok(verdict) => println!("{} ({:?})", verdict.ok, verdict.reason),
//!     Err(e) if e.is_parse() => {
//!         println!("not a verdict at {:?}: {:?}", e.parse_path(), e.parse_text());
//!     }
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```
//!
//! An answer that does not parse is an error with
//! [`is_parse()`](crate::Error::is_parse), the text
//! ([`parse_text()`](crate::Error::parse_text)) and where it failed
//! ([`parse_path()`](crate::Error::parse_path), e.g. `detail.parity`).
//! `examples/structured.rs` runs one offline: `cargo run --example structured`.
