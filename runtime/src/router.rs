//! [`Router`]: handlers by wire type, middleware, lifecycle hooks, and composition.

use std::any::{Any, type_name};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use twinwire::envelope::check_type_name;
use twinwire::{ErrorPayload, Message, Rpc};

use crate::auth::{Rejection, UpgradeRequest};
use crate::connection::CloseInfo;
use crate::context::{Context, RpcContext};
use crate::error::RouterError;
use crate::event::{ErrorEvent, ErrorHook, ErrorSink};
use crate::route::{BoxFuture, Endpoint, Middleware, Next, OnEndpoint, RpcEndpoint};

type OpenHook<D> = Arc<dyn Fn(Context<D>) -> BoxFuture<'static, ()> + Send + Sync>;
type CloseHook<D> = Arc<dyn Fn(Context<D>, CloseInfo) -> BoxFuture<'static, ()> + Send + Sync>;
pub(crate) type AuthHook<D> =
    Arc<dyn Fn(UpgradeRequest) -> BoxFuture<'static, Result<D, Rejection>> + Send + Sync>;
type DataFactory<D> = Arc<dyn Fn() -> D + Send + Sync>;

struct RouteEntry<D> {
    endpoint: Box<dyn Endpoint<D>>,
    /// Middleware of the router this route came from through `merge`, outermost first.
    scoped: Vec<Middleware<D>>,
}

struct RouteOptions<D> {
    middleware: Vec<Middleware<D>>,
    deadline: Option<Duration>,
}

impl<D> Default for RouteOptions<D> {
    fn default() -> Self {
        Self {
            middleware: Vec::new(),
            deadline: None,
        }
    }
}

/// Routes frames by wire type to handlers, with middleware and lifecycle hooks.
///
/// `D` is the per-connection data, created at the upgrade by the
/// [`authenticate`](Self::authenticate) hook (or [`initial_data`](Self::initial_data); for
/// `D = ()` neither is needed) and reached from handlers through [`Context::data`].
///
/// Registration never fails on the spot: a second handler for one type, a reserved type, or
/// an option for a type without a handler is reported when the router is served
/// ([`Server::new`](crate::Server::new) returns the [`RouterError`]), and by
/// [`merge`](Self::merge) for types both routers handle.
///
/// ```
/// use std::time::Duration;
/// use chat_protocol::{Calculate, CalculateResult, JoinRoom, Operation};
/// use twinwire::{ErrorCode, ErrorPayload};
/// use twinwire_runtime::{Context, Next, Router, RpcContext};
///
/// #[derive(Default)]
/// struct Session {
///     rooms: Vec<String>,
/// }
///
/// let router = Router::<Session>::new()
///     .initial_data(Session::default)
///     .on(|ctx: Context<Session>, join: JoinRoom| async move {
///         ctx.subscribe(&format!("room:{}", join.room_id)).await?;
///         ctx.data_mut(|s| s.rooms.push(join.room_id));
///         Ok(())
///     })
///     .rpc(|_ctx: RpcContext<Session, Calculate>, req: Calculate| async move {
///         let result = match req.operation {
///             Operation::Add => req.a + req.b,
///             Operation::Multiply => req.a * req.b,
///         };
///         Ok(CalculateResult { result })
///     })
///     .deadline::<Calculate>(Duration::from_secs(2))
///     .middleware(|ctx: Context<Session>, next: Next<Session>| async move {
///         if ctx.data(|s| s.rooms.len()) > 10 {
///             return Err(ErrorPayload::new(ErrorCode::ResourceExhausted, "too many rooms"));
///         }
///         next.run(ctx).await
///     });
/// ```
pub struct Router<D = ()> {
    routes: HashMap<&'static str, RouteEntry<D>>,
    /// Registration problems, reported when the router is served.
    deferred: Vec<RouterError>,
    middleware: Vec<Middleware<D>>,
    options: HashMap<&'static str, RouteOptions<D>>,
    on_open: Vec<OpenHook<D>>,
    on_close: Vec<CloseHook<D>>,
    on_error: Vec<ErrorHook>,
    authenticate: Option<AuthHook<D>>,
    initial_data: Option<DataFactory<D>>,
}

impl<D: Send + Sync + 'static> Default for Router<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D> fmt::Debug for Router<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut types: Vec<_> = self.routes.keys().collect();
        types.sort();
        f.debug_struct("Router")
            .field("routes", &types)
            .field("middleware", &self.middleware.len())
            .finish_non_exhaustive()
    }
}

