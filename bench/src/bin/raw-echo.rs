//! The floor: a WebSocket echo server on tokio-tungstenite alone, with the same 4 KiB
//! socket buffers as twinwire's default. Every text frame is sent back unchanged, so the
//! difference to `twinwire-echo` is what the runtime costs on top of bytes in, bytes out.
//!
//! For the fan-out scenario it also understands the two benchmark frames by their first
//! bytes: `SUBSCRIBE` joins a topic (answered with `SUBSCRIBED`), `PUBLISH` encodes one
//! `NEWS` frame and queues it for every subscriber. Echo connections never take that path.
//!
//! `raw-echo [ADDR] [--read-buffer BYTES]` (default `127.0.0.1:0`) prints `listening <addr>`
//! and serves until Ctrl-C. `--read-buffer` overrides the 4 KiB read buffer, for
//! experiments (the table uses the default).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

const SUBSCRIBE: &str = r#"{"type":"SUBSCRIBE""#;
const PUBLISH: &str = r#"{"type":"PUBLISH""#;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Topic name → the outboxes of its subscribers.
#[derive(Default)]
struct Hub {
    topics: Mutex<HashMap<String, Vec<mpsc::UnboundedSender<Utf8Bytes>>>>,
}

impl Hub {
    fn subscribe(&self, topic: &str) -> mpsc::UnboundedReceiver<Utf8Bytes> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        topics.entry(topic.to_owned()).or_default().push(tx);
        rx
    }

    fn publish(&self, topic: &str, frame: &Utf8Bytes) {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(subscribers) = topics.get_mut(topic) {
            // Closed connections are dropped from the topic on the way.
            subscribers.retain(|tx| tx.send(frame.clone()).is_ok());
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut addr = "127.0.0.1:0".to_owned();
    let mut config = twinwire_bench::servers::raw_websocket_config();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--read-buffer" => {
                let bytes = args.next().ok_or("--read-buffer needs a size in bytes")?;
                config = config.read_buffer_size(bytes.parse()?);
            }
            _ => addr = arg,
        }
    }
    let listener = TcpListener::bind(addr).await?;
    twinwire_bench::servers::announce(listener.local_addr()?)?;
    let hub = Arc::new(Hub::default());
    let accept = async {
        loop {
            let (stream, _) = listener.accept().await?;
            let hub = Arc::clone(&hub);
            tokio::spawn(async move {
                // A client that goes away mid-connection is not the server's problem.
                let _ = serve(stream, hub, config).await;
            });
        }
    };
    tokio::select! {
        result = accept => result,
        signal = tokio::signal::ctrl_c() => Ok(signal?),
    }
}

async fn serve(stream: TcpStream, hub: Arc<Hub>, config: WebSocketConfig) -> Result<(), Error> {
    let mut ws = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await?;
    while let Some(message) = ws.next().await {
        match message? {
            Message::Text(text) if text.starts_with(SUBSCRIBE) => {
                let frame: Value = serde_json::from_str(&text)?;
                let topic = frame["payload"]["topic"].as_str().unwrap_or_default();
                let inbox = hub.subscribe(topic);
                let answer = json!({
                    "type": "SUBSCRIBED",
                    "meta": { "correlationId": frame["meta"]["correlationId"] },
                    "payload": { "topic": topic },
                });
                ws.send(Message::text(answer.to_string())).await?;
                return subscriber(ws, inbox, &hub).await;
            }
            Message::Text(text) if text.starts_with(PUBLISH) => publish(&hub, &text)?,
            Message::Text(text) => ws.send(Message::Text(text)).await?,
            Message::Binary(bytes) => ws.send(Message::Binary(bytes)).await?,
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
    Ok(())
}

fn publish(hub: &Hub, text: &str) -> Result<(), Error> {
    let frame: Value = serde_json::from_str(text)?;
    let news = json!({ "type": "NEWS", "payload": { "text": frame["payload"]["text"] } });
    let topic = frame["payload"]["topic"].as_str().unwrap_or_default();
    hub.publish(topic, &Utf8Bytes::from(news.to_string()));
    Ok(())
}

/// A subscribed connection: writes what the hub delivers, still echoes and publishes.
async fn subscriber(
    mut ws: WebSocketStream<TcpStream>,
    mut inbox: mpsc::UnboundedReceiver<Utf8Bytes>,
    hub: &Hub,
) -> Result<(), Error> {
    loop {
        tokio::select! {
            frame = inbox.recv() => match frame {
                Some(frame) => ws.send(Message::Text(frame)).await?,
                None => return Ok(()),
            },
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) if text.starts_with(PUBLISH) => publish(hub, &text)?,
                Some(Ok(Message::Text(text))) => ws.send(Message::Text(text)).await?,
                Some(Ok(Message::Close(_))) | None => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(err.into()),
            },
        }
    }
}
