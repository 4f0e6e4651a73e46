//! [`Bedrock`]: Claude on Amazon Bedrock's runtime API.
//!
//! The model goes in the path (`/model/{model}/invoke`, or
//! `/invoke-with-response-stream` for a streamed reply), the API version
//! and the betas in the body (`anthropic_version`, `anthropic_beta`), and
//! streamed replies come in AWS event-stream frames. Requests are signed
//! with SigV4 for service `bedrock`, or carry a Bedrock API key.

use std::fmt;
use std::sync::Arc;

use crate::platform::USER_PROFILE_ID;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Url;
use serde_json::{Map, Value};

use super::aws::{self, Auth, Settings};
use super::{
    CODE_EXECUTION_BETA, CODE_EXECUTION_TOOL, Endpoint, Feature, Framing, Lacking, MessagesCall,
    Platform, PlatformRequest, Refusals, Refused, Unoffered, unsupported_endpoint,
};
use crate::client::{Client, ShownUrl};
use crate::error::Error;

const NAME: &str = "Amazon Bedrock";
const SERVICE: &str = "bedrock";
const BASE_URL_VAR: &str = "ANTHROPIC_BEDROCK_BASE_URL";
const API_KEY_VAR: &str = "AWS_BEARER_TOKEN_BEDROCK";

/// The tools and betas the runtime API lacks, refused before sending;
/// each entry names the public sources that say so.
static UNOFFERED: Unoffered = Unoffered {
    tools: &[
        // AWS's user guide lists the Anthropic-defined tool types Bedrock
        // takes as `computer_*`, `bash_*`, `text_editor_*` and `memory_*`,
        // all run by the caller
        // (https://docs.aws.amazon.com/bedrock/latest/userguide/tool-use.html);
        // AWS builds programmatic tool calling on Bedrock from a sandbox of
        // one's own, AgentCore Code Interpreter or a proxy, not the API's
        // tool (https://aws.amazon.com/blogs/machine-learning/implementing-programmatic-tool-calling-on-amazon-bedrock/,
        // May 2026, also at https://aihub.hkuspace.hku.hk/2026/05/19/implementing-programmatic-tool-calling-on-amazon-bedrock/),
        // and AWS's samples migrate "from the Anthropic API Code Execution
        // tool" to AgentCore (https://aws-samples.github.io/sample-ai-possibilities/snippets/migration-from-code-execution-tool-to-agentcore-code-interpreter).
        CODE_EXECUTION_TOOL,
        // Not in that list either, and "Claude on Amazon Bedrock does not
        // implement the server-side web search tools web_search_20260209 /
        // web_search_20250305" (https://clauder-navi.com/articles/bedrock-claude-web/, May 2026).
        Lacking {
            prefix: "web_search_",
            feature: "the web search tool",
            instead: None,
        },
    ],
    betas: &[CODE_EXECUTION_BETA],
};

/// What the official SDKs leave unencoded in the model's path segment:
/// letters, digits, `-._~`, and `:` and `;`, found in model ids and ARNs.
const MODEL_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b';');

/// Builds a [`Client`] for Amazon Bedrock.
///
/// Credentials, in the official SDK's order: an API key ([`api_key`](Self::api_key),
/// or `AWS_BEARER_TOKEN_BEDROCK`), sent as a bearer token; else SigV4 with
/// explicit keys ([`credentials`](Self::credentials)), a provider
/// ([`credentials_provider`](Self::credentials_provider)), a profile, or the
/// environment's `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
/// `AWS_SESSION_TOKEN` (with feature `aws-config`: the whole AWS chain).
/// An API key and AWS credentials together are an error, as in the SDK.
///
/// Bedrock offers Messages only: the Files, Batches, token-counting and
/// Models APIs are refused before sending ([`Error::is_unsupported`]), and
/// runners never use message threads. So are requests with the
/// code-execution tool (`code_execution_*`, which programmatic tool calling
/// adds for tools callable from `"code"`; code mode runs everywhere) or the
/// web search tool (`web_search_*`), and the `code-execution-*` betas:
/// see [`assume_offered`](Self::assume_offered) for when Bedrock adds them.
///
/// # Examples
///
/// ```no_run
/// use toolrunner::platform::Bedrock;
/// use toolrunner::MessageParams;
///
/// # async fn run() -> Result<(), toolrunner::Error> {
/// let client = Bedrock::from_env().region("us-east-1").build()?;
/// let params = MessageParams::new("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 1024)
///     .user("Hello, Claude");
/// println!("{}", client.create_message(&params).await?.text());
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct Bedrock {
    settings: Settings,
    /// Tool types and betas sent although Bedrock is known to lack them.
    assumed_offered: Vec<String>,
}