impl<D: Send + Sync + 'static> Router<D> {
    /// An empty router.
    pub fn new() -> Self {
        Self {
            routes: HashMap::new(),
            deferred: Vec::new(),
            middleware: Vec::new(),
            options: HashMap::new(),
            on_open: Vec::new(),
            on_close: Vec::new(),
            on_error: Vec::new(),
            authenticate: None,
            initial_data: None,
        }
    }

    fn add_route(mut self, wire_type: &'static str, endpoint: Box<dyn Endpoint<D>>) -> Self {
        if let Err(reason) = check_type_name(wire_type) {
            self.deferred
                .push(RouterError::ReservedType { wire_type, reason });
            return self;
        }
        match self.routes.entry(wire_type) {
            Entry::Occupied(_) => self
                .deferred
                .push(RouterError::DuplicateRoute { wire_type }),
            Entry::Vacant(slot) => {
                slot.insert(RouteEntry {
                    endpoint,
                    scoped: Vec::new(),
                });
            }
        }
        self
    }

    /// Handles client message `M` (already decoded and validated). An `Err` is answered
    /// with an `ERROR` frame (`RPC_ERROR` if the frame had a correlation id).
    pub fn on<M, F, Fut>(self, handler: F) -> Self
    where
        M: Message,
        F: Fn(Context<D>, M) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ErrorPayload>> + Send + 'static,
    {
        self.add_route(M::WIRE_TYPE, Box::new(OnEndpoint::new(handler)))
    }

    /// Handles RPC `R`: `Ok(response)` is sent as the terminal reply with the request's
    /// correlation id, `Err` as an `RPC_ERROR`.
    pub fn rpc<R, F, Fut>(self, handler: F) -> Self
    where
        R: Rpc,
        F: Fn(RpcContext<D, R>, R) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R::Response, ErrorPayload>> + Send + 'static,
    {
        self.add_route(R::WIRE_TYPE, Box::new(RpcEndpoint::new(handler)))
    }

    /// Adds middleware around every route, registered before or after it; the first added
    /// runs outermost. It runs after the payload is decoded and validated, may read and
    /// change the connection's data, and short-circuits by returning `Err` without calling
    /// [`Next::run`].
    pub fn middleware<F, Fut>(mut self, middleware: F) -> Self
    where
        F: Fn(Context<D>, Next<D>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ErrorPayload>> + Send + 'static,
    {
        self.middleware.push(erase_middleware(middleware));
        self
    }

    /// Adds middleware to the route of `M` only, inside the global middleware.
    pub fn route_middleware<M, F, Fut>(mut self, middleware: F) -> Self
    where
        M: Message,
        F: Fn(Context<D>, Next<D>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ErrorPayload>> + Send + 'static,
    {
        self.options
            .entry(M::WIRE_TYPE)
            .or_default()
            .middleware
            .push(erase_middleware(middleware));
        self
    }

    /// Gives the route of `M` a deadline: a handler still running after `deadline` is
    /// cancelled and the client gets `DEADLINE_EXCEEDED` (as `RPC_ERROR` for a request).
    pub fn deadline<M: Message>(mut self, deadline: Duration) -> Self {
        self.options.entry(M::WIRE_TYPE).or_default().deadline = Some(deadline);
        self
    }

    /// Runs when a connection opens, before its first frame is handled.
    pub fn on_open<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Context<D>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_open.push(Arc::new(move |ctx| Box::pin(hook(ctx))));
        self
    }

    /// Runs when a connection has closed, with the close code and reason, after its
    /// in-flight handlers finished and its subscriptions ended.
    pub fn on_close<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Context<D>, CloseInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_close
            .push(Arc::new(move |ctx, info| Box::pin(hook(ctx, info))));
        self
    }

    /// Observes every failure the runtime handles (see [`ErrorKind`](crate::ErrorKind)):
    /// bad frames, handler errors and panics, deadlines, slow consumers, pub/sub failures.
    /// Runs inline, so keep it quick (log, count).
    pub fn on_error<F>(mut self, hook: F) -> Self
    where
        F: Fn(&ErrorEvent) + Send + Sync + 'static,
    {
        self.on_error.push(Arc::new(hook));
        self
    }

    /// Decides at the upgrade whether a connection is accepted, and with which data. It
    /// sees the HTTP request (headers, query, path parameters, the token); a
    /// [`Rejection`] answers HTTP 401 or 403 and no WebSocket is created.
    pub fn authenticate<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(UpgradeRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<D, Rejection>> + Send + 'static,
    {
        self.authenticate = Some(Arc::new(move |req| Box::pin(hook(req))));
        self
    }

    /// The data every connection starts with when there is no
    /// [`authenticate`](Self::authenticate) hook.
    pub fn initial_data<F>(mut self, make: F) -> Self
    where
        F: Fn() -> D + Send + Sync + 'static,
    {
        self.initial_data = Some(Arc::new(make));
        self
    }

    /// Combines two routers. `other`'s global middleware keeps wrapping only `other`'s
    /// routes; hooks of both run (this router's first).
    ///
    /// # Errors
    /// [`RouterError::DuplicateRoute`] when both handle one type,
    /// [`RouterError::ConflictingDeadline`] when both set a deadline for one type,
    /// [`RouterError::DuplicateAuthenticate`] when both have an `authenticate` hook.
    pub fn merge(mut self, other: Router<D>) -> Result<Self, RouterError> {
        if let Some(wire_type) = other.routes.keys().find(|t| self.routes.contains_key(*t)) {
            return Err(RouterError::DuplicateRoute { wire_type });
        }
        if self.authenticate.is_some() && other.authenticate.is_some() {
            return Err(RouterError::DuplicateAuthenticate);
        }
        for (wire_type, theirs) in &other.options {
            let ours = self.options.get(wire_type);
            if theirs.deadline.is_some() && ours.is_some_and(|o| o.deadline.is_some()) {
                return Err(RouterError::ConflictingDeadline { wire_type });
            }
        }

        for (wire_type, mut entry) in other.routes {
            let mut scoped = other.middleware.clone();
            scoped.append(&mut entry.scoped);
            entry.scoped = scoped;
            self.routes.insert(wire_type, entry);
        }
        for (wire_type, theirs) in other.options {
            let ours = self.options.entry(wire_type).or_default();
            ours.middleware.extend(theirs.middleware);
            ours.deadline = ours.deadline.or(theirs.deadline);
        }
        self.deferred.extend(other.deferred);
        self.on_open.extend(other.on_open);
        self.on_close.extend(other.on_close);
        self.on_error.extend(other.on_error);
        self.authenticate = self.authenticate.or(other.authenticate);
        self.initial_data = self.initial_data.or(other.initial_data);
        Ok(self)
    }

    /// The wire types this router handles, sorted.
    pub fn wire_types(&self) -> Vec<&'static str> {
        let mut types: Vec<_> = self.routes.keys().copied().collect();
        types.sort_unstable();
        types
    }

    /// Checks the router and freezes it for serving: its routes, and where its `on_error`
    /// hooks hear of failures.
    pub(crate) fn build(mut self) -> Result<(Routes<D>, ErrorSink), RouterError> {
        if let Some(err) = self.deferred.into_iter().next() {
            return Err(err);
        }
        if let Some(wire_type) = self.options.keys().find(|t| !self.routes.contains_key(*t)) {
            return Err(RouterError::OptionWithoutRoute { wire_type });
        }
        let initial = match (self.authenticate, self.initial_data) {
            (Some(hook), _) => InitialData::Authenticate(hook),
            (None, Some(make)) => InitialData::Factory(make),
            (None, None) if unit::<D>().is_some() => InitialData::Unit,
            (None, None) => {
                return Err(RouterError::NoInitialData {
                    data_type: type_name::<D>(),
                });
            }
        };
        let table = self
            .routes
            .into_iter()
            .map(|(wire_type, entry)| {
                let options = self.options.remove(wire_type).unwrap_or_default();
                let chain: Vec<_> = self
                    .middleware
                    .iter()
                    .cloned()
                    .chain(entry.scoped)
                    .chain(options.middleware)
                    .collect();
                let route = Route {
                    wire_type,
                    endpoint: entry.endpoint,
                    chain: (!chain.is_empty()).then(|| Arc::from(chain)),
                    deadline: options.deadline,
                };
                (wire_type, route)
            })
            .collect();
        let hooks = self.on_error;
        let errors = ErrorSink::new((!hooks.is_empty()).then(|| -> ErrorHook {
            Arc::new(move |event: &ErrorEvent| hooks.iter().for_each(|hook| hook(event)))
        }));
        let routes = Routes {
            table,
            on_open: self.on_open,
            on_close: self.on_close,
            initial,
        };
        Ok((routes, errors))
    }
}

