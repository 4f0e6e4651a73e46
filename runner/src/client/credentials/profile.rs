//! Profiles on disk: `configs/<name>.json` says how to authenticate, and
//! `credentials/<name>.json`, readable by its owner only, holds the tokens.
//!
//! A config's `authentication.type` is `user_oauth` (tokens from a login,
//! refreshed with the refresh-token grant when the config names a
//! `client_id`, else rotated by another process) or `oidc_federation`
//! (workload identity federation, its settings in the file). The top-level
//! `base_url`, `organization_id` and `workspace_id`, and the federation
//! settings, are filled from the `ANTHROPIC_*` variables when the file
//! leaves them out, as the official SDKs do.

use std::fmt;
use std::path::{Path, PathBuf};

use reqwest::Url;
use serde_json::{Map, Value, json};

use super::federation::{self, Federation, Identity};
use super::{
    ADVISORY_REFRESH_SECS, AccessToken, BASE_URL_VAR, Env, FEDERATION_RULE_ID_VAR,
    IDENTITY_TOKEN_FILE_VAR, MANDATORY_REFRESH_SECS, OAUTH_BETA, ORGANIZATION_ID_VAR,
    SERVICE_ACCOUNT_ID_VAR, WORKSPACE_ID_VAR, now,
};
use crate::error::Error;

/// The profile used when none is named or pointed at.
pub(crate) const DEFAULT: &str = "default";

const USER_OAUTH: &str = "user_oauth";
const OIDC_FEDERATION: &str = "oidc_federation";
const GRANT_TYPE_REFRESH_TOKEN: &str = "refresh_token";
/// What a credentials file says it holds, and its format's version.
const CREDENTIALS_TYPE: &str = "oauth_token";
const CREDENTIALS_VERSION: &str = "1.0";
/// The header a `user_oauth` profile's `workspace_id` is sent in.
const WORKSPACE_HEADER: &str = "anthropic-workspace-id";

/// A profile: its name, files and settings.
pub(crate) struct Profile {
    name: String,
    pub(super) credentials_path: PathBuf,
    /// The profile's own API host, for requests (unless the client's is set
    /// explicitly) and for its token endpoint.
    pub(super) base_url: Option<Url>,
    workspace_id: Option<String>,
    auth: Auth,
}

/// How a profile authenticates.
enum Auth {
    /// Tokens from a login. With a `client_id`, the runner refreshes them
    /// itself; without, another process keeps the file fresh.
    UserOauth { client_id: Option<String> },
    /// Workload identity federation, with the minted token cached in the
    /// credentials file across processes.
    OidcFederation(Federation),
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

/// A name that stays inside the config directory: not hidden, no path
/// separators, no surrounding whitespace.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.trim() == name
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
}

impl Profile {
    /// Reads profile `name`'s config under `dir`, filling what it leaves
    /// out from `env`.
    ///
    /// # Errors
    ///
    /// A configuration error naming the profile and file when the name is
    /// not a plain file name, the config cannot be read or is not a JSON
    /// object, its `authentication.type` is unknown, its `base_url` is not
    /// a URL, or a federation profile lacks a setting it needs.
    pub(crate) fn load(dir: &Path, name: &str, env: &Env) -> Result<Profile, Error> {
        if !valid_name(name) {
            return Err(Error::config(format!(
                "invalid profile name {name:?}: it must be a plain file name"
            )));
        }
        let path = config_path(dir, name);
        let bad =
            |what: String| Error::config(format!("profile {name:?}: {} {what}", path.display()));
        not_writable_by_others(&path)?;
        let Value::Object(mut config) = read_json(&path)? else {
            return Err(bad("is not a JSON object".to_owned()));
        };
        let Some(Value::Object(mut auth)) = config.remove("authentication") else {
            return Err(bad("has no \"authentication\" object".to_owned()));
        };
        fill_from_env(&mut config, &mut auth, env);

        let base_url = match string(&config, "base_url") {
            Some(url) => Some(parse_base_url(url).map_err(&bad)?),
            None => None,
        };
        let credentials_path = match string(&auth, "credentials_path") {
            Some(custom) => expand_home(custom, env),
            None => dir.join("credentials").join(format!("{name}.json")),
        };
        let auth = match string(&auth, "type") {
            Some(USER_OAUTH) => Auth::UserOauth {
                client_id: string(&auth, "client_id").map(str::to_owned),
            },
            Some(OIDC_FEDERATION) => {
                Auth::OidcFederation(federation_of(&config, &auth, env).map_err(bad)?)
            }
            other => {
                return Err(bad(format!(
                    "has authentication type {other:?}; expected \"{USER_OAUTH}\" or \"{OIDC_FEDERATION}\""
                )));
            }
        };
        Ok(Profile {
            name: name.to_owned(),
            credentials_path,
            base_url,
            workspace_id: string(&config, "workspace_id").map(str::to_owned),
            auth,
        })
    }

