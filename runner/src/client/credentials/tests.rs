//! Precedence over environment snapshots, and the token endpoint's wire
//! and refresh paths against a scripted server.

use std::path::Path;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Env {
    Env {
        vars: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        home: None,
    }
}

fn kind(found: Option<Credential>) -> &'static str {
    match found {
        None => "none",
        Some(Credential::ApiKey(_)) => "api key",
        Some(Credential::AuthToken(_)) => "auth token",
        Some(Credential::Minted(Source::Federation(_))) => "federation",
        Some(Credential::Minted(Source::Profile(_))) => "profile",
        Some(Credential::Minted(Source::Provider(_))) => "provider",
    }
}

const FEDERATION: [(&str, &str); 3] = [
    (IDENTITY_TOKEN_VAR, "jwt-secret"),
    (FEDERATION_RULE_ID_VAR, "fdrl_1"),
    (ORGANIZATION_ID_VAR, "org_1"),
];

/// A fresh directory under the system's temporary one, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("toolrunner-credentials-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config directory with profile `name` whose token is `token`, its
/// credentials file with `mode`.
fn profile_dir(name: &str, token: &str, mode: u32) -> TempDir {
    let dir = TempDir::new();
    write_profile(dir.path(), name, token, mode);
    dir
}

fn write_profile(dir: &Path, name: &str, token: &str, mode: u32) {
    std::fs::create_dir_all(dir.join("configs")).unwrap();
    std::fs::create_dir_all(dir.join("credentials")).unwrap();
    std::fs::write(
        dir.join("configs").join(format!("{name}.json")),
        r#"{"authentication": {"type": "user_oauth"}}"#,
    )
    .unwrap();
    let path = dir.join("credentials").join(format!("{name}.json"));
    std::fs::write(
        &path,
        format!(r#"{{"type": "oauth_token", "access_token": "{token}"}}"#),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// Writes profile `name`'s config under `dir`.
fn write_config(dir: &Path, name: &str, config: &serde_json::Value) {
    std::fs::create_dir_all(dir.join("configs")).unwrap();
    std::fs::write(
        dir.join("configs").join(format!("{name}.json")),
        config.to_string(),
    )
    .unwrap();
}

#[test]
fn precedence_follows_the_official_sdks() {
    let dir = profile_dir("default", "profile-token", 0o600);
    let config_dir = dir.path().to_str().unwrap();
    write_profile(dir.path(), "dev", "dev-token", 0o600);
    let with = |pairs: &[(&str, &str)]| {
        let mut all = vec![(CONFIG_DIR_VAR, config_dir)];
        all.extend_from_slice(pairs);
        kind(resolve(&env(&all)).unwrap())
    };
    let mut everything = vec![
        (API_KEY_VAR, "k"),
        (AUTH_TOKEN_VAR, "t"),
        (PROFILE_VAR, "dev"),
    ];
    everything.extend(FEDERATION);
    assert_eq!(with(&everything), "api key");
    assert_eq!(with(&everything[1..]), "auth token");
    assert_eq!(with(&everything[2..]), "profile");
    assert_eq!(with(&everything[3..]), "federation");
    // The active profile on disk comes last.
    assert_eq!(with(&[]), "profile");
    // Without a config directory, nothing.
    assert_eq!(kind(resolve(&env(&[])).unwrap()), "none");
}

#[test]
fn the_active_profile_is_the_one_the_pointer_names() {
    let dir = profile_dir("work", "work-token", 0o600);
    std::fs::write(dir.path().join("active_config"), "work\n").unwrap();
    let home = TempDir::new();
    let config = home.path().join(".config").join("anthropic");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::rename(dir.path(), &config).unwrap();
    let env = Env {
        vars: HashMap::new(),
        home: Some(home.path().to_owned()),
    };
    let Some(Credential::Minted(Source::Profile(profile))) = resolve(&env).unwrap() else {
        panic!("the active profile");
    };
    assert!(profile.credentials_path.ends_with("credentials/work.json"));
}

#[test]
fn federation_needs_its_organization() {
    let err = resolve(&env(&FEDERATION[..2])).unwrap_err();
    assert!(err.is_config());
    assert!(err.to_string().contains(ORGANIZATION_ID_VAR), "{err}");
}

#[test]
fn a_named_profile_with_a_bad_name_is_an_error() {
    let err = resolve(&env(&[
        (CONFIG_DIR_VAR, "/nonexistent"),
        (PROFILE_VAR, "../etc"),
    ]))
    .unwrap_err();
    assert!(
        err.to_string().contains(r#"invalid profile name "../etc""#),
        "{err}"
    );
}

#[test]
fn the_environment_fills_only_what_a_profile_leaves_out() {
    let dir = TempDir::new();
    write_config(
        dir.path(),
        "ci",
        &serde_json::json!({
            "authentication": {"type": "oidc_federation", "federation_rule_id": "fdrl_file"},
            "workspace_id": ""
        }),
    );
    let config_dir = dir.path().to_str().unwrap();
    let found = resolve(&env(&[
        (CONFIG_DIR_VAR, config_dir),
        (PROFILE_VAR, "ci"),
        (FEDERATION_RULE_ID_VAR, "fdrl_env"),
        (ORGANIZATION_ID_VAR, "org_env"),
        (WORKSPACE_ID_VAR, "wrkspc_env"),
        (SERVICE_ACCOUNT_ID_VAR, "svac_env"),
        (IDENTITY_TOKEN_FILE_VAR, "/run/token"),
        (BASE_URL_VAR, "https://gateway.example"),
    ]))
    .unwrap();
    let shown = format!("{found:?}");
    // The file's rule wins; the rest comes from the environment, an empty
    // field in the file counting as left out.
    for expected in [
        "fdrl_file",
        "org_env",
        "wrkspc_env",
        "svac_env",
        "/run/token",
        "gateway.example",
    ] {
        assert!(shown.contains(expected), "{expected} in {shown}");
    }
    assert!(!shown.contains("fdrl_env"), "{shown}");
}

#[test]
fn a_federation_profile_without_an_identity_token_names_what_to_set() {
    let dir = TempDir::new();
    write_config(
        dir.path(),
        "ci",
        &serde_json::json!({
            "authentication": {"type": "oidc_federation", "federation_rule_id": "fdrl_1"},
            "organization_id": "org_1"
        }),
    );
    let err = resolve(&env(&[
        (CONFIG_DIR_VAR, dir.path().to_str().unwrap()),
        (PROFILE_VAR, "ci"),
    ]))
    .unwrap_err();
    assert!(err.is_config());
    let shown = err.to_string();
    assert!(shown.contains("authentication.identity_token"), "{shown}");
    assert!(shown.contains(IDENTITY_TOKEN_FILE_VAR), "{shown}");
}

#[cfg(unix)]
#[test]
fn a_config_file_others_may_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = profile_dir("default", "token", 0o600);
    let config = dir.path().join("configs").join("default.json");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o664)).unwrap();
    let err = resolve(&env(&[(CONFIG_DIR_VAR, dir.path().to_str().unwrap())])).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("mode 664"), "{shown}");
    assert!(shown.contains("chmod go-w"), "{shown}");
}