fn erase_middleware<D, F, Fut>(middleware: F) -> Middleware<D>
where
    D: Send + Sync + 'static,
    F: Fn(Context<D>, Next<D>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ErrorPayload>> + Send + 'static,
{
    Arc::new(move |ctx, next| Box::pin(middleware(ctx, next)))
}

/// `()` as a `D`, when `D` is `()`: connections of a data-less router need no hook.
pub(crate) fn unit<D: 'static>() -> Option<D> {
    let unit: Box<dyn Any> = Box::new(());
    unit.downcast::<D>().ok().map(|d| *d)
}

/// Where a connection's initial data comes from.
pub(crate) enum InitialData<D> {
    Authenticate(AuthHook<D>),
    Factory(DataFactory<D>),
    Unit,
}

/// One route, ready to serve.
pub(crate) struct Route<D> {
    pub wire_type: &'static str,
    pub endpoint: Box<dyn Endpoint<D>>,
    pub chain: Option<Arc<[Middleware<D>]>>,
    pub deadline: Option<Duration>,
}

/// A built router.
pub(crate) struct Routes<D> {
    pub table: HashMap<&'static str, Route<D>>,
    pub on_open: Vec<OpenHook<D>>,
    pub on_close: Vec<CloseHook<D>>,
    pub initial: InitialData<D>,
}
