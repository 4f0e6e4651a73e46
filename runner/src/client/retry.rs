//! When to retry a request, and how long to wait first.
//!
//! The policy is the official SDKs': exponential backoff from 0.5 s,
//! doubling up to 8 s, less up to 25% jitter; a `retry-after-ms` or
//! `retry-after` header asking for more than nothing takes precedence, and
//! an `x-should-retry` header overrides the status-based decision.
//!
//! The SDKs wait as long as the server asks, bounded only by what their
//! timers can hold (weeks). Here the bound is the request's own timeout
//! (10 minutes unless set): it is the caller's word on how long one attempt
//! may take, and waiting longer than that between two attempts would
//! silently outlast it. The API's rate limits reset within a minute, so
//! their delays are honoured whole; a server asking for more than the
//! timeout is not retried at all, and the caller gets its error (which
//! [`Error::is_retryable`](crate::Error::is_retryable)) at once, rather
//! than after early retries the server said would fail.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

const INITIAL_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(8);

/// How often to retry, and how long to wait between attempts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt; attempts are one more.
    pub(crate) max_retries: u32,
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1 for the first retry),
    /// honouring the failed response's `headers` if there was a response;
    /// `None` when the server asks for more than `cap`, so that the
    /// request is not retried.
    pub(crate) fn delay(
        &self,
        retry: u32,
        headers: Option<&HeaderMap>,
        cap: Duration,
    ) -> Option<Duration> {
        match headers.and_then(|h| retry_after(h, SystemTime::now())) {
            Some(asked) if asked > cap => None,
            Some(asked) => Some(asked),
            None => Some(backoff(retry, fastrand::f64())),
        }
    }
}

/// The backoff delay before retry number `retry`, for failures without a
/// response.
pub(crate) fn backoff_delay(retry: u32) -> Duration {
    backoff(retry, fastrand::f64())
}

/// Whether a failed response should be retried: as `x-should-retry` says if
/// present, else for 408, 409, 429 and 5xx (529 included).
pub(crate) fn should_retry(status: StatusCode, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").map(|v| v.as_bytes()) {
        Some(b"true") => return true,
        Some(b"false") => return false,
        _ => {}
    }
    matches!(status.as_u16(), 408 | 409 | 429 | 500..=599)
}

/// The delay the server asked for in `retry-after-ms` (milliseconds, may be
/// fractional) or `retry-after` (seconds, or an HTTP date), if it is more
/// than zero. A zero or negative delay gets backoff, as in the official
/// SDKs: retrying at once would only meet the same answer.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };

    let delay = if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        Duration::try_from_secs_f64(ms / 1000.0).ok()
    } else if let Some(value) = header("retry-after") {
        match value.parse::<f64>() {
            Ok(secs) => Duration::try_from_secs_f64(secs).ok(),
            Err(_) => httpdate::parse_http_date(value)
                .ok()
                .and_then(|at| at.duration_since(now).ok()),
        }
    } else {
        None
    };
    delay.filter(|d| !d.is_zero())
}

/// Exponential backoff for retry number `retry` (from 1), less up to 25%
/// for `jitter` in `[0, 1)`.
fn backoff(retry: u32, jitter: f64) -> Duration {
    let doublings = retry.saturating_sub(1).min(16);
    let delay = INITIAL_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY);
    delay.mul_f64(1.0 - 0.25 * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(2, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(5, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(6, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(u32::MAX, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(1, 1.0), Duration::from_millis(375));
    }

    #[test]
    fn jittered_delay_stays_in_range() {
        let policy = RetryPolicy { max_retries: 2 };
        for _ in 0..100 {
            let d = policy.delay(2, None, Duration::ZERO).unwrap();
            assert!(
                d > Duration::from_millis(750) && d <= Duration::from_secs(1),
                "{d:?}"
            );
        }
    }

    #[test]
    fn retry_after_headers() {
        let now = SystemTime::now();
        let ms = headers(&[("retry-after-ms", "12.5"), ("retry-after", "30")]);
        assert_eq!(retry_after(&ms, now), Some(Duration::from_micros(12_500)));
        let secs = headers(&[("retry-after", "2")]);
        assert_eq!(retry_after(&secs, now), Some(Duration::from_secs(2)));
        let zero = headers(&[("retry-after", "0")]);
        assert_eq!(retry_after(&zero, now), None);
        let a_minute = headers(&[("retry-after", "60")]);
        assert_eq!(retry_after(&a_minute, now), Some(Duration::from_secs(60)));
        let long = headers(&[("retry-after", "600.5")]);
        assert_eq!(
            retry_after(&long, now),
            Some(Duration::from_millis(600_500))
        );
        let negative = headers(&[("retry-after-ms", "-5")]);
        assert_eq!(retry_after(&negative, now), None);
        let junk = headers(&[("retry-after", "soon")]);
        assert_eq!(retry_after(&junk, now), None);
    }

    #[test]
    fn a_delay_over_the_cap_is_not_waited() {
        let policy = RetryPolicy { max_retries: 2 };
        let cap = Duration::from_secs(600);
        let ten_minutes = headers(&[("retry-after", "600")]);
        assert_eq!(policy.delay(1, Some(&ten_minutes), cap), Some(cap));
        let more = headers(&[("retry-after-ms", "600001")]);
        assert_eq!(policy.delay(1, Some(&more), cap), None);
        let none = headers(&[]);
        assert!(policy.delay(1, Some(&none), cap).is_some());
    }

    #[test]
    fn retry_after_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let date = headers(&[("retry-after", "Sun, 06 Nov 1994 08:49:47 GMT")]);
        assert_eq!(retry_after(&date, now), Some(Duration::from_secs(10)));
        let past = headers(&[("retry-after", "Sun, 06 Nov 1994 08:49:00 GMT")]);
        assert_eq!(retry_after(&past, now), None);
    }

    #[test]
    fn statuses_and_should_retry_header() {
        let none = HeaderMap::new();
        for code in [408, 409, 429, 500, 503, 529] {
            assert!(
                should_retry(StatusCode::from_u16(code).unwrap(), &none),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 413] {
            assert!(
                !should_retry(StatusCode::from_u16(code).unwrap(), &none),
                "{code}"
            );
        }
        let no = headers(&[("x-should-retry", "false")]);
        assert!(!should_retry(StatusCode::INTERNAL_SERVER_ERROR, &no));
        let yes = headers(&[("x-should-retry", "true")]);
        assert!(should_retry(StatusCode::BAD_REQUEST, &yes));
    }
}
