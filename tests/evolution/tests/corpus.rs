//! Every case of the corpus: its labels hold for its probes (real serde and `Validate` on
//! both sides), and `twinwire breaking` reaches the same verdict per role and names the
//! case's rules. On failure, prints a table of every mismatch.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fmt::Write as _;

use twinwire_codegen::compare;
use twinwire_evolution::{Label, Role, cases};

fn verdict(breaks: bool) -> Label {
    if breaks {
        Label::Breaking
    } else {
        Label::Compatible
    }
}

fn show(label: Label) -> &'static str {
    match label {
        Label::Breaking => "breaking",
        Label::Compatible => "compatible",
    }
}

#[test]
fn the_checker_agrees_with_every_label_and_every_label_with_serde() {
    let cases = cases::all();
    let mut names = BTreeSet::new();
    let mut table = String::new();
    let mut mismatches = 0;
    for case in &cases {
        assert!(names.insert(case.name), "case name {} twice", case.name);
        let mut rows = Vec::new();
        for problem in case.verify() {
            rows.push(format!("labels vs probes: {problem}"));
        }
        let report = compare(&case.old.manifest, &case.new.manifest);
        for role in Role::ALL {
            let breaks = report.changes.iter().any(|c| match role {
                Role::OldClientsNewServer => c.breaks.old_clients_new_server,
                Role::NewClientsOldServer => c.breaks.new_clients_old_server,
            });
            if verdict(breaks) != case.label(role) {
                rows.push(format!(
                    "{role}: labelled {}, checker says {}",
                    show(case.label(role)),
                    show(verdict(breaks))
                ));
            }
        }
        let rules: BTreeSet<&str> = report.changes.iter().map(|c| c.rule.name()).collect();
        let expected: BTreeSet<&str> = case.rules.iter().copied().collect();
        if rules != expected {
            rows.push(format!(
                "rules: expected {expected:?}, checker reports {rules:?}"
            ));
        }
        if !rows.is_empty() {
            mismatches += 1;
            writeln!(table, "{} ({})", case.name, case.about).unwrap();
            for row in rows {
                writeln!(table, "    {row}").unwrap();
            }
            for line in report.to_string().lines() {
                writeln!(table, "    | {line}").unwrap();
            }
        }
    }
    assert!(
        mismatches == 0,
        "{mismatches} of {} cases do not hold:\n{table}",
        cases.len()
    );
}
