//! The single task that serves a connection: it reads frames, dispatches them, runs their
//! handlers, writes the outbound queue, and keeps the connection alive.
//!
//! Handlers of a connection run inside that connection's task (polled from a
//! `FuturesUnordered`), not in tasks of their own: one task and a few small allocations per
//! connection, frames dispatched in arrival order, and handlers that are cancelled with the
//! connection rather than outliving it unbounded.
//!
//! Reading pauses while the connection has `max_in_flight` handlers running, while its own
//! outbound queue is congested, or while a queue its handlers published into is (push
//! back, see `outbox`), so a flood of frames is absorbed by TCP flow control instead of
//! memory.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, sleep_until, timeout, timeout_at};
use twinwire::envelope::{HEARTBEAT_TYPE, RPC_ABORT_TYPE, check_type_name};
use twinwire::{ErrorCode, ErrorPayload, Meta};

use crate::auth::UpgradeRequest;
use crate::close;
use crate::conn_state::ConnState;
use crate::connection::{CloseInfo, ConnectionId};
use crate::context::Context;
use crate::correlation::Correlation;
use crate::event::{ErrorEvent, ErrorKind};
use crate::frame::{self, Frame, HEARTBEAT_ACK};
use crate::outbox::{CloseRequest, Outbox, Ready};
use crate::rate::{Limiter, Verdict};
use crate::route::{Call, InFlight, panic_message};
use crate::router::Routes;
use crate::server_state::{ConnectionSlot, ServerState};
use crate::telemetry;
use crate::websocket::{Message as WsMessage, ReadError, Socket, Violation};

/// The span of one connection, in tower-http's style: its id, the peer and the path. Without a subscriber it is disabled and costs a level check.
pub(crate) fn connection_span(id: ConnectionId, request: &UpgradeRequest) -> tracing::Span {
    tracing::debug_span!(
        "twinwire.connection",
        conn.id = id.get(),
        peer = request.remote_addr().map(tracing::field::display),
        path = %request.uri().path(),
    )
}

/// The running handlers. The set is created with the first one: a connection that never
/// sends a request keeps no allocation for it.
#[derive(Default)]
struct Running(Option<FuturesUnordered<InFlight>>);

impl Running {
    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, FuturesUnordered::len)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&mut self, handler: InFlight) {
        self.0
            .get_or_insert_with(FuturesUnordered::new)
            .push(handler);
    }

    /// The next handler to finish; `None` when none is running.
    fn poll_next_unpin(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Option<Arc<Correlation>>>> {
        match &mut self.0 {
            Some(set) => set.poll_next_unpin(cx),
            None => Poll::Ready(None),
        }
    }

    async fn next(&mut self) -> Option<Option<Arc<Correlation>>> {
        poll_fn(|cx| self.poll_next_unpin(cx)).await
    }
}

/// The correlated requests whose handlers are running. A connection runs at most
/// `max_in_flight` handlers (64 by default), usually one or two, so a short list searched
/// by id costs less than hashing every client-chosen id.
#[derive(Default)]
struct PendingRequests(Vec<Arc<Correlation>>);

impl PendingRequests {
    /// The request in flight with this id.
    fn get(&self, id: &str) -> Option<&Correlation> {
        self.0.iter().find(|c| c.id() == id).map(|c| &**c)
    }

    /// Tracks `correlation`, in place of an answered request with the same id.
    fn insert(&mut self, correlation: Arc<Correlation>) {
        match self.0.iter_mut().find(|c| c.id() == correlation.id()) {
            Some(slot) => *slot = correlation,
            None => self.0.push(correlation),
        }
    }

    /// Forgets `correlation`, unless a newer request took over its id.
    fn remove(&mut self, correlation: &Arc<Correlation>) {
        if let Some(index) = self.0.iter().position(|c| Arc::ptr_eq(c, correlation)) {
            self.0.swap_remove(index);
        }
    }
}

/// Serves a freshly upgraded socket until the connection ends. Run it inside
/// [`connection_span`]: the span is entered by the caller rather than here, because wrapping
/// the driver in an instrumented block of its own would store it twice in this future (a
/// moved-from local keeps its place in an async function's state), about 1 KiB per
/// connection. For the same reason the driver is built before the future: an `async fn`
/// keeps its arguments (the socket, the request) in its state for its whole life.
pub(crate) fn run<D, S>(
    id: ConnectionId,
    server: Arc<ServerState>,
    routes: Arc<Routes<D>>,
    socket: Socket<S>,
    data: D,
    request: UpgradeRequest,
    slot: ConnectionSlot,
) -> impl Future<Output = ()> + Send + 'static
where
    D: Send + Sync + 'static,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limiter = server
        .config
        .rate_limit
        .map(|_| Limiter::new(Instant::now()));
    let conn = Arc::new(ConnState::new(id, server, data, request));
    conn.server.register(id, Arc::clone(&conn.outbox));
    let mut driver = Driver {
        conn,
        routes,
        socket,
        in_flight: Running::default(),
        fresh: None,
        pending: PendingRequests::default(),
        buf: VecDeque::new(),
        last_seen: Instant::now(),
        ping_sent: None,
        limiter,
        own_congestion: false,
        paused_by: Vec::new(),
        newly_congested: Vec::new(),
    };
    // Nothing is kept across the awaits below that the driver holds already (the id, the
    // gauge's handle): 8 more bytes here make every connection's task 128 bytes larger, the
    // runtime's task allocations being rounded to cache lines.
    async move {
        metrics::gauge!(telemetry::CONNECTIONS_OPEN).increment(1.0);
        tracing::debug!("connection opened");
        driver.open().await;
        let close = driver.serve().await;
        tracing::debug!(close.code = close.code, close.reason = %close.reason, "connection closed");
        let server = Arc::clone(&driver.conn.server);
        let id = driver.conn.id();
        Box::pin(driver.finish(close)).await;
        metrics::gauge!(telemetry::CONNECTIONS_OPEN).decrement(1.0);
        server.unregister(id);
        drop(slot);
    }
}

