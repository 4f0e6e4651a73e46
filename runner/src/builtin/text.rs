//! Text edits and views shared by the memory tool and the text editor:
//! line-numbered views, unique replacement, insertion after a line.
//!
//! Pure functions on strings; errors are messages for the model.

use std::fmt::Write as _;

/// Width of the line-number column, enough for 999,999 lines.
const NUMBER_WIDTH: usize = 6;

/// Lines of context shown around an edit.
const SNIPPET_CONTEXT: usize = 3;

/// The lines of `text`, without the empty one a final newline leaves.
pub(crate) fn lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
}

/// `lines` numbered from `first`, one per line: the number right-aligned in
/// six columns, a tab, the line.
pub(crate) fn numbered<'a>(lines: impl IntoIterator<Item = &'a str>, first: usize) -> String {
    let mut out = String::new();
    for (i, line) in lines.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = write!(out, "{:>NUMBER_WIDTH$}\t{line}", first + i);
    }
    out
}

/// The numbered lines of `text` in `range` (`[first, last]`, 1-based, `last`
/// -1 for the end), or the whole text.
pub(crate) fn view(text: &str, range: Option<[i64; 2]>, shown: &str) -> Result<String, String> {
    let lines = lines(text);
    let Some([first, last]) = range else {
        return Ok(numbered(lines.iter().copied(), 1));
    };
    let count = lines.len() as i64;
    if count == 0 && first == 1 && (last == -1 || last == 1) {
        return Ok(String::new());
    }
    let end = if last == -1 { count } else { last };
    if first < 1 || first > count.max(1) || end < first || end > count {
        return Err(format!(
            "invalid `view_range` [{first}, {last}]: `{shown}` has {count} lines; give [first, last] with 1 <= first <= last <= {count}, or last = -1 for the end"
        ));
    }
    let (from, to) = (first as usize - 1, end as usize);
    Ok(numbered(lines[from..to].iter().copied(), from + 1))
}

/// `text` with the one occurrence of `old` replaced by `new`, and the
/// 0-based line where the replacement starts.
pub(crate) fn replace_once(
    text: &str,
    old: &str,
    new: &str,
    shown: &str,
) -> Result<(String, usize), String> {
    if old.is_empty() {
        return Err(format!(
            "no replacement was performed in `{shown}`: `old_str` is empty"
        ));
    }
    let starts: Vec<usize> = text.match_indices(old).map(|(at, _)| at).collect();
    match starts.as_slice() {
        [] => Err(format!(
            "no replacement was performed: `old_str` `{old}` does not appear verbatim in `{shown}`"
        )),
        [at] => {
            let mut edited = String::with_capacity(text.len() - old.len() + new.len());
            edited.push_str(&text[..*at]);
            edited.push_str(new);
            edited.push_str(&text[at + old.len()..]);
            Ok((edited, line_of(text, *at)))
        }
        many => {
            let lines: Vec<String> = many
                .iter()
                .map(|&at| (line_of(text, at) + 1).to_string())
                .collect();
            Err(format!(
                "no replacement was performed: `old_str` `{old}` appears {} times in `{shown}` (lines {}); it must appear exactly once, so include more of the surrounding text",
                many.len(),
                lines.join(", ")
            ))
        }
    }
}

/// The 0-based line holding byte `at` of `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// `text` with `insert` placed after line `after` (0 for the top), and the
/// 0-based line where it starts.
pub(crate) fn insert_after(
    text: &str,
    after: i64,
    insert: &str,
    shown: &str,
) -> Result<(String, usize), String> {
    let mut parts: Vec<&str> = text.split_inclusive('\n').collect();
    let count = parts.len() as i64;
    if after < 0 || after > count {
        return Err(format!(
            "invalid `insert_line` {after}: `{shown}` has {count} lines, so it must be between 0 and {count}"
        ));
    }
    let at = after as usize;
    let mut edited = String::with_capacity(text.len() + insert.len() + 2);
    // A last line without a newline gets one before text goes after it.
    let needs_newline = at == parts.len() && parts.last().is_some_and(|l| !l.ends_with('\n'));
    for part in parts.drain(..at) {
        edited.push_str(part);
    }
    if needs_newline {
        edited.push('\n');
    }
    edited.push_str(insert);
    // Inserted lines end with a newline, except at the end of a file that
    // has none there, whose style is kept.
    let keeps_unterminated = parts.is_empty() && needs_newline;
    if !insert.ends_with('\n') && !keeps_unterminated {
        edited.push('\n');
    }
    for part in parts {
        edited.push_str(part);
    }
    Ok((edited, at))
}

