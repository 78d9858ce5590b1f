//! The chat example's server: the WS-Kit tutorial's chat on `twinwire-runtime`, plus its web
//! page, on one port.
//!
//! The handlers implement the trait generated from `chat-protocol`
//! (`examples/chat/generated/router.rs`, included as [`generated`]), so a protocol change
//! that the server does not follow fails to compile here, and the same change reaches the
//! page through the generated TypeScript.
//!
//! - `GET /ws` upgrades to the chat's WebSocket ([`WS_PATH`]), signed in when the request
//!   carries a valid token (`access_token`, a `bearer.<token>` subprotocol or an
//!   `Authorization: Bearer` header); an invalid or expired token is refused with close code
//!   4401, no token connects a guest.
//! - `POST /api/sign-in` ([`SIGN_IN_PATH`]) checks `{"name", "password"}` against the user
//!   table ([`Accounts`]; by default the [`DEMO_USERS`]) and answers `{"token"}` (a signed
//!   token, see [`Accounts`]) or 401.
//! - Any other `GET` serves a file of [`ChatConfig::static_dir`] (the bundled page).
//!
//! Behaviour: a connection starts as a guest (`Guest <n>`) and gets `ROOM_LIST` at once, and
//! again whenever a room's member count changes. `AUTHENTICATE` with a token signs it in too
//! (answered `AUTH_SUCCESS` with the request's correlation id, or `UNAUTHENTICATED`). `JOIN_ROOM` needs a
//! signed-in user (`UNAUTHENTICATED`) and an existing room (`NOT_FOUND`), leaves the previous
//! room, confirms with `USER_JOINED` and announces it to the room. `SEND_MESSAGE` and typing
//! need membership of the room (`PERMISSION_DENIED`); `USER_TYPING` reaches the others only.
//! `LEAVE_ROOM` and closing announce `USER_LEFT`. `GET_MESSAGES` answers the newest messages
//! of the member's room from an in-memory history of at most
//! [`ChatConfig::history_limit`] messages per room. `CALCULATE` adds or multiplies.
//!
//! Several instances can share rooms through a pub/sub backend ([`ChatConfig::pubsub`]):
//! messages, joins and typing then reach every instance's members, but member counts and
//! history stay per instance.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = chat_server::ChatConfig::new(([127, 0, 0, 1], 8080).into(), "examples/chat/web/dist");
//! let server = chat_server::start(config).await?;
//! println!("open {}", server.http_url());
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use twinwire_runtime::axum;
use twinwire_runtime::axum::body::Bytes;
use twinwire_runtime::axum::http::{Method, StatusCode, Uri, header};
use twinwire_runtime::{
    PubSub, Rejection, Router, RouterError, Server, ServerConfig, ServerHandle, UpgradeRequest,
};

mod accounts;
mod assets;
mod rooms;
mod service;
mod session;

/// The router trait and function generated from `chat_protocol::Chat` by `twinwire generate`
/// (checked in; `twinwire check` proves it fresh).
pub mod generated {
    // `include!` rather than `#[path]`: rustfmt follows module paths, and the generated
    // file is formatted by the generator, not by this crate's `cargo fmt`.
    include!("../../generated/router.rs");
}

pub use accounts::{Accounts, DEMO_USERS, TOKEN_LIFETIME, TokenError};
pub use rooms::{RoomError, RoomSpec};
pub use session::{MAX_NAME_CHARS, Session, User};

use assets::Assets;
use rooms::Rooms;
use service::ChatService;

/// The path of the WebSocket endpoint.
pub const WS_PATH: &str = "/ws";

/// Where the page posts `{"name", "password"}` to get a token: `{"token"}`, or 401.
pub const SIGN_IN_PATH: &str = "/api/sign-in";

/// Prometheus text, when [`ChatConfig::metrics`] is set.
pub const METRICS_PATH: &str = "/metrics";

/// Messages kept per room by default.
pub const DEFAULT_HISTORY_LIMIT: usize = 200;

