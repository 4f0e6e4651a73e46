//! Token usage summed over many requests, and what it may cost.
//!
//! [`TokenUsage`] adds up the [`Usage`] of replies; [`RunUsage`] keeps a
//! run's turns and its compaction apart ([`ToolRunner::usage`](crate::ToolRunner::usage));
//! [`PriceTable`] turns either into an estimated cost. Plain data, so that
//! anything that runs many requests (a runner, a fleet of runs through
//! batches) can sum them the same way.
//!
//! ```
//! use toolrunner::usage::{PriceTable, TokenUsage};
//! use toolrunner::Usage;
//!
//! let reply: Usage = serde_json::from_value(serde_json::json!({
//!     "input_tokens": 40, "output_tokens": 200,
//!     "cache_creation_input_tokens": 1000, "cache_read_input_tokens": 9000
//! })).unwrap();
//! let mut total = TokenUsage::default();
//! total += &reply;
//! total += &reply;
//! assert_eq!(total.requests, 2);
//! assert_eq!(total.cache_read_input_tokens, 18_000);
//! // Reads at a tenth of the input price, writes at 1.25 times it.
//! assert_eq!(total.billed_input_units(), 80.0 + 1800.0 + 2500.0);
//!
//! let cost = PriceTable::published().estimate("claude-sonnet-4-5", &total);
//! assert!(cost.is_some_and(|dollars| dollars > 0.0));
//! ```

use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::types::Usage;

/// Tokens summed over requests: what the API bills for.
///
/// Add a reply's [`Usage`] with `+=`; add two totals with `+` or `+=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenUsage {
    /// The number of requests (or server-side compactions) summed.
    pub requests: u64,
    /// Input tokens neither read from nor written to the prompt cache.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens written to the prompt cache.
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read_input_tokens: u64,
    /// Server tool uses (web searches, web fetches, ...), all kinds summed.
    pub server_tool_uses: u64,
}

impl TokenUsage {
    /// The usage of one reply.
    pub fn of(usage: &Usage) -> Self {
        TokenUsage {
            requests: 1,
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cache_creation_input_tokens: usage.cache_creation_input_tokens.unwrap_or(0),
            cache_read_input_tokens: usage.cache_read_input_tokens.unwrap_or(0),
            server_tool_uses: server_tool_uses(usage.extra.get("server_tool_use")),
        }
    }

    /// All input tokens, cached or not.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens
    }

    /// Input tokens weighed as the API prices them against uncached input:
    /// cache reads at 0.1, cache writes (five-minute) at 1.25.
    ///
    /// ```
    /// let usage = toolrunner::usage::TokenUsage {
    ///     input_tokens: 10,
    ///     cache_read_input_tokens: 1000,
    ///     cache_creation_input_tokens: 100,
    ///     ..Default::default()
    /// };
    /// assert_eq!(usage.billed_input_units(), 10.0 + 100.0 + 125.0);
    /// ```
    pub fn billed_input_units(&self) -> f64 {
        self.input_tokens as f64
            + self.cache_read_input_tokens as f64 * CACHE_READ_FACTOR
            + self.cache_creation_input_tokens as f64 * CACHE_WRITE_FACTOR
    }

    /// Whether nothing was summed.
    pub fn is_empty(&self) -> bool {
        *self == TokenUsage::default()
    }
}

/// The price of a cache read against uncached input.
const CACHE_READ_FACTOR: f64 = 0.1;
/// The price of a five-minute cache write against uncached input.
const CACHE_WRITE_FACTOR: f64 = 1.25;

/// The counts of `usage.server_tool_use` (`web_search_requests`,
/// `web_fetch_requests`, and any kind added later), summed.
fn server_tool_uses(counts: Option<&Value>) -> u64 {
    match counts {
        Some(Value::Object(counts)) => counts.values().filter_map(Value::as_u64).sum(),
        _ => 0,
    }
}

impl AddAssign for TokenUsage {
    fn add_assign(&mut self, other: TokenUsage) {
        self.requests += other.requests;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.cache_read_input_tokens += other.cache_read_input_tokens;
        self.server_tool_uses += other.server_tool_uses;
    }
}

