//! Keeps secrets the AWS SDK's runtime would log out of the application's
//! logs while the credential chain fetches credentials.
//!
//! At TRACE level, `aws-smithy-runtime`'s orchestrator logs each request
//! it sends and each response it reads whole (`request = ?request`,
//! `response = ?response`). For the SSO portal that includes the bearer
//! token, in a header the SDK does not mark sensitive. While the chain
//! runs, those events are dropped; everything else goes to the
//! application's subscriber as it would have.

use std::future::Future;

use tracing::instrument::WithSubscriber;
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::{Interest, NoSubscriber};
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_core::span::Current;

/// Runs `future` with the current subscriber behind [`Quiet`].
pub(super) async fn quietly<F: Future>(future: F) -> F::Output {
    let outer = tracing::dispatcher::get_default(Dispatch::clone);
    if outer.is::<NoSubscriber>() {
        return future.await;
    }
    let quiet = Quiet {
        max: LevelFilter::current(),
        outer,
    };
    future.with_subscriber(Dispatch::new(quiet)).await
}

/// The application's subscriber, without the runtime's dumps of whole
/// requests and responses.
struct Quiet {
    outer: Dispatch,
    /// The most verbose level any subscriber took when this one was made.
    max: LevelFilter,
}

/// Whether `metadata` is an event of the orchestrator dumping a whole
/// request or response.
fn dumps(metadata: &Metadata<'_>) -> bool {
    metadata
        .target()
        .starts_with("aws_smithy_runtime::client::orchestrator")
        && metadata
            .fields()
            .iter()
            .any(|field| matches!(field.name(), "request" | "response"))
}

impl Subscriber for Quiet {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if dumps(metadata) {
            Interest::never()
        } else {
            // Asked per event: the application's subscriber decides.
            Interest::sometimes()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max)
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        !dumps(metadata) && self.outer.enabled(metadata)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.outer.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.outer.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.outer.record_follows_from(span, follows);
    }

    fn event(&self, event: &Event<'_>) {
        if !dumps(event.metadata()) {
            self.outer.event(event);
        }
    }

    fn enter(&self, span: &Id) {
        self.outer.enter(span);
    }

    fn exit(&self, span: &Id) {
        self.outer.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.outer.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.outer.try_close(id)
    }

    fn current_span(&self) -> Current {
        self.outer.current_span()
    }
}
