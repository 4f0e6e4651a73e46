//! [`TokenEndpoint`]: Google's OAuth token endpoint on loopback, checking
//! service-account JWT grants as Google does.

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

use super::super::read_request;
use super::TEST_PRIVATE_KEY_PEM;

/// The grant type of a service account's signed JWT (RFC 7523).
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Google's token endpoint, the audience its grants may name.
const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// The service account the test key belongs to.
pub const TEST_CLIENT_EMAIL: &str = "toolrunner-test@scripted-project.iam.gserviceaccount.com";

/// The project of the test service-account key.
pub const TEST_PROJECT_ID: &str = "scripted-project";

/// A grant the endpoint accepted: the claims of the JWT, whose signature
/// checked out against the test key.
#[derive(Clone, Debug)]
pub struct Grant {
    /// The JWT's claims (`iss`, `aud`, `scope`, `iat`, `exp`, ...).
    pub claims: Value,
    /// The access token issued for it.
    pub access_token: String,
}

struct State {
    grants: Vec<Grant>,
    refused: Vec<String>,
    /// Tokens that the platform server must refuse, as expired.
    revoked: Vec<String>,
    expires_in: u64,
    refuse_all: bool,
}

impl State {
    fn is_valid(&self, token: &str) -> bool {
        self.grants.iter().any(|g| g.access_token == token)
            && !self.revoked.iter().any(|t| t == token)
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

/// Google's OAuth 2.0 token endpoint on `127.0.0.1`, for a service-account
/// key whose `token_uri` points at it (see
/// [`service_account_key`](Self::service_account_key)).
///
/// A `POST` is a grant: `grant_type` must be
/// `urn:ietf:params:oauth:grant-type:jwt-bearer` and `assertion` a JWT
/// signed RS256 with the test key (checked with `ring` against the key's
/// public half), issued by [`TEST_CLIENT_EMAIL`] for this endpoint's URL
/// (or Google's, `https://oauth2.googleapis.com/token`, as google-auth has it),
/// asking for a scope, and living no more than an hour. A good grant is
/// answered with a fresh access token; any other with Google's
/// `invalid_grant` error. It stops when dropped.
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

    /// Whether `token` was issued here and is still good.
    pub fn is_valid(&self, token: &str) -> bool {
        self.lock().is_valid(token)
    }

    /// Makes every token issued so far expired (a platform server that asks
    /// [`is_valid`](Self::is_valid) refuses them), as when a cached token
    /// outlives its grant.
    pub fn expire_issued_tokens(&self) {
        let mut state = self.lock();
        let issued: Vec<String> = state
            .grants
            .iter()
            .map(|g| g.access_token.clone())
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
        let answer = {
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            match check_grant(&recorded.method, &recorded.body, &token_uri, &state) {
                Ok(claims) => {
                    let access_token = format!("ya29.scripted-{}", state.grants.len() + 1);
                    let answer = json!({
                        "access_token": access_token,
                        "expires_in": state.expires_in,
                        "token_type": "Bearer",
                    });
                    state.grants.push(Grant {
                        claims,
                        access_token,
                    });
                    (200, answer)
                }
                Err(reason) => {
                    let answer = json!({"error": "invalid_grant", "error_description": reason});
                    state.refused.push(reason);
                    (400, answer)
                }
            }
        };
        let body = answer.1.to_string();
        let reason = if answer.0 == 200 { "OK" } else { "Bad Request" };
        let response = format!(
            "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            answer.0,
            body.len()
        );
        if write.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The claims of a good grant, or why it is refused.
fn check_grant(method: &str, body: &str, token_uri: &str, state: &State) -> Result<Value, String> {
    if state.refuse_all {
        return Err("the key was deleted (scripted)".into());
    }
    if method != "POST" {
        return Err(format!("a grant is a POST, not a {method}"));
    }
    // The form is parsed as a URL's query, which is what it is.
    let form = reqwest::Url::parse(&format!("http://form/?{body}"))
        .map_err(|e| format!("the form does not parse: {e}"))?;
    let field = |name: &str| {
        form.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let grant_type = field("grant_type").unwrap_or_default();
    if grant_type != JWT_BEARER_GRANT {
        return Err(format!("unsupported grant_type {grant_type:?}"));
    }
    let assertion = field("assertion").ok_or("no assertion")?;
    let claims = verify_rs256(&assertion)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    if text("iss") != TEST_CLIENT_EMAIL {
        return Err(format!("the JWT's iss is {:?}", text("iss")));
    }
    // Google takes its token URL as the audience, which google-auth always
    // names; gcp_auth names the key's `token_uri`, here this endpoint.
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
        assert!(refusals[1].contains("grant_type"), "{refusals:?}");
        assert!(refusals[2].contains("not a JWT"), "{refusals:?}");
        assert!(endpoint.grants().is_empty());
    }
}
