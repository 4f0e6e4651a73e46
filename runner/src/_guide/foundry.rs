//! Microsoft Foundry (feature `foundry`).
//!
//! ```no_run
//! use toolrunner::platform::Foundry;
//!
//! # async fn my_entra_token() -> String { String::new() }
//! # fn run() -> Result<(), toolrunner::Error> {
//! // ANTHROPIC_FOUNDRY_API_KEY, ANTHROPIC_FOUNDRY_RESOURCE or ANTHROPIC_FOUNDRY_BASE_URL.
//! let client = Foundry::from_env().resource("my-resource").build()?;
//! // Or Microsoft Entra ID tokens from your own code (azure_identity, say):
//! let client = Foundry::new()
//!     .resource("my-resource")
//!     .token_provider(|| async { Ok::<_, std::io::Error>(my_entra_token().await) })
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! Requests keep the first-party shape under
//! `https://{resource}.services.ai.azure.com/anthropic/`; a key goes in both
//! `x-api-key` and `api-key` (as the Python SDK sends it), an Entra token in
//! `Authorization: Bearer` (asked for before each attempt, and once more after
//! a `401`). Foundry offers message threads and files, not batches or models.
//!
//! With `testing` and `foundry`, `toolrunner::testing::platform_foundry` has
//! `ScriptedFoundry` (checks the path and the key or Entra token before your
//! script answers); the crate's tests run the official Python SDK's
//! `AnthropicFoundry` against it and compare path, body and headers.
