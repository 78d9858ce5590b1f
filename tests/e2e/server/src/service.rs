//! [`E2eService`]: the chat handlers of the test server (behaviour and triggers are listed in
//! the crate docs).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chat_protocol::{
    Attachment, AuthSuccess, Authenticate, Calculate, CalculateResult, ChatMessage, GetMessages,
    JoinRoom, LeaveRoom, Messages, Operation, RoomInfo, RoomList, SendMessage, TypingStart,
    TypingStop, UserJoined, UserLeft, UserTyping,
};
use serde_json::json;
use tokio::sync::Semaphore;
use twinwire::{ErrorCode, ErrorPayload};
use twinwire_runtime::{CloseInfo, ConnectionId, Context, PublishOptions, RpcContext};

use crate::auth::{self, User};
use crate::generated::ChatHandlers;

/// `GET_MESSAGES` of this room is held until released (see [`RELEASE_ROOM`]).
pub const HOLD_ROOM: &str = "e2e:hold";
/// `TYPING_START` of this room releases one held `GET_MESSAGES` of the same connection.
pub const RELEASE_ROOM: &str = "e2e:release";
/// `TYPING_START` of this room gets an invalid `CHAT_MESSAGE`, then a valid one.
pub const INVALID_FRAME_ROOM: &str = "e2e:invalid-chat-message";
/// Id of the valid `CHAT_MESSAGE` that follows the invalid one.
pub const AFTER_INVALID_ID: &str = "e2e:after-invalid";

/// A held request gives up after this long, so a test that never releases it cannot leak a
/// handler for the server's lifetime.
const HOLD_LIMIT: Duration = Duration::from_secs(60);

/// Per-connection data: the user from the upgrade and the room joined.
#[derive(Debug)]
pub struct Session {
    user: User,
    room: Option<String>,
}

impl Session {
    /// A connection of `user`, in no room yet.
    pub fn new(user: User) -> Self {
        Self { user, room: None }
    }
}

#[derive(Debug, Default)]
struct Room {
    members: u32,
    history: Vec<ChatMessage>,
}

/// The chat handlers, with every room in memory.
#[derive(Debug, Default)]
pub struct E2eService {
    rooms: Mutex<BTreeMap<String, Room>>,
    next_message: AtomicU64,
    /// Releases of held `GET_MESSAGES`, per connection: one permit lets one request go.
    /// Permits are kept, so a release that arrives before its request (handlers of one
    /// connection run concurrently) still lets it go.
    releases: Mutex<HashMap<ConnectionId, Arc<Semaphore>>>,
}

/// A `CHAT_MESSAGE` missing `userName`: what a buggy server would send. The client must
/// report it and keep it from its handlers.
#[twinwire::message("CHAT_MESSAGE")]
struct BrokenChatMessage {
    id: String,
    room_id: String,
    user_id: String,
    text: String,
    attachment: Option<Attachment>,
    timestamp: u64,
}

// Not a `server:` entry of the chat protocol (which already has a `CHAT_MESSAGE`), so the
// marker that lets the server send it is implemented by hand.
impl twinwire::ServerMessage for BrokenChatMessage {}