impl AddAssign<&Usage> for TokenUsage {
    fn add_assign(&mut self, usage: &Usage) {
        *self += TokenUsage::of(usage);
    }
}

impl Add for TokenUsage {
    type Output = TokenUsage;

    fn add(mut self, other: TokenUsage) -> TokenUsage {
        self += other;
        self
    }
}

impl std::iter::Sum for TokenUsage {
    fn sum<I: Iterator<Item = TokenUsage>>(iter: I) -> Self {
        iter.fold(TokenUsage::default(), Add::add)
    }
}

/// What a run used: its turns, and its compaction apart.
///
/// `turns` sums the replies to the conversation's requests; `compaction`
/// sums the summary requests of client-side compaction
/// ([`Compaction::new`](crate::Compaction::new)) and the compaction the
/// server did within a request ([`Compaction::server`](crate::Compaction::server)),
/// which the API reports apart, in `usage.iterations`, and leaves out of
/// the reply's own counts.
///
/// ```
/// use toolrunner::usage::RunUsage;
///
/// let usage = RunUsage::default();
/// assert_eq!(usage.total(), usage.turns + usage.compaction);
/// // Runs sum alike, as a fleet of them would.
/// let fleet: RunUsage = [usage, usage].into_iter().sum();
/// assert_eq!(fleet, usage + usage);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunUsage {
    /// The conversation's requests.
    pub turns: TokenUsage,
    /// Compaction: summary requests, and compaction done by the server.
    pub compaction: TokenUsage,
}

impl RunUsage {
    /// Turns and compaction together.
    pub fn total(&self) -> TokenUsage {
        self.turns + self.compaction
    }

    /// Adds the usage of a reply to the conversation, and of any
    /// compaction the server did within it.
    pub(crate) fn add_turn(&mut self, usage: &Usage) {
        self.turns += usage;
        let iterations = usage.extra.get("iterations").and_then(Value::as_array);
        for iteration in iterations.into_iter().flatten() {
            if iteration.get("type").and_then(Value::as_str) == Some("compaction")
                && let Ok(compaction) = serde_json::from_value::<Usage>(iteration.clone())
            {
                self.compaction += &compaction;
            }
        }
    }

    /// Adds the usage of a summary request.
    pub(crate) fn add_summary(&mut self, usage: &Usage) {
        self.compaction += usage;
    }
}

impl AddAssign for RunUsage {
    fn add_assign(&mut self, other: RunUsage) {
        self.turns += other.turns;
        self.compaction += other.compaction;
    }
}

impl Add for RunUsage {
    type Output = RunUsage;

    fn add(mut self, other: RunUsage) -> RunUsage {
        self += other;
        self
    }
}

/// Many runs' usage summed, turns and compaction each apart.
impl std::iter::Sum for RunUsage {
    fn sum<I: Iterator<Item = RunUsage>>(iter: I) -> Self {
        iter.fold(RunUsage::default(), Add::add)
    }
}

/// Prices of one model, in US dollars per million tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Price {
    /// Uncached input.
    pub input: f64,
    /// Output.
    pub output: f64,
    /// Input written to the cache (five-minute lifetime).
    pub cache_write: f64,
    /// Input read from the cache.
    pub cache_read: f64,
}

impl Price {
    /// The usual shape of a price: cache writes at 1.25 times the input
    /// price, cache reads at 0.1 times.
    pub fn per_million(input: f64, output: f64) -> Self {
        Price {
            input,
            output,
            cache_write: input * CACHE_WRITE_FACTOR,
            cache_read: input * CACHE_READ_FACTOR,
        }
    }

    /// The cost of `usage` at this price, in US dollars. Server tool uses
    /// are priced apart by the API, and left out.
    pub fn cost(&self, usage: &TokenUsage) -> f64 {
        let million = 1_000_000.0;
        (usage.input_tokens as f64 * self.input
            + usage.output_tokens as f64 * self.output
            + usage.cache_creation_input_tokens as f64 * self.cache_write
            + usage.cache_read_input_tokens as f64 * self.cache_read)
            / million
    }
}

