//! Who this process says it is in an MCP handshake (`serverInfo` or
//! `clientInfo`) when not told: the program, not the library. A peer's
//! logs and consent prompts name the program they talk to; "toolrunner"
//! would say nothing about which one that is.
//!
//! MCP's `Implementation` has no field for the library a program is built
//! with, so toolrunner's own name and version are not sent.

use rmcp::model::Implementation;

/// The version a program gives when not told its own: toolrunner cannot
/// know the program's, and its own would be mistaken for it.
pub(super) const UNKNOWN_VERSION: &str = "unknown";

/// The running executable, named by its file name without extension, of
/// version [`UNKNOWN_VERSION`]; named `fallback` when the executable's
/// path cannot be read.
pub(super) fn this_program(fallback: &str) -> Implementation {
    Implementation::new(executable_name(fallback), UNKNOWN_VERSION)
}

fn executable_name(fallback: &str) -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
        .unwrap_or_else(|| fallback.to_owned())
}
