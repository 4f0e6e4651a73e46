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
//!
//! # Without the loop, and turn by turn
//!
//! The client asks for and parses the same format in one call:
//! [`create_parsed::<T>()`](crate::Client::create_parsed) returns a
//! [`ParsedMessage`](crate::ParsedMessage) (the reply and `parsed`), and
//! [`stream_parsed::<T>()`](crate::Client::stream_parsed) a
//! [`ParsedStream`](crate::ParsedStream) whose events stream as usual and
//! whose [`parsed()`](crate::ParsedStream::parsed) parses the text at the end.
//! A [`MessageThread`](crate::MessageThread) has
//! [`parse::<T>()`](crate::MessageThread::parse) for one turn. Parameters that
//! carry an `output_config.format` of their own are refused before sending.
//!
//! ```no_run
//! # use toolrunner::prelude::*;
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Capital {
//!     city: String,
//! }
//!
//! # async fn run(client: Client) -> Result<(), toolrunner::Error> {
//! let params = MessageParams::new(models::CURRENT, 256).user("France's capital?");
//! let answer = client.create_parsed::<Capital>(&params).await?;
//! println!("{}", answer.parsed.city);
//! # Ok(()) }
//! ```
//!
//! A runner whose every request asks for `T`
//! ([`output_format::<T>()`](crate::ToolRunner::output_format)) parses each
//! turn that has text with [`parsed::<T>()`](crate::ToolRunner::parsed) (a
//! streaming turn with [`Turn::parsed`](crate::Turn::parsed)); a turn of tool
//! calls only has nothing to parse. The errors are those above.
