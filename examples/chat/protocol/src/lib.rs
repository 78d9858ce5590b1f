//! The chat protocol of the WS-Kit tutorial, declared once: the Rust server and the
//! TypeScript frontend are both generated from these types.

use twinwire::{data, message, protocol, rpc};

/// Present credentials to become an authenticated user.
#[message("AUTHENTICATE")]
#[derive(Clone, Debug, PartialEq)]
pub struct Authenticate {
    /// An opaque token issued by the app's login flow.
    #[validate(length(min = 1, max = 4096))]
    pub token: String,
}

/// The connection is now authenticated as this user.
#[message("AUTH_SUCCESS")]
#[derive(Clone, Debug, PartialEq)]
pub struct AuthSuccess {
    /// The user's stable id.
    pub user_id: String,
    /// The name shown to other users.
    pub user_name: String,
}

/// Join a room, leaving the current one.
#[message("JOIN_ROOM")]
#[derive(Clone, Debug, PartialEq)]
pub struct JoinRoom {
    /// The room to join, one of those in `ROOM_LIST`.
    #[validate(length(min = 1, max = 64))]
    pub room_id: String,
}

/// Leave a room.
#[message("LEAVE_ROOM")]
#[derive(Clone, Debug, PartialEq)]
pub struct LeaveRoom {
    /// The room to leave.
    #[validate(length(min = 1, max = 64))]
    pub room_id: String,
}

/// Someone joined the room you are in (or you did).
#[message("USER_JOINED")]
#[derive(Clone, Debug, PartialEq)]
pub struct UserJoined {
    /// The room joined.
    pub room_id: String,
    /// Who joined.
    pub user_id: String,
    /// Their display name.
    pub user_name: String,
}

/// Someone left the room you are in.
#[message("USER_LEFT")]
#[derive(Clone, Debug, PartialEq)]
pub struct UserLeft {
    /// The room left.
    pub room_id: String,
    /// Who left.
    pub user_id: String,
}

/// A room as listed to clients.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct RoomInfo {
    /// Stable id, used in `JOIN_ROOM`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// How many users are in the room now.
    pub user_count: u32,
}

/// The rooms a client may join; sent on connect.
#[message("ROOM_LIST")]
#[derive(Clone, Debug, PartialEq)]
pub struct RoomList {
    /// Every room, in display order.
    pub rooms: Vec<RoomInfo>,
}

/// A link attached to a chat message.
#[data]
#[derive(Clone, Debug, PartialEq)]
pub struct Attachment {
    /// Where the attachment lives.
    #[validate(url)]
    pub url: String,
    /// A label to show instead of the URL.
    #[validate(length(min = 1, max = 200))]
    pub name: Option<String>,
}

/// Post a message to the room you are in.
#[message("SEND_MESSAGE")]
#[derive(Clone, Debug, PartialEq)]
pub struct SendMessage {
    /// The room to post to; you must have joined it.
    #[validate(length(min = 1, max = 64))]
    pub room_id: String,
    /// The message text.
    #[validate(length(min = 1, max = 1000))]
    pub text: String,
    /// An optional link.
    pub attachment: Option<Attachment>,
}

/// A message posted to a room.
#[message("CHAT_MESSAGE")]
#[derive(Clone, Debug, PartialEq)]
pub struct ChatMessage {
    /// Unique per server, increasing.
    pub id: String,
    /// The room it was posted to.
    pub room_id: String,
    /// Who posted it.
    pub user_id: String,
    /// Their display name.
    pub user_name: String,
    /// The text, to be rendered as text, never as HTML.
    pub text: String,
    /// The attachment, if any.
    pub attachment: Option<Attachment>,
    /// When the server accepted it, in milliseconds since the Unix epoch.
    pub timestamp: u64,
}

/// You started typing in a room.
#[message("TYPING_START")]
#[derive(Clone, Debug, PartialEq)]
pub struct TypingStart {
    /// The room you are typing in.
    #[validate(length(min = 1, max = 64))]
    pub room_id: String,
}

/// You stopped typing in a room.
#[message("TYPING_STOP")]
#[derive(Clone, Debug, PartialEq)]
pub struct TypingStop {
    /// The room you were typing in.
    #[validate(length(min = 1, max = 64))]
    pub room_id: String,
}

/// Someone else started or stopped typing in your room.
#[message("USER_TYPING")]
#[derive(Clone, Debug, PartialEq)]
pub struct UserTyping {
    /// The room.
    pub room_id: String,
    /// Who is typing.
    pub user_id: String,
    /// Their display name.
    pub user_name: String,
    /// `true` when they started, `false` when they stopped.
    pub typing: bool,
}

fn default_limit() -> u32 {
    50
}

/// Fetch a room's recent messages, oldest first.
#[rpc("GET_MESSAGES", response = Messages)]
#[derive(Clone, Debug, PartialEq)]
pub struct GetMessages {
    /// The room whose history to fetch.
    #[validate(length(min = 1, max = 64))]
    pub room_id: String,
    /// At most this many of the newest messages.
    #[serde(default = "default_limit")]
    #[validate(range(min = 1, max = 100))]
    pub limit: u32,
}

/// A room's recent messages, oldest first.
#[message("MESSAGES")]
#[derive(Clone, Debug, PartialEq)]
pub struct Messages {
    /// The room.
    pub room_id: String,
    /// The messages.
    pub messages: Vec<ChatMessage>,
}

/// An arithmetic operation.
#[data]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// `a + b`
    Add,
    /// `a * b`
    Multiply,
}

/// Compute `a <operation> b` on the server.
#[rpc("CALCULATE", response = CalculateResult)]
#[derive(Clone, Debug, PartialEq)]
pub struct Calculate {
    /// What to compute.
    pub operation: Operation,
    /// Left operand.
    pub a: f64,
    /// Right operand.
    pub b: f64,
}

/// The result of `CALCULATE`.
#[message("CALCULATE_RESULT")]
#[derive(Clone, Debug, PartialEq)]
pub struct CalculateResult {
    /// The computed value.
    pub result: f64,
}

protocol! {
    /// The chat protocol of the WS-Kit tutorial: rooms, messages, typing indicators, and two
    /// RPCs.
    pub Chat {
        client: [Authenticate, JoinRoom, LeaveRoom, SendMessage, TypingStart, TypingStop],
        server: [AuthSuccess, RoomList, UserJoined, UserLeft, ChatMessage, UserTyping],
        rpc: [GetMessages, Calculate],
    }
}
