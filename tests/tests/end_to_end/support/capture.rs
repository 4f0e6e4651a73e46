//! A `tracing` layer that captures every span with its parent's name and
//! its fields, for the telemetry tests; and [`set_default`], through which
//! every test installs its subscriber.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Makes `subscriber` this thread's until the guard is dropped, as
/// [`tracing::subscriber::set_default`] does, so that it sees every
/// callsite, including those hit on other threads before it existed.
///
/// `tracing` caches whether a callsite is wanted, asking every subscriber
/// alive at the time. The tests run side by side, each with a subscriber
/// of its own thread or none; a callsite first hit while none was alive
/// would be cached as unwanted, and a race with a rebuild can leave it so
/// (seen with many tests at once). A global subscriber that answers
/// "ask each time" keeps every callsite asking the thread's own.
pub fn set_default(
    subscriber: impl tracing::Subscriber + Send + Sync + 'static,
) -> tracing::subscriber::DefaultGuard {
    static ASK_EACH_TIME: std::sync::Once = std::sync::Once::new();
    ASK_EACH_TIME.call_once(|| {
        // Fails only if the binary set one already, which then decides.
        let _ = tracing::subscriber::set_global_default(AskEachTime);
    });
    let guard = tracing::subscriber::set_default(subscriber);
    // A callsite hit before this subscriber existed keeps the interest it
    // was given then: ask every callsite again.
    tracing::callsite::rebuild_interest_cache();
    guard
}

/// Wants nothing itself, but never lets a callsite be cached as unwanted:
/// each event and span asks the subscriber of the thread it happens on.
struct AskEachTime;

impl tracing::Subscriber for AskEachTime {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // Never called: `enabled` is false.
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// A span as captured: its name, its parent's name and its fields.
#[derive(Clone, Debug, Default)]
pub struct Captured {
    pub name: String,
    pub parent: Option<String>,
    pub fields: BTreeMap<String, String>,
}

/// The spans, by id, and the events (named after their message, with the
/// id 0), in the order they came.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<(u64, Captured)>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, cx: Context<'_, S>) {
        let parent = cx
            .span(id)
            .and_then(|s| s.parent())
            .map(|p| p.name().to_owned());
        let mut captured = Captured {
            name: attrs.metadata().name().to_owned(),
            parent,
            fields: BTreeMap::new(),
        };
        attrs.record(&mut Fields(&mut captured.fields));
        self.0.lock().unwrap().push((id.into_u64(), captured));
    }

    fn on_event(&self, event: &tracing::Event<'_>, cx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let captured = Captured {
            name: fields.remove("message").unwrap_or_default(),
            parent: cx.event_span(event).map(|s| s.name().to_owned()),
            fields,
        };
        self.0.lock().unwrap().push((0, captured));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _cx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some((_, captured)) = spans.iter_mut().rev().find(|(i, _)| *i == id.into_u64()) {
            values.record(&mut Fields(&mut captured.fields));
        }
    }
}

impl Capture {
    /// The spans named `name`, in the order they were opened.
    pub fn named(&self, name: &str) -> Vec<Captured> {
        let spans = self.0.lock().unwrap();
        spans
            .iter()
            .filter(|(id, s)| *id != 0 && s.name == name)
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// The events whose message is `message`, in order.
    pub fn events(&self, message: &str) -> Vec<Captured> {
        let spans = self.0.lock().unwrap();
        spans
            .iter()
            .filter(|(id, s)| *id == 0 && s.name == message)
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// Captures the spans of this thread until the guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        set_default(tracing_subscriber::registry().with(self.clone()))
    }
}

/// Everything a `tracing` fmt subscriber wrote, as text.
#[derive(Clone, Default)]
pub struct Written(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Written {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Written {
    /// Formats every event and span of this thread, at every level (TRACE
    /// and up, of every crate), until the guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let sink = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        set_default(subscriber)
    }

    /// What was written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
