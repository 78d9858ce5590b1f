//! Frames on the wire (`docs/wire-protocol.md`, "Envelope" and "Errors"): parsing inbound
//! envelopes without building a JSON tree, and encoding outbound ones in a single pass.
//!
//! Inbound, the envelope is split into borrowed raw parts first, so a payload is deserialized
//! straight from the frame's text into the handler's type. Every problem is answered with
//! `INVALID_ARGUMENT` whose `details` are `{"target": "frame" | "payload", "issues": [...]}`:
//! `frame` issues carry JSON pointers into the frame (`/type`, `/meta/correlationId`),
//! `payload` issues pointers into the payload (`/roomId`), exactly as `Validate` and the
//! generated TypeScript guards report them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio_tungstenite::tungstenite::Utf8Bytes;
use twinwire::envelope::{
    ERROR_TYPE, META_CORRELATION_ID, META_TIMESTAMP, RESERVED_META_KEYS, RPC_ERROR_TYPE,
    RPC_PROGRESS_TYPE,
};
use twinwire::{ErrorCode, ErrorPayload, Issue, Message, Meta, MetaFields, Validate};

/// An encoded outbound frame: UTF-8 JSON text, cheap to clone (reference counted), so one
/// published message is encoded once and shared by every recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame(Utf8Bytes);

impl Frame {
    /// Wraps already-encoded envelope text, e.g. a frame a pub/sub backend received from
    /// another instance. The text is sent as is.
    pub fn from_text(text: impl Into<String>) -> Self {
        Self(Utf8Bytes::from(text.into()))
    }

    const fn from_static(text: &'static str) -> Self {
        Self(Utf8Bytes::from_static(text))
    }

    /// The frame's JSON text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub(crate) fn into_inner(self) -> Utf8Bytes {
        self.0
    }

    /// The frame's size in bytes, as it counts against a connection's outbound limit.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// The most characters of a client's input that an error answer echoes (a wire type, a
/// field name, a value quoted by an issue).
pub(crate) const ECHO_LIMIT: usize = 100;

/// `text`, cut after [`ECHO_LIMIT`] characters with an ellipsis: an error answer must not
/// hand a client back (and multiply) whatever it sent.
pub(crate) fn clip(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(ECHO_LIMIT) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
    }
}

/// The answer to `__heartbeat`, built once.
pub(crate) const HEARTBEAT_ACK: Frame = Frame::from_static(
    // Kept in sync with the constant by a unit test.
    r#"{"type":"__heartbeat_ack"}"#,
);

/// A frame the runtime refused, and who to tell.
#[derive(Debug)]
pub(crate) struct Rejected {
    /// The request's correlation id, when it could be read: the answer is then `RPC_ERROR`.
    pub correlation_id: Option<String>,
    pub error: ErrorPayload,
}

/// An inbound envelope whose payload is still raw JSON text.
#[derive(Debug)]
pub(crate) struct Inbound<'a> {
    pub wire_type: Cow<'a, str>,
    pub meta: Meta,
    pub payload: Option<&'a RawValue>,
}

/// The envelope's keys, each kept as raw JSON; unknown keys are skipped.
#[derive(Deserialize)]
struct RawFrame<'a> {
    #[serde(rename = "type", borrow, default)]
    wire_type: Option<&'a RawValue>,
    #[serde(borrow, default)]
    meta: Option<&'a RawValue>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
}

/// The correlation id alone, read leniently when the rest of `meta` is malformed so the
/// error can still settle the caller's request.
#[derive(Deserialize)]
struct CorrelationOnly {
    #[serde(rename = "correlationId")]
    correlation_id: Option<String>,
}

/// An object key, borrowed from the frame unless it has escapes (serde's own `Cow<str>`
/// always allocates).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<De: serde::Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        struct KeyVisitor;

        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

/// `meta` as it arrives: read key by key into [`Meta`] (rather than through serde's
/// `flatten`, which buffers every entry first), dropping the reserved keys unread.
struct WireMeta(Meta);

impl<'de> Deserialize<'de> for WireMeta {
    fn deserialize<De: serde::Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        struct MetaVisitor;

