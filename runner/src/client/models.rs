//! [`Models`]: the Models API, `client.models()`.

use super::Client;
use super::call::call_span;
use super::listing::{Listing, Source};
use crate::error::Error;
use crate::platform::Endpoint;
use crate::types::ModelInfo;
use reqwest::Method;

impl Client {
    /// The Models API: the models the API serves, newest first, with
    /// their context windows and lifecycle. Offline code can go on naming
    /// [`models::CURRENT`](crate::models::CURRENT).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// let model = client.models().retrieve(toolrunner::models::CURRENT).await?;
    /// println!("{} takes up to {:?} input tokens", model.display_name, model.max_input_tokens);
    /// # Ok(())
    /// # }
    /// ```
    pub fn models(&self) -> Models {
        Models {
            client: self.clone(),
        }
    }
}

/// The Models API of a [`Client`], from [`Client::models`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Models {
    client: Client,
}

impl Models {
    /// Lists the models, newest first, as a stream of pages or of models:
    /// `GET /v1/models`, one request a page.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use futures_util::TryStreamExt;
    ///
    /// let ids: Vec<String> = client.models().list().items().map_ok(|m| m.id).try_collect().await?;
    /// println!("{ids:?}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> Listing<ModelInfo> {
        Listing::new(self.client.clone(), Source::Models)
    }

    /// The model `model_id` (an id or an alias): `GET /v1/models/{model_id}`.
    ///
    /// # Errors
    ///
    /// - [`Error::is_unsupported`]: the client's platform (Amazon Bedrock,
    ///   Vertex AI, ...) has no Models API; nothing is sent.
    /// - [`Error::is_api`]: no such model (404), or any API error.
    /// - Otherwise as for [`Client::create_message`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// let model = client.models().retrieve("claude-opus-5-5").await?;
    /// assert_eq!(model.id, "claude-opus-5-5");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn retrieve(&self, model_id: &str) -> Result<ModelInfo, Error> {
        let id = super::batches::path_id(model_id, "model id")?;
        let call = self
            .client
            .call(Method::GET, Endpoint::Models(&[id]), &[], None, "a model")?;
        let span = call_span!(self.client, "models.retrieve", model_id);
        self.client.call_json(&span, &call).await
    }
}
