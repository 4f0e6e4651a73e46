//! Testing your own agents: a scripted Messages API server on loopback
//! (feature `testing`).
//!
//! [`ScriptedServer`](crate::testing::ScriptedServer) is a Messages API server
//! on `127.0.0.1` that answers each request with what your script says and
//! records every request, so your tests drive a real runner offline, over real
//! HTTP, and check exactly what it sent. Turn the feature on for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! toolrunner = { version = "0.1", features = ["testing"] }
//! ```
//!
//! # A scripted conversation
//!
//! Point a [`Client`](crate::Client) at the server with
//! [`Client::builder()`](crate::Client::builder), any API key and the server's
//! [`url()`](crate::testing::ScriptedServer::url) as the base URL; everything
//! else is the code under test, unchanged:
//!
//! ```
//! use serde_json::json;
//! use toolrunner::prelude::*;
//! use toolrunner::testing::{Reply, ScriptedServer, Sequence};
//!
//! /// Get the current weather for a city.
//! #[tool]
//! fn get_weather(city: String) -> String {
//!     format!("Sunny in {city}, 21°C")
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = ScriptedServer::start(Sequence::new([
//!     Reply::tool_use("get_weather", json!({"city": "Paris"})).with_text("Let me check."),
//!     Reply::text("Sunny, 21°C."),
//! ]))
//! .await
//! .unwrap();
//! let client = Client::builder().api_key("test").base_url(server.url()).build().unwrap();
//!
//! let params = MessageParams::new(models::CURRENT, 1024).user("Weather in Paris?");
//! let last = client.tool_runner(params, toolset![get_weather]).until_done().await.unwrap();
//! assert_eq!(last.text(), "Sunny, 21°C.");
//!
//! // What the runner sent: the tool's result, in the second request.
//! let requests = server.requests();
//! assert_eq!(requests.len(), 2);
//! assert_eq!(requests[0]["tools"][0]["name"], "get_weather");
//! let result = &requests[1]["messages"].as_array().unwrap().last().unwrap()["content"][0];
//! assert_eq!(result["type"], "tool_result");
//! assert_eq!(result["content"], "Sunny in Paris, 21°C");
//! # });
//! ```
//!
//! Replies are built in one line, with unique ids and usage filled in:
//! [`Reply::text`](crate::testing::Reply::text),
//! [`Reply::tool_use`](crate::testing::Reply::tool_use),
//! [`Reply::tool_uses([...])`](crate::testing::Reply::tool_uses) to call
//! several tools in one turn; [`.with_text(...)`](crate::testing::Reply::with_text),
//! [`.stop_reason(...)`](crate::testing::Reply::stop_reason),
//! [`.usage(...)`](crate::testing::Reply::usage) change the message,
//! [`.streamed()`](crate::testing::Reply::streamed) sends it as a stream of
//! events (for a streaming runner, or `stream_message`), and
//! [`Reply::message(json)`](crate::testing::Reply::message) sends one written
//! by hand; [`Reply::error`](crate::testing::Reply::error) and
//! [`Reply::hang_up`](crate::testing::Reply::hang_up) fail a request. A
//! [`Sequence`](crate::testing::Sequence) that runs out answers at once with
//! an error the client does not retry: `the script has no reply for request
//! 3`. Any `FnMut(&serde_json::Value) -> Reply` closure is a script too, for
//! replies that depend on the request. [`recorded()`](crate::testing::ScriptedServer::recorded)
//! gives each request's headers and raw body.
//!
//! The server keeps message threads as the API does, so the script always
//! sees the whole conversation, and serves the Files API from memory
//! ([`add_file`](crate::testing::ScriptedServer::add_file)).
//!
//! # A durable run across processes
//!
//! A [durable run](super::durable_runs) goes on in another process, and in a
//! test each process starts a server of its own. A new server holds none of
//! the previous server's message threads: the resumed runner's first request
//! continues a thread the server does not know, is refused with
//! `thread_not_found`, and the runner sends the whole conversation again on a
//! new thread. Nothing in your test has to handle that, but the script does:
//! a `Sequence` counts requests, so the new server would answer the resumed
//! run with the first turn's reply. [`ByTurn`](crate::testing::ByTurn) keys
//! each reply on the conversation instead (reply `n` answers a conversation
//! that holds `n` assistant messages), so the same script serves every
//! process:
//!
//! ```
//! use serde_json::json;
//! use toolrunner::prelude::*;
//! use toolrunner::testing::{ByTurn, Reply, ScriptedServer};
//! use toolrunner::RunState;
//!
//! /// Refund an order.
//! #[tool]
//! fn refund(order: u32) -> String {
//!     format!("refunded order {order}")
//! }
//!
//! /// The whole conversation, turn by turn, for every process.
//! fn script() -> ByTurn {
//!     ByTurn::new([
//!         Reply::tool_use("refund", json!({"order": 7})),
//!         Reply::text("Order 7 is refunded."),
//!     ])
//! }
//!
//! fn client(server: &ScriptedServer) -> Client {
//!     Client::builder().api_key("test").base_url(server.url()).build().unwrap()
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // The first process: the refund waits for a human, and the run is kept.
//! let kept: String = {
//!     let server = ScriptedServer::start(script()).await.unwrap();
//!     let params = MessageParams::new(models::CURRENT, 1024).user("Refund order 7.");
//!     let mut runner = client(&server)
//!         .tool_runner(params, toolset![refund])
//!         .before_tool_call(async |_call: PendingCall| Decision::Defer);
//!     while let Some(message) = runner.next().await {
//!         message.unwrap();
//!     }
//!     assert_eq!(runner.pending_approvals().len(), 1);
//!     serde_json::to_string(&runner.state()).unwrap() // a RunStore would save it
//! };
//!
//! // A human approves it (in a third process, say).
//! let mut state: RunState = serde_json::from_str(&kept).unwrap();
//! let call = state.pending_approvals()[0].id.clone();
//! state.approve(&call).unwrap();
//!
//! // The second process: a new server, which holds no thread.
//! let server = ScriptedServer::start(script()).await.unwrap();
//! let last = client(&server).resume(state, toolset![refund]).unwrap().until_done().await.unwrap();
//! assert_eq!(last.text(), "Order 7 is refunded.");
//! let sent = server.requests();
//! assert_eq!(sent[0]["thread"]["type"], "continue"); // refused: thread_not_found
//! assert_eq!(sent[1]["thread"]["type"], "create"); // the whole conversation again
//! assert_eq!(sent[1]["messages"][2]["content"][0]["content"], "refunded order 7");
//! # });
//! ```
//!
//! For a closure of your own, read the turn from the request the same way
//! (`request["messages"]`, which always holds the whole conversation), never
//! from a counter of requests. Within one test,
//! [`forget_threads()`](crate::testing::ScriptedServer::forget_threads) plays
//! a server that lost its threads, and
//! [`conversation(id)`](crate::testing::ScriptedServer::conversation) shows
//! what a thread holds.
//!
//! Platforms have scripted servers too (see the [platforms](super::platforms)
//! page): `ScriptedAws`, `ScriptedVertex`, `ScriptedGoogleCloud` and
//! `ScriptedFoundry` check each request as their platform would, then answer
//! with the same scripts.
