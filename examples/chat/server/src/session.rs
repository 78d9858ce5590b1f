//! [`Session`]: what the server knows about one connection.

use std::sync::Arc;

use tokio::sync::Mutex;

/// The longest display name kept from a token, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// A signed-in user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Stable for the connection's lifetime, unique within the server process.
    pub id: String,
    /// The name shown to other users.
    pub name: String,
}

/// Per-connection data of the chat router: who the connection is and which room it is in.
#[derive(Debug)]
pub struct Session {
    number: u64,
    user: Option<User>,
    room: Option<String>,
    /// Held while the connection changes rooms. Handlers of one connection run concurrently,
    /// and a join racing a leave must not leave the topic subscriptions, `room` and the
    /// member counts disagreeing.
    membership: Arc<Mutex<()>>,
}

impl Session {
    /// The session of the `number`-th connection of the process (numbers start at 1).
    pub fn new(number: u64) -> Self {
        Self {
            number,
            user: None,
            room: None,
            membership: Arc::new(Mutex::new(())),
        }
    }

    /// The name a guest gets on connect, and keeps if its token carries no usable name.
    pub fn guest_name(&self) -> String {
        format!("Guest {}", self.number)
    }

    /// The user, once `AUTHENTICATE` succeeded.
    pub fn user(&self) -> Option<&User> {
        self.user.as_ref()
    }

    /// The room the connection is in.
    pub fn room(&self) -> Option<&str> {
        self.room.as_deref()
    }

    /// Signs the connection in as `name`, a user name taken from a verified token (see
    /// [`Accounts::verify`](crate::Accounts::verify)), and returns the user. The display
    /// name is `name` trimmed, without control characters, at most [`MAX_NAME_CHARS`]
    /// characters; a name with no visible text keeps the guest name.
    pub fn sign_in(&mut self, name: &str) -> User {
        let name = display_name(name).unwrap_or_else(|| self.guest_name());
        let user = User {
            id: format!("u{}", self.number),
            name,
        };
        self.user = Some(user.clone());
        user
    }

    pub(crate) fn set_room(&mut self, room: Option<String>) {
        self.room = room;
    }

    pub(crate) fn membership(&self) -> Arc<Mutex<()>> {
        Arc::clone(&self.membership)
    }
}

/// The display name for a user name, if it has any visible text.
fn display_name(token: &str) -> Option<String> {
    let cleaned: String = token.chars().filter(|c| !c.is_control()).collect();
    let name: String = cleaned.trim().chars().take(MAX_NAME_CHARS).collect();
    let name = name.trim_end();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_with_text_names_the_user() {
        let mut session = Session::new(7);
        let user = session.sign_in("  alice \n");
        assert_eq!(
            user,
            User {
                id: "u7".into(),
                name: "alice".into()
            }
        );
        assert_eq!(session.user(), Some(&user));
    }

    #[test]
    fn a_blank_token_keeps_the_guest_name() {
        let mut session = Session::new(3);
        assert_eq!(session.sign_in(" \t\u{7}").name, "Guest 3");
    }

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_NAME_CHARS + 10);
        let name = display_name(&long).unwrap();
        assert_eq!(name.chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn control_characters_never_reach_the_name() {
        assert_eq!(display_name("bo\u{1b}[31mb").as_deref(), Some("bo[31mb"));
    }
}
