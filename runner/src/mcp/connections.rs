//! The HTTP server's connections: how many there may be, and how long each
//! may sit without a request.
//!
//! hyper serves each connection; this module watches it. A connection is
//! in one of three phases: idle (no request in flight and nothing received
//! since it opened or since its last response), reading a head (a request
//! has begun to arrive, its head is not complete) or busy (requests in
//! flight, from the end of the head to the end of the response body). Idle
//! for longer than `idle_timeout`, or reading a head for longer than
//! `header_read_timeout`, it is closed; busy, it never is, however long a
//! response streams. A busy connection's request body has a clock of its
//! own (`read_deadline`). A client that does not read its response holds
//! nothing either: the request ends when its response's last frame is
//! handed to hyper, and the connection, idle from then on, is closed after
//! `idle_timeout` or to make room, unsent bytes and all.
//!
//! hyper has a header read timeout of its own, but its clock starts as soon
//! as it waits for a head: right after each response, so it would also
//! close every kept-alive connection after the header timeout. Here the
//! head's clock starts at its first byte.
//!
//! At the bound on connections, a new connection takes the place of the
//! one idle the longest, closed to make room: clients that connect and
//! send nothing cannot crowd out clients that make requests. When every
//! connection is busy, the newcomer waits until one goes idle or closes,
//! and connections behind it wait in the listener's queue.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::limits::Limits;

/// Every live connection, and the permits that bound them.
pub(crate) struct Connections {
    limits: Limits,
    permits: Arc<Semaphore>,
    live: Mutex<HashMap<u64, Arc<Connection>>>,
    next_id: AtomicU64,
    /// Fired whenever a connection goes idle: one may be made room with.
    went_idle: Arc<Notify>,
}

impl Connections {
    pub(crate) fn new(limits: Limits) -> Self {
        Connections {
            limits,
            permits: Arc::new(Semaphore::new(limits.max_connections)),
            live: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            went_idle: Arc::new(Notify::new()),
        }
    }

    /// A place for one more connection: free, or made by closing the
    /// connection idle the longest, or, when every connection is busy, the
    /// first that goes idle or closes.
    pub(crate) async fn admit(self: &Arc<Self>) -> Slot {
        loop {
            let went_idle = self.went_idle.notified();
            tokio::pin!(went_idle);
            // Registered before looking, so that no change is missed.
            went_idle.as_mut().enable();
            if let Ok(permit) = self.permits.clone().try_acquire_owned() {
                return self.register(permit);
            }
            let evicted = self.evict_longest_idle();
            tokio::select! {
                permit = self.permits.clone().acquire_owned() => match permit {
                    Ok(permit) => return self.register(permit),
                    // Never closed; should it be, take no place.
                    Err(_) => std::future::pending::<()>().await,
                },
                // The evicted connection gives its permit back soon.
                () = went_idle, if !evicted => {}
            }
        }
    }

    /// Closes the connection idle the longest, if any is idle; whether one
    /// was.
    pub(crate) fn evict_longest_idle(&self) -> bool {
        let live = lock(&self.live);
        let longest = live
            .values()
            .filter(|connection| !connection.evicted.is_cancelled())
            .filter_map(|connection| Some((connection.idle_since()?, connection)))
            .min_by_key(|(since, _)| *since);
        match longest {
            Some((_, connection)) => {
                connection.evicted.cancel();
                true
            }
            None => false,
        }
    }

    fn register(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Slot {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            phase: Mutex::new(Phase::Idle {
                since: Instant::now(),
            }),
            changed: Notify::new(),
            evicted: CancellationToken::new(),
            went_idle: self.went_idle.clone(),
        });
        lock(&self.live).insert(id, connection.clone());
        Slot {
            id,
            connection,
            limits: self.limits,
            connections: self.clone(),
            _permit: permit,
        }
    }
}

/// One admitted connection's place; given back when dropped.
pub(crate) struct Slot {
    id: u64,
    connection: Arc<Connection>,
    limits: Limits,
    connections: Arc<Connections>,
    _permit: OwnedSemaphorePermit,
}

impl Slot {
    /// What the connection does, for its requests to report on.
    pub(crate) fn connection(&self) -> &Arc<Connection> {
        &self.connection
    }

    /// Resolves when the connection must be closed: idle or reading a head
    /// too long, or evicted to make room; says why.
    pub(crate) async fn ended(&self) -> Ending {
        tokio::select! {
            () = self.connection.evicted.cancelled() => Ending::Evicted,
            ending = self.connection.expired(self.limits) => ending,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.connections.live).remove(&self.id);
    }
}

/// Why a connection is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    Idle,
    SlowHead,
    Evicted,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ending::Idle => "idle for longer than idle_timeout",
            Ending::SlowHead => "request head not received within header_read_timeout",
            Ending::Evicted => "closed to make room for a new connection (max_connections)",
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    Idle {
        since: Instant,
    },
    /// Since when idle, and since when the head has been coming in.
    Head {
        idle_since: Instant,
        since: Instant,
    },
    Busy {
        requests: usize,
    },
}

/// What one connection is doing.
pub(crate) struct Connection {
    phase: Mutex<Phase>,
    /// Fired on every change of phase.
    changed: Notify,
    evicted: CancellationToken,
    went_idle: Arc<Notify>,
}