#[test]
fn an_unknown_authentication_type_is_an_error() {
    let dir = TempDir::new();
    write_config(
        dir.path(),
        "odd",
        &serde_json::json!({"authentication": {"type": "api_key"}}),
    );
    let err = resolve(&env(&[
        (CONFIG_DIR_VAR, dir.path().to_str().unwrap()),
        (PROFILE_VAR, "odd"),
    ]))
    .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains(r#"authentication type Some("api_key")"#),
        "{shown}"
    );
}

#[test]
fn secrets_stay_out_of_debug() {
    let found = resolve(&env(&FEDERATION)).unwrap();
    let shown = format!("{found:?}");
    assert!(!shown.contains("jwt-secret"), "{shown}");
    let shown = format!(
        "{:?}",
        resolve(&env(&[(API_KEY_VAR, "sk-secret")])).unwrap()
    );
    assert!(!shown.contains("sk-secret"), "{shown}");
}

#[cfg(feature = "testing")]
mod wire {
    use std::ffi::OsString;
    use std::sync::{Arc, Mutex};

    use serde_json::{Value, json};

    use super::*;
    use crate::client::{Client, ClientBuilder};
    use crate::testing::{Reply, ScriptedServer};
    use crate::types::MessageParams;

    /// Writes profile `name`'s credentials file under `dir`, owner-only.
    fn write_credentials(
        dir: &Path,
        name: &str,
        credentials: &serde_json::Value,
    ) -> std::path::PathBuf {
        std::fs::create_dir_all(dir.join("credentials")).unwrap();
        let path = dir.join("credentials").join(format!("{name}.json"));
        std::fs::write(&path, credentials.to_string()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        path
    }

    fn message() -> Value {
        json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 1, "output_tokens": 1}
        })
    }

    fn token(n: usize, expires_in: u64) -> Reply {
        Reply::json(
            200,
            json!({"access_token": format!("minted-{n}"), "expires_in": expires_in, "token_type": "Bearer"}),
        )
    }

    /// A server whose token endpoint answers with `tokens` in turn (the
    /// last one again once they run out), and whose Messages endpoint
    /// answers with a message.
    async fn server(tokens: Vec<Reply>) -> ScriptedServer {
        let tokens = Arc::new(Mutex::new(tokens));
        ScriptedServer::start(move |request: &Value| {
            if request.get("grant_type").is_some() {
                let mut tokens = tokens.lock().unwrap();
                return if tokens.len() > 1 {
                    tokens.remove(0)
                } else {
                    tokens[0].clone()
                };
            }
            Reply::message(message())
        })
        .await
        .unwrap()
    }

    fn client(server: &ScriptedServer, extra: &[(&str, &str)]) -> Client {
        let url = server.url();
        let mut pairs: Vec<(String, String)> = FEDERATION
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        pairs.push(("ANTHROPIC_BASE_URL".into(), url));
        pairs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        ClientBuilder::from_env_with(move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        })
        .max_retries(0)
        .build()
        .unwrap()
    }

    fn params() -> MessageParams {
        MessageParams::new("claude-test", 16).user("Hi")
    }

    /// `(target, authorization)` of each request the server got.
    fn log(server: &ScriptedServer) -> Vec<(String, String)> {
        server
            .recorded()
            .into_iter()
            .map(|r| {
                let auth = r.header("authorization").unwrap_or("").to_owned();
                (r.target, auth)
            })
            .collect()
    }

    fn entry(target: &str, auth: &str) -> (String, String) {
        (target.to_owned(), auth.to_owned())
    }

    #[tokio::test]
    async fn federation_exchanges_then_sends_the_bearer_with_the_oauth_beta() {
        let server = server(vec![token(1, 3600)]).await;
        let client = client(&server, &[(SERVICE_ACCOUNT_ID_VAR, "svac_1")]);
        client.create_message(&params()).await.unwrap();
        client.clone().create_message(&params()).await.unwrap();

        let recorded = server.recorded();
        let exchange = &recorded[0];
        assert_eq!(exchange.method, "POST");
        assert_eq!(exchange.target, "/v1/oauth/token");
        assert_eq!(
            exchange.header("anthropic-beta"),
            Some("oauth-2025-04-20,oidc-federation-2026-04-01")
        );
        let body: Value = serde_json::from_str(&exchange.body).unwrap();
        assert_eq!(
            body,
            json!({
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": "jwt-secret",
                "federation_rule_id": "fdrl_1",
                "organization_id": "org_1",
                "service_account_id": "svac_1"
            })
        );
        // One exchange for both requests, and for the clone.
        assert_eq!(
            log(&server),
            [
                entry("/v1/oauth/token", ""),
                entry("/v1/messages", "Bearer minted-1"),
                entry("/v1/messages", "Bearer minted-1"),
            ]
        );
        assert_eq!(
            recorded[1].header("anthropic-beta"),
            Some("oauth-2025-04-20")
        );
        assert_eq!(recorded[1].header("x-api-key"), None);
        assert!(!format!("{client:?}").contains("jwt-secret"));
    }

    #[tokio::test]
    async fn workload_identity_set_in_code_exchanges_as_from_the_environment() {
        let server = server(vec![token(1, 3600)]).await;
        let identity = WorkloadIdentity::from_token("jwt-in-code", "fdrl_9", "org_9")
            .service_account_id("svac_9")
            .workspace_id("wrkspc_9");
        let client = ClientBuilder::new()
            .workload_identity(identity)
            .base_url(server.url())
            .build()
            .unwrap();

        client.create_message(&params()).await.unwrap();

        let recorded = server.recorded();
        let body: Value = serde_json::from_str(&recorded[0].body).unwrap();
        assert_eq!(
            body,
            json!({
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": "jwt-in-code",
                "federation_rule_id": "fdrl_9",
                "organization_id": "org_9",
                "service_account_id": "svac_9",
                "workspace_id": "wrkspc_9"
            })
        );
        assert_eq!(
            log(&server),
            [
                entry("/v1/oauth/token", ""),
                entry("/v1/messages", "Bearer minted-1"),
            ]
        );
        assert_eq!(
            recorded[1].header("anthropic-beta"),
            Some("oauth-2025-04-20")
        );
        assert!(!format!("{client:?}").contains("jwt-in-code"));
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_exchange() {
        let server = server(vec![token(1, 3600)]).await;
        let client = client(&server, &[]);
        let requests = (0..5).map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.create_message(&params()).await })
        });
        for request in requests.collect::<Vec<_>>() {
            request.await.unwrap().unwrap();
        }
        let log = log(&server);
        assert_eq!(
            log.iter().filter(|(t, _)| t == "/v1/oauth/token").count(),
            1
        );
        assert_eq!(log.len(), 6);
    }

    #[tokio::test]
    async fn a_token_close_to_expiry_is_refreshed_ahead() {
        let server = server(vec![token(1, 100), token(2, 3600)]).await;
        let client = client(&server, &[]);
        client.create_message(&params()).await.unwrap();
        client.create_message(&params()).await.unwrap();
        assert_eq!(
            log(&server),
            [
                entry("/v1/oauth/token", ""),
                entry("/v1/messages", "Bearer minted-1"),
                entry("/v1/oauth/token", ""),
                entry("/v1/messages", "Bearer minted-2"),
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_serving_a_still_valid_token() {
        let server = server(vec![token(1, 100), Reply::error(500, "api_error", "down")]).await;
        let client = client(&server, &[]);
        client.create_message(&params()).await.unwrap();
        client.create_message(&params()).await.unwrap();
        let log = log(&server);
        assert_eq!(log[3], entry("/v1/messages", "Bearer minted-1"));
    }

    #[tokio::test]
    async fn a_failed_refresh_fails_when_the_token_is_about_to_expire() {
        let server = server(vec![token(1, 10), Reply::error(500, "api_error", "down")]).await;
        let client = client(&server, &[]);
        client.create_message(&params()).await.unwrap();
        let err = client.create_message(&params()).await.unwrap_err();
        assert!(err.is_config(), "{err}");
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("token exchange"), "{shown}");
        assert!(shown.contains("status 500"), "{shown}");
        assert!(
            !shown.contains("jwt-secret") && !shown.contains("minted-1"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn a_refused_minted_token_is_replaced_once() {
        let tokens = Arc::new(Mutex::new(0usize));
        let refused = Arc::new(Mutex::new(0usize));
        let (t, r) = (tokens.clone(), refused.clone());
        let server = ScriptedServer::start(move |request: &Value| {
            if request.get("grant_type").is_some() {
                let mut n = t.lock().unwrap();
                *n += 1;
                return token(*n, 3600);
            }
            let mut r = r.lock().unwrap();
            *r += 1;
            // The first token is revoked; the second works.
            if *r == 1 {
                Reply::error(401, "authentication_error", "revoked")
            } else {
                Reply::message(message())
            }
        })
        .await
        .unwrap();
        let client = client(&server, &[]);
        client.create_message(&params()).await.unwrap();
        assert_eq!(
            log(&server),
            [
                entry("/v1/oauth/token", ""),
                entry("/v1/messages", "Bearer minted-1"),
                entry("/v1/oauth/token", ""),
                entry("/v1/messages", "Bearer minted-2"),
            ]
        );
    }

    #[tokio::test]
    async fn a_profile_token_is_sent_and_a_group_readable_file_refused() {
        let server = server(vec![token(1, 3600)]).await;
        let dir = profile_dir("default", "profile-token", 0o600);
        let config_dir = dir.path().to_str().unwrap().to_owned();
        let url = server.url();
        let build = |config_dir: String| {
            let url = url.clone();
            ClientBuilder::from_env_with(move |name| match name {
                "ANTHROPIC_CONFIG_DIR" => Some(OsString::from(&config_dir)),
                "ANTHROPIC_BASE_URL" => Some(OsString::from(&url)),
                _ => None,
            })
            .max_retries(0)
            .build()
            .unwrap()
        };
        build(config_dir).create_message(&params()).await.unwrap();
        assert_eq!(
            log(&server),
            [entry("/v1/messages", "Bearer profile-token")]
        );

        let dir = profile_dir("default", "leaky-token", 0o640);
        let err = build(dir.path().to_str().unwrap().to_owned())
            .create_message(&params())
            .await
            .unwrap_err();
        assert!(err.is_config());
        let shown = err.to_string();
        assert!(shown.contains("mode 640"), "{shown}");
        assert!(shown.contains("chmod 600"), "{shown}");
        assert!(!shown.contains("leaky-token"), "{shown}");
    }

    /// A config directory with a `user_oauth` profile `default`: `auth`
    /// merged into its authentication object, `config` into its top level,
    /// and an access token `old-token` expiring in `expires_in` seconds
    /// with refresh token `refresh-1`.
    fn oauth_profile(auth: Value, config: Value, expires_in: u64) -> (TempDir, std::path::PathBuf) {
        let dir = TempDir::new();
        let mut authentication = json!({"type": "user_oauth"});
        authentication
            .as_object_mut()
            .unwrap()
            .extend(auth.as_object().unwrap().clone());
        let mut whole = json!({"authentication": authentication});
        whole
            .as_object_mut()
            .unwrap()
            .extend(config.as_object().unwrap().clone());
        write_config(dir.path(), "default", &whole);
        let path = write_credentials(
            dir.path(),
            "default",
            &json!({
                "version": "1.0", "type": "oauth_token",
                "access_token": "old-token",
                "refresh_token": "refresh-1",
                "expires_at": now() + expires_in
            }),
        );
        (dir, path)
    }

    /// A client from an environment of `pairs`.
    fn client_from(pairs: Vec<(String, String)>) -> Client {
        ClientBuilder::from_env_with(move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        })
        .max_retries(0)
        .build()
        .unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn the_refresh_grant_replaces_an_expiring_profile_token_and_keeps_the_new_one() {
        let server = server(vec![Reply::json(
            200,
            json!({"access_token": "minted-1", "expires_in": 3600, "token_type": "Bearer", "refresh_token": "refresh-2"}),
        )])
        .await;
        let (dir, path) = oauth_profile(json!({"client_id": "client-1"}), json!({}), 60);
        let client = client_from(pairs(&[
            (CONFIG_DIR_VAR, dir.path().to_str().unwrap()),
            (BASE_URL_VAR, &server.url()),
        ]));
        client.create_message(&params()).await.unwrap();
        client.create_message(&params()).await.unwrap();

        let recorded = server.recorded();
        let grant = &recorded[0];
        assert_eq!(grant.method, "POST");
        assert_eq!(grant.target, "/v1/oauth/token");
        // Only the OAuth beta: the federation one is for jwt-bearer grants.
        assert_eq!(grant.header("anthropic-beta"), Some("oauth-2025-04-20"));
        assert_eq!(grant.header("content-type"), Some("application/json"));
        assert_eq!(grant.header("authorization"), None);
        assert_eq!(
            serde_json::from_str::<Value>(&grant.body).unwrap(),
            json!({"grant_type": "refresh_token", "refresh_token": "refresh-1", "client_id": "client-1"})
        );
        assert_eq!(
            log(&server),
            [
                entry("/v1/oauth/token", ""),
                entry("/v1/messages", "Bearer minted-1"),
                entry("/v1/messages", "Bearer minted-1"),
            ]
        );
        // The rotated refresh token is written back, owner-only.
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(saved["access_token"], "minted-1");
        assert_eq!(saved["refresh_token"], "refresh-2");
        assert_eq!(saved["type"], "oauth_token");
        assert!(saved["expires_at"].as_u64().unwrap() >= now() + 3500);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(!format!("{client:?}").contains("refresh-"));
    }

    #[tokio::test]
    async fn a_profile_token_with_time_left_is_sent_without_a_grant() {
        let server = server(vec![token(1, 3600)]).await;
        let (dir, _path) = oauth_profile(json!({"client_id": "client-1"}), json!({}), 3600);
        let client = client_from(pairs(&[
            (CONFIG_DIR_VAR, dir.path().to_str().unwrap()),
            (BASE_URL_VAR, &server.url()),
        ]));
        client.create_message(&params()).await.unwrap();
        assert_eq!(log(&server), [entry("/v1/messages", "Bearer old-token")]);
    }

    #[tokio::test]
    async fn a_failed_refresh_grant_keeps_the_profile_token_while_it_is_valid() {
        let server = server(vec![Reply::error(500, "api_error", "refresh-1 rejected")]).await;
        let (dir, _path) = oauth_profile(json!({"client_id": "client-1"}), json!({}), 100);
        let client = client_from(pairs(&[
            (CONFIG_DIR_VAR, dir.path().to_str().unwrap()),
            (BASE_URL_VAR, &server.url()),
        ]));
        client.create_message(&params()).await.unwrap();
        assert_eq!(
            log(&server),
            [
                entry("/v1/oauth/token", ""),
                entry("/v1/messages", "Bearer old-token"),
            ]
        );

        // Too close to expiry to be used: the request fails, naming the
        // status and no secret.
        let server =
            super::wire::server(vec![Reply::error(500, "api_error", "refresh-1 rejected")]).await;
        let (dir, _path) = oauth_profile(json!({"client_id": "client-1"}), json!({}), 10);
        let client = client_from(pairs(&[
            (CONFIG_DIR_VAR, dir.path().to_str().unwrap()),
            (BASE_URL_VAR, &server.url()),
        ]));
        let err = client.create_message(&params()).await.unwrap_err();
        assert!(err.is_config(), "{err}");
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("status 500"), "{shown}");
        for secret in ["old-token", "refresh-1", "client-1"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert_eq!(log(&server), [entry("/v1/oauth/token", "")]);
    }

    #[tokio::test]
    async fn a_refused_profile_token_is_refreshed_even_before_it_expires() {
        let refused = Arc::new(Mutex::new(false));
        let seen = refused.clone();
        let server = ScriptedServer::start(move |request: &Value| {
            if request.get("grant_type").is_some() {
                return token(1, 3600);
            }
            let mut refused = seen.lock().unwrap();
            if *refused {
                Reply::message(message())
            } else {
                *refused = true;
                Reply::error(401, "authentication_error", "revoked")
            }
        })
        .await
        .unwrap();
        let (dir, _path) = oauth_profile(json!({"client_id": "client-1"}), json!({}), 3600);
        let client = client_from(pairs(&[
            (CONFIG_DIR_VAR, dir.path().to_str().unwrap()),
            (BASE_URL_VAR, &server.url()),
        ]));
        client.create_message(&params()).await.unwrap();
        assert_eq!(
            log(&server),
            [
                entry("/v1/messages", "Bearer old-token"),
                entry("/v1/oauth/token", ""),
                entry("/v1/messages", "Bearer minted-1"),
            ]
        );
    }

    #[tokio::test]
    async fn a_profile_base_url_and_workspace_are_applied_under_explicit_settings() {
        let server = server(vec![token(1, 3600)]).await;
        let (dir, _path) = oauth_profile(
            json!({}),
            json!({"base_url": server.url(), "workspace_id": "wrkspc_profile"}),
            3600,
        );
        let config_dir = dir.path().to_str().unwrap().to_owned();
        // No base URL set: the profile's host is used, with its workspace.
        let client = client_from(pairs(&[(CONFIG_DIR_VAR, &config_dir)]));
        client.create_message(&params()).await.unwrap();
        let recorded = server.recorded();
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].target, "/v1/messages");
        assert_eq!(
            recorded[0].header("authorization"),
            Some("Bearer old-token")
        );
        assert_eq!(
            recorded[0].header("anthropic-workspace-id"),
            Some("wrkspc_profile")
        );
        assert_eq!(
            recorded[0].header("anthropic-beta"),
            Some("oauth-2025-04-20")
        );

        // A custom header wins over the profile's; an explicit base URL over
        // its host.
        let other = super::wire::server(vec![token(1, 3600)]).await;
        let client = client_from(pairs(&[
            (CONFIG_DIR_VAR, &config_dir),
            (BASE_URL_VAR, &other.url()),
            (
                "ANTHROPIC_CUSTOM_HEADERS",
                "anthropic-workspace-id: wrkspc_custom",
            ),
        ]));
        client.create_message(&params()).await.unwrap();
        assert_eq!(server.recorded().len(), 1);
        let recorded = other.recorded();
        assert_eq!(recorded.len(), 1);
        assert_eq!(
            recorded[0].header("anthropic-workspace-id"),
            Some("wrkspc_custom")
        );
    }

    #[tokio::test]
    async fn a_profile_refreshes_at_its_own_host_when_the_client_goes_elsewhere() {
        let issuer = server(vec![token(1, 3600)]).await;
        let proxy = server(vec![token(9, 3600)]).await;
        let (dir, _path) = oauth_profile(
            json!({"client_id": "client-1"}),
            json!({"base_url": issuer.url()}),
            10,
        );
        let client = client_from(pairs(&[
            (CONFIG_DIR_VAR, dir.path().to_str().unwrap()),
            (BASE_URL_VAR, &proxy.url()),
        ]));
        client.create_message(&params()).await.unwrap();
        assert_eq!(log(&issuer), [entry("/v1/oauth/token", "")]);
        assert_eq!(log(&proxy), [entry("/v1/messages", "Bearer minted-1")]);
    }

    #[tokio::test]
    async fn an_oidc_federation_profile_exchanges_its_identity_token_and_caches_it_on_disk() {
        let server = server(vec![token(1, 3600), token(2, 3600)]).await;
        let dir = TempDir::new();
        let identity = dir.path().join("identity.jwt");
        std::fs::write(&identity, "profile-jwt-secret\n").unwrap();
        write_config(
            dir.path(),
            "ci",
            &json!({
                "authentication": {
                    "type": "oidc_federation",
                    "federation_rule_id": "fdrl_p",
                    "service_account_id": "svac_p",
                    "identity_token": {"source": "file", "path": identity.to_str().unwrap()}
                },
                "organization_id": "org_p",
                "workspace_id": "wrkspc_p",
                "base_url": server.url()
            }),
        );
        let environment = pairs(&[
            (CONFIG_DIR_VAR, dir.path().to_str().unwrap()),
            (PROFILE_VAR, "ci"),
        ]);
        let client = client_from(environment.clone());
        client.create_message(&params()).await.unwrap();

        let recorded = server.recorded();
        assert_eq!(recorded[0].target, "/v1/oauth/token");
        assert_eq!(
            recorded[0].header("anthropic-beta"),
            Some("oauth-2025-04-20,oidc-federation-2026-04-01")
        );
        assert_eq!(
            serde_json::from_str::<Value>(&recorded[0].body).unwrap(),
            json!({
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": "profile-jwt-secret",
                "federation_rule_id": "fdrl_p",
                "organization_id": "org_p",
                "service_account_id": "svac_p",
                "workspace_id": "wrkspc_p"
            })
        );
        // The workspace is in the token, not in a header.
        assert_eq!(recorded[1].header("anthropic-workspace-id"), None);
        assert_eq!(recorded[1].header("authorization"), Some("Bearer minted-1"));

        // The token is cached on disk, owner-only, for the next process.
        let cached = dir.path().join("credentials").join("ci.json");
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&cached).unwrap()).unwrap();
        assert_eq!(saved["access_token"], "minted-1");
        assert_eq!(saved["type"], "oauth_token");
        // In a folder made owner-only, renamed into place: no temporary left.
        let folder = cached.parent().unwrap();
        let names: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["ci.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |path: &std::path::Path| {
                std::fs::metadata(path).unwrap().permissions().mode() & 0o777
            };
            assert_eq!(mode(folder), 0o700);
            assert_eq!(mode(&cached), 0o600);
        }
        client_from(environment)
            .create_message(&params())
            .await
            .unwrap();
        assert_eq!(
            log(&server),
            [
                entry("/v1/oauth/token", ""),
                entry("/v1/messages", "Bearer minted-1"),
                entry("/v1/messages", "Bearer minted-1"),
            ]
        );
        assert!(!format!("{client:?}").contains("profile-jwt-secret"));
    }

    #[tokio::test]
    async fn a_token_endpoint_in_the_clear_is_refused() {
        let (dir, _path) = oauth_profile(
            json!({"client_id": "client-1"}),
            json!({"base_url": "http://api.example"}),
            10,
        );
        let client = client_from(pairs(&[(CONFIG_DIR_VAR, dir.path().to_str().unwrap())]));
        let err = client.create_message(&params()).await.unwrap_err();
        assert!(err.is_config(), "{err}");
        let shown = err.to_string();
        assert!(shown.contains("must use https"), "{shown}");
        assert!(
            shown.contains("http://api.example/v1/oauth/token"),
            "{shown}"
        );
    }
}
