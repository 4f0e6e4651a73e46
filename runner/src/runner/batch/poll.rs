//! How long to wait between polls of a batch: a backoff from a first
//! delay up to a largest one, and a bound on the whole wait.

use std::time::Duration;

/// The polling schedule of a [`BatchRunner`](super::BatchRunner).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Polling {
    /// The delay before the first poll of a batch.
    pub(super) first: Duration,
    /// The longest delay between two polls.
    pub(super) max: Duration,
    /// The longest a batch is waited for, after which the fleet yields
    /// an error (polling again waits on).
    pub(super) max_wait: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        // Batches take minutes to hours, and the API ends every batch
        // within 24 hours (expiring what it did not process): polling
        // stays cheap, and a wait past a day is a batch that went wrong.
        Polling {
            first: Duration::from_secs(5),
            max: Duration::from_secs(60),
            max_wait: Duration::from_secs(25 * 60 * 60),
        }
    }
}

impl Polling {
    /// The delay before poll `n` (from 0) of a batch: doubling from
    /// `first`, at most `max`.
    pub(super) fn delay(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.min(16)).unwrap_or(u32::MAX);
        self.first.saturating_mul(factor).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_largest() {
        let polling = Polling {
            first: Duration::from_millis(100),
            max: Duration::from_millis(500),
            max_wait: Duration::from_secs(1),
        };
        let delays: Vec<u128> = (0..5).map(|n| polling.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
        assert_eq!(polling.delay(u32::MAX), Duration::from_millis(500));
    }
}
