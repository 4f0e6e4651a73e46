//! Building the request the runner sends: [`RequestBuilder`].

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::programmatic;
use super::tool_search::{self, ToolSearch};
use crate::client::Request;
use crate::error::Error;
use crate::tool::{DEFAULT_CODE_EXECUTION, ToolDefinition};
use crate::toolset::Toolset;
use crate::types::{Body, MessageParam, MessageParams};

/// Builds the runner's requests: the one place where the conversation
/// becomes a [`Request`]. Keeps what is written once and reused: the
/// toolset's definitions, serialized for the code-execution version they
/// were written with.
pub(crate) struct RequestBuilder {
    /// The code-execution version `"code"` stands for, when set explicitly.
    configured_version: Option<String>,
    /// The version `"code"` stood for in the last request, for checking callers.
    version_in_use: String,
    wire_tools: Option<(String, Arc<[Box<RawValue>]>)>,
    /// The tool search to declare when some tool is deferred.
    tool_search: ToolSearch,
    /// Whether the code-execution tool the runner adds was logged: once
    /// per runner, not once per request.
    code_tool_logged: bool,
}

/// How much of the conversation a request sends, and under which thread.
pub(crate) struct Wire<'a> {
    /// The messages to send.
    pub(crate) messages: Messages<'a>,
    /// Whether to send `system` and `tools`.
    pub(crate) system_and_tools: bool,
    /// The `thread` field.
    pub(crate) thread: Option<&'a Value>,
    /// A beta the thread needs.
    pub(crate) beta: Option<&'a str>,
    /// A top-level `cache_control`, unless the parameters have one.
    pub(crate) cache_control: Option<&'a Value>,
    /// The `diagnostics` field, unless the parameters' extra fields have one.
    pub(crate) diagnostics: Option<&'a Value>,
}

/// The messages of a request.
pub(crate) enum Messages<'a> {
    /// As the history holds them.
    Params(&'a [MessageParam]),
    /// Changed for sending (without `cache_control`, say).
    Values(&'a [Value]),
    /// As the history holds them, but for the last, changed for sending
    /// (with a cache breakpoint).
    LastChanged(&'a [MessageParam], &'a Value),
}

/// Messages held but for the last, which is sent changed: serialized as
/// one array, so that the history is not copied to change one message.
struct LastChanged<'a>(&'a [MessageParam], &'a Value);

impl Serialize for LastChanged<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len() + 1))?;
        for message in self.0 {
            seq.serialize_element(message)?;
        }
        seq.serialize_element(self.1)?;
        seq.end()
    }
}

impl<'a> Wire<'a> {
    /// The whole conversation, without a thread.
    pub(crate) fn whole(params: &'a MessageParams) -> Self {
        Wire {
            messages: Messages::Params(&params.messages),
            system_and_tools: true,
            thread: None,
            beta: None,
            cache_control: None,
            diagnostics: None,
        }
    }
}

impl RequestBuilder {
    pub(crate) fn new() -> Self {
        RequestBuilder {
            configured_version: None,
            version_in_use: DEFAULT_CODE_EXECUTION.to_owned(),
            wire_tools: None,
            tool_search: ToolSearch::default(),
            code_tool_logged: false,
        }
    }

    /// Sets the tool search declared when some tool is deferred.
    pub(crate) fn set_tool_search(&mut self, search: ToolSearch) {
        self.tool_search = search;
    }

    /// Sets the code-execution version that `"code"` stands for.
    pub(crate) fn set_code_version(&mut self, version: String) {
        self.configured_version = Some(version);
    }

    /// The code-execution version `"code"` stood for in the last request.
    pub(crate) fn code_version(&self) -> &str {
        &self.version_in_use
    }

    /// The code-execution version set explicitly, if any.
    pub(crate) fn configured_code_version(&self) -> Option<String> {
        self.configured_version.clone()
    }

    /// The tool search declared when some tool is deferred.
    pub(crate) fn tool_search(&self) -> ToolSearch {
        self.tool_search
    }

    /// Takes back the settings and the version in use a run state kept;
    /// the serialized definitions are written again on the next request.
    pub(crate) fn restore(
        &mut self,
        configured: Option<String>,
        in_use: String,
        search: ToolSearch,
    ) {
        self.configured_version = configured;
        self.version_in_use = in_use;
        self.tool_search = search;
    }

