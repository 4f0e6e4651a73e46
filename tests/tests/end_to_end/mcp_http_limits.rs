//! The MCP HTTP server against clients that hold its connections without
//! using them, over real loopback sockets: silent and slow clients are
//! dropped, idle connections make room for new ones at the connection
//! bound, a request body must arrive in time, a session has a bounded
//! number of requests in flight, and a long response is never cut by the
//! idle timeout.
//!
//! Timeouts are short here (200 ms) and every wait for the server has a
//! generous bound: the tests check what happens, never how fast.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use support::mcp_http::{INIT, post, session};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use toolrunner::mcp::rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use toolrunner::mcp::{McpClient, McpHttpBuilder, McpServer, McpToolOptions};
use toolrunner::{State, ToolCall, ToolOutput, Toolset, tool, toolset};

/// Add two integers.
#[tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Sleep for `ms` milliseconds, then say so.
#[tool]
async fn slow(ms: u64) -> String {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("slept {ms} ms")
}

/// A text of `bytes` bytes.
#[tool]
fn big(bytes: usize) -> String {
    "x".repeat(bytes)
}

/// Calls of `hold` wait here until the test releases them.
struct Hold {
    started: mpsc::UnboundedSender<()>,
    release: Semaphore,
}

/// Wait until released.
#[tool]
async fn hold(hold: State<Hold>) -> String {
    let _ = hold.started.send(());
    hold.release.acquire().await.expect("never closed").forget();
    "released".into()
}

fn tools() -> (Toolset, Arc<Hold>, mpsc::UnboundedReceiver<()>) {
    let (started, starts) = mpsc::unbounded_channel();
    let state = Arc::new(Hold {
        started,
        release: Semaphore::new(0),
    });
    let tools = toolset![add, slow, hold, big].with_shared_state(state.clone());
    (tools, state, starts)
}

const TOKEN: &str = "a-long-random-token";
const SHORT: Duration = Duration::from_millis(200);
const LONG: Duration = Duration::from_secs(600);

/// A server with a token and the default limits.
fn builder() -> McpHttpBuilder {
    McpServer::new(tools().0).http().bearer_tokens([TOKEN])
}

/// Whether the server closes `socket` (end of stream or reset) within a
/// generous bound; whatever it answers first is read and dropped.
async fn closed_by_server(socket: &mut (impl AsyncRead + Unpin)) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline, socket.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// A valid client initializes a session and calls a tool.
async fn serves_a_valid_client(url: &str) {
    let served = async {
        let client = McpClient::http_with_token(url, TOKEN).await.unwrap();
        let tools = client.toolset(&McpToolOptions::new()).await.unwrap();
        tools
            .call("add", json!({"a": 2, "b": 3}), ToolCall::new("t1"))
            .await
    };
    let sum = tokio::time::timeout(Duration::from_secs(20), served)
        .await
        .expect("a valid client is served");
    assert_eq!(sum, ToolOutput::text("5"));
}

/// A `tools/call` of `hold` in session `id` with JSON-RPC id `n` (unique in
/// the session), read to its end: the status and the body.
fn call_hold(url: &str, id: &str, n: u32) -> JoinHandle<(u16, String)> {
    let request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("mcp-session-id", id)
        .body(format!(
            r#"{{"jsonrpc":"2.0","id":{n},"method":"tools/call","params":{{"name":"hold","arguments":{{}}}}}}"#
        ));
    tokio::spawn(async move {
        let response = request.send().await.expect("reach the server");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    })
}

/// Waits until `n` calls of `hold` have started.
async fn started(starts: &mut mpsc::UnboundedReceiver<()>, n: usize) {
    for _ in 0..n {
        tokio::time::timeout(Duration::from_secs(20), starts.recv())
            .await
            .expect("the call reached the tool")
            .unwrap();
    }
}

