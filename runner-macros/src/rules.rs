//! The Messages API's rules on tool names and caller versions, as the macro
//! checks them at compile time.
//!
//! This file uses nothing but `std`, so the tests package can compile it on
//! its own and check, over one table of cases, that it agrees with the
//! runtime's `is_valid_tool_name` and `is_code_execution_version`.

/// Whether `name` matches `^[a-zA-Z0-9_-]{1,64}$`.
pub(crate) fn is_valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `s` is `code_execution_` followed by eight digits, the form the
/// Messages API uses for code-execution tool versions.
pub(crate) fn is_code_execution_version(s: &str) -> bool {
    s.strip_prefix("code_execution_")
        .is_some_and(|date| date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()))
}