/// The numbered lines around line `changed` (0-based) of `text`, spanning
/// `new_lines` lines of new text.
pub(crate) fn snippet(text: &str, changed: usize, new_lines: usize) -> String {
    let lines = lines(text);
    let from = changed.saturating_sub(SNIPPET_CONTEXT);
    let to = (changed + new_lines.max(1) + SNIPPET_CONTEXT).min(lines.len());
    numbered(lines[from.min(to)..to].iter().copied(), from + 1)
}

/// A size as `du -h` writes it: `512B`, `1.5K`, `4.0K`, `2.3M`.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["K", "M", "G", "T"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_number_lines_and_honour_ranges() {
        let text = "a\nb\nc\n";
        assert_eq!(
            view(text, None, "f").unwrap(),
            "     1\ta\n     2\tb\n     3\tc"
        );
        assert_eq!(
            view(text, Some([2, -1]), "f").unwrap(),
            "     2\tb\n     3\tc"
        );
        assert_eq!(view(text, Some([2, 2]), "f").unwrap(), "     2\tb");
        let err = view(text, Some([3, 9]), "f").unwrap_err();
        assert!(
            err.starts_with("invalid `view_range` [3, 9]: `f` has 3 lines"),
            "{err}"
        );
        assert!(view(text, Some([0, 1]), "f").is_err());
        assert!(view(text, Some([3, 2]), "f").is_err());
        assert_eq!(view("", Some([1, -1]), "f").unwrap(), "");
    }

    #[test]
    fn replace_needs_exactly_one_match() {
        let (edited, line) = replace_once("x\nab\ny", "ab", "cd", "f").unwrap();
        assert_eq!((edited.as_str(), line), ("x\ncd\ny", 1));
        let none = replace_once("x", "ab", "cd", "f").unwrap_err();
        assert!(none.contains("does not appear verbatim in `f`"), "{none}");
        let two = replace_once("ab\nab\n", "ab", "cd", "f").unwrap_err();
        assert!(two.contains("appears 2 times in `f` (lines 1, 2)"), "{two}");
        assert!(
            replace_once("x", "", "y", "f")
                .unwrap_err()
                .contains("empty")
        );
    }

    #[test]
    fn insert_keeps_lines_whole() {
        assert_eq!(insert_after("a\nb\n", 0, "z", "f").unwrap().0, "z\na\nb\n");
        assert_eq!(
            insert_after("a\nb\n", 1, "z\n", "f").unwrap().0,
            "a\nz\nb\n"
        );
        assert_eq!(insert_after("a\nb\n", 2, "z", "f").unwrap().0, "a\nb\nz\n");
        assert_eq!(insert_after("a\nb", 2, "z", "f").unwrap().0, "a\nb\nz");
        assert_eq!(insert_after("a\nb", 2, "z\n", "f").unwrap().0, "a\nb\nz\n");
        assert_eq!(insert_after("", 0, "z", "f").unwrap().0, "z\n");
        let err = insert_after("a\n", 3, "z", "f").unwrap_err();
        assert!(
            err.contains("invalid `insert_line` 3: `f` has 1 lines"),
            "{err}"
        );
        assert!(insert_after("a\n", -1, "z", "f").is_err());
    }

    #[test]
    fn sizes_read_like_du() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(1023), "1023B");
        assert_eq!(human_size(1536), "1.5K");
        assert_eq!(human_size(4096), "4.0K");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0M");
    }
}
