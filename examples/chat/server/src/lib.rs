//! The chat example's server: the WS-Kit tutorial's chat on `twinwire-runtime`, plus its web
//! page, on one port.
//!
//! The handlers implement the trait generated from `chat-protocol`
//! (`examples/chat/generated/router.rs`, included as [`generated`]), so a protocol change
//! that the server does not follow fails to compile here, and the same change reaches the
//! page through the generated TypeScript.
//!
//! - `GET /ws` upgrades to the chat's WebSocket ([`WS_PATH`]).
//! - Any other `GET` serves a file of [`ChatConfig::static_dir`] (the bundled page).
//!
//! Behaviour: a connection starts as a guest (`Guest <n>`) and gets `ROOM_LIST` at once, and
//! again whenever a room's member count changes. `AUTHENTICATE` signs it in (a demo: every
//! token is accepted and is the display name, see [`Session::sign_in`]). `JOIN_ROOM` needs a
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

use axum::http::{Method, Uri};
use twinwire_runtime::{PubSub, Router, RouterError, Server, ServerConfig, ServerHandle};

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

pub use rooms::{RoomError, RoomSpec};
pub use session::{MAX_NAME_CHARS, Session, User};

use assets::Assets;
use rooms::Rooms;
use service::ChatService;

/// The path of the WebSocket endpoint.
pub const WS_PATH: &str = "/ws";

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
pub fn router(rooms: Vec<RoomSpec>, history_limit: usize) -> Result<Router<Session>, RoomError> {
    let rooms = Arc::new(Rooms::new(rooms, history_limit)?);
    let connections = AtomicU64::new(0);
    Ok(generated::chat_router(ChatService::new(rooms))
        .initial_data(move || Session::new(connections.fetch_add(1, Ordering::Relaxed) + 1)))
}

/// Starts a chat server in the background: binds, then serves the WebSocket endpoint at
/// [`WS_PATH`] and the page's files on the same port.
///
/// # Errors
/// A [`StartError`] when the rooms or router are invalid or the address cannot be bound.
pub async fn start(config: ChatConfig) -> Result<ChatServer, StartError> {
    let router = router(config.rooms, config.history_limit).map_err(StartError::Rooms)?;
    let mut builder = Server::builder(router).config(config.server);
    if let Some(pubsub) = config.pubsub {
        builder = builder.pubsub(pubsub);
    }
    let server = builder.build().map_err(StartError::Router)?;
    let assets = Assets::new(config.static_dir);
    let page_built = assets.has_index();
    let app = axum::Router::new().route(WS_PATH, server.route()).fallback(
        move |method: Method, uri: Uri| {
            let assets = assets.clone();
            async move { assets.respond(&method, &uri).await }
        },
    );

    let handle = server
        .bind_app(config.addr, app)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
    Ok(ChatServer { handle, page_built })
}

/// A running chat server, from [`start`].
///
/// Dropping it stops the listener; [`shutdown`](Self::shutdown) also closes the open
/// connections gracefully and waits for them.
pub struct ChatServer {
    handle: ServerHandle<Session>,
    page_built: bool,
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