    /// Headers every request of a client using this profile carries: the
    /// workspace of a `user_oauth` profile. A federation profile's
    /// workspace goes in the token exchange instead, which scopes the
    /// token to it.
    pub(crate) fn headers(&self) -> Vec<(&'static str, String)> {
        match (&self.auth, &self.workspace_id) {
            (Auth::UserOauth { .. }, Some(workspace)) => {
                vec![(WORKSPACE_HEADER, workspace.clone())]
            }
            _ => Vec::new(),
        }
    }

    /// An access token. `force` (after the API refused the last one) skips
    /// a token that still looks valid.
    ///
    /// # Errors
    ///
    /// A configuration error when no usable token can be had; never quoting
    /// a secret.
    pub(crate) async fn fetch(
        &self,
        http: &reqwest::Client,
        client_base_url: &Url,
        force: bool,
    ) -> Result<AccessToken, Error> {
        // The profile's own host issued its tokens; a client pointed
        // elsewhere (a proxy) still exchanges there.
        let base_url = self.base_url.as_ref().unwrap_or(client_base_url);
        match &self.auth {
            Auth::UserOauth { client_id: None } => self.rotated_elsewhere(),
            Auth::UserOauth {
                client_id: Some(client_id),
            } => self.refreshed(http, base_url, client_id, force).await,
            Auth::OidcFederation(federation) => {
                self.federated(http, base_url, federation, force).await
            }
        }
    }

    /// The access token another process keeps fresh, read afresh each time.
    fn rotated_elsewhere(&self) -> Result<AccessToken, Error> {
        let credentials = self.read_credentials()?;
        let token = self.access_token(&credentials)?;
        if token.expires_at.is_some_and(|at| at <= now()) {
            return Err(Error::config(format!(
                "profile {:?}: the access token in {} expired; log in again",
                self.name,
                self.credentials_path.display()
            )));
        }
        Ok(token)
    }

    /// The file's access token while it has more than the advisory window
    /// left (another process may have refreshed it), else one from the
    /// refresh-token grant, written back to the file (the grant may rotate
    /// the refresh token, which must not be lost).
    async fn refreshed(
        &self,
        http: &reqwest::Client,
        base_url: &Url,
        client_id: &str,
        force: bool,
    ) -> Result<AccessToken, Error> {
        let mut credentials = self.read_credentials()?;
        let current = self.access_token(&credentials)?;
        let refresh_token = match string(&credentials, "refresh_token") {
            Some(token) => token.to_owned(),
            None => {
                return Err(Error::config(format!(
                    "profile {:?}: {} has no refresh_token, which a profile with a client_id needs; log in again",
                    self.name,
                    self.credentials_path.display()
                )));
            }
        };
        let left = current
            .expires_at
            .map_or(u64::MAX, |at| at.saturating_sub(now()));
        if !force && left > ADVISORY_REFRESH_SECS {
            return Ok(current);
        }
        let body = json!({
            "grant_type": GRANT_TYPE_REFRESH_TOKEN,
            "refresh_token": refresh_token,
            "client_id": client_id,
        });
        // The federation beta belongs to jwt-bearer exchanges only.
        let granted = match federation::post_token_request(http, base_url, &body, &[OAUTH_BETA])
            .await
        {
            Ok(granted) => granted,
            Err(error) if !force && left > MANDATORY_REFRESH_SECS => {
                tracing::warn!(%error, "refreshing the profile's access token failed; using the current one while it lasts");
                return Ok(current);
            }
            Err(error) => return Err(error),
        };
        credentials.insert("version".into(), CREDENTIALS_VERSION.into());
        credentials.insert("type".into(), CREDENTIALS_TYPE.into());
        credentials.insert("access_token".into(), granted.token.token.clone().into());
        credentials.insert("expires_at".into(), granted.token.expires_at.into());
        if let Some(rotated) = &granted.refresh_token {
            credentials.insert("refresh_token".into(), rotated.clone().into());
        }
        write_owner_only(&self.credentials_path, &Value::Object(credentials))?;
        Ok(granted.token)
    }

