//! How long and how many: the bounds that keep clients who connect and do
//! nothing (or next to nothing) from holding the HTTP server: silent
//! sockets, trickled heads and bodies.

use std::time::Duration;

/// The bounds the HTTP server applies to every connection and session, set
/// on [`McpHttpBuilder`](super::McpHttpBuilder).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// From the first byte of a request to the end of its head.
    pub(crate) header_read_timeout: Duration,
    /// With no request in flight and nothing received.
    pub(crate) idle_timeout: Duration,
    /// From the end of a request's head to the end of its body.
    pub(crate) body_read_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) max_requests_per_session: usize,
}

impl Default for Limits {
    /// Loose enough for any real client on a slow link, tight enough that
    /// a few hundred silent sockets cost nothing for long.
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            // MCP requests are small JSON-RPC messages: 30 s is long even
            // on a slow link, short enough that a trickled body cannot hold
            // a connection for long.
            body_read_timeout: Duration::from_secs(30),
            max_connections: 256,
            max_requests_per_session: 32,
        }
    }
}

impl Limits {
    /// Refuses limits under which nothing could be served.
    pub(crate) fn check(&self) -> Result<(), String> {
        for (name, timeout) in [
            ("header_read_timeout", self.header_read_timeout),
            ("idle_timeout", self.idle_timeout),
            ("body_read_timeout", self.body_read_timeout),
        ] {
            if timeout.is_zero() {
                return Err(format!(
                    "invalid {name} `{timeout:?}`: it must be longer than zero"
                ));
            }
        }
        if self.max_connections == 0 {
            return Err(
                "invalid max_connections `0`: at least one connection must be allowed".to_owned(),
            );
        }
        if self.max_requests_per_session == 0 {
            return Err(
                "invalid max_requests_per_session `0`: at least one request must be allowed"
                    .to_owned(),
            );
        }
        Ok(())
    }
}