/// The connection's task: everything only it touches, so none of it needs a lock.
struct Driver<D, S> {
    conn: Arc<ConnState<D>>,
    routes: Arc<Routes<D>>,
    socket: Socket<S>,
    /// The running handlers, polled by this task (see the module docs).
    in_flight: Running,
    /// The handler `dispatch` just started, not polled yet (see `poll_fresh`).
    fresh: Option<InFlight>,
    /// Correlated frames whose handlers are running, for duplicate ids and `$ws:abort`.
    pending: PendingRequests,
    /// Frames taken from the outbox, being written.
    buf: VecDeque<Frame>,
    /// When the client last sent anything.
    last_seen: Instant,
    /// When the ping that awaits an answer went out.
    ping_sent: Option<Instant>,
    /// The configured rate limit; `None` without one, or once the client went past it.
    limiter: Option<Limiter>,
    /// This connection's own queue went past its congestion mark and has not drained below
    /// its relief mark yet: reading pauses.
    own_congestion: bool,
    /// Congested queues of other connections that this connection's handlers published
    /// into: reading pauses until each is relieved (push back on the source).
    paused_by: Vec<Arc<Outbox>>,
    /// Filled while polling the handlers, moved into `paused_by` after.
    newly_congested: Vec<Arc<Outbox>>,
}

/// What is left to do after a read, once the message is handled.
enum AfterRead {
    /// Poll the handler the message started, if any.
    Done,
    /// Write the pong the socket queued.
    Flush,
    /// The client closed: write the echo of its close frame.
    Closed(CloseInfo),
    /// The client broke the protocol: close with the matching code.
    Failed(ReadError),
    /// The stream ended without a close frame.
    Ended(CloseInfo),
}

/// What is left after refusing `message` over the rate limit: a refused ping is not handled,
/// but its pong, which the socket queued when it read it, still goes out (RFC 6455).
fn after_refusal(message: &WsMessage) -> AfterRead {
    if matches!(message, WsMessage::Ping(_)) {
        AfterRead::Flush
    } else {
        AfterRead::Done
    }
}

/// What the liveness timer asks for.
enum Liveness {
    Wait(Instant),
    Ping(Instant),
    Dead,
}