        impl<'de> serde::de::Visitor<'de> for MetaVisitor {
            type Value = WireMeta;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a meta object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<WireMeta, A::Error> {
                let mut meta = Meta::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match &*key {
                        META_TIMESTAMP => meta.timestamp = map.next_value()?,
                        META_CORRELATION_ID => meta.correlation_id = map.next_value()?,
                        k if RESERVED_META_KEYS.contains(&k) => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        _ => {
                            let value = map.next_value()?;
                            meta.extra.insert(key.into_owned(), value);
                        }
                    }
                }
                Ok(WireMeta(meta))
            }
        }

        deserializer.deserialize_map(MetaVisitor)
    }
}

/// Parses a frame's text into its envelope, stripping the reserved meta keys.
pub(crate) fn parse(text: &str) -> Result<Inbound<'_>, Rejected> {
    let frame_error = |issues: Vec<Issue>, correlation_id: Option<String>| Rejected {
        correlation_id,
        error: invalid_argument("frame", issues),
    };

    // serde would happily read a JSON array into the envelope struct (positionally), so
    // the object check comes first; JSON allows only these four whitespace bytes.
    if !text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
    {
        let message = match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => "a frame must be a JSON object".to_owned(),
            Err(err) => format!("the frame is not valid JSON: {err}"),
        };
        return Err(frame_error(vec![issue("", "invalid", message)], None));
    }
    let raw: RawFrame<'_> = serde_json::from_str(text).map_err(|err| {
        let message = if err.is_data() {
            format!("malformed frame: {err}")
        } else {
            format!("the frame is not valid JSON: {err}")
        };
        frame_error(vec![issue("", "invalid", message)], None)
    })?;

    let mut issues = Vec::new();
    let (meta, correlation_id) = match raw.meta {
        None => (Meta::default(), None),
        Some(raw_meta) => match serde_json::from_str::<WireMeta>(raw_meta.get()) {
            Ok(WireMeta(meta)) => (meta, None),
            Err(_) => {
                issues.push(decode_issue::<WireMeta>(raw_meta.get(), "/meta"));
                // Only an object has a `correlationId`: serde would read the struct from an
                // array positionally, taking any first element for the id.
                let correlation_id = raw_meta
                    .get()
                    .starts_with('{')
                    .then(|| serde_json::from_str::<CorrelationOnly>(raw_meta.get()).ok())
                    .flatten()
                    .and_then(|c| c.correlation_id);
                (Meta::default(), correlation_id)
            }
        },
    };
    let wire_type = match raw.wire_type {
        None => {
            issues.push(issue("/type", "required", "the frame has no `type`"));
            None
        }
        Some(raw_wire_type) => match json_str(raw_wire_type) {
            Some(wire_type) => Some(wire_type),
            None => {
                issues.push(issue("/type", "invalid", "`type` must be a string"));
                None
            }
        },
    };
    match wire_type {
        Some(wire_type) if issues.is_empty() => Ok(Inbound {
            wire_type,
            meta,
            payload: raw.payload,
        }),
        _ => Err(frame_error(
            issues,
            correlation_id.or(meta.correlation_id.clone()),
        )),
    }
}

/// A JSON string's value, borrowed when it has no escapes.
fn json_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    match serde_json::from_str::<&str>(raw.get()) {
        Ok(s) => Some(Cow::Borrowed(s)),
        Err(_) => serde_json::from_str::<String>(raw.get())
            .ok()
            .map(Cow::Owned),
    }
}

/// Decodes and validates a message's payload (or its absence).
pub(crate) fn decode_payload<M: Message>(payload: Option<&RawValue>) -> Result<M, ErrorPayload> {
    let message = if M::HAS_PAYLOAD {
        let Some(raw) = payload else {
            return Err(frame_error(
                "/payload",
                "required",
                format!("`{}` needs a payload", M::WIRE_TYPE),
            ));
        };
        if !raw.get().starts_with('{') {
            return Err(frame_error(
                "/payload",
                "invalid",
                "a payload must be a JSON object",
            ));
        }
        serde_json::from_str::<M>(raw.get())
            .map_err(|_| invalid_argument("payload", vec![decode_issue::<M>(raw.get(), "")]))?
    } else {
        if payload.is_some() {
            return Err(frame_error(
                "/payload",
                "unexpected",
                format!("`{}` carries no payload", M::WIRE_TYPE),
            ));
        }
        // A payload-less message is a unit struct, which serde reads from `null`.
        serde_json::from_str::<M>("null").map_err(|err| {
            ErrorPayload::new(
                ErrorCode::Internal,
                format!(
                    "`{}` cannot be built without a payload: {err}",
                    M::WIRE_TYPE
                ),
            )
        })?
    };
    message
        .validate()
        .map_err(|err| invalid_argument("payload", err.into_issues()))?;
    Ok(message)
}

