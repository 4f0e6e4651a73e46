//! Building the request the runner sends.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::Value;

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

/// The JSON body: the parameters with the toolset's tools after the user's own.
pub(crate) fn body(params: &MessageParams, tools: &[Box<RawValue>]) -> Result<Bytes, Error> {
    let mut buf = Vec::with_capacity(4096);
    let mut serializer = serde_json::Serializer::new(&mut buf);
    params
        .serialize_body(&mut serializer, tools, false)
        .map_err(Error::encode)?;
    Ok(Bytes::from(buf))
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
