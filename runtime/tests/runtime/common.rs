//! A small test protocol, servers on 127.0.0.1:0, and a raw WebSocket client for frames a
//! well-behaved client would never send.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{Bytes, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use twinwire::{ErrorCode, ErrorPayload, message, rpc};
use twinwire_runtime::{Client, Context, Router, RpcContext, Server, ServerConfig, ServerHandle};
pub use twinwire_test_support::Events;

/// How long a test waits for something that should happen promptly; only a bound against
/// hangs, never an assertion about speed.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Echo `text` back as `ECHOED`.
#[message("ECHO")]
#[derive(Clone, Debug, PartialEq)]
pub struct Echo {
    #[validate(length(min = 1, max = 50))]
    pub text: String,
}

/// The answer to `ECHO`.
#[message("ECHOED")]
#[derive(Clone, Debug, PartialEq)]
pub struct Echoed {
    pub text: String,
}

/// A message without payload.
#[message("POKE")]
#[derive(Clone, Debug, PartialEq)]
pub struct Poke;

/// The answer to `POKE`.
#[message("POKED")]
#[derive(Clone, Debug, PartialEq)]
pub struct Poked;

/// Add two numbers.
#[rpc("ADD", response = Sum)]
#[derive(Clone, Debug, PartialEq)]
pub struct Add {
    pub a: i32,
    pub b: i32,
}

/// The result of `ADD`.
#[message("SUM")]
#[derive(Clone, Debug, PartialEq)]
pub struct Sum {
    pub value: i32,
}

/// Register a user; every field is constrained.
#[rpc("SIGN_UP", response = Done)]
#[derive(Clone, Debug, PartialEq)]
pub struct SignUp {
    #[validate(length(min = 1, max = 10))]
    pub name: String,
    #[validate(email)]
    pub email: String,
    #[validate(range(min = 13, max = 120))]
    pub age: u8,
}

/// A generic success.
#[message("DONE")]
#[derive(Clone, Debug, PartialEq)]
pub struct Done {
    pub note: String,
}

/// Wait `ms` milliseconds, then answer.
#[rpc("SLOW", response = Done)]
#[derive(Clone, Debug, PartialEq)]
pub struct Slow {
    pub ms: u64,
}

/// Never answers.
#[rpc("NEVER", response = Done)]
#[derive(Clone, Debug, PartialEq)]
pub struct Never;

/// Panics.
#[rpc("BOOM", response = Done)]
#[derive(Clone, Debug, PartialEq)]
pub struct Boom;

/// Sends `steps` progress frames, then answers.
#[rpc("COUNT", response = Done)]
#[derive(Clone, Debug, PartialEq)]
pub struct Count {
    pub steps: u32,
}

/// Replies early, then returns another value and tries to answer again.
#[rpc("TWICE", response = Done)]
#[derive(Clone, Debug, PartialEq)]
pub struct Twice;

/// Fails with the given code.
#[rpc("FAIL", response = Done)]
#[derive(Clone, Debug, PartialEq)]
pub struct Fail {
    #[validate(skip)]
    pub code: ErrorCode,
}

/// Holds a JSON value of any shape (for nesting tests).
#[message("HOLD")]
#[derive(Clone, Debug, PartialEq)]
pub struct Hold {
    pub value: serde_json::Value,
}

// The server sends only `server:` entries (`ServerMessage`), as in an app.
twinwire::protocol! {
    /// The messages of the runtime tests.
    pub RuntimeTests {
        client: [Echo, Poke, Hold],
        server: [Echoed, Poked],
        rpc: [Add, SignUp, Slow, Never, Boom, Count, Twice, Fail],
    }
}

