//! The keys `#[tool(...)]` understands, as named constants, so that parsing
//! and error messages cannot drift apart through a typo.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// One attribute key.
#[derive(Copy, Clone)]
pub(crate) struct Symbol(pub(crate) &'static str);

/// The attribute itself, also used on parameters.
pub(crate) const TOOL: Symbol = Symbol("tool");
/// Doc comments, which become descriptions.
pub(crate) const DOC: Symbol = Symbol("doc");
/// Conditional compilation, refused on parameters.
pub(crate) const CFG: Symbol = Symbol("cfg");
/// Conditional attributes, refused on parameters.
pub(crate) const CFG_ATTR: Symbol = Symbol("cfg_attr");

// Options of `#[tool(...)]` on the function.
pub(crate) const NAME: Symbol = Symbol("name");
pub(crate) const DESCRIPTION: Symbol = Symbol("description");
pub(crate) const ALLOWED_CALLERS: Symbol = Symbol("allowed_callers");
pub(crate) const STRICT: Symbol = Symbol("strict");
pub(crate) const DEFER_LOADING: Symbol = Symbol("defer_loading");
pub(crate) const INPUT_EXAMPLES: Symbol = Symbol("input_examples");
pub(crate) const EAGER_INPUT_STREAMING: Symbol = Symbol("eager_input_streaming");
pub(crate) const INLINE: Symbol = Symbol("inline");

/// Every function option, in the order error messages list them.
pub(crate) const TOOL_OPTIONS: &[Symbol] = &[
    NAME,
    DESCRIPTION,
    ALLOWED_CALLERS,
    STRICT,
    DEFER_LOADING,
    INPUT_EXAMPLES,
    EAGER_INPUT_STREAMING,
    INLINE,
];

// Options of `#[tool(...)]` on a parameter.
pub(crate) const RENAME: Symbol = Symbol("rename");
pub(crate) const DEFAULT: Symbol = Symbol("default");

/// Every parameter option, in the order error messages list them.
pub(crate) const PARAM_OPTIONS: &[Symbol] = &[RENAME, DEFAULT];

// Callers accepted in `allowed_callers`.
pub(crate) const DIRECT: &str = "direct";
pub(crate) const CODE: &str = "code";
/// A code-execution version to show in error messages.
pub(crate) const CODE_EXECUTION_EXAMPLE: &str = "code_execution_20260120";

// Types that are filled from the call's context instead of the input,
// recognised by the last segment of their path.
pub(crate) const STATE: Symbol = Symbol("State");
pub(crate) const TOOL_CALL: Symbol = Symbol("ToolCall");
pub(crate) const OPTION: Symbol = Symbol("Option");
pub(crate) const RESULT: Symbol = Symbol("Result");

/// Lists symbols as "`a`, `b` or `c`" for error messages.
pub(crate) fn one_of(symbols: &[Symbol]) -> String {
    let mut out = String::new();
    for (i, symbol) in symbols.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == symbols.len() { " or " } else { ", " });
        }
        out.push('`');
        out.push_str(symbol.0);
        out.push('`');
    }
    out
}

/// The symbol `word` was probably meant to be, for "did you mean" hints:
/// one within two single-character edits.
pub(crate) fn closest(word: &str, symbols: &[Symbol]) -> Option<Symbol> {
    symbols
        .iter()
        .map(|s| (edit_distance(word, s.0), *s))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
}

/// Levenshtein distance, with a swap of two neighbours counting as one edit
/// (the most common typo: `nmae`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}