impl Default for Bedrock {
    fn default() -> Self {
        Bedrock::new()
    }
}

impl Bedrock {
    /// A builder that reads nothing from the environment.
    pub fn new() -> Self {
        Bedrock {
            settings: Settings::new(),
            assumed_offered: Vec::new(),
        }
    }

    /// A builder configured from the environment as the official SDK's
    /// `AnthropicBedrock` is: `AWS_REGION` (else `AWS_DEFAULT_REGION`),
    /// `ANTHROPIC_BEDROCK_BASE_URL`, `AWS_BEARER_TOKEN_BEDROCK`, the AWS
    /// credential variables (read when a request is signed), and
    /// `ANTHROPIC_CUSTOM_HEADERS`. Setters override what it read. With
    /// feature `aws-config` and no region set, the region comes from the
    /// AWS profile (`AWS_PROFILE`, else `default`, in `~/.aws/config` or
    /// `AWS_CONFIG_FILE`), as the official SDK asks boto3 for one; a
    /// profile named with `profile` is asked from any builder.
    pub fn from_env() -> Self {
        let mut builder = Bedrock::from_env_with(aws::process_env());
        builder.settings.profile_region = true;
        builder
    }

    pub(crate) fn from_env_with(env: aws::Env) -> Self {
        let mut settings = Settings::from_env(env);
        settings.base_url = settings.env_var(&[BASE_URL_VAR]);
        settings.api_key = settings.env_var(&[API_KEY_VAR]);
        Bedrock {
            settings,
            assumed_offered: Vec::new(),
        }
    }

    aws::aws_setters!();

    /// Sends the tool type or beta `name` (exactly as written, such as
    /// `code_execution_20260120`) although Bedrock was not known to offer
    /// it, for when Bedrock adds it before this crate knows: the request
    /// then goes out, and a refusal is Bedrock's own error.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run() -> Result<(), toolrunner::Error> {
    /// use toolrunner::platform::Bedrock;
    ///
    /// let client = Bedrock::from_env()
    ///     .region("us-east-1")
    ///     .assume_offered("code_execution_20260120")
    ///     .build()?;
    /// # drop(client);
    /// # Ok(())
    /// # }
    /// ```
    pub fn assume_offered(mut self, name: impl Into<String>) -> Self {
        self.assumed_offered.push(name.into());
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// A configuration error ([`Error::is_config`]) with no region (naming
    /// `AWS_REGION`), with neither an API key nor AWS credentials, with an
    /// API key and AWS credentials both given, or an invalid base URL.
    pub fn build(self) -> Result<Client, Error> {
        let settings = self.settings;
        let region = settings.region_or_profile(NAME, "Bedrock::region")?;
        let base = match &settings.base_url {
            Some(url) => url.clone(),
            None => format!("https://bedrock-runtime.{region}.amazonaws.com"),
        };
        let base_url = parse_base_url(&base)?;
        let auth = match &settings.api_key {
            Some(_) if settings.has_explicit_credentials() => {
                return Err(Error::config(
                    "both a Bedrock API key and AWS credentials are set: use one of them",
                ));
            }
            Some(key) => Auth::bearer(key, NAME)?,
            None => Auth::SigV4(settings.signer(SERVICE, region, NAME, API_KEY_VAR)?),
        };
        let refusals = Refusals::new(&UNOFFERED, self.assumed_offered, "Bedrock");
        let platform = BedrockPlatform {
            base_url,
            auth,
            refusals,
        };
        settings.client.build_on(Arc::new(platform))
    }
}

impl fmt::Debug for Bedrock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bedrock")
            .field("settings", &self.settings)
            .field("assumed_offered", &self.assumed_offered)
            .finish()
    }
}

