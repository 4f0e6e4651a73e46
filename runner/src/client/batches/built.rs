//! Creating a batch of requests the tool runner's loop built (a
//! [`BatchRunner`](crate::BatchRunner)'s round): their bodies are already
//! serialized, so the batch's body is put together from them as they are,
//! never parsed back into parameters.

use super::Batches;
use super::create::{MAX_BYTES, MAX_REQUESTS, is_valid_custom_id};
use crate::client::Request;
use crate::client::call::call_span;
use crate::client::version::check;
use crate::error::Error;
use crate::platform::Endpoint;
use crate::types::MessageBatch;
use bytes::Bytes;
use reqwest::Method;

impl Batches {
    /// Creates a batch of `requests`, each a `custom_id` and a request the
    /// loop built, checked as [`create`](Self::create) checks its own.
    pub(crate) async fn create_built(
        &self,
        requests: &[(String, Request)],
    ) -> Result<MessageBatch, Error> {
        let (json, betas) = built_body(requests, &self.client.inner.anthropic_version)?;
        let call = self.client.call(
            Method::POST,
            Endpoint::Batches(&[]),
            &betas,
            Some(json),
            "a message batch",
        )?;
        let span = call_span!(
            self.client,
            "messages.batches.create",
            requests = requests.len()
        );
        self.client.call_json(&span, &call).await
    }
}

/// `{"requests": [{"custom_id": ..., "params": <body>}, ...]}`, and the
/// betas of every request for the batch's header.
fn built_body(
    requests: &[(String, Request)],
    version: &str,
) -> Result<(Bytes, Vec<String>), Error> {
    if requests.is_empty() || requests.len() > MAX_REQUESTS {
        return Err(Error::invalid_request(format!(
            "a batch takes 1 to {MAX_REQUESTS} requests, not {}",
            requests.len()
        )));
    }
    let mut json = Vec::with_capacity(requests.iter().map(|(_, r)| r.body.len() + 64).sum());
    json.extend_from_slice(b"{\"requests\":[");
    let mut betas: Vec<String> = Vec::new();
    for (index, (custom_id, request)) in requests.iter().enumerate() {
        if !is_valid_custom_id(custom_id) {
            return Err(Error::invalid_request(format!(
                "invalid custom_id {custom_id:?} (request {index})"
            )));
        }
        check(version, &request.rejected)
            .map_err(|e| Error::invalid_request(format!("batch request {custom_id:?}: {e}")))?;
        if index > 0 {
            json.push(b',');
        }
        json.extend_from_slice(b"{\"custom_id\":");
        serde_json::to_writer(&mut json, custom_id).map_err(Error::encode)?;
        json.extend_from_slice(b",\"params\":");
        json.extend_from_slice(&request.body);
        json.push(b'}');
        for beta in &request.betas {
            if !betas.contains(beta) {
                betas.push(beta.clone());
            }
        }
    }
    json.extend_from_slice(b"]}");
    if json.len() > MAX_BYTES {
        return Err(Error::invalid_request(format!(
            "the batch is {} bytes; a batch takes at most {MAX_BYTES} (256 MB)",
            json.len()
        )));
    }
    Ok((Bytes::from(json), betas))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MessageParams;

    #[test]
    fn bodies_go_in_as_they_were_built() {
        let mut one = MessageParams::new("m", 8).user("hi");
        one.betas = vec!["b1".into()];
        let two = MessageParams::new("m", 8).user("there");
        let requests = vec![
            ("r0".to_owned(), Request::from_params(&one).unwrap()),
            ("r1".to_owned(), Request::from_params(&two).unwrap()),
        ];
        let (json, betas) = built_body(&requests, "2023-06-01").unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json["requests"][0]["custom_id"], "r0");
        assert_eq!(
            json["requests"][1]["params"]["messages"][0]["content"],
            "there"
        );
        assert_eq!(
            json["requests"][1]["params"],
            serde_json::from_slice::<serde_json::Value>(&requests[1].1.body).unwrap()
        );
        assert_eq!(betas, ["b1"]);
        let bad = vec![("a.b".to_owned(), Request::from_params(&two).unwrap())];
        let e = built_body(&bad, "2023-06-01").unwrap_err();
        assert!(e.to_string().contains("\"a.b\""), "{e}");
    }
}
