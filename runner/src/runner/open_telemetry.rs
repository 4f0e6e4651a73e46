//! [`Telemetry`]: what a client's spans record, and whether its requests
//! carry the trace context, with the official SDKs' `ANTHROPIC_OPEN_TELEMETRY*`
//! environment settings.

/// The most bytes of content one span records by default, as the official
/// SDKs: past it, the oldest messages are left out.
pub const DEFAULT_MAX_CONTENT_BYTES: usize = 750_000;

/// What a [`Client`](crate::Client)'s spans record, and whether its
/// requests carry the trace context; the official SDKs' `open_telemetry`
/// option.
///
/// Every API call of the client runs in a span in the OpenTelemetry GenAI
/// conventions (`tracing` fields named after the conventions' attributes,
/// which `tracing-opentelemetry` exports unchanged): a Messages call is a
/// `chat` span (a [`ToolRunner`](crate::ToolRunner)'s under its
/// `invoke_agent` span), with `gen_ai.provider.name`,
/// `gen_ai.request.model`, `gen_ai.response.id`, the usage and the finish
/// reasons, `gen_ai.conversation.id` when set, `error.type` on failure; a
/// Files call is an `anthropic.files.*` span.
///
/// [`Client::from_env`](crate::Client::from_env) reads the SDKs' settings
/// ([`from_env`](Self::from_env)); a client built with
/// [`Client::builder`](crate::Client::builder) reads nothing from the
/// environment and has the defaults; [`Client::with_telemetry`](crate::Client::with_telemetry)
/// sets them.
///
/// # Examples
///
/// ```
/// use toolrunner::{Client, Telemetry};
///
/// let client = Client::builder().api_key("sk-ant-...").build()?;
/// let client = client.with_telemetry(
///     Telemetry::new().record_content(true).max_content_bytes(64 * 1024).conversation_id("support-4711"),
/// );
/// assert_eq!(client.telemetry().conversation(), Some("support-4711"));
/// # Ok::<(), toolrunner::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Telemetry {
    enabled: bool,
    record_content: bool,
    max_content_bytes: usize,
    propagation: bool,
    conversation_id: Option<String>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry::new()
    }
}

impl Telemetry {
    /// The defaults: spans on, without content (it may hold secrets), at
    /// most [`DEFAULT_MAX_CONTENT_BYTES`] of content when it is recorded,
    /// the trace context propagated, no conversation id.
    pub fn new() -> Self {
        Telemetry {
            enabled: true,
            record_content: false,
            max_content_bytes: DEFAULT_MAX_CONTENT_BYTES,
            propagation: true,
            conversation_id: None,
        }
    }

