//! The rules of the compatibility check: what each detects, who it breaks and why.
//!
//! Who breaks is judged per role, with the readers twinwire's peers have:
//! - the **server is strict** on client → server frames: an unknown wire type is answered
//!   `UNIMPLEMENTED`, an unknown field is rejected unless the payload type allows unknown
//!   fields (`allow_unknown_fields` or `#[serde(flatten)]`, which the manifest shows as an
//!   `additionalProperties` that is not `false`), and every value is checked by serde and
//!   `Validate`;
//! - **clients are tolerant** on server → client frames: they ignore unknown wire types and
//!   unknown fields, read a missing `Option` field as `None` and a missing defaulted field as
//!   its default (what serde does), and check everything else. They reject an enum variant
//!   they do not know: a fallback variant (`#[serde(other)]`) is recorded only in client → server
//!   schemas (as the catch-all a server reads), never in what a client receives, so the check
//!   cannot credit one and flags every variant added to a server → client enum.
//!
//! A client → server change breaks **old clients against the new server** when a frame an old
//! client can send is rejected by the new server, and **new clients against an old server**
//! (a rollout, where some instances still run the old version) when a frame a new client can
//! send is rejected by an old server. A server → client change breaks old clients when a frame
//! the new server can send is rejected by an old client, and new clients when a frame an old
//! server can send is rejected by a new client.

use serde::Serialize;

/// Whether a change is visible on the wire or only in generated code.
///
/// In the spirit of `buf breaking`'s categories: a [`Wire`](Self::Wire) change alters which
/// frames some version accepts (whether that breaks a role is in the change's `breaks`); a
/// [`GeneratedCode`](Self::GeneratedCode) change leaves every frame as it was and only
/// renames something in the generated Rust or TypeScript, so code written against the old
/// output needs editing after regenerating, while deployed versions keep talking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Changes which frames a version accepts.
    Wire,
    /// Changes only names in generated code.
    GeneratedCode,
}

impl Category {
    /// `"wire"` or `"generated-code"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Wire => "wire",
            Self::GeneratedCode => "generated-code",
        }
    }
}

