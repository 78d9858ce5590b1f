//! The bounded outbound queue of one connection.
//!
//! Handlers, RPC replies and pub/sub deliveries push encoded frames here without waiting;
//! the connection's task drains it into the socket. The slow-reader policy lives here: a
//! push onto a full queue is refused and asks the connection to close with 1008, so a
//! client that does not read can neither grow the server's memory nor make a publisher
//! wait (see the crate docs, "Slow readers").

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use crate::close;
use crate::frame::Frame;

/// Why a frame was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The queue was full: the connection is being closed as a slow consumer.
    Full,
    /// The connection is closing or closed.
    Closed,
}

/// A close the connection's task should perform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CloseRequest {
    pub code: u16,
    pub reason: Cow<'static, str>,
    /// The queue overflowed: the backlog is dropped and the close goes out at once. An
    /// orderly close (a handler's) sends the frames queued before it first.
    pub overflow: bool,
}

/// What the connection's task should do next.
#[derive(Debug)]
pub(crate) enum Ready {
    /// Frames were moved into the caller's buffer.
    Frames,
    /// Close the connection.
    Close(CloseRequest),
}

#[derive(Default)]
struct State {
    queue: VecDeque<Frame>,
    close: Option<CloseRequest>,
    /// Set once the socket is gone: later pushes are refused.
    shut: bool,
}

thread_local! {
    /// The outbox whose connection task is polling that connection's handlers on this
    /// thread (see [`Outbox::driving`]).
    static DRIVING: Cell<*const Outbox> = const { Cell::new(std::ptr::null()) };
}

pub(crate) struct Outbox {
    state: Mutex<State>,
    waker: AtomicWaker,
    capacity: usize,
}

