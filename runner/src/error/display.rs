//! How an [`Error`] reads: one line for logs (`Display`), and its
//! fields for debugging (`Debug`), neither with a credential.

use std::fmt;

use reqwest::{StatusCode, Url};

use super::api_body::snippet;
use super::{Error, Kind};

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.kind {
            Kind::Api(api) => {
                match &api.file_id {
                    Some(id) if api.error_code.as_deref() == Some("file_expired") => {
                        write!(f, "file `{id}` has expired: ")?;
                    }
                    Some(id) if api.status == StatusCode::NOT_FOUND => {
                        write!(f, "file `{id}` not found: ")?;
                    }
                    Some(id) => write!(f, "file `{id}`: ")?,
                    None => {}
                }
                write!(f, "API error {}", api.status.as_u16())?;
                if let Some(kind) = &api.error_type {
                    write!(f, " {kind}")?;
                }
                match &api.message {
                    Some(message) => write!(f, ": {message}")?,
                    None if api.error_type.is_none() && !api.body.is_empty() => {
                        write!(f, ": {:?}", snippet(&api.body))?;
                    }
                    None if api.error_type.is_none() => {
                        if let Some(reason) = api.status.canonical_reason() {
                            write!(f, " {reason}")?;
                        }
                    }
                    None => {}
                }
                self.fmt_context(f, api.request_id.as_deref())
            }
            Kind::Connection { url } => {
                f.write_str("connection error")?;
                if let Some(url) = url {
                    write!(f, " sending request to {url}")?;
                }
                self.fmt_context(f, None)
            }
            Kind::Timeout { url, after } => {
                f.write_str("request")?;
                if let Some(url) = url {
                    write!(f, " to {url}")?;
                }
                f.write_str(" timed out")?;
                if let Some(after) = after {
                    write!(f, " after {after:?}")?;
                }
                self.fmt_context(f, None)
            }
            Kind::Decode {
                status,
                request_id,
                snippet,
                expected,
            } => {
                write!(
                    f,
                    "could not decode {} response body as {expected}",
                    status.as_u16()
                )?;
                self.fmt_context(f, request_id.as_deref())?;
                // The cause (`missing field `id``) is what a reader needs
                // first; it stays the error's `source()` too.
                if let Some(cause) = &self.inner.source {
                    write!(f, ": {cause}")?;
                }
                write!(f, "; body: {snippet:?}")
            }
            Kind::Config { message } => f.write_str(message),
            Kind::Encode => f.write_str("could not serialize the request body"),
            Kind::MaxIterations { limit } => write!(
                f,
                "the tool runner reached its limit of {limit} requests before the model was done"
            ),
            Kind::InvalidRequest { message } => write!(f, "invalid request: {message}"),
            Kind::Unsupported {
                platform,
                feature,
                advice,
            } => {
                write!(f, "{feature} is not offered on {platform}")?;
                match advice {
                    Some(advice) => write!(f, ": {advice}"),
                    None => Ok(()),
                }
            }
            Kind::ContainerExpired {
                container_id: Some(id),
            } => write!(f, "the code-execution container `{id}` has expired"),
            Kind::ContainerExpired { container_id: None } => {
                f.write_str("the request needs a code-execution container and names none")
            }
            Kind::StreamError {
                error_type,
                message,
            } => write!(f, "API error event in the stream: {error_type}: {message}"),
            Kind::StreamBroken { reason } => write!(f, "broken response stream: {reason}"),
            Kind::DownloadIncomplete {
                file_id,
                received,
                expected,
            } => {
                write!(
                    f,
                    "download of file `{file_id}` broke off after {received} bytes"
                )?;
                if let Some(expected) = expected {
                    write!(f, " of {expected}")?;
                }
                Ok(())
            }
            Kind::Io { action, path } => {
                write!(f, "could not {action} {}", path.display())
            }
            Kind::RunState { message } | Kind::Store { message } | Kind::BatchRun { message } => {
                f.write_str(message)
            }
            Kind::Middleware => match &self.inner.source {
                Some(source) => write!(f, "middleware failed: {source}"),
                None => f.write_str("middleware failed"),
            },
            Kind::Transport => f.write_str("could not send the request"),
            Kind::BatchNotEnded {
                batch_id,
                status,
                waited: Some(waited),
            } => write!(
                f,
                "batch `{batch_id}` did not end within {waited:?}: it is still {status}"
            ),
            Kind::BatchNotEnded {
                batch_id,
                status,
                waited: None,
            } => write!(
                f,
                "batch `{batch_id}` has no results yet: it is {status}, not ended"
            ),
            Kind::BatchExpired {
                batch_id,
                archived_at,
            } => {
                write!(f, "the results of batch `{batch_id}` have expired")?;
                if let Some(at) = archived_at {
                    write!(f, " (archived at {at})")?;
                }
                Ok(())
            }
            Kind::BatchResults {
                batch_id,
                line,
                reason,
            } => match &self.inner.source {
                Some(source) => write!(
                    f,
                    "results of batch `{batch_id}`, line {line}: {reason}: {source}"
                ),
                None => write!(f, "results of batch `{batch_id}`, line {line}: {reason}"),
            },
            Kind::AwaitingApproval { pending, .. } => {
                let calls: Vec<String> = pending
                    .iter()
                    .map(|call| format!("`{}` ({})", call.name, call.id))
                    .collect();
                let s = if pending.len() == 1 { "" } else { "s" };
                write!(
                    f,
                    "the run stopped with {} tool call{s} waiting for approval: {}",
                    pending.len(),
                    calls.join(", ")
                )
            }
            Kind::Parse { path, .. } => match &self.inner.source {
                Some(source) => write!(f, "the final answer does not parse at `{path}`: {source}"),
                None => write!(f, "the final answer does not parse at `{path}`"),
            },
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("toolrunner::Error");
        match &self.inner.kind {
            Kind::Api(api) => {
                d.field("kind", &"Api")
                    .field("status", &api.status)
                    .field("error_type", &api.error_type)
                    .field("message", &api.message)
                    .field("request_id", &api.request_id)
                    .field("error_code", &api.error_code)
                    .field("file_id", &api.file_id)
                    .field("body", &snippet(&api.body));
            }
            Kind::Connection { url } => {
                d.field("kind", &"Connection")
                    .field("url", &url.as_ref().map(Url::as_str));
            }
            Kind::Timeout { url, after } => {
                d.field("kind", &"Timeout")
                    .field("url", &url.as_ref().map(Url::as_str))
                    .field("after", after);
            }
            Kind::Decode {
                status,
                request_id,
                snippet,
                ..
            } => {
                d.field("kind", &"Decode")
                    .field("status", status)
                    .field("request_id", request_id)
                    .field("body", snippet);
            }
            Kind::Config { message } => {
                d.field("kind", &"Config").field("message", message);
            }
            Kind::Encode => {
                d.field("kind", &"Encode");
            }
            Kind::MaxIterations { limit } => {
                d.field("kind", &"MaxIterations").field("limit", limit);
            }
            Kind::InvalidRequest { message } => {
                d.field("kind", &"InvalidRequest").field("message", message);
            }
            Kind::Unsupported {
                platform,
                feature,
                advice,
            } => {
                d.field("kind", &"Unsupported")
                    .field("platform", platform)
                    .field("feature", feature)
                    .field("advice", advice);
            }
            Kind::ContainerExpired { container_id } => {
                d.field("kind", &"ContainerExpired")
                    .field("container_id", container_id);
            }
            Kind::StreamError {
                error_type,
                message,
            } => {
                d.field("kind", &"StreamError")
                    .field("error_type", error_type)
                    .field("message", message);
            }
            Kind::StreamBroken { reason } => {
                d.field("kind", &"StreamBroken").field("reason", reason);
            }
            Kind::DownloadIncomplete {
                file_id,
                received,
                expected,
            } => {
                d.field("kind", &"DownloadIncomplete")
                    .field("file_id", file_id)
                    .field("received", received)
                    .field("expected", expected);
            }
            Kind::Io { action, path } => {
                d.field("kind", &"Io")
                    .field("action", action)
                    .field("path", path);
            }
            Kind::RunState { message } => {
                d.field("kind", &"RunState").field("message", message);
            }
            Kind::BatchNotEnded {
                batch_id,
                status,
                waited,
            } => {
                d.field("kind", &"BatchNotEnded")
                    .field("batch_id", batch_id)
                    .field("status", status)
                    .field("waited", waited);
            }
            Kind::BatchExpired {
                batch_id,
                archived_at,
            } => {
                d.field("kind", &"BatchExpired")
                    .field("batch_id", batch_id)
                    .field("archived_at", archived_at);
            }
            Kind::BatchResults {
                batch_id,
                line,
                reason,
            } => {
                d.field("kind", &"BatchResults")
                    .field("batch_id", batch_id)
                    .field("line", line)
                    .field("reason", reason);
            }
            Kind::AwaitingApproval { pending, .. } => {
                d.field("kind", &"AwaitingApproval")
                    .field("pending", pending);
            }
            Kind::Store { message } => {
                d.field("kind", &"Store").field("message", message);
            }
            Kind::Middleware => {
                d.field("kind", &"Middleware");
            }
            Kind::Transport => {
                d.field("kind", &"Transport");
            }
            Kind::BatchRun { message } => {
                d.field("kind", &"BatchRun").field("message", message);
            }
            Kind::Parse { text, path } => {
                d.field("kind", &"Parse")
                    .field("path", path)
                    .field("text", text);
            }
        }
        d.field("attempts", &self.inner.attempts);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}
