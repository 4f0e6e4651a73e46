//! The Messages API shape on an AWS endpoint, for Bedrock Mantle and the
//! AWS-hosted API: `POST {base}/v1/messages` as first-party, SSE streams,
//! authenticated with SigV4 or an API key.

use futures_util::future::BoxFuture;
use reqwest::Url;
use reqwest::header::HeaderValue;
use serde_json::{Map, Value};

use super::Auth;
use crate::client::ShownUrl;
use crate::error::Error;
use crate::platform::{
    Endpoint, Feature, MessagesCall, Platform, PlatformRequest, Refused, USER_PROFILE_ID,
    WORKSPACE_ID, join, unsupported_endpoint,
};

/// A Messages API on an AWS endpoint.
pub(crate) struct MessagesApi {
    pub(crate) name: &'static str,
    pub(crate) base_url: Url,
    pub(crate) auth: Auth,
    /// `anthropic-workspace-id`, sent with every request.
    pub(crate) workspace: Option<HeaderValue>,
    /// Whether the user profile id moves from its header into the body
    /// (Mantle reads it there on Messages requests).
    pub(crate) profile_in_body: bool,
    /// What the platform offers.
    pub(crate) offered: &'static [Feature],
}

impl std::fmt::Debug for MessagesApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessagesApi")
            .field("name", &self.name)
            .field("base_url", &ShownUrl(self.base_url.as_str()))
            .field("auth", &self.auth)
            .field("workspace", &self.workspace)
            .field("profile_in_body", &self.profile_in_body)
            .field("offered", &self.offered)
            .finish()
    }
}

impl Platform for MessagesApi {
    fn name(&self) -> &'static str {
        self.name
    }

    fn messages(&self, call: &MessagesCall<'_>) -> Result<PlatformRequest, Error> {
        let url = join(&self.base_url, &["v1", "messages"]);
        let mut request = PlatformRequest::first_party(call, url);
        if let Some(workspace) = &self.workspace {
            request.headers.insert(WORKSPACE_ID, workspace.clone());
        }
        if self.profile_in_body
            && let Some(profile) = request.headers.remove(USER_PROFILE_ID)
            && let Ok(profile) = profile.to_str()
        {
            let mut body: Map<String, Value> =
                serde_json::from_slice(call.body).map_err(Error::encode)?;
            // First, as the SDK puts it.
            let mut moved = Map::new();
            moved.insert("user_profile_id".into(), profile.into());
            moved.extend(body.into_iter().filter(|(k, _)| k != "user_profile_id"));
            body = moved;
            request.body = serde_json::to_vec(&body).map_err(Error::encode)?.into();
        }
        Ok(request)
    }

    fn endpoint(&self, endpoint: Endpoint<'_>) -> Result<Url, Error> {
        if !self.offers(endpoint.feature()) {
            return Err(unsupported_endpoint(self, endpoint));
        }
        Ok(endpoint.first_party_url(&self.base_url))
    }

    fn authorize<'a>(
        &'a self,
        _http: &'a reqwest::Client,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), Error>> {
        if let Some(workspace) = &self.workspace {
            request
                .headers_mut()
                .entry(WORKSPACE_ID)
                .or_insert_with(|| workspace.clone());
        }
        self.auth.authorize(request)
    }

    fn reauthorize<'a>(&'a self, refused: &'a Refused<'a>) -> BoxFuture<'a, bool> {
        self.auth.reauthorize(refused)
    }

    fn offers(&self, feature: Feature) -> bool {
        self.offered.contains(&feature)
    }
}
