//! The compatibility check behind `twinwire breaking`: compares two manifests of a protocol
//! and reports every change with its [`Rule`], where it is, which roles of a mixed
//! deployment it breaks ([`Breakage`]) and a one-line fix.
//!
//! Messages are matched by wire type; payload schemas are compared structurally, following
//! `$ref`s into each manifest's own `defs`, so renaming a Rust type changes nothing on the
//! wire (it is reported as [`Rule::TypeNameChanged`], a generated-code change). The reader
//! model (strict servers, tolerant clients) and the meaning of each role are in the
//! [`Rule`] docs. The check is pure and total: any two manifests give a report, never a
//! panic, with recursion and work bounded (deeper or larger schemas are reported as
//! [`Rule::NotCompared`]).

mod diff;
mod report;
mod rules;

use std::collections::{BTreeMap, HashMap};

use twinwire::manifest::MessageSpec;
use twinwire::{Direction, Manifest};

use self::diff::{Differ, Finding, PayloadDiff, Schemas};
pub use self::report::{Allow, Breakage, Change, Report};
pub use self::rules::{Category, Rule};

/// Compares two versions of a protocol: `old` as deployed, `new` as about to be.
///
/// A change inside a definition that several messages of one direction share is reported
/// once, under the first of them (in the old manifest's order) that reaches it.
///
/// ```
/// use twinwire_codegen::{compare, Rule};
///
/// let old = twinwire::Manifest::from_json(r#"{
///   "format": 1, "generator": "", "name": "Chat", "doc": "", "rustPath": "chat::Chat",
///   "messages": [{"type": "PING", "rustName": "Ping", "rustPath": "chat::Ping",
///                 "direction": "client", "doc": "", "payload": null}],
///   "rpcs": [], "defs": {}
/// }"#).unwrap();
/// let mut new = old.clone();
/// new.messages.clear();
/// let report = compare(&old, &new);
/// assert_eq!(report.changes[0].rule, Rule::MessageRemoved);
/// assert!(report.changes[0].breaks.old_clients_new_server);
/// assert!(report.is_breaking());
/// ```
pub fn compare(old: &Manifest, new: &Manifest) -> Report {
    let (old_schemas, new_schemas) = (Schemas::new(old), Schemas::new(new));
    let mut differ = Differ::new(&old_schemas, &new_schemas);
    let mut drafts = Vec::new();

    let old_by_kind: HashMap<&str, &MessageSpec> = old
        .messages
        .iter()
        .map(|m| (m.wire_type.as_str(), m))
        .collect();
    let new_by_kind: HashMap<&str, &MessageSpec> = new
        .messages
        .iter()
        .map(|m| (m.wire_type.as_str(), m))
        .collect();
    let removed: Vec<&MessageSpec> = old
        .messages
        .iter()
        .filter(|m| !new_by_kind.contains_key(m.wire_type.as_str()))
        .collect();
    let added: Vec<&MessageSpec> = new
        .messages
        .iter()
        .filter(|m| !old_by_kind.contains_key(m.wire_type.as_str()))
        .collect();
    let renames = wire_type_renames(&mut differ, &removed, &added);
    let renamed_to: HashMap<&str, &str> = renames.iter().map(|(o, n)| (*n, *o)).collect();
    let to_new =
        |kind: &'_ str| -> String { renames.get(kind).copied().unwrap_or(kind).to_owned() };

    let old_rpcs: BTreeMap<&str, &str> = old
        .rpcs
        .iter()
        .map(|r| (r.request.as_str(), r.response.as_str()))
        .collect();
    let new_rpcs: BTreeMap<&str, &str> = new
        .rpcs
        .iter()
        .map(|r| (r.request.as_str(), r.response.as_str()))
        .collect();

    for (&request, &response) in &old_rpcs {
        let request_now = to_new(request);
        match new_rpcs.get(request_now.as_str()) {
            Some(&response_now) if to_new(response) != response_now => drafts.push(Draft::new(
                Rule::RpcResponseChanged,
                Direction::Client,
                request,
                request,
                Breakage {
                    old_clients_new_server: true,
                    new_clients_old_server: true,
                },
                format!("RPC `{request}` was answered by `{response}` and is now answered by `{response_now}`"),
            )),
            Some(_) => {}
            None => {
                let still_a_message = new_by_kind.contains_key(request_now.as_str());
                let what = if still_a_message {
                    format!("RPC `{request}` is now a plain message: calls are never answered")
                } else {
                    format!("RPC `{request}` (answered by `{response}`) was removed")
                };
                drafts.push(Draft::new(
                    Rule::RpcRemoved,
                    Direction::Client,
                    request,
                    request,
                    Breakage {
                        old_clients_new_server: true,
                        new_clients_old_server: false,
                    },
                    what,
                ));
            }
        }
    }
    for (&request, &response) in &new_rpcs {
        let request_then = renamed_to.get(request).copied().unwrap_or(request);
        let was_plain = old_by_kind
            .get(request_then)
            .is_some_and(|m| m.direction == Direction::Client);
        if was_plain && !old_rpcs.contains_key(request_then) {
            drafts.push(Draft::new(
                Rule::RpcAdded,
                Direction::Client,
                request_then,
                request_then,
                Breakage {
                    old_clients_new_server: false,
                    new_clients_old_server: true,
                },
                format!("`{request}` became an RPC answered by `{response}`; an old server never answers it"),
            ));
        }
    }

    for m in &old.messages {
        let kind = m.wire_type.as_str();
        let Some(n) = new_by_kind.get(kind) else {
            if let Some(&renamed) = renames.get(kind) {
                let client = m.direction == Direction::Client;
                let consequence = if client {
                    "each server only knows its own name"
                } else {
                    "old clients ignore the new name and stop receiving it"
                };
                drafts.push(Draft::new(
                    Rule::WireTypeRenamed,
                    m.direction,
                    kind,
                    kind,
                    Breakage {
                        old_clients_new_server: client,
                        new_clients_old_server: client,
                    },
                    format!("`{kind}` was renamed to `{renamed}` (same payload); {consequence}"),
                ));
            } else if !old_rpcs.contains_key(kind) {
                let client = m.direction == Direction::Client;
                let consequence = if client {
                    "the new server answers it `UNIMPLEMENTED`"
                } else {
                    "old clients stop receiving it"
                };
                drafts.push(Draft::new(
                    Rule::MessageRemoved,
                    m.direction,
                    kind,
                    kind,
                    Breakage {
                        old_clients_new_server: client,
                        new_clients_old_server: false,
                    },
                    format!(
                        "{} message `{kind}` was removed; {consequence}",
                        arrow(m.direction)
                    ),
                ));
            }
            continue;
        };
        if n.direction != m.direction {
            drafts.push(Draft::new(
                Rule::DirectionChanged,
                m.direction,
                kind,
                kind,
                Breakage {
                    old_clients_new_server: m.direction == Direction::Client,
                    new_clients_old_server: m.direction == Direction::Server,
                },
                format!(
                    "`{kind}` was a {} message and is now a {} message",
                    arrow(m.direction),
                    arrow(n.direction)
                ),
            ));
            continue;
        }
        if n.rust_name != m.rust_name {
            drafts.push(Draft::new(
                Rule::TypeNameChanged,
                m.direction,
                kind,
                kind,
                Breakage::default(),
                format!(
                    "the message's Rust type `{}` is now `{}`",
                    m.rust_name, n.rust_name
                ),
            ));
        }
        compare_payloads(&mut differ, m, n.rust_name != m.rust_name, &mut drafts);
        compare_metas(&mut differ, m, &mut drafts);
    }
    for n in &added {
        if renamed_to.contains_key(n.wire_type.as_str()) {
            continue;
        }
        let client = n.direction == Direction::Client;
        let consequence = if client {
            "an old server answers it `UNIMPLEMENTED`"
        } else {
            "old clients ignore it"
        };
        let rpc = new_rpcs
            .get(n.wire_type.as_str())
            .map(|r| format!(" (an RPC answered by `{r}`)"))
            .unwrap_or_default();
        drafts.push(Draft::new(
            Rule::MessageAdded,
            n.direction,
            &n.wire_type,
            &n.wire_type,
            Breakage {
                old_clients_new_server: false,
                new_clients_old_server: client,
            },
            format!(
                "{} message `{}`{rpc} was added; {consequence}",
                arrow(n.direction),
                n.wire_type
            ),
        ));
    }
    Report {
        changes: finish(drafts),
    }
}