    /// The settings the official SDKs read from the environment, each
    /// changing one default:
    ///
    /// - `ANTHROPIC_OPEN_TELEMETRY=false`: no spans of the client's own
    ///   ([`enabled`](Self::enabled)).
    /// - `ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content`: spans
    ///   record the messages and tool calls ([`record_content`](Self::record_content)).
    /// - `ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES=N`: at most `N`
    ///   bytes of content per span (ASCII digits, whitespace around them
    ///   allowed, at least 1; anything else is ignored).
    /// - `ANTHROPIC_OPEN_TELEMETRY_PROPAGATION=false`: requests carry no
    ///   trace context ([`propagation`](Self::propagation)).
    ///
    /// Values are compared without regard to case; any other value leaves
    /// the default.
    pub fn from_env() -> Self {
        Telemetry::from_env_with(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading variables with `var`.
    pub(crate) fn from_env_with(var: impl Fn(&str) -> Option<String>) -> Self {
        let is = |name: &str, value: &str| var(name).is_some_and(|v| v.eq_ignore_ascii_case(value));
        let mut telemetry = Telemetry::new();
        telemetry.enabled = !is("ANTHROPIC_OPEN_TELEMETRY", "false");
        telemetry.record_content = is("ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE", "content");
        telemetry.propagation = !is("ANTHROPIC_OPEN_TELEMETRY_PROPAGATION", "false");
        if let Some(max) = var("ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES")
            .as_deref()
            .and_then(parse_max_content_bytes)
        {
            telemetry.max_content_bytes = max;
        }
        telemetry
    }

    /// Whether the client's calls run in spans of their own (on by
    /// default). Off, a Messages call runs in a plain `messages.create`
    /// span, and a runner records no GenAI spans.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Whether spans record the content of requests and replies (the
    /// messages, tool arguments and results); off by default, since they
    /// may hold secrets. A runner's
    /// [`record_content`](crate::ToolRunner::record_content) overrides it
    /// for that run.
    pub fn record_content(mut self, record: bool) -> Self {
        self.record_content = record;
        self
    }

    /// The most bytes of content one span records (at least 1; default
    /// [`DEFAULT_MAX_CONTENT_BYTES`]). Past it the oldest messages are left
    /// out whole, a tool's arguments are left out and its result is cut at a
    /// character boundary, and the span has `anthropic.content.truncated =
    /// true`; what is recorded stays valid JSON.
    pub fn max_content_bytes(mut self, max: usize) -> Self {
        self.max_content_bytes = max.max(1);
        self
    }

    /// Whether requests carry the W3C trace context (`traceparent`,
    /// `tracestate`) of their call's span (on by default). It is sent,
    /// with the feature `otel`, when the span has an OpenTelemetry context
    /// (a `tracing-opentelemetry` layer is installed), in the headers of
    /// the propagator registered with `opentelemetry::global`. Turn it off
    /// when an HTTP instrumentation already propagates it.
    pub fn propagation(mut self, propagation: bool) -> Self {
        self.propagation = propagation;
        self
    }

    /// Links the spans of the client's calls to one conversation, as
    /// `gen_ai.conversation.id`. Not sent to the API.
    pub fn conversation_id(mut self, id: impl Into<String>) -> Self {
        self.conversation_id = Some(id.into());
        self
    }

    /// Whether the client's calls run in spans of their own.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Whether spans record content.
    pub fn records_content(&self) -> bool {
        self.record_content
    }

    /// The most bytes of content one span records.
    pub fn content_limit(&self) -> usize {
        self.max_content_bytes
    }

    /// Whether requests carry the trace context.
    pub fn propagates(&self) -> bool {
        self.propagation
    }

    /// The conversation id spans are linked to.
    pub fn conversation(&self) -> Option<&str> {
        self.conversation_id.as_deref()
    }
}

/// A `max_content_bytes` from the environment: ASCII digits with optional
/// whitespace around them, at least 1.
fn parse_max_content_bytes(value: &str) -> Option<usize> {
    let digits = value.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Too many digits for a `usize` is more than any span holds.
    let max = digits.parse::<usize>().unwrap_or(usize::MAX);
    (max >= 1).then_some(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Telemetry {
        Telemetry::from_env_with(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn each_variable_changes_its_default() {
        assert_eq!(env(&[]), Telemetry::new());
        let set = env(&[
            ("ANTHROPIC_OPEN_TELEMETRY", "FALSE"),
            ("ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE", "Content"),
            (
                "ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES",
                " 2048 ",
            ),
            ("ANTHROPIC_OPEN_TELEMETRY_PROPAGATION", "false"),
        ]);
        assert_eq!(
            set,
            Telemetry::new()
                .enabled(false)
                .record_content(true)
                .max_content_bytes(2048)
                .propagation(false)
        );
    }

    #[test]
    fn values_that_mean_nothing_leave_the_defaults() {
        let set = env(&[
            ("ANTHROPIC_OPEN_TELEMETRY", "no"),
            (
                "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE",
                "metadata_only",
            ),
            ("ANTHROPIC_OPEN_TELEMETRY_PROPAGATION", "0"),
        ]);
        assert_eq!(set, Telemetry::new());
        for bad in ["0", "-5", "1e3", "12 34", "", "١٢"] {
            assert_eq!(parse_max_content_bytes(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_max_content_bytes("99999999999999999999999999"),
            Some(usize::MAX)
        );
    }
}
