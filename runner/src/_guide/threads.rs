//! # Message threads
//!
//! With message threads (beta `message-threads-2026-08-12`), the server
//! holds the conversation between turns, and each request sends only what
//! was added since the last reply. A [`ToolRunner`](crate::ToolRunner) uses
//! them by default; a [`MessageThread`](crate::MessageThread) is the same
//! conversation without the tool loop, the official SDKs'
//! `messages.thread()`.
//!
//! ```no_run
//! # async fn run() -> Result<(), toolrunner::Error> {
//! use toolrunner::{Client, MessageParam, MessageParams};
//!
//! let client = Client::from_env()?;
//! let mut thread = client.thread(MessageParams::new("claude-sonnet-4-5", 1024).system("Be terse."));
//! let first = thread.send([MessageParam::user("Name a prime.")]).await?;
//! let second = thread.send([MessageParam::user("And the next one?")]).await?;
//! println!("{} {}", first.text(), second.text());
//! # Ok(())
//! # }
//! ```
//!
//! ## On the wire
//!
//! The first turn creates the thread with the whole history, `system` and
//! `tools`:
//!
//! ```json
//! {"model": "...", "max_tokens": 1024, "messages": [{"role": "user", "content": "Name a prime."}],
//!  "system": "Be terse.", "thread": {"type": "create"}}
//! ```
//!
//! Each later turn continues it from the last reply, with only the new
//! messages and without `system` and `tools`, which the thread holds:
//!
//! ```json
//! {"model": "...", "max_tokens": 1024, "messages": [{"role": "user", "content": "And the next one?"}],
//!  "thread": {"type": "continue", "previous_message_id": "msg_..."}}
//! ```
//!
//! ## Send, stream, parse
//!
//! [`send`](crate::MessageThread::send) sends one turn (the messages given,
//! after any [`append`](crate::MessageThread::append)ed) and returns the
//! reply, which joins the history. [`stream`](crate::MessageThread::stream)
//! does the same streamed: the reply joins the history when the stream is
//! read to its end. [`parse`](crate::MessageThread::parse) asks for an
//! answer shaped as a Rust type for that turn and parses it, as
//! [`Client::create_parsed`](crate::Client::create_parsed) does:
//!
//! ```no_run
//! # async fn run(mut thread: toolrunner::MessageThread) -> Result<(), toolrunner::Error> {
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Prime {
//!     value: u64,
//! }
//!
//! let prime = thread.parse::<Prime>([toolrunner::MessageParam::user("One more, as JSON.")]).await?;
//! println!("{}", prime.parsed.value);
//! # Ok(())
//! # }
//! ```
//!
//! A turn that fails leaves the history as it was before it.
//!
//! ## Update and fork
//!
//! [`update`](crate::MessageThread::update) changes the parameters of later
//! turns (the model, `max_tokens`, ...); once a turn created the thread, its
//! `system` prompt and `tools` are the server's, and changing them is
//! refused. [`fork`](crate::MessageThread::fork) makes an independent copy
//! that starts a thread of its own with its first turn; a runner's
//! conversation forks with [`ToolRunner::fork_thread`](crate::ToolRunner::fork_thread),
//! say for a side question the run should not see:
//!
//! ```no_run
//! # async fn run(client: toolrunner::Client, params: toolrunner::MessageParams) -> Result<(), toolrunner::Error> {
//! use futures_util::StreamExt;
//! use toolrunner::{toolset, MessageParam};
//!
//! let mut runner = client.tool_runner(params, toolset![]);
//! while let Some(message) = runner.next().await {
//!     message?;
//! }
//! let mut aside = runner.fork_thread();
//! let why = aside.send([MessageParam::user("Why did you stop there?")]).await?;
//! println!("{}", why.text());
//! # Ok(())
//! # }
//! ```
//!
//! ## When a thread starts again
//!
//! A standalone thread recovers as the runner does: it starts a new thread
//! with the whole history when the server lost the thread (or another
//! request continued it first), after a refusal (the server may hold the
//! refused turn), after a reply a server-side fallback model wrote, and after
//! a stream that broke off mid-reply; it goes on without a thread when the
//! server cannot thread a request. On a platform without threads (Amazon
//! Bedrock, say), each turn sends the whole history. With
//! [`fallback_models`](crate::MessageThread::fallback_models), a refused or
//! overloaded turn goes to the next model (see the
//! [fallback guide](crate::_guide::fallback)).