/// How to run a chat server.
#[derive(Clone)]
pub struct ChatConfig {
    /// Where to listen; port 0 picks a free port ([`ChatServer::local_addr`] tells which).
    pub addr: SocketAddr,
    /// The folder of the built web page (`index.html`, `app.js`, ...).
    pub static_dir: PathBuf,
    /// The pub/sub backend; `None` is the runtime's in-memory one (a single instance).
    pub pubsub: Option<Arc<dyn PubSub>>,
    /// The rooms, in display order.
    pub rooms: Vec<RoomSpec>,
    /// Messages kept per room for `GET_MESSAGES`; older ones are dropped.
    pub history_limit: usize,
    /// The runtime's limits and timeouts.
    pub server: ServerConfig,
    /// The users and the token secret; `None`: the [`DEMO_USERS`] and a random secret
    /// (tokens then work on this process only: give instances sharing Redis one secret).
    pub accounts: Option<Accounts>,
    /// Serves `GET /metrics` in Prometheus text from this recorder's handle (`--metrics`);
    /// `None`: no such route.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl fmt::Debug for ChatConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatConfig")
            .field("addr", &self.addr)
            .field("static_dir", &self.static_dir)
            .field("pubsub", &self.pubsub.as_ref().map(|_| "custom"))
            .field("rooms", &self.rooms)
            .field("history_limit", &self.history_limit)
            .field("server", &self.server)
            .field("accounts", &self.accounts)
            .field("metrics", &self.metrics.is_some())
            .finish()
    }
}

impl ChatConfig {
    /// The defaults: in-memory pub/sub, [`default_rooms`], [`DEFAULT_HISTORY_LIMIT`], the
    /// runtime's default limits.
    pub fn new(addr: SocketAddr, static_dir: impl Into<PathBuf>) -> Self {
        Self {
            addr,
            static_dir: static_dir.into(),
            pubsub: None,
            rooms: default_rooms(),
            history_limit: DEFAULT_HISTORY_LIMIT,
            server: ServerConfig::default(),
            accounts: None,
            metrics: None,
        }
    }
}

/// The rooms of the tutorial: `general`, `random` and `tech`.
pub fn default_rooms() -> Vec<RoomSpec> {
    vec![
        RoomSpec::new("general", "General"),
        RoomSpec::new("random", "Random"),
        RoomSpec::new("tech", "Tech"),
    ]
}

/// Why a chat server did not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The room list cannot be served.
    Rooms(RoomError),
    /// No randomness for the token secret.
    Secret(getrandom::Error),
    /// The runtime refused the router.
    Router(RouterError),
    /// The address could not be bound.
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rooms(err) => err.fmt(f),
            Self::Secret(err) => write!(f, "cannot draw a token secret: {err}"),
            Self::Router(err) => write!(f, "the chat router cannot be served: {err}"),
            Self::Bind { addr, source } => write!(
                f,
                "cannot listen on {addr}: {source} (is another server using the port? pick \
                 another with --port)"
            ),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Rooms(err) => Some(err),
            Self::Secret(_) => None,
            Self::Router(err) => Some(err),
            Self::Bind { source, .. } => Some(source),
        }
    }
}

/// The chat's runtime router: the generated routing to the chat handlers, with a fresh
/// [`Session`] per connection.
///
/// # Errors
/// A [`RoomError`] for a room list that cannot be served.
pub fn router(
    rooms: Vec<RoomSpec>,
    history_limit: usize,
    accounts: Arc<Accounts>,
) -> Result<Router<Session>, RoomError> {
    let rooms = Arc::new(Rooms::new(rooms, history_limit)?);
    let connections = Arc::new(AtomicU64::new(0));
    let service = ChatService::new(rooms, Arc::clone(&accounts));
    Ok(
        generated::chat_router(service).authenticate(move |request: UpgradeRequest| {
            let number = connections.fetch_add(1, Ordering::Relaxed) + 1;
            // Verified here, before the WebSocket exists: a bad token never gets a frame in.
            let verified = request.token().map(|token| accounts.verify(&token));
            async move {
                let mut session = Session::new(number);
                match verified {
                    // No token: a guest, who sees the rooms and must sign in to chat.
                    None => {}
                    Some(Ok(name)) => {
                        session.sign_in(&name);
                    }
                    Some(Err(err)) => return Err(Rejection::unauthenticated(err.to_string())),
                }
                Ok(session)
            }
        }),
    )
}

