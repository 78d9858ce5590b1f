//! The wire envelope `{ "type", "meta"?, "payload"? }`: the reserved wire types and meta
//! keys, the rule for wire type names, and [`Meta`], shared by the runtime and codegen.
//!
//! See `docs/wire-protocol.md`, sections "Envelope", "Meta" and "Reserved types". Every frame
//! is a JSON object; `payload` is present exactly when the message has one, `meta` carries
//! `timestamp` and `correlationId` plus per-message keys.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `type` of the frame answering an uncorrelated failure.
pub const ERROR_TYPE: &str = "ERROR";
/// `type` of the terminal error frame answering an RPC request.
pub const RPC_ERROR_TYPE: &str = "RPC_ERROR";
/// `type` of a non-terminal RPC progress frame (WS-Kit's spelling).
pub const RPC_PROGRESS_TYPE: &str = "$ws:rpc-progress";
/// `type` of the frame by which a client cancels its request (`meta.correlationId` names
/// it), as WS-Kit's client and twinwire's clients send it on a timeout or abort.
pub const RPC_ABORT_TYPE: &str = "$ws:abort";
/// `type` of an application-level heartbeat sent by clients.
pub const HEARTBEAT_TYPE: &str = "__heartbeat";
/// `type` of the server's answer to [`HEARTBEAT_TYPE`].
pub const HEARTBEAT_ACK_TYPE: &str = "__heartbeat_ack";

/// Meta keys the server sets itself: stripped from inbound meta, never sent.
pub const RESERVED_META_KEYS: [&str; 2] = ["clientId", "receivedAt"];
/// Meta key of the send time in milliseconds since the Unix epoch.
pub const META_TIMESTAMP: &str = "timestamp";
/// Meta key of the RPC correlation id.
pub const META_CORRELATION_ID: &str = "correlationId";

/// Meta keys a message's typed meta cannot declare: the standard keys, which the sender of
/// every frame sets, and the reserved ones, which the server strips. The macros keep a copy
/// of this list (they cannot depend on this crate); the trybuild case
/// `protocol/tests/ui/meta_reserved_key.rs` declares each of these keys.
pub const UNDECLARABLE_META_KEYS: [&str; 4] = [
    META_TIMESTAMP,
    META_CORRELATION_ID,
    RESERVED_META_KEYS[0],
    RESERVED_META_KEYS[1],
];

/// Wire types no user message may take: the frames above.
pub const RESERVED_TYPES: [&str; 6] = [
    ERROR_TYPE,
    RPC_ERROR_TYPE,
    RPC_PROGRESS_TYPE,
    RPC_ABORT_TYPE,
    HEARTBEAT_TYPE,
    HEARTBEAT_ACK_TYPE,
];

/// Why a wire `type` name cannot be used for a message.
///
/// The macros apply the same rule at compile time; this is the run-time copy for names that
/// arrive some other way (a manifest file, a hand-written `Message` impl).
pub fn check_type_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("a wire type must not be empty")
    } else if name.starts_with('$') {
        Err("wire types starting with `$` are reserved for the wire protocol")
    } else if name.starts_with("__") {
        Err("wire types starting with `__` are reserved for the wire protocol")
    } else if RESERVED_TYPES.contains(&name) {
        Err("this wire type is reserved for the wire protocol's own frames")
    } else if name.chars().any(char::is_control) {
        Err("a wire type must not contain control characters")
    } else {
        Ok(())
    }
}

/// The standard meta fields, plus any per-message extras.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Milliseconds since the Unix epoch, set by the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// Marks an RPC request and its terminal reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Any other keys, per message.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Meta {
    /// Whether no key would be written.
    pub fn is_empty(&self) -> bool {
        self.timestamp.is_none() && self.correlation_id.is_none() && self.extra.is_empty()
    }

    /// Removes the keys only the server may set ([`RESERVED_META_KEYS`]).
    pub fn strip_reserved(&mut self) {
        for key in RESERVED_META_KEYS {
            self.extra.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_meta_writes_no_key() {
        let meta = Meta::default();
        assert!(meta.is_empty());
        assert_eq!(serde_json::to_string(&meta).unwrap(), "{}");
    }

    #[test]
    fn meta_keeps_extras_and_strips_reserved_keys() {
        let mut meta: Meta = serde_json::from_value(json!({
            "timestamp": 5, "correlationId": "c1", "clientId": "spoof", "receivedAt": 1, "trace": "t"
        }))
        .unwrap();
        meta.strip_reserved();
        assert_eq!(meta.timestamp, Some(5));
        assert_eq!(meta.correlation_id.as_deref(), Some("c1"));
        assert_eq!(meta.extra.len(), 1);
        assert_eq!(meta.extra["trace"], "t");
        assert_eq!(
            serde_json::to_value(&meta).unwrap(),
            json!({"timestamp":5,"correlationId":"c1","trace":"t"})
        );
    }

    #[test]
    fn type_names_follow_the_reservation_rules() {
        assert!(check_type_name("SEND_MESSAGE").is_ok());
        for bad in [
            "",
            "$ws:x",
            RPC_ABORT_TYPE,
            "__hb",
            "ERROR",
            "RPC_ERROR",
            "A\nB",
        ] {
            assert!(check_type_name(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
