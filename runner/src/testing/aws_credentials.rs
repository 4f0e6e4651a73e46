//! [`AwsCredentialSources`]: the places the AWS credential chain (feature
//! `aws-config`) gets temporary credentials from, on loopback: an EC2
//! instance metadata service (IMDSv2), STS answering `AssumeRole` and
//! `AssumeRoleWithWebIdentity`, the IAM Identity Center (SSO) portal
//! answering `GetRoleCredentials` with the SSO-OIDC service refreshing its
//! token, and a container credentials endpoint (ECS, EKS Pod Identity),
//! each checking what AWS checks.
//!
//! Point the chain at them through the environment variables it reads
//! (`AWS_EC2_METADATA_SERVICE_ENDPOINT`; `AWS_ENDPOINT_URL_STS` with
//! `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`, or with a profile
//! naming a `role_arn`; `AWS_ENDPOINT_URL_SSO` and
//! `AWS_ENDPOINT_URL_SSO_OIDC` with an SSO profile and its cached token;
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI` with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`), and let a
//! [`ScriptedAws`](super::ScriptedAws) [`accept`](super::ScriptedAws::accept)
//! the [`IssuedCredentials`]. Set the environment of a child process rather
//! than your test's own: tests run in parallel.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::{DateTime, Format};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::platform_aws::{TEST_ACCESS_KEY, TEST_SECRET_KEY, signed_by};
use super::{Recorded, read_request, reason};

/// The instance role the metadata service lists.
pub const TEST_INSTANCE_ROLE: &str = "toolrunner-test-instance-role";
/// The role STS lets [`TEST_WEB_IDENTITY_TOKEN`] assume.
pub const TEST_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/toolrunner-test-web-identity";
/// TEST ONLY: the web identity token (an OIDC JWT in real life) STS takes.
pub const TEST_WEB_IDENTITY_TOKEN: &str = "toolrunner-test-web-identity-token";
/// The role STS lets the holder of [`TEST_ACCESS_KEY`] assume, given
/// [`TEST_EXTERNAL_ID`].
pub const TEST_ASSUMED_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/toolrunner-test-assumed";
/// The external id the trust policy of [`TEST_ASSUMED_ROLE_ARN`] asks for.
pub const TEST_EXTERNAL_ID: &str = "toolrunner-test-external-id";
/// TEST ONLY: the SSO access token the portal takes (in real life, the one
/// `aws sso login` caches, or SSO-OIDC gives for a refresh token).
pub const TEST_SSO_ACCESS_TOKEN: &str = "toolrunner-test-sso-access-token";
/// The client id of the SSO-OIDC registration `aws sso login` made.
pub const TEST_SSO_CLIENT_ID: &str = "toolrunner-test-sso-client-id";
/// TEST ONLY: the secret of [`TEST_SSO_CLIENT_ID`].
pub const TEST_SSO_CLIENT_SECRET: &str = "toolrunner-test-sso-client-secret";
/// TEST ONLY: the refresh token SSO-OIDC takes for [`TEST_SSO_ACCESS_TOKEN`].
pub const TEST_SSO_REFRESH_TOKEN: &str = "toolrunner-test-sso-refresh-token";
/// The account of the SSO role.
pub const TEST_SSO_ACCOUNT_ID: &str = "123456789012";
/// The role [`TEST_SSO_ACCESS_TOKEN`] may get credentials for.
pub const TEST_SSO_ROLE: &str = "toolrunner-test-sso-role";
/// The path of the container credentials endpoint.
pub const CONTAINER_CREDENTIALS_PATH: &str = "/container-credentials";
/// TEST ONLY: the authorization token the container endpoint takes.
pub const TEST_CONTAINER_TOKEN: &str = "toolrunner-test-container-token";
/// The access key id of the first temporary credentials the sources issue.
pub const ISSUED_ACCESS_KEY: &str = "ASIATOOLRUNNERISSUED";
/// TEST ONLY: the secret of [`ISSUED_ACCESS_KEY`].
pub const ISSUED_SECRET_KEY: &str = "toolrunner+issued/secret/key";
/// TEST ONLY: the session token of the first issued credentials.
pub const ISSUED_SESSION_TOKEN: &str = "toolrunner-issued-session-token";

/// Temporary credentials a source issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCredentials {
    /// The access key id, `ASIA...`.
    pub access_key: String,
    /// TEST ONLY: the secret access key.
    pub secret_key: String,
    /// TEST ONLY: the session token.
    pub session_token: String,
}

