//! Typed meta, for the meta round-trip test: messages of both directions (and an RPC) whose
//! frames carry declared meta keys, and what a server makes of a frame's `meta`.

use serde_json::{Map, Value};
use twinwire::{Message, Validate, data, message, protocol, rpc};

use crate::{Verdict, decode_issue_of, rejected};

/// Tracing keys, with a constraint on each and one optional key.
#[data(meta)]
#[derive(Clone, Debug, PartialEq)]
pub struct TraceMeta {
    /// The trace this frame belongs to.
    #[validate(length(min = 1, max = 32))]
    pub trace_id: String,
    /// Sampling priority.
    #[validate(range(max = 10))]
    pub priority: Option<u8>,
}

/// Keys that are all optional, one of them renamed.
#[data(meta)]
#[derive(Clone, Debug, PartialEq)]
pub struct TenantMeta {
    /// The tenant, under a renamed key.
    #[serde(rename = "x-tenant")]
    #[validate(non_empty)]
    pub tenant: Option<String>,
}

/// A client message with typed meta.
#[message("TRACED_UP", meta = TraceMeta)]
#[derive(Clone, Debug, PartialEq)]
pub struct TracedUp {
    pub n: u32,
}

/// The same, server to client.
#[message("TRACED_DOWN", meta = TraceMeta)]
#[derive(Clone, Debug, PartialEq)]
pub struct TracedDown {
    pub n: u32,
}

/// A payload-less client message whose typed meta is all optional.
#[message("TENANT_UP", meta = TenantMeta)]
#[derive(Clone, Debug, PartialEq)]
pub struct TenantUp;

/// An RPC request with typed meta.
#[rpc("TRACED_CALL", response = TracedDown, meta = TraceMeta)]
#[derive(Clone, Debug, PartialEq)]
pub struct TracedCall {
    pub n: u32,
}

protocol! {
    /// Typed meta in both directions.
    pub Traced {
        client: [TracedUp, TenantUp],
        server: [TracedDown],
        rpc: [TracedCall],
    }
}

/// What the server makes of a frame's `meta` for message `M`: the standard keys are read
/// first (`timestamp` a non-negative integer, `correlationId` a string, `null` for absent),
/// the reserved keys dropped, and the remaining keys decoded and validated as `M::Meta`,
/// with every path under `/meta`. (The rule of `decode_meta` in `runtime/src/frame.rs`,
/// restated so the round-trip test can hold the generated views to it.)
pub fn judge_meta<M: Message>(meta: Option<&Value>) -> Verdict {
    let object = match meta {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(object)) => object.clone(),
        Some(_) => return rejected("/meta", "invalid", "meta must be an object"),
    };
    let mut extras = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "timestamp" if !(value.is_null() || value.is_u64()) => {
                return rejected("/meta/timestamp", "invalid", "not a timestamp");
            }
            "correlationId" if !(value.is_null() || value.is_string()) => {
                return rejected("/meta/correlationId", "invalid", "not a string");
            }
            "timestamp" | "correlationId" | "clientId" | "receivedAt" => {}
            _ => {
                extras.insert(key, value);
            }
        }
    }
    let extras = Value::Object(extras);
    match serde_json::from_value::<M::Meta>(extras.clone()) {
        Err(e) => {
            let (path, code) =
                decode_issue_of::<M::Meta>(&extras).unwrap_or_else(|| (String::new(), "invalid"));
            rejected(&format!("/meta{path}"), code, e.to_string())
        }
        Ok(meta) => match meta.validate() {
            Ok(()) => Verdict::Valid,
            Err(e) => Verdict::Invalid(
                e.into_issues()
                    .into_iter()
                    .map(|mut issue| {
                        issue.path = format!("/meta{}", issue.path);
                        issue
                    })
                    .collect(),
            ),
        },
    }
}

/// [`judge_meta`] by wire type; `None` for a type outside [`Traced`].
pub fn meta_verdict(kind: &str, meta: Option<&Value>) -> Option<Verdict> {
    Some(match kind {
        k if k == TracedUp::WIRE_TYPE => judge_meta::<TracedUp>(meta),
        k if k == TracedDown::WIRE_TYPE => judge_meta::<TracedDown>(meta),
        k if k == TenantUp::WIRE_TYPE => judge_meta::<TenantUp>(meta),
        k if k == TracedCall::WIRE_TYPE => judge_meta::<TracedCall>(meta),
        _ => return None,
    })
}
