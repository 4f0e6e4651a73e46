//! [`McpHttpServer`]: an [`McpServer`] on streamable HTTP, served with hyper.

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::auth::{Authenticator, Refusal, bearer_token};
use super::connections::{Connections, Slot, Watched};
use super::held_body::hold_until_sent;
use super::limits::Limits;
use super::metadata::{ResourceMetadata, challenge};
use super::origin::Guard;
use super::read_deadline::{BodyError, ReadDeadline};
use super::scope::RequiredScopes;
use super::session_owner::{Owner, SessionOwners};
use super::session_requests::SessionRequests;
use super::{McpError, McpServer};
use crate::AuthInfo;

/// The one path the server answers on.
pub(crate) const PATH: &str = "/mcp";

type Service = StreamableHttpService<McpServer, LocalSessionManager>;
type HttpResponse = Response<BoxBody<Bytes, Infallible>>;
/// A request as the gate sees it: its body bounded by `body_read_timeout`.
type HttpRequest = Request<ReadDeadline<Incoming>>;

/// A toolset served over MCP streamable HTTP, in the background. Made by
/// [`McpHttpBuilder::serve`](super::McpHttpBuilder::serve),
/// [`McpServer::serve_http`] or [`Toolset::serve_mcp_http`](crate::Toolset::serve_mcp_http).
///
/// It answers on `/mcp` (and, with authentication, on the well-known paths
/// of its OAuth protected resource metadata) and stops when dropped or shut
/// down.
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
        gate: Gate,
        limits: Limits,
    ) -> Result<Self, McpError> {
        let addr = listener
            .local_addr()
            .map_err(|e| McpError::serve("could not read the listener's address", e))?;
        // rmcp ends its sessions when this token fires; the accept loop and
        // the connections stop with them.
        let shutdown = config.cancellation_token.clone();
        let sessions = gate.owners.manager();
        let service: Service =
            StreamableHttpService::new(move || Ok(server.clone()), sessions, config);
        let task = tokio::spawn(accept(
            listener,
            service,
            Arc::new(gate),
            limits,
            shutdown.clone(),
        ));
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
    service: Service,
    gate: Arc<Gate>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let connections = Arc::new(Connections::new(limits));
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: an idle
                    // connection gives one back, so that a client with a
                    // request gets in. Other accept errors pass; back off a
                    // little instead of spinning on them.
                    tracing::warn!(error = %e, "mcp http server: accept failed");
                    connections.evict_longest_idle();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Until there is a place for this one, no other is accepted: they
        // wait in the listener's queue.
        let slot = tokio::select! {
            () = shutdown.cancelled() => return,
            slot = connections.admit() => slot,
        };
        tokio::spawn(serve_connection(
            stream,
            slot,
            service.clone(),
            gate.clone(),
            limits.body_read_timeout,
            shutdown.clone(),
        ));
    }
}

/// Serves one connection until it ends, runs out of time between requests,
/// makes room for another, or the server shuts down.
async fn serve_connection(
    stream: TcpStream,
    slot: Slot,
    service: Service,
    gate: Arc<Gate>,
    body_read_timeout: std::time::Duration,
    shutdown: CancellationToken,
) {
    let watched = slot.connection().clone();
    let handler = hyper::service::service_fn(move |request: Request<Incoming>| {
        let service = service.clone();
        let gate = gate.clone();
        // Busy from the end of the head to the end of the response body.
        let busy = watched.request();
        let request = request.map(|body| ReadDeadline::new(body, body_read_timeout));
        async move {
            let response = gate.route(&service, request).await;
            Ok::<_, Infallible>(hold_until_sent(response, busy))
        }
    });
    let io = TokioIo::new(Watched::new(stream, slot.connection().clone()));
    let connection = hyper::server::conn::http1::Builder::new()
        // The watcher times heads from their first byte; hyper's clock
        // would also run between requests (see `connections`).
        .header_read_timeout(None)
        .serve_connection(io, handler);
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "mcp http server: connection ended with an error");
            }
        }
        ending = slot.ended() => {
            // No request is in flight: dropping the connection loses nothing.
            tracing::debug!(%ending, "mcp http server: connection closed");
        }
        () = shutdown.cancelled() => {}
    }
}

