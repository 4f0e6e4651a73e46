//! [`Files`]: the Files API, `client.files()`.
//!
//! Upload files for the model (documents, images) or for the
//! code-execution container (`container_upload`), and fetch the files the
//! container wrote. Every request carries the [`FILES_BETA`] header and goes
//! through the client's retry loop, so it is retried, timed out and
//! reported ([`Error`], with the request id) as Messages requests are.
//!
//! - [`upload`](Files::upload): `POST /v1/files`, multipart.
//! - [`list`](Files::list): `GET /v1/files`, page by page.
//! - [`metadata`](Files::metadata): `GET /v1/files/{file_id}`.
//! - [`download`](Files::download), [`download_to`](Files::download_to),
//!   [`download_to_dir`](Files::download_to_dir): `GET /v1/files/{file_id}/content`.
//! - [`delete`](Files::delete): `DELETE /v1/files/{file_id}`.

mod download;
mod list;
mod multipart;
mod save;
mod upload;

use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use tracing::Instrument;

pub use download::Download;
pub use list::FileList;
pub use save::{SavedFile, sanitize_filename};
pub use upload::FileUpload;

use super::call::{call_span, decode, recorded};
use super::{Client, read_whole};
use crate::error::Error;
use crate::platform::Endpoint;
use crate::types::response::Received;
use crate::types::{DeletedFile, FILES_BETA, FileMetadata};

impl Client {
    /// The Files API: upload, list, inspect, download and delete files.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use toolrunner::FileUpload;
    ///
    /// let csv = client.files().upload(FileUpload::path("sales.csv")).await?;
    /// println!("uploaded {} as {}", csv.filename, csv.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn files(&self) -> Files {
        Files {
            client: self.clone(),
        }
    }
}

/// The Files API of a [`Client`], from [`Client::files`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Files {
    client: Client,
}