/// A kind of protocol change, with a stable kebab-case [`name`](Self::name) (the one
/// `--format json` prints and an allow-list refers to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rule {
    /// A wire type appears in the new version.
    ///
    /// Client → server: breaks new clients against an old server, which answers the unknown
    /// type `UNIMPLEMENTED` until the rollout ends. Server → client: compatible, old clients
    /// ignore the unknown type.
    MessageAdded,
    /// A wire type is gone (and is not an RPC request, see [`RpcRemoved`](Self::RpcRemoved)).
    ///
    /// Client → server: breaks old clients, whose frames the new server answers
    /// `UNIMPLEMENTED`. Server → client: compatible on the wire (old clients simply stop
    /// receiving it), though generated code that handled it no longer compiles.
    MessageRemoved,
    /// A wire type is gone and a new one of the same direction has an equivalent payload:
    /// a rename of the wire type.
    ///
    /// Client → server: breaks both roles, each server knows only its own name. Server →
    /// client: compatible on the wire, but old clients ignore the new name and stop receiving
    /// these messages.
    WireTypeRenamed,
    /// A message changed direction (client → server became server → client or back).
    ///
    /// The side that used to receive it rejects it (a server) or ignores it (a client): a
    /// former client message breaks old clients, a former server message breaks new clients
    /// against an old server.
    DirectionChanged,
    /// A message without payload now has one.
    ///
    /// A server requires the payload of a message that has one and refuses a payload on one
    /// that has none, so client → server breaks both roles; server → client breaks new
    /// clients, which need the payload an old server does not send.
    PayloadAdded,
    /// A message's payload is gone.
    ///
    /// The mirror of [`PayloadAdded`](Self::PayloadAdded): client → server breaks both roles;
    /// server → client breaks old clients, which need the payload.
    PayloadRemoved,
    /// A client message that was fire-and-forget became an RPC request.
    ///
    /// Breaks new clients against an old server: it handles the message but never answers, so
    /// the call fails. Old clients still send it as a plain message, which the new server
    /// accepts.
    RpcAdded,
    /// An RPC is gone: its request type was removed, or is now a plain message.
    ///
    /// Breaks old clients: their calls are answered `UNIMPLEMENTED`, or never answered.
    RpcRemoved,
    /// An RPC is answered by a different response wire type.
    ///
    /// Breaks both roles: each client waits for the response type of its own version.
    RpcResponseChanged,
    /// A field that must be present was added.
    ///
    /// The receiver of the version that added it rejects frames from senders that do not
    /// know the field (old clients for client → server, old servers for server → client);
    /// a strict old server also rejects the unknown field from new clients.
    FieldAddedRequired,
    /// An optional field without a default (an `Option`) was added.
    ///
    /// Compatible, except that a strict old server rejects the unknown field from new clients.
    /// On server → client a `None` is left out (README, "Option on the wire"; a `keep_null`
    /// field is always sent, as `null`), and a new client reads a missing `Option` as `None`
    /// when an old server leaves it out, so it counts as optional there too.
    FieldAddedOptional,
    /// A field with a default value (`#[serde(default)]`) was added.
    ///
    /// Like [`FieldAddedOptional`](Self::FieldAddedOptional): receivers that do not get it use
    /// the default; only a strict old server rejects it as unknown.
    FieldAddedWithDefault,
    /// A field is gone.
    ///
    /// A strict receiver of the new version rejects it as unknown when an old sender still
    /// sends it (client → server); a receiver of the old version that requires it rejects
    /// frames without it.
    FieldRemoved,
    /// A field is gone and an added field has the same schema: most likely renamed on the
    /// wire. Breaks whatever the removal and the addition break, usually both roles.
    FieldRenamed,
    /// The JSON type a value may take changed (string to integer, integer to number, object to
    /// array, a union's members, ...).
    ///
    /// Breaks the receivers that reject the values the other version sends: narrowing breaks
    /// the senders of the old type, widening the receivers of the old type.
    FieldTypeChanged,
    /// Whether a field may be absent or `null` changed: `Option` added or removed, a default
    /// added or removed, `skip_serializing_if` added or removed, required became optional or
    /// back.
    ///
    /// Breaks the version whose receiver requires what the other version may leave out.
    FieldOptionalityChanged,
    /// The default value of a field that senders may leave out changed.
    ///
    /// Compatible on the wire; receivers of the new version fill in a different value for
    /// old senders that leave it out.
    FieldDefaultChanged,
    /// A constraint accepts less: a larger minimum or `minLength`, a smaller maximum, a new
    /// `pattern` or `format`, a narrower integer type, ...
    ///
    /// Breaks receivers of the new version facing senders of the old one (old clients for
    /// client → server, new clients against an old server for server → client).
    ConstraintNarrowed,
    /// A constraint accepts more: the mirror of
    /// [`ConstraintNarrowed`](Self::ConstraintNarrowed), breaking receivers of the old version.
    ConstraintWidened,
    /// A constraint changed in a way that is neither narrower nor wider (a different
    /// `pattern` or `format`): breaks both roles.
    ConstraintChanged,
    /// An enum variant was added.
    ///
    /// Receivers of the old version reject it: client → server breaks new clients against an
    /// old server; server → client breaks old clients (see the module docs on fallbacks).
    EnumVariantAdded,
    /// An enum variant is gone: receivers of the new version reject it from senders of the
    /// old one.
    EnumVariantRemoved,
    /// An enum's serde representation changed (external, internal `tag`, adjacent
    /// `tag`/`content`, untagged, or the tag or content name).
    ///
    /// The same value is written differently, so both roles usually break; who breaks is
    /// judged variant by variant. An internally tagged enum and an adjacently tagged one with
    /// the same tag can be written alike (a variant's single field is indistinguishable from
    /// adjacent content), so between those two the variants are compared field by field and
    /// the differences are reported by the field rules.
    EnumRepresentationChanged,
    /// Whether an object accepts unknown fields changed (`allow_unknown_fields`, `flatten`,
    /// or what a flattened map accepts), as the manifest's `additionalProperties` says
    /// (`false` for serde's `deny_unknown_fields`, a schema for a flattened map, absent
    /// otherwise).
    ///
    /// Tightening breaks old clients that send extra fields; loosening lets new clients send
    /// fields a strict old server rejects. Clients ignore unknown fields, so on
    /// server → client only a flattened map's value schema matters.
    UnknownFieldsPolicyChanged,
    /// A named type at some position has a different name (a renamed Rust type, or a shared
    /// type that gained a client-side `…Input` variant), or a message's Rust type was renamed.
    ///
    /// Frames are unaffected (any shape change is reported by the other rules); generated
    /// Rust and TypeScript names change, so code using them must be updated.
    TypeNameChanged,
    /// The schemas nest deeper than the check follows, or could not be read, and differ
    /// there. Reported as breaking both roles, because nothing was proven.
    NotCompared,
}

