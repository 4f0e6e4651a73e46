//! What a run costs: automatic prompt caching, usage totals, and an
//! estimated cost.
//!
//! # Prompt caching without threads
//!
//! With [message threads](crate::ToolRunner::message_threads) the server
//! holds the conversation. Without them (turned off, or on a platform that
//! lacks them, such as Amazon Bedrock) every request sends the whole
//! history, and a request with no cache breakpoint pays the full input
//! price for all of it, turn after turn. The runner therefore marks each
//! such request for prompt caching, unless told not to with
//! [`prompt_caching(false)`](crate::ToolRunner::prompt_caching):
//!
//! - where the platform takes it (the first-party API, Claude on Google
//!   Cloud, the Anthropic API on AWS), the top-level
//!   `"cache_control": {"type": "ephemeral"}`, which the API applies to the
//!   last cacheable block;
//! - elsewhere (Bedrock, Vertex AI, Foundry), a breakpoint on the last block
//!   of the history, on the wire only: the history you read keeps none of
//!   the runner's, so they never pile up.
//!
//! Each request then writes the conversation so far to the cache, and the
//! next, which begins with it, reads it back at a tenth of the input price,
//! paying the write price (1.25 times) only for what the last turn added.
//! Over a 50-turn conversation the `caching` bench measures about 7 times
//! fewer billed input units than the official Python SDK's tool runner
//! (`cargo bench -p toolrunner --features testing --bench caching`).
//!
//! Your own breakpoints (on tools, the system prompt or messages) are never
//! moved or removed. They count against the API's limit of four per
//! request: when they use all four, or one already marks the end of the
//! request, the runner adds nothing. A top-level `cache_control` of your own
//! in the parameters is sent as it is.
//!
//! ```no_run
//! use toolrunner::{Client, MessageParams, TextBlock, toolset};
//! use serde_json::json;
//!
//! # async fn run() -> Result<(), toolrunner::Error> {
//! let client = Client::from_env()?;
//! // A long, stable system prompt, cached for an hour by its own breakpoint;
//! // the runner adds its own at the end of each request.
//! let rules = TextBlock {
//!     cache_control: Some(json!({"type": "ephemeral", "ttl": "1h"})),
//!     ..TextBlock::new("You are a meticulous support agent. ...")
//! };
//! let params = MessageParams::new(toolrunner::models::CURRENT, 1024)
//!     .system(vec![rules])
//!     .user("Where is order 7?");
//! let answer = client
//!     .tool_runner(params, toolset![])
//!     .message_threads(false)
//!     .until_done()
//!     .await?;
//! println!("{}", answer.text());
//! # Ok(()) }
//! ```
//!
//! ## Why the cache missed
//!
//! Where the platform offers cache diagnostics (the first-party API), each
//! request names the previous reply (`diagnostics.previous_message_id`),
//! and when the API reports why the cache could not reuse that request's
//! prefix (`model_changed`, `system_changed`, `tools_changed`,
//! `messages_changed`, ...), the runner logs it with `tracing` at level
//! `info`, with the reason and the tokens missed. Rewriting the history
//! (with [`set_messages`](crate::ToolRunner::set_messages), say) or
//! changing tools or the system prompt mid-run is the usual cause.
//!
//! # Usage totals
//!
//! [`ToolRunner::usage`](crate::ToolRunner::usage) sums what the run used:
//! input, output, cache writes and reads, and server tool uses, over every
//! request, with compaction (summary requests, and compaction the server did
//! within a request) listed apart. The totals are kept in the
//! [`RunState`](crate::RunState), so a resumed run goes on counting, and
//! recorded on the run's `invoke_agent` span (`gen_ai.usage.input_tokens`,
//! `gen_ai.usage.output_tokens`, `gen_ai.usage.cache_creation.input_tokens`,
//! `gen_ai.usage.cache_read.input_tokens`, and `toolrunner.usage.*`).
//!
//! [`PriceTable`](crate::usage::PriceTable) turns usage into an estimated
//! cost in US dollars. Its published prices are dated
//! ([`PUBLISHED_AS_OF`](crate::usage::PriceTable::PUBLISHED_AS_OF)) and
//! cover the models of the official SDK's list, the default one included;
//! set your own for models it lacks, or when prices change.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use toolrunner::usage::{Price, PriceTable};
//! use toolrunner::{Client, MessageParams, toolset};
//!
//! # async fn run() -> Result<(), toolrunner::Error> {
//! let client = Client::from_env()?;
//! let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("Hello");
//! let mut runner = client.tool_runner(params, toolset![]);
//! while let Some(message) = runner.next().await {
//!     message?;
//! }
//! let usage = runner.usage();
//! let total = usage.total();
//! println!(
//!     "{} requests; {} input tokens, {} read from the cache; compaction used {} of them",
//!     total.requests,
//!     total.total_input_tokens(),
//!     total.cache_read_input_tokens,
//!     usage.compaction.total_input_tokens(),
//! );
//! if let Some(dollars) = PriceTable::published().estimate(toolrunner::models::CURRENT, &total) {
//!     println!("about ${dollars:.4}");
//! }
//! // Your price for a model the table lacks, in dollars per million tokens.
//! let prices = PriceTable::published().set("my-finetune", Price::per_million(2.0, 8.0));
//! if let Some(dollars) = prices.estimate("my-finetune", &total) {
//!     println!("about ${dollars:.4}");
//! }
//! # Ok(()) }
//! ```
//!
//! # Testing against it
//!
//! The scripted server (`testing::ScriptedServer`, feature `testing`) keeps a prompt cache as the API does for prefix caching and
//! counts the usage of the replies it builds from the requests it gets, so
//! a test can check what a change costs; it answers `diagnostics` too.
