//! Which code-execution versions the API treats as the same caller.
//!
//! A request declares one code-execution tool version, but the API does not
//! always tag calls from code with that version: `code_execution_20260120`
//! and `code_execution_20260521` are interchangeable, and calls under either
//! carry `caller.type = "code_execution_20260120"`. Comparing versions by
//! string would refuse every call from code under the newer version.

/// Groups of code-execution versions whose calls the API tags alike. The first
/// of a group is the tag the API writes on calls.
const SAME_CALLER: &[&[&str]] = &[&["code_execution_20260120", "code_execution_20260521"]];

/// Whether a call tagged `tagged` comes from code running under `declared`.
///
/// ```
/// use toolrunner::same_code_caller;
///
/// assert!(same_code_caller("code_execution_20260120", "code_execution_20260521"));
/// assert!(!same_code_caller("code_execution_20250825", "code_execution_20260120"));
/// ```
pub fn same_code_caller(tagged: &str, declared: &str) -> bool {
    tagged == declared
        || SAME_CALLER
            .iter()
            .any(|group| group.contains(&tagged) && group.contains(&declared))
}

#[cfg(test)]
mod tests {
    use super::same_code_caller;

    #[test]
    fn interchangeable_versions_are_one_caller_and_others_are_not() {
        assert!(same_code_caller(
            "code_execution_20260120",
            "code_execution_20260120"
        ));
        assert!(same_code_caller(
            "code_execution_20260120",
            "code_execution_20260521"
        ));
        assert!(same_code_caller(
            "code_execution_20260521",
            "code_execution_20260120"
        ));
        assert!(!same_code_caller(
            "code_execution_20250825",
            "code_execution_20260521"
        ));
        assert!(!same_code_caller("code_execution_20260120", "direct"));
    }
}
