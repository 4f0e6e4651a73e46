//! Model names: the one the crate's docs and examples use, and the ones the
//! API has announced it will retire.
//!
//! Models reach end of life on announced dates, after which every request
//! naming them fails. The client warns once per model when a request names
//! one of [`DEPRECATED`], so a user learns of it before the date, not from
//! the first failed request after it.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// The model the README, the examples and the doc tests use: a current
/// model, named in one place so that it is changed in one place.
///
/// # Examples
///
/// ```
/// use toolrunner::MessageParams;
///
/// let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("Hello");
/// assert_eq!(params.model, "claude-opus-5-5");
/// ```
pub const CURRENT: &str = "claude-opus-5-5";

/// When [`DEPRECATED`] was last checked against the official SDK's table of
/// deprecated models (`anthropic` 2.14 for Python) and the model
/// deprecations page of the API docs.
pub const DEPRECATED_CHECKED: &str = "2026-11-30";

/// Deprecated models and the date (`YYYY-MM-DD`) each reaches end of life,
/// as checked on [`DEPRECATED_CHECKED`]. Aliases and dated names are both
/// listed, as requests may use either.
pub const DEPRECATED: &[(&str, &str)] = &[
    ("claude-mythos-preview", "2026-06-30"),
    ("claude-sonnet-4-5", "2026-11-30"),
    ("claude-sonnet-4-5-20250929", "2026-11-30"),
    ("claude-opus-4-5", "2027-01-22"),
    ("claude-opus-4-5-20251101", "2027-01-22"),
];

/// The end-of-life date of `model` when it is deprecated. `model` may be
/// a first-party name or a platform's id for it: Amazon Bedrock's
/// (`anthropic.claude-sonnet-4-5-20250929-v1:0`, with a region prefix or
/// in an inference profile's ARN) or Vertex AI's
/// (`claude-sonnet-4-5@20250929`).
///
/// # Examples
///
/// ```
/// use toolrunner::models::{CURRENT, end_of_life};
///
/// assert_eq!(end_of_life("claude-sonnet-4-5"), Some("2026-11-30"));
/// assert_eq!(end_of_life("claude-sonnet-4-5@20250929"), Some("2026-11-30"));
/// assert_eq!(end_of_life("us.anthropic.claude-sonnet-4-5-20250929-v1:0"), Some("2026-11-30"));
/// assert_eq!(end_of_life(CURRENT), None);
/// ```
pub fn end_of_life(model: &str) -> Option<&'static str> {
    let first_party = first_party_name(model);
    DEPRECATED
        .iter()
        .find(|(name, _)| *name == model || *name == first_party)
        .map(|(_, date)| *date)
}

/// The first-party name in a platform's model id: the part after the last
/// `/` (an ARN) and after `anthropic.` without Bedrock's `-v1:0` version,
/// or with Vertex AI's `@` as the first-party `-`.
fn first_party_name(model: &str) -> Cow<'_, str> {
    let id = model.rsplit('/').next().unwrap_or(model);
    let id = match id.split_once("anthropic.") {
        Some((_, name)) => name
            .rsplit_once("-v")
            .filter(|(_, version)| {
                version
                    .split(':')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map_or(name, |(name, _)| name),
        None => id,
    };
    // Checked for every request: a copy only for a Vertex AI id.
    if id.contains('@') {
        Cow::Owned(id.replace('@', "-"))
    } else {
        Cow::Borrowed(id)
    }
}

/// Logs a warning the first time in this process that a request names
/// `model`, when it is deprecated. Returns whether it warned.
pub(crate) fn warn_if_deprecated(model: &str) -> bool {
    static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(date) = end_of_life(model) else {
        return false;
    };
    let warned = WARNED.get_or_init(Mutex::default);
    // A poisoned set only means a panic elsewhere mid-insert; the set is
    // still usable, and a repeated warning is harmless.
    let mut warned = warned.lock().unwrap_or_else(|e| e.into_inner());
    if !warned.insert(model.to_owned()) {
        return false;
    }
    tracing::warn!(
        model,
        end_of_life = date,
        "model {model} is deprecated and reaches end of life on {date}: move to a newer model \
         such as {CURRENT} (see https://docs.claude.com/en/docs/about-claude/model-deprecations)"
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_once_per_deprecated_model() {
        assert!(warn_if_deprecated("claude-opus-4-5-20251101"));
        assert!(!warn_if_deprecated("claude-opus-4-5-20251101"));
        assert!(!warn_if_deprecated(CURRENT));
    }

    #[test]
    fn platform_ids_name_their_first_party_model() {
        for id in [
            "anthropic.claude-opus-4-5-20251101-v1:0",
            "global.anthropic.claude-opus-4-5-20251101-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-5-20251101-v1:0",
            "claude-opus-4-5@20251101",
            "claude-opus-4-5",
        ] {
            assert_eq!(end_of_life(id), Some("2027-01-22"), "{id}");
        }
        for id in [
            "anthropic.claude-opus-5-5-v1:0",
            "claude-opus-5-5@20261001",
            "vx",
        ] {
            assert_eq!(end_of_life(id), None, "{id}");
        }
    }

    #[test]
    fn the_current_model_is_not_deprecated() {
        assert_eq!(end_of_life(CURRENT), None);
        assert_eq!(end_of_life("claude-opus-4-5"), Some("2027-01-22"));
    }
}