/// Prices by model, to turn usage into an estimated cost.
///
/// [`published`](Self::published) holds the standard (not batch) prices
/// Anthropic published, read on [`PUBLISHED_AS_OF`](Self::PUBLISHED_AS_OF)
/// (sources below): prices change and models come out after that date,
/// so check them, and set your own with [`set`](Self::set). A model is
/// matched by the longest entry that begins its name, so `claude-opus-4-5`
/// covers `claude-opus-4-5-20251101`. An estimate is only that: the bill
/// is the API's.
///
/// What an estimate leaves out:
/// - cache writes are priced at the five-minute rate (1.25 times input);
///   one-hour writes cost twice the input price, and usage does not tell
///   the two apart;
/// - the Batch API bills half of every price (as a
///   [`BatchRunner`](crate::BatchRunner) does): halve the estimate;
/// - Claude Haiku 5.5 is priced at its rate for prompts up to 100,000
///   tokens; a request whose prompt (input, cache reads and writes) is
///   longer pays five times as much for all of it, which summed usage
///   cannot tell;
/// - server tools, data residency (`inference_geo`) and fast mode are
///   priced apart.
///
/// # Sources
///
/// Read on 2026-12-06, prices in US dollars per million tokens:
/// - the model pricing table of
///   <https://platform.claude.com/docs/en/about-claude/pricing> (Fable and
///   Mythos 5 and 5.1, Opus 5, Opus 4.x);
/// - each model's page under <https://platform.claude.com/docs/en/models/>
///   (Opus 5.5, Sonnet 5, Sonnet 5.5, Haiku 5.5);
/// - Fable 5.2 and Mythos 5.2 (released 2026-11-09), the Sonnet 5.5 cache
///   read cut from $0.20 to $0.10 of 2026-10-07, and Haiku 5.5's cache
///   rates are not in the copies of those pages that could be read; they
///   are as release notes of price trackers that checked the pricing page
///   give them (rightsize 0.10.2, claude-usage 1.5.7, claudit 1.9.2);
/// - earlier models, as listed before at
///   <https://docs.anthropic.com/en/docs/about-claude/pricing>.
///
/// Claude Mythos Preview (`claude-mythos-preview`) is not listed: no
/// source read gave its price.
///
/// ```
/// use toolrunner::usage::{Price, PriceTable, TokenUsage};
///
/// let table = PriceTable::published().set("my-finetune", Price::per_million(2.0, 8.0));
/// let usage = TokenUsage { input_tokens: 1_000_000, output_tokens: 500_000, ..Default::default() };
/// assert_eq!(table.estimate("my-finetune-v2", &usage), Some(2.0 + 4.0));
/// assert_eq!(table.estimate("a-model-it-does-not-list", &usage), None);
/// // The default model has a price.
/// assert!(table.price(toolrunner::models::CURRENT).is_some());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PriceTable {
    prices: Vec<(String, Price)>,
}

impl PriceTable {
    /// When the prices of [`published`](Self::published) were read from
    /// the sources its docs list.
    pub const PUBLISHED_AS_OF: &'static str = "2026-12-06";

    /// An empty table: every estimate is `None` until prices are set.
    pub fn new() -> Self {
        PriceTable { prices: Vec::new() }
    }

