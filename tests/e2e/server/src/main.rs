//! `twinwire-e2e-server`: the chat protocol's generated `ChatHandlers` on twinwire-runtime,
//! served for the Node end-to-end tests of the generated TypeScript client
//! (`tests/e2e`). Not an example of a good chat server: it exists to make every
//! client behaviour observable on demand.
//!
//! Usage: `twinwire-e2e-server [--port N] [--progress-data-field]`. Listens on 127.0.0.1 (port
//! 0, the default, picks a free one; `--port` lets a restarted server reuse its predecessor's
//! port) and prints one line, `twinwire-e2e-server: listening on ws://127.0.0.1:<port>/`, once
//! it accepts connections. Stops gracefully on SIGTERM or Ctrl-C.
//! `--progress-data-field` also writes each RPC progress value under `data`, which is where
//! WS-Kit's own client reads it.
//!
//! # Auth
//!
//! The upgrade needs a token (`access_token` query parameter, `bearer.<token>` subprotocol or
//! `Authorization: Bearer`) of the form `valid.<name>`; anything else is refused with close code 4401.
//! `AUTHENTICATE` with that same token answers `AUTH_SUCCESS` with the upgrade's user, any
//! other token an `ERROR` `UNAUTHENTICATED`.
//!
//! # Behaviour
//!
//! - On open: `ROOM_LIST` of the rooms that exist (a room exists once joined or posted to).
//! - `JOIN_ROOM`: leaves the current room, subscribes, announces `USER_JOINED` to the room
//!   (the joiner included). `LEAVE_ROOM` (and closing) announce `USER_LEFT`; leaving a room
//!   one is not in is an `ERROR` `FAILED_PRECONDITION`.
//! - `SEND_MESSAGE`: stored in the room's history, echoed to the sender as `CHAT_MESSAGE` and
//!   published to the room's other members. The echo does not depend on membership, so frames
//!   a client queued while offline come back even when they race its `JOIN_ROOM`.
//! - `TYPING_START` / `TYPING_STOP`: `USER_TYPING` to the room's other members.
//! - `GET_MESSAGES`: two progress frames, `{"phase":"lookup"}` and
//!   `{"phase":"collect","count":N}`, then the newest `limit` messages; a room that does not
//!   exist is an `RPC_ERROR` `NOT_FOUND` with `details.roomId`.
//! - `CALCULATE`: `a + b` or `a * b`; a result that is not finite (`1e308 * 10`) is an
//!   `RPC_ERROR` `INVALID_ARGUMENT` with the operands in `details`.
//!
//! # Test-only triggers (magic room ids)
//!
//! - `GET_MESSAGES` of room [`HOLD_ROOM`](service::HOLD_ROOM) (`e2e:hold`): sends the progress
//!   `{"held":true}`, then waits (at most a minute) for a release: each `TYPING_START` of room
//!   [`RELEASE_ROOM`](service::RELEASE_ROOM) (`e2e:release`) on the same connection releases
//!   one held request, or the next one if none is held yet. Then it replies (late, for the
//!   timeout and abort tests) with an empty `MESSAGES` and right after it sends the marker
//!   `USER_LEFT {roomId: "e2e:hold"}`, so a test knows the late reply has reached the client.
//! - `TYPING_START` of room [`INVALID_FRAME_ROOM`](service::INVALID_FRAME_ROOM)
//!   (`e2e:invalid-chat-message`): sends a `CHAT_MESSAGE` without `userName` (invalid for the
//!   client), then a valid `CHAT_MESSAGE` whose id is
//!   [`AFTER_INVALID_ID`](service::AFTER_INVALID_ID) (`e2e:after-invalid`).
//!
//! Every error the runtime handles is logged to stderr.

mod auth;
mod service;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
// The router trait and function generated from `chat_protocol::Chat`: the checked-in
// `examples/chat/generated/router.rs` (`twinwire check` proves it fresh), as the fixture crate
// (tests/fixture) compiles it.
use twinwire_codegen_fixture::chat as generated;
use twinwire_runtime::{ErrorEvent, Router, Server, ServerConfig};

use crate::service::{E2eService, Session};

/// How long a stopping server lets handlers finish. Held requests would otherwise keep a
/// SIGTERM waiting for the default ten seconds.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// The test server of twinwire's TypeScript end-to-end tests.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Leave RPC progress values out of `data` (written by default for WS-Kit's own client).
    #[arg(long)]
    no_progress_data_field: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("twinwire-e2e-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let config = ServerConfig::default()
        .progress_data_field(!args.no_progress_data_field)
        .shutdown_grace(SHUTDOWN_GRACE);
    let server = Server::builder(router())
        .config(config)
        .build()
        .map_err(|err| format!("invalid router: {err}"))?;
    let handle = server
        .bind(("127.0.0.1", args.port))
        .await
        .map_err(|err| format!("cannot listen on 127.0.0.1:{}: {err}", args.port))?;
    // The tests wait for this line and read the URL from it.
    println!("twinwire-e2e-server: listening on {}", handle.url());
    shutdown_signal().await?;
    handle
        .shutdown()
        .await
        .map_err(|err| format!("serving failed: {err}"))
}

fn router() -> Router<Session> {
    generated::chat_router(E2eService::default())
        .authenticate(|request| async move {
            let user = auth::user_for_token(request.token().as_deref())?;
            Ok(Session::new(user))
        })
        .on_error(log_error)
}

fn log_error(event: &ErrorEvent) {
    let connection = event
        .connection
        .map_or_else(|| "-".to_owned(), |id| id.to_string());
    let wire_type = event.wire_type.as_deref().unwrap_or("-");
    eprintln!(
        "twinwire-e2e-server: {:?} on {connection} ({wire_type}): {} {}",
        event.kind, event.error.code, event.error.message
    );
}

async fn shutdown_signal() -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())
        .map_err(|err| format!("cannot listen for SIGTERM: {err}"))?;
    tokio::select! {
        _ = term.recv() => Ok(()),
        result = tokio::signal::ctrl_c() => {
            result.map_err(|err| format!("cannot listen for Ctrl-C: {err}"))
        }
    }
}