#[tokio::test]
async fn a_silent_or_finished_client_is_dropped_after_the_idle_timeout() {
    let server = builder()
        .idle_timeout(SHORT)
        .header_read_timeout(LONG)
        .serve("127.0.0.1:0")
        .await
        .unwrap();

    // Connects and sends nothing.
    let mut silent = TcpStream::connect(server.local_addr()).await.unwrap();
    assert!(closed_by_server(&mut silent).await, "a silent client stays");

    // Is answered, then keeps the connection without a new request.
    let mut finished = TcpStream::connect(server.local_addr()).await.unwrap();
    finished
        .write_all(b"GET /elsewhere HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    finished.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 404");
    assert!(
        closed_by_server(&mut finished).await,
        "an idle client stays"
    );

    serves_a_valid_client(&server.url()).await;
}

#[tokio::test]
async fn a_client_slow_to_send_its_request_head_is_dropped() {
    let server = builder()
        .header_read_timeout(SHORT)
        .idle_timeout(LONG)
        .serve("127.0.0.1:0")
        .await
        .unwrap();

    // Stops in the middle of the request line.
    let mut partial = TcpStream::connect(server.local_addr()).await.unwrap();
    partial.write_all(b"POST /mcp HTT").await.unwrap();
    assert!(closed_by_server(&mut partial).await, "a partial head stays");

    // Keeps sending a header, a byte at a time, and never ends it.
    let mut trickle = TcpStream::connect(server.local_addr()).await.unwrap();
    trickle
        .write_all(b"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\nx-pad: ")
        .await
        .unwrap();
    let (mut reader, mut writer) = trickle.into_split();
    let dripping = tokio::spawn(async move {
        while writer.write_all(b"a").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let closed = closed_by_server(&mut reader).await;
    dripping.abort();
    assert!(closed, "a client trickling its head stays");

    serves_a_valid_client(&server.url()).await;
}

/// Whether a client of one connection (an `initialize`) is served within a
/// generous bound: with `max_connections(1)`, only once no other client
/// holds the server's one connection. (An `McpClient` would open a second,
/// for its event stream.)
async fn serves_a_client_of_one_connection(url: &str) -> bool {
    let auth = format!("Bearer {TOKEN}");
    let headers = [("authorization", auth.as_str())];
    let served = post(url, &headers, INIT);
    matches!(
        tokio::time::timeout(Duration::from_secs(20), served).await,
        Ok((200, _, _))
    )
}

/// The head of an authenticated `POST /mcp` whose body is `length` bytes.
fn post_head(length: usize, session: Option<&str>) -> String {
    let session = session.map_or(String::new(), |id| format!("mcp-session-id: {id}\r\n"));
    format!(
        "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {TOKEN}\r\n\
         content-type: application/json\r\naccept: application/json, text/event-stream\r\n\
         {session}content-length: {length}\r\n\r\n"
    )
}

#[tokio::test]
async fn a_client_slow_to_send_its_request_body_is_dropped() {
    // One connection: while a client holds it, nobody else is served.
    let server = builder()
        .body_read_timeout(SHORT)
        .header_read_timeout(LONG)
        .idle_timeout(LONG)
        .max_connections(1)
        .serve("127.0.0.1:0")
        .await
        .unwrap();

    // A whole head, then part of the body and nothing more.
    let mut silent = TcpStream::connect(server.local_addr()).await.unwrap();
    silent
        .write_all(format!("{}{{\"jsonrpc\"", post_head(1000, None)).as_bytes())
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(20), silent.read_exact(&mut answer))
        .await
        .expect("a silent body is answered")
        .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 408");
    assert!(closed_by_server(&mut silent).await, "a silent body stays");
    drop(silent);

    // A body a byte at a time, far longer than the timeout.
    let mut trickle = TcpStream::connect(server.local_addr()).await.unwrap();
    trickle
        .write_all(post_head(100_000, None).as_bytes())
        .await
        .unwrap();
    let (mut reader, mut writer) = trickle.into_split();
    let dripping = tokio::spawn(async move {
        while writer.write_all(b" ").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let closed = closed_by_server(&mut reader).await;
    dripping.abort();
    assert!(closed, "a client trickling its body stays");
    drop(reader);

    assert!(serves_a_client_of_one_connection(&server.url()).await);
}

#[tokio::test]
async fn a_client_that_stops_reading_its_response_is_dropped() {
    let server = builder()
        .header_read_timeout(LONG)
        .idle_timeout(LONG)
        .max_connections(1)
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let id = session(&server.url(), TOKEN).await;

    // Asks for a response far larger than the socket buffers, then never
    // reads it. The request ends when its response's last frame is handed
    // to the connection, not when the client has read it: from then on the
    // connection counts as idle, and makes room for the next client.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(server.local_addr()).await.unwrap();
    let call = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"big","arguments":{"bytes":33554432}}}"#;
    stalled
        .write_all(format!("{}{call}", post_head(call.len(), Some(&id))).as_bytes())
        .await
        .unwrap();

    // With the only connection held, a new client is served only once the
    // server has let the one that does not read go.
    assert!(
        serves_a_client_of_one_connection(&server.url()).await,
        "a client that does not read holds the server"
    );
    drop(stalled);
}

#[tokio::test]
async fn a_response_longer_than_the_timeouts_is_not_cut() {
    let server = builder()
        .idle_timeout(SHORT)
        .header_read_timeout(SHORT)
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.url();

    // The call's event stream stays open five idle timeouts long, on one
    // connection.
    let id = session(&url, TOKEN).await;
    let response = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("mcp-session-id", &id)
        .body(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"ms":1000}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = tokio::time::timeout(Duration::from_secs(20), response.text())
        .await
        .expect("the response ends")
        .expect("the response is not cut");
    assert!(body.contains("slept 1000 ms"), "{body}");

    // A client's idle connections are closed between its calls; it
    // connects again.
    let client = McpClient::http_with_token(&url, TOKEN).await.unwrap();
    let tools = client.toolset(&McpToolOptions::new()).await.unwrap();
    tokio::time::sleep(SHORT * 3).await;
    let sum = tools
        .call("add", json!({"a": 1, "b": 1}), ToolCall::new("t2"))
        .await;
    assert_eq!(sum, ToolOutput::text("2"));
}

#[tokio::test]
async fn a_session_stream_outlives_the_idle_timeout() {
    // Keep-alive comments every 300 ms on the session's GET stream.
    let config =
        StreamableHttpServerConfig::default().with_sse_keep_alive(Some(Duration::from_millis(300)));
    let server = builder()
        .rmcp_config(config)
        .idle_timeout(SHORT)
        .header_read_timeout(SHORT)
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.url();
    let id = session(&url, TOKEN).await;
    let mut stream = reqwest::Client::new()
        .get(&url)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);

    // The fifth comes on the same connection long after the idle timeout.
    let mut received = String::new();
    while received.lines().filter(|&line| line == ":").count() < 5 {
        let chunk = tokio::time::timeout(Duration::from_secs(20), stream.chunk())
            .await
            .expect("the stream goes on")
            .expect("the stream is not cut")
            .expect("the stream is not ended");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn at_the_connection_bound_the_longest_idle_connections_make_room() {
    // Timeouts far away: only the bound can free connections here.
    let server = builder()
        .max_connections(4)
        .idle_timeout(LONG)
        .header_read_timeout(LONG)
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let mut idle = Vec::new();
    for n in 0..12 {
        let mut socket = TcpStream::connect(server.local_addr()).await.unwrap();
        if n % 2 == 1 {
            socket.write_all(b"POST /mcp HTTP/1.1\r\n").await.unwrap();
        }
        idle.push(socket);
    }

    serves_a_valid_client(&server.url()).await;

    // Four at a time were kept: the other idle ones were closed to make
    // room, the oldest first (and more of them for the valid client).
    for (n, socket) in idle[..8].iter_mut().enumerate() {
        assert!(closed_by_server(socket).await, "idle connection {n} stays");
    }
}

#[tokio::test]
async fn when_every_connection_is_busy_a_new_one_waits_its_turn() {
    let (tools, hold, mut starts) = tools();
    let server = McpServer::new(tools)
        .http()
        .bearer_tokens([TOKEN])
        .max_connections(2)
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.url();
    let id = session(&url, TOKEN).await;
    let first = call_hold(&url, &id, 10);
    let second = call_hold(&url, &id, 11);
    started(&mut starts, 2).await;

    // Both connections have a request in flight: none is taken away, and
    // the newcomer waits.
    let auth = format!("Bearer {TOKEN}");
    let waiting = tokio::spawn({
        let url = url.clone();
        async move { post(&url, &[("authorization", &auth)], INIT).await }
    });
    tokio::time::sleep(SHORT).await;
    assert!(!waiting.is_finished(), "{:?}", waiting.await);

    hold.release.add_permits(1);
    let (status, headers, body) = waiting.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("mcp-session-id"));
    hold.release.add_permits(1);
    for call in [first, second] {
        let (status, body) = call.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("released"), "{body}");
    }
}