/// `"client → server"` or `"server → client"`.
fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Client => "client → server",
        Direction::Server => "server → client",
    }
}

/// Removed and added messages of the same direction whose payloads accept the same frames,
/// paired one to one: old wire type → new wire type.
fn wire_type_renames<'a>(
    differ: &mut Differ<'_, '_>,
    removed: &[&'a MessageSpec],
    added: &[&'a MessageSpec],
) -> HashMap<&'a str, &'a str> {
    let mut pairs = Vec::new();
    for r in removed {
        for a in added {
            if r.direction != a.direction {
                continue;
            }
            differ.set_direction(r.direction);
            if differ.same_payload(&r.wire_type, &a.wire_type) {
                pairs.push((r.wire_type.as_str(), a.wire_type.as_str()));
            }
        }
    }
    let unique = |pick: fn(&(&'a str, &'a str)) -> &'a str, key: &str| {
        pairs.iter().filter(|p| pick(p) == key).count() == 1
    };
    pairs
        .iter()
        .filter(|(r, a)| unique(|p| p.0, r) && unique(|p| p.1, a))
        .copied()
        .collect()
}

/// `renamed`: the message's Rust type was renamed (already reported by [`compare`]).
fn compare_payloads(
    differ: &mut Differ<'_, '_>,
    m: &MessageSpec,
    renamed: bool,
    drafts: &mut Vec<Draft>,
) {
    let kind = m.wire_type.as_str();
    let root = format!("{}/payload", escape(kind));
    let client = m.direction == Direction::Client;
    differ.set_direction(m.direction);
    let (rule, breaks, message) = match differ.payloads(kind) {
        PayloadDiff::Findings(findings) => {
            // A renamed message struct is reported once, for the message, not again for
            // the definition its payload refers to.
            for finding in findings
                .into_iter()
                .filter(|f| !(renamed && f.rule == Rule::TypeNameChanged && f.path.is_empty()))
            {
                drafts.push(Draft::from_finding(finding, m.direction, kind, &root));
            }
            return;
        }
        PayloadDiff::Added => (
            Rule::PayloadAdded,
            Breakage {
                old_clients_new_server: client,
                new_clients_old_server: true,
            },
            format!("`{kind}` had no payload and now has one"),
        ),
        PayloadDiff::Removed => (
            Rule::PayloadRemoved,
            Breakage {
                old_clients_new_server: true,
                new_clients_old_server: client,
            },
            format!("`{kind}` had a payload and now has none"),
        ),
        PayloadDiff::Unreadable => (
            Rule::NotCompared,
            Breakage {
                old_clients_new_server: true,
                new_clients_old_server: true,
            },
            "a payload schema could not be read, and the two differ".to_owned(),
        ),
    };
    drafts.push(Draft::new(rule, m.direction, kind, &root, breaks, message));
}

