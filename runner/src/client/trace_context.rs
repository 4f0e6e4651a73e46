//! W3C trace context on outgoing requests, as the official SDKs send it:
//! each attempt carries the context of the call's span (`traceparent`, and
//! `tracestate` when it has one), written by the propagator the application
//! registered, after the platform signed the request (a signature does not
//! cover it, and the SDKs add it after signing too). Nothing is sent for a
//! span without an OpenTelemetry context: without the feature `otel`, or
//! without a `tracing-opentelemetry` layer.

use reqwest::header::HeaderMap;

/// Writes the current span's trace context into `headers`.
#[cfg(feature = "otel")]
pub(crate) fn inject(headers: &mut HeaderMap) {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    let context = tracing::Span::current().context();
    if !context.span().span_context().is_valid() {
        return;
    }
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut Injector(headers));
    });
}

/// Without the feature `otel`, spans have no trace context to send.
#[cfg(not(feature = "otel"))]
pub(crate) fn inject(_headers: &mut HeaderMap) {}

#[cfg(feature = "otel")]
struct Injector<'a>(&'a mut HeaderMap);

#[cfg(feature = "otel")]
impl opentelemetry::propagation::Injector for Injector<'_> {
    /// Sets `key`, replacing any value; a key or value that is not a valid
    /// header (a propagator of the application's own may write anything)
    /// is left out rather than failing the request. So is an empty value:
    /// opentelemetry's propagator writes an empty `tracestate`, which the
    /// W3C recommendation says to leave out (and the Python SDK's does).
    fn set(&mut self, key: &str, value: String) {
        if value.is_empty() {
            return;
        }
        let name = reqwest::header::HeaderName::from_bytes(key.as_bytes());
        let value = reqwest::header::HeaderValue::from_str(&value);
        if let (Ok(name), Ok(value)) = (name, value) {
            self.0.insert(name, value);
        }
    }
}
