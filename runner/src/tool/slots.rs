//! A runner's bound on its user's tools running at once ([`Slots`]), and
//! the slot one call holds while its tool runs ([`Slot`]).
//!
//! The bound travels with the calls ([`ToolCall`](super::ToolCall) carries a
//! [`Slot`]), so that calls made from code share it with the model's own:
//! a program run by one of the runner's calls (code mode) starts its calls
//! from the toolset, far from the runner.
//!
//! A call that runs a program gives its slot back before the program starts
//! ([`Slot::leave`]): it only waits for its program's calls, which take slots
//! of their own. Were it to keep its slot, `n` such calls would hold every
//! slot of a bound of `n` while their programs' calls wait for one, forever.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many tools may run at once, whoever called them: the model directly,
/// code in the API's container, or a program run by one of the calls.
#[derive(Clone)]
pub(crate) struct Slots(Arc<Semaphore>);

impl Slots {
    /// A bound of `n` tools at once (at least 1).
    pub(crate) fn new(n: usize) -> Self {
        Slots(Arc::new(Semaphore::new(n.clamp(1, Semaphore::MAX_PERMITS))))
    }
}

impl fmt::Debug for Slots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slots")
            .field("free", &self.0.available_permits())
            .finish()
    }
}

/// The slot of one call: empty until its tool starts, held while it runs,
/// given back when it returns, or before, by a tool that runs a program.
pub(crate) struct Slot {
    slots: Slots,
    held: Mutex<Option<OwnedSemaphorePermit>>,
}

impl Slot {
    /// A slot, not yet taken, under `slots`.
    pub(crate) fn new(slots: Slots) -> Self {
        Slot {
            slots,
            held: Mutex::new(None),
        }
    }

    /// The bound this slot is taken under; a program's calls share it.
    #[cfg(feature = "code-mode")]
    pub(crate) fn slots(&self) -> &Slots {
        &self.slots
    }

    /// Waits for a free slot and takes it; it is given back when the guard
    /// is dropped, unless [`leave`](Self::leave) gave it back first.
    pub(crate) async fn take(&self) -> Taken<'_> {
        // The semaphore is never closed; were it, the call would run unbounded
        // rather than not at all.
        let permit = Arc::clone(&self.slots.0).acquire_owned().await.ok();
        *self.lock() = permit;
        Taken(self)
    }

    /// Gives the slot back while the call goes on: for a call that only
    /// waits for calls that take slots of their own.
    pub(crate) fn leave(&self) {
        drop(self.lock().take());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<OwnedSemaphorePermit>> {
        // Only a permit is kept under the lock: a panic cannot leave it half set.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("held", &self.lock().is_some())
            .finish()
    }
}

/// A slot taken for a call's tool; dropping it gives the slot back.
pub(crate) struct Taken<'a>(&'a Slot);

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}
