//! [`Middleware`]: code that wraps every HTTP request a client sends.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use crate::error::Error;
use crate::platform::Platform;

/// Wraps every HTTP request a [`Client`](crate::Client) sends (Messages,
/// streams, Files, token counting...), once per attempt: for logging,
/// metrics, extra signing, caching, or a test double that answers itself.
///
/// A middleware gets the request and the rest of the chain as [`Next`]; it
/// may change the request, call [`Next::run`] (or not, answering with a
/// response of its own made with `reqwest::Response::from(http::Response)`),
/// and look at or change what comes back. Middlewares compose in the order
/// they are added to the builder: the first added is the outermost, and
/// sees the request first and the response last.
///
/// The request it sees is final but for the credentials: the client's
/// platform adds those (an API key, a bearer token, a SigV4 signature)
/// after the last middleware, so a middleware never sees a secret, and a
/// header it adds is covered by a signature. Retries, timeouts and the
/// decoding of errors stay the client's: a middleware's response goes
/// through them like the server's, and a middleware that fails (with
/// [`Error::middleware`]) fails the request without a retry.
///
/// # Examples
///
/// A middleware that counts attempts and tags them:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use futures_util::future::BoxFuture;
/// use toolrunner::{Client, Error, Middleware, Next};
///
/// #[derive(Default)]
/// struct Count(AtomicU64);
///
/// impl Middleware for Count {
///     fn handle<'a>(
///         &'a self,
///         mut request: reqwest::Request,
///         next: Next<'a>,
///     ) -> BoxFuture<'a, Result<reqwest::Response, Error>> {
///         let n = self.0.fetch_add(1, Ordering::Relaxed);
///         request.headers_mut().insert("x-attempt-number", n.into());
///         Box::pin(async move {
///             let response = next.run(request).await?;
///             tracing::info!(status = %response.status(), "answered");
///             Ok(response)
///         })
///     }
/// }
///
/// let client = Client::builder().api_key("sk-ant-...").middleware(Count::default()).build()?;
/// # drop(client);
/// # Ok::<(), toolrunner::Error>(())
/// ```
pub trait Middleware: Send + Sync + 'static {
    /// Handles one attempt: `request` on its way out, `next` the rest of
    /// the chain.
    ///
    /// # Errors
    ///
    /// Whatever [`Next::run`] returned, or the middleware's own failure,
    /// made with [`Error::middleware`].
    fn handle<'a>(
        &'a self,
        request: reqwest::Request,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<reqwest::Response, Error>>;
}

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// The rest of the middleware chain, then the platform's credentials and
/// the network. Given to [`Middleware::handle`].
pub struct Next<'a> {
    chain: &'a [Arc<dyn Middleware>],
    end: &'a Terminal<'a>,
}

impl<'a> Next<'a> {
    /// Passes `request` on to the next middleware, or (after the last one)
    /// authorizes it and sends it.
    ///
    /// # Errors
    ///
    /// A later middleware's error; the platform's, when it cannot get
    /// credentials; a transport error, which the client decides to retry
    /// or not once the chain returns it.
    pub fn run(self, request: reqwest::Request) -> BoxFuture<'a, Result<reqwest::Response, Error>> {
        match self.chain.split_first() {
            Some((first, rest)) => first.handle(
                request,
                Next {
                    chain: rest,
                    end: self.end,
                },
            ),
            None => Box::pin(self.end.send(request)),
        }
    }
}

impl fmt::Debug for Next<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field("middlewares_left", &self.chain.len())
            .finish()
    }
}

/// The credential headers the platform may have added to a request.
const CREDENTIALS: [HeaderName; 2] = [AUTHORIZATION, X_API_KEY];

/// The end of the chain: the platform authorizes the request, which is
/// then sent. Keeps the credentials it was sent with, for the platform to
/// look at if it is refused.
pub(crate) struct Terminal<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) platform: &'a dyn Platform,
    /// The values of [`CREDENTIALS`] last sent, in that order: kept as
    /// values rather than in a header map, which every attempt would
    /// allocate while a refusal, the only reader, is rare.
    sent: Mutex<[Option<HeaderValue>; 2]>,
}

impl<'a> Terminal<'a> {
    pub(crate) fn new(http: &'a reqwest::Client, platform: &'a dyn Platform) -> Self {
        Terminal {
            http,
            platform,
            sent: Mutex::new([None, None]),
        }
    }

    /// Sends `request` through `chain`, then here.
    pub(crate) async fn run(
        &self,
        chain: &[Arc<dyn Middleware>],
        request: reqwest::Request,
    ) -> Result<reqwest::Response, Error> {
        if chain.is_empty() {
            // No boxed future on the common path.
            return self.send(request).await;
        }
        Next { chain, end: self }.run(request).await
    }

    async fn send(&self, mut request: reqwest::Request) -> Result<reqwest::Response, Error> {
        self.platform.authorize(self.http, &mut request).await?;
        // Only the credentials are kept, for the platform to tell which
        // one was refused: not a copy of every header on every attempt.
        let credentials = CREDENTIALS.map(|name| request.headers().get(name).cloned());
        *self.sent.lock().unwrap_or_else(PoisonError::into_inner) = credentials;
        self.http.execute(request).await.map_err(Error::transport)
    }

    /// The credential headers of the last request that reached the network.
    pub(crate) fn take_sent(&self) -> HeaderMap {
        let sent = std::mem::take(&mut *self.sent.lock().unwrap_or_else(PoisonError::into_inner));
        CREDENTIALS
            .into_iter()
            .zip(sent)
            .filter_map(|(name, value)| Some((name, value?)))
            .collect()
    }
}

/// The middlewares of a client, for its `Debug` output.
#[derive(Clone, Default)]
pub(crate) struct Chain(pub(crate) Arc<[Arc<dyn Middleware>]>);

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} middleware", self.0.len())
    }
}