impl Files {
    /// Uploads a file: `POST /v1/files` with the file as a multipart part.
    /// A file on disk is streamed, never read into memory whole, and read
    /// afresh for each retry.
    ///
    /// # Errors
    ///
    /// - [`Error::is_io`]: the file could not be opened or read.
    /// - [`Error::is_api`]: the API refused it (too large, say); with
    ///   retries as for any request, and the request id.
    /// - [`Error::is_connection`], [`Error::is_timeout`], [`Error::is_decode`]
    ///   as for [`Client::create_message`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use toolrunner::FileUpload;
    ///
    /// let from_disk = client.files().upload(FileUpload::path("data/sales.csv")).await?;
    /// let in_memory = FileUpload::bytes("notes.txt", "buy milk").mime_type("text/plain");
    /// let notes = client.files().upload(in_memory).await?;
    /// # drop((from_disk, notes));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload(&self, file: FileUpload) -> Result<FileMetadata, Error> {
        let url = self.url(&[])?;
        let headers = self.headers()?;
        let span = call_span!(self.client, "files.upload", filename = file.name());
        let request = || {
            let (content_type, length, body) = file.multipart_body()?;
            Ok(self
                .http()
                .post(url.clone())
                .headers(headers.clone())
                .header(CONTENT_TYPE, content_type)
                .header(reqwest::header::CONTENT_LENGTH, length)
                .body(body))
        };
        self.json(&span, &url, request, None).await
    }

    /// Lists the files, newest first, as a stream of pages or of files;
    /// see [`FileList`] to set the page size.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use futures_util::TryStreamExt;
    ///
    /// let all: Vec<_> = client.files().list().limit(100).files().try_collect().await?;
    /// println!("{} files", all.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> FileList {
        FileList::new(self.clone())
    }

    /// The metadata of file `file_id`: `GET /v1/files/{file_id}`.
    ///
    /// # Errors
    ///
    /// - [`Error::is_file_not_found`]: no such file; [`Error::file_id`]
    ///   names it.
    /// - [`Error::is_invalid_request`]: `file_id` is empty or `.`/`..`.
    /// - Otherwise as for [`Client::create_message`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// let meta = client.files().metadata("file_011CNha8iCJcU1wXNR6q4V8w").await?;
    /// println!("{}: {} bytes of {}", meta.filename, meta.size_bytes, meta.mime_type);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn metadata(&self, file_id: &str) -> Result<FileMetadata, Error> {
        let url = self.file_url(file_id, false)?;
        let headers = self.headers()?;
        let span = call_span!(self.client, "files.metadata", file_id);
        let request = || Ok(self.http().get(url.clone()).headers(headers.clone()));
        self.json(&span, &url, request, Some(file_id)).await
    }

    /// Deletes file `file_id`: `DELETE /v1/files/{file_id}`.
    ///
    /// # Errors
    ///
    /// As for [`metadata`](Self::metadata).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// let deleted = client.files().delete("file_011CNha8iCJcU1wXNR6q4V8w").await?;
    /// assert_eq!(deleted.id, "file_011CNha8iCJcU1wXNR6q4V8w");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, file_id: &str) -> Result<DeletedFile, Error> {
        let url = self.file_url(file_id, false)?;
        let headers = self.headers()?;
        let span = call_span!(self.client, "files.delete", file_id);
        let request = || Ok(self.http().delete(url.clone()).headers(headers.clone()));
        self.json(&span, &url, request, Some(file_id)).await
    }

    fn http(&self) -> &reqwest::Client {
        &self.client.inner.http
    }

    /// `{base_url}/v1/files` followed by `segments`, each percent-encoded
    /// so that an id cannot reach another path; or the platform's refusal.
    fn url(&self, segments: &[&str]) -> Result<Url, Error> {
        self.client.platform().endpoint(Endpoint::Files(segments))
    }

    /// The URL of file `file_id`, or of its content.
    fn file_url(&self, file_id: &str, content: bool) -> Result<Url, Error> {
        // Percent-encoding keeps `/` and `?` inside the segment, but `.`
        // and `..` would still be read as path steps.
        if file_id.is_empty() || file_id == "." || file_id == ".." {
            return Err(Error::invalid_request(format!(
                "invalid file id {file_id:?}"
            )));
        }
        if content {
            self.url(&[file_id, "content"])
        } else {
            self.url(&[file_id])
        }
    }

    /// The client's headers with the Files beta added, and without the
    /// JSON content type: these requests have no body, or a multipart one.
    fn headers(&self) -> Result<HeaderMap, Error> {
        let (headers, _) = self.client.request_headers(&[FILES_BETA.to_owned()])?;
        let mut headers = headers.into_owned();
        headers.remove(CONTENT_TYPE);
        Ok(headers)
    }

    /// Headers for a content download: as [`headers`](Self::headers),
    /// asking for the bytes as the official SDKs do.
    fn download_headers(&self) -> Result<HeaderMap, Error> {
        let mut headers = self.headers()?;
        headers.insert(ACCEPT, HeaderValue::from_static("application/binary"));
        Ok(headers)
    }

    /// Sends a request with retries and decodes its JSON answer; errors
    /// name `file_id` when the request is about one file.
    async fn json<T: DeserializeOwned + Received>(
        &self,
        span: &tracing::Span,
        url: &Url,
        request: impl Fn() -> Result<reqwest::RequestBuilder, Error>,
        file_id: Option<&str>,
    ) -> Result<T, Error> {
        self.client.refuse_extra_body(url)?;
        let sent = self
            .client
            .execute_request(span, url, request, read_whole)
            .instrument(span.clone())
            .await;
        let decoded = match (sent, file_id) {
            (Ok((whole, attempts)), _) => decode(whole, attempts, "a Files API response"),
            (Err(e), Some(id)) => Err(e.with_file_id(id)),
            (Err(e), None) => Err(e),
        };
        recorded(span, decoded)
    }

    /// Sends a request for `file_id`'s content with retries, and returns
    /// the successful response unread.
    async fn content(&self, file_id: &str) -> Result<reqwest::Response, Error> {
        let url = self.file_url(file_id, true)?;
        let headers = self.download_headers()?;
        self.client.refuse_extra_body(&url)?;
        let span = call_span!(self.client, "files.download", file_id);
        let request = || Ok(self.http().get(url.clone()).headers(headers.clone()));
        let opened = self
            .client
            .execute_request(&span, &url, request, async |response| Ok(response))
            .instrument(span.clone())
            .await
            .map(|(response, _)| response)
            .map_err(|e| e.with_file_id(file_id));
        recorded(&span, opened)
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Files>();
    assert_send_sync::<FileUpload>();
    assert_send_sync::<FileList>();
    assert_send_sync::<SavedFile>();
};

#[allow(dead_code, reason = "documents that request futures can be spawned")]
fn assert_futures_are_send(files: &Files) {
    fn is_send<T: Send>(_: &T) {}
    is_send(&files.upload(FileUpload::bytes("a", "b")));
    is_send(&files.metadata("f"));
    is_send(&files.delete("f"));
    is_send(&files.download("f"));
    is_send(&files.download_to("f", "p"));
    is_send(&files.download_to_dir("f", "d"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(base: &str) -> Files {
        Client::builder()
            .api_key("k")
            .base_url(base)
            .build()
            .unwrap()
            .files()
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_ids() {
        let files = files("http://proxy.local/anthropic/");
        assert_eq!(
            files.url(&[]).unwrap().as_str(),
            "http://proxy.local/anthropic/v1/files"
        );
        let url = files.file_url("a/b?c", true).unwrap();
        assert_eq!(
            url.as_str(),
            "http://proxy.local/anthropic/v1/files/a%2Fb%3Fc/content"
        );
        for bad in ["", ".", ".."] {
            let e = files.file_url(bad, false).unwrap_err();
            assert!(e.is_invalid_request(), "{bad:?}");
            assert_eq!(
                e.to_string(),
                format!("invalid request: invalid file id {bad:?}")
            );
        }
    }

    #[test]
    fn headers_carry_the_beta_and_no_json_content_type() {
        let client = Client::builder()
            .api_key("k")
            .default_header("anthropic-beta", "other-beta")
            .build()
            .unwrap();
        let headers = client.files().headers().unwrap();
        assert_eq!(headers["anthropic-beta"], "other-beta,files-api-2025-04-14");
        assert!(headers.get(CONTENT_TYPE).is_none());
    }
}
