//! [`Correlation`]: one request's correlation id, whether its one terminal frame went out,
//! and whether the client cancelled it.

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// The correlation of a request with its answer: its id, whether the one terminal frame
/// (reply or error) has gone out, and whether the client cancelled it (`$ws:abort`).
#[derive(Debug)]
pub(crate) struct Correlation {
    id: String,
    answered: AtomicBool,
    cancelled: AtomicBool,
    /// Wakes whoever waits for the cancellation: the guard that drops the handler, and
    /// tasks that watch [`Context::cancelled`](crate::Context::cancelled). `Notify` takes
    /// no allocation of its own.
    cancel: Notify,
}

impl Correlation {
    pub(crate) fn new(id: String) -> Self {
        Self {
            id,
            answered: AtomicBool::new(false),
            cancelled: AtomicBool::new(false),
            cancel: Notify::new(),
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn is_answered(&self) -> bool {
        self.answered.load(Ordering::Acquire)
    }

    /// Claims the right to send the terminal frame; `true` exactly once.
    pub(crate) fn claim(&self) -> bool {
        !self.answered.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Marks the request cancelled and wakes everyone waiting for that.
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.cancel.notify_waiters();
    }

    /// Resolves once the request is cancelled.
    pub(crate) async fn cancelled(&self) {
        let notified = self.cancel.notified();
        let mut notified = pin!(notified);
        // Registered before the flag is read, so a `cancel` in between still wakes us.
        notified.as_mut().enable();
        if self.is_cancelled() {
            return;
        }
        notified.await;
    }
}
