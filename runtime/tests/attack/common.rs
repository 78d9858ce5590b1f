//! A small protocol, servers on 127.0.0.1:0, and raw clients that do what well-behaved
//! clients never do.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use twinwire::{message, rpc};
use twinwire_runtime::{Context, Router, RpcContext, Server, ServerConfig, ServerHandle};

/// A bound against hangs, never an assertion about speed.
pub const PATIENCE: Duration = Duration::from_secs(10);

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

/// Add two numbers.
#[rpc("ADD", response = Sum)]
pub struct Add {
    pub a: i64,
    pub b: i64,
}

/// The result of `ADD`.
#[message("SUM")]
pub struct Sum {
    pub value: i64,
}

/// Sends `NOTE` at once, then answers a moment later: two writes back to back.
#[rpc("TWO_STEP", response = Sum)]
pub struct TwoStep;

/// What `TWO_STEP` sends before its answer.
#[message("NOTE")]
pub struct Note;

/// Subscribe to a topic.
#[message("JOIN")]
pub struct Join {
    pub topic: String,
}

/// Publish `text` to a topic.
#[message("SAY")]
pub struct Say {
    pub topic: String,
    pub text: String,
}

/// What subscribers of a topic receive.
#[message("SAID")]
pub struct Said {
    pub text: String,
}

// The server sends only `server:` entries (`ServerMessage`), as in an app.
twinwire::protocol! {
    /// The messages of the attack tests.
    pub AttackTests {
        client: [Echo, Join, Say],
        server: [Echoed, Note, Said],
        rpc: [Add, TwoStep],
    }
}

pub fn router() -> Router<()> {
    Router::new()
        .on(|ctx: Context, msg: Echo| async move {
            ctx.send(&Echoed { text: msg.text })?;
            Ok(())
        })
        .rpc(|_: RpcContext<(), Add>, req: Add| async move {
            Ok(Sum {
                value: req.a + req.b,
            })
        })
        .rpc(|ctx: RpcContext<(), TwoStep>, _: TwoStep| async move {
            ctx.send(&Note)?;
            // Long enough for the note to leave in a segment of its own.
            tokio::time::sleep(Duration::from_millis(2)).await;
            Ok(Sum { value: 2 })
        })
        .on(|ctx: Context, join: Join| async move {
            ctx.subscribe(&join.topic).await?;
            ctx.send(&Echoed {
                text: "joined".into(),
            })?;
            Ok(())
        })
        .on(|ctx: Context, say: Say| async move {
            ctx.publish(&say.topic, &Said { text: say.text }).await?;
            Ok(())
        })
}

/// The default configuration, with a short close timeout: a raw client that stops polling
/// never echoes a close frame.
pub fn config() -> ServerConfig {
    ServerConfig::default().close_timeout(Duration::from_millis(500))
}

pub async fn start(config: ServerConfig) -> ServerHandle {
    start_router(router(), config).await
}

pub async fn start_router(router: Router<()>, config: ServerConfig) -> ServerHandle {
    Server::builder(router)
        .config(config)
        .build()
        .expect("router builds")
        .bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket client without any twinwire logic, with TCP_NODELAY like the runtime's own
/// client, so that only the server can cause a delayed-ACK stall.
pub async fn raw(server: &ServerHandle) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async_with_config(server.url(), None, true)
        .await
        .expect("raw connect");
    ws
}

/// Sends `value` as a text frame.
pub async fn send_json(ws: &mut Ws, value: Value) {
    ws.send(WsMessage::text(value.to_string()))
        .await
        .expect("send");
}

/// The next data frame, as JSON (text frame and its length).
pub async fn recv(ws: &mut Ws) -> (Value, usize) {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Text(text))) => {
                    let value = serde_json::from_str(text.as_str()).expect("JSON");
                    return (value, text.len());
                }
                Some(Ok(WsMessage::Close(frame))) => panic!("closed: {frame:?}"),
                Some(Ok(_)) => {}
                other => panic!("the connection ended: {other:?}"),
            }
        }
    })
    .await
    .expect("a frame in time")
}

/// How a connection ended, seen from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// A close frame with this code arrived.
    Closed(u16),
    /// The connection ended without a close frame (an error such as a reset, or EOF).
    Dropped(String),
}

/// Reads (and drops data frames) until the connection ends.
pub async fn ended<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>) -> Ended {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Close(Some(frame)))) => return Ended::Closed(frame.code.into()),
                Some(Ok(WsMessage::Close(None))) => return Ended::Closed(1005),
                Some(Ok(_)) => {}
                Some(Err(err)) => return Ended::Dropped(err.to_string()),
                None => return Ended::Dropped("end of stream".into()),
            }
        }
    })
    .await
    .expect("the connection to end in time")
}

/// One HTTP exchange on a fresh TCP connection: `request` is written as is, and the whole
/// response (until the server closes) is returned.
pub async fn http_exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response))
        .await
        .expect("the server answers and closes")
        .expect("no reset");
    String::from_utf8_lossy(&response).into_owned()
}

/// The status code of a raw HTTP response.
pub fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

/// The body of a raw HTTP response.
pub fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}