/// The router most tests use: one handler per test message.
pub fn test_router() -> Router<()> {
    Router::new()
        .on(|ctx: Context, msg: Echo| async move {
            ctx.send(&Echoed { text: msg.text })?;
            Ok(())
        })
        .on(|ctx: Context, _: Poke| async move {
            ctx.send(&Poked)?;
            Ok(())
        })
        .on(|ctx: Context, msg: Hold| async move {
            ctx.send(&Echoed {
                text: msg.value.to_string(),
            })?;
            Ok(())
        })
        .rpc(|_: RpcContext<(), Add>, req: Add| async move {
            Ok(Sum {
                value: req.a + req.b,
            })
        })
        .rpc(|_: RpcContext<(), SignUp>, req: SignUp| async move {
            Ok(Done {
                note: format!("welcome {}", req.name),
            })
        })
        .rpc(|_: RpcContext<(), Slow>, req: Slow| async move {
            tokio::time::sleep(Duration::from_millis(req.ms)).await;
            Ok(Done {
                note: format!("slept {}", req.ms),
            })
        })
        .rpc(|_: RpcContext<(), Never>, _: Never| async move {
            std::future::pending::<()>().await;
            Ok(Done {
                note: "never".into(),
            })
        })
        .deadline::<Never>(Duration::from_millis(100))
        .rpc(|_: RpcContext<(), Boom>, _: Boom| async move {
            if true {
                panic!("boom on purpose");
            }
            Ok(Done {
                note: "unreachable".into(),
            })
        })
        .rpc(|ctx: RpcContext<(), Count>, req: Count| async move {
            for step in 1..=req.steps {
                ctx.progress(&step)?;
            }
            Ok(Done {
                note: format!("counted {}", req.steps),
            })
        })
        .rpc(|ctx: RpcContext<(), Twice>, _: Twice| async move {
            ctx.reply(&Done {
                note: "first".into(),
            })?;
            assert!(ctx.is_answered());
            assert!(
                ctx.reply(&Done {
                    note: "again".into()
                })
                .is_err()
            );
            assert!(
                ctx.error(ErrorPayload::new(ErrorCode::Internal, "late"))
                    .is_err()
            );
            assert!(ctx.progress(&1).is_err());
            Ok(Done {
                note: "returned".into(),
            })
        })
        .rpc(|_: RpcContext<(), Fail>, req: Fail| async move {
            Err(ErrorPayload::new(req.code, "failed on purpose"))
        })
}

/// Starts `router` on 127.0.0.1 with an ephemeral port.
pub async fn start<D: Send + Sync + 'static>(
    router: Router<D>,
    config: ServerConfig,
) -> ServerHandle<D> {
    Server::builder(router)
        .config(config)
        .build()
        .expect("router builds")
        .bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

/// The default configuration, except for a short close timeout: a test's raw client is
/// not polled while the server shuts down, so it never echoes the server's close frame.
pub fn test_config() -> ServerConfig {
    ServerConfig::default().close_timeout(Duration::from_millis(200))
}

/// Starts the test router with [`test_config`].
pub async fn start_default() -> ServerHandle {
    start(test_router(), test_config()).await
}

/// Connects the crate's client.
pub async fn client(server: &ServerHandle<impl Send + Sync + 'static>) -> Client {
    Client::connect(server.url()).await.expect("connect")
}

/// A WebSocket client without any twinwire logic.
pub struct Raw {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a raw connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Closed(u16, String),
    Dropped,
}

impl Raw {
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("raw connect");
        Self { ws }
    }

    pub async fn text(&mut self, text: impl Into<String>) {
        self.ws
            .send(WsMessage::text(text.into()))
            .await
            .expect("send text");
    }

    pub async fn binary(&mut self, bytes: impl Into<Bytes>) {
        self.ws
            .send(WsMessage::Binary(bytes.into()))
            .await
            .expect("send binary");
    }

    pub async fn json(&mut self, value: Value) {
        self.text(value.to_string()).await;
    }

    /// The next data frame, as JSON.
    pub async fn recv(&mut self) -> Value {
        tokio::time::timeout(PATIENCE, async {
            loop {
                match self.ws.next().await {
                    Some(Ok(WsMessage::Text(text))) => {
                        return serde_json::from_str(text.as_str()).expect("server sends JSON");
                    }
                    Some(Ok(WsMessage::Binary(_))) => panic!("servers send text frames only"),
                    Some(Ok(WsMessage::Close(frame))) => panic!("closed: {frame:?}"),
                    Some(Ok(_)) => {}
                    other => panic!("connection ended: {other:?}"),
                }
            }
        })
        .await
        .expect("a frame in time")
    }

    /// Reads until the connection ends.
    pub async fn ended(&mut self) -> Ended {
        tokio::time::timeout(PATIENCE, async {
            loop {
                match self.ws.next().await {
                    Some(Ok(WsMessage::Close(Some(frame)))) => {
                        return Ended::Closed(frame.code.into(), frame.reason.to_string());
                    }
                    Some(Ok(WsMessage::Close(None))) => return Ended::Closed(1005, String::new()),
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return Ended::Dropped,
                }
            }
        })
        .await
        .expect("the connection to end in time")
    }

    /// Sends `ECHO` and expects `ECHOED`: the connection still serves good frames.
    pub async fn still_serves(&mut self) {
        self.json(serde_json::json!({"type": "ECHO", "payload": {"text": "alive"}}))
            .await;
        let answer = self.recv().await;
        assert_eq!(answer["type"], "ECHOED", "{answer}");
        assert_eq!(answer["payload"]["text"], "alive");
    }
}

/// The issue paths of an error frame's `details`.
pub fn issue_paths(frame: &Value) -> Vec<String> {
    frame["payload"]["details"]["issues"]
        .as_array()
        .unwrap_or_else(|| panic!("no issues in {frame}"))
        .iter()
        .map(|i| i["path"].as_str().unwrap().to_owned())
        .collect()
}
