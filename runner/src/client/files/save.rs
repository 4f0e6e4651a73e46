//! Saving a file into a directory under the name its metadata gives,
//! made safe: [`Files::download_to_dir`] and [`sanitize_filename`].

use std::io;
use std::path::{Path, PathBuf};

use super::Files;
use super::download::TempFile;
use crate::error::Error;
use crate::types::FileMetadata;

/// How many ` (n)` suffixes are tried before giving up on a name.
const MAX_SUFFIX: u32 = 9999;
/// The longest name kept, in bytes: most file systems allow 255.
const MAX_NAME_BYTES: usize = 200;

/// A file written by [`Files::download_to_dir`] or
/// [`ToolRunner::download_artifacts`](crate::ToolRunner::download_artifacts).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SavedFile {
    /// The file's id.
    pub file_id: String,
    /// Where it was written.
    pub path: PathBuf,
    /// How many bytes were written.
    pub bytes: u64,
    /// The file's metadata, whose name the path was made from.
    pub metadata: FileMetadata,
}

impl Files {
    /// Downloads file `file_id` into the directory `dir`, named after its
    /// metadata's `filename` made safe by [`sanitize_filename`]. An
    /// existing file is never replaced: the name gets a ` (1)`, ` (2)`, ...
    /// suffix instead. The download streams to disk as in
    /// [`download_to`](Self::download_to).
    ///
    /// # Errors
    ///
    /// - As for [`download_to`](Self::download_to) and
    ///   [`metadata`](Self::metadata).
    /// - [`Error::is_io`]: `dir` does not exist or cannot be written, or
    ///   every suffix up to 9999 is taken.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// let saved = client.files().download_to_dir("file_011CNha8iCJcU1wXNR6q4V8w", "out").await?;
    /// println!("{} -> {}", saved.metadata.filename, saved.path.display());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_to_dir(
        &self,
        file_id: &str,
        dir: impl AsRef<Path>,
    ) -> Result<SavedFile, Error> {
        let dir = dir.as_ref();
        let metadata = self.metadata(file_id).await?;
        let name = sanitize_filename(&metadata.filename, file_id);
        let reserved = reserve(dir, &name).await?;
        let download = self.download(file_id).await?;
        let temp = TempFile::next_to(&reserved.path);
        let bytes = super::download::write_all(download, &temp.path).await?;
        // Replacing the placeholder this call created, nothing else.
        tokio::fs::rename(&temp.path, &reserved.path)
            .await
            .map_err(|e| Error::io("move the download to", &reserved.path, e))?;
        temp.keep();
        let path = reserved.keep();
        Ok(SavedFile {
            file_id: file_id.to_owned(),
            path,
            bytes,
            metadata,
        })
    }
}

/// `name` (a file name from metadata, the model's to choose) made safe to
/// join to a directory: only its last path component (`/` and `\` both
/// separate), without control characters, leading dots (no hidden files,
/// no `.` or `..`), characters Windows forbids, or trailing dots and
/// spaces; at most 200 bytes, keeping the extension. When nothing is left,
/// `fallback` (say, the file id) made safe the same way, or `file`.
///
/// # Examples
///
/// ```
/// use toolrunner::sanitize_filename;
///
/// assert_eq!(sanitize_filename("chart.png", "file_1"), "chart.png");
/// assert_eq!(sanitize_filename("../../etc/passwd", "file_1"), "passwd");
/// assert_eq!(sanitize_filename("out\\report?.csv", "file_1"), "report_.csv");
/// assert_eq!(sanitize_filename("..", "file_1"), "file_1");
/// assert_eq!(sanitize_filename("", "file_1"), "file_1");
/// assert_eq!(sanitize_filename("a\0b.txt", "file_1"), "ab.txt");
/// ```
pub fn sanitize_filename(name: &str, fallback: &str) -> String {
    let cleaned = clean(name);
    if !cleaned.is_empty() {
        return cleaned;
    }
    let fallback = clean(fallback);
    if fallback.is_empty() {
        "file".to_owned()
    } else {
        fallback
    }
}

