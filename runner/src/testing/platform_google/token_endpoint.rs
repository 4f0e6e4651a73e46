//! [`TokenEndpoint`]: Google's token sources on loopback, checking what
//! Google checks: the OAuth token endpoint (service-account JWT grants,
//! user credentials' refresh-token grants), the metadata server, and the
//! self-signed JWTs service-account keys may be sent as.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use serde_json::{Value, json};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::super::{Recorded, read_request};
use super::TEST_PRIVATE_KEY_PEM;

/// The grant type of a service account's signed JWT (RFC 7523).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Google's token endpoint, the audience its grants may name.
const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// The service account the test key belongs to.
pub const TEST_CLIENT_EMAIL: &str = "toolrunner-test@scripted-project.iam.gserviceaccount.com";

/// The project of the test service-account key.
pub const TEST_PROJECT_ID: &str = "scripted-project";

/// The grant type of user credentials (RFC 6749, section 6).
pub const REFRESH_TOKEN_GRANT: &str = "refresh_token";

/// What the [`TokenEndpoint`] records for a token its metadata server gave.
pub const METADATA_GRANT: &str = "metadata-server";

/// The OAuth client of the test user credentials.
pub const TEST_OAUTH_CLIENT_ID: &str = "764086051850-scripted.apps.googleusercontent.com";

/// TEST ONLY: the OAuth client secret of the test user credentials.
pub const TEST_OAUTH_CLIENT_SECRET: &str = "scripted-client-secret";

/// TEST ONLY: the refresh token of the test user credentials.
pub const TEST_REFRESH_TOKEN: &str = "1//scripted-refresh-token";

/// The path of the metadata server's access tokens.
const METADATA_TOKEN_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/token";

/// A token the endpoint issued, and the grant it was issued for.
#[derive(Clone, Debug)]
pub struct Grant {
    /// [`JWT_BEARER_GRANT`], [`REFRESH_TOKEN_GRANT`] or [`METADATA_GRANT`].
    pub grant_type: String,
    /// What was asked: a JWT grant's claims (`iss`, `aud`, `scope`, `iat`,
    /// `exp`, ...) once its signature checked out against the test key; a
    /// refresh grant's `client_id` and `scope`; the metadata server's
    /// query (`scopes`).
    pub claims: Value,
    /// The access token issued for it.
    pub access_token: String,
}

struct State {
    grants: Vec<Grant>,
    refused: Vec<String>,
    /// Self-signed JWTs a platform server accepted, in order, no repeats.
    self_signed: Vec<String>,
    /// Tokens that the platform server must refuse, as expired.
    revoked: Vec<String>,
    expires_in: u64,
    refuse_all: bool,
}

impl State {
    fn is_valid(&mut self, token: &str) -> bool {
        if self.revoked.iter().any(|t| t == token) {
            return false;
        }
        if self.grants.iter().any(|g| g.access_token == token) {
            return true;
        }
        // A service-account key's self-signed JWT, as Google's APIs take
        // one in place of an access token (google-cloud-auth sends these).
        if check_self_signed(token).is_err() {
            return false;
        }
        if !self.self_signed.iter().any(|t| t == token) {
            self.self_signed.push(token.to_owned());
        }
        true
    }
}

/// The endpoint's tokens, for a platform server to check bearers against.
#[derive(Clone)]
pub(super) struct TokenState(Arc<Mutex<State>>);

impl TokenState {
    pub(super) fn is_valid(&self, token: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_valid(token)
    }
}

