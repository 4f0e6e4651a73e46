//! rustls's process-wide crypto provider, for the HTTP clients that other
//! crates build inside this one.
//!
//! With `vertex`, google-cloud-auth is built without its default features
//! (which compile aws-lc, a C library), and so asks for `reqwest` 0.13 with
//! rustls but no crypto provider of its own. Cargo unifies features, so
//! every `reqwest` 0.13 client in the program then needs the process-wide
//! provider, rmcp's MCP client among them: without one, building it panics.

/// Makes ring rustls's process-wide crypto provider, unless the program
/// chose one first. ring is the provider this crate's own HTTP client
/// already uses.
pub(crate) fn use_ring_unless_chosen() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may get there first: its choice stands.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
