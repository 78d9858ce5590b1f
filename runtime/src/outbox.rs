//! The outbound queue of one connection, bounded in bytes, and the outbound policy that
//! tells a burst from a client that stopped reading (see the crate docs, "Slow readers").
//!
//! Handlers, RPC replies and pub/sub deliveries push encoded frames here without waiting;
//! the connection's task drains it into the socket and reports every frame it wrote
//! ([`Outbox::sent`]). With `L` the configured limit:
//!
//! - Past `L / 2` queued bytes the queue is congested: a handler of another connection that
//!   publishes into it has its own connection's reading paused until the queue is below
//!   `L / 4` (push back on the source). A queue pushes back for at most the grace period
//!   per congestion, so a reader that drains just enough to stay congested cannot stall
//!   its publishers for good.
//! - At `L` bytes the queue is full. A full queue whose connection has written nothing for
//!   the grace period is closed with 1008 (the driver checks while its write waits).
//! - Past `2 L` bytes the connection is closed with 1008 at once and its backlog dropped:
//!   the bound on memory, whatever the client does.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::task::AtomicWaker;
use tokio::time::Instant;

use crate::close;
use crate::frame::Frame;

/// Why a frame was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The queue went past its hard bound: the connection is being closed.
    Full,
    /// The connection is closing or closed.
    Closed,
}

/// What a push tells its caller about the queue it pushed into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pressure {
    /// Below the congestion mark (or pushing back no longer).
    Normal,
    /// Congested: whoever published into it should slow down.
    High,
}

/// The byte marks of one queue, derived from the configured limit (kept as the limit alone:
/// every connection holds its own copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// A full queue that does not drain for `grace` is closed.
    pub full: usize,
    /// How long a full queue may go without a write, and how long a congested queue
    /// pushes back.
    pub grace: Duration,
}

impl Limits {
    pub(crate) fn new(limit: usize, grace: Duration) -> Self {
        // Deadlines are `Instant`s, whose arithmetic panics far out: a year is for ever.
        const YEAR: Duration = Duration::from_secs(365 * 86_400);
        Self {
            full: limit.max(1),
            grace: grace.min(YEAR),
        }
    }

    /// Publishers are pushed back above this.
    pub(crate) fn congested(&self) -> usize {
        self.full / 2
    }

    /// ... until the queue is below this.
    pub(crate) fn relieved(&self) -> usize {
        self.full / 4
    }

    /// Past this the connection is closed at once.
    pub(crate) fn hard(&self) -> usize {
        self.full.saturating_mul(2)
    }
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
    /// The server is shutting down: close once the running handlers are done.
    Shutdown,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Frame>,
    /// Boxed: rare, and every connection holds the room for it.
    close: Option<Box<CloseRequest>>,
    /// Set once the socket is gone: later pushes are refused.
    shut: bool,
    /// When the queue last went past the congestion mark; cleared when it drains below the
    /// relief mark.
    congested_since: Option<Instant>,
    /// The tasks of publishers paused by this queue, woken when it is relieved.
    paused: Vec<Waker>,
    /// The server asked the connection to shut down, and its task has not been told yet.
    shutdown: bool,
}

thread_local! {
    /// The outbox whose connection task is polling that connection's handlers on this
    /// thread (see [`Outbox::driving`]).
    static DRIVING: Cell<*const Outbox> = const { Cell::new(std::ptr::null()) };
    /// Congested queues the handlers being polled published into.
    static CONGESTED: RefCell<Vec<Arc<Outbox>>> = const { RefCell::new(Vec::new()) };
}

pub(crate) struct Outbox {
    state: Mutex<State>,
    waker: AtomicWaker,
    /// Bytes pushed and not yet written to the socket: queued, or taken by the connection's
    /// task and being written.
    bytes: AtomicUsize,
    limits: Limits,
}