/// What stands between the network and rmcp: where requests may come from,
/// who may make them, and what they may call.
pub(crate) struct Gate {
    pub(crate) guard: Guard,
    pub(crate) auth: Authenticator,
    pub(crate) scopes: Arc<RequiredScopes>,
    pub(crate) metadata: ResourceMetadata,
    /// rmcp's limit, applied when the body is read here first.
    pub(crate) max_body: usize,
    /// Who opened each session: nobody else may use it.
    pub(crate) owners: SessionOwners,
    /// How many requests each session has in flight.
    pub(crate) requests: SessionRequests,
}

impl Gate {
    /// Checks in the order that tells a client the most: the host (DNS
    /// rebinding), the path, the origin (foreign pages), the token, the
    /// scopes of the tools called; then rmcp serves.
    async fn route(&self, service: &Service, mut request: HttpRequest) -> HttpResponse {
        if let Err(why) = self.guard.check_host(request.uri(), request.headers()) {
            return text(StatusCode::FORBIDDEN, why);
        }
        let path = request.uri().path();
        if self.auth.is_enabled() && self.metadata.serves(path, PATH) {
            return self.metadata_document(&request);
        }
        if path != PATH {
            return not_found();
        }
        if let Err(why) = self.guard.check_origin(request.headers()) {
            return text(StatusCode::FORBIDDEN, why);
        }
        if !self.auth.is_enabled() {
            let place = match self.requests.enter(request.headers()) {
                Ok(place) => place,
                Err(why) => return too_many_requests(why),
            };
            let response = match read_post(request, self.max_body).await {
                Ok(Body::Read(parts, body)) => {
                    service
                        .handle(Request::from_parts(parts, Full::new(body)))
                        .await
                }
                Ok(Body::Streamed(request)) => service.handle(request).await,
                Err(refusal) => refusal,
            };
            return hold_until_sent(response, place);
        }
        let auth = match self.auth.authenticate(request.headers()).await {
            Ok(auth) => auth,
            Err(refusal) => return self.unauthorized(&request, refusal),
        };
        // Authenticated above, so the header is there.
        let owner = self
            .owners
            .owner(&auth, bearer_token(request.headers()).unwrap_or_default());
        if !self.owners.may_use(request.headers(), &owner) {
            // As for an id never issued: nothing tells the caller it exists.
            return text(
                StatusCode::NOT_FOUND,
                "session not found: the session was opened by another caller".to_owned(),
            );
        }
        // Counted once the caller is known to own the session, so that
        // nobody else can use up its places.
        let place = match self.requests.enter(request.headers()) {
            Ok(place) => place,
            Err(why) => return too_many_requests(why),
        };
        // rmcp hands the request's parts, extensions included, to the
        // handler: that is how `McpServer` finds who is calling.
        request.extensions_mut().insert(auth.clone());
        let response = self.authorized(service, request, auth, owner).await;
        hold_until_sent(response, place)
    }

