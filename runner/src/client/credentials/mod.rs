//! Where the client's credentials come from, in the official SDKs' order,
//! and the tokens minted from them.
//!
//! [`resolve`] is a pure function of an environment snapshot, so that its
//! precedence is tested without touching the process environment (which
//! tests running in parallel share).

mod cache;
mod federation;
mod profile;
mod provider;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

pub(crate) use cache::TokenCache;
pub(crate) use federation::Federation;
pub use federation::WorkloadIdentity;
pub(crate) use profile::Profile;
pub(crate) use provider::SharedProvider;
pub use provider::{AccessToken, TokenError, TokenProvider, TokenRequest};

use crate::error::Error;

pub(crate) const API_KEY_VAR: &str = "ANTHROPIC_API_KEY";
pub(crate) const AUTH_TOKEN_VAR: &str = "ANTHROPIC_AUTH_TOKEN";
pub(crate) const BASE_URL_VAR: &str = "ANTHROPIC_BASE_URL";
const PROFILE_VAR: &str = "ANTHROPIC_PROFILE";
const CONFIG_DIR_VAR: &str = "ANTHROPIC_CONFIG_DIR";
const IDENTITY_TOKEN_VAR: &str = "ANTHROPIC_IDENTITY_TOKEN";
const IDENTITY_TOKEN_FILE_VAR: &str = "ANTHROPIC_IDENTITY_TOKEN_FILE";
const FEDERATION_RULE_ID_VAR: &str = "ANTHROPIC_FEDERATION_RULE_ID";
const ORGANIZATION_ID_VAR: &str = "ANTHROPIC_ORGANIZATION_ID";
const SERVICE_ACCOUNT_ID_VAR: &str = "ANTHROPIC_SERVICE_ACCOUNT_ID";
const WORKSPACE_ID_VAR: &str = "ANTHROPIC_WORKSPACE_ID";

/// Every variable [`resolve`] reads.
pub(crate) const VARS: &[&str] = &[
    API_KEY_VAR,
    AUTH_TOKEN_VAR,
    BASE_URL_VAR,
    PROFILE_VAR,
    CONFIG_DIR_VAR,
    IDENTITY_TOKEN_VAR,
    IDENTITY_TOKEN_FILE_VAR,
    FEDERATION_RULE_ID_VAR,
    ORGANIZATION_ID_VAR,
    SERVICE_ACCOUNT_ID_VAR,
    WORKSPACE_ID_VAR,
];

/// The beta every request authorized by a minted token carries, and the
/// refresh-token grant too.
pub(crate) const OAUTH_BETA: &str = "oauth-2025-04-20";

/// A token this close to expiring (in seconds) is refreshed before it is
/// used...
const ADVISORY_REFRESH_SECS: u64 = 120;
/// ...and one this close is not used at all, even if refreshing fails.
const MANDATORY_REFRESH_SECS: u64 = 30;

/// A snapshot of the variables [`resolve`] reads, and the home directory.
#[derive(Default)]
pub(crate) struct Env {
    /// Variables set to a non-empty value.
    pub(crate) vars: HashMap<String, String>,
    /// The user's home directory, for the default config directory.
    pub(crate) home: Option<PathBuf>,
}

impl Env {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `ANTHROPIC_CONFIG_DIR`, else `~/.config/anthropic`.
    fn config_dir(&self) -> Option<PathBuf> {
        match self.get(CONFIG_DIR_VAR) {
            Some(dir) => Some(PathBuf::from(dir)),
            None => Some(self.home.as_ref()?.join(".config").join("anthropic")),
        }
    }
}

/// The credential the environment supplies.
pub(crate) enum Credential {
    /// `ANTHROPIC_API_KEY`, sent as `x-api-key`.
    ApiKey(String),
    /// `ANTHROPIC_AUTH_TOKEN`, sent as `Authorization: Bearer`.
    AuthToken(String),
    /// Tokens minted on demand and cached.
    Minted(Source),
}

/// Where minted tokens come from.
#[derive(Debug)]
pub(crate) enum Source {
    /// Workload identity federation: an identity token exchanged for an
    /// access token.
    Federation(Federation),
    /// A profile on disk.
    Profile(Box<Profile>),
    /// The user's own provider.
    Provider(SharedProvider),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            Credential::AuthToken(_) => f.write_str("AuthToken(<redacted>)"),
            Credential::Minted(source) => f.debug_tuple("Minted").field(source).finish(),
        }
    }
}

/// The credential `env` supplies, trying in order: `ANTHROPIC_API_KEY`
/// (winning over `ANTHROPIC_AUTH_TOKEN`, with a warning), then
/// `ANTHROPIC_AUTH_TOKEN`; the profile `ANTHROPIC_PROFILE` names; workload
/// identity federation; the active profile on disk. `None` when nothing is
/// configured.
///
/// # Errors
///
/// A configuration error for a named profile that cannot be used, or a
/// federation setup missing a required variable.
pub(crate) fn resolve(env: &Env) -> Result<Option<Credential>, Error> {
    if let Some(key) = env.get(API_KEY_VAR) {
        if env.get(AUTH_TOKEN_VAR).is_some() {
            tracing::warn!(
                "both {API_KEY_VAR} and {AUTH_TOKEN_VAR} are set: using {API_KEY_VAR}, ignoring {AUTH_TOKEN_VAR}"
            );
        }
        return Ok(Some(Credential::ApiKey(key.to_owned())));
    }
    if let Some(token) = env.get(AUTH_TOKEN_VAR) {
        return Ok(Some(Credential::AuthToken(token.to_owned())));
    }
    if let Some(name) = env.get(PROFILE_VAR) {
        let dir = env.config_dir().ok_or_else(no_config_dir)?;
        let profile = Profile::load(&dir, name, env)?;
        return Ok(Some(Credential::Minted(Source::Profile(Box::new(profile)))));
    }
    if let Some(federation) = federation_from(env)? {
        return Ok(Some(Credential::Minted(Source::Federation(federation))));
    }
    let Some(dir) = env.config_dir() else {
        return Ok(None);
    };
    // A profile the user pointed at (a config directory set, or an
    // `active_config` file) must work; one merely found is skipped when
    // broken, so a stale file does not stop a client from being built.
    let pointer = profile::active_pointer(&dir);
    let user_configured = env.get(CONFIG_DIR_VAR).is_some() || pointer.is_some();
    let name = pointer.unwrap_or_else(|| profile::DEFAULT.to_owned());
    if !user_configured && !profile::exists(&dir, &name) {
        return Ok(None);
    }
    match Profile::load(&dir, &name, env) {
        Ok(profile) => Ok(Some(Credential::Minted(Source::Profile(Box::new(profile))))),
        Err(e) if user_configured => Err(e),
        Err(e) => {
            tracing::debug!(error = %e, "skipping the profile found on disk");
            Ok(None)
        }
    }
}