    /// Checks and builds a request for `params`, sending what `wire` says.
    ///
    /// # Errors
    ///
    /// An invalid-request error for what the API would reject about
    /// programmatic calling; an encoding error.
    pub(crate) fn build(
        &mut self,
        params: &MessageParams,
        toolset: &Toolset,
        wire: Wire<'_>,
    ) -> Result<Request, Error> {
        let setup = programmatic::setup(params, toolset, self.configured_version.as_deref());
        programmatic::validate(params, toolset)?;
        if let Some(tool) = &setup.added_tool
            && !self.code_tool_logged
        {
            self.code_tool_logged = true;
            programmatic::log_added_tool(tool, toolset);
        }
        let tools = match &self.wire_tools {
            Some((version, tools)) if *version == setup.version => Arc::clone(tools),
            _ => {
                let tools = wire_tools(toolset, &setup.version);
                self.wire_tools = Some((setup.version.clone(), Arc::clone(&tools)));
                tools
            }
        };
        let mut buf = Vec::with_capacity(4096);
        let mut serializer = serde_json::Serializer::new(&mut buf);
        let added: Vec<Value> = setup
            .added_tool
            .into_iter()
            .chain(tool_search::search_tool(self.tool_search, params, toolset))
            .collect();
        let (added_tools, more_tools) = (added.as_slice(), &tools[..]);
        let (system_and_tools, thread) = (wire.system_and_tools, wire.thread);
        let (cache_control, diagnostics) = (wire.cache_control, wire.diagnostics);
        // Messages sent as they are held are a suffix of the history.
        let first_sent = match wire.messages {
            Messages::Params(sent) => params.messages.len() - sent.len(),
            Messages::Values(_) | Messages::LastChanged(..) => 0,
        };
        // One body for each kind of message list, alike but for it.
        macro_rules! body {
            ($messages:expr) => {
                Body {
                    params,
                    messages: $messages,
                    added_tools,
                    more_tools,
                    system_and_tools,
                    thread,
                    cache_control,
                    diagnostics,
                }
                .serialize(&mut serializer)
            };
        }
        match wire.messages {
            Messages::Params(messages) => body!(messages),
            Messages::Values(messages) => body!(messages),
            Messages::LastChanged(held, last) => body!(&LastChanged(held, last)),
        }
        .map_err(Error::encode)?;
        self.version_in_use = setup.version;
        let mut betas = params.betas.clone();
        for beta in setup.betas.iter().copied().chain(wire.beta) {
            if !betas.iter().any(|b| b == beta) {
                betas.push(beta.to_owned());
            }
        }
        // What the body declares, for the platform to refuse what it
        // lacks: the tools added here, the parameters' and the toolset's.
        let tool_types = if system_and_tools {
            let mut types = crate::client::tool_types(added.iter().chain(&params.tools));
            let defined = toolset
                .definitions()
                .filter_map(|def| def.tool_type.as_deref());
            types.extend(defined.filter(|kind| *kind != "custom").map(str::to_owned));
            types
        } else {
            Vec::new()
        };
        Ok(Request {
            model: params.model.clone(),
            max_tokens: params.max_tokens,
            body: Bytes::from(buf),
            betas,
            container: container_id(params),
            rejected: crate::client::rejected_fields(params, first_sent),
            tool_types,
        })
    }
}

/// The toolset's definitions as JSON, written once per runner rather than
/// once per request.
fn wire_tools(toolset: &Toolset, code_version: &str) -> Arc<[Box<RawValue>]> {
    toolset
        .definitions()
        .filter_map(|def| wire_tool(def, code_version))
        .collect()
}

fn wire_tool(def: &ToolDefinition, code_version: &str) -> Option<Box<RawValue>> {
    let wire = crate::tool::WireDefinition { def, code_version };
    match serde_json::value::to_raw_value(&wire) {
        Ok(raw) => Some(raw),
        Err(e) => {
            // Definitions are maps of strings and JSON values; this cannot happen.
            tracing::error!(tool = %def.name, error = %e, "tool definition could not be serialized");
            None
        }
    }
}

/// The id of the container the request names, if any.
pub(crate) fn container_id(params: &MessageParams) -> Option<String> {
    match &params.container {
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Object(object)) => object.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Turns the API's answer to a request whose container is gone (expired,
/// unknown, or missing while calls from code are pending) into the typed
/// container error; other errors pass unchanged.
pub(crate) fn classify_container_error(error: Error, container: Option<String>) -> Error {
    let client_error = error.status().is_some_and(|s| s.is_client_error());
    let message = error.api_message().unwrap_or_default().to_ascii_lowercase();
    let about_container = message.contains("container")
        && (message.contains("expired")
            || message.contains("not found")
            || message.contains("does not exist")
            || message.contains("container_id is required"));
    if error.is_api() && client_error && about_container {
        Error::container_expired(container, Some(error))
    } else {
        error
    }
}

/// Names `id` as the container of the next request. A container object the
/// user set keeps its other fields; anything else is replaced by the id.
pub(crate) fn carry_container(params: &mut MessageParams, id: &str) {
    match &mut params.container {
        Some(Value::Object(object)) => {
            object.insert("id".to_owned(), Value::String(id.to_owned()));
        }
        slot => *slot = Some(Value::String(id.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_object_keeps_its_fields() {
        let mut params = MessageParams::new("m", 1).container(serde_json::json!({"skills": [1]}));
        carry_container(&mut params, "container_1");
        assert_eq!(
            params.container,
            Some(serde_json::json!({"skills": [1], "id": "container_1"}))
        );
        let mut params = MessageParams::new("m", 1);
        carry_container(&mut params, "container_2");
        assert_eq!(params.container, Some(Value::String("container_2".into())));
    }
}