/// Typed meta is compared like a payload, under `<type>/meta`: adding a required meta key
/// to a client message breaks old clients, exactly as a required payload field would.
fn compare_metas(differ: &mut Differ<'_, '_>, m: &MessageSpec, drafts: &mut Vec<Draft>) {
    let kind = m.wire_type.as_str();
    let root = format!("{}/meta", escape(kind));
    differ.set_direction(m.direction);
    match differ.metas(kind) {
        PayloadDiff::Findings(findings) => {
            for finding in findings {
                drafts.push(Draft::from_finding(finding, m.direction, kind, &root));
            }
        }
        // A typed meta is present on both sides (see `Schemas::meta`), so only an unreadable
        // schema is left.
        PayloadDiff::Added | PayloadDiff::Removed | PayloadDiff::Unreadable => {
            drafts.push(Draft::new(
                Rule::NotCompared,
                m.direction,
                kind,
                &root,
                Breakage {
                    old_clients_new_server: true,
                    new_clients_old_server: true,
                },
                "a meta schema could not be read, and the two differ".to_owned(),
            ));
        }
    }
}

/// A change before duplicates are merged and its fix is written.
struct Draft {
    rule: Rule,
    direction: Direction,
    wire_type: String,
    path: String,
    breaks: Breakage,
    messages: Vec<String>,
}

impl Draft {
    fn new(
        rule: Rule,
        direction: Direction,
        wire_type: &str,
        path: &str,
        breaks: Breakage,
        message: String,
    ) -> Self {
        let path = if path == wire_type {
            escape(wire_type)
        } else {
            path.to_owned()
        };
        Self {
            rule,
            direction,
            wire_type: wire_type.to_owned(),
            path,
            breaks,
            messages: vec![message],
        }
    }