/// Decodes and validates the typed meta of message `M` from a frame's meta (its extras: the
/// standard keys were read and the reserved ones dropped by [`parse`]); `()` for a message
/// that declares none. A problem is a frame issue under `/meta`, as
/// `docs/wire-protocol.md`, "Meta", specifies.
pub(crate) fn decode_meta<M: Message>(meta: &Meta) -> Result<M::Meta, ErrorPayload> {
    let decoded = if <M::Meta as MetaFields>::DECLARED {
        M::Meta::deserialize(&meta.extra)
    } else {
        // `()`, which serde reads from `null`: nothing to check.
        M::Meta::deserialize(Value::Null)
    };
    let typed = decoded.map_err(|_| {
        let issue = match serde_path_to_error::deserialize::<_, M::Meta>(&meta.extra) {
            Ok(_) => issue("/meta", "invalid", "the meta could not be decoded"),
            Err(err) => path_issue(err, "/meta"),
        };
        invalid_argument("frame", vec![issue])
    })?;
    typed
        .validate()
        .map_err(|err| invalid_argument("frame", under_meta(err.into_issues())))?;
    Ok(typed)
}

/// Issues of a typed meta's `Validate`, moved from the meta's own paths to the frame's.
pub(crate) fn under_meta(issues: Vec<Issue>) -> Vec<Issue> {
    issues
        .into_iter()
        .map(|mut issue| {
            issue.path = format!("/meta{}", issue.path);
            issue
        })
        .collect()
}

/// Re-runs a failed deserialization with path tracking, to name the failing value.
///
/// Only the error path pays for the tracking: the hot path deserializes directly.
fn decode_issue<T: DeserializeOwned>(text: &str, prefix: &str) -> Issue {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(_) => issue(prefix, "invalid", "the value could not be decoded"),
        Err(err) => path_issue(err, prefix),
    }
}

/// The issue of a path-tracked serde error, its path under `prefix`.
pub(crate) fn path_issue(
    err: serde_path_to_error::Error<serde_json::Error>,
    prefix: &str,
) -> Issue {
    let mut path = prefix.to_owned();
    for segment in err.path().iter() {
        use serde_path_to_error::Segment;
        match segment {
            Segment::Seq { index } => {
                path.push('/');
                path.push_str(&index.to_string());
            }
            Segment::Map { key } => push_pointer_segment(&mut path, key),
            Segment::Enum { variant } => push_pointer_segment(&mut path, variant),
            Segment::Unknown => {}
        }
    }
    let inner = err.into_inner();
    let message = strip_position(&inner.to_string());
    // serde names a missing field in its message but places the error on the
    // enclosing object; point at the field itself. (An unknown field's path already
    // ends with its key.)
    let code = if let Some(field) = backticked(&message, "missing field `") {
        push_pointer_segment(&mut path, field);
        "required"
    } else if message.starts_with("unknown field `") {
        "unknown_field"
    } else {
        "invalid"
    };
    issue(&path, code, message)
}

/// serde_json appends ` at line L column C`, meaningless to a client that sent one line.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

fn backticked<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    rest.find('`').map(|end| &rest[..end])
}

fn push_pointer_segment(path: &mut String, segment: &str) {
    path.push('/');
    for c in segment.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

fn issue(path: &str, code: &'static str, message: impl Into<String>) -> Issue {
    Issue {
        path: path.to_owned(),
        code: Cow::Borrowed(code),
        message: message.into(),
    }
}

/// `INVALID_ARGUMENT` for one problem of the frame itself, at `path` in the frame.
pub(crate) fn frame_error(
    path: &str,
    code: &'static str,
    message: impl Into<String>,
) -> ErrorPayload {
    invalid_argument("frame", vec![issue(path, code, message)])
}

/// `INVALID_ARGUMENT` listing `issues` found in the frame or the payload.
///
/// Paths and messages can quote the client's input (an unknown field's name, serde's
/// "invalid type: string ..."), so each is cut to [`ECHO_LIMIT`] characters, and the
/// summary in `message` names at most [`SUMMARY_ISSUES`] of them (`details` has all).
pub(crate) fn invalid_argument(target: &'static str, mut issues: Vec<Issue>) -> ErrorPayload {
    for issue in &mut issues {
        if let Cow::Owned(path) = clip(&issue.path) {
            issue.path = path;
        }
        if let Cow::Owned(message) = clip(&issue.message) {
            issue.message = message;
        }
    }
    let mut message = issues
        .iter()
        .take(SUMMARY_ISSUES)
        .map(|i| {
            let path = if i.path.is_empty() { "/" } else { &i.path };
            format!("{target} {path}: {}", i.message)
        })
        .collect::<Vec<_>>()
        .join("; ");
    if issues.len() > SUMMARY_ISSUES {
        let more = issues.len() - SUMMARY_ISSUES;
        message.push_str(&format!("; and {more} more (details.issues)"));
    }
    ErrorPayload::new(ErrorCode::InvalidArgument, message)
        .with_details(serde_json::json!({ "target": target, "issues": issues }))
}

/// How many issues the `message` of an `INVALID_ARGUMENT` answer spells out.
const SUMMARY_ISSUES: usize = 10;

/// Milliseconds since the Unix epoch, for `meta.timestamp`.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Outbound `meta`: the standard keys plus caller-supplied extras, never a reserved key.
struct OutMeta<'a> {
    timestamp: u64,
    correlation_id: Option<&'a str>,
    extra: Option<&'a Map<String, Value>>,
}

