//! The batch runner's seam ([`BatchApi`]) on the client's Message Batches
//! API, and [`Client::batch_runner`].

use crate::runner::caching;
use std::sync::Arc;

use futures_util::StreamExt;

use crate::client::{Batches, Client};
use crate::error::Error;
use crate::toolset::Toolset;
use crate::types::BatchResult;

use super::BatchRunner;
use super::api::{ApiFuture, BatchApi, Item, ItemResult, Standing};

impl Client {
    /// A [`BatchRunner`] running the tools of `toolset`: many agent runs
    /// advanced together through the Message Batches API. Add runs with
    /// [`run`](BatchRunner::run), then poll it.
    ///
    /// ```no_run
    /// use toolrunner::{toolset, Client, MessageParams, RunId};
    ///
    /// # async fn run() -> Result<(), toolrunner::Error> {
    /// let client = Client::from_env()?;
    /// let params = MessageParams::new(toolrunner::models::CURRENT, 1024).user("Summarise RFC 9110.");
    /// let report = client
    ///     .batch_runner(toolset![])
    ///     .run(RunId::new("rfc-9110")?, params)
    ///     .until_done()
    ///     .await?;
    /// println!("{:?}", report.runs[0].outcome);
    /// # Ok(()) }
    /// ```
    pub fn batch_runner(&self, toolset: Toolset) -> BatchRunner {
        let mut runner = BatchRunner::with_api(Arc::new(self.batches()), toolset);
        runner = runner.set(|fleet| {
            fleet.setup.telemetry = self.telemetry().clone();
            fleet.setup.caching = caching::Target {
                diagnostics: false,
                ..caching::target_of(self)
            };
        });
        runner
    }
}

impl BatchApi for Batches {
    fn create(&self, items: Vec<Item>) -> ApiFuture<String> {
        let batches = self.clone();
        Box::pin(async move {
            let requests: Vec<_> = items
                .into_iter()
                .map(|item| (item.custom_id, item.request))
                .collect();
            Ok(batches.create_built(&requests).await?.id)
        })
    }

    fn retrieve(&self, id: &str) -> ApiFuture<Standing> {
        let (batches, id) = (self.clone(), id.to_owned());
        Box::pin(async move {
            let batch = batches.retrieve(&id).await?;
            Ok(Standing {
                ended: batch.is_ended(),
                counts: batch.request_counts,
                status: batch.processing_status.as_str(),
            })
        })
    }

    fn results(
        &self,
        id: &str,
    ) -> ApiFuture<futures_util::stream::BoxStream<'static, Result<(String, ItemResult), Error>>>
    {
        let (batches, id) = (self.clone(), id.to_owned());
        Box::pin(async move {
            let results = batches.results(&id).await?;
            let lines = results.map(move |line| {
                let line = line?;
                let result = match line.result {
                    BatchResult::Succeeded { message } => ItemResult::Succeeded(message),
                    BatchResult::Errored { error } => ItemResult::Errored(Error::batch(format!(
                        "request `{}` of batch `{id}` errored: {}: {}",
                        line.custom_id, error.error.kind, error.error.message
                    ))),
                    BatchResult::Canceled => ItemResult::Canceled,
                    // Kinds a later API may add are taken for expired:
                    // nothing came back, and the request may go again.
                    _ => ItemResult::Expired,
                };
                Ok((line.custom_id, result))
            });
            Ok(lines.boxed())
        })
    }

    fn cancel(&self, id: &str) -> ApiFuture<()> {
        let (batches, id) = (self.clone(), id.to_owned());
        Box::pin(async move { batches.cancel(&id).await.map(drop) })
    }
}