/// A base URL that is `http` or `https` and can take a path.
pub(crate) fn parse_base_url(url: &str) -> Result<Url, Error> {
    match Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && !parsed.cannot_be_a_base() => {
            Ok(parsed)
        }
        Ok(_) => Err(Error::config(format!(
            "invalid base URL {url:?}: not an http or https URL"
        ))),
        Err(e) => Err(Error::config_with(format!("invalid base URL {url:?}"), e)),
    }
}

/// Amazon Bedrock's runtime API at `base_url`.
struct BedrockPlatform {
    base_url: Url,
    auth: Auth,
    refusals: Refusals,
}

impl fmt::Debug for BedrockPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BedrockPlatform")
            .field("base_url", &ShownUrl(self.base_url.as_str()))
            .field("auth", &self.auth)
            .field("refusals", &self.refusals)
            .finish()
    }
}

impl BedrockPlatform {
    /// `{base}/model/{model}/invoke[-with-response-stream]`, the model
    /// encoded as the SDKs encode it.
    fn invoke_url(&self, model: &str, stream: bool) -> Result<Url, Error> {
        // A server that drops `;params` from a segment routes on what
        // precedes the first `;`: that must be a model, not a path step.
        let routed = model.split(';').next().unwrap_or_default();
        if routed.is_empty() {
            return Err(Error::invalid_request(format!(
                "the model {model:?} cannot name a Bedrock model: it is empty"
            )));
        }
        if routed == "." || routed == ".." {
            return Err(Error::invalid_request(format!(
                "the model {model:?} would be a dot-segment in the Bedrock path"
            )));
        }
        let action = if stream {
            "invoke-with-response-stream"
        } else {
            "invoke"
        };
        let encoded = utf8_percent_encode(model, MODEL_SEGMENT);
        let mut url = self.base_url.clone();
        let path = format!(
            "{}/model/{encoded}/{action}",
            url.path().trim_end_matches('/')
        );
        url.set_path(&path);
        Ok(url)
    }
}

