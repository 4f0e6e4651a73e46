//! Raw JSON-RPC over HTTP to an MCP server, for tests that need to see
//! statuses and headers the MCP client hides.

/// An `initialize` request.
pub const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

/// A JSON-RPC POST to the server with extra headers: status, headers, body.
pub async fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("reach the server");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    // The body of an accepted request is an event stream that may stay
    // open: read what comes within a moment.
    let body = match tokio::time::timeout(std::time::Duration::from_secs(2), response.text()).await
    {
        Ok(Ok(body)) => body,
        _ => String::new(),
    };
    (status, headers, body)
}

/// Initializes a session with `token` and returns its id.
pub async fn session(url: &str, token: &str) -> String {
    let auth = format!("Bearer {token}");
    let (status, headers, body) = post(url, &[("authorization", &auth)], INIT).await;
    assert_eq!(status, 200, "{body}");
    let id = headers["mcp-session-id"].to_str().unwrap().to_owned();
    let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let (status, _, body) = post(
        url,
        &[("authorization", &auth), ("mcp-session-id", &id)],
        initialized,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    id
}
