//! Serving a router: [`Server`] (mount it in an axum app, bind it standalone or with an
//! app's own routes), its [`ServerHandle`], and the one-call [`serve`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams};
use axum::http::{Request, Response};
use axum::response::IntoResponse;
use axum::routing::MethodRouter;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use twinwire::ServerMessage;

use crate::config::ServerConfig;
use crate::connection::ConnectionId;
use crate::context::PublishOptions;
use crate::error::{PublishError, RouterError};
use crate::handle::ConnectionHandle;
use crate::listener;
use crate::pubsub::{MemoryPubSub, PubSub};
use crate::router::{Router, Routes};
use crate::server_state::ServerState;
use crate::upgrade::upgrade;

/// Builds a [`Server`] with a configuration and a pub/sub backend.
pub struct ServerBuilder<D> {
    router: Router<D>,
    config: ServerConfig,
    pubsub: Option<Arc<dyn PubSub>>,
}

impl<D: Send + Sync + 'static> ServerBuilder<D> {
    /// Sets the configuration (default: [`ServerConfig::default`]).
    #[must_use]
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the pub/sub backend (default: a fresh [`MemoryPubSub`]).
    #[must_use]
    pub fn pubsub(mut self, pubsub: Arc<dyn PubSub>) -> Self {
        self.pubsub = Some(pubsub);
        self
    }

    /// Checks the router and builds the server.
    ///
    /// # Errors
    /// A [`RouterError`] for a router that cannot be served: two handlers for one type, a
    /// reserved type, an option for a type without a handler, or no way to create the
    /// connections' data.
    pub fn build(self) -> Result<Server<D>, RouterError> {
        let (routes, errors) = self.router.build()?;
        let pubsub = self.pubsub.unwrap_or_else(|| Arc::new(MemoryPubSub::new()));
        pubsub.attach(errors.clone());
        Ok(Server {
            state: Arc::new(ServerState::new(self.config, pubsub, errors)),
            routes: Arc::new(routes),
        })
    }
}

/// A router ready to serve WebSocket connections.
///
/// Run it on its own with [`bind`](Self::bind) (or the [`serve`] function), beside an
/// app's own routes with [`bind_app`](Self::bind_app), or mount it in an axum app you
/// serve yourself with [`route`](Self::route). Cloning is cheap; clones serve the same
/// connections.
///
/// `bind` and `bind_app` use the runtime's own listener, which sets `TCP_NODELAY` on every
/// socket, counts unfinished handshakes toward
/// [`max_connections`](crate::ServerConfig::max_connections) and closes them at the
/// [`handshake_timeout`](crate::ServerConfig::handshake_timeout). `axum::serve` does none
/// of this; when you serve the app yourself, at least set `TCP_NODELAY` (without it a
/// frame written right after another can wait about 40 ms for the client's delayed ACK):
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use axum::serve::ListenerExt;
/// use twinwire_runtime::{Router, Server};
///
/// let server = Server::new(Router::<()>::new())?;
/// let app = axum::Router::new().route("/rooms/{room}/ws", server.route());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
///     .await?
///     .tap_io(|tcp| {
///         let _ = tcp.set_nodelay(true);
///     });
/// axum::serve(listener, app).await?;
/// # Ok(()) }
/// ```
pub struct Server<D = ()> {
    state: Arc<ServerState>,
    routes: Arc<Routes<D>>,
}

impl<D> Clone for Server<D> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            routes: Arc::clone(&self.routes),
        }
    }
}

impl<D> fmt::Debug for Server<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("connections", &self.state.connection_count())
            .field("config", &self.state.config)
            .finish_non_exhaustive()
    }
}

