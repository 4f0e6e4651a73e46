//! [`McpHttpServer`]: an [`McpServer`] on streamable HTTP, served with hyper.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{McpError, McpServer};

/// The one path the server answers on.
const PATH: &str = "/mcp";

/// A toolset served over MCP streamable HTTP, in the background. Made by
/// [`McpServer::serve_http`] or [`Toolset::serve_mcp_http`](crate::Toolset::serve_mcp_http).
///
/// It answers on `/mcp` only and stops when dropped or shut down.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), toolrunner::mcp::McpError> {
/// # use toolrunner::{tool, toolset};
/// # /// Add.
/// # #[tool] fn add(a: i64, b: i64) -> i64 { a + b }
/// let server = toolset![add].serve_mcp_http("127.0.0.1:8000").await?;
/// println!("MCP server at {}", server.url());
/// server.wait().await;
/// # Ok(())
/// # }
/// ```
pub struct McpHttpServer {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl McpHttpServer {
    pub(crate) fn start(
        server: McpServer,
        listener: TcpListener,
        config: StreamableHttpServerConfig,
    ) -> Result<Self, McpError> {
        let addr = listener
            .local_addr()
            .map_err(|e| McpError::serve("could not read the listener's address", e))?;
        // rmcp ends its sessions when this token fires; the accept loop and
        // the connections stop with them.
        let shutdown = config.cancellation_token.clone();
        let service: StreamableHttpService<McpServer, LocalSessionManager> =
            StreamableHttpService::new(move || Ok(server.clone()), Default::default(), config);
        let task = tokio::spawn(accept(listener, service, shutdown.clone()));
        Ok(McpHttpServer {
            addr,
            shutdown,
            task: Some(task),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to give MCP clients, e.g. `http://127.0.0.1:8000/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.addr)
    }

    /// Runs until the server is shut down (through the cancellation token
    /// of its config); for a program whose only job is serving.
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            // The accept loop never panics; a join error means the runtime
            // is shutting down, which ends the wait as well.
            let _ = task.await;
        }
    }

    /// Stops accepting connections and ends every session.
    pub fn shutdown(self) {
        // Dropping does it.
    }
}

impl Drop for McpHttpServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl fmt::Debug for McpHttpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpHttpServer")
            .field("url", &self.url())
            .finish()
    }
}

async fn accept(
    listener: TcpListener,
    service: StreamableHttpService<McpServer, LocalSessionManager>,
    shutdown: CancellationToken,
) {
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Accept errors (such as too many open files) pass;
                    // back off a little instead of spinning on them.
                    tracing::warn!(error = %e, "mcp http server: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = service.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |request: Request<Incoming>| {
                let service = service.clone();
                async move {
                    if request.uri().path() != PATH {
                        return Ok::<_, Infallible>(not_found());
                    }
                    Ok(service.handle(request).await)
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), handler);
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "mcp http server: connection ended with an error");
                    }
                }
                () = shutdown.cancelled() => {}
            }
        });
    }
}

fn not_found() -> Response<http_body_util::combinators::BoxBody<Bytes, Infallible>> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(b"not found: the MCP endpoint is /mcp")).boxed(),
    );
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