fn clean(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mapped: String = last
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            c => c,
        })
        .collect();
    let trimmed = mapped
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    let mut out = shorten(trimmed);
    if is_windows_device(&out) {
        out.insert(0, '_');
    }
    out
}

/// `name` cut to [`MAX_NAME_BYTES`] on a character boundary, keeping a
/// short extension.
fn shorten(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_owned();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => (stem, Some(ext)),
        _ => (name, None),
    };
    let room = MAX_NAME_BYTES - ext.map_or(0, |e| e.len() + 1);
    let mut end = room.min(stem.len());
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    match ext {
        Some(ext) => format!("{}.{ext}", &stem[..end]),
        None => stem[..end].to_owned(),
    }
}

/// Names Windows gives to devices, whatever the extension.
fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit())
}

/// `name` with its ` (n)` suffix, before the extension.
fn with_suffix(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// Claims the first free name of `name`, `name (1)`, ... in `dir` by
/// creating it empty. Creating (rather than checking) makes the claim
/// atomic, so two downloads never pick the same name.
async fn reserve(dir: &Path, name: &str) -> Result<Reserved, Error> {
    for n in 0..=MAX_SUFFIX {
        let path = dir.join(with_suffix(name, n));
        let created = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await;
        match created {
            Ok(_) => return Ok(Reserved { path, keep: false }),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io("create", &path, e)),
        }
    }
    let path = dir.join(name);
    let e = io::Error::new(io::ErrorKind::AlreadyExists, "every suffix is taken");
    Err(Error::io("find a free name like", &path, e))
}

/// A name claimed in the directory; the empty placeholder is removed when
/// dropped unless the download replaced it.
struct Reserved {
    path: PathBuf,
    keep: bool,
}

impl Reserved {
    fn keep(mut self) -> PathBuf {
        self.keep = true;
        std::mem::take(&mut self.path)
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_made_safe() {
        let cases = [
            ("../../etc/passwd", "passwd"),
            ("a/b", "b"),
            ("a\\b", "b"),
            ("..", "file_9"),
            (".", "file_9"),
            ("", "file_9"),
            ("/", "file_9"),
            ("dir/..", "file_9"),
            ("nul\0byte.txt", "nulbyte.txt"),
            ("\0", "file_9"),
            ("line\nbreak\r.csv", "linebreak.csv"),
            (".bashrc", "bashrc"),
            ("...hidden...", "hidden"),
            ("  spaced  ", "spaced"),
            ("what?.csv", "what_.csv"),
            ("C:\\Users\\x\\chart.png", "chart.png"),
            ("CON.txt", "_CON.txt"),
            ("com1", "_com1"),
            ("console.txt", "console.txt"),
            ("graphique été.png", "graphique été.png"),
        ];
        for (name, want) in cases {
            assert_eq!(sanitize_filename(name, "file_9"), want, "{name:?}");
        }
        assert_eq!(sanitize_filename("..", "../.."), "file");
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.csv", "é".repeat(300));
        let short = sanitize_filename(&long, "f");
        assert!(short.len() <= MAX_NAME_BYTES, "{}", short.len());
        assert!(short.ends_with("é.csv"));
    }

    #[test]
    fn suffixes_go_before_the_extension() {
        assert_eq!(with_suffix("chart.png", 0), "chart.png");
        assert_eq!(with_suffix("chart.png", 2), "chart (2).png");
        assert_eq!(with_suffix("README", 1), "README (1)");
        assert_eq!(with_suffix("a.tar.gz", 1), "a.tar (1).gz");
    }

    #[tokio::test]
    async fn reserve_never_takes_an_existing_name() {
        let dir = std::env::temp_dir().join(format!("toolrunner-reserve-{:x}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), "mine").unwrap();
        let first = reserve(&dir, "a.txt").await.unwrap();
        assert_eq!(first.path, dir.join("a (1).txt"));
        let second = reserve(&dir, "a.txt").await.unwrap();
        assert_eq!(second.path, dir.join("a (2).txt"));
        drop(first);
        assert!(!dir.join("a (1).txt").exists());
        assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), "mine");
        drop(second);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
