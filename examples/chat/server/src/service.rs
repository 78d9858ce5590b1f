//! [`ChatService`]: the chat's behaviour, as the generated [`ChatHandlers`] trait asks for it.

use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use chat_protocol::{
    AuthSuccess, Authenticate, Calculate, CalculateResult, ChatMessage, GetMessages, JoinRoom,
    LeaveRoom, Messages, Operation, RoomList, SendMessage, TypingStart, TypingStop, UserJoined,
    UserLeft, UserTyping,
};
use twinwire::{ErrorCode, ErrorPayload};
use twinwire_runtime::{CloseInfo, Context, PublishOptions, RpcContext};

use crate::accounts::Accounts;
use crate::generated::ChatHandlers;
use crate::rooms::{Rooms, topic};
use crate::session::{Session, User};

/// How often at most `ROOM_LIST` goes to every connection: member counts changing faster
/// (a client flipping rooms) are coalesced, the latest counts winning.
pub(crate) const ROOM_LIST_INTERVAL: Duration = Duration::from_millis(100);

/// The chat server's handlers. Room state is per process (see the crate docs on running
/// several instances).
pub(crate) struct ChatService {
    rooms: Arc<Rooms>,
    /// Verifies the tokens of `AUTHENTICATE`.
    accounts: Arc<Accounts>,
    /// The topic every connection joins on open, to hear member counts change. Counts are
    /// per instance, so the name is too: with a shared pub/sub backend, instances would
    /// otherwise overwrite each other's counts on every client.
    lobby: String,
    announcements: Arc<Mutex<Announcements>>,
}

/// When `ROOM_LIST` last went out, and whether a later one is already on its way.
#[derive(Default)]
struct Announcements {
    last: Option<Instant>,
    scheduled: bool,
}

impl ChatService {
    pub(crate) fn new(rooms: Arc<Rooms>, accounts: Arc<Accounts>) -> Self {
        // Only needs to differ between live instances; RandomState is seeded per process.
        let salt = RandomState::new().hash_one(std::process::id());
        Self {
            rooms,
            accounts,
            lobby: format!("lobby:{salt:016x}"),
            announcements: Arc::default(),
        }
    }

    /// Leaves `room`: unsubscribes, updates the count and tells the room's other members.
    async fn depart(
        &self,
        ctx: &Context<Session>,
        room: &str,
        user: &User,
    ) -> Result<(), ErrorPayload> {
        ctx.data_mut(|s| s.set_room(None));
        self.rooms.exit(room);
        ctx.unsubscribe(&topic(room)).await?;
        let left = UserLeft {
            room_id: room.to_owned(),
            user_id: user.id.clone(),
        };
        ctx.publish(&topic(room), &left).await?;
        self.announce_rooms(ctx).await;
        Ok(())
    }

    /// Tells every connection the rooms' new member counts: at once if no `ROOM_LIST` went
    /// out within [`ROOM_LIST_INTERVAL`], otherwise once that interval is over, with the
    /// counts as they are then. Every change is announced, at most once per interval, so a
    /// client flipping rooms cannot make the server send a list to every connection per
    /// flip.
    async fn announce_rooms(&self, ctx: &Context<Session>) {
        let now = Instant::now();
        let due = {
            let mut state = self
                .announcements
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if state.scheduled {
                // The list on its way is computed when it goes out: it will show this change.
                return;
            }
            match state.last {
                Some(last) if now < last + ROOM_LIST_INTERVAL => {
                    state.scheduled = true;
                    Some(last + ROOM_LIST_INTERVAL)
                }
                _ => {
                    state.last = Some(now);
                    None
                }
            }
        };
        match due {
            None => publish_rooms(&self.rooms, &self.lobby, ctx).await,
            Some(due) => {
                let (rooms, lobby, ctx) =
                    (Arc::clone(&self.rooms), self.lobby.clone(), ctx.clone());
                let announcements = Arc::clone(&self.announcements);
                tokio::spawn(async move {
                    tokio::time::sleep_until(due).await;
                    {
                        let mut state =
                            announcements.lock().unwrap_or_else(PoisonError::into_inner);
                        state.scheduled = false;
                        state.last = Some(Instant::now());
                    }
                    publish_rooms(&rooms, &lobby, &ctx).await;
                });
            }
        }
    }

