//! Python names for tools and their parameters: tool names and property
//! names need not be Python identifiers, so each gets one that is, and
//! calls map it back.

use std::collections::HashSet;

/// Python's keywords: never usable as names.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Names a tool function must not take: builtins it would shadow (or that
/// would shadow it), modules the sandbox offers, and the names the stubs
/// import from `typing`.
const RESERVED: &[&str] = &[
    // Builtins.
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
    "Exception",
    "BaseException",
    // Modules.
    "asyncio",
    "base64",
    "binascii",
    "collections",
    "dataclasses",
    "datetime",
    "functools",
    "gc",
    "itertools",
    "json",
    "math",
    "os",
    "pathlib",
    "re",
    "sys",
    "typing",
    "unicodedata",
    // The stubs' imports.
    "Any",
    "Literal",
    "NotRequired",
    "TypedDict",
];

/// Whether `name` is an ASCII Python identifier that is not a keyword.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}

/// Hands out distinct Python names.
#[derive(Debug, Default)]
pub(crate) struct NameTable {
    taken: HashSet<String>,
}

impl NameTable {
    /// A table where builtins, modules and the stubs' imports are taken, for
    /// names at module level.
    pub(crate) fn module_level() -> Self {
        NameTable {
            taken: RESERVED.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// A Python name for `raw`, not handed out before: `raw` itself when it
    /// is a usable identifier; otherwise other characters become `_`, a
    /// leading digit gets a `_` before it, and a keyword or a taken name gets
    /// `_` (then `_2`, `_3`...) after it.
    pub(crate) fn assign(&mut self, raw: &str) -> String {
        let mut base: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
            base.insert(0, '_');
        }
        let mut name = base.clone();
        if KEYWORDS.contains(&name.as_str()) || self.taken.contains(&name) {
            name.push('_');
            let mut n = 2;
            while self.taken.contains(&name) {
                name = format!("{base}_{n}");
                n += 1;
            }
        }
        self.taken.insert(name.clone());
        name
    }
}

/// `snake_case` or `kebab-case` (or anything else) as `PascalCase`, for
/// class names.
pub(crate) fn pascal_case(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut upper = true;
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_distinct_identifiers() {
        let mut table = NameTable::module_level();
        assert_eq!(table.assign("get_weather"), "get_weather");
        assert_eq!(table.assign("get-weather"), "get_weather_");
        assert_eq!(table.assign("get.weather"), "get_weather_2");
        assert_eq!(table.assign("3d-render"), "_3d_render");
        assert_eq!(table.assign("class"), "class_");
        assert_eq!(table.assign("print"), "print_");
        assert_eq!(table.assign("json"), "json_");
        assert_eq!(table.assign(""), "_");
    }

    #[test]
    fn identifiers_are_recognised() {
        assert!(is_identifier("city"));
        assert!(is_identifier("_x1"));
        assert!(!is_identifier("1x"));
        assert!(!is_identifier("user-id"));
        assert!(!is_identifier("from"));
        assert!(!is_identifier("café"));
    }

    #[test]
    fn pascal_case_joins_words() {
        assert_eq!(pascal_case("search_filters"), "SearchFilters");
        assert_eq!(pascal_case("3d-render"), "3dRender");
        assert_eq!(pascal_case("Address"), "Address");
    }
}
