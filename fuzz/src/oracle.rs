//! What the server must answer to one frame, worked out independently of the runtime's
//! decoder: from a plain `serde_json::Value` reading of the frame and the rules the
//! `twinwire-runtime` crate docs (section "Dispatch") and `docs/wire-protocol.md` state.
//!
//! Where those rules do not decide the answer (a frame with a duplicate object key, which
//! the runtime refuses in some places and resolves "last wins" in others, or one nested past
//! serde_json's depth limit), the oracle says [`Expected::Unknown`] and only the weaker
//! checks hold: at most one answer, well formed, and the connection keeps serving.

use std::fmt;

use serde::de::{DeserializeOwned, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use twinwire::envelope::{
    ERROR_TYPE, HEARTBEAT_ACK_TYPE, HEARTBEAT_TYPE, META_CORRELATION_ID, META_TIMESTAMP,
    RESERVED_META_KEYS, RESERVED_TYPES, RPC_ERROR_TYPE,
};
use twinwire::{ErrorCode, ErrorPayload, Issue, Message};

use chat_protocol::{
    Authenticate, Calculate, CalculateResult, GetMessages, JoinRoom, LeaveRoom, Messages,
    SendMessage, TypingStart, TypingStop,
};

use crate::protocol::{self, BAD_ROOM_CODE, NOT_FINITE_CODE, Poke, ROOM_TOPIC_PREFIX};

/// The `type` by which a client cancels a request (WS-Kit's name).
const ABORT_TYPE: &str = "$ws:abort";

/// The answer one frame must get.
#[derive(Debug)]
pub enum Expected {
    /// The rules do not decide: zero or one answer of any well-formed kind.
    Unknown,
    /// No answer: an abort naming a request that is not in flight is ignored.
    Nothing,
    /// Exactly `{"type":"__heartbeat_ack"}`.
    HeartbeatAck,
    /// An `ERROR` (or `RPC_ERROR` when correlated).
    Error(ExpectedError),
    /// The message itself, sent back by its handler.
    Echo {
        /// Its wire type.
        kind: String,
        /// Its payload as serde encodes the decoded value; `None` for a payload-less message.
        payload: Option<Value>,
        /// The meta keys echoed with it (besides `timestamp`).
        meta: Map<String, Value>,
    },
    /// The terminal reply of an RPC.
    Reply {
        /// The response's wire type.
        kind: &'static str,
        /// The request's correlation id.
        correlation: String,
        /// The response payload.
        payload: Value,
    },
}

/// An expected error answer.
#[derive(Debug)]
pub struct ExpectedError {
    /// The correlation id it must carry (`RPC_ERROR`), or none (`ERROR`).
    pub correlation: Option<String>,
    /// Its code.
    pub code: ErrorCode,
    /// What its `details` must say.
    pub details: Details,
}

/// The promised `details` of an error answer.
#[derive(Debug)]
pub enum Details {
    /// Nothing promised (a handler's own error, `UNIMPLEMENTED`).
    Unspecified,
    /// `target: "frame"` with these issues, in order.
    Frame(Vec<IssueRule>),
    /// `target: "payload"`; for a constraint violation, exactly these issues (every
    /// failing path), for a decoding failure one issue at some path.
    Payload(Option<Vec<Issue>>),
}

/// One expected issue about the frame itself.
#[derive(Debug)]
pub struct IssueRule {
    /// Where it points.
    pub path: PathRule,
    /// Its code, where the rules name it.
    pub code: Option<&'static str>,
}

/// Where an expected issue points.
#[derive(Debug)]
pub enum PathRule {
    /// Exactly this JSON pointer.
    Exact(&'static str),
    /// Somewhere at or below this pointer.
    Under(&'static str),
}

impl Expected {
    /// How many answers (besides the marker's) the frame gets: at least, at most.
    pub fn answers(&self) -> (usize, usize) {
        match self {
            Self::Unknown => (0, 1),
            Self::Nothing => (0, 0),
            _ => (1, 1),
        }
    }

    /// The correlation id the frame carries, where the oracle could read it.
    pub fn correlation(&self) -> Option<&str> {
        match self {
            Self::Error(e) => e.correlation.as_deref(),
            Self::Reply { correlation, .. } => Some(correlation),
            _ => None,
        }
    }

    /// Panics unless `answers` are the expected answers to `frame`.
    pub fn check(&self, frame: &str, answers: &[Value]) {
        let (min, max) = self.answers();
        assert!(
            (min..=max).contains(&answers.len()),
            "frame {frame:?}: expected {self:?}, got {} answers: {answers:?}",
            answers.len()
        );
        let Some(answer) = answers.first() else {
            return;
        };
        let fail = |why: &str| -> ! {
            panic!("frame {frame:?}: {why}\n  expected {self:?}\n  answer {answer}")
        };
        match self {
            Self::Unknown | Self::Nothing => {}
            Self::HeartbeatAck => {
                if *answer != serde_json::json!({ "type": HEARTBEAT_ACK_TYPE }) {
                    fail("not the heartbeat ack");
                }
            }
            Self::Error(expected) => {
                if let Err(why) = expected.check(answer) {
                    fail(&why);
                }
            }
            Self::Echo {
                kind,
                payload,
                meta,
            } => {
                if answer["type"] != **kind {
                    fail("the echo has another type");
                }
                if answer.get("payload") != payload.as_ref() {
                    fail("the echo has another payload");
                }
                let mut echoed = answer["meta"].as_object().cloned().unwrap_or_default();
                if echoed
                    .remove(META_TIMESTAMP)
                    .and_then(|t| t.as_u64())
                    .is_none()
                {
                    fail("the echo has no timestamp");
                }
                if echoed != *meta {
                    fail("the echo has other meta keys");
                }
            }
            Self::Reply {
                kind,
                correlation,
                payload,
            } => {
                if answer["type"] != *kind || answer["meta"][META_CORRELATION_ID] != **correlation {
                    fail("not the reply to the request");
                }
                if answer.get("payload") != Some(payload) {
                    fail("the reply has another payload");
                }
            }
        }
    }
}

impl ExpectedError {
    fn check(&self, answer: &Value) -> Result<(), String> {
        let kind = if self.correlation.is_some() {
            RPC_ERROR_TYPE
        } else {
            ERROR_TYPE
        };
        if answer["type"] != kind {
            return Err(format!("expected a {kind}"));
        }
        if answer["meta"]
            .get(META_CORRELATION_ID)
            .and_then(Value::as_str)
            != self.correlation.as_deref()
        {
            return Err("wrong correlation id".into());
        }
        let error = ErrorPayload::deserialize(&answer["payload"])
            .map_err(|e| format!("the payload is not an error payload: {e}"))?;
        if error.code != self.code {
            return Err(format!("expected code {}", self.code.as_str()));
        }
        let details = &answer["payload"]["details"];
        let issues = || {
            Vec::<Issue>::deserialize(&details["issues"])
                .map_err(|e| format!("details.issues are not issues: {e}"))
        };
        match &self.details {
            Details::Unspecified => {}
            Details::Frame(rules) => {
                if details["target"] != "frame" {
                    return Err("expected details.target \"frame\"".into());
                }
                let issues = issues()?;
                let matches = issues.len() == rules.len()
                    && issues.iter().zip(rules).all(|(issue, rule)| {
                        let path = match rule.path {
                            PathRule::Exact(p) => issue.path == p,
                            PathRule::Under(p) => {
                                issue.path == p || issue.path.starts_with(&format!("{p}/"))
                            }
                        };
                        path && rule.code.is_none_or(|c| issue.code == c)
                    });
                if !matches {
                    return Err("other issues about the frame".into());
                }
            }
            Details::Payload(expected) => {
                if details["target"] != "payload" {
                    return Err("expected details.target \"payload\"".into());
                }
                let issues = issues()?;
                match expected {
                    Some(expected) => {
                        let same = issues.len() == expected.len()
                            && issues
                                .iter()
                                .zip(expected)
                                .all(|(a, b)| a.path == b.path && a.code == b.code);
                        if !same {
                            return Err("other constraint violations".into());
                        }
                    }
                    None => {
                        let pointer = |p: &str| p.is_empty() || p.starts_with('/');
                        if issues.len() != 1 || !pointer(&issues[0].path) {
                            return Err("a decoding failure names one path".into());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Works out the answer the server owes `text`, a frame sent as one WebSocket text message.
pub fn expect(text: &str) -> Expected {
    let frame = match serde_json::from_str::<Strict>(text) {
        Ok(Strict(value)) => value,
        Err(err) if err.to_string().contains(DUPLICATE_KEY) => return Expected::Unknown,
        // Valid JSON that a plain `Value` refuses (nesting past the depth limit): the
        // runtime may read parts of it.
        Err(_) if serde_json::from_str::<IgnoredAny>(text).is_ok() => return Expected::Unknown,
        Err(_) => return frame_error(None, vec![issue(PathRule::Exact(""), None)]),
    };
    let Value::Object(frame) = frame else {
        return frame_error(None, vec![issue(PathRule::Exact(""), None)]);
    };

    let mut issues = Vec::new();
    let (meta, correlation) = match present(frame.get("meta")) {
        None => (Map::new(), None),
        Some(Value::Object(meta)) => {
            let timestamp_ok =
                present(meta.get(META_TIMESTAMP)).is_none_or(|t| t.as_u64().is_some());
            let correlation = match present(meta.get(META_CORRELATION_ID)) {
                None => Ok(None),
                Some(Value::String(id)) => Ok(Some(id.clone())),
                Some(_) => Err(()),
            };
            match correlation {
                Ok(correlation) if timestamp_ok => (meta.clone(), correlation),
                // The request is still answered by its correlation id when that one is
                // readable.
                correlation => {
                    issues.push(issue(PathRule::Under("/meta"), None));
                    (Map::new(), correlation.ok().flatten())
                }
            }
        }
        Some(_) => {
            issues.push(issue(PathRule::Under("/meta"), None));
            (Map::new(), None)
        }
    };
    let kind = match present(frame.get("type")) {
        None => {
            issues.push(issue(PathRule::Exact("/type"), Some("required")));
            None
        }
        Some(Value::String(kind)) => Some(kind.as_str()),
        Some(_) => {
            issues.push(issue(PathRule::Exact("/type"), Some("invalid")));
            None
        }
    };
    let Some(kind) = kind.filter(|_| issues.is_empty()) else {
        return frame_error(correlation, issues);
    };

    let extra: Map<String, Value> = meta
        .into_iter()
        .filter(|(key, _)| {
            key != META_TIMESTAMP
                && key != META_CORRELATION_ID
                && !RESERVED_META_KEYS.contains(&key.as_str())
        })
        .collect();
    let request = Request {
        payload: present(frame.get("payload")),
        correlation,
        extra,
    };
    match kind {
        HEARTBEAT_TYPE => Expected::HeartbeatAck,
        ABORT_TYPE => match request.correlation {
            Some(_) => Expected::Nothing,
            None => frame_error(
                None,
                vec![issue(
                    PathRule::Exact("/meta/correlationId"),
                    Some("required"),
                )],
            ),
        },
        Authenticate::WIRE_TYPE => request.echo::<Authenticate>(),
        LeaveRoom::WIRE_TYPE => request.echo::<LeaveRoom>(),
        SendMessage::WIRE_TYPE => request.echo::<SendMessage>(),
        TypingStart::WIRE_TYPE => request.echo::<TypingStart>(),
        TypingStop::WIRE_TYPE => request.echo::<TypingStop>(),
        Poke::WIRE_TYPE => request.echo::<Poke>(),
        JoinRoom::WIRE_TYPE => request.join_room(),
        GetMessages::WIRE_TYPE => request.rpc(|r: GetMessages, _| {
            reply(Messages {
                room_id: r.room_id,
                messages: Vec::new(),
            })
        }),
        Calculate::WIRE_TYPE => request.rpc(|r: Calculate, correlation| {
            let result = protocol::calculate(&r);
            if result.is_finite() {
                reply(CalculateResult { result })
            } else {
                Err(handler_error(Some(correlation), NOT_FINITE_CODE))
            }
        }),
        reserved if is_reserved(reserved) => frame_error(
            request.correlation,
            vec![issue(PathRule::Exact("/type"), Some("reserved"))],
        ),
        _ => handler_error(request.correlation, ErrorCode::Unimplemented),
    }
}

/// A routed frame's parts.
struct Request<'a> {
    payload: Option<&'a Value>,
    correlation: Option<String>,
    extra: Map<String, Value>,
}

impl Request<'_> {
    /// Decodes and validates the payload as `M`, or the error answer.
    fn decode<M: Message + DeserializeOwned>(&self) -> Result<M, Expected> {
        let frame_issue = |code| {
            frame_error(
                self.correlation.clone(),
                vec![issue(PathRule::Exact("/payload"), Some(code))],
            )
        };
        let text = if M::HAS_PAYLOAD {
            match self.payload {
                None => return Err(frame_issue("required")),
                Some(Value::Object(_)) => self.payload.cloned().unwrap_or_default(),
                Some(_) => return Err(frame_issue("invalid")),
            }
        } else if self.payload.is_some() {
            return Err(frame_issue("unexpected"));
        } else {
            Value::Null
        };
        let payload_error = |issues| {
            Expected::Error(ExpectedError {
                correlation: self.correlation.clone(),
                code: ErrorCode::InvalidArgument,
                details: Details::Payload(issues),
            })
        };
        let message = M::deserialize(&text).map_err(|_| payload_error(None))?;
        message
            .validate()
            .map_err(|e| payload_error(Some(e.into_issues())))?;
        Ok(message)
    }

    fn echo<M: Message + DeserializeOwned>(self) -> Expected {
        match self.decode::<M>() {
            Ok(message) => Expected::Echo {
                kind: M::WIRE_TYPE.to_owned(),
                payload: M::HAS_PAYLOAD.then(|| encode(&message)),
                meta: self.extra,
            },
            Err(answer) => answer,
        }
    }

    fn join_room(self) -> Expected {
        match self.decode::<JoinRoom>() {
            Ok(join) => {
                let topic = format!("{ROOM_TOPIC_PREFIX}{}", join.room_id);
                if twinwire_runtime::pubsub::validate_topic(&topic).is_err() {
                    return handler_error(self.correlation, BAD_ROOM_CODE);
                }
                // Published, so without the request's meta.
                Expected::Echo {
                    kind: JoinRoom::WIRE_TYPE.to_owned(),
                    payload: Some(encode(&join)),
                    meta: Map::new(),
                }
            }
            Err(answer) => answer,
        }
    }

    fn rpc<R: Message + DeserializeOwned>(
        self,
        handle: impl FnOnce(R, String) -> Result<(&'static str, Value), Expected>,
    ) -> Expected {
        let Some(correlation) = self.correlation.clone() else {
            return frame_error(
                None,
                vec![issue(
                    PathRule::Exact("/meta/correlationId"),
                    Some("required"),
                )],
            );
        };
        let request = match self.decode::<R>() {
            Ok(request) => request,
            Err(answer) => return answer,
        };
        match handle(request, correlation.clone()) {
            Ok((kind, payload)) => Expected::Reply {
                kind,
                correlation,
                payload,
            },
            Err(answer) => answer,
        }
    }
}

fn reply<M: Message>(response: M) -> Result<(&'static str, Value), Expected> {
    Ok((M::WIRE_TYPE, encode(&response)))
}

fn encode<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| panic!("a decoded payload must encode: {e}"))
}

/// `null` counts as absent, for `meta`, `type`, `payload` and the standard meta keys.
fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

/// The wire type naming rule: what no route may be called, so the client's mistake.
fn is_reserved(kind: &str) -> bool {
    kind.is_empty()
        || kind.starts_with('$')
        || kind.starts_with("__")
        || RESERVED_TYPES.contains(&kind)
        || kind.chars().any(char::is_control)
}

fn issue(path: PathRule, code: Option<&'static str>) -> IssueRule {
    IssueRule { path, code }
}

fn frame_error(correlation: Option<String>, issues: Vec<IssueRule>) -> Expected {
    Expected::Error(ExpectedError {
        correlation,
        code: ErrorCode::InvalidArgument,
        details: Details::Frame(issues),
    })
}

fn handler_error(correlation: Option<String>, code: ErrorCode) -> Expected {
    Expected::Error(ExpectedError {
        correlation,
        code,
        details: Details::Unspecified,
    })
}

/// The error text marking a duplicate key, found again in serde_json's error message.
const DUPLICATE_KEY: &str = "oracle: duplicate object key";

/// A JSON value read like `serde_json::Value`, except that a duplicate object key is an
/// error rather than "last one wins".
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if object.insert(key, value).is_some() {
                return Err(A::Error::custom(DUPLICATE_KEY));
            }
        }
        Ok(Value::Object(object))
    }
}