    /// A federation profile's token: the one cached in the credentials file
    /// while it has more than the mandatory window left, else a fresh
    /// exchange, cached there for the next process (best effort).
    async fn federated(
        &self,
        http: &reqwest::Client,
        base_url: &Url,
        federation: &Federation,
        force: bool,
    ) -> Result<AccessToken, Error> {
        let cached = match self.credentials_path.exists() {
            true => self.read_credentials().ok(),
            false => None,
        };
        if !force
            && let Some(token) = cached.as_ref().and_then(|c| self.access_token(c).ok())
            && token
                .expires_at
                .is_some_and(|at| at > now().saturating_add(MANDATORY_REFRESH_SECS))
        {
            return Ok(token);
        }
        let token = federation.exchange(http, base_url).await?;
        let mut credentials = cached.unwrap_or_default();
        credentials.insert("version".into(), CREDENTIALS_VERSION.into());
        credentials.insert("type".into(), CREDENTIALS_TYPE.into());
        credentials.insert("access_token".into(), token.token.clone().into());
        credentials.insert("expires_at".into(), token.expires_at.into());
        if let Err(error) = write_owner_only(&self.credentials_path, &Value::Object(credentials)) {
            tracing::debug!(%error, "could not cache the federation token on disk");
        }
        Ok(token)
    }

    /// The credentials file, refused unless only its owner may read it.
    fn read_credentials(&self) -> Result<Map<String, Value>, Error> {
        let path = &self.credentials_path;
        owner_only(path)?;
        match read_json(path)? {
            Value::Object(credentials) => match credentials.get("type").and_then(Value::as_str) {
                Some(kind) if kind != CREDENTIALS_TYPE => Err(Error::config(format!(
                    "profile {:?}: {} has type {kind:?}; expected \"{CREDENTIALS_TYPE}\"",
                    self.name,
                    path.display()
                ))),
                _ => Ok(credentials),
            },
            _ => Err(Error::config(format!(
                "profile {:?}: {} is not a JSON object",
                self.name,
                path.display()
            ))),
        }
    }

    fn access_token(&self, credentials: &Map<String, Value>) -> Result<AccessToken, Error> {
        let token = string(credentials, "access_token").ok_or_else(|| {
            Error::config(format!(
                "profile {:?}: {} has no access_token",
                self.name,
                self.credentials_path.display()
            ))
        })?;
        Ok(AccessToken::minted(
            token.to_owned(),
            credentials.get("expires_at").and_then(Value::as_u64),
        ))
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Profile");
        s.field("name", &self.name)
            .field("credentials_path", &self.credentials_path)
            .field(
                "base_url",
                &self.base_url.as_ref().map(super::super::without_password),
            )
            .field("workspace_id", &self.workspace_id);
        match &self.auth {
            Auth::UserOauth { client_id } => {
                s.field("type", &USER_OAUTH).field("client_id", client_id)
            }
            Auth::OidcFederation(federation) => s.field("federation", federation),
        };
        s.finish()
    }
}

/// Fills the settings the file left out (absent or empty) from the
/// environment, as the official SDKs do; the file wins otherwise.
fn fill_from_env(config: &mut Map<String, Value>, auth: &mut Map<String, Value>, env: &Env) {
    let fill = |target: &mut Map<String, Value>, key: &str, var: &str| {
        if string(target, key).is_none()
            && let Some(value) = env.get(var)
        {
            target.insert(key.to_owned(), value.into());
        }
    };
    fill(config, "base_url", BASE_URL_VAR);
    fill(config, "organization_id", ORGANIZATION_ID_VAR);
    fill(config, "workspace_id", WORKSPACE_ID_VAR);
    if string(auth, "type") == Some(OIDC_FEDERATION) {
        fill(auth, "federation_rule_id", FEDERATION_RULE_ID_VAR);
        fill(auth, "service_account_id", SERVICE_ACCOUNT_ID_VAR);
        if auth.get("identity_token").is_none_or(Value::is_null)
            && let Some(path) = env.get(IDENTITY_TOKEN_FILE_VAR)
        {
            auth.insert(
                "identity_token".into(),
                json!({"source": "file", "path": path}),
            );
        }
    }
}