impl Outbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            waker: AtomicWaker::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding this lock; recover the data if that ever changes.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a frame without waiting.
    pub(crate) fn push(&self, frame: Frame) -> Result<(), PushError> {
        let mut state = self.lock();
        if state.shut || state.close.is_some() {
            return Err(PushError::Closed);
        }
        if state.queue.len() >= self.capacity {
            state.queue.clear();
            state.close = Some(CloseRequest {
                code: close::POLICY_VIOLATION,
                reason: Cow::Borrowed("outbound queue full: the client is not reading"),
                overflow: true,
            });
            drop(state);
            self.waker.wake();
            return Err(PushError::Full);
        }
        let was_empty = state.queue.is_empty();
        state.queue.push_back(frame);
        drop(state);
        // The task drains everything at once, so only the first frame needs to wake it, and
        // not even that when the task itself is the pusher (a handler it is polling).
        if was_empty && !self.is_driving() {
            self.waker.wake();
        }
        Ok(())
    }

    /// Runs `poll_handlers` (the connection task polling its own handlers) with pushes to
    /// this outbox not waking the task: an RPC reply would otherwise schedule the task once
    /// more, for nothing. The caller must poll the outbox after `poll_handlers` returns and
    /// before the task sleeps, so frames pushed meanwhile are never left waiting.
    pub(crate) fn driving<R>(&self, poll_handlers: impl FnOnce() -> R) -> R {
        struct Restore(*const Outbox);
        impl Drop for Restore {
            fn drop(&mut self) {
                DRIVING.set(self.0);
            }
        }
        let _restore = Restore(DRIVING.replace(self));
        poll_handlers()
    }

    fn is_driving(&self) -> bool {
        std::ptr::eq(DRIVING.get(), self)
    }

    /// Asks the connection to close; the first request wins.
    pub(crate) fn request_close(&self, request: CloseRequest) {
        let mut state = self.lock();
        if state.shut || state.close.is_some() {
            return;
        }
        state.close = Some(request);
        drop(state);
        self.waker.wake();
    }

    /// Refuses all further frames and drops the backlog: the socket is gone.
    pub(crate) fn shut(&self) {
        let mut state = self.lock();
        state.shut = true;
        state.queue = VecDeque::new();
    }

    /// Moves queued frames into `buf` without waiting; `true` if there were any.
    pub(crate) fn take_into(&self, buf: &mut VecDeque<Frame>) -> bool {
        let mut state = self.lock();
        if state.queue.is_empty() {
            return false;
        }
        std::mem::swap(&mut state.queue, buf);
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Waits for frames or a close request. Frames are swapped into `buf` (which must be
    /// empty), so the queue's allocation is reused and the lock is held only for the swap.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        buf: &mut VecDeque<Frame>,
    ) -> Poll<Ready> {
        self.waker.register(cx.waker());
        let mut state = self.lock();
        let flush_first = state.close.as_ref().is_none_or(|c| !c.overflow);
        if !state.queue.is_empty() && flush_first {
            std::mem::swap(&mut state.queue, buf);
            return Poll::Ready(Ready::Frames);
        }
        if let Some(close) = state.close.take() {
            state.shut = true;
            return Poll::Ready(Ready::Close(close));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::task::noop_waker_ref;
    use std::panic::AssertUnwindSafe;

    fn poll(outbox: &Outbox, buf: &mut VecDeque<Frame>) -> Poll<Ready> {
        outbox.poll_ready(&mut Context::from_waker(noop_waker_ref()), buf)
    }

    #[test]
    fn overflow_drops_the_backlog_and_requests_a_close() {
        let outbox = Outbox::new(2);
        outbox.push(Frame::from_text("1")).unwrap();
        outbox.push(Frame::from_text("2")).unwrap();
        assert_eq!(outbox.push(Frame::from_text("3")), Err(PushError::Full));
        assert_eq!(outbox.push(Frame::from_text("4")), Err(PushError::Closed));
        let mut buf = VecDeque::new();
        match poll(&outbox, &mut buf) {
            Poll::Ready(Ready::Close(c)) => assert_eq!(c.code, close::POLICY_VIOLATION),
            other => panic!("expected a close, got {other:?}"),
        }
        assert!(buf.is_empty());
    }

    #[test]
    fn an_orderly_close_sends_the_backlog_first() {
        let outbox = Outbox::new(8);
        outbox.push(Frame::from_text("1")).unwrap();
        outbox.request_close(CloseRequest {
            code: close::NORMAL,
            reason: "bye".into(),
            overflow: false,
        });
        let mut buf = VecDeque::new();
        assert!(matches!(
            poll(&outbox, &mut buf),
            Poll::Ready(Ready::Frames)
        ));
        assert_eq!(buf.len(), 1);
        buf.clear();
        assert!(matches!(
            poll(&outbox, &mut buf),
            Poll::Ready(Ready::Close(_))
        ));
        assert!(matches!(poll(&outbox, &mut buf), Poll::Pending));
    }

    /// Counts its wake-ups.
    struct CountingWaker(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for CountingWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn pushes_by_the_polling_task_itself_do_not_wake_it() {
        let counter = std::sync::Arc::new(CountingWaker(Default::default()));
        let waker = std::task::Waker::from(std::sync::Arc::clone(&counter));
        let wakes = || counter.0.load(std::sync::atomic::Ordering::SeqCst);
        let outbox = Outbox::new(8);
        let other = Outbox::new(8);
        let mut buf = VecDeque::new();
        assert!(
            outbox
                .poll_ready(&mut Context::from_waker(&waker), &mut buf)
                .is_pending()
        );

        // A handler polled by the connection's task: no wake-up, the frame is still there.
        outbox.driving(|| outbox.push(Frame::from_text("1")).unwrap());
        assert_eq!(wakes(), 0);
        assert!(matches!(
            poll(&outbox, &mut buf),
            Poll::Ready(Ready::Frames)
        ));
        assert_eq!(buf.len(), 1);
        buf.clear();

        // Anyone else (another connection's handler, a spawned task) wakes it.
        assert!(
            outbox
                .poll_ready(&mut Context::from_waker(&waker), &mut buf)
                .is_pending()
        );
        other.driving(|| outbox.push(Frame::from_text("2")).unwrap());
        assert_eq!(wakes(), 1);
        // Driving ends with the closure, even one that panics.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| outbox.driving(|| panic!("boom"))));
        buf.clear();
        assert!(matches!(
            poll(&outbox, &mut buf),
            Poll::Ready(Ready::Frames)
        ));
        assert!(
            outbox
                .poll_ready(&mut Context::from_waker(&waker), &mut buf)
                .is_pending()
        );
        outbox.push(Frame::from_text("3")).unwrap();
        assert_eq!(wakes(), 2);
    }
}
