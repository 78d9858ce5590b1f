//! Routes with their types erased, the middleware chain, and the guard that turns a
//! handler's outcome (error, panic, deadline) into the one answer a request gets.

use std::any::Any;
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::FutureExt;
use serde_json::value::RawValue;
use twinwire::{ErrorCode, ErrorPayload, Message, Rpc};

use crate::conn_state::ConnState;
use crate::context::{Context, RpcContext};
use crate::correlation::Correlation;
use crate::error::SendError;
use crate::event::{ErrorEvent, ErrorKind};
use crate::frame;
use crate::telemetry;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What handlers and middleware return: `Err` is answered to the client.
pub(crate) type HandlerResult = Result<(), ErrorPayload>;

/// A type-erased middleware function.
pub(crate) type Middleware<D> =
    Arc<dyn Fn(Context<D>, Next<D>) -> BoxFuture<'static, HandlerResult> + Send + Sync>;

/// The handler at the end of a middleware chain, with its payload already decoded.
type Terminal<D> = Box<dyn FnOnce(Context<D>) -> BoxFuture<'static, HandlerResult> + Send>;

/// A handler in flight; resolves to its correlation once it has finished.
pub(crate) type InFlight = BoxFuture<'static, Option<Arc<Correlation>>>;

/// The rest of the middleware chain and, at its end, the handler.
///
/// A middleware calls [`run`](Self::run) to continue, or returns an error without calling
/// it to short-circuit; the error is answered to the client (as `RPC_ERROR` for a request).
pub struct Next<D> {
    chain: Arc<[Middleware<D>]>,
    index: usize,
    terminal: Terminal<D>,
}

impl<D: Send + Sync + 'static> Next<D> {
    /// Runs the remaining middleware and the handler with `ctx`, returning the handler's
    /// outcome (for an RPC, `Ok` means the reply was sent).
    ///
    /// # Errors
    /// The error of a later middleware or of the handler.
    pub async fn run(mut self, ctx: Context<D>) -> Result<(), ErrorPayload> {
        match self.chain.get(self.index).cloned() {
            Some(middleware) => {
                self.index += 1;
                middleware(ctx, self).await
            }
            None => (self.terminal)(ctx).await,
        }
    }
}

impl<D> std::fmt::Debug for Next<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next")
            .field(
                "remaining",
                &(self.chain.len() - self.index.min(self.chain.len())),
            )
            .finish()
    }
}

/// Everything a route needs to start handling one frame.
pub(crate) struct Call<D> {
    pub ctx: Context<D>,
    pub chain: Option<Arc<[Middleware<D>]>>,
    pub deadline: Option<Duration>,
}

/// A route whose wire type is erased: decodes a payload and starts the handler.
pub(crate) trait Endpoint<D>: Send + Sync + 'static {
    /// Whether the route answers requests (and so needs a correlation id).
    fn is_rpc(&self) -> bool;

    /// Decodes and validates `payload`; on success the handler is started.
    fn start(&self, call: Call<D>, payload: Option<&RawValue>) -> Result<InFlight, ErrorPayload>;
}

/// Starts `handler` directly, or behind the middleware chain, inside the guard.
///
/// Without middleware the guard and the handler's future share one allocation.
fn launch<D, F, Fut>(call: Call<D>, handler: F) -> InFlight
where
    D: Send + Sync + 'static,
    F: FnOnce(Context<D>) -> Fut + Send + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    let guard = Guard {
        conn: Arc::clone(&call.ctx.conn),
        correlation: call.ctx.correlation.clone(),
        wire_type: call.ctx.wire_type(),
        deadline: call.deadline,
    };
    match call.chain {
        None => Box::pin(guard.run(handler(call.ctx))),
        Some(chain) => {
            let next = Next {
                chain,
                index: 0,
                terminal: Box::new(move |ctx| Box::pin(handler(ctx))),
            };
            Box::pin(guard.run(next.run(call.ctx)))
        }
    }
}

/// A route of [`Router::on`](crate::Router::on).
pub(crate) struct OnEndpoint<M, F> {
    handler: Arc<F>,
    _message: PhantomData<fn() -> M>,
}

impl<M, F> OnEndpoint<M, F> {
    pub(crate) fn new(handler: F) -> Self {
        Self {
            handler: Arc::new(handler),
            _message: PhantomData,
        }
    }
}

impl<D, M, F, Fut> Endpoint<D> for OnEndpoint<M, F>
where
    D: Send + Sync + 'static,
    M: Message,
    F: Fn(Context<D>, M) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    fn is_rpc(&self) -> bool {
        false
    }

    fn start(
        &self,
        mut call: Call<D>,
        payload: Option<&RawValue>,
    ) -> Result<InFlight, ErrorPayload> {
        // The envelope's meta is checked before the payload, as the rest of the envelope is.
        let meta = frame::decode_meta::<M>(call.ctx.meta())?;
        let message = frame::decode_payload::<M>(payload)?;
        call.ctx.set_typed_meta(Arc::new(meta));
        let handler = Arc::clone(&self.handler);
        Ok(launch(call, move |ctx| handler(ctx, message)))
    }
}

/// A route of [`Router::rpc`](crate::Router::rpc).
pub(crate) struct RpcEndpoint<R, F> {
    handler: Arc<F>,
    _rpc: PhantomData<fn() -> R>,
}

impl<R, F> RpcEndpoint<R, F> {
    pub(crate) fn new(handler: F) -> Self {
        Self {
            handler: Arc::new(handler),
            _rpc: PhantomData,
        }
    }
}