impl IssuedCredentials {
    /// The credentials issued `n`-th (from 0), by whichever source: each
    /// issue gets new ones, as AWS gives. The first are
    /// [`ISSUED_ACCESS_KEY`], [`ISSUED_SECRET_KEY`] and
    /// [`ISSUED_SESSION_TOKEN`].
    pub fn nth(n: usize) -> Self {
        if n == 0 {
            return IssuedCredentials {
                access_key: ISSUED_ACCESS_KEY.into(),
                secret_key: ISSUED_SECRET_KEY.into(),
                session_token: ISSUED_SESSION_TOKEN.into(),
            };
        }
        IssuedCredentials {
            access_key: format!("ASIATOOLRUNNER{n:06}"),
            secret_key: format!("{ISSUED_SECRET_KEY}/{n}"),
            session_token: format!("{ISSUED_SESSION_TOKEN}-{n}"),
        }
    }
}

/// The IMDSv2 session token the metadata service hands out.
const IMDS_TOKEN: &str = "toolrunner-imds-session-token";
const IMDS_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const IMDS_TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const ROLES_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// How long the issued credentials live unless set otherwise.
const LIFETIME: Duration = Duration::from_secs(3600);

/// The instance metadata service, STS, the SSO portal, SSO-OIDC and a
/// container credentials endpoint on `127.0.0.1`.
/// It stops when dropped.
///
/// - IMDSv2: `PUT /latest/api/token` with `x-aws-ec2-metadata-token-ttl-seconds`
///   gives a session token; `GET /latest/meta-data/iam/security-credentials/`
///   lists [`TEST_INSTANCE_ROLE`], and `GET .../{role}` gives the issued
///   credentials as JSON. A `GET` without the session token in
///   `x-aws-ec2-metadata-token` is refused with 401, as IMDSv2 refuses it.
/// - STS: `POST /` with the form `Action=AssumeRoleWithWebIdentity`,
///   [`TEST_ROLE_ARN`], a `RoleSessionName` and [`TEST_WEB_IDENTITY_TOKEN`]
///   gives the issued credentials in STS's XML; other tokens or roles get
///   STS's `AccessDenied`. `Action=AssumeRole` must be SigV4-signed for
///   service `sts` in [`TEST_REGION`](super::TEST_REGION) with
///   [`TEST_ACCESS_KEY`] / [`TEST_SECRET_KEY`] (a source profile's keys)
///   and name [`TEST_ASSUMED_ROLE_ARN`], a `RoleSessionName` and
///   [`TEST_EXTERNAL_ID`]; a bad signature gets `SignatureDoesNotMatch`.
///   Both need `Version=2011-06-15`.
/// - SSO: `GET /federation/credentials?role_name=..&account_id=..` with
///   [`TEST_SSO_ACCESS_TOKEN`] in `x-amz-sso_bearer_token`, for
///   [`TEST_SSO_ROLE`] in [`TEST_SSO_ACCOUNT_ID`], gives the issued
///   credentials as the portal's JSON; else `401 UnauthorizedException`.
/// - SSO-OIDC: `POST /token` with the JSON of a `refresh_token` grant of
///   [`TEST_SSO_REFRESH_TOKEN`] by [`TEST_SSO_CLIENT_ID`] /
///   [`TEST_SSO_CLIENT_SECRET`] gives [`TEST_SSO_ACCESS_TOKEN`] anew; else
///   `400 InvalidGrantException`.
/// - Containers: `GET /container-credentials` with [`TEST_CONTAINER_TOKEN`]
///   in `authorization` gives the issued credentials as JSON; else 401.
///
/// Each issue gives the next [`IssuedCredentials::nth`] (first
/// [`ISSUED_ACCESS_KEY`] / [`ISSUED_SECRET_KEY`] with
/// [`ISSUED_SESSION_TOKEN`]), expiring in an hour unless
/// [`set_lifetime`](Self::set_lifetime) says otherwise.
pub struct AwsCredentialSources {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// What the connections share.
struct Shared {
    recorded: Mutex<Vec<Recorded>>,
    /// How many credentials were issued.
    issued: AtomicUsize,
    lifetime: Mutex<Duration>,
}

impl Shared {
    /// The next credentials and when they expire.
    fn issue(&self) -> (IssuedCredentials, SystemTime) {
        let n = self.issued.fetch_add(1, Ordering::SeqCst);
        let lifetime = *self.lifetime.lock().unwrap_or_else(PoisonError::into_inner);
        (IssuedCredentials::nth(n), SystemTime::now() + lifetime)
    }
}

impl AwsCredentialSources {
    /// Starts the sources on one loopback port.
    ///
    /// # Errors
    ///
    /// When no loopback port can be bound.
    pub async fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            recorded: Mutex::new(Vec::new()),
            issued: AtomicUsize::new(0),
            lifetime: Mutex::new(LIFETIME),
        });
        let accepting = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&accepting)));
            }
        });
        Ok(AwsCredentialSources { addr, shared, task })
    }

    /// Credentials issued from now on expire `lifetime` after they are
    /// issued (an hour by default): a short one has a client fetch them
    /// again before its next request, without a test waiting for it.
    pub fn set_lifetime(&self, lifetime: Duration) {
        *self
            .shared
            .lifetime
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = lifetime;
    }

    /// How many credentials were issued: the next are
    /// [`IssuedCredentials::nth`] of it.
    pub fn issued(&self) -> usize {
        self.shared.issued.load(Ordering::SeqCst)
    }

    /// The URL of all: `http://127.0.0.1:{port}`, for
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`, `AWS_ENDPOINT_URL_STS`,
    /// `AWS_ENDPOINT_URL_SSO` or `AWS_ENDPOINT_URL_SSO_OIDC`;
    /// [`CONTAINER_CREDENTIALS_PATH`] after it for
    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received, in order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared
            .recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for AwsCredentialSources {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for AwsCredentialSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentialSources")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Serves one connection: requests one after another (keep-alive).
async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    while let Ok(Some((request, _))) = read_request(&mut reader).await {
        let answer = answer(&shared, &request);
        shared
            .recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
        let mut head = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\n",
            answer.status,
            reason(answer.status),
            answer.content_type,
            answer.body.len()
        );
        if let Some(ttl) = answer.ttl {
            head.push_str(&format!("{IMDS_TTL_HEADER}: {ttl}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(&answer.body);
        if write.write_all(head.as_bytes()).await.is_err() {
            return;
        }
    }
}

struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
    /// The TTL of an IMDS session token given.
    ttl: Option<u64>,
}

impl Answer {
    fn text(status: u16, body: impl Into<String>) -> Self {
        Answer {
            status,
            content_type: "text/plain",
            body: body.into(),
            ttl: None,
        }
    }
}

fn answer(shared: &Shared, request: &Recorded) -> Answer {
    let path = request.target.split('?').next().unwrap_or_default();
    match (request.method.as_str(), path) {
        ("PUT", "/latest/api/token") => imds_token(request),
        ("GET", path) if path.starts_with("/latest/") => imds_get(shared, request, path),
        ("POST", "/") => sts(shared, request),
        ("GET", "/federation/credentials") => sso(shared, request),
        ("POST", "/token") => sso_oidc(request),
        ("GET", CONTAINER_CREDENTIALS_PATH) => container(shared, request),
        (method, path) => Answer::text(404, format!("no {method} {path}")),
    }
}

/// A session token for a TTL between 1 s and 6 h, as IMDSv2 gives one.
fn imds_token(request: &Recorded) -> Answer {
    match request.header(IMDS_TTL_HEADER).map(str::parse::<u64>) {
        Some(Ok(ttl @ 1..=21_600)) => Answer {
            ttl: Some(ttl),
            ..Answer::text(200, IMDS_TOKEN)
        },
        other => Answer::text(400, format!("bad {IMDS_TTL_HEADER}: {other:?}")),
    }
}

fn imds_get(shared: &Shared, request: &Recorded, path: &str) -> Answer {
    if request.header(IMDS_TOKEN_HEADER) != Some(IMDS_TOKEN) {
        return Answer::text(401, "");
    }
    match path.strip_prefix(ROLES_PATH) {
        Some("") => Answer::text(200, TEST_INSTANCE_ROLE),
        Some(TEST_INSTANCE_ROLE) => json_credentials(shared),
        _ => Answer::text(404, ""),
    }
}

/// New credentials in the JSON the metadata service and container
/// endpoints give.
fn json_credentials(shared: &Shared) -> Answer {
    let (issued, expiration) = shared.issue();
    let credentials = serde_json::json!({
        "Code": "Success",
        "LastUpdated": rfc3339(SystemTime::now()),
        "Type": "AWS-HMAC",
        "AccessKeyId": issued.access_key,
        "SecretAccessKey": issued.secret_key,
        "Token": issued.session_token,
        "Expiration": rfc3339(expiration),
    });
    Answer {
        content_type: "application/json",
        ..Answer::text(200, credentials.to_string())
    }
}

/// The container endpoint's credentials, for its authorization token.
fn container(shared: &Shared, request: &Recorded) -> Answer {
    if request.header("authorization") == Some(TEST_CONTAINER_TOKEN) {
        json_credentials(shared)
    } else {
        Answer::text(401, "")
    }
}

/// `AssumeRole` or `AssumeRoleWithWebIdentity`, as the form asks.
fn sts(shared: &Shared, request: &Recorded) -> Answer {
    let form = form(&request.body);
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if field("Version") != Some("2011-06-15") {
        return sts_error(400, "InvalidParameterValue", "Version is not 2011-06-15");
    }
    if field("RoleSessionName").is_none_or(str::is_empty) {
        return sts_error(400, "ValidationError", "RoleSessionName is missing");
    }
    let action = match field("Action") {
        Some(action @ "AssumeRoleWithWebIdentity") => {
            // STS takes no signature for it: the token is the proof.
            if field("RoleArn") != Some(TEST_ROLE_ARN)
                || field("WebIdentityToken") != Some(TEST_WEB_IDENTITY_TOKEN)
            {
                return sts_error(
                    403,
                    "AccessDenied",
                    "not authorized to perform sts:AssumeRoleWithWebIdentity",
                );
            }
            action
        }
        Some(action @ "AssumeRole") => {
            let source = |key: &str| (key == TEST_ACCESS_KEY).then(|| TEST_SECRET_KEY.to_owned());
            if let Err(why) = signed_by(request, "sts", source) {
                return sts_error(403, "SignatureDoesNotMatch", &why);
            }
            if field("RoleArn") != Some(TEST_ASSUMED_ROLE_ARN)
                || field("ExternalId") != Some(TEST_EXTERNAL_ID)
            {
                return sts_error(
                    403,
                    "AccessDenied",
                    "not authorized to perform sts:AssumeRole",
                );
            }
            action
        }
        _ => {
            return sts_error(
                400,
                "InvalidAction",
                "only AssumeRole and AssumeRoleWithWebIdentity are served",
            );
        }
    };
    let role = field("RoleArn").unwrap_or_default();
    let (issued, expiration) = shared.issue();
    let body = format!(
        "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <{action}Result>\
         <Credentials><AccessKeyId>{}</AccessKeyId>\
         <SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken>\
         <Expiration>{}</Expiration></Credentials>\
         <AssumedRoleUser><Arn>{role}/session</Arn>\
         <AssumedRoleId>AROATOOLRUNNERTEST:session</AssumedRoleId></AssumedRoleUser>\
         </{action}Result>\
         <ResponseMetadata><RequestId>sts-test-request</RequestId></ResponseMetadata>\
         </{action}Response>",
        issued.access_key,
        issued.secret_key,
        issued.session_token,
        rfc3339(expiration)
    );
    Answer {
        content_type: "text/xml",
        ..Answer::text(200, body)
    }
}

/// `GetRoleCredentials` of [`TEST_SSO_ROLE`] with [`TEST_SSO_ACCESS_TOKEN`].
fn sso(shared: &Shared, request: &Recorded) -> Answer {
    let query = form(request.target.split_once('?').map_or("", |(_, q)| q));
    let field = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if request.header("x-amz-sso_bearer_token") != Some(TEST_SSO_ACCESS_TOKEN)
        || field("role_name") != Some(TEST_SSO_ROLE)
        || field("account_id") != Some(TEST_SSO_ACCOUNT_ID)
    {
        return Answer {
            content_type: "application/json",
            ..Answer::text(
                401,
                r#"{"__type":"UnauthorizedException","message":"Session token not found or invalid"}"#,
            )
        };
    }
    let (issued, expiration) = shared.issue();
    let millis = expiration
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let body = serde_json::json!({"roleCredentials": {
        "accessKeyId": issued.access_key,
        "secretAccessKey": issued.secret_key,
        "sessionToken": issued.session_token,
        "expiration": millis,
    }});
    Answer {
        content_type: "application/json",
        ..Answer::text(200, body.to_string())
    }
}

/// SSO-OIDC `CreateToken` with the `refresh_token` grant of
/// [`TEST_SSO_REFRESH_TOKEN`], as the SDK refreshes an SSO session's
/// token; SSO-OIDC takes no signature for it.
fn sso_oidc(request: &Recorded) -> Answer {
    let grant: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
    let valid = grant["grantType"] == "refresh_token"
        && grant["clientId"] == TEST_SSO_CLIENT_ID
        && grant["clientSecret"] == TEST_SSO_CLIENT_SECRET
        && grant["refreshToken"] == TEST_SSO_REFRESH_TOKEN;
    if !valid {
        let body = serde_json::json!({
            "__type": "InvalidGrantException",
            "error": "invalid_grant",
            "error_description": "the grant is not a valid refresh_token grant",
        });
        return Answer {
            content_type: "application/json",
            ..Answer::text(400, body.to_string())
        };
    }
    let body = serde_json::json!({
        "accessToken": TEST_SSO_ACCESS_TOKEN,
        "tokenType": "Bearer",
        "expiresIn": LIFETIME.as_secs(),
        "refreshToken": TEST_SSO_REFRESH_TOKEN,
    });
    Answer {
        content_type: "application/json",
        ..Answer::text(200, body.to_string())
    }
}

fn sts_error(status: u16, code: &str, message: &str) -> Answer {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>sts-test-request</RequestId></ErrorResponse>"
    );
    Answer {
        content_type: "text/xml",
        ..Answer::text(status, body)
    }
}

/// The fields of a form-urlencoded body.
fn form(body: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://form/?{body}"))
        .map(|url| url.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn rfc3339(time: SystemTime) -> String {
    DateTime::from(time)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}
