//! `download_artifacts` (on both runners): every file the code-execution
//! container wrote during a run, saved into a directory.

use std::future::Future;
use std::path::{Path, PathBuf};

use crate::client::{Files, SavedFile};
use crate::error::Error;
use crate::types::CodeExecution;

/// What [`ToolRunner::download_artifacts`](crate::ToolRunner::download_artifacts) wrote, and what it could not.
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

/// Downloads the output files of `runs` into `dir`: the body of the
/// runners' `download_artifacts`. The ids are read now, so the future
/// borrows nothing.
pub(crate) fn download(
    files: Files,
    runs: Vec<CodeExecution>,
    dir: &Path,
) -> impl Future<Output = Result<Artifacts, Error>> + Send + 'static + use<> {
    let dir: PathBuf = dir.to_owned();
    let mut ids: Vec<String> = Vec::new();
    for run in runs {
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
