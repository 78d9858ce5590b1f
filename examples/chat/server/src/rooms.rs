//! The rooms of one server process: their member counts and recent history, in memory.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chat_protocol::{ChatMessage, RoomInfo};
use twinwire_runtime::pubsub::validate_topic;

/// A room offered to clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomSpec {
    /// Stable id, used in `JOIN_ROOM`: 1 to 64 characters, no whitespace or control
    /// characters.
    pub id: String,
    /// Display name.
    pub name: String,
}

impl RoomSpec {
    /// A room with an id and a display name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// Why a room list cannot be served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomError {
    /// No rooms at all: nobody could chat.
    Empty,
    /// An id clients could not send (the protocol allows 1 to 64 characters) or that cannot
    /// name a pub/sub topic.
    InvalidId {
        /// The id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two rooms share an id.
    DuplicateId(String),
}

impl fmt::Display for RoomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the room list is empty; configure at least one room"),
            Self::InvalidId { id, reason } => write!(f, "room id {id:?} cannot be used: {reason}"),
            Self::DuplicateId(id) => write!(f, "room id {id:?} is configured twice"),
        }
    }
}

impl std::error::Error for RoomError {}

/// The pub/sub topic of a room.
pub(crate) fn topic(room_id: &str) -> String {
    format!("room:{room_id}")
}

struct Room {
    spec: RoomSpec,
    members: u32,
    history: VecDeque<ChatMessage>,
}

/// Every room, its member count and its last messages (at most `history_limit` each).
pub(crate) struct Rooms {
    rooms: Mutex<Vec<Room>>,
    history_limit: usize,
    next_message_id: Mutex<u64>,
}

impl Rooms {
    pub(crate) fn new(specs: Vec<RoomSpec>, history_limit: usize) -> Result<Self, RoomError> {
        if specs.is_empty() {
            return Err(RoomError::Empty);
        }
        for (i, spec) in specs.iter().enumerate() {
            check_id(&spec.id)?;
            if specs[..i].iter().any(|other| other.id == spec.id) {
                return Err(RoomError::DuplicateId(spec.id.clone()));
            }
        }
        let rooms = specs
            .into_iter()
            .map(|spec| Room {
                spec,
                members: 0,
                history: VecDeque::new(),
            })
            .collect();
        Ok(Self {
            rooms: Mutex::new(rooms),
            history_limit,
            next_message_id: Mutex::new(1),
        })
    }

    // No code panics while holding the lock, and every update leaves a room consistent, so
    // a poisoned lock's data is still good.
    fn lock(&self) -> MutexGuard<'_, Vec<Room>> {
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn exists(&self, id: &str) -> bool {
        self.lock().iter().any(|room| room.spec.id == id)
    }

    /// Every room in configuration order, with its member count.
    pub(crate) fn list(&self) -> Vec<RoomInfo> {
        self.lock()
            .iter()
            .map(|room| RoomInfo {
                id: room.spec.id.clone(),
                name: room.spec.name.clone(),
                user_count: room.members,
            })
            .collect()
    }

    pub(crate) fn enter(&self, id: &str) {
        if let Some(room) = self.lock().iter_mut().find(|room| room.spec.id == id) {
            room.members = room.members.saturating_add(1);
        }
    }

    pub(crate) fn exit(&self, id: &str) {
        if let Some(room) = self.lock().iter_mut().find(|room| room.spec.id == id) {
            room.members = room.members.saturating_sub(1);
        }
    }

    /// Gives `message` the next id and appends it to its room's history, dropping the oldest
    /// message past the limit. Ids and history order agree because both are decided under
    /// one lock. `None` if the room does not exist.
    pub(crate) fn record(&self, mut message: ChatMessage) -> Option<ChatMessage> {
        let mut rooms = self.lock();
        let room = rooms
            .iter_mut()
            .find(|room| room.spec.id == message.room_id)?;
        let mut next = self
            .next_message_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        message.id = next.to_string();
        *next += 1;
        if self.history_limit > 0 {
            if room.history.len() == self.history_limit {
                room.history.pop_front();
            }
            room.history.push_back(message.clone());
        }
        Some(message)
    }

