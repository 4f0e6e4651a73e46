//! Scopes a tool needs: which tools a request calls, and which of their
//! scopes the caller lacks.

use std::collections::HashMap;

use serde_json::Value;

use crate::AuthInfo;

/// The scopes each tool needs, by tool name; a caller must have all of a
/// tool's scopes to call it.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequiredScopes {
    by_tool: HashMap<String, Vec<String>>,
}

/// A call refused for want of scopes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MissingScopes {
    pub(crate) tool: String,
    /// Every scope the tool needs, space-separated, for the challenge.
    pub(crate) needed: String,
    /// Those the caller lacks, for the message.
    pub(crate) missing: Vec<String>,
}

impl MissingScopes {
    pub(crate) fn message(&self) -> String {
        let missing: Vec<String> = self.missing.iter().map(|s| format!("`{s}`")).collect();
        format!(
            "tool `{}` needs scope {}, which the token does not grant",
            self.tool,
            missing.join(", ")
        )
    }
}

impl RequiredScopes {
    pub(crate) fn add(&mut self, tool: String, scope: String) {
        let scopes = self.by_tool.entry(tool).or_default();
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_tool.is_empty()
    }

    pub(crate) fn tools(&self) -> impl Iterator<Item = &str> {
        self.by_tool.keys().map(String::as_str)
    }

    /// Every scope some tool needs, sorted, for the metadata document.
    pub(crate) fn all(&self) -> Vec<String> {
        let mut all: Vec<String> = self.by_tool.values().flatten().cloned().collect();
        all.sort();
        all.dedup();
        all
    }

    /// Whether `auth` may call `tool`; `None` (no authenticated caller)
    /// may call only tools that need no scope.
    ///
    /// # Errors
    ///
    /// The scopes the caller lacks.
    pub(crate) fn check(&self, tool: &str, auth: Option<&AuthInfo>) -> Result<(), MissingScopes> {
        let Some(needed) = self.by_tool.get(tool) else {
            return Ok(());
        };
        let missing: Vec<String> = needed
            .iter()
            .filter(|scope| !auth.is_some_and(|auth| auth.has_scope(scope)))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(MissingScopes {
            tool: tool.to_owned(),
            needed: needed.join(" "),
            missing,
        })
    }

    /// Checks every `tools/call` in a JSON-RPC body (one message or a
    /// batch). A body that does not parse passes: rmcp answers it with a
    /// JSON-RPC error, and no tool runs.
    ///
    /// # Errors
    ///
    /// The first call the caller may not make.
    pub(crate) fn check_body(
        &self,
        body: &[u8],
        auth: Option<&AuthInfo>,
    ) -> Result<(), MissingScopes> {
        let Ok(message) = serde_json::from_slice::<Value>(body) else {
            return Ok(());
        };
        let messages = match &message {
            Value::Array(batch) => batch.iter().collect(),
            single => vec![single],
        };
        for message in messages {
            if message["method"] == "tools/call"
                && let Some(tool) = message["params"]["name"].as_str()
            {
                self.check(tool, auth)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_need_every_scope_of_their_tool() {
        let mut scopes = RequiredScopes::default();
        scopes.add("delete".into(), "notes:write".into());
        scopes.add("delete".into(), "notes:admin".into());
        let writer = AuthInfo::new().with_scopes(["notes:write"]);
        let admin = AuthInfo::new().with_scopes(["notes:write", "notes:admin"]);
        assert_eq!(scopes.check("read", None), Ok(()));
        assert_eq!(scopes.check("delete", Some(&admin)), Ok(()));
        let missing = scopes.check("delete", Some(&writer)).unwrap_err();
        assert_eq!(missing.needed, "notes:write notes:admin");
        assert_eq!(
            missing.message(),
            "tool `delete` needs scope `notes:admin`, which the token does not grant"
        );
        assert!(scopes.check("delete", None).is_err());
        assert_eq!(scopes.all(), ["notes:admin", "notes:write"]);
    }

    #[test]
    fn bodies_are_searched_for_tool_calls() {
        let mut scopes = RequiredScopes::default();
        scopes.add("delete".into(), "w".into());
        let call = |name: &str| serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}});
        let body = |v: Value| serde_json::to_vec(&v).unwrap();
        assert!(scopes.check_body(&body(call("delete")), None).is_err());
        assert!(scopes.check_body(&body(call("read")), None).is_ok());
        assert!(
            scopes
                .check_body(
                    &body(Value::Array(vec![call("read"), call("delete")])),
                    None
                )
                .is_err()
        );
        let list = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        assert!(scopes.check_body(&body(list), None).is_ok());
        assert!(scopes.check_body(b"not json", None).is_ok());
    }
}
