//! The load generator's WebSocket client: connecting with small buffers (it shares the
//! machine with the server, and the scenarios open up to 100,000 clients), writing envelopes and
//! reading the frames that come back.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::Error;

/// A connected client.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long connecting (TCP and handshake) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The clients' socket buffers: every frame of the benchmarks is under 200 bytes, and the
/// WebSocket library zero-fills its whole read buffer before each read, so a small one
/// leaves more of the shared CPU to the server (and 100,000 clients fit in little memory).
pub const CLIENT_BUFFER_SIZE: usize = 1024;

/// Opens a WebSocket to `url` with small buffers and `TCP_NODELAY`.
///
/// # Errors
/// The connection or handshake failed or timed out.
pub async fn connect(url: &str) -> Result<Socket, Error> {
    let connecting = tokio_tungstenite::connect_async_with_config(url, Some(config()), true);
    match timeout(CONNECT_TIMEOUT, connecting).await {
        Ok(Ok((socket, _response))) => Ok(socket),
        Ok(Err(err)) => Err(format!("connecting to {url} failed: {err}").into()),
        Err(_) => Err(format!("connecting to {url} timed out after {CONNECT_TIMEOUT:?}").into()),
    }
}

/// Opens a WebSocket to the server at `server` as [`connect`] does, but from the local
/// address `source` (the kernel picks the port) when one is given. One source address has
/// only the ephemeral port range (about 28,000 ports) to connect from, so more connections
/// than that to one server need several, e.g. 127.0.0.1, 127.0.0.2, … (all of 127.0.0.0/8
/// is loopback on Linux).
///
/// Closing the socket resets the connection instead of leaving it in `TIME_WAIT`: a port
/// bound before connecting stays taken for a minute in that state, and the next run of a
/// 100,000-connection scenario needs the same ports again.
///
/// # Errors
/// Binding, connecting or the handshake failed, or it all took longer than
/// [`CONNECT_TIMEOUT`].
pub async fn connect_from(source: Option<IpAddr>, server: SocketAddr) -> Result<Socket, Error> {
    let from = source.map_or_else(String::new, |ip| format!(" from {ip}"));
    let connecting = async {
        let socket = if server.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_zero_linger()?;
        if let Some(ip) = source {
            socket.bind(SocketAddr::new(ip, 0))?;
        }
        let stream = socket.connect(server).await?;
        stream.set_nodelay(true)?;
        let url = format!("ws://{server}/");
        let (socket, _response) = tokio_tungstenite::client_async_with_config(
            url,
            MaybeTlsStream::Plain(stream),
            Some(config()),
        )
        .await?;
        Ok::<_, Error>(socket)
    };
    match timeout(CONNECT_TIMEOUT, connecting).await {
        Ok(Ok(socket)) => Ok(socket),
        Ok(Err(err)) => Err(format!("connecting{from} to {server} failed: {err}").into()),
        Err(_) => {
            Err(format!("connecting{from} to {server} timed out after {CONNECT_TIMEOUT:?}").into())
        }
    }
}

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(CLIENT_BUFFER_SIZE)
        .write_buffer_size(CLIENT_BUFFER_SIZE)
}

/// Sends one text frame.
///
/// # Errors
/// The socket failed.
pub async fn send(socket: &mut Socket, text: String) -> Result<(), Error> {
    socket
        .send(Message::text(text))
        .await
        .map_err(|err| format!("sending failed: {err}").into())
}

/// The next text (or binary) frame, skipping control frames; bounded by `wait`.
///
/// # Errors
/// The socket failed, closed, or nothing arrived within `wait`.
pub async fn next_text(socket: &mut Socket, wait: Duration) -> Result<Utf8Bytes, Error> {
    let read = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => return Ok(text),
                Some(Ok(Message::Binary(bytes))) => {
                    return Utf8Bytes::try_from(bytes).map_err(|_| {
                        Error::from("the server sent a binary frame that is not UTF-8")
                    });
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(format!("the server closed the connection: {frame:?}").into());
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(format!("reading failed: {err}").into()),
                None => return Err("the server dropped the connection".into()),
            }
        }
    };
    match timeout(wait, read).await {
        Ok(result) => result,
        Err(_) => Err(format!("no frame within {wait:?}").into()),
    }
}

/// A request envelope: `{"type":…,"meta":{"correlationId":…},"payload":…}`, with `type`
/// first so the raw servers can recognise it by prefix.
pub fn request(wire_type: &str, correlation_id: &str, payload: &serde_json::Value) -> String {
    format!(
        r#"{{"type":{},"meta":{{"correlationId":{}}},"payload":{payload}}}"#,
        serde_json::Value::from(wire_type),
        serde_json::Value::from(correlation_id),
    )
}

