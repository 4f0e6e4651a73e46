//! Credentials from your own identity source: a [`TokenProvider`] gives
//! the bearer tokens a [`Client`](crate::Client) sends, which the client
//! caches, refreshes before they expire, and replaces when the API refuses
//! one.
//!
//! Give one to [`ClientBuilder::credentials`](crate::ClientBuilder::credentials)
//! for the first-party API, or to a platform's builder (`token_provider`)
//! for Vertex AI, Google Cloud or Microsoft Foundry. Profiles on disk and
//! workload identity federation are built in: see
//! [`ClientBuilder::profile`](crate::ClientBuilder::profile),
//! [`ClientBuilder::workload_identity`](crate::ClientBuilder::workload_identity)
//! and [`Client::from_env`](crate::Client::from_env).

pub use crate::client::{AccessToken, TokenError, TokenProvider, TokenRequest, WorkloadIdentity};
