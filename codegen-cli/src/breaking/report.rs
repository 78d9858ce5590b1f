//! The result of a comparison: changes with their rule, place, who breaks and a fix.

use std::fmt;

use serde::Serialize;

use super::rules::{Category, Rule};

/// Who a change breaks, by role in a mixed deployment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Breakage {
    /// A peer running the old version is rejected by, or rejects, the new server: clients
    /// that still have yesterday's frontend open after the deploy.
    pub old_clients_new_server: bool,
    /// A client of the new version meets a server still on the old version: during a
    /// rollout, before every instance runs the new server.
    pub new_clients_old_server: bool,
}

impl Breakage {
    /// Whether either role breaks.
    pub const fn any(self) -> bool {
        self.old_clients_new_server || self.new_clients_old_server
    }

    fn label(self) -> &'static str {
        match (self.old_clients_new_server, self.new_clients_old_server) {
            (true, true) => "breaks old clients and rollouts",
            (true, false) => "breaks old clients",
            (false, true) => "breaks rollouts",
            (false, false) => "compatible",
        }
    }
}

/// One change between two versions of a protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// What kind of change this is.
    pub rule: Rule,
    /// The wire type of the message it concerns (for an RPC, its request).
    pub wire_type: String,
    /// Where: the wire type, then `payload` and the JSON path inside it, `/`-separated with
    /// JSON-pointer escapes (`~0` for `~`, `~1` for `/`). Segments `<Name>` select an enum
    /// variant (`<#2>`: the third member of an untagged union), `[]` any array item, `[2]` a
    /// tuple position, `{}` any map value, `{keys}` the map's keys. For example
    /// `SEND_MESSAGE/payload/attachment/url`.
    pub path: String,
    /// Wire or generated code.
    pub category: Category,
    /// Who breaks.
    pub breaks: Breakage,
    /// What changed, in a sentence.
    pub message: String,
    /// How to make the change safe (or why nothing is needed), in one line.
    pub fix: String,
    /// The reason given in the allow-list when this break was accepted
    /// ([`Report::allow`]); an accepted change no longer makes the report breaking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
}

impl Change {
    /// Whether this change breaks either role and was not accepted by an allow-list.
    pub const fn is_breaking(&self) -> bool {
        self.breaks.any() && self.allowed.is_none()
    }
}

/// An accepted break: `[[breaking.allow]]` in `twinwire.toml`.
///
/// ```toml
/// [[breaking.allow]]
/// rule = "field-removed"
/// path = "CHAT_MESSAGE/payload/legacyId"
/// reason = "no client reads legacyId since 2.3"
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// The rule's name, as printed (e.g. `field-removed`).
    pub rule: String,
    /// The change's path, as printed (e.g. `CHAT_MESSAGE/payload/legacyId`).
    pub path: String,
    /// Why the break is accepted; required, and printed with the change.
    pub reason: String,
}

impl Allow {
    /// Checks what serde cannot: a known rule name and a reason that says something.
    ///
    /// # Errors
    /// A message naming the problem.
    pub fn check(&self) -> Result<(), String> {
        if Rule::from_name(&self.rule).is_none() {
            return Err(format!(
                "`{}` is not a rule of `twinwire breaking` (they are listed in the README, \"Evolving a protocol\")",
                self.rule
            ));
        }
        if self.reason.trim().is_empty() {
            return Err(format!(
                "the allowed change `{} {}` needs a `reason`",
                self.rule, self.path
            ));
        }
        Ok(())
    }

    fn matches(&self, change: &Change) -> bool {
        self.rule == change.rule.name() && self.path == change.path
    }
}

/// Every change between two manifests, sorted by wire type, path and rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The changes, breaking or not.
    pub changes: Vec<Change>,
}

impl Report {
    /// Whether any change breaks old clients against the new server or new clients against
    /// an old server.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(Change::is_breaking)
    }

    /// The changes that break a role (and were not accepted).
    pub fn breaking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.is_breaking())
    }

    /// Marks the changes `allow` accepts (same rule name and path) with the entry's reason,
    /// so they no longer make the report breaking. Returns the entries that matched no
    /// change: stale allowances worth removing.
    pub fn allow<'a>(&mut self, allow: &'a [Allow]) -> Vec<&'a Allow> {
        let mut unused = Vec::new();
        for entry in allow {
            let mut used = false;
            for change in self.changes.iter_mut().filter(|c| entry.matches(c)) {
                change.allowed = Some(entry.reason.clone());
                used = true;
            }
            if !used {
                unused.push(entry);
            }
        }
        unused
    }
}

/// A header line, then the changes grouped by wire type, one line each:
/// `  [breaks old clients] field-added-required SEND_MESSAGE/payload/priority: …. Fix: …`.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return writeln!(f, "no changes");
        }
        let count =
            |pick: fn(&Breakage) -> bool| self.changes.iter().filter(|c| pick(&c.breaks)).count();
        let old_clients = count(|b| b.old_clients_new_server);
        let rollouts = count(|b| b.new_clients_old_server);
        let breaking = self.changes.iter().filter(|c| c.breaks.any()).count();
        let accepted = self.changes.iter().filter(|c| c.allowed.is_some()).count();
        let total = self.changes.len();
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        write!(f, "{total} change{}, ", plural(total))?;
        if breaking == 0 {
            writeln!(f, "none breaking")?;
        } else {
            let mut roles = Vec::new();
            if old_clients > 0 {
                roles.push(format!(
                    "{old_clients} for old clients against the new server"
                ));
            }
            if rollouts > 0 {
                roles.push(format!("{rollouts} for new clients against an old server"));
            }
            let accepted = if accepted > 0 {
                format!("; {accepted} of them allowed")
            } else {
                String::new()
            };
            writeln!(f, "{breaking} breaking ({}){accepted}", roles.join(", "))?;
        }
        let mut group: Option<&str> = None;
        for change in &self.changes {
            if group != Some(change.wire_type.as_str()) {
                writeln!(f, "{}", one_line(&change.wire_type))?;
                group = Some(change.wire_type.as_str());
            }
            let label = match change.category {
                Category::GeneratedCode => "generated code",
                Category::Wire => change.breaks.label(),
            };
            let allowed = change
                .allowed
                .as_deref()
                .map(|reason| format!(" Allowed: {}", one_line(reason)))
                .unwrap_or_default();
            writeln!(
                f,
                "  [{label}] {} {}: {}. Fix: {}{allowed}",
                change.rule.name(),
                one_line(&change.path),
                one_line(&change.message),
                one_line(&change.fix)
            )?;
        }
        Ok(())
    }
}

/// Names from a manifest may hold line breaks; a report line must stay one line.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}
