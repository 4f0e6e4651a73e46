//! Google's platforms on loopback: [`TokenEndpoint`], Google's token
//! sources (the OAuth token endpoint that a credentials file's `token_uri`
//! points at, for service-account JWT grants and gcloud user credentials'
//! refresh-token grants, and the metadata server that `GCE_METADATA_HOST`
//! names); and, in front of a scripted model, checking what each checks,
//! [`ScriptedVertex`] (Vertex AI's `rawPredict` / `streamRawPredict`) and
//! [`ScriptedGoogleCloud`] (Claude on Google Cloud's gateway), which take
//! the tokens the endpoint issued and the test key's self-signed JWTs.

use serde_json::json;

use super::Reply;

mod bearer;
mod gateway;
mod token_endpoint;
mod vertex;

pub use gateway::ScriptedGoogleCloud;

pub use token_endpoint::{
    Grant, JWT_BEARER_GRANT, METADATA_GRANT, REFRESH_TOKEN_GRANT, TEST_CLIENT_EMAIL,
    TEST_OAUTH_CLIENT_ID, TEST_OAUTH_CLIENT_SECRET, TEST_PROJECT_ID, TEST_REFRESH_TOKEN,
    TokenEndpoint,
};
pub use vertex::ScriptedVertex;

/// TEST ONLY: the private key of the scripted service account, published
/// here on purpose so that tests and users' own tests can sign grants the
/// [`TokenEndpoint`] checks. It was generated for this crate, belongs to no
/// Google account, and must never be used for anything real.
pub const TEST_PRIVATE_KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCbW60CQpXRbsRm\n\
7qlm2lFTDuLAL9irg/f4kuTwDX8NwIdeCiCUEguKJC4N2+mkTKNxGiofDfHJUMbr\n\
hQKhEQSxBtCI17enIG8eV3oDppvXHmAjHZXtR26PQVU+ouFQsOWfVX8OhtxZV1tR\n\
L3s5zlXMGsnKhK8lgYiQ7xP2p3ynTue7bCZGVKTAxOeMFUAMTjEUZMSltlGTCN9/\n\
lk3l9uqR1r608B77J72ZzHqAIyK5BTjUkFQK2G1ZSUQ8M1jGt8uKAXlKeXpReOx3\n\
rOdyLXJV10wh38J5NBoOund4DnEwUjgbq4OjjHUpLbOEcoIbq5jmmBzgEnElUejp\n\
bYI/UhIhAgMBAAECggEAELRt/m5ixfG3RurGUUu2meE3CtDk5yWvWKLm4Kmlgzje\n\
oAMjwfgiFdj9ELrC58qLz8yvQcaR5y0l2SDktE/sUA1Psp8gsro/Pc/Mdq8IARIA\n\
PAEMOXFzAblV2AB94gYbXU4SoDZqZBA2E/KF4/nRP5CT07r/oDSflsH2RLvOoKil\n\
bqYow9bi4IRQSsVW+De6fGfMkIkbyiSrMxwnS1OC6Td5Gm+uXwWM4ixlUmrAiwWZ\n\
3hdjIlkWCB0B8zSKfXQnSStk6ZsZAhY/L9Ebz7GonozkEkDv1u07RvFpNwIylMPJ\n\
hC3ZVh2alug074HL4FwBB28ZjNLKonIZMX9BZWnSXwKBgQDa9xoa8lZ5W2/odHne\n\
7VuCVQUPD8P7qhfbp6bn6VheX4k8nJe+9qdcOErG6ft5hlsixqOUAUFOJlS86z8t\n\
tMHc/crfOtAJU/0PKFtOgy/lcyLuZvUEQyOwpAmrCqRB95eJmprdzedGrdDrVGai\n\
fdvuskVIT5VjBzn66lLaZ3VtawKBgQC1oniiWF74gNgFjK61nlzQikmqRoOvioHi\n\
2/wr2ZsYCMcQO7A+A041Uxkty8LEMSnktRlGRLBHD+vNKXJuudQxNe1Gq11ri9uL\n\
Ift4Y/gJAxQthGNFZ/h8+rOaKfluFtbycH+FfER6537ET5nr80i6J6DPTLGCQDD5\n\
GO96KQL1owKBgFgKiQ2SqSBsmod95c6z41p5MuqGbUfQcX1ZYKvY0DZJ9ZVQZVdc\n\
N5jF7ZMjW4DWe+h0tCr7gjWZBfNcJ3AKQPTJevvc2u8VPSgOEwBzkRuR+taewR+w\n\
mzYYDuceBUOc+OpUJrbOZpKtqtYkfowRTRAhz+euUCOcMTzpYNz+QmH3AoGASOSM\n\
HzLx4i7rAscjsjV8sCBfUdt8q60dVSrNt9dbm7iiEsyxfSGceGACAdP9NPk6A9P9\n\
8apNSCeGjU5t4yvmkV0//RV2p1t4XwzjO7x65Tr8FQxFPqxsF9QQ0fS4akr2NlOZ\n\
ibuGTACtaiE792oqLLMMoUT5E/mo7b7pFJBy5JsCgYAEWvHGwQg8UmlJCG9fOV5N\n\
Dk3UV/wgRaik2sSNQKh+4e1AL5B85R9l2UXmghHPbfdB1P/cDr4XEYg8jyb+FGu7\n\
F3iY8r8wuWghCgMVcoUpJeUFdaEUhnxcsEIcqFsKnArro7B05i+RuuHLX5oyPprf\n\
6e2v1S8WKZMjwKj8AcqEuA==\n\
-----END PRIVATE KEY-----\n";

/// Google's error envelope, as Google's front ends answer: `{"error":
/// {"code", "message", "status"}}`.
///
/// ```
/// let reply = toolrunner::testing::platform_google::google_error(403, "PERMISSION_DENIED", "denied");
/// # let _ = reply;
/// ```
pub fn google_error(code: u16, status: &str, message: &str) -> Reply {
    Reply::json(
        code,
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}