impl<D, S> Driver<D, S>
where
    D: Send + Sync + 'static,
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn context(&self) -> Context<D> {
        Context::new(Arc::clone(&self.conn), None, Meta::default(), None)
    }

    async fn open(&mut self) {
        let routes = Arc::clone(&self.routes);
        for hook in &routes.on_open {
            let outcome = AssertUnwindSafe(hook(self.context())).catch_unwind().await;
            if let Err(panic) = outcome {
                self.report_panic("on_open", panic.as_ref());
            }
        }
    }

    fn report_panic(&self, hook: &str, panic: &(dyn std::any::Any + Send)) {
        let error = ErrorPayload::new(ErrorCode::Internal, format!("the {hook} hook panicked"));
        self.conn.server.errors.report(
            ErrorEvent::new(ErrorKind::Panic, error)
                .on(self.conn.id(), None)
                .because(panic_message(panic)),
        );
    }

    /// Runs the connection until it ends, returning how.
    async fn serve(&mut self) -> CloseInfo {
        if self.conn.server.is_shutting_down() {
            return Box::pin(self.shut_down()).await;
        }
        // Settings are read from the config where they are used rather than copied into
        // locals: a local that lives across an await takes room in every idle connection.
        // When the liveness check is due (never without pings).
        let mut check_at = match self.ping() {
            Some((interval, _)) => after(self.last_seen, interval),
            None => after(Instant::now(), Duration::MAX),
        };
        // One timer for the liveness check and the end of a push back, whichever is first:
        // a timer is a tenth of an idle connection's task.
        let timer = tokio::time::sleep_until(check_at);
        tokio::pin!(timer);
        loop {
            // Hysteresis: paused above the congestion mark, reading again below the relief
            // mark, so a queue near one mark does not toggle reading on every frame.
            let queued = self.conn.outbox.bytes();
            let limits = self.conn.outbox.limits();
            if queued > limits.congested() {
                self.own_congestion = true;
            } else if queued < limits.relieved() {
                self.own_congestion = false;
            }
            for outbox in self.newly_congested.drain(..) {
                if !self.paused_by.iter().any(|o| Arc::ptr_eq(o, &outbox)) {
                    self.paused_by.push(outbox);
                }
            }
            // A congested queue pushes back for a bounded time: wake up when the first one
            // stops, even if it never drains.
            let push_back_ends = self
                .paused_by
                .iter()
                .filter_map(|o| o.congestion_ends())
                .min();
            let wake_at = push_back_ends.map_or(check_at, |end| end.min(check_at));
            if timer.deadline() != wake_at {
                timer.as_mut().reset(wake_at);
            }
            let can_read = self.in_flight.len() < self.conn.server.config.max_in_flight
                && !self.own_congestion
                && self.paused_by.is_empty();
            tokio::select! {
                biased;
                // Handlers before the outbox: what they push while polled here does not wake
                // this task (see `Outbox::driving`), so the outbox must be looked at after.
                Some(correlation) = poll_fn(|cx| {
                    self.conn
                        .outbox
                        .driving(&mut self.newly_congested, || self.in_flight.poll_next_unpin(cx))
                }), if !self.in_flight.is_empty() => {
                    self.settle(correlation);
                }
                ready = poll_fn(|cx| self.conn.outbox.poll_ready(cx, &mut self.buf)) => {
                    match ready {
                        Ready::Frames => {
                            if let Err(info) = self.write_buffered().await {
                                return info;
                            }
                        }
                        Ready::Shutdown => return Box::pin(self.shut_down()).await,
                        Ready::Close(request) => {
                            if request.overflow {
                                metrics::counter!(telemetry::QUEUE_FULL_CLOSES).increment(1);
                                self.conn.report(
                                    ErrorKind::SlowConsumer,
                                    None,
                                    ErrorPayload::new(ErrorCode::ResourceExhausted, request.reason.clone()),
                                );
                            }
                            return Box::pin(self.close(request.code, request.reason)).await;
                        }
                    }
                }
                () = poll_fn(|cx| {
                    let now = Instant::now();
                    self.paused_by.retain(|outbox| !outbox.poll_relieved(cx, now));
                    if self.paused_by.is_empty() { Poll::Ready(()) } else { Poll::Pending }
                }), if !self.paused_by.is_empty() => {}
                message = poll_fn(|cx| self.socket.poll_next(cx)), if can_read => {
                    let awaiting_pong = self.ping_sent.is_some();
                    let next = self.receive(message);
                    if !matches!(next, AfterRead::Done) {
                        if let Some(info) = Box::pin(self.finish_read(next)).await {
                            return info;
                        }
                    } else if self.fresh.is_some() {
                        poll_fn(|cx| {
                            self.poll_fresh(cx);
                            Poll::Ready(())
                        })
                        .await;
                    }
                    // The timer waits for the ping's timeout; the answer came, so schedule
                    // the next ping instead. Other traffic leaves the timer alone: it
                    // re-checks `last_seen` when it fires.
                    if let (true, None, Some((interval, _))) = (awaiting_pong, self.ping_sent, self.ping()) {
                        check_at = after(self.last_seen, interval);
                    }
                }
                () = &mut timer, if self.conn.server.config.ping_interval.is_some() || push_back_ends.is_some() => {
                    let now = Instant::now();
                    if push_back_ends.is_some_and(|end| end <= now) {
                        self.paused_by.retain(|outbox| outbox.congestion_ends().is_some_and(|end| end > now));
                    }
                    let Some((interval, timeout)) = self.ping() else { continue };
                    if now < check_at {
                        continue;
                    }
                    if !can_read {
                        // Reading is paused on our side, so a pong could not be seen:
                        // the silence proves nothing. Judge again once reading resumes.
                        self.last_seen = Instant::now();
                        self.ping_sent = None;
                    }
                    match self.liveness(interval, timeout) {
                        Liveness::Wait(at) => check_at = at,
                        Liveness::Ping(at) => {
                            self.socket.queue_ping();
                            if let Err(info) = Box::pin(self.send_now()).await {
                                return info;
                            }
                            check_at = at;
                        }
                        Liveness::Dead => return CloseInfo::abnormal("ping timeout"),
                    }
                }
            }
        }
    }

    fn liveness(&mut self, interval: Duration, timeout: Duration) -> Liveness {
        let now = Instant::now();
        match self.ping_sent {
            Some(sent) if now >= after(sent, timeout) => Liveness::Dead,
            Some(sent) => Liveness::Wait(after(sent, timeout)),
            None if now >= after(self.last_seen, interval) => {
                self.ping_sent = Some(now);
                Liveness::Ping(after(now, timeout))
            }
            None => Liveness::Wait(after(self.last_seen, interval)),
        }
    }

    /// Handles one read from the socket: the work that needs no waiting here, the rest
    /// told to [`finish_read`](Self::finish_read). Two steps, so that the message is not kept
    /// in the connection task's state while that waits.
    fn receive(&mut self, message: Option<Result<WsMessage, ReadError>>) -> AfterRead {
        let message = match message {
            None => return AfterRead::Ended(CloseInfo::abnormal("the connection dropped")),
            Some(Ok(message)) => message,
            Some(Err(err)) => return AfterRead::Failed(err),
        };
        // Any traffic proves the client alive, not only a pong.
        self.last_seen = Instant::now();
        self.ping_sent = None;
        // Pongs answer our pings and a close ends the flood anyway: neither is counted.
        let counted = matches!(
            message,
            WsMessage::Text(_) | WsMessage::Binary(_) | WsMessage::Ping(_)
        );
        if counted
            && let (Some(limiter), Some(limit)) =
                (&mut self.limiter, &self.conn.server.config.rate_limit)
        {
            match limiter.check(limit, self.last_seen) {
                Verdict::Admit => {}
                Verdict::Refuse { retry_after, first } => {
                    self.refuse_over_budget(&message, retry_after, first);
                    return after_refusal(&message);
                }
                Verdict::Close => {
                    self.rate_limited();
                    return after_refusal(&message);
                }
            }
        }
        match message {
            WsMessage::Text(text) => self.dispatch(text.as_str()),
            WsMessage::Binary(bytes) => match std::str::from_utf8(&bytes) {
                Ok(text) => self.dispatch(text),
                Err(_) => {
                    return AfterRead::Failed(ReadError::Violation(Violation::InvalidUtf8(
                        "binary frame is not valid UTF-8",
                    )));
                }
            },
            WsMessage::Close(frame) => {
                return AfterRead::Closed(CloseInfo::from_frame(frame.map(|f| (f.code, f.reason))));
            }
            // The socket has queued the pong.
            WsMessage::Ping(_) => return AfterRead::Flush,
            WsMessage::Pong => {}
        }
        AfterRead::Done
    }

    /// The ping interval and timeout, if the server pings.
    fn ping(&self) -> Option<(Duration, Duration)> {
        let config = &self.conn.server.config;
        config
            .ping_interval
            .map(|interval| (interval, config.ping_timeout))
    }

    /// The rare part of handling a read, which may wait; `Some` when the connection is over.
    /// (A handler the read started is polled by the caller.)
    async fn finish_read(&mut self, next: AfterRead) -> Option<CloseInfo> {
        match next {
            AfterRead::Done => None,
            AfterRead::Flush => Box::pin(self.send_now()).await.err(),
            AfterRead::Closed(info) => {
                // Sends the close echo the socket has queued.
                let close_timeout = self.conn.server.config.close_timeout;
                let _ = Box::pin(timeout(close_timeout, self.flush_socket())).await;
                Some(info)
            }
            AfterRead::Failed(err) => Some(Box::pin(self.read_failed(err)).await),
            AfterRead::Ended(info) => Some(info),
        }
    }

    async fn read_failed(&mut self, err: ReadError) -> CloseInfo {
        match err {
            ReadError::Violation(Violation::TooBig) => {
                let limit = self.conn.server.config.max_frame_size;
                self.protocol_close(
                    close::MESSAGE_TOO_BIG,
                    format!("message too big: the limit is {limit} bytes"),
                )
                .await
            }
            ReadError::Violation(Violation::InvalidUtf8(rule)) => {
                self.protocol_close(close::INVALID_PAYLOAD, rule).await
            }
            ReadError::Violation(Violation::Protocol(rule)) => {
                self.protocol_close(close::PROTOCOL_ERROR, rule).await
            }
            ReadError::Io(err) if is_reset(&err) => CloseInfo::abnormal("the connection dropped"),
            ReadError::Io(err) => CloseInfo::abnormal(format!("read failed: {err}")),
        }
    }

    /// Answers a frame past the client's budget with `RESOURCE_EXHAUSTED` and when to retry
    /// (`RPC_ERROR` when it carries a correlation id), without handling it. The first
    /// refusal of a spell is reported; the others would only repeat it.
    fn refuse_over_budget(&mut self, message: &WsMessage, retry_after: Duration, first: bool) {
        let Some(limit) = self.conn.server.config.rate_limit else {
            return;
        };
        let text = match message {
            WsMessage::Text(text) => Some(text.as_str()),
            WsMessage::Binary(bytes) => std::str::from_utf8(bytes).ok(),
            // A ping is not answered with a frame; it only counts as refused.
            _ => return,
        };
        // The correlation id, if the frame has one, so a request is settled at once.
        let correlation_id = text.and_then(|text| match frame::parse(text) {
            Ok(inbound) => inbound.meta.correlation_id,
            Err(rejected) => rejected.correlation_id,
        });
        let retry_after_ms =
            u64::try_from(retry_after.as_micros().div_ceil(1_000).max(1)).unwrap_or(u64::MAX);
        let error = ErrorPayload::new(
            ErrorCode::ResourceExhausted,
            format!("rate limit exceeded ({limit}): retry in {retry_after_ms} ms"),
        )
        .with_retry_after_ms(retry_after_ms);
        let _ = self
            .conn
            .outbox
            .push(frame::encode_error(correlation_id.as_deref(), &error));
        if first {
            self.conn.report(ErrorKind::RateLimited, None, error);
        }
    }

    /// Closes the connection of a client that kept sending past its budget, after the
    /// answers already queued (the frame that went one refusal too far is dropped unread).
    /// The close request stops reading: the outbox is polled before the socket.
    fn rate_limited(&mut self) {
        let Some(limit) = self.conn.server.config.rate_limit else {
            return;
        };
        let reason = format!("rate limit exceeded: {limit}; too many frames refused");
        self.conn.report(
            ErrorKind::RateLimited,
            None,
            ErrorPayload::new(ErrorCode::ResourceExhausted, reason.clone()),
        );
        self.conn.outbox.request_close(CloseRequest {
            code: close::POLICY_VIOLATION,
            reason: reason.into(),
            overflow: false,
        });
        // Nothing more is read; later frames must not report again.
        self.limiter = None;
    }

    /// Closes the connection because the client broke the WebSocket protocol.
    async fn protocol_close(
        &mut self,
        code: u16,
        reason: impl Into<Cow<'static, str>>,
    ) -> CloseInfo {
        let reason = reason.into();
        self.conn.report(
            ErrorKind::Protocol,
            None,
            ErrorPayload::new(ErrorCode::InvalidArgument, reason.clone()),
        );
        self.close(code, reason).await
    }

    /// Dispatches one frame: parse, route, decode and validate, then start the handler.
    /// Every refusal is answered at once.
    fn dispatch(&mut self, text: &str) {
        let conn = &*self.conn;
        let inbound = match frame::parse(text) {
            Ok(inbound) => inbound,
            Err(rejected) => {
                metrics::counter!(telemetry::FRAMES_RECEIVED, "type" => "invalid").increment(1);
                let id = rejected.correlation_id.as_deref();
                return conn.refuse(id, rejected.error, ErrorKind::InvalidFrame);
            }
        };
        if inbound.wire_type == HEARTBEAT_TYPE {
            let _ = conn.outbox.push(HEARTBEAT_ACK);
            return;
        }
        let correlation_id = inbound.meta.correlation_id.as_deref();
        if inbound.wire_type == RPC_ABORT_TYPE {
            return self.abort(correlation_id);
        }
        tracing::trace!(r#type = %inbound.wire_type, correlation_id, "frame");
        let Some(route) = self.routes.table.get(&*inbound.wire_type) else {
            metrics::counter!(telemetry::FRAMES_RECEIVED, "type" => "unrouted").increment(1);
            // No route has a reserved name, so only a type without a route needs the check:
            // a reserved one is the client's mistake, any other is merely not served here.
            let (error, kind) = match check_type_name(&inbound.wire_type) {
                Err(reason) => (
                    frame::frame_error("/type", "reserved", reason),
                    ErrorKind::InvalidFrame,
                ),
                // The type is named once, in the details, and cut: it is the client's input.
                Ok(()) => (
                    ErrorPayload::new(
                        ErrorCode::Unimplemented,
                        "no handler for this wire type (details.type)",
                    )
                    .with_details(serde_json::json!({ "type": frame::clip(&inbound.wire_type) })),
                    ErrorKind::UnknownType,
                ),
            };
            return conn.refuse(correlation_id, error, kind);
        };
        metrics::counter!(telemetry::FRAMES_RECEIVED, "type" => route.wire_type).increment(1);
        let correlation = match correlation_id {
            Some(id) => {
                if self.pending.get(id).is_some_and(|p| !p.is_answered()) {
                    // Answered uncorrelated: an RPC_ERROR with this id would settle the
                    // first request's promise with the second one's failure.
                    let error = ErrorPayload::new(
                        ErrorCode::AlreadyExists,
                        "a request with this correlation id (details.correlationId) is still \
                         in flight",
                    )
                    .with_details(serde_json::json!({ "correlationId": frame::clip(id) }));
                    return conn.refuse(None, error, ErrorKind::DuplicateCorrelationId);
                }
                Some(Arc::new(Correlation::new(id.to_owned())))
            }
            None if route.endpoint.is_rpc() => {
                let error = crate::route::missing_correlation_id(route.wire_type);
                return conn.refuse(None, error, ErrorKind::InvalidFrame);
            }
            None => None,
        };
        let ctx = Context::new(
            Arc::clone(&self.conn),
            Some(route.wire_type),
            inbound.meta,
            correlation.clone(),
        );
        let call = Call {
            ctx,
            chain: route.chain.clone(),
            deadline: route.deadline,
        };
        match route.endpoint.start(call, inbound.payload) {
            Ok(handler) => {
                if let Some(correlation) = correlation {
                    self.pending.insert(correlation);
                }
                self.fresh = Some(handler);
            }
            Err(error) => {
                conn.answer_error(correlation.as_deref(), &error);
                conn.report(ErrorKind::InvalidFrame, Some(route.wire_type), error);
            }
        }
    }

    /// Handles `$ws:abort`: answers the request `CANCELLED` and cancels its handler, which
    /// is dropped the next time it would run.
    ///
    /// An abort races with the answer, so one for an id that is unknown, finished or already
    /// answered (a handler that replied early and works on) is ignored without a word: the
    /// client has stopped waiting either way. Only an abort without any id is refused.
    fn abort(&mut self, correlation_id: Option<&str>) {
        let Some(id) = correlation_id else {
            let error = frame::frame_error(
                "/meta/correlationId",
                "required",
                format!("`{RPC_ABORT_TYPE}` names the request to cancel by its correlation id"),
            );
            return self.conn.refuse(None, error, ErrorKind::InvalidFrame);
        };
        let Some(correlation) = self.pending.get(id) else {
            return;
        };
        // The CANCELLED frame keeps "exactly one terminal frame per request": it tells
        // the client when the id is free again, and clients ignore it once they settled.
        if correlation.claim() {
            let error = ErrorPayload::new(ErrorCode::Cancelled, "the client cancelled the request");
            let _ = self.conn.outbox.push(frame::encode_error(Some(id), &error));
            correlation.cancel();
        }
    }

    /// Polls the handler `dispatch` just started, once, in place. Most finish at once (an
    /// echo, a lookup) and never enter the running set, which saves its allocation and
    /// bookkeeping per request; one that waits joins the set, which polls it again.
    fn poll_fresh(&mut self, cx: &mut std::task::Context<'_>) {
        let Some(mut handler) = self.fresh.take() else {
            return;
        };
        let outbox = &self.conn.outbox;
        match outbox.driving(&mut self.newly_congested, || handler.poll_unpin(cx)) {
            Poll::Ready(correlation) => self.settle(correlation),
            Poll::Pending => self.in_flight.push(handler),
        }
    }

    /// Forgets a finished request, unless a newer one took over its id.
    fn settle(&mut self, correlation: Option<Arc<Correlation>>) {
        if let Some(c) = correlation {
            self.pending.remove(&c);
        }
    }

    /// Writes the frames taken from the outbox. A write that waits is watched: no progress
    /// for `write_timeout` drops the connection (1006); a full queue with no progress for
    /// the grace period closes it with 1008 (see `outbox`).
    async fn write_buffered(&mut self) -> Result<(), CloseInfo> {
        let outbox = &*self.conn.outbox;
        metrics::counter!(telemetry::FRAMES_SENT).increment(self.buf.len() as u64);
        // Nearly every write completes at once into the socket's send buffer. Only one that
        // has to wait is timed, in a future of its own: its state (a timer and the write)
        // would otherwise take room in every connection's task, idle or not.
        let first = poll_fn(|cx| {
            let (socket, buf) = (&mut self.socket, &mut self.buf);
            Poll::Ready(socket.poll_write_frames(cx, buf, &mut |len| outbox.sent(len)))
        })
        .await;
        let outcome = match first {
            Poll::Ready(result) => Written::Done(result),
            Poll::Pending => Box::pin(self.wait_for_write()).await,
        };
        let outbox = &*self.conn.outbox;
        // Frames not written (the connection is ending) no longer count as queued; one
        // cut short stays, to be finished before the close frame.
        outbox.sent(self.socket.discard_unstarted(&mut self.buf));
        // A burst leaves a large buffer behind; idle connections should not keep it.
        if self.buf.capacity() > 64 {
            self.buf.shrink_to(16);
        }
        match outcome {
            // The close request is next in the outbox.
            Written::Done(Ok(())) | Written::Abandoned => Ok(()),
            Written::Done(Err(err)) => Err(CloseInfo::abnormal(format!("write failed: {err}"))),
            Written::TimedOut => {
                let reason = "writing to the client timed out (slow consumer)";
                self.conn.report(
                    ErrorKind::SlowConsumer,
                    None,
                    ErrorPayload::new(ErrorCode::ResourceExhausted, reason),
                );
                Err(CloseInfo::abnormal(reason))
            }
            Written::Stalled => {
                let grace = self.conn.outbox.limits().grace;
                let reason = format!(
                    "outbound queue full and nothing written for {grace:?}: the client is \
                     not reading"
                );
                self.conn.report(
                    ErrorKind::SlowConsumer,
                    None,
                    ErrorPayload::new(ErrorCode::ResourceExhausted, reason.clone()),
                );
                Err(Box::pin(self.close(close::POLICY_VIOLATION, reason.into())).await)
            }
        }
    }

    /// Writes the control frames the socket has queued (a ping, a pong) right away.
    async fn send_now(&mut self) -> Result<(), CloseInfo> {
        let write_timeout = self.conn.server.config.write_timeout;
        match timeout(write_timeout, self.flush_socket()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(CloseInfo::abnormal(format!("write failed: {err}"))),
            Err(_) => Err(CloseInfo::abnormal("writing to the client timed out")),
        }
    }

    /// Finishes a write that could not complete at once, timing its progress.
    async fn wait_for_write(&mut self) -> Written {
        let outbox = &*self.conn.outbox;
        let write_timeout = self.conn.server.config.write_timeout;
        // Frames written so far: the write is timed by its progress.
        let written = AtomicUsize::new(0);
        let write = self.socket.write_frames(&mut self.buf, |len| {
            outbox.sent(len);
            written.fetch_add(1, Ordering::Relaxed);
        });
        watch_write(pin!(write), &written, outbox, write_timeout).await
    }

    /// Writes what the socket has queued on its own (control frames), and the frames of
    /// `buf` if any are left from a write cut short.
    async fn flush_socket(&mut self) -> std::io::Result<()> {
        let outbox = &*self.conn.outbox;
        self.socket
            .write_frames(&mut self.buf, |len| outbox.sent(len))
            .await
    }

    /// Closes from the server side: sends the close frame and waits (briefly) for the
    /// client's echo.
    ///
    /// When the client's frames can no longer be read (the rest of an oversized message is
    /// still arriving, or the stream failed), the socket is drained instead until the client
    /// closes or the close timeout: closing a socket with unread data sends a TCP reset,
    /// which can destroy the close frame before the client reads it.
    async fn close(&mut self, code: u16, reason: Cow<'static, str>) -> CloseInfo {
        let deadline = after(Instant::now(), self.conn.server.config.close_timeout);
        self.socket.queue_close(code, truncate_reason(&reason));
        let handshake = async {
            self.flush_socket().await.map_err(ReadError::Io)?;
            while let Some(message) = poll_fn(|cx| self.socket.poll_next(cx)).await {
                if let WsMessage::Close(_) = message? {
                    return Ok(true);
                }
            }
            Ok::<bool, ReadError>(false)
        };
        let answered = timeout_at(deadline, handshake).await;
        if matches!(answered, Ok(Ok(false) | Err(_))) {
            linger(self.socket.io_mut(), deadline).await;
        }
        CloseInfo {
            code,
            reason: reason.into_owned(),
        }
    }

    /// Graceful shutdown: stop reading, let in-flight handlers finish within the grace
    /// period and their frames go out, then close with 1001.
    async fn shut_down(&mut self) -> CloseInfo {
        let deadline = after(Instant::now(), self.conn.server.config.shutdown_grace);
        while !self.in_flight.is_empty() {
            tokio::select! {
                biased;
                ready = poll_fn(|cx| self.conn.outbox.poll_ready(cx, &mut self.buf)) => match ready {
                    Ready::Frames => {
                        if let Err(info) = self.write_buffered().await {
                            return info;
                        }
                    }
                    Ready::Close(request) => return self.close(request.code, request.reason).await,
                    Ready::Shutdown => {}
                },
                Some(correlation) = self.in_flight.next() => self.settle(correlation),
                () = sleep_until(deadline) => break,
            }
        }
        if self.conn.outbox.take_into(&mut self.buf)
            && let Err(info) = self.write_buffered().await
        {
            return info;
        }
        self.close(close::GOING_AWAY, Cow::Borrowed("server shutting down"))
            .await
    }

    /// After the socket is done: let running handlers finish (within the grace period),
    /// leave every topic, run the close hooks.
    async fn finish(self, close: CloseInfo) {
        let Driver {
            conn,
            routes,
            socket,
            mut in_flight,
            ..
        } = self;
        conn.outbox.shut();
        drop(socket);
        let grace = conn.server.config.shutdown_grace;
        let _ = timeout(grace, async { while in_flight.next().await.is_some() {} }).await;
        drop(in_flight);
        conn.unsubscribe_all().await;
        for hook in &routes.on_close {
            let ctx = Context::new(Arc::clone(&conn), None, Meta::default(), None);
            let outcome = AssertUnwindSafe(hook(ctx, close.clone()))
                .catch_unwind()
                .await;
            if let Err(panic) = outcome {
                let error = ErrorPayload::new(ErrorCode::Internal, "the on_close hook panicked");
                conn.server.errors.report(
                    ErrorEvent::new(ErrorKind::Panic, error)
                        .on(conn.id(), None)
                        .because(panic_message(panic.as_ref())),
                );
            }
        }
    }
}

