//! The commands both tools share (`view`, `create`, `str_replace`,
//! `insert`), on any [`MemoryStore`], with the limits enforced.

use super::store::{EntryKind, MemoryStore, StoreError, WriteMode};
use super::text;
use super::{Limits, MemoryPath};

/// How deep a directory view goes (the listing code is written for two).
const VIEW_DEPTH: usize = 2;

/// At most this many entries are visited to total one view's directory sizes.
const SIZE_SCAN_LIMIT: usize = 10_000;

/// A store seen by one tool: its limits and what its root is called in
/// messages ("memory directory").
pub(crate) struct Env<'a, S> {
    pub(crate) store: &'a S,
    pub(crate) limits: &'a Limits,
    pub(crate) directory: &'a str,
}

/// A path as the model wrote it (for messages) and as parsed.
pub(crate) struct Target<'a> {
    pub(crate) path: &'a MemoryPath,
    pub(crate) shown: &'a str,
}

impl<S: MemoryStore> Env<'_, S> {
    /// The message for a store failure on `shown`.
    pub(crate) fn failure(&self, shown: &str, error: StoreError) -> String {
        match error {
            StoreError::NotFound => format!("the path `{shown}` does not exist"),
            StoreError::AlreadyExists => format!("`{shown}` already exists"),
            StoreError::IsADirectory => format!("`{shown}` is a directory, not a file"),
            StoreError::NotADirectory => {
                format!("`{shown}` does not exist: part of it is a file, not a directory")
            }
            StoreError::Outside(reason) => format!(
                "the path `{shown}` is outside the {}: {reason}",
                self.directory
            ),
            StoreError::TooLarge(size) => format!(
                "`{shown}` is {size} bytes, over the limit of {} bytes (max_file_bytes)",
                self.limits.max_file_bytes
            ),
            StoreError::NotText => format!("`{shown}` is not UTF-8 text"),
            StoreError::Other(message) => format!("`{shown}`: {message}"),
        }
    }

    /// A file with line numbers, or a directory two levels deep with sizes.
    pub(crate) async fn view(
        &self,
        target: Target<'_>,
        range: Option<[i64; 2]>,
        max_characters: Option<u64>,
    ) -> Result<String, String> {
        let Target { path, shown } = target;
        let kind = self
            .store
            .stat(path)
            .await
            .map_err(|e| self.failure(shown, e))?;
        let view = match kind {
            None => return Err(self.failure(shown, StoreError::NotFound)),
            Some(EntryKind::Dir) => {
                if range.is_some() {
                    return Err(format!(
                        "`view_range` applies to files, and `{shown}` is a directory"
                    ));
                }
                self.listing(path, shown).await?
            }
            Some(_) => {
                let content = self
                    .store
                    .read(path, self.limits.max_file_bytes)
                    .await
                    .map_err(|e| self.failure(shown, e))?;
                let mut body = text::view(&content, range, shown)?;
                if let Some(max) = max_characters {
                    truncate_chars(&mut body, max);
                }
                format!("Here's the content of {shown} with line numbers:\n{body}")
            }
        };
        let chars = view.chars().count();
        if chars > self.limits.max_view_chars {
            return Err(format!(
                "the view of `{shown}` is {chars} characters, over the limit of {} characters (max_view_chars); view part of it with `view_range`",
                self.limits.max_view_chars
            ));
        }
        Ok(view)
    }

    /// The entries of `dir` up to two levels deep, hidden ones and
    /// `node_modules` left out, each with its size: a directory's is the
    /// total of the files below it (counting at most `SIZE_SCAN_LIMIT`
    /// entries per view, so that a huge tree cannot stall it).
    async fn listing(&self, dir: &MemoryPath, shown: &str) -> Result<String, String> {
        let shown = shown.trim_end_matches('/');
        let mut budget = SIZE_SCAN_LIMIT;
        let total = self.tree_size(dir, &mut budget).await;
        let mut lines = vec![format!("{}\t{shown}", text::human_size(total))];
        let top = self
            .visible_entries(dir)
            .await
            .map_err(|e| self.failure(shown, e))?;
        for (path, name, kind) in top {
            let entry_shown = format!("{shown}/{name}");
            lines.push(self.line(&path, &entry_shown, kind, &mut budget).await);
            if kind != EntryKind::Dir {
                continue;
            }
            // The second level; a directory that vanished meanwhile shows empty.
            for (inner, inner_name, inner_kind) in
                self.visible_entries(&path).await.unwrap_or_default()
            {
                let inner_shown = format!("{entry_shown}/{inner_name}");
                lines.push(
                    self.line(&inner, &inner_shown, inner_kind, &mut budget)
                        .await,
                );
            }
            // Each line takes a few characters: past this many the view is
            // over the limit whatever follows, so stop listing.
            if lines.len() > self.limits.max_view_chars {
                break;
            }
        }
        Ok(format!(
            "Here're the files and directories up to {VIEW_DEPTH} levels deep in {shown}, excluding hidden items and node_modules:\n{}",
            lines.join("\n")
        ))
    }

    /// One line of a listing: the size, a tab, the path (`/` after a directory).
    async fn line(
        &self,
        path: &MemoryPath,
        shown: &str,
        kind: EntryKind,
        budget: &mut usize,
    ) -> String {
        match kind {
            EntryKind::File { size } => format!("{}\t{shown}", text::human_size(size)),
            EntryKind::Dir => {
                let size = self.tree_size(path, budget).await;
                format!("{}\t{shown}/", text::human_size(size))
            }
        }
    }

    /// The entries of `dir` a listing shows, in name order.
    async fn visible_entries(
        &self,
        dir: &MemoryPath,
    ) -> Result<Vec<(MemoryPath, String, EntryKind)>, StoreError> {
        let mut entries: Vec<_> = self
            .store
            .list(dir)
            .await?
            .into_iter()
            .filter(|e| !e.name.starts_with('.') && e.name != "node_modules")
            .filter_map(|e| Some((dir.join(&e.name)?, e.name, e.kind)))
            .collect();
        entries.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(entries)
    }

    /// The total size of the files below `dir`, visiting at most `budget` entries.
    async fn tree_size(&self, dir: &MemoryPath, budget: &mut usize) -> u64 {
        let mut total = 0;
        let mut stack = vec![dir.clone()];
        while let Some(current) = stack.pop() {
            let Ok(entries) = self.store.list(&current).await else {
                continue;
            };
            for entry in entries {
                if *budget == 0 {
                    return total;
                }
                *budget -= 1;
                match entry.kind {
                    EntryKind::File { size } => total += size,
                    EntryKind::Dir => stack.extend(current.join(&entry.name)),
                }
            }
        }
        total
    }

    /// Writes a whole file, after checking it against the size limit.
    pub(crate) async fn write(
        &self,
        target: &Target<'_>,
        content: &str,
        mode: WriteMode,
    ) -> Result<(), String> {
        let shown = target.shown;
        if target.path.is_root() {
            return Err(format!(
                "`{shown}` is the {} itself, not a file",
                self.directory
            ));
        }
        let size = content.len() as u64;
        if size > self.limits.max_file_bytes {
            return Err(format!(
                "`{shown}` would be {size} bytes, over the limit of {} bytes (max_file_bytes)",
                self.limits.max_file_bytes
            ));
        }
        self.store
            .write(target.path, content, mode)
            .await
            .map_err(|e| self.failure(shown, e))
    }

    /// Replaces the one occurrence of `old` with `new`.
    pub(crate) async fn str_replace(
        &self,
        target: Target<'_>,
        old: &str,
        new: &str,
    ) -> Result<String, String> {
        let content = self.read_file(&target).await?;
        let (edited, line) = text::replace_once(&content, old, new, target.shown)?;
        self.write(&target, &edited, WriteMode::Replace).await?;
        Ok(edited_message(&target, &edited, line, new))
    }

    /// Inserts `insert` after line `after` (0: at the top).
    pub(crate) async fn insert(
        &self,
        target: Target<'_>,
        after: i64,
        insert: &str,
    ) -> Result<String, String> {
        let content = self.read_file(&target).await?;
        let (edited, line) = text::insert_after(&content, after, insert, target.shown)?;
        self.write(&target, &edited, WriteMode::Replace).await?;
        Ok(edited_message(&target, &edited, line, insert))
    }

    async fn read_file(&self, target: &Target<'_>) -> Result<String, String> {
        if target.path.is_root() {
            return Err(format!("`{}` is a directory, not a file", target.shown));
        }
        self.store
            .read(target.path, self.limits.max_file_bytes)
            .await
            .map_err(|e| self.failure(target.shown, e))
    }
}

fn edited_message(target: &Target<'_>, edited: &str, line: usize, new: &str) -> String {
    let snippet = text::snippet(edited, line, text::lines(new).len());
    format!(
        "The file {} has been edited. Here is the changed part with line numbers:\n{snippet}",
        target.shown
    )
}

/// Cuts `body` to `max` characters, saying so at the end.
fn truncate_chars(body: &mut String, max: u64) {
    let total = body.chars().count() as u64;
    if total <= max {
        return;
    }
    let cut = body
        .char_indices()
        .nth(usize::try_from(max).unwrap_or(usize::MAX))
        .map_or(body.len(), |(at, _)| at);
    body.truncate(cut);
    body.push_str(&format!(
        "\n[truncated: showing the first {max} of {total} characters (max_characters)]"
    ));
}
