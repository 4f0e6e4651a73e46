//! Amazon Bedrock, Bedrock Mantle and the Anthropic API on AWS (feature
//! `bedrock`; `aws-config` for the whole AWS credential chain).
//!
//! ```no_run
//! use toolrunner::platform::Bedrock;
//! use toolrunner::prelude::*;
//!
//! /// How many of an item are in stock.
//! #[tool]
//! fn stock(item: String) -> u32 {
//!     if item == "apples" { 12 } else { 0 }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // cargo add toolrunner -F bedrock
//! let client = Bedrock::from_env()
//!     .region("us-east-1")
//!     .client(Client::builder().max_retries(4))
//!     .build()?;
//! let params = MessageParams::new("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 1024)
//!     .user("What is in stock?");
//! let answer = client.tool_runner(params, toolset![stock]).until_done().await?;
//! println!("{}", answer.text());
//! # Ok(()) }
//! ```
//!
//! | Builder | Reads with `from_env()` |
//! |---|---|
//! | [`Bedrock`](crate::platform::Bedrock) | `AWS_REGION` / `AWS_DEFAULT_REGION`, `ANTHROPIC_BEDROCK_BASE_URL`, `AWS_BEARER_TOKEN_BEDROCK`, `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` |
//! | [`BedrockMantle`](crate::platform::BedrockMantle) | the region, `ANTHROPIC_BEDROCK_MANTLE_BASE_URL`, `AWS_BEARER_TOKEN_BEDROCK` or `ANTHROPIC_AWS_API_KEY`, the AWS credentials |
//! | [`Aws`](crate::platform::Aws) | the region, `ANTHROPIC_AWS_BASE_URL`, `ANTHROPIC_AWS_API_KEY`, `ANTHROPIC_AWS_WORKSPACE_ID`, the AWS credentials |
//!
//! All three also read `ANTHROPIC_CUSTOM_HEADERS`, as the official SDK's
//! clients do. Setters override what `from_env()` read (`.region`,
//! `.base_url`, `.api_key`, `.credentials`, `.credentials_provider` for any
//! provider of the AWS SDK for Rust, `.profile`), and `.client(...)` takes a
//! [`ClientBuilder`](crate::ClientBuilder) for the settings every client has.
//!
//! `cargo run --example bedrock` (in the repository) runs a streamed tool
//! run offline against `testing::ScriptedAws`, a scripted Bedrock on
//! loopback.
//!
//! # Amazon Bedrock
//!
//! The model goes in the path (`/model/{model}/invoke`, or
//! `/invoke-with-response-stream`), percent-encoded as the SDKs encode it
//! (`:` kept, `/` encoded; a model that would be `.` or `..` is refused);
//! `anthropic_version` and `anthropic_beta` go in the body, and `model` and
//! `stream` leave it. Requests are signed with SigV4 (the `aws-sigv4` crate,
//! service `bedrock`), or carry a Bedrock API key as a bearer token; a key and
//! AWS credentials together are an error, as in the SDK. Streamed replies come
//! in AWS event-stream frames, decoded by `aws-smithy-eventstream` into the
//! same [`StreamEvent`](crate::StreamEvent)s as SSE; an exception frame
//! mid-stream is a stream error named after the exception
//! (`throttlingException` is retryable, as `rate_limit_error` is). Bedrock
//! offers Messages only: the Files API (and batches, token counting, models)
//! is refused before sending ([`Error::is_unsupported`](crate::Error::is_unsupported),
//! naming the platform and the feature), and runners do not use message
//! threads there, without a failed request first. So is a request with the
//! code-execution tool, which a toolset with tools callable from `"code"`
//! brings in (programmatic tool calling: use code mode, which runs on the
//! client), the web search tool, or a `code-execution-*` beta; the
//! [platforms page](super::platforms) lists the sources, and
//! `Bedrock::assume_offered` sends one anyway.
//!
//! # Bedrock Mantle and the Anthropic API on AWS
//!
//! [`BedrockMantle`](crate::platform::BedrockMantle) and
//! [`Aws`](crate::platform::Aws) take the Messages API's own shape on AWS
//! endpoints (`https://bedrock-mantle.{region}.api.aws/anthropic`,
//! `https://aws-external-anthropic.{region}.api.aws`), signed with SigV4
//! (services `bedrock-mantle`, `aws-external-anthropic`) or with an API key
//! (a bearer token on Mantle, `x-api-key` on AWS, which also sends the
//! required `anthropic-workspace-id`). Authentication follows the SDK's order:
//! a key given to the builder, credentials given to the builder, a key from
//! the environment, then the environment's credentials. `Aws` is the
//! first-party API, threads and Files included (a file streamed from disk
//! cannot be signed: upload bytes, or use a key); Mantle offers Messages only.
//!
//! # Credentials
//!
//! Explicit keys, a provider, or `AWS_ACCESS_KEY_ID` /
//! `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` read when a request is
//! signed. With the `aws-config` feature, the whole AWS chain: profiles
//! (`.profile(...)`), SSO, web identity, container and instance roles (its
//! HTTP client on rustls with ring, as reqwest has, not aws-lc). Credentials
//! are cached until a minute before they expire; a 401, or a 403 naming
//! `ExpiredToken`, drops them and sends the request once more with fresh
//! ones, then the platform's error is returned as it is. With `aws-config`,
//! `Bedrock::from_env()` (or a builder naming a `.profile(...)`) with no
//! region takes the profile's from the AWS config file, as the Python SDK does
//! through boto3. A missing region is an error at `build()` naming
//! `AWS_REGION`. A profile named with `.profile(...)` wins over keys in the
//! environment, as boto3's `Session(profile_name=...)` behind the Python
//! SDK's `aws_profile`: they are used only by its `credential_source =
//! Environment`.
//!
//! Platform error bodies (`{"message"}` with `x-amzn-errortype`) become the
//! same [`Error`](crate::Error), with the status, `is_retryable` and the
//! `x-amzn-requestid`. Keys, secrets and tokens never appear in `Debug`
//! output, errors or logs, nor does a password in a platform's base URL.
//! While the `aws-config` chain fetches credentials, the AWS runtime's TRACE
//! events that dump whole requests and responses (an SSO bearer token among
//! their headers) are dropped; its other events reach your subscriber.
//!
//! # Testing
//!
//! `testing::ScriptedAws` (features `testing` and `bedrock`) plays Bedrock,
//! Mantle or the AWS API on loopback for your own agents: it checks the path,
//! the moved body fields and the SigV4 signature or key as the platform would,
//! answers with the same `Script` as `ScriptedServer`, and streams Bedrock's
//! binary frames. The crate's own tests recompute every signature with
//! botocore, and send the same conversation with the official Python SDK's
//! `AnthropicBedrock`, `AnthropicBedrockMantle` and `AnthropicAWS`: path, body
//! and headers are the same, but for the signature, its date, the user agent,
//! the Python SDK's `x-stainless-*` telemetry, and the HTTP libraries' own
//! `accept`, `accept-encoding`, `connection` and `content-length` (bodies are
//! compared as JSON).
//!
//! `testing::AwsCredentialSources` (features `testing` and `bedrock`)
//! plays the sources of the AWS chain on loopback: an EC2 instance metadata
//! service (IMDSv2), STS answering `AssumeRoleWithWebIdentity` and
//! `AssumeRole` (whose SigV4 signature, by a source profile's
//! `TEST_ACCESS_KEY`, it checks), the SSO portal answering
//! `GetRoleCredentials`, SSO-OIDC refreshing an expired SSO token, and a
//! container credentials endpoint. Each issue gives new credentials
//! (`IssuedCredentials::nth`, first `ISSUED_ACCESS_KEY` /
//! `ISSUED_SECRET_KEY` with a session token) for a `ScriptedAws` to
//! `accept`, and `set_lifetime` makes them expire soon, so a test sees them
//! fetched again without waiting. Point the chain at it through the
//! variables it reads (`AWS_EC2_METADATA_SERVICE_ENDPOINT`,
//! `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_SSO`,
//! `AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_CONTAINER_CREDENTIALS_FULL_URI`) in a
//! child process's environment, not your test process's: tests run in
//! parallel.