impl Serialize for OutMeta<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(META_TIMESTAMP, &self.timestamp)?;
        if let Some(id) = self.correlation_id {
            map.serialize_entry(META_CORRELATION_ID, id)?;
        }
        for (key, value) in self.extra.into_iter().flatten() {
            let standard = key == META_TIMESTAMP || key == META_CORRELATION_ID;
            if !standard && !RESERVED_META_KEYS.contains(&key.as_str()) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct OutEnvelope<'a, P: Serialize + ?Sized> {
    #[serde(rename = "type")]
    wire_type: &'a str,
    meta: OutMeta<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a P>,
    /// WS-Kit's client reads a progress value from `data`; see [`encode_progress`].
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a P>,
}

fn encode_envelope<P: Serialize + ?Sized>(
    envelope: &OutEnvelope<'_, P>,
) -> Result<Frame, serde_json::Error> {
    thread_local! {
        static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    // Serialized into a reused buffer, then copied once into an exactly sized string: one
    // allocation per frame instead of a growing `Vec` (2 or 3 allocations, and spare
    // capacity kept while the frame waits in a queue) plus the shared header `Bytes` adds
    // for a `Vec` whose length is not its capacity.
    let encode = |buf: &mut Vec<u8>| {
        buf.clear();
        serde_json::to_writer(&mut *buf, envelope)?;
        let text = std::str::from_utf8(buf).map_err(serde::ser::Error::custom)?;
        Ok(Frame::from_text(text.to_owned()))
    };
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buf) => {
            let frame = encode(&mut buf);
            // A rare huge frame must not pin its buffer for the thread's lifetime.
            if buf.capacity() > MAX_SCRATCH {
                *buf = Vec::new();
            }
            frame
        }
        // Only if a `Serialize` impl encodes a frame itself: give it its own buffer.
        Err(_) => encode(&mut Vec::new()),
    })
}

/// The largest encoding buffer kept for reuse, in bytes.
const MAX_SCRATCH: usize = 64 * 1024;

/// A typed meta as the extra meta keys of an outbound frame; `None` for `()`.
pub(crate) fn typed_meta_keys<T: MetaFields>(
    meta: &T,
) -> Result<Option<Map<String, Value>>, serde_json::Error> {
    if !T::DECLARED {
        return Ok(None);
    }
    match serde_json::to_value(meta)? {
        Value::Object(keys) => Ok(Some(keys)),
        _ => Err(<serde_json::Error as serde::ser::Error>::custom(
            "a typed meta must serialize as a JSON object",
        )),
    }
}

/// Encodes message `msg` as a frame, stamped with the current time.
pub(crate) fn encode_message<M: Message>(
    msg: &M,
    correlation_id: Option<&str>,
    extra_meta: Option<&Map<String, Value>>,
) -> Result<Frame, serde_json::Error> {
    encode_envelope(&OutEnvelope {
        wire_type: M::WIRE_TYPE,
        meta: OutMeta {
            timestamp: now_ms(),
            correlation_id,
            extra: extra_meta,
        },
        payload: M::HAS_PAYLOAD.then_some(msg),
        data: None,
    })
}

