//! # Client options: per-request settings, response metadata, middleware, credentials
//!
//! The [`Client`](crate::Client) is configured once with a
//! [`ClientBuilder`](crate::ClientBuilder); this page covers what changes
//! per request or per runner, what comes back besides the answer, how to
//! wrap every request, and where tokens come from.
//!
//! ## Settings for some requests: `RequestOptions`
//!
//! [`RequestOptions`](crate::RequestOptions) holds what the official SDKs
//! take per call (`extra_headers`, `timeout`, `max_retries`, `extra_body`,
//! `extra_query`). [`Client::with_options`](crate::Client::with_options)
//! gives a client that sends every request with them: it shares the
//! connection pool, credentials and middleware, and costs one allocation,
//! so making one per call is the way to set options for one call. The
//! same client works for Messages, streams and the Files API alike.
//!
//! ```no_run
//! # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
//! use std::time::Duration;
//! use toolrunner::{MessageParams, RequestOptions};
//!
//! let params = MessageParams::new(toolrunner::models::CURRENT, 512).user("Summarise this.");
//!
//! // One call: a tighter timeout, more retries, on behalf of an end user.
//! let options = RequestOptions::new()
//!     .timeout(Duration::from_secs(30))
//!     .max_retries(4)
//!     .user_profile_id("uprof_01")
//!     .header("x-request-source", "nightly-batch");
//! let message = client.with_options(options).create_message(&params).await?;
//!
//! // A client for one workspace, kept for many calls.
//! let team = client.with_options(RequestOptions::new().workspace_id("wrkspc_team"));
//! let files = team.files().list().pages();
//! # drop((message, files));
//! # Ok(())
//! # }
//! ```
//!
//! `workspace_id` and `user_profile_id` go in the `anthropic-workspace-id`
//! and `anthropic-user-profile-id` headers, as the SDKs send them (Amazon
//! Bedrock moves the user profile into the body itself). `anthropic-beta`
//! values are merged with the request's betas rather than replacing them.
//!
//! A runner takes options for all its requests with
//! [`ToolRunner::request_options`](crate::ToolRunner::request_options):
//!
//! ```no_run
//! # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
//! use toolrunner::{MessageParams, RequestOptions, toolset};
//!
//! let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("Plan my week.");
//! let answer = client
//!     .tool_runner(params, toolset![])
//!     .request_options(RequestOptions::new().user_profile_id("uprof_01"))
//!     .until_done()
//!     .await?;
//! # drop(answer);
//! # Ok(())
//! # }
//! ```
//!
//! Options that conflict with the request are refused before anything is
//! sent, with an error naming the option
//! ([`Error::is_invalid_request`](crate::Error::is_invalid_request)): an
//! extra body field the request sets already (or `stream`), a sampling
//! field API version `2026-10-21` refuses, a query parameter the request
//! has, extra body fields on a request without a JSON body, or a header
//! that is not valid.
//!
//! ## What came back: `ResponseMeta`
//!
//! Every value the client receives keeps the status and headers of its
//! response as a [`ResponseMeta`](crate::types::ResponseMeta): a
//! [`Message`](crate::Message), a [`MessageStream`](crate::stream::MessageStream),
//! each runner [`Turn`](crate::Turn), Files answers and downloads, token
//! counts, models, batches and their pages, and a batch's
//! [`BatchResults`](crate::BatchResults). The
//! request id is the one to quote to support; rate-limit headers are read
//! with [`ResponseMeta::rate_limit`](crate::types::ResponseMeta::rate_limit).
//! The metadata is not part of the value: a message serializes and
//! compares as before.
//!
//! ```no_run
//! # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
//! use toolrunner::types::RateLimit;
//!
//! let params = toolrunner::MessageParams::new(toolrunner::models::CURRENT, 64).user("Hi");
//! let message = client.create_message(&params).await?;
//! println!("request {:?}", message.request_id());
//! if let Some(response) = message.response() {
//!     let limit = response.rate_limit(RateLimit::OutputTokens);
//!     println!("{:?} output tokens left until {:?}", limit.remaining, limit.reset);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Around every request: `Middleware`
//!
//! A [`Middleware`](crate::Middleware) wraps each attempt the client makes
//! (retries included): it gets the request and [`Next`](crate::Next), and
//! calls `next.run(request)`, or answers itself. Middlewares added to the
//! builder compose outermost first. They see the request without its
//! credentials, which the platform adds after the last one, and their
//! errors ([`Error::middleware`](crate::Error::middleware)) end the request
//! without a retry.
//!
//! ```
//! use futures_util::future::BoxFuture;
//! use toolrunner::{Client, Error, Middleware, Next};
//!
//! /// Logs the status and time of every attempt.
//! struct Timing;
//!
//! impl Middleware for Timing {
//!     fn handle<'a>(
//!         &'a self,
//!         request: reqwest::Request,
//!         next: Next<'a>,
//!     ) -> BoxFuture<'a, Result<reqwest::Response, Error>> {
//!         Box::pin(async move {
//!             let started = std::time::Instant::now();
//!             let path = request.url().path().to_owned();
//!             let response = next.run(request).await?;
//!             tracing::info!(%path, status = %response.status(), elapsed = ?started.elapsed());
//!             Ok(response)
//!         })
//!     }
//! }
//!
//! let client = Client::builder().api_key("sk-ant-...").middleware(Timing).build()?;
//! # drop(client);
//! # Ok::<(), toolrunner::Error>(())
//! ```
//!
//! The trait is a small one rather than a `tower` layer: the client's
//! retry loop, timeouts and error decoding stay around the chain, each
//! attempt is one call through it, and a middleware needs no `Service`
//! plumbing or `poll_ready`.
//!
//! ## Where tokens come from: credentials
//!
//! [`ClientBuilder::credentials`](crate::ClientBuilder::credentials) takes a
//! [`TokenProvider`](crate::credentials::TokenProvider) (a closure will do):
//! the client caches its tokens for as long as they say they last, asks
//! again before they expire, and after a `401` drops the token, asks for a
//! fresh one and sends the request once more. The same trait serves the
//! platforms' `token_provider`.
//!
//! ```
//! use std::time::Duration;
//! use toolrunner::credentials::AccessToken;
//!
//! let client = toolrunner::Client::builder()
//!     .credentials(|| async {
//!         let token = String::from("from my identity broker");
//!         Ok::<_, std::io::Error>(AccessToken::new(token).expires_in(Duration::from_secs(900)))
//!     })
//!     .build()?;
//! # drop(client);
//! # Ok::<(), toolrunner::Error>(())
//! ```
//!
//! Profiles on disk are named with
//! [`ClientBuilder::profile`](crate::ClientBuilder::profile) and
//! [`ClientBuilder::config_dir`](crate::ClientBuilder::config_dir), as the
//! SDKs' `profile=`; [`Client::from_env`](crate::Client::from_env) finds
//! them, and workload identity federation, from the environment.
//!
//! ## Retries and `retry-after`
//!
//! Failed attempts are retried with the SDKs' backoff; a `retry-after-ms`
//! or `retry-after` header is honoured up to the request's timeout (10
//! minutes unless set). A server asking for longer is not retried: the
//! error, which [`is_retryable`](crate::Error::is_retryable), comes back at
//! once.