/// The profile a builder names: `name` (else the one `active_config`
/// points at, else `default`) under `dir`, else under
/// `ANTHROPIC_CONFIG_DIR` or `~/.config/anthropic` as `var` says. Nothing
/// else comes from the environment.
///
/// # Errors
///
/// A configuration error when there is no config directory, or the
/// profile cannot be used.
pub(crate) fn profile_source(
    dir: Option<PathBuf>,
    name: Option<String>,
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Source, Error> {
    let env = Env {
        vars: HashMap::new(),
        home: var("HOME").filter(|h| !h.is_empty()).map(PathBuf::from),
    };
    let dir = match dir {
        Some(dir) => dir,
        None => match var(CONFIG_DIR_VAR).filter(|d| !d.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => env.config_dir().ok_or_else(|| {
                Error::config(format!(
                    "no config directory for the profile: set ClientBuilder::config_dir, {CONFIG_DIR_VAR} or HOME"
                ))
            })?,
        },
    };
    let name = name
        .or_else(|| profile::active_pointer(&dir))
        .unwrap_or_else(|| profile::DEFAULT.to_owned());
    let profile = Profile::load(&dir, &name, &env)?;
    Ok(Source::Profile(Box::new(profile)))
}

/// Federation from the environment, when its variables are set: an
/// identity token (or a file holding one), a federation rule and an
/// organization.
fn federation_from(env: &Env) -> Result<Option<Federation>, Error> {
    let token = env.get(IDENTITY_TOKEN_VAR);
    let file = env.get(IDENTITY_TOKEN_FILE_VAR);
    let rule = env.get(FEDERATION_RULE_ID_VAR);
    if token.is_none() && file.is_none() && rule.is_none() {
        return Ok(None);
    }
    let missing = |name: &str| {
        Error::config(format!(
            "workload identity federation needs {name}: set it, or unset {FEDERATION_RULE_ID_VAR}, {IDENTITY_TOKEN_VAR} and {IDENTITY_TOKEN_FILE_VAR}"
        ))
    };
    let identity = match (token, file) {
        (Some(token), _) => federation::Identity::Token(token.to_owned()),
        (None, Some(file)) => federation::Identity::File(PathBuf::from(file)),
        (None, None) => return Err(missing(IDENTITY_TOKEN_VAR)),
    };
    let rule = rule.ok_or_else(|| missing(FEDERATION_RULE_ID_VAR))?;
    let organization = env
        .get(ORGANIZATION_ID_VAR)
        .ok_or_else(|| missing(ORGANIZATION_ID_VAR))?;
    Ok(Some(Federation {
        identity,
        federation_rule_id: rule.to_owned(),
        organization_id: organization.to_owned(),
        service_account_id: env.get(SERVICE_ACCOUNT_ID_VAR).map(str::to_owned),
        workspace_id: env.get(WORKSPACE_ID_VAR).map(str::to_owned),
    }))
}

fn no_config_dir() -> Error {
    Error::config(format!(
        "{PROFILE_VAR} is set but there is no config directory: set {CONFIG_DIR_VAR} or HOME"
    ))
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Source {
    /// A fresh access token. `force` says the API refused the last one, so
    /// a token that still looks valid (in a profile's file) is not it.
    ///
    /// # Errors
    ///
    /// A configuration error when the token cannot be had; never quoting a
    /// secret.
    pub(crate) async fn fetch(
        &self,
        http: &reqwest::Client,
        base_url: &reqwest::Url,
        force: bool,
    ) -> Result<AccessToken, Error> {
        match self {
            Source::Federation(federation) => federation.exchange(http, base_url).await,
            Source::Profile(profile) => profile.fetch(http, base_url, force).await,
            Source::Provider(provider) => {
                let request = TokenRequest::new(force);
                let token = provider.provider.token(request).await.map_err(|e| {
                    Error::config_with("the credential provider could not give a token", e)
                })?;
                if token.token.is_empty() {
                    return Err(Error::config("the credential provider gave an empty token"));
                }
                Ok(token)
            }
        }
    }

    /// The API host the source's profile names, for a client whose base
    /// URL is not set explicitly.
    pub(crate) fn base_url(&self) -> Option<&reqwest::Url> {
        match self {
            Source::Profile(profile) => profile.base_url.as_ref(),
            Source::Federation(_) | Source::Provider(_) => None,
        }
    }

    /// Headers the source's profile adds to every request; the client's
    /// own default headers win over them.
    pub(crate) fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Source::Profile(profile) => profile.headers(),
            Source::Federation(_) | Source::Provider(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