/// Encodes a non-terminal RPC progress frame (`$ws:rpc-progress`).
///
/// The value goes in `payload`, as WS-Kit's server sends it and twinwire's clients read it.
/// With `data_too`, the same value is also written under `data`, the key WS-Kit's own
/// client reads (see `ServerConfig::progress_data_field`).
pub(crate) fn encode_progress<T: Serialize + ?Sized>(
    correlation_id: &str,
    value: &T,
    data_too: bool,
) -> Result<Frame, serde_json::Error> {
    encode_envelope(&OutEnvelope {
        wire_type: RPC_PROGRESS_TYPE,
        meta: OutMeta {
            timestamp: now_ms(),
            correlation_id: Some(correlation_id),
            extra: None,
        },
        payload: Some(value),
        data: data_too.then_some(value),
    })
}

/// Encodes an `ERROR`, or an `RPC_ERROR` when the failed frame had a correlation id.
pub(crate) fn encode_error(correlation_id: Option<&str>, error: &ErrorPayload) -> Frame {
    let wire_type = if correlation_id.is_some() {
        RPC_ERROR_TYPE
    } else {
        ERROR_TYPE
    };
    let envelope = OutEnvelope {
        wire_type,
        meta: OutMeta {
            timestamp: now_ms(),
            correlation_id,
            extra: None,
        },
        payload: Some(error),
        data: None,
    };
    // An ErrorPayload is plain data whose serialization cannot fail; should it ever, the
    // client still learns that something broke.
    encode_envelope(&envelope).unwrap_or(Frame::from_static(
        r#"{"type":"ERROR","payload":{"code":"INTERNAL","message":"an error could not be encoded"}}"#,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use twinwire::envelope::HEARTBEAT_ACK_TYPE;

    fn details(err: &ErrorPayload) -> Value {
        err.details.clone().unwrap()
    }

    #[test]
    fn a_serialize_impl_that_encodes_a_frame_itself_gets_its_own_buffer() {
        struct Nested;
        impl Serialize for Nested {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let inner =
                    encode_progress("inner", &1, false).map_err(serde::ser::Error::custom)?;
                serializer.serialize_str(inner.as_str())
            }
        }
        let outer = encode_progress("outer", &Nested, false).unwrap();
        let outer: Value = serde_json::from_str(outer.as_str()).unwrap();
        assert_eq!(outer["meta"]["correlationId"], "outer");
        let inner: Value = serde_json::from_str(outer["payload"].as_str().unwrap()).unwrap();
        assert_eq!(inner["meta"]["correlationId"], "inner");
        assert_eq!(inner["payload"], 1);
    }

    #[test]
    fn echoes_of_client_input_are_cut_at_a_char_boundary() {
        assert_eq!(clip("short"), "short");
        let exact = "é".repeat(ECHO_LIMIT);
        assert_eq!(clip(&exact), exact);
        let long = "é".repeat(ECHO_LIMIT + 1);
        let cut = clip(&long);
        assert_eq!(cut.chars().count(), ECHO_LIMIT + 1);
        assert!(cut.ends_with('…'));
        assert!(long.starts_with(cut.trim_end_matches('…')));
    }

    #[test]
    fn invalid_argument_cuts_quoted_input_and_summarises_many_issues() {
        let huge = "v".repeat(10_000);
        let error = invalid_argument(
            "payload",
            (0..25)
                .map(|i| issue(&format!("/{huge}/{i}"), "invalid", format!("bad `{huge}`")))
                .collect(),
        );
        assert!(error.message.len() < 4_000, "{}", error.message.len());
        assert!(error.message.ends_with("; and 15 more (details.issues)"));
        let details = error.details.unwrap();
        let issues = details["issues"].as_array().unwrap();
        assert_eq!(issues.len(), 25);
        for issue in issues {
            assert!(issue["path"].as_str().unwrap().chars().count() <= ECHO_LIMIT + 1);
            assert!(issue["message"].as_str().unwrap().ends_with('…'));
        }
    }

    #[test]
    fn heartbeat_ack_matches_the_protocol_constant() {
        let v: Value = serde_json::from_str(HEARTBEAT_ACK.as_str()).unwrap();
        assert_eq!(v, json!({ "type": HEARTBEAT_ACK_TYPE }));
    }

    #[test]
    fn parses_an_envelope_and_strips_reserved_meta() {
        let f = parse(r#" {"type":"A","meta":{"correlationId":"c","clientId":"x","k":1},"payload":{"a":1},"zz":[]}"#)
            .unwrap();
        assert_eq!(f.wire_type, "A");
        assert!(matches!(f.wire_type, Cow::Borrowed(_)));
        assert_eq!(f.meta.correlation_id.as_deref(), Some("c"));
        assert!(!f.meta.extra.contains_key("clientId"));
        assert_eq!(f.meta.extra["k"], 1);
        assert_eq!(f.payload.unwrap().get(), r#"{"a":1}"#);
    }

    #[test]
    fn escaped_types_and_meta_keys_are_decoded() {
        let f = parse(
            r#"{"type":"A\u0042","meta":{"corr\u0065lationId":"c","client\u0049d":1,"x\n":2}}"#,
        )
        .unwrap();
        assert_eq!(f.wire_type, "AB");
        assert_eq!(f.meta.correlation_id.as_deref(), Some("c"));
        assert_eq!(f.meta.extra.keys().collect::<Vec<_>>(), ["x\n"]);
    }

    #[test]
    fn frame_level_problems_name_their_paths() {
        let err = parse("nope").unwrap_err().error;
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("not valid JSON"), "{}", err.message);
        assert_eq!(details(&err)["target"], "frame");

        let err = parse("[1]").unwrap_err().error;
        assert!(err.message.contains("JSON object"), "{}", err.message);

        let err = parse(r#"{"meta":{"correlationId":"c9","timestamp":"x"}}"#).unwrap_err();
        assert_eq!(err.correlation_id.as_deref(), Some("c9"));
        let paths: Vec<_> = details(&err.error)["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["path"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(paths, ["/meta/timestamp", "/type"]);

        let err = parse(r#"{"type":5}"#).unwrap_err().error;
        assert_eq!(details(&err)["issues"][0]["path"], "/type");
    }

    #[test]
    fn a_meta_that_is_not_an_object_names_no_request() {
        // Found by the `envelope` fuzz target: the lenient correlation id read took the
        // first element of a `meta` array for the id.
        for meta in [r#"["c9"]"#, r#"[null]"#, "5", r#""c9""#] {
            let err = parse(&format!(r#"{{"type":"A","meta":{meta}}}"#)).unwrap_err();
            assert_eq!(err.correlation_id, None, "meta {meta}");
            assert_eq!(details(&err.error)["issues"][0]["path"], "/meta");
        }
    }

    #[test]
    fn outbound_meta_never_carries_reserved_keys() {
        #[twinwire::message("PING_X")]
        struct PingX {
            n: u32,
        }
        let extra = json!({"clientId": "x", "receivedAt": 1, "trace": "t", "correlationId": "no"});
        let frame = encode_message(
            &PingX { n: 1 },
            Some("c1"),
            Some(extra.as_object().unwrap()),
        )
        .unwrap();
        let v: Value = serde_json::from_str(frame.as_str()).unwrap();
        assert_eq!(v["type"], "PING_X");
        assert_eq!(v["payload"], json!({"n": 1}));
        assert_eq!(v["meta"]["correlationId"], "c1");
        assert_eq!(v["meta"]["trace"], "t");
        assert!(v["meta"]["timestamp"].is_u64());
        assert!(v["meta"].get("clientId").is_none());
        assert!(v["meta"].get("receivedAt").is_none());
    }

    #[test]
    fn progress_frames_use_payload_and_optionally_data() {
        let plain: Value =
            serde_json::from_str(encode_progress("c", &json!(5), false).unwrap().as_str()).unwrap();
        assert_eq!(plain["type"], RPC_PROGRESS_TYPE);
        assert_eq!(plain["payload"], 5);
        assert!(plain.get("data").is_none());
        let compat: Value =
            serde_json::from_str(encode_progress("c", &json!(5), true).unwrap().as_str()).unwrap();
        assert_eq!(compat["payload"], 5);
        assert_eq!(compat["data"], 5);
    }

    #[test]
    fn error_frames_are_correlated_when_they_can_be() {
        let e = ErrorPayload::new(ErrorCode::NotFound, "x");
        let v: Value = serde_json::from_str(encode_error(None, &e).as_str()).unwrap();
        assert_eq!(v["type"], "ERROR");
        assert!(v["meta"].get("correlationId").is_none());
        let v: Value = serde_json::from_str(encode_error(Some("r1"), &e).as_str()).unwrap();
        assert_eq!(v["type"], "RPC_ERROR");
        assert_eq!(v["meta"]["correlationId"], "r1");
        assert_eq!(v["payload"]["code"], "NOT_FOUND");
    }
}
