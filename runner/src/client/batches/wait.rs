//! [`Batches::wait`]: polls a batch until it ends, with backoff, within a
//! bound.

use std::time::Duration;

use tokio::time::Instant;

use super::Batches;
use crate::error::Error;
use crate::types::MessageBatch;

/// How [`Batches::wait`] polls: the first delay, doubled after each poll
/// up to a longest delay, and a bound on the whole wait.
///
/// The default polls after 5 s, then backs off to once a minute, and gives
/// up after 25 hours: a batch ends within 24 hours, when its last requests
/// expire.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use toolrunner::Polling;
///
/// let polling = Polling::default()
///     .within(Duration::from_secs(3600))
///     .delays(Duration::from_secs(10), Duration::from_secs(120));
/// assert_eq!(polling.timeout(), Duration::from_secs(3600));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Polling {
    first_delay: Duration,
    max_delay: Duration,
    timeout: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Polling {
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
            timeout: Duration::from_secs(25 * 60 * 60),
        }
    }
}

impl Polling {
    /// Gives up once `timeout` has passed since the wait began.
    pub fn within(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Waits `first` before the second poll (the first is at once), and
    /// doubles the delay after each poll up to `max`.
    pub fn delays(mut self, first: Duration, max: Duration) -> Self {
        self.first_delay = first;
        self.max_delay = max.max(first);
        self
    }

    /// The bound on the whole wait.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The delay after poll number `poll` (from 1).
    pub(crate) fn delay(&self, poll: u32) -> Duration {
        let doublings = poll.saturating_sub(1).min(16);
        self.first_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay)
    }
}

impl Batches {
    /// Polls batch `batch_id` until it has ended, and returns it as it is
    /// then, ready for [`results_of`](Self::results_of). Polls at once,
    /// then after delays that grow as `polling` says.
    ///
    /// # Errors
    ///
    /// - [`Error::is_batch_not_ended`]: the batch had not ended when
    ///   `polling`'s bound passed; the message says how long was waited and
    ///   where the batch was.
    /// - Otherwise as for [`retrieve`](Self::retrieve), from any poll.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use std::time::Duration;
    /// use toolrunner::Polling;
    ///
    /// let polling = Polling::default().within(Duration::from_secs(2 * 3600));
    /// let batch = client.batches().wait("msgbatch_01", &polling).await?;
    /// println!("{} succeeded", batch.request_counts.succeeded);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait(&self, batch_id: &str, polling: &Polling) -> Result<MessageBatch, Error> {
        self.wait_with(batch_id, polling, |_| {}).await
    }

    /// As [`wait`](Self::wait), calling `on_poll` with the batch after each
    /// poll, to report progress.
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: toolrunner::Client) -> Result<(), toolrunner::Error> {
    /// use toolrunner::Polling;
    ///
    /// let batch = client
    ///     .batches()
    ///     .wait_with("msgbatch_01", &Polling::default(), |batch| {
    ///         let counts = &batch.request_counts;
    ///         println!("{} of {} still processing", counts.processing, counts.total());
    ///     })
    ///     .await?;
    /// # drop(batch);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_with(
        &self,
        batch_id: &str,
        polling: &Polling,
        mut on_poll: impl FnMut(&MessageBatch) + Send,
    ) -> Result<MessageBatch, Error> {
        let began = Instant::now();
        let mut poll = 0u32;
        loop {
            poll = poll.saturating_add(1);
            let batch = self.retrieve(batch_id).await?;
            on_poll(&batch);
            if batch.is_ended() {
                return Ok(batch);
            }
            let waited = began.elapsed();
            let Some(left) = polling.timeout.checked_sub(waited).filter(|d| !d.is_zero()) else {
                let status = batch.processing_status.as_str();
                return Err(Error::batch_not_ended(
                    batch_id,
                    status,
                    Some(polling.timeout),
                    poll,
                ));
            };
            let delay = polling.delay(poll).min(left);
            tracing::debug!(
                batch_id,
                status = batch.processing_status.as_str(),
                delay_ms = delay.as_millis() as u64,
                "batch not ended; polling again"
            );
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_longest() {
        let polling = Polling::default().delays(Duration::from_secs(1), Duration::from_secs(5));
        let delays: Vec<u64> = (1..=5).map(|p| polling.delay(p).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 5, 5]);
        assert_eq!(polling.delay(u32::MAX), Duration::from_secs(5));
    }
}