impl<D, R, F, Fut> Endpoint<D> for RpcEndpoint<R, F>
where
    D: Send + Sync + 'static,
    R: Rpc,
    F: Fn(RpcContext<D, R>, R) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R::Response, ErrorPayload>> + Send + 'static,
{
    fn is_rpc(&self) -> bool {
        true
    }

    fn start(
        &self,
        mut call: Call<D>,
        payload: Option<&RawValue>,
    ) -> Result<InFlight, ErrorPayload> {
        let Some(correlation) = call.ctx.correlation.clone() else {
            // The dispatcher refuses uncorrelated requests before decoding; kept as a guard.
            return Err(missing_correlation_id(R::WIRE_TYPE));
        };
        let meta = Arc::new(frame::decode_meta::<R>(call.ctx.meta())?);
        let request = frame::decode_payload::<R>(payload)?;
        call.ctx.set_typed_meta(Arc::clone(&meta) as _);
        let handler = Arc::clone(&self.handler);
        Ok(launch(call, move |ctx| async move {
            let conn = Arc::clone(&ctx.conn);
            let rpc_ctx = RpcContext::new(ctx, Arc::clone(&correlation), meta);
            let response = handler(rpc_ctx, request).await?;
            match conn.reply(&correlation, &response, None) {
                Ok(()) | Err(SendError::AlreadyAnswered) => Ok(()),
                Err(err) => Err(err.into()),
            }
        }))
    }
}

/// `INVALID_ARGUMENT` for an RPC request without `meta.correlationId`.
pub(crate) fn missing_correlation_id(wire_type: &str) -> ErrorPayload {
    frame::frame_error(
        "/meta/correlationId",
        "required",
        format!("`{wire_type}` is an RPC: its request needs a correlation id"),
    )
}

/// Runs a handler and answers whatever it did not: its error, a panic, a missed deadline.
/// A request the client cancels is answered by the dispatcher; the guard only drops the
/// handler, so it does no more work.
struct Guard<D> {
    conn: Arc<ConnState<D>>,
    correlation: Option<Arc<Correlation>>,
    wire_type: Option<&'static str>,
    deadline: Option<Duration>,
}

/// How a guarded handler ended.
enum Outcome {
    Finished(std::thread::Result<HandlerResult>),
    Cancelled,
    TimedOut,
}

impl<D: Send + Sync + 'static> Guard<D> {
    async fn run(
        self,
        handler: impl Future<Output = HandlerResult> + Send,
    ) -> Option<Arc<Correlation>> {
        let correlation = self.correlation.as_deref();
        let started = std::time::Instant::now();
        // The handler's state is dropped, not reused, after a panic, and the connection's
        // shared state is only reached through locks that recover from poisoning.
        let outcome = {
            let mut handler = pin!(AssertUnwindSafe(handler).catch_unwind());
            let mut cancelled = pin!(correlation.map(Correlation::cancelled));
            // No timer is created for a route without a deadline.
            let mut expired = pin!(self.deadline.map(tokio::time::sleep));
            poll_fn(|cx| {
                // The flag is read before the handler is polled, so a cancelled handler
                // never runs again; `cancelled` is polled after the handler, so one that
                // finishes at once never registers with it.
                if correlation.is_some_and(Correlation::is_cancelled) {
                    return Poll::Ready(Outcome::Cancelled);
                }
                if let Poll::Ready(result) = handler.as_mut().poll(cx) {
                    return Poll::Ready(Outcome::Finished(result));
                }
                if let Some(cancelled) = cancelled.as_mut().as_pin_mut()
                    && cancelled.poll(cx).is_ready()
                {
                    return Poll::Ready(Outcome::Cancelled);
                }
                if let Some(expired) = expired.as_mut().as_pin_mut()
                    && expired.poll(cx).is_ready()
                {
                    return Poll::Ready(Outcome::TimedOut);
                }
                Poll::Pending
            })
            .await
        };
        let label = match &outcome {
            Outcome::Finished(Ok(Ok(()))) => "ok",
            Outcome::Finished(Ok(Err(_))) => "error",
            Outcome::Finished(Err(_)) => "panic",
            Outcome::TimedOut => "deadline",
            Outcome::Cancelled => "cancelled",
        };
        let elapsed = started.elapsed();
        let wire_type = self.wire_type.unwrap_or("");
        metrics::histogram!(
            telemetry::HANDLER_DURATION,
            "type" => wire_type,
            "outcome" => label
        )
        .record(elapsed.as_secs_f64());
        tracing::debug!(
            r#type = wire_type,
            correlation_id = correlation.map(Correlation::id),
            outcome = label,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "handled"
        );
        let (kind, error, cause) = match outcome {
            Outcome::Finished(Ok(Ok(()))) | Outcome::Cancelled => return self.correlation,
            Outcome::Finished(Ok(Err(error))) => (ErrorKind::Handler, error, None),
            Outcome::Finished(Err(panic)) => (
                ErrorKind::Panic,
                ErrorPayload::new(ErrorCode::Internal, "the handler failed unexpectedly"),
                Some(panic_message(panic.as_ref())),
            ),
            Outcome::TimedOut => {
                let ms = self.deadline.unwrap_or_default().as_millis();
                let error = ErrorPayload::new(
                    ErrorCode::DeadlineExceeded,
                    format!("the handler did not finish within its {ms} ms deadline"),
                );
                let error = match self.wire_type {
                    Some(t) => error.with_details(serde_json::json!({ "type": t })),
                    None => error,
                };
                (ErrorKind::DeadlineExceeded, error, None)
            }
        };
        self.conn.answer_error(correlation, &error);
        let mut event = ErrorEvent::new(kind, error).on(self.conn.id(), self.wire_type);
        if let Some(cause) = cause {
            event = event.because(cause);
        }
        self.conn.server.errors.report(event);
        self.correlation
    }
}

/// The text of a panic, when it has one.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