impl Rule {
    /// Every rule, in documentation order.
    pub const ALL: [Self; 26] = [
        Self::MessageAdded,
        Self::MessageRemoved,
        Self::WireTypeRenamed,
        Self::DirectionChanged,
        Self::PayloadAdded,
        Self::PayloadRemoved,
        Self::RpcAdded,
        Self::RpcRemoved,
        Self::RpcResponseChanged,
        Self::FieldAddedRequired,
        Self::FieldAddedOptional,
        Self::FieldAddedWithDefault,
        Self::FieldRemoved,
        Self::FieldRenamed,
        Self::FieldTypeChanged,
        Self::FieldOptionalityChanged,
        Self::FieldDefaultChanged,
        Self::ConstraintNarrowed,
        Self::ConstraintWidened,
        Self::ConstraintChanged,
        Self::EnumVariantAdded,
        Self::EnumVariantRemoved,
        Self::EnumRepresentationChanged,
        Self::UnknownFieldsPolicyChanged,
        Self::TypeNameChanged,
        Self::NotCompared,
    ];

    /// The stable kebab-case name, e.g. `"field-added-required"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::MessageAdded => "message-added",
            Self::MessageRemoved => "message-removed",
            Self::WireTypeRenamed => "wire-type-renamed",
            Self::DirectionChanged => "direction-changed",
            Self::PayloadAdded => "payload-added",
            Self::PayloadRemoved => "payload-removed",
            Self::RpcAdded => "rpc-added",
            Self::RpcRemoved => "rpc-removed",
            Self::RpcResponseChanged => "rpc-response-changed",
            Self::FieldAddedRequired => "field-added-required",
            Self::FieldAddedOptional => "field-added-optional",
            Self::FieldAddedWithDefault => "field-added-with-default",
            Self::FieldRemoved => "field-removed",
            Self::FieldRenamed => "field-renamed",
            Self::FieldTypeChanged => "field-type-changed",
            Self::FieldOptionalityChanged => "field-optionality-changed",
            Self::FieldDefaultChanged => "field-default-changed",
            Self::ConstraintNarrowed => "constraint-narrowed",
            Self::ConstraintWidened => "constraint-widened",
            Self::ConstraintChanged => "constraint-changed",
            Self::EnumVariantAdded => "enum-variant-added",
            Self::EnumVariantRemoved => "enum-variant-removed",
            Self::EnumRepresentationChanged => "enum-representation-changed",
            Self::UnknownFieldsPolicyChanged => "unknown-fields-policy-changed",
            Self::TypeNameChanged => "type-name-changed",
            Self::NotCompared => "not-compared",
        }
    }

    /// The rule with this [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|rule| rule.name() == name)
    }

    /// One line saying what the rule detects, for a rules table.
    pub const fn summary(self) -> &'static str {
        match self {
            Self::MessageAdded => "a wire type was added",
            Self::MessageRemoved => "a wire type was removed",
            Self::WireTypeRenamed => "a message's wire type was renamed (same payload)",
            Self::DirectionChanged => "a message changed direction",
            Self::PayloadAdded => "a message without payload got one",
            Self::PayloadRemoved => "a message's payload was removed",
            Self::RpcAdded => "a plain client message became an RPC request",
            Self::RpcRemoved => "an RPC was removed or became a plain message",
            Self::RpcResponseChanged => "an RPC is answered by a different wire type",
            Self::FieldAddedRequired => "a required field was added",
            Self::FieldAddedOptional => "an optional field was added",
            Self::FieldAddedWithDefault => "a field with a default was added",
            Self::FieldRemoved => "a field was removed",
            Self::FieldRenamed => "a field was renamed on the wire",
            Self::FieldTypeChanged => "a value's JSON type changed",
            Self::FieldOptionalityChanged => "a field's Option, default or required-ness changed",
            Self::FieldDefaultChanged => "a field's default value changed",
            Self::ConstraintNarrowed => "a constraint accepts less",
            Self::ConstraintWidened => "a constraint accepts more",
            Self::ConstraintChanged => "a pattern or format changed",
            Self::EnumVariantAdded => "an enum variant was added",
            Self::EnumVariantRemoved => "an enum variant was removed",
            Self::EnumRepresentationChanged => "an enum's tag, content or representation changed",
            Self::UnknownFieldsPolicyChanged => "whether unknown fields are accepted changed",
            Self::TypeNameChanged => "a generated type name changed",
            Self::NotCompared => "schemas too deep or unreadable to compare",
        }
    }

    /// Whether the rule is about the wire or about generated code only.
    pub const fn category(self) -> Category {
        match self {
            Self::TypeNameChanged => Category::GeneratedCode,
            _ => Category::Wire,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in Rule::ALL {
            let name = rule.name();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
            assert_eq!(Rule::from_name(name), Some(rule));
            assert_eq!(
                serde_json::to_value(rule).ok(),
                Some(serde_json::Value::from(name))
            );
        }
        assert_eq!(Rule::from_name("no-such-rule"), None);
    }
}