impl Connection {
    /// Bytes came in: an idle connection starts reading a head.
    fn received(&self) {
        let mut phase = lock(&self.phase);
        if let Phase::Idle { since } = *phase {
            *phase = Phase::Head {
                idle_since: since,
                since: Instant::now(),
            };
            self.changed.notify_waiters();
        }
    }

    /// A request's head is complete: the connection is busy until the
    /// returned value is dropped, at the end of the response.
    pub(crate) fn request(self: &Arc<Self>) -> Request {
        let mut phase = lock(&self.phase);
        *phase = match *phase {
            Phase::Busy { requests } => Phase::Busy {
                requests: requests + 1,
            },
            Phase::Idle { .. } | Phase::Head { .. } => Phase::Busy { requests: 1 },
        };
        self.changed.notify_waiters();
        Request(self.clone())
    }

    /// Since when the connection has had no request in flight.
    fn idle_since(&self) -> Option<Instant> {
        match *lock(&self.phase) {
            Phase::Idle { since }
            | Phase::Head {
                idle_since: since, ..
            } => Some(since),
            Phase::Busy { .. } => None,
        }
    }

    /// Resolves when a clock of the current phase runs out.
    async fn expired(&self, limits: Limits) -> Ending {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let phase = *lock(&self.phase);
            let (deadline, ending) = match phase {
                Phase::Idle { since } => (since + limits.idle_timeout, Ending::Idle),
                Phase::Head { since, .. } => (since + limits.header_read_timeout, Ending::SlowHead),
                Phase::Busy { .. } => {
                    changed.await;
                    continue;
                }
            };
            tokio::select! {
                // Checked again when the clock runs out, in the same poll:
                // a request that began meanwhile has changed the phase.
                () = tokio::time::sleep_until(deadline) => {
                    let now = *lock(&self.phase);
                    if same_phase(now, phase) {
                        return ending;
                    }
                }
                () = changed => {}
            }
        }
    }
}

fn same_phase(a: Phase, b: Phase) -> bool {
    match (a, b) {
        (Phase::Idle { since: a }, Phase::Idle { since: b })
        | (Phase::Head { since: a, .. }, Phase::Head { since: b, .. }) => a == b,
        _ => false,
    }
}

/// A request in flight on a connection; the connection goes idle when the
/// last one is dropped.
pub(crate) struct Request(Arc<Connection>);

impl Drop for Request {
    fn drop(&mut self) {
        let connection = &self.0;
        let mut phase = lock(&connection.phase);
        if let Phase::Busy { requests } = *phase {
            *phase = if requests > 1 {
                Phase::Busy {
                    requests: requests - 1,
                }
            } else {
                Phase::Idle {
                    since: Instant::now(),
                }
            };
        }
        let idle = matches!(*phase, Phase::Idle { .. });
        drop(phase);
        connection.changed.notify_waiters();
        if idle {
            connection.went_idle.notify_waiters();
        }
    }
}

/// A connection's stream, telling the connection when bytes come in.
pub(crate) struct Watched<T> {
    io: T,
    connection: Arc<Connection>,
}

impl<T> Watched<T> {
    pub(crate) fn new(io: T, connection: Arc<Connection>) -> Self {
        Watched { io, connection }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.connection.received();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// The tables hold no invariant a panic could break halfway.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limits(header_read_timeout: Duration, idle_timeout: Duration) -> Limits {
        Limits {
            header_read_timeout,
            idle_timeout,
            ..Limits::default()
        }
    }

    #[tokio::test]
    async fn a_heads_clock_starts_at_its_first_byte() {
        // Idle for longer than the header timeout, far from the idle one:
        // the head that then begins still has its time.
        let header = Duration::from_secs(1);
        let connections = Arc::new(Connections::new(limits(header, Duration::from_secs(600))));
        let slot = connections.admit().await;
        tokio::time::sleep(header + header / 5).await;
        slot.connection().received();
        let reading = tokio::time::timeout(header / 10, slot.ended()).await;
        assert!(reading.is_err(), "a fresh head timed out: {reading:?}");
        assert_eq!(slot.ended().await, Ending::SlowHead);
    }

    #[tokio::test]
    async fn the_idle_clock_runs_between_requests_only() {
        let short = Duration::from_millis(50);
        let connections = Arc::new(Connections::new(limits(short, short)));
        let slot = connections.admit().await;
        let first = slot.connection().request();
        let second = slot.connection().request();
        drop(first);
        let busy = tokio::time::timeout(short * 6, slot.ended()).await;
        assert!(busy.is_err(), "a busy connection ended: {busy:?}");
        drop(second);
        assert_eq!(slot.ended().await, Ending::Idle);
    }

    #[tokio::test]
    async fn room_is_made_with_the_longest_idle_connection_never_a_busy_one() {
        let long = Duration::from_secs(600);
        let connections = Arc::new(Connections::new(Limits {
            max_connections: 3,
            ..limits(long, long)
        }));
        let oldest = connections.admit().await;
        let busy = connections.admit().await;
        let _request = busy.connection().request();
        let newest = connections.admit().await;

        assert!(connections.evict_longest_idle());
        assert_eq!(oldest.ended().await, Ending::Evicted);
        drop(oldest);
        assert!(connections.evict_longest_idle());
        assert_eq!(newest.ended().await, Ending::Evicted);
        drop(newest);
        assert!(!connections.evict_longest_idle());
        let still = tokio::time::timeout(Duration::from_millis(50), busy.ended()).await;
        assert!(still.is_err(), "the busy connection ended: {still:?}");
    }
}
