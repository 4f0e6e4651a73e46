//! Streaming: each turn as a stream of typed events, with the loop kept whole.
//!
//! ```no_run
//! use toolrunner::prelude::*;
//!
//! # async fn run(client: Client, params: MessageParams, tools: Toolset) -> Result<(), toolrunner::Error> {
//! let mut runner = client.tool_runner(params, tools).streaming().early_tool_start(true);
//! while let Some(turn) = runner.next_turn().await {
//!     let turn = turn?;
//!     while let Some(event) = turn.next().await {
//!         if let StreamEvent::ContentBlockDelta { delta: Delta::Text(text), .. } = event? {
//!             print!("{text}");
//!         }
//!     }
//!     let message = turn.message().await?; // the turn's complete message
//!     println!("\n[{:?}]", message.stop_reason);
//! }
//! # Ok(()) }
//! ```
//!
//! Each [`Turn`](crate::Turn) is a stream of typed events
//! ([`StreamEvent`](crate::StreamEvent): message start, block start, text,
//! thinking and tool-input deltas, block stop, message delta, message stop).
//! Read all of it, part of it or none: the loop always gets the complete
//! message. An `error` event is
//! [`Error::is_stream_error`](crate::Error::is_stream_error); a stream cut
//! before `message_stop` is
//! [`Error::is_stream_broken`](crate::Error::is_stream_broken), and is
//! requested again only if you had not read any event yet. Deltas this crate
//! does not model are kept ([`Delta::Other`](crate::Delta::Other), and on an
//! unknown block, [`OtherBlock::deltas`](crate::types::OtherBlock::deltas));
//! server-side compaction summaries, `stop_details` and `context_management`
//! are kept as in a reply sent whole.
//!
//! # Timeouts
//!
//! The client's [`timeout`](crate::ClientBuilder::timeout) bounds a streamed
//! request until its response headers arrive, never the length of the stream:
//! a long generation is not cut. The body is bounded by
//! [`stream_idle_timeout`](crate::ClientBuilder::stream_idle_timeout) instead
//! (default: the `timeout`), the longest it may send nothing.
//!
//! # Inputs cut short
//!
//! A tool input cut by `max_tokens` ends the turn with its real stop reason and
//! the input read as far as it got. A `tool_use` whose input is not valid JSON
//! (possible with `eager_input_streaming`) is answered with an error result
//! saying so, and the loop goes on; the tool does not run.
//!
//! # Starting tools early
//!
//! With [`early_tool_start(true)`](crate::StreamingToolRunner::early_tool_start)
//! a tool starts as soon as its `tool_use` block is complete in the stream,
//! while the model is still writing the rest of the turn; its result is reused
//! when the turn ends, so no tool runs twice.
//!
//! # One runner, two modes
//!
//! [`StreamingToolRunner`](crate::StreamingToolRunner) is
//! `ToolRunner<Turns>` (the plain runner is `ToolRunner<Messages>`, the
//! default): one type whose mode says how it is driven, so the settings and
//! accessors (`max_iterations`, `tool_concurrency`, the hooks, `compaction`,
//! `last_message`, `toolset`, `tool_response`, `tool_results`, ...) are the
//! same methods in both. [`StreamEvent`](crate::StreamEvent),
//! [`Delta`](crate::Delta) and [`Usage`](crate::Usage) (typed, in
//! `MessageDelta` as in `Message`) are at the crate root.
