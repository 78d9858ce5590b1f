//! A chat server on a free port, and a user that records every frame it receives, in order.

use std::collections::VecDeque;
use std::time::Duration;

use chat_protocol::{
    AuthSuccess, Authenticate, Calculate, CalculateResult, ChatMessage, JoinRoom, Messages,
    Operation, RoomList, SendMessage, UserJoined, UserLeft, UserTyping,
};
use chat_server::{ChatConfig, ChatServer};
use serde_json::Value;
use tokio::sync::mpsc;
use twinwire::{ErrorPayload, Message};
use twinwire_runtime::Client;

/// How long a test waits for something that should happen promptly: a bound against hangs,
/// never an assertion about speed.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A folder that does not exist: tests that do not set a page serve none.
const NO_PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/no-page");

/// A server on 127.0.0.1 with a free port, configured by `configure`.
pub async fn start_with(configure: impl FnOnce(&mut ChatConfig)) -> ChatServer {
    let mut config = ChatConfig::new(([127, 0, 0, 1], 0).into(), NO_PAGE);
    configure(&mut config);
    chat_server::start(config).await.unwrap()
}

pub async fn start() -> ChatServer {
    start_with(|_| {}).await
}

/// One frame as received: its wire type and payload.
#[derive(Clone, Debug)]
pub struct Frame {
    pub kind: String,
    pub payload: Value,
}

/// A connected user. Every server message and `ERROR` frame lands in one ordered stream;
/// `next` picks the next frame of a type and keeps the others for later.
pub struct Peer {
    pub client: Client,
    frames: mpsc::UnboundedReceiver<Frame>,
    backlog: VecDeque<Frame>,
}

const SERVER_TYPES: [&str; 9] = [
    AuthSuccess::WIRE_TYPE,
    RoomList::WIRE_TYPE,
    UserJoined::WIRE_TYPE,
    UserLeft::WIRE_TYPE,
    ChatMessage::WIRE_TYPE,
    UserTyping::WIRE_TYPE,
    Messages::WIRE_TYPE,
    CalculateResult::WIRE_TYPE,
    "ERROR",
];

impl Peer {
    pub async fn connect(server: &ChatServer) -> Self {
        let client = Client::connect(server.ws_url()).await.unwrap();
        let (tx, frames) = mpsc::unbounded_channel();
        for kind in SERVER_TYPES {
            let tx = tx.clone();
            client.on_type(kind, move |_meta, payload| {
                let payload =
                    payload.map_or(Value::Null, |raw| serde_json::from_str(raw.get()).unwrap());
                let _ = tx.send(Frame {
                    kind: kind.to_owned(),
                    payload,
                });
            });
        }
        Self {
            client,
            frames,
            backlog: VecDeque::new(),
        }
    }

    /// Connects and signs in as `name`.
    pub async fn signed_in(server: &ChatServer, name: &str) -> (Self, AuthSuccess) {
        let mut peer = Self::connect(server).await;
        peer.send(&Authenticate {
            token: server.accounts().issue(name),
        })
        .await;
        let auth: AuthSuccess = peer.next().await;
        (peer, auth)
    }

    /// Connects, signs in as `name` and joins `room`.
    pub async fn in_room(server: &ChatServer, name: &str, room: &str) -> (Self, AuthSuccess) {
        let (mut peer, auth) = Self::signed_in(server, name).await;
        peer.join(room).await;
        (peer, auth)
    }

    pub async fn send<M: Message>(&self, msg: &M) {
        self.client.send(msg).await.unwrap();
    }

    /// Joins `room` and waits for the confirmation.
    pub async fn join(&mut self, room: &str) -> UserJoined {
        self.send(&JoinRoom {
            room_id: room.into(),
        })
        .await;
        let joined: UserJoined = self.next().await;
        assert_eq!(joined.room_id, room);
        joined
    }

    /// Posts `text` to `room` and waits for the server's echo of it.
    pub async fn post(&mut self, room: &str, text: &str) -> ChatMessage {
        self.send(&SendMessage {
            room_id: room.into(),
            text: text.into(),
            attachment: None,
        })
        .await;
        let echo: ChatMessage = self.next().await;
        assert_eq!(echo.text, text);
        echo
    }

    /// The next frame of type `kind`; frames of other types before it are kept.
    pub async fn next_frame(&mut self, kind: &str) -> Frame {
        if let Some(i) = self.backlog.iter().position(|f| f.kind == kind) {
            return self.backlog.remove(i).unwrap();
        }
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.frames.recv())
                .await
                .unwrap_or_else(|_| panic!("no {kind} arrived; other frames: {:?}", self.backlog))
                .expect("the connection's frame stream ended");
            if frame.kind == kind {
                return frame;
            }
            self.backlog.push_back(frame);
        }
    }

    /// The next `M`.
    pub async fn next<M: Message>(&mut self) -> M {
        let frame = self.next_frame(M::WIRE_TYPE).await;
        serde_json::from_value(frame.payload).unwrap()
    }

    /// The next uncorrelated `ERROR`.
    pub async fn next_error(&mut self) -> ErrorPayload {
        serde_json::from_value(self.next_frame("ERROR").await.payload).unwrap()
    }

    /// Every frame of type `kind` received so far and not yet taken, without waiting.
    pub fn received_frames(&mut self, kind: &str) -> Vec<Frame> {
        while let Ok(frame) = self.frames.try_recv() {
            self.backlog.push_back(frame);
        }
        self.backlog
            .iter()
            .filter(|f| f.kind == kind)
            .cloned()
            .collect()
    }

    /// Every `M` received so far and not yet taken, without waiting.
    pub fn received<M: Message>(&mut self) -> Vec<M> {
        self.received_frames(M::WIRE_TYPE)
            .into_iter()
            .map(|f| serde_json::from_value(f.payload).unwrap())
            .collect()
    }

    /// A round trip through the server: every frame the server queued for this connection
    /// before answering has been received when this returns.
    pub async fn sync(&self) {
        let sum = self
            .client
            .request(
                &Calculate {
                    operation: Operation::Add,
                    a: 1.0,
                    b: 1.0,
                },
                PATIENCE,
            )
            .await
            .unwrap();
        assert_eq!(sum.result, 2.0);
    }
}

/// The member count of `room` in a room list.
pub fn count(list: &RoomList, room: &str) -> u32 {
    list.rooms
        .iter()
        .find(|r| r.id == room)
        .map(|r| r.user_count)
        .unwrap_or_else(|| panic!("{room} is not in {list:?}"))
}
