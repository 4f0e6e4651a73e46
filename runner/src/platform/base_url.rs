//! Base URLs of the platforms that keep the first-party shape under a path
//! of their own (Foundry's `/anthropic/`, Google's gateway), and the check
//! every platform's base URL gets.

use reqwest::Url;

use super::Endpoint;
use crate::error::Error;

/// `url` parsed as a base URL: `http` or `https`, and ending in `/` so that
/// paths go under it.
///
/// # Errors
///
/// A configuration error naming `url` when it does not parse or its scheme
/// is another.
pub(crate) fn parse(url: &str) -> Result<Url, Error> {
    let with_slash = if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    };
    let parsed = Url::parse(&with_slash)
        .map_err(|e| Error::config_with(format!("invalid base URL {url:?}"), e))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "invalid base URL {url:?}: scheme {:?} is not http or https",
            parsed.scheme()
        )));
    }
    Ok(parsed)
}

/// The URL of `endpoint` under `base`, as the first-party API lays it out.
pub(crate) fn first_party_endpoint(base: &Url, endpoint: Endpoint<'_>) -> Url {
    endpoint.first_party_url(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gets_its_slash_and_an_http_scheme() {
        assert_eq!(
            parse("http://h/anthropic").unwrap().as_str(),
            "http://h/anthropic/"
        );
        assert_eq!(parse("https://h/a/").unwrap().as_str(), "https://h/a/");
        assert!(parse("ftp://h/").unwrap_err().to_string().contains("ftp"));
        assert!(parse("not a url").unwrap_err().is_config());
        let files = first_party_endpoint(
            &parse("http://h/anthropic").unwrap(),
            Endpoint::Files(&["f 1"]),
        );
        assert_eq!(files.as_str(), "http://h/anthropic/v1/files/f%201");
    }
}
