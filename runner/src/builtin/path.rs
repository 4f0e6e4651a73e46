//! [`MemoryPath`]: a path the model wrote, checked by its spelling alone.
//!
//! Everything that could name a place outside the root is refused here,
//! before any store sees the path: `..` above the root, absolute paths
//! elsewhere, backslashes, NUL bytes and percent-encoding (a store that
//! decodes `%2e%2e` later would otherwise see `..`). What the spelling cannot
//! show, symbolic links, is the store's to check.

use std::fmt;

/// A normalized path below a tool's root: no `.`, no `..`, no empty parts.
///
/// The memory tool shows it as `/memories/...`; stores see the parts
/// relative to their root.
///
/// ```
/// use toolrunner::builtin::MemoryPath;
///
/// let path = MemoryPath::parse_memory("/memories/notes/./todo.md").unwrap();
/// assert_eq!(path.as_str(), "notes/todo.md");
/// assert_eq!(path.to_string(), "/memories/notes/todo.md");
/// assert!(MemoryPath::parse_memory("/memories/../etc/passwd").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemoryPath {
    /// The parts joined by `/`; empty for the root.
    rel: String,
}

/// The memory tool's virtual root.
pub const MEMORY_ROOT: &str = "/memories";

/// Why a path was refused: it is, or could be, outside the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRefusal {
    /// The path as the model wrote it.
    pub path: String,
    /// What gave it away, e.g. "it climbs above the root with `..`".
    pub reason: String,
}

impl PathRefusal {
    pub(crate) fn new(path: &str, reason: impl Into<String>) -> Self {
        PathRefusal {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    /// The message for the model, naming the directory the path must stay in.
    pub fn message(&self, directory: &str) -> String {
        format!(
            "the path `{}` is outside the {directory}: {}",
            self.path.escape_debug(),
            self.reason
        )
    }
}

impl fmt::Display for PathRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message("root directory"))
    }
}

impl std::error::Error for PathRefusal {}

impl MemoryPath {
    /// The root itself.
    pub fn root() -> Self {
        MemoryPath { rel: String::new() }
    }

    /// Parses a memory-tool path: `/memories` or a path below it.
    ///
    /// # Errors
    ///
    /// When the path does not start with `/memories`, or is refused by
    /// [`parse_relative`](Self::parse_relative)'s rules.
    pub fn parse_memory(raw: &str) -> Result<Self, PathRefusal> {
        check_spelling(raw)?;
        let rest = raw
            .strip_prefix(MEMORY_ROOT)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .ok_or_else(|| {
                PathRefusal::new(raw, format!("memory paths start with `{MEMORY_ROOT}`"))
            })?;
        normalize(raw, rest)
    }

    /// Parses a path relative to the root (a leading `/` is read as the root).
    ///
    /// # Errors
    ///
    /// On a NUL byte, a backslash, percent-encoding, a drive letter, or a
    /// `..` that climbs above the root.
    pub fn parse_relative(raw: &str) -> Result<Self, PathRefusal> {
        check_spelling(raw)?;
        normalize(raw, raw)
    }

    /// The parts joined by `/`, relative to the root; empty for the root.
    pub fn as_str(&self) -> &str {
        &self.rel
    }

    /// Whether this is the root itself.
    pub fn is_root(&self) -> bool {
        self.rel.is_empty()
    }

    /// The parts, outermost first.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.rel.split('/').filter(|c| !c.is_empty())
    }

    /// The last part, or `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        self.components().last()
    }

    /// The directory holding this path, or `None` for the root.
    pub fn parent(&self) -> Option<MemoryPath> {
        if self.is_root() {
            return None;
        }
        let rel = match self.rel.rfind('/') {
            Some(i) => self.rel[..i].to_owned(),
            None => String::new(),
        };
        Some(MemoryPath { rel })
    }

    /// `name` inside this directory, when `name` is one plain part (not
    /// `.`, `..`, empty, or containing `/`, `\` or NUL).
    pub fn join(&self, name: &str) -> Option<MemoryPath> {
        let plain =
            !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
        plain.then(|| MemoryPath {
            rel: if self.is_root() {
                name.to_owned()
            } else {
                format!("{}/{name}", self.rel)
            },
        })
    }

    /// Whether `self` is `ancestor` or lies below it.
    pub fn is_within(&self, ancestor: &MemoryPath) -> bool {
        ancestor.is_root()
            || self.rel == ancestor.rel
            || (self.rel.starts_with(&ancestor.rel)
                && self.rel.as_bytes().get(ancestor.rel.len()) == Some(&b'/'))
    }
}

