//! The client: credentials, profiles, the API version, retries and errors.
//!
//! [`Client::from_env()`](crate::Client::from_env) or
//! [`Client::builder()`](crate::Client::builder) (API key or bearer token,
//! base URL, default headers, timeout, retries, `anthropic-version`). A client
//! is cheap to clone: its clones share one connection pool and one token
//! cache.
//!
//! ```
//! use std::time::Duration;
//! use toolrunner::Client;
//!
//! let client = Client::builder()
//!     .api_key("sk-ant-...")
//!     .base_url("https://api.anthropic.com")
//!     .timeout(Duration::from_secs(120))
//!     .max_retries(4)
//!     .default_header("x-request-source", "support-desk")
//!     .build()?;
//! # Ok::<(), toolrunner::Error>(())
//! ```
//!
//! # Credentials
//!
//! Credentials are found in this order, as the official SDKs do; the first
//! that is set wins:
//!
//! 1. what the builder is given: [`.api_key(...)`](crate::ClientBuilder::api_key)
//!    (sent as `x-api-key`) and [`.auth_token(...)`](crate::ClientBuilder::auth_token)
//!    (sent as `Authorization: Bearer`; no key is needed);
//! 2. with `Client::from_env()`: `ANTHROPIC_API_KEY`, then
//!    `ANTHROPIC_AUTH_TOKEN` (when both are set the key wins, with a warning);
//! 3. the profile `ANTHROPIC_PROFILE` names;
//! 4. workload identity federation: `ANTHROPIC_IDENTITY_TOKEN` (or
//!    `ANTHROPIC_IDENTITY_TOKEN_FILE`), `ANTHROPIC_FEDERATION_RULE_ID` and
//!    `ANTHROPIC_ORGANIZATION_ID` (optionally `ANTHROPIC_SERVICE_ACCOUNT_ID`,
//!    `ANTHROPIC_WORKSPACE_ID`), exchanged at `/v1/oauth/token` for an access
//!    token;
//! 5. the active profile on disk (`active_config`, else `default`) under
//!    `ANTHROPIC_CONFIG_DIR`, by default `~/.config/anthropic`.
//!
//! A profile is `configs/<name>.json` (how to authenticate) and
//! `credentials/<name>.json` (the tokens; it must be readable by its owner
//! only, and a symbolic link is refused). `authentication.type` is
//! `user_oauth` (a login's tokens: with a `client_id`, refreshed with the
//! refresh-token grant at `/v1/oauth/token` and written back; without, read
//! afresh as another process rotates them) or `oidc_federation` (federation
//! settings in the file: `federation_rule_id`, `identity_token: {"source":
//! "file", "path": ...}`, the top-level `organization_id`; the minted token is
//! cached in the credentials file). A profile's `base_url` is the client's
//! unless `ANTHROPIC_BASE_URL` or the builder sets one, and its token endpoint
//! always; the `workspace_id` of a `user_oauth` profile is sent as
//! `anthropic-workspace-id`. Fields a profile leaves out are taken from the
//! `ANTHROPIC_*` variables above. A token endpoint must be `https` (`http`
//! only on loopback).
//!
//! Minted tokens are cached and shared by the clones of a client, refreshed
//! two minutes before they expire (one refresh at a time; while a refresh
//! fails the current token is used until 30 seconds before it expires), and
//! replaced once when the API refuses one. `ANTHROPIC_CUSTOM_HEADERS`
//! (`Name: value`, one a line) adds headers to every request, over a
//! profile's.
//!
//! # The API version
//!
//! The client sends `anthropic-version: 2026-10-21`, as the official SDKs do.
//! That version rejects `temperature`, `top_p` and `top_k`, a `document` block
//! in an assistant message and `citations` on a user's text, so the client
//! refuses such a request before sending it, saying which field; pin
//! [`.anthropic_version("2023-06-01")`](crate::ClientBuilder::anthropic_version)
//! to keep them. A request naming a deprecated model logs a warning once, with
//! its end-of-life date ([`models`](crate::models)). The examples and docs use
//! [`models::CURRENT`](crate::models::CURRENT); the examples read
//! `ANTHROPIC_MODEL` to use another.
//!
//! # Long requests, retries and errors
//!
//! The API only answers a request that may run past 10 minutes (`max_tokens`
//! above 21,333, less for some models) when it is streamed: a
//! [`ToolRunner`](crate::ToolRunner) streams such a turn itself and yields the
//! same `Message`, and [`create_message`](crate::Client::create_message)
//! refuses it, saying to use [`stream_message`](crate::Client::stream_message).
//!
//! The client retries connection errors, timeouts, 408, 409, 429, 5xx and 529
//! with exponential backoff and jitter, honouring `retry-after-ms` and
//! `retry-after` when they ask for more than nothing and at most a minute, and
//! `x-should-retry` (2 retries by default). An `is_error` tool result is never
//! sent empty: a tool that fails without a message is reported as having
//! failed without one. API errors carry status, error type, message and
//! `request-id` ([`Error`](crate::Error)). No key or token ever appears in
//! `Debug` output, errors or logs.
//!
//! Every content block the API sends comes back exactly as it was received:
//! blocks this crate does not know are kept as their original JSON text, and
//! unknown fields of known blocks are kept too.
