//! No platform shows a credential in `Debug` output: neither its builder
//! nor the client it builds.

use crate::client::Client;

const URL_PASSWORD: &str = "url-pass-9f1c";
const KEY: &str = "sk-platform-key-5e2a";
const TOKEN: &str = "ya29.platform-token-77b0";
const ACCESS_KEY: &str = "AKIDREDACTIONTEST";
const SECRET_KEY: &str = "aws/secret+key-3d8e";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzsession-4c6f";

/// A base URL carrying a password.
fn base_url() -> String {
    format!("https://user:{URL_PASSWORD}@platform.example/")
}

/// Asserts that neither `builder`'s nor `client`'s `Debug` output holds a
/// secret, and that the URL still shows, redacted.
fn assert_hidden(builder: &dyn std::fmt::Debug, client: &Client) {
    for shown in [
        format!("{builder:?}"),
        format!("{builder:#?}"),
        format!("{client:?}"),
        format!("{client:#?}"),
    ] {
        for secret in [URL_PASSWORD, KEY, TOKEN, SECRET_KEY, SESSION_TOKEN] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("user:redacted@platform.example"), "{shown}");
    }
}

#[cfg(feature = "bedrock")]
#[test]
fn aws_platforms_hide_keys_secrets_session_tokens_and_url_passwords() {
    use crate::platform::{Aws, Bedrock, BedrockMantle};
    let signed = || {
        Bedrock::new()
            .region("us-east-1")
            .base_url(base_url())
            .credentials(ACCESS_KEY, SECRET_KEY, Some(SESSION_TOKEN.into()))
    };
    assert_hidden(&signed(), &signed().build().unwrap());
    let keyed = || {
        Bedrock::new()
            .region("us-east-1")
            .base_url(base_url())
            .api_key(KEY)
    };
    assert_hidden(&keyed(), &keyed().build().unwrap());
    let signed = || {
        BedrockMantle::new()
            .region("us-east-1")
            .base_url(base_url())
            .credentials(ACCESS_KEY, SECRET_KEY, Some(SESSION_TOKEN.into()))
    };
    assert_hidden(&signed(), &signed().build().unwrap());
    let keyed = || {
        BedrockMantle::new()
            .region("us-east-1")
            .base_url(base_url())
            .api_key(KEY)
    };
    assert_hidden(&keyed(), &keyed().build().unwrap());
    let signed = || {
        Aws::new()
            .region("us-east-1")
            .base_url(base_url())
            .workspace_id("wrkspc_1")
            .credentials(ACCESS_KEY, SECRET_KEY, Some(SESSION_TOKEN.into()))
    };
    assert_hidden(&signed(), &signed().build().unwrap());
    let keyed = || {
        Aws::new()
            .region("us-east-1")
            .base_url(base_url())
            .workspace_id("wrkspc_1")
            .api_key(KEY)
    };
    assert_hidden(&keyed(), &keyed().build().unwrap());
}

#[cfg(feature = "vertex")]
#[test]
fn google_platforms_hide_tokens_keys_and_url_passwords() {
    use crate::platform::{GoogleCloud, Vertex};
    let vertex = || {
        Vertex::new()
            .region("us-east5")
            .project_id("a-project")
            .base_url(base_url())
            .access_token(TOKEN)
    };
    assert_hidden(&vertex(), &vertex().build().unwrap());
    // The service-account key is a secret too; it is read on first use.
    let vertex = || {
        Vertex::new()
            .region("us-east5")
            .project_id("a-project")
            .base_url(base_url())
            .service_account_key(format!("{{\"private_key\": \"{KEY}\"}}"))
    };
    assert_hidden(&vertex(), &vertex().build().unwrap());
    let cloud = || {
        GoogleCloud::new()
            .project("a-project")
            .location("global")
            .workspace_id("wrkspc_1")
            .base_url(base_url())
            .access_token(TOKEN)
    };
    assert_hidden(&cloud(), &cloud().build().unwrap());
}

#[cfg(feature = "foundry")]
#[test]
fn foundry_hides_its_key_and_url_passwords() {
    use crate::platform::Foundry;
    let foundry = || Foundry::new().base_url(base_url()).api_key(KEY);
    assert_hidden(&foundry(), &foundry().build().unwrap());
}

/// A string that is no URL may hold a password all the same: it is not
/// shown.
#[test]
fn a_base_url_that_does_not_parse_is_not_shown() {
    let given = format!("https://user:{URL_PASSWORD}@bad host/");
    let shown = format!("{:?}", crate::client::ShownUrl(&given));
    assert_eq!(shown, "<not a URL>");
}
