//! A bound on the requests one MCP session has in flight.
//!
//! Each request of a session (its `GET` event stream included) holds a
//! place until its response ends; one more than the bound is refused with
//! 429, so that one caller cannot pile up work or open streams without end.
//! Only sessions with requests in flight are in the table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hyper::HeaderMap;

use super::session_owner::session_id;

/// The requests in flight of every session.
pub(crate) struct SessionRequests {
    max: usize,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

impl SessionRequests {
    pub(crate) fn new(max: usize) -> Self {
        SessionRequests {
            max,
            in_flight: Arc::default(),
        }
    }

    /// A place for a request with these headers, held until the returned
    /// value is dropped (`None` outside a session); the refusal's message
    /// when the session has no place left.
    pub(crate) fn enter(&self, headers: &HeaderMap) -> Result<Option<SessionRequest>, String> {
        let Some(id) = session_id(headers) else {
            return Ok(None);
        };
        let mut in_flight = lock(&self.in_flight);
        let count = in_flight.entry(id.to_owned()).or_insert(0);
        if *count >= self.max {
            return Err(format!(
                "too many requests: session `{id}` already has {count} requests in flight (max_requests_per_session); retry when one ends"
            ));
        }
        *count += 1;
        Ok(Some(SessionRequest {
            id: id.to_owned(),
            in_flight: self.in_flight.clone(),
        }))
    }
}

/// A request's place in its session.
pub(crate) struct SessionRequest {
    id: String,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for SessionRequest {
    fn drop(&mut self) {
        let mut in_flight = lock(&self.in_flight);
        if let Some(count) = in_flight.get_mut(&self.id) {
            *count -= 1;
            if *count == 0 {
                in_flight.remove(&self.id);
            }
        }
    }
}

/// The table holds no invariant a panic could break halfway.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_session(id: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("mcp-session-id", id.parse().unwrap());
        headers
    }

    #[test]
    fn places_are_per_session_and_given_back() {
        let requests = SessionRequests::new(2);
        let first = requests.enter(&in_session("a")).unwrap();
        let second = requests.enter(&in_session("a")).unwrap();
        assert_eq!(
            requests.enter(&in_session("a")).err().unwrap(),
            "too many requests: session `a` already has 2 requests in flight (max_requests_per_session); retry when one ends"
        );
        // Another session, and requests outside any, are not held up.
        assert!(requests.enter(&in_session("b")).unwrap().is_some());
        assert!(requests.enter(&HeaderMap::new()).unwrap().is_none());
        drop(first);
        let third = requests.enter(&in_session("a")).unwrap();
        drop((second, third));
        assert!(lock(&requests.in_flight).is_empty());
    }
}
