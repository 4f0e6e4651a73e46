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
//! # What each platform refuses
//!
//! A Messages or token-counting request carrying a tool or beta that a
//! public source says the platform lacks is refused before anything is sent,
//! the error naming the platform, the feature and the tool type or beta:
//!
//! | Platform | Refused | Sources |
//! |---|---|---|
//! | Amazon Bedrock (`Bedrock`) | the code-execution tool (`code_execution_*`: programmatic tool calling), the web search tool (`web_search_*`), the `code-execution-*` betas | AWS's [Anthropic tool types on Bedrock](https://docs.aws.amazon.com/bedrock/latest/userguide/tool-use.html) (`computer_*`, `bash_*`, `text_editor_*`, `memory_*` only), [Implementing programmatic tool calling on Amazon Bedrock](https://aws.amazon.com/blogs/machine-learning/implementing-programmatic-tool-calling-on-amazon-bedrock/) (a sandbox of one's own, not the API's tool), AWS's [code execution migration sample](https://aws-samples.github.io/sample-ai-possibilities/snippets/migration-from-code-execution-tool-to-agentcore-code-interpreter), [web search on Bedrock](https://clauder-navi.com/articles/bedrock-claude-web/) |
//! | Vertex AI (`Vertex`) | the code-execution tool (`code_execution_*`), the web fetch tool (`web_fetch_*`), the `code-execution-*` betas | the Vercel AI SDK's [Vertex provider for Claude](https://ai-sdk.dev/providers/ai-sdk-providers/google-vertex) ("Code Execution, Memory, and Web Fetch are not available"), [LiteLLM on programmatic tool calling](https://litellm-5iwo609fs-clerkieai.vercel.app/docs/providers/anthropic_programmatic_tool_calling) (Vertex AI: not supported) |
//! | Bedrock Mantle, the AWS API, Claude on Google Cloud, Microsoft Foundry | nothing | no source says any is missing: all are passed through, and a platform's own 4xx comes back as the usual API error |
//!
//! A toolset with tools callable from `"code"` makes the runner add the
//! code-execution tool, so such a run on Bedrock or Vertex AI fails before
//! its first request. Code mode ([`code_mode`](crate::code_mode)) runs the
//! programs on the client and needs nothing from the platform: it works on
//! every one. When a platform adds a feature before this crate knows, the
//! builder's `assume_offered("code_execution_20260120")` (the tool type or
//! beta, exactly as the error names it) sends it anyway.
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
