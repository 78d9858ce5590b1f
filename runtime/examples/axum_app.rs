//! The chat protocol in an axum app: a `{room}` path, connection data from `authenticate`,
//! and graceful shutdown combined with axum's.
use chat_protocol::{JoinRoom, UserJoined};
use twinwire_runtime::axum::{self, routing::get};
use twinwire_runtime::{Context, Rejection, Router, Server, UpgradeRequest};

/// Decided once per connection, at the upgrade; handlers read it with `ctx.data`.
struct User {
    name: String,
    room: String,
}

async fn authenticate(request: UpgradeRequest) -> Result<User, Rejection> {
    // Check the token with your identity provider; this one knows a single user.
    let name = match request.token().as_deref() {
        Some("alice-token") => "alice".to_owned(),
        // The client gets close code 4401 (RefusedError "unauthenticated" in TypeScript).
        _ => return Err(Rejection::unauthenticated("a valid token is required")),
    };
    let room = request.path_param("room").unwrap_or("lobby").to_owned();
    Ok(User { name, room })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let router = Router::<User>::new().authenticate(authenticate).on(
        |ctx: Context<User>, _: JoinRoom| async move {
            let (name, room) = ctx.data(|u| (u.name.clone(), u.room.clone()));
            ctx.subscribe(&room).await?;
            let joined = UserJoined {
                room_id: room.clone(),
                user_id: name.clone(),
                user_name: name,
            };
            ctx.publish(&room, &joined).await?;
            Ok(())
        },
    );
    let server = Server::new(router)?;
    let app = axum::Router::new()
        .route("/rooms/{room}/ws", server.route())
        .route("/health", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    // With connect info, `UpgradeRequest::remote_addr` knows the peer.
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            // Without this, axum waits for the WebSockets forever, or drops them (1006)
            // and `on_close` never runs; this closes them with 1001 after their handlers.
            server.shutdown().await;
        })
        .await?;
    Ok(())
}