    fn check_room(&self, room: &str) -> Result<(), ErrorPayload> {
        if self.rooms.exists(room) {
            Ok(())
        } else {
            Err(ErrorPayload::new(
                ErrorCode::NotFound,
                format!("there is no room {room:?}; ROOM_LIST names the rooms"),
            )
            .with_details(serde_json::json!({ "roomId": room })))
        }
    }
}

/// Publishes the rooms' current member counts to every connection of this instance.
async fn publish_rooms(rooms: &Rooms, lobby: &str, ctx: &Context<Session>) {
    let list = RoomList {
        rooms: rooms.list(),
    };
    // Best effort: a stale count must not fail the join or leave that changed it, and the
    // runtime already reports pub/sub failures to the router's error hook.
    let _ = ctx.publish(lobby, &list).await;
}

fn require_user(ctx: &Context<Session>) -> Result<User, ErrorPayload> {
    ctx.data(|s| s.user().cloned()).ok_or_else(|| {
        ErrorPayload::new(
            ErrorCode::Unauthenticated,
            "sign in first: connect with a token, or send AUTHENTICATE with one",
        )
    })
}

/// The signed-in user, who must be in `room`.
fn require_member(ctx: &Context<Session>, room: &str, action: &str) -> Result<User, ErrorPayload> {
    let user = require_user(ctx)?;
    if ctx.data(|s| s.room() == Some(room)) {
        Ok(user)
    } else {
        Err(ErrorPayload::new(
            ErrorCode::PermissionDenied,
            format!("join room {room:?} before you {action}"),
        ))
    }
}