impl Outbox {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            state: Mutex::new(State::default()),
            waker: AtomicWaker::new(),
            bytes: AtomicUsize::new(0),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding this lock; recover the data if that ever changes.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Bytes queued and not yet written.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::SeqCst)
    }

    /// Wakes `waker` at the next push that needs the connection's task: the first frame
    /// of an empty queue, the queue becoming full, a close request.
    pub(crate) fn register(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    /// Whether the queue went past its hard bound: what is being written no longer
    /// matters, the connection is to be closed at once.
    pub(crate) fn overflowed(&self) -> bool {
        self.lock()
            .close
            .as_ref()
            .is_some_and(|close| close.overflow)
    }

    /// Queues a frame without waiting.
    pub(crate) fn push(&self, frame: Frame) -> Result<Pressure, PushError> {
        let len = frame.len();
        let mut state = self.lock();
        if state.shut || state.close.is_some() {
            return Err(PushError::Closed);
        }
        let before = self.bytes.load(Ordering::SeqCst);
        let after = before.saturating_add(len);
        if after > self.limits.hard() {
            let dropped: usize = state.queue.iter().map(Frame::len).sum();
            state.queue = VecDeque::new();
            self.bytes.fetch_sub(dropped, Ordering::SeqCst);
            state.close = Some(Box::new(CloseRequest {
                code: close::POLICY_VIOLATION,
                reason: Cow::Borrowed("outbound queue full: the client is not keeping up"),
                overflow: true,
            }));
            let paused = std::mem::take(&mut state.paused);
            drop(state);
            self.waker.wake();
            paused.into_iter().for_each(Waker::wake);
            return Err(PushError::Full);
        }
        let was_empty = state.queue.is_empty();
        state.queue.push_back(frame);
        self.bytes.fetch_add(len, Ordering::SeqCst);
        let pressure = if after > self.limits.congested() {
            let now = Instant::now();
            let since = *state.congested_since.get_or_insert(now);
            if now < since + self.limits.grace {
                Pressure::High
            } else {
                Pressure::Normal
            }
        } else {
            Pressure::Normal
        };
        drop(state);
        // The task drains everything at once, so only the first frame needs to wake it, and
        // not even that when the task itself is the pusher (a handler it is polling). A
        // queue that just became full wakes it too: a task waiting on a blocked write then
        // starts timing the grace period.
        let became_full = before < self.limits.full && after >= self.limits.full;
        if (was_empty && !self.is_driving()) || became_full {
            self.waker.wake();
        }
        Ok(pressure)
    }

    /// Counts `len` bytes as written to the socket: the connection made progress. Wakes the
    /// publishers paused by this queue once it is below the relief mark.
    pub(crate) fn sent(&self, len: usize) {
        let before = self.bytes.fetch_sub(len, Ordering::SeqCst);
        if before >= self.limits.relieved() && before.saturating_sub(len) < self.limits.relieved() {
            self.relieve();
        }
    }

    fn relieve(&self) {
        let paused = {
            let mut state = self.lock();
            state.congested_since = None;
            std::mem::take(&mut state.paused)
        };
        paused.into_iter().for_each(Waker::wake);
    }

    /// Whether a publisher paused by this queue may go on; if not, `cx` is woken once it
    /// may (the queue drained, or closed). The caller times the end of the push back
    /// itself ([`congestion_ends`](Self::congestion_ends)).
    pub(crate) fn poll_relieved(&self, cx: &Context<'_>, now: Instant) -> bool {
        let mut state = self.lock();
        let relieved = state.shut
            || state.close.is_some()
            || self.bytes.load(Ordering::SeqCst) < self.limits.relieved()
            || state
                .congested_since
                .is_none_or(|since| now >= since + self.limits.grace);
        if !relieved && !state.paused.iter().any(|w| w.will_wake(cx.waker())) {
            state.paused.push(cx.waker().clone());
        }
        relieved
    }

    /// When this queue stops pushing back even if it does not drain.
    pub(crate) fn congestion_ends(&self) -> Option<Instant> {
        self.lock()
            .congested_since
            .map(|since| since + self.limits.grace)
    }

    /// Runs `poll_handlers` (the connection task polling its own handlers) with pushes to
    /// this outbox not waking the task: an RPC reply would otherwise schedule the task once
    /// more, for nothing. The caller must poll the outbox after `poll_handlers` returns and
    /// before the task sleeps, so frames pushed meanwhile are never left waiting.
    ///
    /// Congested queues of other connections that the handlers published into are added to
    /// `congested`: the caller pauses its reading until they are relieved.
    pub(crate) fn driving<R>(
        &self,
        congested: &mut Vec<Arc<Outbox>>,
        poll_handlers: impl FnOnce() -> R,
    ) -> R {
        struct Restore(*const Outbox);
        impl Drop for Restore {
            fn drop(&mut self) {
                DRIVING.set(self.0);
                // Nothing collected here may be blamed on the next connection polled on
                // this thread, even after a panic.
                CONGESTED.with_borrow_mut(Vec::clear);
            }
        }
        CONGESTED.with_borrow_mut(Vec::clear);
        let restore = Restore(DRIVING.replace(self));
        let result = poll_handlers();
        CONGESTED.with_borrow_mut(|collected| {
            for outbox in collected.drain(..) {
                if !congested.iter().any(|o| Arc::ptr_eq(o, &outbox)) {
                    congested.push(outbox);
                }
            }
        });
        drop(restore);
        result
    }

    fn is_driving(&self) -> bool {
        std::ptr::eq(DRIVING.get(), self)
    }

    /// Records that the handler being polled on this thread published into this congested
    /// queue, so its connection pauses reading (see [`driving`](Self::driving)). Nothing
    /// happens outside a handler (a spawned task, another instance's delivery), or when the
    /// queue is the publisher's own: its reading already pauses on its own queue.
    pub(crate) fn push_back_on_publisher(self: &Arc<Self>) {
        let driving = DRIVING.get();
        if driving.is_null() || std::ptr::eq(driving, Arc::as_ptr(self)) {
            return;
        }
        CONGESTED.with_borrow_mut(|collected| {
            if !collected.iter().any(|o| Arc::ptr_eq(o, self)) {
                collected.push(Arc::clone(self));
            }
        });
    }

    /// Asks the connection to close; the first request wins.
    pub(crate) fn request_close(&self, request: CloseRequest) {
        let mut state = self.lock();
        if state.shut || state.close.is_some() {
            return;
        }
        state.close = Some(Box::new(request));
        let paused = std::mem::take(&mut state.paused);
        drop(state);
        self.waker.wake();
        paused.into_iter().for_each(Waker::wake);
    }

    /// Refuses all further frames and drops the backlog: the socket is gone.
    pub(crate) fn shut(&self) {
        let paused = {
            let mut state = self.lock();
            state.shut = true;
            state.queue = VecDeque::new();
            state.congested_since = None;
            self.bytes.store(0, Ordering::SeqCst);
            std::mem::take(&mut state.paused)
        };
        paused.into_iter().for_each(Waker::wake);
    }

    /// Tells the connection's task that the server is shutting down (see
    /// [`Ready::Shutdown`]). Through the queue the task waits on anyway, so that a
    /// connection holds no wait of its own for a signal it gets once.
    pub(crate) fn request_shutdown(&self) {
        self.lock().shutdown = true;
        self.waker.wake();
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

    /// How many frames are queued (not counting those being written).
    #[cfg(test)]
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
            return Poll::Ready(Ready::Close(*close));
        }
        if std::mem::take(&mut state.shutdown) {
            return Poll::Ready(Ready::Shutdown);
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

    /// A queue full at `limit` bytes, with a grace period of a second.
    fn outbox(limit: usize) -> Outbox {
        Outbox::new(Limits::new(limit, Duration::from_secs(1)))
    }

    #[test]
    fn marks_derive_from_the_limit() {
        let limits = Limits::new(1024, Duration::MAX);
        assert_eq!(
            (
                limits.relieved(),
                limits.congested(),
                limits.full,
                limits.hard()
            ),
            (256, 512, 1024, 2048)
        );
        assert!(limits.grace <= Duration::from_secs(366 * 86_400));
    }

    #[test]
    fn past_twice_the_limit_the_backlog_is_dropped_and_a_close_requested() {
        // Full at one byte: two one-byte frames fit under the hard bound, a third does not.
        let outbox = outbox(1);
        assert_eq!(outbox.push(Frame::from_text("1")), Ok(Pressure::High));
        outbox.push(Frame::from_text("2")).unwrap();
        assert_eq!(outbox.bytes(), 2);
        assert_eq!(outbox.push(Frame::from_text("3")), Err(PushError::Full));
        assert_eq!(outbox.bytes(), 0);
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
        let outbox = outbox(8);
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
        let outbox = outbox(8);
        let other = super::tests::outbox(8);
        let mut buf = VecDeque::new();
        assert!(
            outbox
                .poll_ready(&mut Context::from_waker(&waker), &mut buf)
                .is_pending()
        );

        // A handler polled by the connection's task: no wake-up, the frame is still there.
        outbox.driving(&mut Vec::new(), || {
            outbox.push(Frame::from_text("1")).unwrap()
        });
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
        other.driving(&mut Vec::new(), || {
            outbox.push(Frame::from_text("2")).unwrap()
        });
        assert_eq!(wakes(), 1);
        // Driving ends with the closure, even one that panics.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
            outbox.driving(&mut Vec::new(), || panic!("boom"))
        }));
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

    #[test]
    fn written_frames_leave_the_count_and_relieve_paused_publishers() {
        let counter = std::sync::Arc::new(CountingWaker(Default::default()));
        let waker = std::task::Waker::from(std::sync::Arc::clone(&counter));
        let cx = Context::from_waker(&waker);
        let outbox = outbox(64);
        let frame = Frame::from_text("x".repeat(10));
        // Three frames (30 bytes) stay under the congestion mark (32); the fourth crosses it.
        for _ in 0..3 {
            assert_eq!(outbox.push(frame.clone()), Ok(Pressure::Normal));
        }
        assert_eq!(outbox.push(frame.clone()), Ok(Pressure::High));
        let now = Instant::now();
        assert!(!outbox.poll_relieved(&cx, now));
        assert!(outbox.congestion_ends().is_some());
        let mut buf = VecDeque::new();
        assert!(outbox.take_into(&mut buf));
        // Taken but not yet written: still counted.
        assert_eq!(outbox.bytes(), 40);
        outbox.sent(10);
        outbox.sent(10);
        assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 0);
        // Below the relief mark (16): the paused publisher is woken, and may go on.
        outbox.sent(10);
        assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(outbox.poll_relieved(&cx, now));
        assert_eq!(outbox.congestion_ends(), None);
    }

    #[test]
    fn a_congested_queue_pushes_back_for_the_grace_period_only() {
        let outbox = outbox(64);
        let big = Frame::from_text("x".repeat(40));
        assert_eq!(outbox.push(big.clone()), Ok(Pressure::High));
        let ends = outbox.congestion_ends().unwrap();
        let cx = Context::from_waker(noop_waker_ref());
        assert!(!outbox.poll_relieved(&cx, ends - Duration::from_millis(1)));
        assert!(outbox.poll_relieved(&cx, ends));
        // A closing connection pushes back no more either.
        let closing = super::tests::outbox(64);
        closing.push(big).unwrap();
        closing.request_close(CloseRequest {
            code: close::NORMAL,
            reason: "bye".into(),
            overflow: false,
        });
        assert!(closing.poll_relieved(&cx, Instant::now()));
    }

    #[test]
    fn publishing_into_another_congested_queue_pauses_the_publisher() {
        let publisher = outbox(64);
        let subscriber = std::sync::Arc::new(outbox(64));
        let frame = Frame::from_text("x".repeat(40));
        let mut congested = Vec::new();
        publisher.driving(&mut congested, || {
            assert_eq!(subscriber.push(frame.clone()), Ok(Pressure::High));
            subscriber.push_back_on_publisher();
            subscriber.push_back_on_publisher();
        });
        assert_eq!(congested.len(), 1);
        assert!(std::sync::Arc::ptr_eq(&congested[0], &subscriber));
        // Outside a handler (a spawned task, a broker delivery) nobody is paused, and a
        // later connection polled on this thread inherits nothing.
        subscriber.push_back_on_publisher();
        let mut later = Vec::new();
        publisher.driving(&mut later, || ());
        assert!(later.is_empty());
        // Its own queue never pauses a connection through this path.
        let own = std::sync::Arc::new(outbox(64));
        own.driving(&mut later, || own.push_back_on_publisher());
        assert!(later.is_empty());
    }
}
