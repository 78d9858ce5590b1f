//! The server under test: an `ECHO {text}` message answered `ECHOED {text}`, on 127.0.0.1:0,
//! without a rate limit or server pings (cases send many frames, and a ping of the server's
//! would come between the frames a case expects).

use std::time::Duration;

use twinwire::message;
use twinwire_runtime::{Context, Router, Server, ServerConfig, ServerHandle};

use crate::wire::{Client, PATIENCE};

/// The limit of [`config`]: room for the large framing cases.
pub const LARGE_LIMIT: usize = 1024 * 1024;

/// The limit of [`small_config`], for the 1009 cases.
pub const SMALL_LIMIT: usize = 1024;

/// Echo `text` back as `ECHOED`.
#[message("ECHO")]
pub struct Echo {
    pub text: String,
}

/// The answer to `ECHO`.
#[message("ECHOED")]
pub struct Echoed {
    pub text: String,
}

twinwire::protocol! {
    /// The messages of the conformance tests.
    pub ConformanceTests {
        client: [Echo],
        server: [Echoed],
    }
}

fn router() -> Router<()> {
    Router::new().on(|ctx: Context, msg: Echo| async move {
        ctx.send(&Echoed { text: msg.text })?;
        Ok(())
    })
}

/// Messages up to [`LARGE_LIMIT`]; a short close timeout, so that a case whose client does
/// not answer the server's close frame does not hold the server long.
pub fn config() -> ServerConfig {
    ServerConfig::default()
        .max_frame_size(LARGE_LIMIT)
        .rate_limit(None)
        .ping(None, PATIENCE)
        .close_timeout(Duration::from_millis(500))
}

/// Messages up to [`SMALL_LIMIT`].
pub fn small_config() -> ServerConfig {
    config().max_frame_size(SMALL_LIMIT)
}

pub async fn start(config: ServerConfig) -> ServerHandle {
    Server::builder(router())
        .config(config)
        .build()
        .expect("router builds")
        .bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

/// A raw client of `server`, past its opening handshake.
pub async fn connect(server: &ServerHandle) -> Client {
    Client::connect(server.local_addr()).await
}

/// An `ECHO` frame's JSON for `text`.
pub fn echo(text: &str) -> String {
    serde_json::json!({"type": "ECHO", "payload": {"text": text}}).to_string()
}

/// An `ECHO` frame's bytes with `text` spliced in as it is, valid UTF-8 or not.
pub fn echo_bytes(text: &[u8]) -> Vec<u8> {
    let mut bytes = br#"{"type":"ECHO","payload":{"text":""#.to_vec();
    bytes.extend_from_slice(text);
    bytes.extend_from_slice(br#""}}"#);
    bytes
}

/// An `ECHO` frame of exactly `len` bytes (its text padded), and its text.
pub fn echo_of_len(len: usize) -> (String, String) {
    let text = "x".repeat(len - echo("").len());
    let json = echo(&text);
    assert_eq!(json.len(), len);
    (json, text)
}

/// Runs `case` against a fresh connection to `server` for each item, so that a case that
/// ends the connection can be repeated over many inputs. Each input is named on stderr
/// first, which the test harness shows with a failure.
pub async fn on_fresh_connections<T, F, Fut>(server: &ServerHandle, items: &[T], case: F)
where
    T: std::fmt::Debug + Clone,
    F: Fn(Client, T) -> Fut,
    Fut: Future<Output = ()>,
{
    for item in items {
        eprintln!("case: {item:?}");
        case(connect(server).await, item.clone()).await;
    }
}
