//! Google Vertex AI and Claude on Google Cloud (feature `vertex`).
//!
//! # Google Vertex AI
//!
//! ```no_run
//! use toolrunner::platform::Vertex;
//!
//! # fn run() -> Result<(), toolrunner::Error> {
//! // CLOUD_ML_REGION, ANTHROPIC_VERTEX_PROJECT_ID, ANTHROPIC_VERTEX_BASE_URL;
//! // credentials: Application Default Credentials.
//! let client = Vertex::from_env().region("us-east5").project_id("my-project").build()?;
//! # Ok(()) }
//! ```
//!
//! A message goes to
//! `{base}/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict`
//! (`:streamRawPredict` streamed), with `model` moved from the body into the
//! path, `anthropic_version` in the body and no `anthropic-version` header;
//! betas stay in `anthropic-beta`. The base URL follows the region as in the
//! SDKs (`global`, `us`, `eu`, or `{region}-aiplatform.googleapis.com`). The
//! region is required; the project is `ANTHROPIC_VERTEX_PROJECT_ID`, else
//! `GOOGLE_CLOUD_PROJECT`, else the service-account key's `project_id` (an
//! error names the variable to set).
//!
//! Tokens (`cloud-platform` scope) come from `.access_token(...)`,
//! [`.token_provider(...)`](crate::platform::Vertex::token_provider) (any async
//! closure returning a token, asked before each attempt),
//! `.service_account_key(json)`, `.credentials_file(path)`, or Application
//! Default Credentials: the file `GOOGLE_APPLICATION_CREDENTIALS` names, the
//! user credentials `gcloud auth application-default login` wrote (under
//! `CLOUDSDK_CONFIG` or `~/.config/gcloud`), the metadata server
//! (`GCE_METADATA_HOST` if set). They go through Google's
//! [google-cloud-auth](https://crates.io/crates/google-cloud-auth): a
//! service-account key signs a self-signed JWT sent as the token, user
//! credentials are exchanged at their file's `token_uri`, and tokens are
//! cached and refreshed four minutes before they expire. The crate needs a
//! process-wide rustls crypto provider: toolrunner installs ring's (the one
//! its HTTP client uses) unless the program installed one first, so a
//! program that installs its own should do it before making the client. A
//! token Vertex answers `401` to is
//! dropped and the request sent once more with a fresh one. Vertex offers no
//! message threads, Files API, batches or models endpoint.
//!
//! # Claude on Google Cloud
//!
//! ```no_run
//! use toolrunner::platform::GoogleCloud;
//!
//! # fn run() -> Result<(), toolrunner::Error> {
//! // ANTHROPIC_GOOGLE_CLOUD_PROJECT (else GOOGLE_CLOUD_PROJECT),
//! // ANTHROPIC_GOOGLE_CLOUD_LOCATION (default global),
//! // ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID, ANTHROPIC_GOOGLE_CLOUD_BASE_URL.
//! let client = GoogleCloud::from_env().workspace_id("wrkspc_...").build()?;
//! # Ok(()) }
//! ```
//!
//! The first-party API through Google's gateway: requests keep their shape
//! under
//! `https://claude.googleapis.com/v1/projects/{project}/locations/{location}/workspaces/{workspace_id}/invoke`,
//! with a Google token (the same sources as Vertex; `.skip_auth()` for a
//! pre-authenticated proxy) and never an Anthropic key. Everything is offered,
//! message threads included.
//!
//! # Testing
//!
//! With `testing` and `vertex`, `toolrunner::testing::platform_google` has
//! `TokenEndpoint` (Google's OAuth token endpoint on loopback: it checks the
//! service account's JWT grant, `grant_type`
//! `urn:ietf:params:oauth:grant-type:jwt-bearer` and the assertion's RS256
//! signature against a published test-only key, and issues tokens),
//! `ScriptedVertex` (checks the path, the moved body fields and the token
//! before your script answers) and `ScriptedGoogleCloud` (the gateway's path
//! and token). The crate's tests also run the official Python SDK's
//! `AnthropicVertex` against the same servers and compare path, body and
//! headers.