fn topic(room: &str) -> String {
    format!("room:{room}")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Locks `mutex`; a handler that panicked while holding it left consistent data behind
/// (every critical section here is a single insert or update).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl E2eService {
    fn rooms(&self) -> MutexGuard<'_, BTreeMap<String, Room>> {
        lock(&self.rooms)
    }

    async fn leave(
        &self,
        ctx: &Context<Session>,
        room: &str,
        user: &User,
    ) -> Result<(), ErrorPayload> {
        ctx.unsubscribe(&topic(room)).await?;
        if let Some(r) = self.rooms().get_mut(room) {
            r.members = r.members.saturating_sub(1);
        }
        let left = UserLeft {
            room_id: room.to_owned(),
            user_id: user.id.clone(),
        };
        ctx.publish(&topic(room), &left).await?;
        Ok(())
    }

    async fn typing(
        &self,
        ctx: &Context<Session>,
        room: String,
        typing: bool,
    ) -> Result<(), ErrorPayload> {
        let user = ctx.data(|s| s.user.clone());
        let event = UserTyping {
            room_id: room.clone(),
            user_id: user.id,
            user_name: user.name,
            typing,
        };
        ctx.publish_with(&topic(&room), &event, PublishOptions::new().exclude_self())
            .await?;
        Ok(())
    }

    fn send_invalid_then_valid(&self, ctx: &Context<Session>) -> Result<(), ErrorPayload> {
        let user = ctx.data(|s| s.user.clone());
        ctx.send(&BrokenChatMessage {
            id: "e2e:invalid".to_owned(),
            room_id: INVALID_FRAME_ROOM.to_owned(),
            user_id: user.id.clone(),
            text: "this frame has no userName".to_owned(),
            attachment: None,
            timestamp: now_ms(),
        })?;
        ctx.send(&ChatMessage {
            id: AFTER_INVALID_ID.to_owned(),
            room_id: INVALID_FRAME_ROOM.to_owned(),
            user_id: user.id,
            user_name: user.name,
            text: "this frame is valid".to_owned(),
            attachment: None,
            timestamp: now_ms(),
        })?;
        Ok(())
    }

    fn releases(&self, connection: ConnectionId) -> Arc<Semaphore> {
        Arc::clone(
            lock(&self.releases)
                .entry(connection)
                .or_insert_with(|| Arc::new(Semaphore::new(0))),
        )
    }

    async fn hold(&self, ctx: RpcContext<Session, GetMessages>) -> Result<Messages, ErrorPayload> {
        let releases = self.releases(ctx.id());
        ctx.progress(&json!({ "held": true }))?;
        match tokio::time::timeout(HOLD_LIMIT, releases.acquire()).await {
            Ok(Ok(permit)) => permit.forget(),
            // Closed: the connection is gone. Elapsed: nobody released it.
            Ok(Err(_)) | Err(_) => {
                return Err(ErrorPayload::new(
                    ErrorCode::DeadlineExceeded,
                    format!("GET_MESSAGES of `{HOLD_ROOM}` was never released"),
                ));
            }
        }
        let reply = Messages {
            room_id: HOLD_ROOM.to_owned(),
            messages: Vec::new(),
        };
        ctx.reply(&reply)?;
        // The marker goes after the reply on the same connection, so once a test sees it the
        // late reply has reached the client.
        let user_id = ctx.data(|s| s.user.id.clone());
        ctx.send(&UserLeft {
            room_id: HOLD_ROOM.to_owned(),
            user_id,
        })?;
        Ok(reply)
    }
}

impl ChatHandlers<Session> for E2eService {
    async fn authenticate(
        &self,
        ctx: Context<Session>,
        payload: Authenticate,
    ) -> Result<(), ErrorPayload> {
        let user = ctx.data(|s| s.user.clone());
        if payload.token != auth::token_of(&user) {
            return Err(ErrorPayload::new(
                ErrorCode::Unauthenticated,
                "the token does not match the one this connection was opened with",
            ));
        }
        ctx.send(&AuthSuccess {
            user_id: user.id,
            user_name: user.name,
        })?;
        Ok(())
    }

    async fn join_room(
        &self,
        ctx: Context<Session>,
        payload: JoinRoom,
    ) -> Result<(), ErrorPayload> {
        let room = payload.room_id;
        let (user, previous) = ctx.data_mut(|s| (s.user.clone(), s.room.replace(room.clone())));
        if previous.as_deref() == Some(room.as_str()) {
            return Ok(());
        }
        if let Some(previous) = previous {
            self.leave(&ctx, &previous, &user).await?;
        }
        ctx.subscribe(&topic(&room)).await?;
        self.rooms().entry(room.clone()).or_default().members += 1;
        let joined = UserJoined {
            room_id: room.clone(),
            user_id: user.id,
            user_name: user.name,
        };
        ctx.publish(&topic(&room), &joined).await?;
        Ok(())
    }

    async fn leave_room(
        &self,
        ctx: Context<Session>,
        payload: LeaveRoom,
    ) -> Result<(), ErrorPayload> {
        let room = payload.room_id;
        let (user, was_in) = ctx.data_mut(|s| {
            let was_in = s.room.as_deref() == Some(room.as_str());
            if was_in {
                s.room = None;
            }
            (s.user.clone(), was_in)
        });
        if !was_in {
            return Err(ErrorPayload::new(
                ErrorCode::FailedPrecondition,
                format!("you are not in room `{room}`"),
            )
            .with_details(json!({ "roomId": room })));
        }
        self.leave(&ctx, &room, &user).await
    }