    /// The standard prices Anthropic published, as read on
    /// [`PUBLISHED_AS_OF`](Self::PUBLISHED_AS_OF) (see the type's docs for
    /// the sources and what is left out). Later models are not in it:
    /// [`set`](Self::set) their prices.
    pub fn published() -> Self {
        // As the pricing page's columns go: base input, five-minute cache
        // writes, cache hits, output. Cache hits are not always a tenth of
        // input (Fable 5.1's are a fortieth), so every rate is as listed.
        let table: &[(&str, f64, f64, f64, f64)] = &[
            ("claude-fable-5-2", 8.0, 10.0, 0.20, 40.0),
            ("claude-mythos-5-2", 8.0, 10.0, 0.20, 40.0),
            ("claude-fable-5-1", 10.0, 12.50, 0.25, 50.0),
            ("claude-mythos-5-1", 10.0, 12.50, 0.25, 50.0),
            ("claude-fable-5", 10.0, 12.50, 1.0, 50.0),
            ("claude-mythos-5", 10.0, 12.50, 1.0, 50.0),
            ("claude-opus-5-5", 4.0, 5.0, 0.20, 20.0),
            ("claude-opus-5", 5.0, 6.25, 0.50, 25.0),
            ("claude-opus-4-8", 5.0, 6.25, 0.50, 25.0),
            ("claude-opus-4-7", 5.0, 6.25, 0.50, 25.0),
            ("claude-opus-4-6", 5.0, 6.25, 0.50, 25.0),
            ("claude-opus-4-5", 5.0, 6.25, 0.50, 25.0),
            ("claude-opus-4-1", 15.0, 18.75, 1.50, 75.0),
            ("claude-opus-4-0", 15.0, 18.75, 1.50, 75.0),
            ("claude-opus-4-20250514", 15.0, 18.75, 1.50, 75.0),
            ("claude-sonnet-5-5", 2.0, 2.50, 0.10, 10.0),
            ("claude-sonnet-5", 2.0, 2.50, 0.20, 10.0),
            // Sonnet 4, 4.5 and 4.6, aliases and dated names alike.
            ("claude-sonnet-4-", 3.0, 3.75, 0.30, 15.0),
            ("claude-3-7-sonnet", 3.0, 3.75, 0.30, 15.0),
            // Prompts of up to 100,000 tokens (see the type's docs).
            ("claude-haiku-5-5", 0.10, 0.125, 0.01, 0.50),
            ("claude-haiku-4-5", 1.0, 1.25, 0.10, 5.0),
            ("claude-3-5-haiku", 0.80, 1.0, 0.08, 4.0),
            ("claude-3-haiku", 0.25, 0.30, 0.03, 1.25),
        ];
        let mut prices = PriceTable::new();
        for &(model, input, cache_write, cache_read, output) in table {
            let price = Price {
                input,
                output,
                cache_write,
                cache_read,
            };
            prices = prices.set(model, price);
        }
        prices
    }

    /// Sets the price of the models whose names begin with `model`,
    /// replacing any price set for exactly that prefix.
    #[must_use]
    pub fn set(mut self, model: impl Into<String>, price: Price) -> Self {
        let model = model.into();
        self.prices.retain(|(name, _)| *name != model);
        self.prices.push((model, price));
        self
    }

    /// The price of `model`: the entry with the longest name that begins it.
    pub fn price(&self, model: &str) -> Option<&Price> {
        self.prices
            .iter()
            .filter(|(name, _)| model.starts_with(name.as_str()))
            .max_by_key(|(name, _)| name.len())
            .map(|(_, price)| price)
    }

    /// The estimated cost of `usage` on `model`, in US dollars; `None` when
    /// the table has no price for the model.
    pub fn estimate(&self, model: &str, usage: &TokenUsage) -> Option<f64> {
        self.price(model).map(|price| price.cost(usage))
    }
}