    /// Field-level facts become roles: on client → server frames, values the new version
    /// no longer accepts break old clients and values it newly accepts break rollouts; on
    /// server → client frames it is the other way round.
    fn from_finding(f: Finding, direction: Direction, wire_type: &str, root: &str) -> Self {
        let breaks = match (f.rule.category(), direction) {
            (Category::GeneratedCode, _) => Breakage::default(),
            (Category::Wire, Direction::Client) => Breakage {
                old_clients_new_server: f.loses,
                new_clients_old_server: f.gains,
            },
            (Category::Wire, Direction::Server) => Breakage {
                old_clients_new_server: f.gains,
                new_clients_old_server: f.loses,
            },
        };
        let mut path = root.to_owned();
        for segment in &f.path {
            path.push('/');
            path.push_str(&escape(segment));
        }
        Self {
            rule: f.rule,
            direction,
            wire_type: wire_type.to_owned(),
            path,
            breaks,
            messages: vec![f.message],
        }
    }
}

/// Escapes a path segment as in a JSON pointer.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Merges drafts with the same rule and path, sorts them and writes their fixes.
fn finish(drafts: Vec<Draft>) -> Vec<Change> {
    let mut merged: BTreeMap<(String, String, Rule), Draft> = BTreeMap::new();
    for draft in drafts {
        let key = (draft.wire_type.clone(), draft.path.clone(), draft.rule);
        match merged.get_mut(&key) {
            Some(existing) => {
                existing.breaks.old_clients_new_server |= draft.breaks.old_clients_new_server;
                existing.breaks.new_clients_old_server |= draft.breaks.new_clients_old_server;
                for message in draft.messages {
                    if !existing.messages.contains(&message) {
                        existing.messages.push(message);
                    }
                }
            }
            None => {
                merged.insert(key, draft);
            }
        }
    }
    merged
        .into_values()
        .map(|d| {
            let subject = subject(&d.path);
            Change {
                rule: d.rule,
                category: d.rule.category(),
                fix: fix(d.rule, d.direction, d.breaks, &subject),
                wire_type: d.wire_type,
                path: d.path,
                breaks: d.breaks,
                message: d.messages.join("; "),
                allowed: None,
            }
        })
        .collect()
}

/// The name a fix talks about: the last field or variant of the path (or the wire type).
fn subject(path: &str) -> String {
    let last = path
        .rsplit('/')
        .find(|s| *s != "payload" && *s != "meta" && *s != "[]" && *s != "{}")
        .unwrap_or(path);
    let last = last
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(last);
    last.replace("~1", "/").replace("~0", "~")
}