/// How a write the driver had to wait for ended.
enum Written {
    Done(std::io::Result<()>),
    /// Nothing was written for the write timeout.
    TimedOut,
    /// The queue is full and nothing was written for the grace period.
    Stalled,
    /// The queue went past its hard bound meanwhile: the connection closes at once.
    Abandoned,
}

/// Waits for `write` (already polled once, pending) while timing its progress: `written`
/// counts the frames it wrote, and it is polled here, so every frame it writes is seen.
/// Re-checked on every wake-up of the task, which includes the queue becoming full (see
/// `Outbox::push`).
async fn watch_write<F>(
    mut write: std::pin::Pin<&mut F>,
    written: &AtomicUsize,
    outbox: &Outbox,
    write_timeout: Duration,
) -> Written
where
    F: Future<Output = std::io::Result<()>>,
{
    let limits = *outbox.limits();
    let mut last = Instant::now();
    let mut seen = written.load(Ordering::Relaxed);
    let mut alarm = pin!(sleep_until(after(last, write_timeout)));
    poll_fn(|cx| {
        // Pushes wake the task only through the outbox's waker, which a wake-up uses up.
        outbox.register(cx.waker());
        if let Poll::Ready(result) = write.as_mut().poll(cx) {
            return Poll::Ready(Written::Done(result));
        }
        let now = Instant::now();
        let count = written.load(Ordering::Relaxed);
        if count != seen {
            (seen, last) = (count, now);
        }
        let idle = now.saturating_duration_since(last);
        if outbox.overflowed() {
            return Poll::Ready(Written::Abandoned);
        }
        if idle >= write_timeout {
            return Poll::Ready(Written::TimedOut);
        }
        let full = outbox.bytes() >= limits.full;
        if full && idle >= limits.grace {
            return Poll::Ready(Written::Stalled);
        }
        let next = if full {
            after(last, limits.grace.min(write_timeout))
        } else {
            after(last, write_timeout)
        };
        if alarm.deadline() != next {
            alarm.as_mut().reset(next);
        }
        // Registers the timer; it cannot have fired, `next` is still ahead.
        let _ = alarm.as_mut().poll(cx);
        Poll::Pending
    })
    .await
}