impl Default for PriceTable {
    /// The [`published`](Self::published) prices.
    fn default() -> Self {
        PriceTable::published()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn usage(value: Value) -> Usage {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn server_compaction_is_listed_apart_and_server_tools_are_summed() {
        let mut run = RunUsage::default();
        run.add_turn(&usage(json!({
            "input_tokens": 7, "output_tokens": 3,
            "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20,
            "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 1},
            "iterations": [
                {"type": "compaction", "input_tokens": 500, "output_tokens": 40,
                 "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
                {"type": "message", "input_tokens": 7, "output_tokens": 3,
                 "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20}
            ]
        })));
        run.add_summary(&usage(json!({"input_tokens": 60, "output_tokens": 9})));
        assert_eq!(
            run.turns,
            TokenUsage {
                requests: 1,
                input_tokens: 7,
                output_tokens: 3,
                cache_creation_input_tokens: 20,
                cache_read_input_tokens: 100,
                server_tool_uses: 3,
            }
        );
        assert_eq!(
            run.compaction,
            TokenUsage {
                requests: 2,
                input_tokens: 560,
                output_tokens: 49,
                ..TokenUsage::default()
            }
        );
        assert_eq!(run.total().input_tokens, 567);
    }

    #[test]
    fn the_longest_prefix_prices_a_model() {
        let table = PriceTable::published();
        assert_eq!(
            table.price("claude-sonnet-4-5-20250929").unwrap().input,
            3.0
        );
        assert_eq!(table.price("claude-opus-4-5-20251101").unwrap().input, 5.0);
        // A shorter entry never prices a model that has its own.
        assert_eq!(table.price("claude-opus-5-5").unwrap().input, 4.0);
        assert_eq!(table.price("claude-opus-5").unwrap().input, 5.0);
        assert_eq!(table.price("claude-fable-5-2").unwrap().input, 8.0);
        let table = table.set("claude-opus-4-5", Price::per_million(1.0, 2.0));
        assert_eq!(table.price("claude-opus-4-5").unwrap().output, 2.0);
        assert_eq!(table.price("gpt"), None);
    }

    /// Every model the crate names has a price: the default one, and the
    /// deprecated ones, which runs still use until their end of life.
    /// Claude Mythos Preview is left out of the table: no source gave its
    /// price (see `PriceTable`'s docs).
    #[test]
    fn every_model_the_crate_names_has_a_published_price() {
        let table = PriceTable::published();
        assert!(table.price(crate::models::CURRENT).is_some());
        let unpriced: Vec<&str> = crate::models::DEPRECATED
            .iter()
            .map(|(model, _)| *model)
            .filter(|model| table.price(model).is_none())
            .collect();
        assert_eq!(unpriced, ["claude-mythos-preview"]);
    }

    /// The official SDK's model list (`anthropic` 2.17, `types/model.py`),
    /// all priced but the one no source priced.
    #[test]
    fn every_model_of_the_sdk_has_a_published_price() {
        let sdk = [
            "claude-fable-5-2",
            "claude-mythos-5-2",
            "claude-haiku-5-5",
            "claude-sonnet-5-5",
            "claude-fable-5-1",
            "claude-opus-5-5",
            "claude-mythos-5-1",
            "claude-sonnet-5",
            "claude-fable-5",
            "claude-mythos-5",
            "claude-opus-5",
            "claude-opus-4-8",
            "claude-opus-4-7",
            "claude-mythos-preview",
            "claude-opus-4-6",
            "claude-sonnet-4-6",
            "claude-haiku-4-5",
            "claude-haiku-4-5-20251001",
            "claude-opus-4-5",
            "claude-opus-4-5-20251101",
        ];
        let table = PriceTable::published();
        let unpriced: Vec<&str> = sdk
            .into_iter()
            .filter(|model| table.price(model).is_none())
            .collect();
        assert_eq!(unpriced, ["claude-mythos-preview"]);
    }

    /// A default run's cost, against the rates Claude Opus 5.5's page
    /// lists: $4 input, $5 five-minute cache writes, $0.20 cache reads and
    /// $20 output per million tokens.
    #[test]
    fn a_default_runs_cost_is_the_one_worked_out_by_hand() {
        let usage = TokenUsage {
            requests: 3,
            input_tokens: 200_000,
            output_tokens: 50_000,
            cache_creation_input_tokens: 100_000,
            cache_read_input_tokens: 2_000_000,
            server_tool_uses: 0,
        };
        // 0.2 × 4 + 0.05 × 20 + 0.1 × 5 + 2 × 0.2 = 0.8 + 1.0 + 0.5 + 0.4.
        let by_hand = 2.7;
        let cost = PriceTable::published()
            .estimate(crate::models::CURRENT, &usage)
            .expect("the default model has a price");
        assert!((cost - by_hand).abs() < 1e-9, "{cost}");
        // Fable 5.1's cache reads are a fortieth of its input price, not a
        // tenth: 1M reads cost $0.25.
        let reads = TokenUsage {
            cache_read_input_tokens: 1_000_000,
            ..TokenUsage::default()
        };
        let cost = PriceTable::published()
            .estimate("claude-fable-5-1", &reads)
            .unwrap();
        assert!((cost - 0.25).abs() < 1e-9, "{cost}");
    }
}