/// The claims of a self-signed JWT of the test key that Google would take
/// as an access token: RS256, issued by and for [`TEST_CLIENT_EMAIL`], for
/// the cloud-platform scope, living an hour at most and not expired.
fn check_self_signed(jwt: &str) -> Result<Value, String> {
    let claims = verify_rs256(jwt)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    if text("iss") != TEST_CLIENT_EMAIL || text("sub") != TEST_CLIENT_EMAIL {
        return Err(format!("the JWT is issued by {:?}", text("iss")));
    }
    if !text("scope")
        .split(' ')
        .any(|s| s == crate::platform::google::CLOUD_PLATFORM_SCOPE)
    {
        return Err(format!("the JWT's scope is {:?}", text("scope")));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    match (time("iat"), time("exp")) {
        (Some(iat), Some(exp)) if exp > now && exp > iat && exp - iat <= 3700 => Ok(claims),
        (iat, exp) => Err(format!(
            "the JWT's lifetime is wrong or over: iat {iat:?}, exp {exp:?}"
        )),
    }
}

/// Google's token sources on `127.0.0.1`: the OAuth 2.0 token endpoint
/// that the `token_uri` of a key or user credentials file points at (see
/// [`service_account_key`](Self::service_account_key) and
/// [`authorized_user`](Self::authorized_user)), and a metadata server
/// (see [`metadata_host`](Self::metadata_host)).
///
/// A `POST /token` is a grant, as a form or as JSON (Google takes both):
/// - `grant_type` `urn:ietf:params:oauth:grant-type:jwt-bearer` with an
///   `assertion`, a JWT signed RS256 with the test key (checked with `ring`
///   against the key's public half), issued by [`TEST_CLIENT_EMAIL`] for
///   this endpoint's URL (or Google's, `https://oauth2.googleapis.com/token`,
///   as google-auth has it), asking for a scope, and living no more than an
///   hour;
/// - `grant_type` `refresh_token` with the test user's `client_id`,
///   `client_secret` and `refresh_token`.
///
/// A good grant is answered with a fresh access token; any other with
/// Google's `invalid_grant` error. A `GET` of the metadata server's
/// `/computeMetadata/v1/instance/service-accounts/default/token` must carry
/// `Metadata-Flavor: Google` (else `403`, as on Compute Engine) and is
/// answered with a fresh token. Platform servers started with this endpoint
/// also take the test key's self-signed JWTs. It stops when dropped.
///
/// # Examples
///
/// ```
/// use toolrunner::testing::platform_google::TokenEndpoint;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let endpoint = TokenEndpoint::start().await.unwrap();
/// let key: serde_json::Value = serde_json::from_str(&endpoint.service_account_key()).unwrap();
/// assert_eq!(key["token_uri"], endpoint.url());
/// assert!(endpoint.grants().is_empty());
/// # });
/// ```
pub struct TokenEndpoint {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl TokenEndpoint {
    /// Starts the endpoint; tokens it issues last an hour.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            grants: Vec::new(),
            refused: Vec::new(),
            self_signed: Vec::new(),
            revoked: Vec::new(),
            expires_in: 3600,
            refuse_all: false,
        }));
        let token_uri = format!("http://{addr}/token");
        let serving = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, token_uri) = (Arc::clone(&serving), token_uri.clone());
                tokio::spawn(serve(stream, state, token_uri));
            }
        });
        Ok(TokenEndpoint { addr, state, task })
    }

    /// The endpoint's URL, the key's `token_uri` and the JWT's audience.
    pub fn url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// A service-account key file (JSON) for the test key, whose
    /// `token_uri` is this endpoint. Pass it to
    /// [`Vertex::service_account_key`](crate::platform::Vertex::service_account_key),
    /// or write it to a file for `GOOGLE_APPLICATION_CREDENTIALS`.
    pub fn service_account_key(&self) -> String {
        json!({
            "type": "service_account",
            "project_id": TEST_PROJECT_ID,
            "private_key_id": "scripted-test-key",
            "private_key": TEST_PRIVATE_KEY_PEM,
            "client_email": TEST_CLIENT_EMAIL,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.url(),
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        })
        .to_string()
    }

    /// User credentials, as `gcloud auth application-default login` writes
    /// them, whose `token_uri` is this endpoint: write them to a file for
    /// `GOOGLE_APPLICATION_CREDENTIALS`, or as
    /// `application_default_credentials.json` in gcloud's configuration
    /// folder (`CLOUDSDK_CONFIG`, else `~/.config/gcloud`).
    pub fn authorized_user(&self) -> String {
        json!({
            "type": "authorized_user",
            "client_id": TEST_OAUTH_CLIENT_ID,
            "client_secret": TEST_OAUTH_CLIENT_SECRET,
            "refresh_token": TEST_REFRESH_TOKEN,
            "quota_project_id": TEST_PROJECT_ID,
            "token_uri": self.url(),
            "universe_domain": "googleapis.com",
        })
        .to_string()
    }

    /// The metadata server's `host:port`, for `GCE_METADATA_HOST`.
    pub fn metadata_host(&self) -> String {
        self.addr.to_string()
    }

    /// The self-signed JWTs of the test key that a platform server took
    /// as access tokens, in order, each once.
    pub fn self_signed_tokens(&self) -> Vec<String> {
        self.lock().self_signed.clone()
    }

    /// Makes tokens issued from now on last `seconds`.
    pub fn set_expires_in(&self, seconds: u64) {
        self.lock().expires_in = seconds;
    }

    /// Refuses every grant from now on, as for a deleted key.
    pub fn refuse_grants(&self) {
        self.lock().refuse_all = true;
    }

    /// Every grant accepted so far, in order.
    pub fn grants(&self) -> Vec<Grant> {
        self.lock().grants.clone()
    }

    /// Why each refused grant was refused, in order.
    pub fn refusals(&self) -> Vec<String> {
        self.lock().refused.clone()
    }

    /// Whether `token` was issued here, or is a self-signed JWT of the
    /// test key, and is still good.
    pub fn is_valid(&self, token: &str) -> bool {
        self.lock().is_valid(token)
    }

    /// Makes every token issued or taken so far expired (a platform server
    /// that asks [`is_valid`](Self::is_valid) refuses them), as when a
    /// cached token outlives its grant.
    pub fn expire_issued_tokens(&self) {
        let mut state = self.lock();
        let issued: Vec<String> = state
            .grants
            .iter()
            .map(|g| g.access_token.clone())
            .chain(state.self_signed.iter().cloned())
            .collect();
        state.revoked.extend(issued);
    }

    /// The issued tokens, shared with a platform server that checks them.
    pub(super) fn state(&self) -> TokenState {
        TokenState(Arc::clone(&self.state))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for TokenEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>, token_uri: String) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    while let Ok(Some((recorded, _))) = read_request(&mut reader).await {
        let (status, answer) = {
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            answer(&recorded, &token_uri, &mut state)
        };
        let body = answer.to_string();
        let reason = match status {
            200 => "OK",
            403 => "Forbidden",
            404 => "Not Found",
            _ => "Bad Request",
        };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if write.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The status and body answering `request`; a token issued is recorded.
fn answer(request: &Recorded, token_uri: &str, state: &mut State) -> (u16, Value) {
    let path = request.target.split('?').next().unwrap_or_default();
    let checked = if path == METADATA_TOKEN_PATH {
        check_metadata_request(request, state)
    } else if path == "/token" {
        check_grant(request, token_uri, state)
    } else {
        return (
            404,
            json!({"error": "not_found", "error_description": path}),
        );
    };
    match checked {
        Ok((grant_type, claims)) => {
            let access_token = format!("ya29.scripted-{}", state.grants.len() + 1);
            let answer = json!({
                "access_token": access_token,
                "expires_in": state.expires_in,
                "token_type": "Bearer",
            });
            state.grants.push(Grant {
                grant_type: grant_type.to_owned(),
                claims,
                access_token,
            });
            (200, answer)
        }
        Err((status, reason)) => {
            let answer = json!({"error": "invalid_grant", "error_description": reason});
            state.refused.push(reason);
            (status, answer)
        }
    }
}

type Checked = Result<(&'static str, Value), (u16, String)>;

/// A metadata server's token request: a `GET` with `Metadata-Flavor:
/// Google`, which Compute Engine requires so that no page can make a
/// browser fetch tokens.
fn check_metadata_request(request: &Recorded, state: &State) -> Checked {
    if state.refuse_all {
        return Err((400, "the instance has no service account (scripted)".into()));
    }
    if request.method != "GET" {
        return Err((400, format!("a token is a GET, not a {}", request.method)));
    }
    if request.header("metadata-flavor") != Some("Google") {
        return Err((403, "Missing Metadata-Flavor:Google header.".into()));
    }
    let query = request.target.split_once('?').map_or("", |(_, q)| q);
    let url = reqwest::Url::parse(&format!("http://query/?{query}"))
        .map_err(|e| (400, format!("the query does not parse: {e}")))?;
    let query: serde_json::Map<String, Value> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    Ok((METADATA_GRANT, Value::Object(query)))
}

/// A good grant's type and claims, or why it is refused.
fn check_grant(request: &Recorded, token_uri: &str, state: &State) -> Checked {
    let refuse = |reason: String| (400, reason);
    if state.refuse_all {
        return Err(refuse("the key was deleted (scripted)".into()));
    }
    if request.method != "POST" {
        return Err(refuse(format!(
            "a grant is a POST, not a {}",
            request.method
        )));
    }
    let fields = form_or_json(request).map_err(refuse)?;
    let field = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or_default();
    match field("grant_type") {
        JWT_BEARER_GRANT => {
            let claims = check_jwt_grant(field("assertion"), token_uri).map_err(refuse)?;
            Ok((JWT_BEARER_GRANT, claims))
        }
        REFRESH_TOKEN_GRANT => {
            let good = field("client_id") == TEST_OAUTH_CLIENT_ID
                && field("client_secret") == TEST_OAUTH_CLIENT_SECRET
                && field("refresh_token") == TEST_REFRESH_TOKEN;
            if !good {
                return Err(refuse(format!(
                    "unknown client {:?} or refresh token",
                    field("client_id")
                )));
            }
            let claims = json!({"client_id": field("client_id"), "scope": fields.get("scope")});
            Ok((REFRESH_TOKEN_GRANT, claims))
        }
        other => Err(refuse(format!("unsupported grant_type {other:?}"))),
    }
}

/// A grant's fields, sent as a form (google-auth) or as JSON
/// (google-cloud-auth's refresh grants).
fn form_or_json(request: &Recorded) -> Result<serde_json::Map<String, Value>, String> {
    if request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json"))
    {
        return serde_json::from_str(&request.body)
            .map_err(|e| format!("the JSON does not parse: {e}"));
    }
    // The form is parsed as a URL's query, which is what it is.
    let form = reqwest::Url::parse(&format!("http://form/?{}", request.body))
        .map_err(|e| format!("the form does not parse: {e}"))?;
    Ok(form
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect())
}

/// The claims of a good JWT-bearer `assertion`, or why it is refused.
fn check_jwt_grant(assertion: &str, token_uri: &str) -> Result<Value, String> {
    if assertion.is_empty() {
        return Err("no assertion".into());
    }
    let claims = verify_rs256(assertion)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    if text("iss") != TEST_CLIENT_EMAIL {
        return Err(format!("the JWT's iss is {:?}", text("iss")));
    }
    // Google takes its token URL as the audience, which google-auth always
    // names; others name the key's `token_uri`, here this endpoint.
    if text("aud") != token_uri && text("aud") != GOOGLE_TOKEN_URL {
        return Err(format!(
            "the JWT's aud is {:?}, not {token_uri:?} or {GOOGLE_TOKEN_URL:?}",
            text("aud")
        ));
    }
    if text("scope").is_empty() {
        return Err("the JWT asks for no scope".into());
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    match (time("iat"), time("exp")) {
        (Some(iat), Some(exp)) if exp > iat && exp - iat <= 3600 => Ok(claims),
        (iat, exp) => Err(format!(
            "the JWT's lifetime is wrong: iat {iat:?}, exp {exp:?}"
        )),
    }
}

/// The claims of `jwt` once its RS256 signature checks out against the
/// test key's public key.
fn verify_rs256(jwt: &str) -> Result<Value, String> {
    let mut parts = jwt.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the assertion is not a JWT".into());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part.trim_end_matches('='));
    let header: Value = decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or("the JWT's header does not decode")?;
    if header["alg"] != "RS256" {
        return Err(format!("the JWT's alg is {}, not RS256", header["alg"]));
    }
    let signature = decode(signature).map_err(|e| format!("the signature does not decode: {e}"))?;
    let signed = &jwt[..jwt.rfind('.').unwrap_or(0)];
    let public = test_key_pair().public().as_ref().to_vec();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "the JWT's signature does not verify against the test key".to_owned())?;
    decode(claims)
        .ok()
        .and_then(|c| serde_json::from_slice(&c).ok())
        .ok_or_else(|| "the JWT's claims do not decode".to_owned())
}

/// The test key, parsed from its PEM.
fn test_key_pair() -> RsaKeyPair {
    let base64: String = TEST_PRIVATE_KEY_PEM
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD
        .decode(base64)
        .expect("the test key's PEM is base64");
    RsaKeyPair::from_pkcs8(&der).expect("the test key is an RSA PKCS#8 key")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn post(endpoint: &TokenEndpoint, form: &[(&str, &str)]) -> u16 {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let response = reqwest::Client::new()
            .post(endpoint.url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }

    #[tokio::test]
    async fn forged_or_malformed_grants_are_refused() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        let encode = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let claims = json!({"iss": TEST_CLIENT_EMAIL, "aud": endpoint.url(), "scope": "s", "iat": 1, "exp": 2});
        let forged = format!(
            "{}.{}.{}",
            encode(json!({"alg": "RS256", "typ": "JWT"})),
            encode(claims),
            URL_SAFE_NO_PAD.encode([7u8; 256])
        );
        assert_eq!(
            post(
                &endpoint,
                &[("grant_type", JWT_BEARER_GRANT), ("assertion", &forged)]
            )
            .await,
            400
        );
        assert_eq!(
            post(
                &endpoint,
                &[("grant_type", "refresh_token"), ("assertion", &forged)]
            )
            .await,
            400
        );
        assert_eq!(
            post(
                &endpoint,
                &[("grant_type", JWT_BEARER_GRANT), ("assertion", "x.y")]
            )
            .await,
            400
        );
        let refusals = endpoint.refusals();
        assert!(refusals[0].contains("signature"), "{refusals:?}");
        assert!(refusals[1].contains("unknown client"), "{refusals:?}");
        assert!(refusals[2].contains("not a JWT"), "{refusals:?}");
        assert!(endpoint.grants().is_empty());
    }

    #[tokio::test]
    async fn the_metadata_server_wants_its_header() {
        let endpoint = TokenEndpoint::start().await.unwrap();
        let url = format!(
            "http://{}/computeMetadata/v1/instance/service-accounts/default/token?scopes=s",
            endpoint.metadata_host()
        );
        let client = reqwest::Client::new();
        let bare = client.get(&url).send().await.unwrap();
        assert_eq!(bare.status().as_u16(), 403);
        let flavored = client
            .get(&url)
            .header("Metadata-Flavor", "Google")
            .send()
            .await
            .unwrap();
        assert_eq!(flavored.status().as_u16(), 200);
        let token: Value = serde_json::from_str(&flavored.text().await.unwrap()).unwrap();
        let grants = endpoint.grants();
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0].grant_type, METADATA_GRANT);
        assert_eq!(grants[0].claims["scopes"], "s");
        assert_eq!(token["access_token"], grants[0].access_token.as_str());
        assert!(endpoint.refusals()[0].contains("Metadata-Flavor"));
    }
}