/// Shuts the socket's sending side (the close frame is out), then reads and discards
/// whatever the client still sends until it closes its side or `deadline`.
async fn linger<S: AsyncRead + AsyncWrite + Unpin>(socket: &mut S, deadline: Instant) {
    let _ = timeout_at(deadline, async {
        socket.shutdown().await?;
        let mut scratch = [0_u8; 4096];
        while socket.read(&mut scratch).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// Whether a read failed because the client vanished rather than because of a fault here.
fn is_reset(err: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        err.kind(),
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof
    )
}

/// `start + duration`, capped about a year ahead: a configured duration may be huge, and
/// `Instant` arithmetic past its range panics.
fn after(start: Instant, duration: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 86_400);
    start.checked_add(duration.min(YEAR)).unwrap_or(start)
}

/// A close reason must fit a control frame: at most 123 bytes.
pub(crate) fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= 123 {
        return reason;
    }
    let mut end = 123;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_requests_are_found_by_id_and_forgotten_by_identity() {
        let mut pending = PendingRequests::default();
        let first = Arc::new(Correlation::new("a".to_owned()));
        pending.insert(Arc::clone(&first));
        pending.insert(Arc::new(Correlation::new("b".to_owned())));
        assert_eq!(pending.get("a").map(Correlation::id), Some("a"));
        assert!(pending.get("c").is_none());

        // A new request with the id of an answered one takes its place ...
        assert!(first.claim());
        let second = Arc::new(Correlation::new("a".to_owned()));
        pending.insert(Arc::clone(&second));
        assert!(!pending.get("a").is_some_and(Correlation::is_answered));
        // ... so the first one finishing does not forget the second.
        pending.remove(&first);
        assert!(pending.get("a").is_some());
        pending.remove(&second);
        assert!(pending.get("a").is_none());
        assert!(pending.get("b").is_some());
    }

    #[test]
    fn huge_configured_durations_do_not_overflow() {
        let now = Instant::now();
        assert!(after(now, Duration::MAX) > now + Duration::from_secs(86_400));
        assert_eq!(
            after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }

    /// An outbox full at 100 bytes, with a grace period of a second, holding `bytes`.
    fn holding(bytes: usize) -> Outbox {
        let outbox = Outbox::new(crate::outbox::Limits::new(100, Duration::from_secs(1)));
        outbox
            .push(Frame::from_text("x".repeat(bytes)))
            .expect("under the hard bound");
        outbox
    }

    async fn never_written() -> std::io::Result<()> {
        std::future::pending().await
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_without_progress_is_stalled_after_the_grace_period() {
        let (outbox, written) = (holding(150), AtomicUsize::new(0));
        let started = Instant::now();
        let write = pin!(never_written());
        let outcome = watch_write(write, &written, &outbox, Duration::from_secs(10)).await;
        assert!(matches!(outcome, Written::Stalled));
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_queue_that_is_not_full_waits_for_the_write_timeout() {
        let (outbox, written) = (holding(50), AtomicUsize::new(0));
        let started = Instant::now();
        let write = pin!(never_written());
        let outcome = watch_write(write, &written, &outbox, Duration::from_secs(10)).await;
        assert!(matches!(outcome, Written::TimedOut));
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_that_keeps_draining_is_not_stalled() {
        let (outbox, written) = (holding(150), AtomicUsize::new(0));
        // A slow reader: a frame every half second, never done.
        let write = pin!(async {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                written.fetch_add(1, Ordering::Relaxed);
            }
        });
        let watched = watch_write(write, &written, &outbox, Duration::from_secs(10));
        assert!(
            timeout(Duration::from_secs(30), watched).await.is_err(),
            "a reading client is never cut off"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_is_abandoned_once_the_queue_overflows() {
        let (outbox, written) = (holding(150), AtomicUsize::new(0));
        let write = pin!(never_written());
        let watched = watch_write(write, &written, &outbox, Duration::from_secs(10));
        let overflow = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            assert!(outbox.push(Frame::from_text("x".repeat(100))).is_err());
            std::future::pending::<()>().await;
        };
        let started = Instant::now();
        tokio::select! {
            outcome = watched => assert!(matches!(outcome, Written::Abandoned)),
            () = overflow => unreachable!(),
        }
        assert_eq!(started.elapsed(), Duration::from_millis(10));
    }

    #[test]
    fn close_reasons_are_cut_on_a_char_boundary() {
        let long = "é".repeat(100);
        let cut = truncate_reason(&long);
        assert!(cut.len() <= 123);
        assert!(long.starts_with(cut));
        assert_eq!(truncate_reason("short"), "short");
    }
}
