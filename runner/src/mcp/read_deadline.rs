//! A request body that must arrive by a deadline.
//!
//! Once a request's head is in, its connection is busy, and a busy
//! connection is never closed for being quiet: a tool may take minutes. So
//! a client that sends a head, then its body a byte at a time (or never),
//! would hold the connection as long as it liked. The body's own clock,
//! from the end of the head, bounds that: whoever reads the body past the
//! deadline gets an error, the request is answered, and hyper closes the
//! connection, whose body was left unread.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// `body`, which fails once `timeout` has passed before its end.
pub(crate) struct ReadDeadline<B> {
    body: B,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<B> ReadDeadline<B> {
    pub(crate) fn new(body: B, timeout: Duration) -> Self {
        ReadDeadline {
            body,
            timeout,
            deadline: Box::pin(tokio::time::sleep_until(Instant::now() + timeout)),
        }
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError<E> {
    /// The connection failed.
    Read(E),
    /// The body had not arrived within the timeout.
    Late(Duration),
}

impl<E: fmt::Display> fmt::Display for BodyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Read(e) => e.fmt(f),
            BodyError::Late(timeout) => write!(
                f,
                "request body not received within body_read_timeout ({timeout:?})"
            ),
        }
    }
}

impl<E: StdError + 'static> StdError for BodyError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            BodyError::Read(e) => Some(e),
            BodyError::Late(_) => None,
        }
    }
}

impl<B> Body for ReadDeadline<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = BodyError<B::Error>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(BodyError::Read))),
            // Waiting for the client: the deadline wakes the reader too.
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::Late(self.timeout)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use http_body_util::{BodyExt, StreamBody};

    use super::*;

    #[tokio::test]
    async fn a_body_that_stops_coming_fails_at_its_deadline_and_a_whole_one_passes() {
        let whole = http_body_util::Full::new(Bytes::from("{}"))
            .map_err(|never: std::convert::Infallible| match never {});
        let read = ReadDeadline::new(whole, Duration::from_millis(50))
            .collect()
            .await
            .map(|collected| collected.to_bytes());
        assert_eq!(read.unwrap(), "{}");

        // One frame, then nothing, ever.
        let frames =
            futures_util::stream::iter([Ok::<_, std::io::Error>(Frame::data(Bytes::from("{")))])
                .chain(futures_util::stream::pending());
        let stalled = ReadDeadline::new(StreamBody::new(frames), Duration::from_millis(50));
        let err = stalled.collect().await.expect_err("a late body fails");
        assert!(matches!(err, BodyError::Late(_)), "{err}");
        assert_eq!(
            err.to_string(),
            "request body not received within body_read_timeout (50ms)"
        );
    }
}
