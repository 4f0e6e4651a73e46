//! [`AwsCredentialSources`]: four places the AWS credential chain (feature
//! `aws-config`) gets temporary credentials from, on loopback: an EC2
//! instance metadata service (IMDSv2), STS answering
//! `AssumeRoleWithWebIdentity`, the IAM Identity Center (SSO) portal
//! answering `GetRoleCredentials`, and a container credentials endpoint
//! (ECS, EKS Pod Identity), each checking what AWS checks.
//!
//! Point the chain at them through the environment variables it reads
//! (`AWS_EC2_METADATA_SERVICE_ENDPOINT`; `AWS_ENDPOINT_URL_STS` with
//! `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`; `AWS_ENDPOINT_URL_SSO`
//! with an SSO profile and its cached token;
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI` with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`), and let a
//! [`ScriptedAws`](super::ScriptedAws) [`accept`](super::ScriptedAws::accept)
//! [`ISSUED_ACCESS_KEY`] / [`ISSUED_SECRET_KEY`]. Set the environment of a
//! child process rather than your test's own: tests run in parallel.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::{DateTime, Format};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::{Recorded, read_request, reason};

/// The instance role the metadata service lists.
pub const TEST_INSTANCE_ROLE: &str = "toolrunner-test-instance-role";
/// The role STS lets [`TEST_WEB_IDENTITY_TOKEN`] assume.
pub const TEST_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/toolrunner-test-web-identity";
/// TEST ONLY: the web identity token (an OIDC JWT in real life) STS takes.
pub const TEST_WEB_IDENTITY_TOKEN: &str = "toolrunner-test-web-identity-token";
/// TEST ONLY: the SSO access token the portal takes (in real life, the one
/// `aws sso login` caches).
pub const TEST_SSO_ACCESS_TOKEN: &str = "toolrunner-test-sso-access-token";
/// The account of the SSO role.
pub const TEST_SSO_ACCOUNT_ID: &str = "123456789012";
/// The role [`TEST_SSO_ACCESS_TOKEN`] may get credentials for.
pub const TEST_SSO_ROLE: &str = "toolrunner-test-sso-role";
/// The path of the container credentials endpoint.
pub const CONTAINER_CREDENTIALS_PATH: &str = "/container-credentials";
/// TEST ONLY: the authorization token the container endpoint takes.
pub const TEST_CONTAINER_TOKEN: &str = "toolrunner-test-container-token";
/// The access key id of the temporary credentials every source issues.
pub const ISSUED_ACCESS_KEY: &str = "ASIATOOLRUNNERISSUED";
/// TEST ONLY: the secret of [`ISSUED_ACCESS_KEY`].
pub const ISSUED_SECRET_KEY: &str = "toolrunner+issued/secret/key";
/// TEST ONLY: the session token of the issued credentials.
pub const ISSUED_SESSION_TOKEN: &str = "toolrunner-issued-session-token";

/// The IMDSv2 session token the metadata service hands out.
const IMDS_TOKEN: &str = "toolrunner-imds-session-token";
const IMDS_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const IMDS_TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const ROLES_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// How long the issued credentials live.
const LIFETIME: Duration = Duration::from_secs(3600);

