//! Platforms: Claude through Amazon Bedrock, Google Cloud and Microsoft
//! Foundry, with the same client, and what each feature costs to build.
//!
//! Teams that reach Claude through their cloud use the same
//! [`Client`](crate::Client): a builder in [`platform`](crate::platform) makes
//! one for each platform, and the runner, streaming, hooks, code mode, durable
//! runs and MCP tools work on it unchanged. Each platform sits below the client
//! as one value that rewrites a request (URL, headers, body fields),
//! authenticates it and decodes its stream; the loop never branches on it.
//! Platforms are cargo features, off by default; each has a page of its own in
//! this guide, shown when its feature is on (docs.rs builds every feature).
//!
//! | Builder | Feature | Page |
//! |---|---|---|
//! | `platform::Bedrock`, `platform::BedrockMantle`, `platform::Aws` | `bedrock` (and `aws-config` for the whole AWS credential chain) | `bedrock` |
//! | `platform::Vertex`, `platform::GoogleCloud` | `vertex` | `google` |
//! | `platform::Foundry` | `foundry` | `foundry` |
//!
//! Each builder's `from_env()` reads the platform's own variables, as the
//! official SDKs do; setters override them, and `.client(...)` takes a
//! [`ClientBuilder`](crate::ClientBuilder) for the settings every client has
//! (timeout, retries, default headers, API version, HTTP client).
//!
//! What a platform does not offer (the Files API on Bedrock, batches on
//! Vertex, ...) is refused before sending
//! ([`Error::is_unsupported`](crate::Error::is_unsupported), naming the
//! platform and the feature), and runners do not use message threads where a
//! platform has none, without a failed request first.
//!
//! # Testing against a platform
//!
//! With `testing` and the platform's feature, the `testing` module plays each
//! platform on loopback for your own agents, answering with the same
//! `Script`s as the first-party scripted server:
//! `testing::ScriptedAws` (Bedrock, Mantle or the AWS API: it checks the path,
//! the moved body fields and the SigV4 signature or key as the platform would,
//! and streams Bedrock's binary frames), `testing::platform_google`
//! (`TokenEndpoint`, Google's OAuth token endpoint, which checks the service
//! account's JWT grant and issues tokens; `ScriptedVertex`;
//! `ScriptedGoogleCloud`) and `testing::platform_foundry` (`ScriptedFoundry`:
//! path, key or Entra token). The crate's own tests send the same
//! conversations with the official Python SDK's platform clients and compare
//! path, body and headers, and recompute every SigV4 signature with botocore.
//!
//! # What the platform features cost to build
//!
//! Crates as `cargo tree -p toolrunner -e normal` counts them, and the seconds
//! a debug `cargo build -p toolrunner --features <f>` took after the default
//! build, in one fresh target directory, on an idle 2-core machine (each row's
//! build came after the rows above it, so a crate two features share is
//! counted once, in the first).
//!
//! | Features | Crates | Seconds, idle 2 cores |
//! |---|---|---|
//! | default | 149 | 45 (clean) |
//! | `bedrock` | +29 (`aws-sigv4`, `aws-smithy-eventstream`, `aws-credential-types`, `aws-smithy-*`, `time`, `hmac`, `crc32fast`) | +13 |
//! | `vertex` | +31 (`google-cloud-auth`, `google-cloud-gax`, `-rpc`, `-wkt`, a second `reqwest` (0.13), `rustls-platform-verifier`, `jiff`, `serde_with`, `sha2` 0.11, ...) | +29 with the crate it replaced (`gcp_auth`, +13 crates); the new one took 83 s against that crate's 49 s in one run on a loaded machine, so expect about +50 s idle (not re-measured) |
//! | `foundry` | none | +7 (toolrunner itself, rebuilt) |
//! | `aws-config` | +24 more (`aws-config`, `aws-sdk-sso`, `aws-sdk-ssooidc`, `aws-sdk-sts`, `aws-smithy-http-client`, `rustls-native-certs`) | +30 |
//!
//! None of these crates is in the default build.
