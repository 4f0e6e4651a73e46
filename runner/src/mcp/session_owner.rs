//! Sessions belong to whoever opened them.
//!
//! A session id travels in a header and ends up in logs and proxies; on its
//! own it must not let one authenticated caller read another's stream or
//! post into another's session. The MCP authorization spec asks servers to
//! bind a session to the user that created it, so the HTTP server records
//! who opened each session and answers any other caller as if the session
//! did not exist (404, which tells them nothing).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use hyper::HeaderMap;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

use crate::AuthInfo;

/// The header that carries the session id (case-insensitive on the wire).
const SESSION_HEADER: &str = "mcp-session-id";

/// Whom a session belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A verified identity: the same subject may reconnect with a refreshed
    /// token and keep its session.
    Subject {
        subject: String,
        client_id: Option<String>,
    },
    /// A token without a subject (a fixed token): the session is bound to
    /// the token itself, kept as a keyed hash so the secret is not stored
    /// twice.
    Token(u64),
}

/// The owner of every live session, pruned of sessions rmcp has ended.
pub(crate) struct SessionOwners {
    owners: Mutex<Owners>,
    /// rmcp's session table, to forget sessions that expired there.
    sessions: Arc<LocalSessionManager>,
    /// Keys the token hash, so that hashes are useless outside this process.
    keys: RandomState,
}

struct Owners {
    by_session: HashMap<String, Owner>,
    /// The table's size at which it is next checked against rmcp's.
    prune_at: usize,
}

/// Below this many sessions the table is never pruned.
const MIN_PRUNE_AT: usize = 64;

impl SessionOwners {
    pub(crate) fn new(sessions: Arc<LocalSessionManager>) -> Self {
        SessionOwners {
            owners: Mutex::new(Owners {
                by_session: HashMap::new(),
                prune_at: MIN_PRUNE_AT,
            }),
            sessions,
            keys: RandomState::new(),
        }
    }

    /// rmcp's session table, which the service must be built with.
    pub(crate) fn manager(&self) -> Arc<LocalSessionManager> {
        self.sessions.clone()
    }

    /// The owner a request authenticated as `auth` with `token` acts for.
    pub(crate) fn owner(&self, auth: &AuthInfo, token: &str) -> Owner {
        match auth.subject() {
            Some(subject) => Owner::Subject {
                subject: subject.to_owned(),
                client_id: auth.client_id().map(str::to_owned),
            },
            None => Owner::Token(self.keys.hash_one(token)),
        }
    }

    /// Whether `owner` may use the session the request names, if any. A
    /// session this table does not know is left to rmcp, which answers 404
    /// for ids it never issued.
    pub(crate) fn may_use(&self, headers: &HeaderMap, owner: &Owner) -> bool {
        let Some(id) = session_id(headers) else {
            return true;
        };
        let owners = self.lock();
        owners.by_session.get(id).is_none_or(|known| known == owner)
    }

    /// Records `owner` as the owner of the session a response opened.
    pub(crate) async fn claim(&self, request: &HeaderMap, response: &HeaderMap, owner: Owner) {
        if session_id(request).is_some() {
            return;
        }
        let Some(id) = session_id(response) else {
            return;
        };
        let due = {
            let mut owners = self.lock();
            owners.by_session.insert(id.to_owned(), owner);
            owners.by_session.len() >= owners.prune_at
        };
        if due {
            self.prune().await;
        }
    }

    /// Forgets the session a successful `DELETE` ended.
    pub(crate) fn release(&self, request: &HeaderMap) {
        if let Some(id) = session_id(request) {
            self.lock().by_session.remove(id);
        }
    }

    /// Drops the sessions rmcp no longer has (expired or closed by the
    /// client going away), and sets the next check at twice what is left,
    /// so pruning costs O(1) per session opened.
    async fn prune(&self) {
        let live: Vec<Arc<str>> = self
            .sessions
            .sessions
            .read()
            .await
            .keys()
            .cloned()
            .collect();
        let mut owners = self.lock();
        owners
            .by_session
            .retain(|id, _| live.iter().any(|l| **l == **id));
        owners.prune_at = (owners.by_session.len() * 2).max(MIN_PRUNE_AT);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Owners> {
        // The table holds no invariant a panic could break halfway.
        self.owners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().by_session.len()
    }
}

pub(crate) fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers.get(SESSION_HEADER)?.to_str().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_session(id: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(SESSION_HEADER, id.parse().unwrap());
        headers
    }

    #[tokio::test]
    async fn a_session_is_usable_by_its_owner_only() {
        let owners = SessionOwners::new(Arc::default());
        let alice = owners.owner(&AuthInfo::new().with_subject("alice"), "token-1");
        // The same subject with a refreshed token is the same owner.
        assert_eq!(
            owners.owner(&AuthInfo::new().with_subject("alice"), "token-2"),
            alice
        );
        let fixed_a = owners.owner(&AuthInfo::new(), "fixed-a");
        let fixed_b = owners.owner(&AuthInfo::new(), "fixed-b");
        assert_ne!(fixed_a, fixed_b);

        owners
            .claim(&HeaderMap::new(), &with_session("s1"), alice.clone())
            .await;
        owners
            .claim(&HeaderMap::new(), &with_session("s2"), fixed_a.clone())
            .await;
        assert!(owners.may_use(&with_session("s1"), &alice));
        assert!(!owners.may_use(&with_session("s1"), &fixed_a));
        assert!(owners.may_use(&with_session("s2"), &fixed_a));
        assert!(!owners.may_use(&with_session("s2"), &fixed_b));
        // No session, or one this table never saw: rmcp decides.
        assert!(owners.may_use(&HeaderMap::new(), &fixed_b));
        assert!(owners.may_use(&with_session("unknown"), &fixed_b));

        // A request inside a session does not re-claim it.
        owners
            .claim(&with_session("s1"), &with_session("s1"), fixed_b.clone())
            .await;
        assert!(owners.may_use(&with_session("s1"), &alice));

        owners.release(&with_session("s1"));
        assert_eq!(owners.len(), 1);
    }

    #[tokio::test]
    async fn sessions_rmcp_has_ended_are_forgotten() {
        // rmcp's table is empty: every recorded session has ended there.
        let owners = SessionOwners::new(Arc::default());
        let owner = owners.owner(&AuthInfo::new(), "t");
        for n in 0..MIN_PRUNE_AT - 1 {
            owners
                .claim(
                    &HeaderMap::new(),
                    &with_session(&format!("s{n}")),
                    owner.clone(),
                )
                .await;
        }
        assert_eq!(owners.len(), MIN_PRUNE_AT - 1);
        owners
            .claim(&HeaderMap::new(), &with_session("last"), owner)
            .await;
        assert_eq!(owners.len(), 0);
    }
}