/// A message envelope without meta: `{"type":…,"payload":…}`.
pub fn message(wire_type: &str, payload: &serde_json::Value) -> String {
    format!(
        r#"{{"type":{},"payload":{payload}}}"#,
        serde_json::Value::from(wire_type)
    )
}

/// An inbound envelope, borrowed from the frame's text.
#[derive(Debug, Deserialize)]
pub struct Envelope<'a> {
    /// The wire `type`.
    #[serde(rename = "type", borrow)]
    pub wire_type: Cow<'a, str>,
    /// The meta, if any.
    #[serde(default, borrow)]
    pub meta: Option<EnvelopeMeta<'a>>,
    /// The payload, unparsed.
    #[serde(default, borrow)]
    pub payload: Option<&'a RawValue>,
}

/// The meta keys the load generator checks.
#[derive(Debug, Deserialize)]
pub struct EnvelopeMeta<'a> {
    /// The correlation id of an RPC reply.
    #[serde(rename = "correlationId", default, borrow)]
    pub correlation_id: Option<Cow<'a, str>>,
}

/// A payload with one text field (`ECHO`, `ECHO_REPLY`, `NEWS`) or a topic (`SUBSCRIBED`).
#[derive(Debug, Deserialize)]
pub struct TextPayload<'a> {
    /// The text.
    #[serde(default, borrow)]
    pub text: Option<Cow<'a, str>>,
    /// The topic.
    #[serde(default, borrow)]
    pub topic: Option<Cow<'a, str>>,
}

/// An error payload's message, for reporting.
#[derive(Debug, Deserialize)]
struct ErrorBody<'a> {
    #[serde(default, borrow)]
    code: Cow<'a, str>,
    #[serde(default, borrow)]
    message: Cow<'a, str>,
}

impl<'a> Envelope<'a> {
    /// Parses a frame.
    ///
    /// # Errors
    /// The frame is not an envelope.
    pub fn parse(text: &'a str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|err| format!("unreadable frame {text:?}: {err}").into())
    }

    /// The correlation id, if any.
    pub fn correlation_id(&self) -> Option<&str> {
        self.meta.as_ref()?.correlation_id.as_deref()
    }

    /// The payload's text and topic fields.
    ///
    /// # Errors
    /// No payload, or one without those fields' shape.
    pub fn text_payload(&self) -> Result<TextPayload<'a>, Error> {
        let raw = self.payload.ok_or("the frame has no payload")?;
        serde_json::from_str(raw.get()).map_err(|err| format!("unexpected payload: {err}").into())
    }

    /// Fails with the server's error message when this is an `ERROR` / `RPC_ERROR` frame.
    ///
    /// # Errors
    /// The frame is an error frame.
    pub fn fail_on_error(&self) -> Result<(), Error> {
        if self.wire_type != "ERROR" && self.wire_type != "RPC_ERROR" {
            return Ok(());
        }
        let body = self
            .payload
            .and_then(|raw| serde_json::from_str::<ErrorBody<'_>>(raw.get()).ok());
        Err(match body {
            Some(body) => format!(
                "the server answered {} {}: {}",
                self.wire_type, body.code, body.message
            ),
            None => format!("the server answered {}", self.wire_type),
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_put_the_type_first() {
        let frame = request("ECHO", "c-1", &json!({ "text": "hi \"there\"" }));
        assert!(frame.starts_with(r#"{"type":"ECHO""#));
        let parsed = Envelope::parse(&frame).unwrap();
        assert_eq!(parsed.wire_type, "ECHO");
        assert_eq!(parsed.correlation_id(), Some("c-1"));
        assert_eq!(
            parsed.text_payload().unwrap().text.as_deref(),
            Some("hi \"there\"")
        );

        let frame = message("PUBLISH", &json!({ "topic": "t", "text": "x" }));
        assert!(frame.starts_with(r#"{"type":"PUBLISH""#));
        assert_eq!(Envelope::parse(&frame).unwrap().correlation_id(), None);
    }

    #[test]
    fn error_frames_fail_with_the_servers_message() {
        let frame = r#"{"type":"RPC_ERROR","meta":{"correlationId":"1"},"payload":{"code":"INVALID_ARGUMENT","message":"bad"}}"#;
        let err = Envelope::parse(frame).unwrap().fail_on_error().unwrap_err();
        assert_eq!(
            err.to_string(),
            "the server answered RPC_ERROR INVALID_ARGUMENT: bad"
        );
        let ok = r#"{"type":"ECHO_REPLY","payload":{"text":"x"}}"#;
        Envelope::parse(ok).unwrap().fail_on_error().unwrap();
    }
}