/// Shows the path as the memory tool does: `/memories/...`.
impl fmt::Display for MemoryPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            f.write_str(MEMORY_ROOT)
        } else {
            write!(f, "{MEMORY_ROOT}/{}", self.rel)
        }
    }
}

/// Refuses spellings that mean something else to some layer below us.
fn check_spelling(raw: &str) -> Result<(), PathRefusal> {
    if raw.contains('\0') {
        return Err(PathRefusal::new(raw, "it contains a NUL byte"));
    }
    if raw.contains('\\') {
        return Err(PathRefusal::new(
            raw,
            "it contains a backslash; separate parts with `/`",
        ));
    }
    if has_percent_escape(raw) {
        return Err(PathRefusal::new(
            raw,
            "it contains percent-encoding such as `%2e`; write paths unencoded",
        ));
    }
    let first = raw.split('/').find(|c| !c.is_empty()).unwrap_or("");
    if first.len() == 2 && first.as_bytes()[0].is_ascii_alphabetic() && first.ends_with(':') {
        return Err(PathRefusal::new(raw, "it names a drive"));
    }
    Ok(())
}

/// Whether `raw` holds `%` and two hex digits, which some layer might decode.
fn has_percent_escape(raw: &str) -> bool {
    raw.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// Drops `.` and empty parts and applies `..`, refusing to climb above the root.
fn normalize(raw: &str, rest: &str) -> Result<MemoryPath, PathRefusal> {
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathRefusal::new(raw, "it climbs above the root with `..`"));
                }
            }
            _ => parts.push(part),
        }
    }
    Ok(MemoryPath {
        rel: parts.join("/"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> String {
        MemoryPath::parse_memory(raw)
            .unwrap_err()
            .message("memory directory")
    }

    #[test]
    fn memory_paths_normalize_below_the_root() {
        for (raw, rel) in [
            ("/memories", ""),
            ("/memories/", ""),
            ("/memories/a.md", "a.md"),
            ("/memories//a/./b.md", "a/b.md"),
            ("/memories/a/../b.md", "b.md"),
        ] {
            assert_eq!(
                MemoryPath::parse_memory(raw).unwrap().as_str(),
                rel,
                "{raw}"
            );
        }
    }

    #[test]
    fn escapes_are_refused_with_the_reason() {
        let cases = [
            ("/memories/../etc/passwd", "climbs above the root"),
            ("/memories/a/../../x", "climbs above the root"),
            ("/etc/passwd", "start with `/memories`"),
            ("/memoriesx/a", "start with `/memories`"),
            ("memories/a", "start with `/memories`"),
            ("/memories\\..\\x", "backslash"),
            ("/memories/a\0b", "NUL byte"),
            ("/memories/%2e%2e/x", "percent-encoding"),
            ("/memories/%2E%2E%2Fx", "percent-encoding"),
        ];
        for (raw, reason) in cases {
            let message = refused(raw);
            assert!(
                message.contains("is outside the memory directory"),
                "{message}"
            );
            assert!(message.contains(reason), "{raw}: {message}");
        }
    }

    #[test]
    fn relative_paths_refuse_drives_and_climbing() {
        assert_eq!(
            MemoryPath::parse_relative("src/lib.rs").unwrap().as_str(),
            "src/lib.rs"
        );
        assert_eq!(
            MemoryPath::parse_relative("/src/lib.rs").unwrap().as_str(),
            "src/lib.rs"
        );
        assert!(MemoryPath::parse_relative("../x").is_err());
        assert!(MemoryPath::parse_relative("C:/Windows").is_err());
        assert!(MemoryPath::parse_relative("c:\\x").is_err());
    }

    #[test]
    fn join_parent_and_within() {
        let a = MemoryPath::parse_memory("/memories/a").unwrap();
        let ab = a.join("b").unwrap();
        assert_eq!(ab.to_string(), "/memories/a/b");
        assert_eq!(ab.parent(), Some(a.clone()));
        assert_eq!(a.parent(), Some(MemoryPath::root()));
        assert!(a.join("..").is_none() && a.join("x/y").is_none());
        assert!(ab.is_within(&a) && a.is_within(&a) && a.is_within(&MemoryPath::root()));
        assert!(
            !MemoryPath::parse_memory("/memories/ab")
                .unwrap()
                .is_within(&a)
        );
    }
}
