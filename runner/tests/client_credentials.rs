//! Credential providers and profiles named on the builder, on the wire
//! against the scripted server on loopback: which bearer token each
//! request carried, and when the provider was asked.
#![cfg(feature = "testing")]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use toolrunner::credentials::{AccessToken, TokenError, TokenProvider, TokenRequest};
use toolrunner::testing::{Reply, ScriptedServer, Sequence};
use toolrunner::{Client, MessageParams, RequestOptions};

fn params() -> MessageParams {
    MessageParams::new("scripted", 64).user("Hi")
}

/// Hands out `tok-1`, `tok-2`, ... valid for an hour, and notes whether
/// each ask forced a refresh.
#[derive(Clone, Default)]
struct Numbered {
    asks: Arc<Mutex<Vec<bool>>>,
}

impl TokenProvider for Numbered {
    fn token(&self, request: TokenRequest) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        let mut asks = self.asks.lock().unwrap();
        asks.push(request.force_refresh());
        let token = format!("tok-{}", asks.len());
        Box::pin(async move { Ok(AccessToken::new(token).expires_in(Duration::from_secs(3600))) })
    }
}

#[tokio::test]
async fn a_provider_refreshes_once_on_a_401() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::error(401, "authentication_error", "token revoked"),
        Reply::text("first"),
        Reply::text("second"),
    ]))
    .await
    .unwrap();
    let provider = Numbered::default();
    let client = Client::builder()
        .credentials(provider.clone())
        .base_url(server.url())
        .max_retries(0)
        .build()
        .unwrap();

    let first = client.create_message(&params()).await.unwrap();
    let second = client.create_message(&params()).await.unwrap();

    assert_eq!(
        (first.text(), second.text()),
        ("first".into(), "second".into())
    );
    let sent: Vec<_> = server
        .recorded()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(sent, ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]);
    // Asked once, then once more forcing a refresh; the second token was
    // cached for the last request.
    assert_eq!(*provider.asks.lock().unwrap(), [false, true]);
    let recorded = server.recorded();
    assert_eq!(
        recorded[0].header("anthropic-beta"),
        Some("oauth-2025-04-20")
    );
    assert_eq!(recorded[0].header("x-api-key"), None);
}

#[tokio::test]
async fn a_second_401_is_the_callers() {
    let server = ScriptedServer::start(Sequence::new([
        Reply::error(401, "authentication_error", "no"),
        Reply::error(401, "authentication_error", "still no"),
    ]))
    .await
    .unwrap();
    let provider = Numbered::default();
    let client = Client::builder()
        .credentials(provider.clone())
        .base_url(server.url())
        .build()
        .unwrap();

    let err = client.create_message(&params()).await.unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(server.recorded().len(), 2);
    assert_eq!(*provider.asks.lock().unwrap(), [false, true]);
}

#[tokio::test]
async fn a_closure_is_asked_before_every_request() {
    let server = ScriptedServer::start(Sequence::new([Reply::text("a"), Reply::text("b")]))
        .await
        .unwrap();
    let asks = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&asks);
    let client = Client::builder()
        .credentials(move || {
            let counter = Arc::clone(&counter);
            async move {
                let mut n = counter.lock().unwrap();
                *n += 1;
                Ok::<_, std::io::Error>(format!("closure-{n}"))
            }
        })
        .base_url(server.url())
        .build()
        .unwrap();

    client.create_message(&params()).await.unwrap();
    client.create_message(&params()).await.unwrap();

    let sent: Vec<_> = server
        .recorded()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(sent, ["Bearer closure-1", "Bearer closure-2"]);
    assert_eq!(*asks.lock().unwrap(), 2);
}

#[tokio::test]
async fn a_failing_provider_is_a_config_error() {
    let client = Client::builder()
        .credentials(|| async { Err::<String, _>(std::io::Error::other("vault sealed")) })
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();

    let err = client.create_message(&params()).await.unwrap_err();

    assert!(err.is_config());
    assert_eq!(
        err.to_string(),
        "the credential provider could not give a token"
    );
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "vault sealed");
}

