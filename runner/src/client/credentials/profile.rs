//! Profiles on disk: `configs/<name>.json` says how to authenticate, and
//! `credentials/<name>.json`, readable by its owner only, holds the token.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{AccessToken, now};
use crate::error::Error;

/// The profile used when none is named or pointed at.
pub(crate) const DEFAULT: &str = "default";

/// A profile: its name and files.
#[derive(Debug)]
pub(crate) struct Profile {
    name: String,
    pub(super) credentials_path: PathBuf,
}

/// The profile `<dir>/active_config` names, if that file says one.
pub(crate) fn active_pointer(dir: &Path) -> Option<String> {
    let name = std::fs::read_to_string(dir.join("active_config")).ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// Whether profile `name` has a config file under `dir`.
pub(crate) fn exists(dir: &Path, name: &str) -> bool {
    valid_name(name) && config_path(dir, name).is_file()
}

fn config_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("configs").join(format!("{name}.json"))
}

/// A name that stays inside the config directory.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

impl Profile {
    /// Reads profile `name`'s config under `dir`.
    ///
    /// # Errors
    ///
    /// A configuration error naming the profile and file when the name is
    /// not a plain file name, the config cannot be read or is not JSON, or
    /// its `authentication.type` is not one this crate supports.
    pub(crate) fn load(dir: &Path, name: &str) -> Result<Profile, Error> {
        if !valid_name(name) {
            return Err(Error::config(format!(
                "invalid profile name {name:?}: it must be a plain file name"
            )));
        }
        let path = config_path(dir, name);
        let config = read_json(&path)?;
        let auth = config
            .get("authentication")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                Error::config(format!(
                    "profile {name:?}: {} has no \"authentication\" object",
                    path.display()
                ))
            })?;
        match auth.get("type").and_then(Value::as_str) {
            Some("user_oauth") => {}
            other => {
                return Err(Error::config(format!(
                    "profile {name:?}: authentication type {other:?} in {} is not supported; \
                     this crate reads \"user_oauth\" profiles",
                    path.display()
                )));
            }
        }
        let credentials_path = match auth.get("credentials_path").and_then(Value::as_str) {
            Some(path) => PathBuf::from(path),
            None => dir.join("credentials").join(format!("{name}.json")),
        };
        Ok(Profile {
            name: name.to_owned(),
            credentials_path,
        })
    }

    /// The access token in the profile's credentials file, read afresh
    /// each time since another process (a login, a sidecar) rotates it.
    ///
    /// # Errors
    ///
    /// A configuration error when the file is readable by its group or by
    /// others, cannot be read, has no `access_token`, or that token expired.
    pub(crate) async fn fetch(
        &self,
        _http: &reqwest::Client,
        _base_url: &reqwest::Url,
    ) -> Result<AccessToken, Error> {
        let path = &self.credentials_path;
        owner_only(path)?;
        let credentials = read_json(path)?;
        let token = credentials
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::config(format!(
                    "profile {:?}: {} has no access_token",
                    self.name,
                    path.display()
                ))
            })?;
        let expires_at = credentials.get("expires_at").and_then(Value::as_u64);
        if expires_at.is_some_and(|at| at <= now()) {
            return Err(Error::config(format!(
                "profile {:?}: the access token in {} expired; log in again",
                self.name,
                path.display()
            )));
        }
        Ok(AccessToken {
            token: token.to_owned(),
            expires_at,
        })
    }
}

/// Refuses a credentials file its group or others may read or write: a
/// token there may already have leaked.
fn owner_only(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(path).map_err(|e| {
            Error::config_with(
                format!("could not read credentials file {}", path.display()),
                e,
            )
        })?;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::config(format!(
                "credentials file {} has mode {mode:03o}, readable beyond its owner: run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<Value, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config_with(format!("could not read {}", path.display()), e))?;
    // The parse error is not kept: it may quote a secret from the file.
    serde_json::from_str(&text)
        .map_err(|_| Error::config(format!("{} is not valid JSON", path.display())))
}
