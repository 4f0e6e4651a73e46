//! A batch's body, checked before it is sent: what the API would refuse
//! is refused here, naming the request, rather than after uploading up to
//! 256 MB.

use std::collections::HashMap;

use bytes::Bytes;
use serde::Serialize;

use crate::client::version::{check, rejected_fields};
use crate::error::Error;
use crate::types::BatchRequest;

/// The most requests a batch takes.
pub(crate) const MAX_REQUESTS: usize = 100_000;

/// The largest body a batch may have: 256 MB.
pub(crate) const MAX_BYTES: usize = 256 * 1024 * 1024;

/// The longest `custom_id`.
const MAX_ID_CHARS: usize = 64;

/// A batch's body, and the betas its header carries.
#[derive(Debug)]
pub(super) struct Body {
    pub(super) json: Bytes,
    pub(super) betas: Vec<String>,
}

/// The body of a batch of `requests`, once they pass the API's rules
/// under API `version`.
pub(super) fn body(requests: &[BatchRequest], version: &str) -> Result<Body, Error> {
    validate(requests, version)?;
    #[derive(Serialize)]
    struct Wire<'a> {
        requests: &'a [BatchRequest],
    }
    let json = serde_json::to_vec(&Wire { requests }).map_err(Error::encode)?;
    if json.len() > MAX_BYTES {
        return Err(Error::invalid_request(format!(
            "the batch is {} bytes; a batch takes at most {MAX_BYTES} (256 MB)",
            json.len()
        )));
    }
    let mut betas: Vec<String> = Vec::new();
    for beta in requests.iter().flat_map(|r| &r.params.betas) {
        if !betas.contains(beta) {
            betas.push(beta.clone());
        }
    }
    Ok(Body {
        json: Bytes::from(json),
        betas,
    })
}

/// Checks the count, each id, and what API `version` rejects.
fn validate(requests: &[BatchRequest], version: &str) -> Result<(), Error> {
    if requests.is_empty() {
        return Err(Error::invalid_request("a batch needs at least one request"));
    }
    if requests.len() > MAX_REQUESTS {
        return Err(Error::invalid_request(format!(
            "the batch has {} requests; a batch takes at most {MAX_REQUESTS}",
            requests.len()
        )));
    }
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(requests.len());
    for (index, request) in requests.iter().enumerate() {
        let id = request.custom_id.as_str();
        if !is_valid_custom_id(id) {
            return Err(Error::invalid_request(format!(
                "invalid custom_id {id:?} (request {index}): an id is 1 to {MAX_ID_CHARS} \
                 ASCII letters, digits, `_` or `-`"
            )));
        }
        if let Some(first) = seen.insert(id, index) {
            return Err(Error::invalid_request(format!(
                "duplicate custom_id {id:?}: requests {first} and {index}"
            )));
        }
        let rejected = rejected_fields(&request.params, 0);
        if check(version, &rejected).is_err()
            && let Some(first) = rejected.first()
        {
            return Err(Error::invalid_request(format!(
                "batch request {id:?}: {first}"
            )));
        }
    }
    Ok(())
}

/// Whether `id` matches `^[a-zA-Z0-9_-]{1,64}$`, as the API requires.
pub(crate) fn is_valid_custom_id(id: &str) -> bool {
    (1..=MAX_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MessageParams;

    fn request(id: &str) -> BatchRequest {
        BatchRequest::new(id, MessageParams::new("m", 8).user("hi"))
    }

    #[test]
    fn ids_follow_the_api_pattern() {
        for good in ["a", "A-9_z", &"x".repeat(64)] {
            assert!(is_valid_custom_id(good), "{good:?}");
        }
        for bad in ["", " a", "a.b", "é", "a/b", &"x".repeat(65)] {
            assert!(!is_valid_custom_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn counts_are_bounded_and_betas_merged() {
        let e = body(&[], "2023-06-01").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid request: a batch needs at least one request"
        );
        let mut one = request("a");
        one.params.betas = vec!["b1".into(), "b2".into()];
        let mut two = request("b");
        two.params.betas = vec!["b2".into(), "b3".into()];
        let body = body(&[one, two], "2023-06-01").unwrap();
        assert_eq!(body.betas, ["b1", "b2", "b3"]);
        let json: serde_json::Value = serde_json::from_slice(&body.json).unwrap();
        assert_eq!(json["requests"][1]["custom_id"], "b");
        assert!(json["requests"][0]["params"].get("betas").is_none());
    }

    #[test]
    fn too_many_requests_are_refused() {
        let requests: Vec<BatchRequest> = (0..=MAX_REQUESTS)
            .map(|i| request(&format!("r{i}")))
            .collect();
        let e = validate(&requests, "2023-06-01").unwrap_err();
        assert!(e.to_string().contains("100001 requests"), "{e}");
    }
}