/// One line saying how to make a change safe, or why nothing is needed.
fn fix(rule: Rule, direction: Direction, breaks: Breakage, x: &str) -> String {
    let client = direction == Direction::Client;
    let old = breaks.old_clients_new_server;
    let rollout = breaks.new_clients_old_server;
    let roll_servers_first =
        "finish rolling out the new server before releasing clients that use it";
    match rule {
        Rule::MessageAdded if client => {
            format!("roll out every server instance before releasing clients that send `{x}`")
        }
        Rule::MessageAdded => "none needed: old clients ignore unknown wire types".to_owned(),
        Rule::MessageRemoved if client => format!(
            "keep handling `{x}` (answer it with an error if need be) until no older client is connected"
        ),
        Rule::MessageRemoved => format!(
            "none needed on the wire; old clients no longer receive `{x}`, so remove it only once they do not rely on it"
        ),
        Rule::WireTypeRenamed if client => format!(
            "keep the wire type `{x}` (`#[message(\"{x}\")]` on the renamed struct), or serve both names until old clients are gone"
        ),
        Rule::WireTypeRenamed => {
            format!("keep sending `{x}` until old clients are gone if they rely on it")
        }
        Rule::DirectionChanged => {
            format!(
                "declare a new wire type for the other direction instead of turning `{x}` around"
            )
        }
        Rule::PayloadAdded | Rule::PayloadRemoved => {
            format!("declare a new wire type instead of changing whether `{x}` has a payload")
        }
        Rule::RpcAdded => format!("{roll_servers_first} (as an RPC `{x}`)"),
        Rule::RpcRemoved => format!("keep answering `{x}` until no older client calls it"),
        Rule::RpcResponseChanged => format!(
            "keep the response type of `{x}` and evolve its payload compatibly, or add a new RPC"
        ),
        Rule::FieldAddedRequired if old && client => format!(
            "make `{x}` optional (`Option` or `#[serde(default)]`) so old clients that do not send it are accepted{}",
            if rollout {
                ", and roll out every server before clients send it"
            } else {
                ""
            }
        ),
        Rule::FieldAddedRequired if rollout && !client => format!(
            "give `{x}` a default (`#[serde(default)]`) or make it an `Option`, so new clients accept frames from old servers"
        ),
        Rule::FieldAddedRequired | Rule::FieldAddedOptional | Rule::FieldAddedWithDefault
            if rollout =>
        {
            format!(
                "{roll_servers_first} (old servers reject the unknown field `{x}`), or accept unknown fields in the old version (`allow_unknown_fields`)"
            )
        }
        Rule::FieldAddedRequired | Rule::FieldAddedOptional | Rule::FieldAddedWithDefault => {
            "none needed: receivers that do not know the field ignore it or fill in its default"
                .to_owned()
        }
        Rule::FieldRemoved if old && client => format!(
            "keep accepting `{x}` (an ignored `Option` field) until old clients stop sending it{}",
            if rollout {
                ", and keep sending it from clients until every server is new"
            } else {
                ""
            }
        ),
        Rule::FieldRemoved if old => format!(
            "keep sending `{x}` until old clients, which require it, are gone; or make it optional for clients first"
        ),
        Rule::FieldRemoved if rollout => format!("{roll_servers_first}: old servers require `{x}`"),
        Rule::FieldRemoved => "none needed: no receiver requires the field".to_owned(),
        Rule::FieldRenamed => format!(
            "keep the wire name `{x}` with `#[serde(rename = \"{x}\")]`, or accept both with `#[serde(alias = \"{x}\")]` before switching"
        ),
        Rule::FieldTypeChanged => format!(
            "add a field with the new type beside `{x}` and retire the old one later, instead of changing its type"
        ),
        Rule::FieldOptionalityChanged if old && client => format!(
            "keep `{x}` optional on the server (an `Option` or `#[serde(default)]`) until old clients always send it"
        ),
        Rule::FieldOptionalityChanged if old => format!(
            "keep always sending `{x}` with a value until old clients, which require it, are gone"
        ),
        Rule::FieldOptionalityChanged if rollout && client => {
            format!("{roll_servers_first}: old servers require `{x}`")
        }
        Rule::FieldOptionalityChanged if rollout => format!(
            "keep `{x}` optional in clients (an `Option` or a default) until every server always sends it"
        ),
        Rule::FieldOptionalityChanged => "none needed".to_owned(),
        Rule::FieldDefaultChanged => format!(
            "none needed on the wire; note that receivers fill in the new default when `{x}` is left out"
        ),
        Rule::ConstraintNarrowed if client => format!(
            "keep accepting the old range of `{x}` on the server; enforce the new limit in clients first"
        ),
        Rule::ConstraintNarrowed if rollout => format!(
            "{roll_servers_first}: old servers still send `{x}` values outside the new limit"
        ),
        Rule::ConstraintWidened if client && rollout => {
            format!("{roll_servers_first}: old servers reject the newly allowed values of `{x}`")
        }
        Rule::ConstraintWidened if old => {
            format!("keep sending `{x}` within the old limit until old clients are gone")
        }
        Rule::ConstraintNarrowed | Rule::ConstraintWidened => "none needed".to_owned(),
        Rule::ConstraintChanged => format!(
            "change the constraint on `{x}` in two steps: first accept both, then narrow once old versions are gone"
        ),
        Rule::EnumVariantAdded if client => {
            format!("{roll_servers_first}: old servers reject variant `{x}`")
        }
        Rule::EnumVariantAdded => format!(
            "do not send variant `{x}` to clients older than this version; add it to clients first and send it later"
        ),
        Rule::EnumVariantRemoved if client => {
            format!("keep accepting variant `{x}` until old clients stop sending it")
        }
        Rule::EnumVariantRemoved => {
            format!("keep variant `{x}` in clients until every server has stopped sending it")
        }
        Rule::EnumRepresentationChanged => format!(
            "keep the serde representation of `{x}` (tag, content, untagged); declare a new type instead"
        ),
        Rule::UnknownFieldsPolicyChanged if old => format!(
            "keep accepting unknown fields in `{x}` (`allow_unknown_fields`) until old clients are gone"
        ),
        Rule::UnknownFieldsPolicyChanged if rollout => {
            format!("{roll_servers_first}: old servers reject fields they do not know in `{x}`")
        }
        Rule::UnknownFieldsPolicyChanged => "none needed: clients ignore unknown fields".to_owned(),
        Rule::TypeNameChanged => {
            "none needed on the wire; after regenerating, update code that names the old type"
                .to_owned()
        }
        Rule::NotCompared => {
            format!("review `{x}` by hand, or simplify the schema so it can be compared")
        }
    }
}
