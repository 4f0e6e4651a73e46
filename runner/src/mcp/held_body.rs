//! A response body that holds a value (a request's place on its connection
//! or in its session) until the response has been sent or abandoned.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::Response;
use hyper::body::{Body, Frame, SizeHint};

type Boxed = BoxBody<Bytes, Infallible>;

/// `response`, keeping `held` until its body ends: at its last frame, or
/// when the connection drops it unsent.
pub(crate) fn hold_until_sent<H: Send + Sync + Unpin + 'static>(
    response: Response<Boxed>,
    held: H,
) -> Response<Boxed> {
    response.map(|body| {
        Held {
            body,
            held: Some(held),
        }
        .boxed()
    })
}

struct Held<H> {
    body: Boxed,
    held: Option<H>,
}

impl<H: Unpin> Body for Held<H> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        // Let go at the end of the stream, before the client can see it
        // ended: its next request must find the place free.
        if let Poll::Ready(None) = polled {
            self.held = None;
        }
        polled
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
    use std::sync::Arc;

    use http_body_util::Full;

    use super::*;

    #[tokio::test]
    async fn the_value_is_held_until_the_body_ends() {
        let held = Arc::new(());
        let response = Response::new(Full::new(Bytes::from("done")).boxed());
        let response = hold_until_sent(response, held.clone());
        assert_eq!(Arc::strong_count(&held), 2);
        let mut body = response.into_body();
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "done");
        assert_eq!(Arc::strong_count(&held), 2);
        assert!(body.frame().await.is_none());
        assert_eq!(Arc::strong_count(&held), 1);

        let dropped = hold_until_sent(Response::new(Full::new(Bytes::new()).boxed()), held.clone());
        drop(dropped);
        assert_eq!(Arc::strong_count(&held), 1);
    }
}