/// The federation a profile describes: `authentication.federation_rule_id`,
/// the top-level `organization_id`, and an identity token file.
fn federation_of(
    config: &Map<String, Value>,
    auth: &Map<String, Value>,
    env: &Env,
) -> Result<Federation, String> {
    let needs = |what: &str, var: &str| {
        format!("is an {OIDC_FEDERATION} profile without {what}: add it, or set {var}")
    };
    let rule = string(auth, "federation_rule_id")
        .ok_or_else(|| needs("authentication.federation_rule_id", FEDERATION_RULE_ID_VAR))?;
    let organization = string(config, "organization_id")
        .ok_or_else(|| needs("organization_id", ORGANIZATION_ID_VAR))?;
    let path = match auth.get("identity_token") {
        None | Some(Value::Null) => {
            return Err(needs(
                "authentication.identity_token",
                IDENTITY_TOKEN_FILE_VAR,
            ));
        }
        Some(Value::Object(source)) => match (string(source, "source"), string(source, "path")) {
            (Some("file"), Some(path)) => expand_home(path, env),
            (Some("file"), None) => {
                return Err("has an identity_token of source \"file\" without a path".to_owned());
            }
            (other, _) => {
                return Err(format!(
                    "has an identity_token of source {other:?}; only \"file\" is supported"
                ));
            }
        },
        Some(_) => return Err("has an identity_token that is not an object".to_owned()),
    };
    Ok(Federation {
        identity: Identity::File(path),
        federation_rule_id: rule.to_owned(),
        organization_id: organization.to_owned(),
        service_account_id: string(auth, "service_account_id").map(str::to_owned),
        workspace_id: string(config, "workspace_id").map(str::to_owned),
    })
}

/// A non-empty string field.
fn string<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}

fn parse_base_url(url: &str) -> Result<Url, String> {
    match Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(parsed),
        _ => Err(format!(
            "has base_url {url:?}, which is not an http or https URL"
        )),
    }
}

/// `path` with a leading `~/` taken as the home directory.
fn expand_home(path: &str, env: &Env) -> PathBuf {
    match (path.strip_prefix("~/"), &env.home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// Refuses a credentials file that is a symbolic link, or that its group
/// or others may read or write: a token there may already have leaked.
fn owner_only(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::symlink_metadata(path).map_err(|e| {
            Error::config_with(
                format!("could not read credentials file {}", path.display()),
                e,
            )
        })?;
        if metadata.file_type().is_symlink() {
            return Err(Error::config(format!(
                "credentials file {} is a symbolic link; move the file itself into place",
                path.display()
            )));
        }
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

/// Refuses a config file its group or others may write: whoever can write
/// it can send the profile's tokens to another host (`base_url`).
fn not_writable_by_others(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A missing file is reported when it is read.
        if let Ok(metadata) = std::fs::metadata(path) {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o022 != 0 {
                return Err(Error::config(format!(
                    "config file {} has mode {mode:03o}, writable beyond its owner: run `chmod go-w {}`",
                    path.display(),
                    path.display()
                )));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Replaces `path` with `value`, atomically, readable by its owner only
/// from the moment it exists.
fn write_owner_only(path: &Path, value: &Value) -> Result<(), Error> {
    let failed = |e: std::io::Error| {
        Error::config_with(
            format!("could not write credentials file {}", path.display()),
            e,
        )
    };
    let parent = path.parent().unwrap_or(Path::new("."));
    crate::owner_only::dir_builder()
        .recursive(true)
        .create(parent)
        .map_err(failed)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = parent.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        fastrand::u64(..)
    ));
    let written = (|| {
        use std::io::Write;
        // Created 0600, and new: never a file someone else made or linked.
        let mut file = crate::owner_only::create_new_file(&temporary)?;
        let text = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
        file.write_all(&text)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(failed(e));
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