#[tokio::test]
async fn a_request_option_credential_wins_over_the_provider() {
    let server = ScriptedServer::start(Sequence::new([Reply::text("ok")]))
        .await
        .unwrap();
    let provider = Numbered::default();
    let client = Client::builder()
        .credentials(provider.clone())
        .base_url(server.url())
        .build()
        .unwrap()
        .with_options(RequestOptions::new().header("authorization", "Bearer per-request"));

    client.create_message(&params()).await.unwrap();

    let recorded = server.recorded();
    assert_eq!(
        recorded[0].header("authorization"),
        Some("Bearer per-request")
    );
    assert!(provider.asks.lock().unwrap().is_empty());
}

/// A config directory with profile `name` of type `user_oauth`, its token
/// in a credentials file only its owner may read.
fn config_dir(test: &str, name: &str, base_url: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("toolrunner-profile-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("configs")).unwrap();
    std::fs::create_dir_all(dir.join("credentials")).unwrap();
    let config = serde_json::json!({
        "authentication": {"type": "user_oauth"},
        "base_url": base_url,
        "workspace_id": "wrkspc_profile",
    });
    std::fs::write(
        dir.join("configs").join(format!("{name}.json")),
        config.to_string(),
    )
    .unwrap();
    let credentials = serde_json::json!({
        "version": "1.0",
        "type": "oauth_token",
        "access_token": format!("tok-of-{name}"),
        "expires_at": 4_102_444_800u64,
    });
    let path = dir.join("credentials").join(format!("{name}.json"));
    std::fs::write(&path, credentials.to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    dir
}

#[tokio::test]
async fn a_profile_named_on_the_builder_authenticates_and_points_the_client() {
    let server = ScriptedServer::start(Sequence::new([Reply::text("ok")]))
        .await
        .unwrap();
    let dir = config_dir("named", "ci", &server.url());
    std::fs::write(dir.join("active_config"), "other").unwrap();

    let client = Client::builder()
        .config_dir(&dir)
        .profile("ci")
        .build()
        .unwrap();
    client.create_message(&params()).await.unwrap();

    let recorded = &server.recorded()[0];
    assert_eq!(recorded.header("authorization"), Some("Bearer tok-of-ci"));
    assert_eq!(
        recorded.header("anthropic-workspace-id"),
        Some("wrkspc_profile")
    );
    assert_eq!(recorded.header("anthropic-beta"), Some("oauth-2025-04-20"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_config_dir_alone_uses_its_active_profile() {
    let server = ScriptedServer::start(Sequence::new([Reply::text("ok")]))
        .await
        .unwrap();
    let dir = config_dir("active", "team", &server.url());
    std::fs::write(dir.join("active_config"), "team\n").unwrap();

    let client = Client::builder().config_dir(&dir).build().unwrap();
    client.create_message(&params()).await.unwrap();

    let recorded = &server.recorded()[0];
    assert_eq!(recorded.header("authorization"), Some("Bearer tok-of-team"));

    // A profile that is not there is named in the error.
    let err = Client::builder()
        .config_dir(&dir)
        .profile("missing")
        .build()
        .unwrap_err();
    assert!(err.is_config());
    assert!(err.to_string().contains("missing"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_derived_client_shares_the_token_cache() {
    let server = ScriptedServer::start(Sequence::new([Reply::text("a"), Reply::text("b")]))
        .await
        .unwrap();
    let provider = Numbered::default();
    let client = Client::builder()
        .credentials(provider.clone())
        .base_url(server.url())
        .build()
        .unwrap();

    client.create_message(&params()).await.unwrap();
    let derived = client.with_options(RequestOptions::new().header("x-team", "tools"));
    derived.create_message(&params()).await.unwrap();

    assert_eq!(
        *provider.asks.lock().unwrap(),
        [false],
        "one token for both"
    );
    let recorded = server.recorded();
    assert_eq!(recorded[1].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(recorded[1].header("x-team"), Some("tools"));
}
