//! [`ToolRunner::download_artifacts`]: every file the code-execution
//! container wrote during a run, saved into a directory.

use std::future::Future;
use std::path::{Path, PathBuf};

use super::ToolRunner;
use crate::client::SavedFile;
use crate::error::Error;

/// What [`ToolRunner::download_artifacts`] wrote, and what it could not.
#[derive(Debug)]
#[non_exhaustive]
pub struct Artifacts {
    /// The files written, in the order the runs produced them.
    pub saved: Vec<SavedFile>,
    /// The files that could not be downloaded, by id, with the reason
    /// (an expired file, say, or a download that broke off).
    pub failed: Vec<(String, Error)>,
}

impl Artifacts {
    /// Whether every file was written.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

impl ToolRunner {
    /// Downloads every file the code-execution runs of this conversation
    /// wrote (the [`output_files`](crate::types::CodeExecution::output_files)
    /// of [`code_executions`](Self::code_executions)) into `dir`, creating
    /// it if needed. Each file is named after its metadata, made safe by
    /// [`sanitize_filename`](crate::sanitize_filename); an existing file is
    /// never replaced (the new one gets a ` (1)` suffix). Files are fetched
    /// one after another, each streamed to disk.
    ///
    /// One file failing does not stop the others: see
    /// [`Artifacts::failed`].
    ///
    /// The runs are read when this is called, so the future does not
    /// borrow the runner.
    ///
    /// # Errors
    ///
    /// [`Error::is_io`] when `dir` cannot be created. Errors of single
    /// files are in [`Artifacts::failed`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(mut runner: toolrunner::ToolRunner) -> Result<(), toolrunner::Error> {
    /// use futures_util::TryStreamExt;
    ///
    /// while let Some(message) = runner.try_next().await? {
    ///     println!("{}", message.text());
    /// }
    /// let artifacts = runner.download_artifacts("out").await?;
    /// for saved in &artifacts.saved {
    ///     println!("wrote {} ({} bytes)", saved.path.display(), saved.bytes);
    /// }
    /// for (file_id, error) in &artifacts.failed {
    ///     eprintln!("could not download {file_id}: {error}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn download_artifacts(
        &self,
        dir: impl AsRef<Path>,
    ) -> impl Future<Output = Result<Artifacts, Error>> + Send + 'static {
        let dir: PathBuf = dir.as_ref().to_owned();
        let files = self.client.files();
        let mut ids: Vec<String> = Vec::new();
        for run in self.code_executions() {
            for id in run.output_files() {
                // A file may be named by more than one result block.
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
        async move {
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|e| Error::io("create the directory", &dir, e))?;
            let mut artifacts = Artifacts {
                saved: Vec::new(),
                failed: Vec::new(),
            };
            for id in ids {
                match files.download_to_dir(&id, &dir).await {
                    Ok(saved) => artifacts.saved.push(saved),
                    Err(e) => {
                        tracing::warn!(file_id = %id, error = %e, "could not download artifact");
                        artifacts.failed.push((id, e));
                    }
                }
            }
            Ok(artifacts)
        }
    }
}