    /// Removes a recorded message again (its delivery failed, so the sender was told it was
    /// not posted).
    pub(crate) fn retract(&self, room_id: &str, message_id: &str) {
        if let Some(room) = self.lock().iter_mut().find(|room| room.spec.id == room_id) {
            room.history.retain(|m| m.id != message_id);
        }
    }

    /// The newest `limit` messages of a room, oldest first; `None` if the room does not exist.
    pub(crate) fn recent(&self, id: &str, limit: usize) -> Option<Vec<ChatMessage>> {
        let rooms = self.lock();
        let room = rooms.iter().find(|room| room.spec.id == id)?;
        let skip = room.history.len().saturating_sub(limit);
        Some(room.history.iter().skip(skip).cloned().collect())
    }
}

fn check_id(id: &str) -> Result<(), RoomError> {
    let invalid = |reason: String| RoomError::InvalidId {
        id: id.to_owned(),
        reason,
    };
    let chars = id.chars().count();
    if !(1..=64).contains(&chars) {
        return Err(invalid(format!(
            "it has {chars} characters; JOIN_ROOM accepts 1 to 64"
        )));
    }
    validate_topic(&topic(id)).map_err(|err| invalid(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rooms(limit: usize) -> Rooms {
        Rooms::new(
            vec![RoomSpec::new("a", "A"), RoomSpec::new("b", "B")],
            limit,
        )
        .unwrap()
    }

    fn message(room: &str, text: &str) -> ChatMessage {
        ChatMessage {
            id: String::new(),
            room_id: room.into(),
            user_id: "u1".into(),
            user_name: "alice".into(),
            text: text.into(),
            attachment: None,
            timestamp: 0,
        }
    }

    fn texts(messages: &[ChatMessage]) -> Vec<&str> {
        messages.iter().map(|m| m.text.as_str()).collect()
    }

    #[test]
    fn history_keeps_the_newest_messages_up_to_the_limit() {
        let rooms = rooms(3);
        for text in ["1", "2", "3", "4", "5"] {
            rooms.record(message("a", text)).unwrap();
        }
        assert_eq!(texts(&rooms.recent("a", 100).unwrap()), ["3", "4", "5"]);
        assert_eq!(texts(&rooms.recent("a", 2).unwrap()), ["4", "5"]);
        assert_eq!(rooms.recent("b", 100).unwrap(), []);
        assert_eq!(rooms.recent("nope", 100), None);
    }

    #[test]
    fn ids_increase_across_rooms_and_follow_history_order() {
        let rooms = rooms(10);
        let first = rooms.record(message("a", "x")).unwrap();
        let second = rooms.record(message("b", "y")).unwrap();
        let third = rooms.record(message("a", "z")).unwrap();
        let ids: Vec<u64> = [first, second, third]
            .iter()
            .map(|m| m.id.parse().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert_eq!(rooms.record(message("nope", "x")), None);
    }

    #[test]
    fn a_retracted_message_leaves_the_history() {
        let rooms = rooms(10);
        let kept = rooms.record(message("a", "kept")).unwrap();
        let gone = rooms.record(message("a", "gone")).unwrap();
        rooms.retract("a", &gone.id);
        assert_eq!(rooms.recent("a", 10).unwrap(), [kept]);
    }

    #[test]
    fn member_counts_follow_enter_and_exit_and_never_underflow() {
        let rooms = rooms(0);
        rooms.enter("a");
        rooms.enter("a");
        rooms.exit("a");
        rooms.exit("b");
        let counts: Vec<u32> = rooms.list().iter().map(|r| r.user_count).collect();
        assert_eq!(counts, [1, 0]);
    }

    #[test]
    fn bad_room_lists_are_refused_with_the_reason() {
        assert_eq!(Rooms::new(vec![], 1).err(), Some(RoomError::Empty));
        let dup = Rooms::new(vec![RoomSpec::new("a", "A"), RoomSpec::new("a", "B")], 1);
        assert_eq!(dup.err(), Some(RoomError::DuplicateId("a".into())));
        for id in ["", "has space", &"x".repeat(65)] {
            let err = Rooms::new(vec![RoomSpec::new(id, "X")], 1).err().unwrap();
            assert!(matches!(err, RoomError::InvalidId { .. }), "{id:?}: {err}");
        }
    }
}