#[tokio::test]
async fn a_session_has_a_bounded_number_of_requests_in_flight() {
    let (tools, hold, mut starts) = tools();
    let server = McpServer::new(tools)
        .http()
        .bearer_tokens([TOKEN])
        .max_requests_per_session(2)
        .serve("127.0.0.1:0")
        .await
        .unwrap();
    let url = server.url();
    let auth = format!("Bearer {TOKEN}");
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let id = session(&url, TOKEN).await;
    let calls = [call_hold(&url, &id, 10), call_hold(&url, &id, 11)];
    started(&mut starts, 2).await;

    let (status, headers, body) = post(
        &url,
        &[("authorization", &auth), ("mcp-session-id", &id)],
        list,
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(
        body,
        format!(
            "too many requests: session `{id}` already has 2 requests in flight (max_requests_per_session); retry when one ends"
        )
    );
    // Other sessions are not held up.
    let other = session(&url, TOKEN).await;
    let (status, _, body) = post(
        &url,
        &[("authorization", &auth), ("mcp-session-id", &other)],
        list,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    hold.release.add_permits(2);
    for call in calls {
        let (status, body) = call.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let (status, _, body) = post(
        &url,
        &[("authorization", &auth), ("mcp-session-id", &id)],
        list,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("hold"), "{body}");
}

#[tokio::test]
async fn limits_that_would_refuse_everything_are_refused() {
    for (builder, message) in [
        (
            builder().max_connections(0),
            "could not serve mcp: invalid max_connections `0`: at least one connection must be allowed",
        ),
        (
            builder().max_requests_per_session(0),
            "could not serve mcp: invalid max_requests_per_session `0`: at least one request must be allowed",
        ),
        (
            builder().idle_timeout(Duration::ZERO),
            "could not serve mcp: invalid idle_timeout `0ns`: it must be longer than zero",
        ),
        (
            builder().header_read_timeout(Duration::ZERO),
            "could not serve mcp: invalid header_read_timeout `0ns`: it must be longer than zero",
        ),
        (
            builder().body_read_timeout(Duration::ZERO),
            "could not serve mcp: invalid body_read_timeout `0ns`: it must be longer than zero",
        ),
    ] {
        let err = builder.serve("127.0.0.1:0").await.unwrap_err();
        assert!(err.is_serve(), "{err}");
        assert_eq!(err.to_string(), message);
    }
}

#[cfg(unix)]
#[tokio::test]
async fn out_of_file_descriptors_idle_connections_make_room() {
    use std::process::Stdio;
    use tokio::io::AsyncBufReadExt;

    // The server of the report: at most 64 open files, far below the
    // connection bound, and 100 silent clients.
    let mut server = tokio::process::Command::new("sh")
        .args([
            "-c",
            r#"ulimit -n 64 && exec "$0" "$1""#,
            env!("CARGO_BIN_EXE_mcp-http-server"),
            TOKEN,
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    let stdout = server.stdout.take().unwrap();
    let url = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::io::BufReader::new(stdout).lines().next_line(),
    )
    .await
    .expect("the server starts")
    .unwrap()
    .expect("the server prints its url");
    let addr = url.trim_start_matches("http://").trim_end_matches("/mcp");
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }

    serves_a_valid_client(&url).await;
}