/// The instance metadata service, STS, the SSO portal and a container
/// credentials endpoint on `127.0.0.1`.
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
///   STS's `AccessDenied`.
/// - SSO: `GET /federation/credentials?role_name=..&account_id=..` with
///   [`TEST_SSO_ACCESS_TOKEN`] in `x-amz-sso_bearer_token`, for
///   [`TEST_SSO_ROLE`] in [`TEST_SSO_ACCOUNT_ID`], gives the issued
///   credentials as the portal's JSON; else `401 UnauthorizedException`.
/// - Containers: `GET /container-credentials` with [`TEST_CONTAINER_TOKEN`]
///   in `authorization` gives the issued credentials as JSON; else 401.
///
/// All issue [`ISSUED_ACCESS_KEY`] / [`ISSUED_SECRET_KEY`] with
/// [`ISSUED_SESSION_TOKEN`], expiring in an hour.
pub struct AwsCredentialSources {
    addr: SocketAddr,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
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
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&recorded);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&shared)));
            }
        });
        Ok(AwsCredentialSources {
            addr,
            recorded,
            task,
        })
    }

    /// The URL of all: `http://127.0.0.1:{port}`, for
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`, `AWS_ENDPOINT_URL_STS` or
    /// `AWS_ENDPOINT_URL_SSO`; [`CONTAINER_CREDENTIALS_PATH`] after it for
    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received, in order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.recorded
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
async fn serve(stream: TcpStream, recorded: Arc<Mutex<Vec<Recorded>>>) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    while let Ok(Some((request, _))) = read_request(&mut reader).await {
        let answer = answer(&request);
        recorded
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

fn answer(request: &Recorded) -> Answer {
    let path = request.target.split('?').next().unwrap_or_default();
    match (request.method.as_str(), path) {
        ("PUT", "/latest/api/token") => imds_token(request),
        ("GET", path) if path.starts_with("/latest/") => imds_get(request, path),
        ("POST", "/") => sts(request),
        ("GET", "/federation/credentials") => sso(request),
        ("GET", CONTAINER_CREDENTIALS_PATH) => container(request),
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

fn imds_get(request: &Recorded, path: &str) -> Answer {
    if request.header(IMDS_TOKEN_HEADER) != Some(IMDS_TOKEN) {
        return Answer::text(401, "");
    }
    match path.strip_prefix(ROLES_PATH) {
        Some("") => Answer::text(200, TEST_INSTANCE_ROLE),
        Some(TEST_INSTANCE_ROLE) => json_credentials(),
        _ => Answer::text(404, ""),
    }
}

/// The issued credentials in the JSON the metadata service and container
/// endpoints give.
fn json_credentials() -> Answer {
    let credentials = serde_json::json!({
        "Code": "Success",
        "LastUpdated": rfc3339(SystemTime::now()),
        "Type": "AWS-HMAC",
        "AccessKeyId": ISSUED_ACCESS_KEY,
        "SecretAccessKey": ISSUED_SECRET_KEY,
        "Token": ISSUED_SESSION_TOKEN,
        "Expiration": rfc3339(SystemTime::now() + LIFETIME),
    });
    Answer {
        content_type: "application/json",
        ..Answer::text(200, credentials.to_string())
    }
}

/// The container endpoint's credentials, for its authorization token.
fn container(request: &Recorded) -> Answer {
    if request.header("authorization") == Some(TEST_CONTAINER_TOKEN) {
        json_credentials()
    } else {
        Answer::text(401, "")
    }
}

/// `AssumeRoleWithWebIdentity` of [`TEST_ROLE_ARN`] with
/// [`TEST_WEB_IDENTITY_TOKEN`]; STS takes no signature for it.
fn sts(request: &Recorded) -> Answer {
    let form = form(&request.body);
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if field("Action") != Some("AssumeRoleWithWebIdentity") {
        return sts_error(
            400,
            "InvalidAction",
            "only AssumeRoleWithWebIdentity is served",
        );
    }
    if field("RoleSessionName").is_none_or(str::is_empty) {
        return sts_error(400, "ValidationError", "RoleSessionName is missing");
    }
    if field("RoleArn") != Some(TEST_ROLE_ARN)
        || field("WebIdentityToken") != Some(TEST_WEB_IDENTITY_TOKEN)
    {
        return sts_error(
            403,
            "AccessDenied",
            "not authorized to perform sts:AssumeRoleWithWebIdentity",
        );
    }
    let body = format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <AssumeRoleWithWebIdentityResult>\
         <Credentials><AccessKeyId>{ISSUED_ACCESS_KEY}</AccessKeyId>\
         <SecretAccessKey>{ISSUED_SECRET_KEY}</SecretAccessKey>\
         <SessionToken>{ISSUED_SESSION_TOKEN}</SessionToken>\
         <Expiration>{}</Expiration></Credentials>\
         <AssumedRoleUser><Arn>{TEST_ROLE_ARN}/session</Arn>\
         <AssumedRoleId>AROATOOLRUNNERTEST:session</AssumedRoleId></AssumedRoleUser>\
         </AssumeRoleWithWebIdentityResult>\
         <ResponseMetadata><RequestId>sts-test-request</RequestId></ResponseMetadata>\
         </AssumeRoleWithWebIdentityResponse>",
        rfc3339(SystemTime::now() + LIFETIME)
    );
    Answer {
        content_type: "text/xml",
        ..Answer::text(200, body)
    }
}

/// `GetRoleCredentials` of [`TEST_SSO_ROLE`] with [`TEST_SSO_ACCESS_TOKEN`].
fn sso(request: &Recorded) -> Answer {
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
    let expiration = SystemTime::now() + LIFETIME;
    let millis = expiration
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let body = serde_json::json!({"roleCredentials": {
        "accessKeyId": ISSUED_ACCESS_KEY,
        "secretAccessKey": ISSUED_SECRET_KEY,
        "sessionToken": ISSUED_SESSION_TOKEN,
        "expiration": millis,
    }});
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
