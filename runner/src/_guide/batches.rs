//! # Batches, token counts and models
//!
//! Three APIs beside Messages, each from the [`Client`](crate::Client):
//! [`count_tokens`](crate::Client::count_tokens) says what a request would
//! cost before it is sent, [`batches`](crate::Client::batches) sends many
//! requests at half the price to be answered within a day, and
//! [`models`](crate::Client::models) lists the models the API serves.
//!
//! ## Counting tokens
//!
//! [`Client::count_tokens`](crate::Client::count_tokens) takes the same
//! [`MessageParams`](crate::MessageParams) as a request: messages, system
//! prompt, tools, tool choice and thinking are counted; fields only
//! generation takes (`max_tokens`, sampling, ...) are left out, and betas
//! go in the header as on a request.
//!
//! ```no_run
//! # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
//! use toolrunner::MessageParams;
//!
//! let params = MessageParams::new(toolrunner::models::CURRENT, 1024)
//!     .system("You are a careful reviewer.")
//!     .user("Review this diff: ...");
//! let count = client.count_tokens(&params).await?;
//! if count.input_tokens > 100_000 {
//!     println!("too long to send as it is");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Message Batches
//!
//! A batch is up to 100,000 requests (256 MB), each a
//! [`BatchRequest`](crate::types::BatchRequest): the
//! [`MessageParams`](crate::MessageParams) and a `custom_id` that its
//! result will carry, since results come in any order. The client checks
//! what the API would refuse before uploading anything: ids unique and
//! matching `^[a-zA-Z0-9_-]{1,64}$`, the count and the size.
//!
//! [`Batches::wait`](crate::Batches::wait) polls with backoff until the
//! batch ends, within the bound a [`Polling`](crate::Polling) sets, and
//! [`Batches::results_of`](crate::Batches::results_of) reads the results
//! file as it arrives, one line at a time, so memory stays flat however
//! large the file is. Each result is
//! [`succeeded`, `errored`, `canceled` or `expired`](crate::types::BatchResult);
//! with [`expect_ids`](crate::BatchResults::expect_ids) each is also matched
//! to the requests sent, so a result for an id you did not send, or a
//! request without a result, is an error rather than a silent gap.
//!
//! ```no_run
//! # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
//! use std::time::Duration;
//!
//! use futures_util::TryStreamExt;
//! use toolrunner::types::{BatchRequest, BatchResult};
//! use toolrunner::{MessageParams, Polling};
//!
//! let documents = ["first text ...", "second text ..."];
//! let requests: Vec<BatchRequest> = documents
//!     .iter()
//!     .enumerate()
//!     .map(|(i, text)| {
//!         let params = MessageParams::new(toolrunner::models::CURRENT, 512)
//!             .user(format!("Summarize:\n{text}"));
//!         BatchRequest::new(format!("doc-{i}"), params)
//!     })
//!     .collect();
//! let batch = client.batches().create(&requests).await?;
//!
//! let polling = Polling::default().within(Duration::from_secs(6 * 3600));
//! let batch = client
//!     .batches()
//!     .wait_with(&batch.id, &polling, |b| {
//!         eprintln!("{} of {} processing", b.request_counts.processing, b.request_counts.total());
//!     })
//!     .await?;
//!
//! let ids = requests.iter().map(|r| r.custom_id.clone());
//! let mut results = client.batches().results_of(&batch).await?.expect_ids(ids);
//! while let Some(line) = results.try_next().await? {
//!     match line.result {
//!         BatchResult::Succeeded { message } => println!("{}: {}", line.custom_id, message.text()),
//!         BatchResult::Errored { error } => eprintln!("{}: {}", line.custom_id, error.error.message),
//!         other => eprintln!("{}: {}", line.custom_id, other.kind()),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! What can go wrong has its own [`Error`](crate::Error) predicate:
//! [`is_batch_not_ended`](crate::Error::is_batch_not_ended) (results asked
//! for too early, or a wait that ran out),
//! [`is_batch_expired`](crate::Error::is_batch_expired) (results archived),
//! [`is_batch_results`](crate::Error::is_batch_results) (a line of the file
//! that cannot be used; [`line`](crate::Error::line) says which), and
//! [`is_unsupported`](crate::Error::is_unsupported) on a platform without
//! batches (Amazon Bedrock, Vertex AI, Microsoft Foundry), before anything
//! is sent. [`cancel`](crate::Batches::cancel),
//! [`delete`](crate::Batches::delete), [`retrieve`](crate::Batches::retrieve)
//! and [`list`](crate::Batches::list) complete the API.
//!
//! ## Models
//!
//! [`models::CURRENT`](crate::models::CURRENT) stays the model offline code
//! names; the Models API says what the account can use, page by page:
//!
//! ```no_run
//! # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
//! use futures_util::TryStreamExt;
//!
//! let mut models = std::pin::pin!(client.models().list().items());
//! while let Some(model) = models.try_next().await? {
//!     println!("{}: up to {:?} input tokens", model.id, model.max_input_tokens);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Testing against a scripted batch server
//!
//! The [`ScriptedServer`](crate::testing::ScriptedServer) (feature
//! `testing`) serves the Batches and Models APIs and token counting on
//! loopback. A batch is `in_progress` for as many polls as
//! [`set_batch_polls`](crate::testing::ScriptedServer::set_batch_polls)
//! says, then each request is answered by the server's script, as a
//! Messages request would be; outcomes can be forced, batches canceled,
//! made to expire or archived, and results files given line by line.
//!
//! ```
//! use std::time::Duration;
//!
//! use futures_util::TryStreamExt;
//! use toolrunner::testing::{BatchOutcome, Reply, ScriptedServer};
//! use toolrunner::types::{BatchRequest, BatchResult};
//! use toolrunner::{Client, MessageParams, Polling};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = ScriptedServer::start(|_: &serde_json::Value| Reply::text("Done.")).await.unwrap();
//! server.set_batch_outcome("late", BatchOutcome::Expired);
//! let client = Client::builder().api_key("test").base_url(server.url()).build().unwrap();
//!
//! let requests = ["early", "late"].map(|id| {
//!     BatchRequest::new(id, MessageParams::new("scripted", 64).user("Go"))
//! });
//! let batch = client.batches().create(&requests).await.unwrap();
//! let polling = Polling::default().delays(Duration::from_millis(1), Duration::from_millis(10));
//! let batch = client.batches().wait(&batch.id, &polling).await.unwrap();
//! let results: Vec<_> = client.batches().results_of(&batch).await.unwrap().try_collect().await.unwrap();
//! for line in &results {
//!     match (line.custom_id.as_str(), &line.result) {
//!         ("early", BatchResult::Succeeded { message }) => assert_eq!(message.text(), "Done."),
//!         ("late", result) => assert_eq!(result, &BatchResult::Expired),
//!         other => panic!("{other:?}"),
//!     }
//! }
//! # });
//! ```