    /// Serves a request from the session's owner: checks the scopes of
    /// the tools it calls, then lets rmcp serve it.
    async fn authorized(
        &self,
        service: &Service,
        request: HttpRequest,
        auth: Arc<AuthInfo>,
        owner: Owner,
    ) -> HttpResponse {
        let (parts, body) = match read_post(request, self.max_body).await {
            Ok(Body::Read(parts, body)) => (parts, body),
            Ok(Body::Streamed(request)) => return self.forward(service, request, owner).await,
            Err(refusal) => return refusal,
        };
        // Refusing a call with 403 must happen before rmcp answers 200 and
        // streams the result: the body, read above, says what it calls.
        if self.scopes.is_empty() {
            return self
                .forward(service, Request::from_parts(parts, Full::new(body)), owner)
                .await;
        }
        if let Err(missing) = self.scopes.check_body(&body, Some(&auth)) {
            let request = Request::from_parts(parts, ());
            let url = self.metadata_url(&request);
            let message = missing.message();
            let mut response = text(StatusCode::FORBIDDEN, format!("forbidden: {message}"));
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                challenge(
                    Some("insufficient_scope"),
                    Some(&message),
                    Some(&missing.needed),
                    &url,
                ),
            );
            return response;
        }
        self.forward(service, Request::from_parts(parts, Full::new(body)), owner)
            .await
    }

    /// Lets rmcp serve an authenticated request, and keeps the table of
    /// session owners up to date with the sessions it opens and ends.
    async fn forward<B>(&self, service: &Service, request: Request<B>, owner: Owner) -> HttpResponse
    where
        B: hyper::body::Body + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let headers = request.headers().clone();
        let deleting = request.method() == Method::DELETE;
        let response = service.handle(request).await;
        if response.status().is_success() {
            if deleting {
                self.owners.release(&headers);
            } else {
                self.owners.claim(&headers, response.headers(), owner).await;
            }
        }
        response
    }

    fn unauthorized<B>(&self, request: &Request<B>, refusal: Refusal) -> HttpResponse {
        let url = self.metadata_url(request);
        let (status, value, message) = match refusal {
            Refusal::Missing => (
                StatusCode::UNAUTHORIZED,
                Some(challenge(None, None, None, &url)),
                format!(
                    "unauthorized: this mcp server needs `Authorization: Bearer <token>`; how to get a token: {url}"
                ),
            ),
            Refusal::Invalid(why) => (
                StatusCode::UNAUTHORIZED,
                Some(challenge(Some("invalid_token"), Some(&why), None, &url)),
                format!("unauthorized: invalid token: {why}"),
            ),
            Refusal::Failed => (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "could not verify the token now; try again later".to_owned(),
            ),
        };
        let mut response = text(status, message);
        if let Some(value) = value {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }

    fn metadata_document<B>(&self, request: &Request<B>) -> HttpResponse {
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed: the metadata document is read with GET".to_owned(),
            );
        }
        let document = self.metadata.document(&host(request), PATH);
        let mut response = Response::new(Full::new(Bytes::from(document.to_string())).boxed());
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        // Public by design, and read by browser-based clients.
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        response
    }

    fn metadata_url<B>(&self, request: &Request<B>) -> String {
        self.metadata.url(&host(request), PATH)
    }
}

/// A request with its body read, or one that has none to read.
enum Body {
    Read(hyper::http::request::Parts, Bytes),
    Streamed(HttpRequest),
}

/// Reads a POST's body here, under its deadline and rmcp's size limit, so
/// that a body that comes late or too large is answered as the client's
/// error (408, 413) rather than as a failure of the server; other methods
/// carry no body and pass as they are.
async fn read_post(request: HttpRequest, max_body: usize) -> Result<Body, HttpResponse> {
    if request.method() != Method::POST {
        return Ok(Body::Streamed(request));
    }
    let (parts, body) = request.into_parts();
    match Limited::new(body, max_body).collect().await {
        Ok(collected) => Ok(Body::Read(parts, collected.to_bytes())),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("payload too large: the limit is {max_body} bytes"),
        )),
        Err(e) if matches!(e.downcast_ref(), Some(BodyError::<hyper::Error>::Late(_))) => {
            Err(text(StatusCode::REQUEST_TIMEOUT, e.to_string()))
        }
        Err(e) => Err(text(
            StatusCode::BAD_REQUEST,
            format!("could not read the request body: {e}"),
        )),
    }
}

/// The request's host, already checked by the guard.
fn host<B>(request: &Request<B>) -> String {
    request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("localhost")
        .to_owned()
}

fn text(status: StatusCode, message: String) -> HttpResponse {
    let mut response = Response::new(Full::new(Bytes::from(message)).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A session's bound on requests in flight was reached: its requests are
/// typically short, so the client may try again in a second.
fn too_many_requests(why: String) -> HttpResponse {
    let mut response = text(StatusCode::TOO_MANY_REQUESTS, why);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

fn not_found() -> HttpResponse {
    text(
        StatusCode::NOT_FOUND,
        "not found: the mcp endpoint is /mcp".to_owned(),
    )
}