impl<D: Send + Sync + 'static> Server<D> {
    /// A server with the default configuration and in-memory pub/sub.
    ///
    /// # Errors
    /// As [`ServerBuilder::build`].
    pub fn new(router: Router<D>) -> Result<Self, RouterError> {
        Self::builder(router).build()
    }

    /// Starts building a server from `router`.
    pub fn builder(router: Router<D>) -> ServerBuilder<D> {
        ServerBuilder {
            router,
            config: ServerConfig::default(),
            pubsub: None,
        }
    }

    /// An axum route (any method; non-upgrade requests are answered with an HTTP error)
    /// that upgrades requests to this server's WebSocket. Path parameters of the mount
    /// point reach the `authenticate` hook; serve the app with
    /// `into_make_service_with_connect_info::<SocketAddr>()` to give it the peer address.
    pub fn route<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let server = self.clone();
        axum::routing::any(move |request: Request<Body>| {
            let server = server.clone();
            async move { server.handle(request).await }
        })
    }

    /// An axum app that upgrades at every path.
    pub fn into_axum_router(self) -> axum::Router {
        axum::Router::new().fallback_service(self.route::<()>().with_state(()))
    }

    /// Publishes `msg` to `topic` from outside any handler (a background job, an HTTP
    /// endpoint).
    ///
    /// # Errors
    /// As [`Context::publish`](crate::Context::publish).
    pub async fn publish<M: ServerMessage>(
        &self,
        topic: &str,
        msg: &M,
    ) -> Result<(), PublishError> {
        self.state.publish(topic, msg, None, None).await
    }

    /// Publishes `msg` to `topic` from outside any handler, with options: e.g.
    /// [`PublishOptions::exclude`] skips the connection whose HTTP request caused it.
    /// ([`PublishOptions::exclude_self`] has no publisher to skip here.)
    ///
    /// # Errors
    /// As [`Context::publish`](crate::Context::publish).
    pub async fn publish_with<M: ServerMessage>(
        &self,
        topic: &str,
        msg: &M,
        options: PublishOptions,
    ) -> Result<(), PublishError> {
        self.state
            .publish(topic, msg, None, options.excluded(None))
            .await
    }

    /// [`publish_with`](Self::publish_with) for a message with typed meta (declared with
    /// `#[message("TYPE", meta = T)]`).
    ///
    /// # Errors
    /// As [`Context::publish`](crate::Context::publish).
    pub async fn publish_with_typed_meta<M: ServerMessage>(
        &self,
        topic: &str,
        msg: &M,
        meta: &M::Meta,
        options: PublishOptions,
    ) -> Result<(), PublishError> {
        self.state
            .publish(topic, msg, Some(meta), options.excluded(None))
            .await
    }

    /// How many connections of this server instance are subscribed to `topic` (see
    /// [`PubSub::subscriber_count`]).
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.state.pubsub.subscriber_count(topic)
    }

    /// The ids of the open connections, oldest first. A connection is listed from just
    /// before its `on_open` hooks run until its `on_close` hooks have run.
    pub fn connections(&self) -> Vec<ConnectionId> {
        self.state.connection_ids()
    }

    /// A handle to send to or close open connection `id`; `None` once it has closed.
    pub fn connection(&self, id: ConnectionId) -> Option<ConnectionHandle> {
        self.state
            .outbox(id)
            .map(|outbox| ConnectionHandle::new(id, outbox))
    }

    /// How many WebSocket connections are open.
    pub fn connection_count(&self) -> usize {
        self.state.connection_count()
    }

    /// Closes every connection gracefully and waits until they are gone: new upgrades
    /// get HTTP 503, each connection stops reading, lets its in-flight handlers finish
    /// (within `ServerConfig::shutdown_grace`), sends what they queued, and closes with
    /// 1001.
    pub async fn shutdown(&self) {
        self.state.shut_down().await;
    }

    /// Binds `addr` and serves in a background task until [`ServerHandle::shutdown`].
    ///
    /// # Errors
    /// The bind error.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<ServerHandle<D>> {
        let app = self.clone().into_axum_router();
        self.bind_app(addr, app).await
    }

    /// Binds `addr` and serves `app` in a background task until [`ServerHandle::shutdown`]:
    /// an axum app that mounts this server's [`route`](Self::route) among routes of its
    /// own (static files, health checks). It is served as [`bind`](Self::bind) serves, by
    /// the runtime's own listener: HTTP/1.1 with `TCP_NODELAY`, the peer address for the
    /// `authenticate` hook, every accepted connection counted toward
    /// [`max_connections`](crate::ServerConfig::max_connections) (a connection over the
    /// limit gets `503` at once), the
    /// [`handshake_timeout`](crate::ServerConfig::handshake_timeout) for request heads, and
    /// the same graceful shutdown of this server's connections.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use twinwire_runtime::{Router, Server};
    ///
    /// let server = Server::new(Router::<()>::new())?;
    /// let app = axum::Router::new()
    ///     .route("/ws", server.route())
    ///     .route("/health", axum::routing::get(|| async { "ok" }));
    /// let running = server.bind_app("127.0.0.1:3000", app).await?;
    /// running.shutdown().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The bind error.
    pub async fn bind_app(
        self,
        addr: impl ToSocketAddrs,
        app: axum::Router,
    ) -> io::Result<ServerHandle<D>> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(listener::serve(
            listener,
            app,
            Arc::clone(&self.state),
            stopped,
        ));
        Ok(ServerHandle {
            server: self,
            local_addr,
            stop: Some(stop),
            task,
        })
    }

    /// Answers one request to [`route`](Self::route).
    async fn handle(self, request: Request<Body>) -> Response<Body> {
        let (mut parts, body) = request.into_parts();
        let path_params = match RawPathParams::from_request_parts(&mut parts, &()).await {
            Ok(params) => params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            // Mounted as a fallback: there are no parameters.
            Err(RawPathParamsRejection::MissingPathParams(_)) => Vec::new(),
            Err(rejection) => return rejection.into_response(),
        };
        let remote_addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0);
        upgrade(
            self.state,
            self.routes,
            Request::from_parts(parts, body),
            path_params,
            remote_addr,
        )
        .await
    }
}

