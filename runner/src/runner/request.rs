//! Building the request the runner sends.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::Error;
use crate::tool::ToolDefinition;
use crate::toolset::Toolset;
use crate::types::MessageParams;

/// The toolset's definitions as JSON, written once per runner rather than
/// once per request.
pub(crate) fn wire_tools(toolset: &Toolset, code_version: &str) -> Arc<[Box<RawValue>]> {
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

/// The JSON body: the parameters with the `added` tools and then the
/// toolset's after the user's own.
pub(crate) fn body(
    params: &MessageParams,
    added: &[Value],
    tools: &[Box<RawValue>],
    stream: bool,
) -> Result<Bytes, Error> {
    let mut buf = Vec::with_capacity(4096);
    let mut serializer = serde_json::Serializer::new(&mut buf);
    params
        .serialize_body(&mut serializer, added, tools, stream)
        .map_err(Error::encode)?;
    Ok(Bytes::from(buf))
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
