//! Request parameters: [`MessageParams`] and the messages it carries.

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::content::{ContentBlock, TextBlock};
use super::options::{Effort, Metadata, ServiceTier, Speed, System, Thinking, ToolChoice};

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user, including tool results.
    User,
    /// The model.
    Assistant,
    /// The client, mid-conversation: a `system`-role message, such as the
    /// runner's tool changes (`tool_addition` / `tool_removal` blocks).
    System,
}

/// One message of the conversation sent to the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageParam {
    /// Who wrote it.
    pub role: Role,
    /// What it says.
    pub content: Content,
}

impl MessageParam {
    /// A user message with plain text.
    pub fn user(text: impl Into<String>) -> Self {
        MessageParam {
            role: Role::User,
            content: Content::Text(text.into()),
        }
    }

    /// An assistant message with plain text.
    pub fn assistant(text: impl Into<String>) -> Self {
        MessageParam {
            role: Role::Assistant,
            content: Content::Text(text.into()),
        }
    }

    /// A message with content blocks.
    pub fn blocks(role: Role, blocks: Vec<ContentBlock>) -> Self {
        MessageParam {
            role,
            content: Content::Blocks(blocks),
        }
    }

    /// The message's blocks; plain text reads as one text block.
    pub fn content_blocks(&self) -> std::borrow::Cow<'_, [ContentBlock]> {
        match &self.content {
            Content::Text(text) => {
                std::borrow::Cow::Owned(vec![ContentBlock::Text(TextBlock::new(text.clone()))])
            }
            Content::Blocks(blocks) => std::borrow::Cow::Borrowed(blocks),
        }
    }
}

impl From<super::Message> for MessageParam {
    /// The assistant turn to send back: the response's content, block for block.
    fn from(message: super::Message) -> Self {
        MessageParam::blocks(message.role, message.content)
    }
}

/// The content of a message: a string, or content blocks.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Content blocks.
    Blocks(Vec<ContentBlock>),
}

// Not `#[serde(untagged)]`: that buffers the input, and content blocks cannot
// be read from the buffer.
impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let json = raw.get();
        if json.starts_with('"') {
            serde_json::from_str(json).map(Content::Text)
        } else {
            serde_json::from_str(json).map(Content::Blocks)
        }
        .map_err(|e| de::Error::custom(format_args!("message content: {e}")))
    }
}

/// The body of a Messages API request, built up with chained setters.
///
/// ```
/// use toolrunner::MessageParams;
///
/// let params = MessageParams::new(toolrunner::models::CURRENT, 1024)
///     .system("You are terse.")
///     .user("What's 2 + 2?");
/// assert_eq!(params.messages.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MessageParams {
    /// The model, e.g. [`models::CURRENT`](crate::models::CURRENT).
    pub model: String,
    /// The most tokens the model may write in one response.
    pub max_tokens: u32,
    /// The conversation so far.
    pub messages: Vec<MessageParam>,
    /// The system prompt: a string or text blocks.
    pub system: Option<System>,
    /// Tools declared as raw JSON, such as server tools
    /// (`{"type": "code_execution_20260120", "name": "code_execution"}`).
    /// A runner's toolset adds its own definitions after these.
    pub tools: Vec<Value>,
    /// How the model may use tools.
    pub tool_choice: Option<ToolChoice>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// Top-k sampling.
    pub top_k: Option<u32>,
    /// Custom stop sequences.
    pub stop_sequences: Vec<String>,
    /// Request metadata, such as the end user's opaque id.
    pub metadata: Option<Metadata>,
    /// The model's thinking: enabled with a budget, adaptive, or disabled.
    pub thinking: Option<Thinking>,
    /// Which capacity serves the request.
    pub service_tier: Option<ServiceTier>,
    /// The inference speed.
    pub speed: Option<Speed>,
    /// The geographic region for inference, e.g. `"us"`.
    pub inference_geo: Option<String>,
    /// A prompt-caching breakpoint put on the last cacheable block, e.g.
    /// `{"type": "ephemeral"}`.
    pub cache_control: Option<Value>,
    /// The code-execution container: its id as a string, or an object.
    /// A runner sets the id the API returns, merged into an object you set.
    pub container: Option<Value>,
    /// Server-side context management, passed through as given.
    pub context_management: Option<Value>,
    /// Beta features, sent in the `anthropic-beta` header, not the body.
    pub betas: Vec<String>,
    /// Further body fields, sent as given.
    pub extra: Map<String, Value>,
}