/// Answers a sign-in: `{"name", "password"}` in, `{"token"}` or a 400/401 error out.
fn sign_in(accounts: &Accounts, body: &[u8]) -> (StatusCode, String) {
    #[derive(serde::Deserialize)]
    struct Credentials {
        name: String,
        password: String,
    }
    let error = |code: &str, message: &str| {
        serde_json::json!({ "code": code, "message": message }).to_string()
    };
    let Ok(credentials) = serde_json::from_slice::<Credentials>(body) else {
        let message = "expected a JSON body {\"name\": ..., \"password\": ...}";
        return (StatusCode::BAD_REQUEST, error("INVALID_ARGUMENT", message));
    };
    match accounts.sign_in(&credentials.name, &credentials.password) {
        Some(token) => (
            StatusCode::OK,
            serde_json::json!({ "token": token }).to_string(),
        ),
        None => (
            StatusCode::UNAUTHORIZED,
            error("UNAUTHENTICATED", "unknown user or wrong password"),
        ),
    }
}

/// Starts a chat server in the background: binds, then serves the WebSocket endpoint at
/// [`WS_PATH`] and the page's files on the same port.
///
/// # Errors
/// A [`StartError`] when the rooms or router are invalid or the address cannot be bound.
pub async fn start(config: ChatConfig) -> Result<ChatServer, StartError> {
    let accounts = match config.accounts {
        Some(accounts) => accounts,
        None => Accounts::random()
            .map_err(StartError::Secret)?
            .with_demo_users(),
    };
    let accounts = Arc::new(accounts);
    let router = router(config.rooms, config.history_limit, Arc::clone(&accounts))
        .map_err(StartError::Rooms)?;
    let mut builder = Server::builder(router).config(config.server);
    if let Some(pubsub) = config.pubsub {
        builder = builder.pubsub(pubsub);
    }
    let server = builder.build().map_err(StartError::Router)?;
    let assets = Assets::new(config.static_dir);
    let page_built = assets.has_index();
    let metrics = config.metrics;
    let signing = Arc::clone(&accounts);
    let app = axum::Router::new()
        .route(WS_PATH, server.route())
        .route(
            SIGN_IN_PATH,
            axum::routing::post(move |body: Bytes| {
                let (status, body) = sign_in(&signing, &body);
                async move { (status, [(header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .route(
            METRICS_PATH,
            axum::routing::get(move || {
                let text = metrics.as_ref().map(|handle| handle.render());
                async move {
                    match text {
                        Some(text) => (
                            StatusCode::OK,
                            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                            text,
                        ),
                        None => (
                            StatusCode::NOT_FOUND,
                            [(header::CONTENT_TYPE, "text/plain")],
                            "metrics are off: start with --metrics\n".to_owned(),
                        ),
                    }
                }
            }),
        )
        .fallback(move |method: Method, uri: Uri| {
            let assets = assets.clone();
            async move { assets.respond(&method, &uri).await }
        });

    let handle = server
        .bind_app(config.addr, app)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
    Ok(ChatServer {
        handle,
        page_built,
        accounts,
    })
}

/// A running chat server, from [`start`].
///
/// Dropping it stops the listener; [`shutdown`](Self::shutdown) also closes the open
/// connections gracefully and waits for them.
pub struct ChatServer {
    handle: ServerHandle<Session>,
    page_built: bool,
    accounts: Arc<Accounts>,
}

impl fmt::Debug for ChatServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatServer")
            .field("local_addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

impl ChatServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    /// The page's URL, e.g. `http://127.0.0.1:8080/`.
    pub fn http_url(&self) -> String {
        format!("http://{}/", self.local_addr())
    }

    /// The WebSocket endpoint's URL, e.g. `ws://127.0.0.1:8080/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{WS_PATH}", self.local_addr())
    }

    /// The users and the token secret, e.g. to issue a token to a user signed in elsewhere.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// Whether the static folder held an `index.html` at start.
    pub fn page_built(&self) -> bool {
        self.page_built
    }

    /// The runtime server, e.g. to count connections.
    pub fn server(&self) -> &Server<Session> {
        self.handle.server()
    }

    /// Serves until `signal` resolves, then shuts down gracefully.
    ///
    /// # Errors
    /// The listener's I/O error, if it failed before the signal.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> io::Result<()> {
        self.handle.run_until(signal).await
    }

    /// Stops accepting connections, closes the open ones with 1001 after their in-flight
    /// handlers, and waits until the listener has stopped.
    ///
    /// # Errors
    /// The listener's I/O error, if it failed.
    pub async fn shutdown(self) -> io::Result<()> {
        self.handle.shutdown().await
    }
}
