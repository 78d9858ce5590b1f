//! What goes over Redis: channel names (topic plus prefix) and tagged messages.
//!
//! A message is `tw1:<instance id>:<frame>`: a format version, the 32 hex digits of the
//! publishing instance's id, and the frame's JSON text exactly as the runtime encoded it.
//! The tag lets an instance skip its own publishes when Redis echoes them back, since it
//! already delivered them to its local subscribers.

use std::fmt;

/// The format version that starts every message.
const MAGIC: &str = "tw1:";
/// Hex digits in an instance id.
const ID_LEN: usize = 32;
/// Bytes before the frame: magic, id, separator.
const HEADER_LEN: usize = MAGIC.len() + ID_LEN + 1;

/// A random 128-bit id naming one instance in the messages it publishes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct InstanceId([u8; ID_LEN]);

impl InstanceId {
    /// A fresh id from the operating system's random source.
    ///
    /// # Errors
    /// When the operating system cannot provide random bytes.
    pub(crate) fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; ID_LEN / 2];
        getrandom::fill(&mut bytes)?;
        Ok(Self::from_bytes(bytes))
    }

    fn from_bytes(bytes: [u8; ID_LEN / 2]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; ID_LEN];
        for (i, byte) in bytes.iter().enumerate() {
            hex[2 * i] = HEX[usize::from(byte >> 4)];
            hex[2 * i + 1] = HEX[usize::from(byte & 0x0f)];
        }
        Self(hex)
    }

    /// The id as 32 lowercase hex digits.
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tags `frame` with the publishing instance.
pub(crate) fn encode(instance: &InstanceId, frame: &str) -> String {
    let mut message = String::with_capacity(HEADER_LEN + frame.len());
    message.push_str(MAGIC);
    message.push_str(instance.as_str());
    message.push(':');
    message.push_str(frame);
    message
}

/// A message read from Redis.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Incoming<'a> {
    /// Published by this instance: already delivered locally.
    Own,
    /// Published by another instance: the frame to deliver.
    Frame(&'a str),
}

/// Why a message on a subscribed channel cannot be delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// It does not start with the `tw1:<id>:` tag, so no twinwire instance published it.
    Untagged,
    /// The frame is not UTF-8.
    NotUtf8,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Untagged => {
                "it lacks the `tw1:<instance id>:` tag twinwire instances put on what they publish"
            }
            Self::NotUtf8 => "its frame is not UTF-8 text",
        })
    }
}

/// Reads a message published on a channel, telling apart this instance's own.
pub(crate) fn decode<'a>(
    instance: &InstanceId,
    message: &'a [u8],
) -> Result<Incoming<'a>, Malformed> {
    let (header, frame) = message
        .split_at_checked(HEADER_LEN)
        .ok_or(Malformed::Untagged)?;
    let (magic, rest) = header.split_at(MAGIC.len());
    let (id, separator) = rest.split_at(ID_LEN);
    if magic != MAGIC.as_bytes() || separator != b":" || !id.iter().all(u8::is_ascii_hexdigit) {
        return Err(Malformed::Untagged);
    }
    if id == instance.0 {
        return Ok(Incoming::Own);
    }
    std::str::from_utf8(frame)
        .map(Incoming::Frame)
        .map_err(|_| Malformed::NotUtf8)
}

/// Maps topics to Redis channel names and back, with an optional prefix so several apps can
/// share one Redis.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Channels {
    prefix: String,
}

impl Channels {
    pub(crate) fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The channel carrying `topic`.
    pub(crate) fn channel(&self, topic: &str) -> String {
        let mut channel = String::with_capacity(self.prefix.len() + topic.len());
        channel.push_str(&self.prefix);
        channel.push_str(topic);
        channel
    }

    /// The topic a channel carries, if the channel is one of ours.
    pub(crate) fn topic<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel.strip_prefix(self.prefix.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(byte: u8) -> InstanceId {
        InstanceId::from_bytes([byte; 16])
    }

    #[test]
    fn ids_are_hex_and_random() {
        assert_eq!(id(0xab).as_str(), "ab".repeat(16));
        assert_eq!(id(0x0f).as_str(), "0f".repeat(16));
        let (a, b) = (InstanceId::random().unwrap(), InstanceId::random().unwrap());
        assert_ne!(a, b);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn a_message_round_trips_and_own_messages_are_recognised() {
        let (me, other) = (id(1), id(2));
        let frame = r#"{"type":"SAID","payload":{"text":"héllo: tw1:"}}"#;
        let message = encode(&other, frame);
        assert_eq!(message.len(), HEADER_LEN + frame.len());
        assert_eq!(decode(&me, message.as_bytes()), Ok(Incoming::Frame(frame)));
        assert_eq!(decode(&other, message.as_bytes()), Ok(Incoming::Own));
        // An empty frame is still a (useless) frame; the runtime never publishes one.
        assert_eq!(
            decode(&me, encode(&other, "").as_bytes()),
            Ok(Incoming::Frame(""))
        );
    }

    #[test]
    fn foreign_and_broken_messages_are_refused() {
        let me = id(1);
        let good = encode(&id(2), "{}");
        let wrong_magic = good.replacen("tw1:", "tw2:", 1);
        let bad_separator = good.replacen(":{", ";{", 1);
        let not_hex = good.replacen("02", "zz", 1);
        for message in [
            "",
            "{}",
            r#"{"type":"SAID"}"#,
            &good[..HEADER_LEN - 1],
            &wrong_magic,
            &bad_separator,
            &not_hex,
        ] {
            assert_eq!(
                decode(&me, message.as_bytes()),
                Err(Malformed::Untagged),
                "{message:?}"
            );
        }
        let mut not_utf8 = encode(&id(2), "").into_bytes();
        not_utf8.extend_from_slice(&[0xff, 0xfe]);
        assert_eq!(decode(&me, &not_utf8), Err(Malformed::NotUtf8));
    }

    #[test]
    fn channels_carry_the_prefix_both_ways() {
        let plain = Channels::default();
        assert_eq!(plain.channel("room:1"), "room:1");
        assert_eq!(plain.topic("room:1"), Some("room:1"));

        let chat = Channels::new("chat:");
        assert_eq!(chat.channel("room:1"), "chat:room:1");
        assert_eq!(chat.topic("chat:room:1"), Some("room:1"));
        assert_eq!(chat.topic("shop:room:1"), None);
    }
}