impl Platform for BedrockPlatform {
    fn name(&self) -> &'static str {
        NAME
    }

    fn messages(&self, call: &MessagesCall<'_>) -> Result<PlatformRequest, Error> {
        let mut headers = call.headers.clone();
        // The runtime API takes the version from the body.
        headers.remove("anthropic-version");
        let mut body: Map<String, Value> =
            serde_json::from_slice(call.body).map_err(Error::encode)?;
        body.shift_remove("model");
        body.shift_remove("stream");
        body.entry("anthropic_version")
            .or_insert_with(|| call.anthropic_version.into());
        if !call.betas.is_empty() {
            body.entry("anthropic_beta")
                .or_insert_with(|| call.betas.iter().map(|b| Value::from(b.as_str())).collect());
        }
        // Bedrock reads the user profile from the body, not a header.
        if let Some(profile) = headers.remove(USER_PROFILE_ID)
            && let Ok(profile) = profile.to_str()
        {
            body.entry("user_profile_id")
                .or_insert_with(|| profile.into());
        }
        let body = serde_json::to_vec(&body).map_err(Error::encode)?;
        Ok(PlatformRequest {
            url: self.invoke_url(call.model, call.stream)?,
            body: Bytes::from(body),
            headers,
        })
    }

    fn endpoint(&self, endpoint: Endpoint<'_>) -> Result<Url, Error> {
        Err(unsupported_endpoint(self, endpoint))
    }

    fn authorize<'a>(
        &'a self,
        _http: &'a reqwest::Client,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.auth.authorize(request)
    }

    fn reauthorize<'a>(&'a self, refused: &'a Refused<'a>) -> BoxFuture<'a, bool> {
        self.auth.reauthorize(refused)
    }

    fn framing(&self) -> Framing {
        Framing::AwsEventStream
    }

    fn offers(&self, feature: Feature) -> bool {
        match feature {
            Feature::MessageThreads
            | Feature::AutomaticCaching
            | Feature::CacheDiagnostics
            | Feature::Files
            | Feature::Batches
            | Feature::CountTokens
            | Feature::Models => false,
        }
    }

    fn refusals(&self) -> Option<&Refusals> {
        Some(&self.refusals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    /// Set in the child process [`the_region_comes_from_the_aws_profile`]
    /// starts, whose environment points at a config file of its own.
    #[cfg(feature = "aws-config")]
    const PROFILE_CHILD: &str = "TOOLRUNNER_TEST_PROFILE_REGION_CHILD";

    /// As the Python SDK asks boto3: with no region set, `from_env` takes
    /// the default profile's, and a named profile gives its own. The
    /// config file is set through the environment, so the checks run in a
    /// child process with its own, not disturbing parallel tests.
    #[cfg(feature = "aws-config")]
    #[test]
    fn the_region_comes_from_the_aws_profile() {
        if std::env::var_os(PROFILE_CHILD).is_some() {
            let shown = |builder: Bedrock| format!("{:?}", builder.build().unwrap());
            let from_default = shown(Bedrock::from_env().api_key("k"));
            assert!(
                from_default.contains("bedrock-runtime.eu-west-3.amazonaws.com"),
                "{from_default}"
            );
            let from_named = shown(Bedrock::new().profile("other"));
            assert!(
                from_named.contains("bedrock-runtime.ap-south-1.amazonaws.com"),
                "{from_named}"
            );
            let given = shown(Bedrock::from_env().region("us-west-2").api_key("k"));
            assert!(given.contains("bedrock-runtime.us-west-2"), "{given}");
            // `new` reads nothing: no profile, no region.
            let error = Bedrock::new().api_key("k").build().unwrap_err();
            assert!(error.to_string().contains("AWS_REGION"), "{error}");
            return;
        }
        let dir =
            std::env::temp_dir().join(format!("toolrunner-profile-region-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config");
        std::fs::write(
            &config,
            "[default]\nregion = eu-west-3\n\n[profile other]\nregion = ap-south-1\n",
        )
        .unwrap();
        let name = "platform::bedrock::tests::the_region_comes_from_the_aws_profile";
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--test-threads=1"])
            .env(PROFILE_CHILD, "1")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"))
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_BEARER_TOKEN_BEDROCK")
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        // The child ran the checks, not an empty selection.
        assert!(stdout.contains("1 passed"), "{stdout}");
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> aws::Env {
        Arc::new(move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn platform() -> BedrockPlatform {
        BedrockPlatform {
            base_url: Url::parse("https://bedrock-runtime.us-east-1.amazonaws.com").unwrap(),
            auth: Auth::bearer("k", NAME).unwrap(),
            refusals: Refusals::new(&UNOFFERED, Vec::new(), "Bedrock"),
        }
    }

    #[test]
    fn the_model_is_encoded_as_the_sdk_does() {
        let platform = platform();
        let url = platform
            .invoke_url(
                "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude v1:0;x",
                true,
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/arn:aws:bedrock:us-east-1:1:inference-profile%2Fus.anthropic.claude%20v1:0;x/invoke-with-response-stream"
        );
        for bad in ["", ".", "..", "..;x", ";x"] {
            let e = platform.invoke_url(bad, false).unwrap_err();
            assert!(e.is_invalid_request(), "{bad:?}: {e}");
        }
        assert!(platform.invoke_url("...", false).is_ok());
    }

    #[test]
    fn the_body_takes_version_and_betas_and_loses_model_and_stream() {
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-version", "2026-10-21".parse().unwrap());
        headers.insert("anthropic-beta", "a,b".parse().unwrap());
        headers.insert("anthropic-user-profile-id", "up_1".parse().unwrap());
        let body = Bytes::from_static(br#"{"model":"m","max_tokens":5,"stream":true}"#);
        let call = MessagesCall {
            model: "m",
            body: &body,
            stream: true,
            betas: &["a".into(), "b".into()],
            tool_types: &[],
            anthropic_version: "2026-10-21",
            headers: &headers,
        };
        let sent = platform().messages(&call).unwrap();
        let body: Value = serde_json::from_slice(&sent.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "max_tokens": 5,
                "anthropic_version": "2026-10-21",
                "anthropic_beta": ["a", "b"],
                "user_profile_id": "up_1",
            })
        );
        assert!(sent.headers.get("anthropic-version").is_none());
        assert!(sent.headers.get("anthropic-user-profile-id").is_none());
        assert_eq!(sent.headers["anthropic-beta"], "a,b");
        assert!(
            sent.url
                .path()
                .ends_with("/model/m/invoke-with-response-stream")
        );
    }

    #[test]
    fn from_env_reads_the_sdk_variables() {
        let builder = Bedrock::from_env_with(env(&[
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("ANTHROPIC_BEDROCK_BASE_URL", "http://127.0.0.1:9/br"),
            ("AWS_BEARER_TOKEN_BEDROCK", "brk-secret"),
        ]));
        assert_eq!(builder.settings.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            builder.settings.base_url.as_deref(),
            Some("http://127.0.0.1:9/br")
        );
        let shown = format!("{builder:?}");
        assert!(!shown.contains("brk-secret"), "{shown}");
        let client = builder.build().unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("brk-secret"), "{shown}");
        assert!(
            shown.contains("Bearer") || shown.contains("ApiKey"),
            "{shown}"
        );
    }

    #[test]
    fn a_missing_region_names_the_variable() {
        let e = Bedrock::from_env_with(env(&[("AWS_BEARER_TOKEN_BEDROCK", "k")]))
            .build()
            .unwrap_err();
        assert!(e.is_config());
        assert_eq!(
            e.to_string(),
            "no AWS region for Amazon Bedrock: set AWS_REGION (or AWS_DEFAULT_REGION), or call Bedrock::region"
        );
    }

    #[test]
    fn a_key_and_credentials_together_are_refused() {
        let e = Bedrock::from_env_with(env(&[("AWS_BEARER_TOKEN_BEDROCK", "k")]))
            .region("us-east-1")
            .credentials("AKID", "secret", None)
            .build()
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("both a Bedrock API key and AWS credentials"),
            "{e}"
        );
    }

    #[cfg(not(feature = "aws-config"))]
    #[test]
    fn a_profile_needs_the_aws_config_feature() {
        let e = Bedrock::new()
            .region("us-east-1")
            .profile("dev")
            .build()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"AWS profile "dev" needs the `aws-config` feature of toolrunner"#
        );
    }

    #[cfg(feature = "aws-config")]
    #[test]
    fn the_aws_chain_is_used_when_nothing_is_given() {
        // Nothing is looked up until a request is signed.
        let client = Bedrock::from_env_with(env(&[("AWS_REGION", "us-east-1")]))
            .profile("dev")
            .build()
            .unwrap();
        assert!(format!("{client:?}").contains("SigV4"));
    }

    #[cfg(not(feature = "aws-config"))]
    #[test]
    fn no_credentials_names_the_variables() {
        let e = Bedrock::from_env_with(env(&[("AWS_REGION", "us-east-1")]))
            .build()
            .unwrap_err();
        let text = e.to_string();
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_BEARER_TOKEN_BEDROCK",
        ] {
            assert!(text.contains(var), "{text}");
        }
    }
}