/// A server running in the background, from [`Server::bind`] or [`Server::bind_app`].
pub struct ServerHandle<D = ()> {
    server: Server<D>,
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl<D> fmt::Debug for ServerHandle<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl<D: Send + Sync + 'static> ServerHandle<D> {
    /// The address the server listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The `ws://` URL of the server's root path.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.local_addr)
    }

    /// The running server, e.g. to publish or count connections.
    pub fn server(&self) -> &Server<D> {
        &self.server
    }

    /// Serves until `signal` resolves, then shuts down gracefully (see
    /// [`shutdown`](Self::shutdown)).
    ///
    /// # Errors
    /// The listener's I/O error, if it failed, before the signal or while shutting down.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> io::Result<()> {
        tokio::select! {
            result = &mut self.task => {
                return match result {
                    Ok(result) => result,
                    Err(join) => Err(io::Error::other(join)),
                };
            }
            () = signal => {}
        }
        self.shutdown().await
    }

    /// Stops accepting connections, closes the open ones gracefully (see
    /// [`Server::shutdown`]) and waits for the listener task to end.
    ///
    /// # Errors
    /// The listener's I/O error, if it failed.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.server.state.begin_shutdown();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.shutdown().await;
        match (&mut self.task).await {
            Ok(result) => result,
            Err(join) => Err(io::Error::other(join)),
        }
    }
}

impl<D> Drop for ServerHandle<D> {
    fn drop(&mut self) {
        // A handle dropped without `shutdown` still stops the listener, so tests cannot
        // leak servers; open connections end with the runtime.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Why [`serve`] stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServeError {
    /// The router cannot be served.
    Router(RouterError),
    /// Binding or serving failed.
    Io(io::Error),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Router(err) => err.fmt(f),
            Self::Io(err) => write!(f, "serving failed: {err}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Router(err) => Some(err),
            Self::Io(err) => Some(err),
        }
    }
}

impl From<RouterError> for ServeError {
    fn from(err: RouterError) -> Self {
        Self::Router(err)
    }
}

impl From<io::Error> for ServeError {
    fn from(err: io::Error) -> Self {
        Self::Io(err)
    }
}

/// Serves `router` on `addr` at every path, with the default configuration, until Ctrl-C;
/// then shuts down gracefully.
///
/// # Errors
/// A [`ServeError`] if the router cannot be served or the address cannot be bound.
pub async fn serve<D: Send + Sync + 'static>(
    router: Router<D>,
    addr: impl ToSocketAddrs,
) -> Result<(), ServeError> {
    serve_until(router, addr, async {
        // Without a Ctrl-C handler (it could not be installed) the server runs until it fails.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await
}

/// Serves `router` on `addr` like [`serve`], until `shutdown` completes; then shuts down
/// gracefully (in-flight handlers finish, connections close with 1001).
///
/// # Errors
/// A [`ServeError`] if the router cannot be served, the address cannot be bound, or the
/// server stops on its own with an I/O error.
pub async fn serve_until<D: Send + Sync + 'static>(
    router: Router<D>,
    addr: impl ToSocketAddrs,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let handle = Server::new(router)?.bind(addr).await?;
    handle.run_until(shutdown).await?;
    Ok(())
}
