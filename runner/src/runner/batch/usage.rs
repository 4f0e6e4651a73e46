//! [`UsageTotals`]: token usage summed over requests.

use serde::{Deserialize, Serialize};

use crate::types::Usage;

/// Token usage summed over many requests: one run's, or a whole batch
/// fleet's ([`BatchRunner`](crate::BatchRunner)).
///
/// Every figure is the sum of the [`Usage`] the API reported with each
/// reply, compaction summaries included.
///
/// ```
/// use toolrunner::{Usage, UsageTotals};
///
/// let mut totals = UsageTotals::default();
/// let usage: Usage = serde_json::from_str(
///     r#"{"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100}"#,
/// ).unwrap();
/// totals.add(&usage);
/// totals.add(&usage);
/// assert_eq!(totals.requests, 2);
/// assert_eq!(totals.input_tokens, 20);
/// assert_eq!(totals.cache_read_input_tokens, 200);
/// assert_eq!(totals.total_input_tokens(), 220);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsageTotals {
    /// The replies counted.
    #[serde(default)]
    pub requests: u64,
    /// Input tokens not read from or written to the cache.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the prompt cache.
    #[serde(default)]
    pub cache_read_input_tokens: u64,
    /// Server-tool uses (web searches, web fetches and the like), summed
    /// over the kinds the API reports in `usage.server_tool_use`.
    #[serde(default)]
    pub server_tool_uses: u64,
}

impl UsageTotals {
    /// Adds one reply's usage.
    pub fn add(&mut self, usage: &Usage) {
        self.requests += 1;
        self.input_tokens += usage.input_tokens;
        self.output_tokens += usage.output_tokens;
        self.cache_creation_input_tokens += usage.cache_creation_input_tokens.unwrap_or(0);
        self.cache_read_input_tokens += usage.cache_read_input_tokens.unwrap_or(0);
        // The API reports server-tool uses per kind; new kinds count too.
        if let Some(uses) = usage
            .extra
            .get("server_tool_use")
            .and_then(|v| v.as_object())
        {
            self.server_tool_uses += uses.values().filter_map(|n| n.as_u64()).sum::<u64>();
        }
    }

    /// All input tokens, cached or not.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens
    }
}

impl std::ops::AddAssign for UsageTotals {
    fn add_assign(&mut self, other: UsageTotals) {
        self.requests += other.requests;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.cache_read_input_tokens += other.cache_read_input_tokens;
        self.server_tool_uses += other.server_tool_uses;
    }
}
