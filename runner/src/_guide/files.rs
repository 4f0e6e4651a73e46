//! Files: the Files API, files for the model and the code-execution container,
//! and the files the container writes.
//!
//! [`client.files()`](crate::Client::files) is the Files API
//! (`files-api-2025-04-14`, sent for you): [`upload`](crate::Files::upload),
//! [`list`](crate::Files::list) (pages as a `Stream`),
//! [`metadata`](crate::Files::metadata), [`download`](crate::Files::download)
//! (a byte stream), [`download_to`](crate::Files::download_to) and
//! [`download_to_dir`](crate::Files::download_to_dir) (streamed to disk through
//! a temporary file that is renamed once complete),
//! [`delete`](crate::Files::delete). Requests are retried and their errors
//! reported as Messages requests are. An upload's file name is escaped in its
//! part header as the Python SDK's HTTP client does it (`"` as `%22`, `\`
//! doubled, control characters but ESC as `%XX`).
//!
//! ```no_run
//! use serde_json::json;
//! use toolrunner::prelude::*;
//! use toolrunner::FileUpload;
//!
//! # async fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! let csv = client.files().upload(FileUpload::path("sales.csv")).await?;
//! let params = MessageParams::new(models::CURRENT, 4096)
//!     .tool(json!({"type": "code_execution_20260120", "name": "code_execution"}))
//!     .user_with_files("Chart the monthly totals.", [ContentBlock::container_upload(&csv.id)]);
//! let mut runner = client.tool_runner(params, toolset![]);
//! while let Some(message) = runner.next().await {
//!     message?;
//! }
//! let artifacts = runner.download_artifacts("out").await?; // every file the code wrote
//! for saved in &artifacts.saved {
//!     println!("wrote {}", saved.path.display());
//! }
//! # Ok(()) }
//! ```
//!
//! - Inputs: [`ContentBlock::container_upload(id)`](crate::ContentBlock::container_upload)
//!   puts a file in the container; [`DocumentBlock::file(id)`](crate::DocumentBlock::file)
//!   and [`ImageBlock::file(id)`](crate::ImageBlock::file) show one to the
//!   model; [`params.user_with_files(text, blocks)`](crate::MessageParams::user_with_files)
//!   adds the beta header they need.
//! - Outputs: [`CodeExecution::output_files()`](crate::types::CodeExecution::output_files)
//!   lists a run's file ids;
//!   [`runner.download_artifacts(dir)`](crate::ToolRunner::download_artifacts)
//!   saves them all under their metadata names, sanitised (last path component
//!   only, no leading dots, no control characters;
//!   [`sanitize_filename`](crate::sanitize_filename)) and never over an
//!   existing file (` (1)` suffixes), and reports what it wrote and what
//!   failed.
//! - Errors name the file: [`Error::is_file_not_found`](crate::Error::is_file_not_found),
//!   [`is_file_expired`](crate::Error::is_file_expired),
//!   [`is_file_not_downloadable`](crate::Error::is_file_not_downloadable), and
//!   [`is_download_incomplete`](crate::Error::is_download_incomplete) with
//!   [`bytes_received()`](crate::Error::bytes_received) for a download that
//!   broke off (nothing is left on disk).
//! - The scripted server (feature `testing`) serves `/v1/files` from memory:
//!   `ScriptedServer::add_file(ScriptedFile::new(...))`.
//!
//! `examples/files.rs` uploads a CSV, has the model chart it in code and
//! downloads the chart: `cargo run --example files`.