impl MessageParams {
    /// Parameters for `model` with a budget of `max_tokens` output tokens and no messages yet.
    pub fn new(model: impl Into<String>, max_tokens: u32) -> Self {
        MessageParams {
            model: model.into(),
            max_tokens,
            messages: Vec::new(),
            system: None,
            tools: Vec::new(),
            tool_choice: None,
            temperature: None,
            top_p: None,
            top_k: None,
            stop_sequences: Vec::new(),
            metadata: None,
            thinking: None,
            service_tier: None,
            speed: None,
            inference_geo: None,
            cache_control: None,
            container: None,
            context_management: None,
            betas: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Appends a user message with plain text.
    #[must_use]
    pub fn user(mut self, text: impl Into<String>) -> Self {
        self.messages.push(MessageParam::user(text));
        self
    }

    /// Appends an assistant message with plain text.
    #[must_use]
    pub fn assistant(mut self, text: impl Into<String>) -> Self {
        self.messages.push(MessageParam::assistant(text));
        self
    }

    /// Appends a message.
    #[must_use]
    pub fn message(mut self, message: MessageParam) -> Self {
        self.messages.push(message);
        self
    }

    /// Sets the system prompt: a string, or text blocks
    /// (`Vec<TextBlock>`), which may carry `cache_control`.
    #[must_use]
    pub fn system(mut self, system: impl Into<System>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// Declares a tool as raw JSON, such as a server tool.
    #[must_use]
    pub fn tool(mut self, tool: Value) -> Self {
        self.tools.push(tool);
        self
    }

    /// Sets `tool_choice`, such as [`ToolChoice::any()`]. Raw JSON is
    /// accepted too: a shape this crate does not know is sent as given.
    #[must_use]
    pub fn tool_choice(mut self, choice: impl Into<ToolChoice>) -> Self {
        self.tool_choice = Some(choice.into());
        self
    }

    /// Sets `thinking`, such as [`Thinking::enabled(2048)`](Thinking::enabled)
    /// or [`Thinking::adaptive()`]. Raw JSON is accepted too.
    #[must_use]
    pub fn thinking(mut self, thinking: impl Into<Thinking>) -> Self {
        self.thinking = Some(thinking.into());
        self
    }

    /// Sets the custom stop sequences, replacing any set before.
    #[must_use]
    pub fn stop_sequences(
        mut self,
        sequences: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.stop_sequences = sequences.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `metadata`, such as [`Metadata::user_id`].
    #[must_use]
    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Sets `service_tier`.
    #[must_use]
    pub fn service_tier(mut self, tier: ServiceTier) -> Self {
        self.service_tier = Some(tier);
        self
    }

    /// Sets `speed`.
    #[must_use]
    pub fn speed(mut self, speed: Speed) -> Self {
        self.speed = Some(speed);
        self
    }

    /// Sets `inference_geo`, the region where inference runs.
    #[must_use]
    pub fn inference_geo(mut self, geo: impl Into<String>) -> Self {
        self.inference_geo = Some(geo.into());
        self
    }

    /// Sets the top-level `cache_control`, e.g. `{"type": "ephemeral"}`.
    #[must_use]
    pub fn cache_control(mut self, cache_control: Value) -> Self {
        self.cache_control = Some(cache_control);
        self
    }

    /// Sets `output_config.effort`, keeping the rest of `output_config`
    /// (such as a structured-output `format`).
    #[must_use]
    pub fn effort(mut self, effort: Effort) -> Self {
        let config = self
            .extra
            .entry("output_config")
            .or_insert_with(|| Value::Object(Map::new()));
        if !config.is_object() {
            *config = Value::Object(Map::new());
        }
        if let Value::Object(config) = config {
            config.insert("effort".into(), Value::String(effort.as_str().to_owned()));
        }
        self
    }

    /// Sets `diagnostics`, e.g. `{"previous_message_id": "msg_..."}` to
    /// learn why the prompt cache missed.
    #[must_use]
    pub fn diagnostics(mut self, diagnostics: Value) -> Self {
        self.extra.insert("diagnostics".into(), diagnostics);
        self
    }

    /// Sets the sampling temperature.
    ///
    /// API version `2026-10-21`, the client's default, rejects it: the
    /// client refuses such a request before sending unless it is pinned
    /// with `ClientBuilder::anthropic_version("2023-06-01")`.
    #[must_use]
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets nucleus sampling's `top_p`. Only for API version `2023-06-01`,
    /// as [`temperature`](Self::temperature).
    #[must_use]
    pub fn top_p(mut self, top_p: f64) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// Sets `top_k` sampling. Only for API version `2023-06-01`, as
    /// [`temperature`](Self::temperature).
    #[must_use]
    pub fn top_k(mut self, top_k: u32) -> Self {
        self.top_k = Some(top_k);
        self
    }

    /// Enables a beta feature (`anthropic-beta` header). Repeats are sent once.
    #[must_use]
    pub fn beta(mut self, beta: impl Into<String>) -> Self {
        let beta = beta.into();
        if !self.betas.contains(&beta) {
            self.betas.push(beta);
        }
        self
    }

    /// Sets the container: its id as a string, or an object such as
    /// `{"id": "...", "skills": [...]}`.
    #[must_use]
    pub fn container(mut self, container: Value) -> Self {
        self.container = Some(container);
        self
    }

    /// Sets `context_management`, for server-side compaction and clearing.
    #[must_use]
    pub fn context_management(mut self, value: Value) -> Self {
        self.context_management = Some(value);
        self
    }

    /// Sets any other body field.
    #[must_use]
    pub fn extra(mut self, key: impl Into<String>, value: Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }
}

/// A request body: the parameters' fields, with the messages, tools and
/// thread a request sends in place of the parameters' own where set.
pub(crate) struct Body<'a, M: Serialize + ?Sized = [MessageParam]> {
    /// The parameters.
    pub(crate) params: &'a MessageParams,
    /// The messages to send: all of them, or those a thread lacks.
    pub(crate) messages: &'a M,
    /// Tools to send after the parameters' own.
    pub(crate) added_tools: &'a [Value],
    /// Tools already serialized, sent after `added_tools`.
    pub(crate) more_tools: &'a [Box<RawValue>],
    /// Whether to send `system` and `tools`; a thread that is continued
    /// has them already, and rejects them.
    pub(crate) system_and_tools: bool,
    /// The `thread` field, if any.
    pub(crate) thread: Option<&'a Value>,
    /// A top-level `cache_control` sent when the parameters have none.
    pub(crate) cache_control: Option<&'a Value>,
    /// A `diagnostics` field sent when the extra fields have none.
    pub(crate) diagnostics: Option<&'a Value>,
}

impl<'a> Body<'a> {
    /// The body of `params` as they are.
    pub(crate) fn of(params: &'a MessageParams) -> Self {
        Body {
            params,
            messages: params.messages.as_slice(),
            added_tools: &[],
            more_tools: &[],
            system_and_tools: true,
            thread: None,
            cache_control: None,
            diagnostics: None,
        }
    }
}

impl<M: Serialize + ?Sized> Serialize for Body<'_, M> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Tools<'a>(&'a [Value], &'a [Value], &'a [Box<RawValue>]);
        impl Serialize for Tools<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                let len = self.0.len() + self.1.len() + self.2.len();
                let mut seq = serializer.serialize_seq(Some(len))?;
                for tool in self.0.iter().chain(self.1) {
                    seq.serialize_element(tool)?;
                }
                for tool in self.2 {
                    seq.serialize_element(tool)?;
                }
                seq.end()
            }
        }

        let params = self.params;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("model", &params.model)?;
        map.serialize_entry("max_tokens", &params.max_tokens)?;
        map.serialize_entry("messages", self.messages)?;
        if self.system_and_tools {
            if let Some(system) = &params.system {
                map.serialize_entry("system", system)?;
            }
            let (added, more) = (self.added_tools, self.more_tools);
            if !params.tools.is_empty() || !added.is_empty() || !more.is_empty() {
                map.serialize_entry("tools", &Tools(&params.tools, added, more))?;
            }
        }
        if let Some(v) = &params.tool_choice {
            map.serialize_entry("tool_choice", v)?;
        }
        if let Some(v) = &params.temperature {
            map.serialize_entry("temperature", v)?;
        }
        if let Some(v) = &params.top_p {
            map.serialize_entry("top_p", v)?;
        }
        if let Some(v) = &params.top_k {
            map.serialize_entry("top_k", v)?;
        }
        if !params.stop_sequences.is_empty() {
            map.serialize_entry("stop_sequences", &params.stop_sequences)?;
        }
        if let Some(v) = &params.metadata {
            map.serialize_entry("metadata", v)?;
        }
        if let Some(v) = &params.thinking {
            map.serialize_entry("thinking", v)?;
        }
        if let Some(v) = &params.service_tier {
            map.serialize_entry("service_tier", v)?;
        }
        if let Some(v) = &params.speed {
            map.serialize_entry("speed", v)?;
        }
        if let Some(v) = &params.inference_geo {
            map.serialize_entry("inference_geo", v)?;
        }
        if let Some(v) = params.cache_control.as_ref().or(self.cache_control) {
            map.serialize_entry("cache_control", v)?;
        }
        if let Some(v) = &params.container {
            map.serialize_entry("container", v)?;
        }
        if let Some(v) = &params.context_management {
            map.serialize_entry("context_management", v)?;
        }
        for (key, value) in &params.extra {
            map.serialize_entry(key, value)?;
        }
        if let Some(thread) = self.thread {
            map.serialize_entry("thread", thread)?;
        }
        if let Some(v) = self.diagnostics
            && !params.extra.contains_key("diagnostics")
        {
            map.serialize_entry("diagnostics", v)?;
        }
        map.end()
    }
}

impl Serialize for MessageParams {
    /// The request body, as sent (without the `anthropic-beta` header's betas).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Body::of(self).serialize(serializer)
    }
}