    async fn send_message(
        &self,
        ctx: Context<Session>,
        payload: SendMessage,
    ) -> Result<(), ErrorPayload> {
        let user = ctx.data(|s| s.user.clone());
        let number = self.next_message.fetch_add(1, Ordering::Relaxed) + 1;
        let message = ChatMessage {
            id: format!("m{number}"),
            room_id: payload.room_id,
            user_id: user.id,
            user_name: user.name,
            text: payload.text,
            attachment: payload.attachment,
            timestamp: now_ms(),
        };
        self.rooms()
            .entry(message.room_id.clone())
            .or_default()
            .history
            .push(message.clone());
        ctx.send(&message)?;
        ctx.publish_with(
            &topic(&message.room_id),
            &message,
            PublishOptions::new().exclude_self(),
        )
        .await?;
        Ok(())
    }

    async fn typing_start(
        &self,
        ctx: Context<Session>,
        payload: TypingStart,
    ) -> Result<(), ErrorPayload> {
        match payload.room_id.as_str() {
            RELEASE_ROOM => {
                self.releases(ctx.id()).add_permits(1);
                Ok(())
            }
            INVALID_FRAME_ROOM => self.send_invalid_then_valid(&ctx),
            _ => self.typing(&ctx, payload.room_id, true).await,
        }
    }

    async fn typing_stop(
        &self,
        ctx: Context<Session>,
        payload: TypingStop,
    ) -> Result<(), ErrorPayload> {
        self.typing(&ctx, payload.room_id, false).await
    }

    async fn get_messages(
        &self,
        ctx: RpcContext<Session, GetMessages>,
        request: GetMessages,
    ) -> Result<Messages, ErrorPayload> {
        if request.room_id == HOLD_ROOM {
            return self.hold(ctx).await;
        }
        ctx.progress(&json!({ "phase": "lookup" }))?;
        let newest = self.rooms().get(&request.room_id).map(|room| {
            let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
            let skip = room.history.len().saturating_sub(limit);
            room.history[skip..].to_vec()
        });
        let Some(messages) = newest else {
            return Err(ErrorPayload::new(
                ErrorCode::NotFound,
                format!("no room `{}`", request.room_id),
            )
            .with_details(json!({ "roomId": request.room_id })));
        };
        ctx.progress(&json!({ "phase": "collect", "count": messages.len() }))?;
        Ok(Messages {
            room_id: request.room_id,
            messages,
        })
    }

    async fn calculate(
        &self,
        _ctx: RpcContext<Session, Calculate>,
        request: Calculate,
    ) -> Result<CalculateResult, ErrorPayload> {
        let (result, symbol) = match request.operation {
            Operation::Add => (request.a + request.b, "+"),
            Operation::Multiply => (request.a * request.b, "*"),
        };
        if !result.is_finite() {
            return Err(ErrorPayload::new(
                ErrorCode::InvalidArgument,
                format!(
                    "{:?} {symbol} {:?} is not a finite number",
                    request.a, request.b
                ),
            )
            .with_details(
                json!({ "operation": request.operation, "a": request.a, "b": request.b }),
            ));
        }
        Ok(CalculateResult { result })
    }

    async fn on_open(&self, ctx: Context<Session>) {
        let rooms = self
            .rooms()
            .iter()
            .map(|(id, room)| RoomInfo {
                id: id.clone(),
                name: id.clone(),
                user_count: room.members,
            })
            .collect();
        // A connection closing already has nobody to tell.
        let _ = ctx.send(&RoomList { rooms });
    }

    async fn on_close(&self, ctx: Context<Session>, _close: CloseInfo) {
        // Closing the semaphore makes the connection's held requests give up.
        if let Some(releases) = lock(&self.releases).remove(&ctx.id()) {
            releases.close();
        }
        let (user, room) = ctx.data_mut(|s| (s.user.clone(), s.room.take()));
        if let Some(room) = room {
            // The connection is gone, so the log is the only place left for a failure.
            if let Err(err) = self.leave(&ctx, &room, &user).await {
                eprintln!(
                    "twinwire-e2e-server: announcing that {} left `{room}` failed: {} {}",
                    user.id, err.code, err.message
                );
            }
        }
    }
}