async fn typing(ctx: &Context<Session>, room: String, typing: bool) -> Result<(), ErrorPayload> {
    let user = require_member(ctx, &room, "type in it")?;
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

fn now_ms() -> u64 {
    // A clock before 1970 is a broken host; 0 keeps the message deliverable.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl ChatHandlers<Session> for ChatService {
    async fn authenticate(
        &self,
        ctx: Context<Session>,
        payload: Authenticate,
    ) -> Result<(), ErrorPayload> {
        let name = self
            .accounts
            .verify(&payload.token)
            .map_err(|err| ErrorPayload::new(ErrorCode::Unauthenticated, err.to_string()))?;
        let user = ctx.data_mut(|s| s.sign_in(&name));
        // Correlated when the request was: a WS-Kit client's `request(AUTHENTICATE)` waits
        // for an AUTH_SUCCESS carrying its correlation id.
        ctx.reply_correlated(&AuthSuccess {
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
        let user = require_user(&ctx)?;
        let room = payload.room_id;
        self.check_room(&room)?;
        let membership = ctx.data(Session::membership);
        let _changing_rooms = membership.lock().await;
        let joined = UserJoined {
            room_id: room.clone(),
            user_id: user.id.clone(),
            user_name: user.name.clone(),
        };
        let previous = ctx.data(|s| s.room().map(str::to_owned));
        if previous.as_deref() == Some(room.as_str()) {
            // Already there: confirm again, so a client that lost track learns where it is.
            ctx.send(&joined)?;
            return Ok(());
        }
        if let Some(previous) = previous {
            self.depart(&ctx, &previous, &user).await?;
        }
        ctx.subscribe(&topic(&room)).await?;
        ctx.data_mut(|s| s.set_room(Some(room.clone())));
        self.rooms.enter(&room);
        ctx.send(&joined)?;
        ctx.publish_with(&topic(&room), &joined, PublishOptions::new().exclude_self())
            .await?;
        self.announce_rooms(&ctx).await;
        Ok(())
    }

    async fn leave_room(
        &self,
        ctx: Context<Session>,
        payload: LeaveRoom,
    ) -> Result<(), ErrorPayload> {
        let user = require_user(&ctx)?;
        let room = payload.room_id;
        self.check_room(&room)?;
        let membership = ctx.data(Session::membership);
        let _changing_rooms = membership.lock().await;
        if ctx.data(|s| s.room() != Some(room.as_str())) {
            return Err(ErrorPayload::new(
                ErrorCode::FailedPrecondition,
                format!("you are not in room {room:?}"),
            ));
        }
        self.depart(&ctx, &room, &user).await?;
        // The leaver is no longer subscribed, so it gets its confirmation directly.
        ctx.send(&UserLeft {
            room_id: room,
            user_id: user.id,
        })?;
        Ok(())
    }

    async fn send_message(
        &self,
        ctx: Context<Session>,
        payload: SendMessage,
    ) -> Result<(), ErrorPayload> {
        let user = require_member(&ctx, &payload.room_id, "post to it")?;
        let draft = ChatMessage {
            id: String::new(),
            room_id: payload.room_id,
            user_id: user.id,
            user_name: user.name,
            text: payload.text,
            attachment: payload.attachment,
            timestamp: now_ms(),
        };
        let Some(message) = self.rooms.record(draft) else {
            return Err(ErrorPayload::new(
                ErrorCode::NotFound,
                "the room no longer exists",
            ));
        };
        if let Err(err) = ctx.publish(&topic(&message.room_id), &message).await {
            // The sender is told the message was not posted, so late joiners must not see it.
            self.rooms.retract(&message.room_id, &message.id);
            return Err(err.into());
        }
        Ok(())
    }

    async fn typing_start(
        &self,
        ctx: Context<Session>,
        payload: TypingStart,
    ) -> Result<(), ErrorPayload> {
        typing(&ctx, payload.room_id, true).await
    }

    async fn typing_stop(
        &self,
        ctx: Context<Session>,
        payload: TypingStop,
    ) -> Result<(), ErrorPayload> {
        typing(&ctx, payload.room_id, false).await
    }

    async fn get_messages(
        &self,
        ctx: RpcContext<Session, GetMessages>,
        request: GetMessages,
    ) -> Result<Messages, ErrorPayload> {
        require_user(&ctx)?;
        self.check_room(&request.room_id)?;
        require_member(&ctx, &request.room_id, "read its history")?;
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let messages = self
            .rooms
            .recent(&request.room_id, limit)
            .unwrap_or_default();
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
        let result = match request.operation {
            Operation::Add => request.a + request.b,
            Operation::Multiply => request.a * request.b,
        };
        if !result.is_finite() {
            // JSON has no infinity: serde would write `null`, which no client accepts.
            return Err(ErrorPayload::new(
                ErrorCode::InvalidArgument,
                "the result is too large for a 64-bit float",
            ));
        }
        Ok(CalculateResult { result })
    }

    async fn on_open(&self, ctx: Context<Session>) {
        // Without the lobby the chat still works; only live member counts would be missing,
        // and the runtime reports the pub/sub failure to the router's error hook.
        let _ = ctx.subscribe(&self.lobby).await;
        let _ = ctx.send(&RoomList {
            rooms: self.rooms.list(),
        });
    }

    async fn on_close(&self, ctx: Context<Session>, _close: CloseInfo) {
        let membership = ctx.data(Session::membership);
        let _changing_rooms = membership.lock().await;
        let (user, room) = ctx.data(|s| (s.user().cloned(), s.room().map(str::to_owned)));
        if let (Some(user), Some(room)) = (user, room) {
            // The connection is gone, so there is nobody to report a failure to.
            let _ = self.depart(&ctx, &room, &user).await;
        }
    }
}
