//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document that tells
//! an MCP client where to get a token for this server, and the
//! `WWW-Authenticate` challenges (RFC 6750) that point to it.

use hyper::header::HeaderValue;
use serde_json::{Value, json};

/// Where the metadata document is served (RFC 9728 §3): this path, and this
/// path followed by the resource's own path (`/mcp`), which is where clients
/// look first.
pub(crate) const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// What the metadata document says, besides the resource's URL.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResourceMetadata {
    /// The server's public URL, when set; else it is made from the request's
    /// (already checked) `Host` header.
    pub(crate) resource: Option<String>,
    pub(crate) authorization_servers: Vec<String>,
    pub(crate) scopes_supported: Vec<String>,
}

impl ResourceMetadata {
    /// The resource identifier: the URL clients connect to.
    pub(crate) fn resource(&self, host: &str, path: &str) -> String {
        match &self.resource {
            Some(resource) => resource.clone(),
            None => format!("http://{host}{path}"),
        }
    }

    /// The metadata document's URL: the well-known path inserted between
    /// the resource's origin and its path (RFC 9728 §3.1).
    pub(crate) fn url(&self, host: &str, path: &str) -> String {
        let resource = self.resource(host, path);
        let (origin, path) = split_origin(&resource);
        let path = path.trim_end_matches('/');
        format!("{origin}{WELL_KNOWN}{path}")
    }

    /// The paths the document is served on.
    pub(crate) fn serves(&self, request_path: &str, path: &str) -> bool {
        let own_path = self
            .resource
            .as_deref()
            .map_or(path, |resource| split_origin(resource).1)
            .trim_end_matches('/');
        request_path == WELL_KNOWN
            || request_path
                .strip_prefix(WELL_KNOWN)
                .is_some_and(|rest| rest == path || rest == own_path)
    }

    /// The document itself.
    pub(crate) fn document(&self, host: &str, path: &str) -> Value {
        let mut doc = json!({
            "resource": self.resource(host, path),
            // Tokens go in the `Authorization` header only (MCP spec: never
            // in the query string).
            "bearer_methods_supported": ["header"],
        });
        if !self.authorization_servers.is_empty() {
            doc["authorization_servers"] = json!(self.authorization_servers);
        }
        if !self.scopes_supported.is_empty() {
            doc["scopes_supported"] = json!(self.scopes_supported);
        }
        doc
    }
}

/// `https://host:port` and `/path` of a URL.
fn split_origin(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, ""),
    }
}

/// A `Bearer` challenge: `error` (none when the token is missing, RFC 6750
/// §3.1), a description, the scopes needed and the metadata's URL.
pub(crate) fn challenge(
    error: Option<&str>,
    description: Option<&str>,
    scope: Option<&str>,
    metadata_url: &str,
) -> HeaderValue {
    let mut params = Vec::new();
    if let Some(error) = error {
        params.push(format!("error=\"{}\"", quoted(error)));
    }
    if let Some(description) = description {
        params.push(format!("error_description=\"{}\"", quoted(description)));
    }
    if let Some(scope) = scope {
        params.push(format!("scope=\"{}\"", quoted(scope)));
    }
    params.push(format!("resource_metadata=\"{}\"", quoted(metadata_url)));
    let value = format!("Bearer {}", params.join(", "));
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

/// Text fit for a quoted-string: printable ASCII without `"` and `\`
/// (RFC 6750 allows nothing else in `error_description`).
fn quoted(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_follows_the_resource_url() {
        let local = ResourceMetadata::default();
        assert_eq!(
            local.resource("127.0.0.1:8000", "/mcp"),
            "http://127.0.0.1:8000/mcp"
        );
        assert_eq!(
            local.url("127.0.0.1:8000", "/mcp"),
            "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp"
        );
        assert!(local.serves("/.well-known/oauth-protected-resource", "/mcp"));
        assert!(local.serves("/.well-known/oauth-protected-resource/mcp", "/mcp"));
        assert!(!local.serves("/.well-known/oauth-protected-resource/other", "/mcp"));

        let public = ResourceMetadata {
            resource: Some("https://api.example.com/tools/mcp".into()),
            authorization_servers: vec!["https://auth.example.com".into()],
            scopes_supported: vec!["notes:read".into()],
        };
        assert_eq!(
            public.url("127.0.0.1:8000", "/mcp"),
            "https://api.example.com/.well-known/oauth-protected-resource/tools/mcp"
        );
        assert!(public.serves("/.well-known/oauth-protected-resource/tools/mcp", "/mcp"));
        assert_eq!(
            public.document("127.0.0.1:8000", "/mcp"),
            json!({
                "resource": "https://api.example.com/tools/mcp",
                "bearer_methods_supported": ["header"],
                "authorization_servers": ["https://auth.example.com"],
                "scopes_supported": ["notes:read"],
            })
        );
    }

    #[test]
    fn challenges_quote_safely() {
        let value = challenge(
            Some("invalid_token"),
            Some("bad \"token\"\n"),
            None,
            "http://h/.well-known/oauth-protected-resource/mcp",
        );
        assert_eq!(
            value.to_str().unwrap(),
            "Bearer error=\"invalid_token\", error_description=\"bad 'token'?\", resource_metadata=\"http://h/.well-known/oauth-protected-resource/mcp\""
        );
    }
}
