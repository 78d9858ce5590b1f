//! The compatibility check as a library: identical protocols have no changes, any manifest
//! gives a report without panicking (deep, cyclic, dangling or unreadable schemas, hostile
//! names), and the report's text and JSON forms are stable. Whether verdicts are right is
//! proved by the `twinwire-evolution` corpus.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use twinwire::{Manifest, Protocol};
use twinwire_codegen::{Category, Rule, compare};

/// A manifest from JSON without `Manifest::check`, so it may hold what `from_json` refuses.
fn manifest(messages: Value, defs: Value) -> Manifest {
    serde_json::from_value(json!({
        "format": 1,
        "generator": "test",
        "name": "T",
        "doc": "",
        "rustPath": "t::T",
        "messages": messages,
        "rpcs": [],
        "defs": defs,
    }))
    .unwrap()
}

fn client_message(kind: &str, payload: Value) -> Value {
    json!({"type": kind, "rustName": "M", "rustPath": "t::M", "direction": "client", "doc": "", "payload": payload})
}

/// `compare` in both orders, within a time limit, returning the first report.
fn compare_quickly(old: &Manifest, new: &Manifest) -> twinwire_codegen::Report {
    let start = Instant::now();
    let report = compare(old, new);
    let _ = compare(new, old);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "comparison took {:?}",
        start.elapsed()
    );
    report
}

#[test]
fn a_protocol_compared_with_itself_has_no_changes() {
    for manifest in [
        chat_protocol::Chat::manifest().unwrap(),
        twinwire_corpus::Corpus::manifest().unwrap(),
        twinwire_corpus::hostile::Hostile::manifest().unwrap(),
    ] {
        let report = compare(&manifest, &manifest);
        assert!(report.changes.is_empty(), "{}:\n{report}", manifest.name);
        assert!(!report.is_breaking());
        assert_eq!(report.to_string(), "no changes\n");
    }
}

#[test]
fn every_corpus_message_removed_is_reported_once_under_its_escaped_name() {
    let old = twinwire_corpus::hostile::Hostile::manifest().unwrap();
    let mut new = old.clone();
    new.messages
        .retain(|m| m.wire_type != "weird/type with space");
    let report = compare_quickly(&old, &new);
    let paths: Vec<&str> = report.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["weird~1type with space"], "{report}");
    assert_eq!(report.changes[0].wire_type, "weird/type with space");
    assert_eq!(report.changes[0].rule, Rule::MessageRemoved);
}

/// A payload of `levels` nested arrays around `leaf`.
fn nested(levels: usize, leaf: Value) -> Value {
    let mut schema = leaf;
    for _ in 0..levels {
        schema = json!({"type": "array", "items": schema});
    }
    json!({"type": "object", "properties": {"deep": schema}, "required": ["deep"]})
}

#[test]
fn nesting_as_deep_as_json_text_allows_is_compared_to_the_bottom() {
    // 60 levels: about the deepest schema serde_json reads from text.
    let old = manifest(
        json!([client_message(
            "DEEP",
            nested(60, json!({"type": "string"}))
        )]),
        json!({}),
    );
    let new = manifest(
        json!([client_message(
            "DEEP",
            nested(60, json!({"type": "integer"}))
        )]),
        json!({}),
    );
    let text = serde_json::to_string(&old).unwrap();
    assert!(Manifest::from_json(&text).is_ok(), "serde_json reads it");
    let report = compare_quickly(&old, &new);
    assert_eq!(report.changes.len(), 1, "{report}");
    assert_eq!(report.changes[0].rule, Rule::FieldTypeChanged);
    assert!(report.changes[0].path.ends_with(&"/[]".repeat(60)));
}

#[test]
fn deeper_nesting_stops_with_a_breaking_not_compared_change() {
    for levels in [70, 300] {
        let old = manifest(
            json!([client_message(
                "DEEP",
                nested(levels, json!({"type": "string"}))
            )]),
            json!({}),
        );
        let new = manifest(
            json!([client_message(
                "DEEP",
                nested(levels, json!({"type": "integer"}))
            )]),
            json!({}),
        );
        let report = compare_quickly(&old, &new);
        assert_eq!(report.changes.len(), 1, "{levels}: {report}");
        assert_eq!(report.changes[0].rule, Rule::NotCompared);
        assert!(report.is_breaking());
        // The same deep schema on both sides is simply equal.
        assert!(compare_quickly(&old, &old).changes.is_empty());
    }
}

#[test]
fn long_reference_chains_and_wide_graphs_are_bounded() {
    // D0 → D1 → … → D3000, each reaching the next twice, with the last one changed.
    let chain = |last: &str| {
        let mut defs = serde_json::Map::new();
        for i in 0..3000 {
            let next = json!({"$ref": format!("#/$defs/D{}", i + 1)});
            defs.insert(
                format!("D{i}"),
                json!({"type": "object", "properties": {"a": next, "b": next}, "required": ["a"]}),
            );
        }
        defs.insert("D3000".into(), json!({"type": last}));
        Value::Object(defs)
    };
    let payload = json!({"$ref": "#/$defs/D0"});
    let old = manifest(
        json!([client_message("CHAIN", payload.clone())]),
        chain("string"),
    );
    let new = manifest(json!([client_message("CHAIN", payload)]), chain("boolean"));
    let report = compare_quickly(&old, &new);
    assert!(report.is_breaking(), "{report}");
    assert!(
        report.changes.iter().all(|c| c.rule == Rule::NotCompared),
        "{report}"
    );
}

#[test]
fn reference_cycles_dangling_references_and_unreadable_schemas_do_not_panic() {
    let cyclic = json!({
        "A": {"$ref": "#/$defs/B"},
        "B": {"$ref": "#/$defs/A"},
        "Self": {"$ref": "#/$defs/Self"},
        "List": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/List"}, {"type": "null"}]}}},
        "Odd": {"type": "strnig"},
    });
    let messages = json!([
        client_message("CYCLE", json!({"$ref": "#/$defs/A"})),
        client_message("SELF", json!({"$ref": "#/$defs/Self"})),
        client_message("LIST", json!({"$ref": "#/$defs/List"})),
        client_message("DANGLING", json!({"$ref": "#/$defs/Nowhere"})),
        client_message("ODD", json!({"$ref": "#/$defs/Odd"})),
        client_message("NOT_A_SCHEMA", json!(5)),
        client_message("BAD_REF", json!({"$ref": "https://example.com/x"})),
    ]);
    let old = manifest(messages.clone(), cyclic.clone());
    let report = compare_quickly(&old, &old);
    assert!(report.changes.is_empty(), "{report}");

    let mut changed = cyclic;
    changed["Odd"] = json!({"type": "also wrong"});
    changed["List"]["properties"]["extra"] = json!({"type": "string"});
    changed["List"]["required"] = json!(["extra"]);
    let new = manifest(messages, changed);
    let report = compare_quickly(&old, &new);
    let rules: Vec<Rule> = report.changes.iter().map(|c| c.rule).collect();
    assert!(rules.contains(&Rule::NotCompared), "{report}");
    assert!(rules.contains(&Rule::FieldAddedRequired), "{report}");
}

#[test]
fn the_text_report_has_a_summary_and_one_line_per_change_grouped_by_wire_type() {
    let object = |props: Value, required: Value| json!({"type": "object", "properties": props, "required": required, "additionalProperties": false});
    let old = manifest(
        json!([
            client_message(
                "B_SEND",
                object(
                    json!({"text": {"type": "string", "maxLength": 10}}),
                    json!(["text"])
                )
            ),
            client_message("A_GONE", json!(null)),
        ]),
        json!({}),
    );
    let new = manifest(
        json!([client_message(
            "B_SEND",
            object(
                json!({"text": {"type": "string", "maxLength": 5}, "tag\nline": {"type": "string"}}),
                json!(["text"])
            )
        )]),
        json!({}),
    );
    let report = compare_quickly(&old, &new);
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "3 changes, 3 breaking (2 for old clients against the new server, 1 for new clients against an old server)",
        "{text}"
    );
    assert_eq!(lines[1], "A_GONE");
    assert!(
        lines[2].starts_with("  [breaks old clients] message-removed A_GONE: "),
        "{text}"
    );
    assert_eq!(lines[3], "B_SEND");
    // A line break in a field name does not split the change over two lines.
    assert!(
        lines[4].starts_with("  [breaks rollouts] field-added-optional B_SEND/payload/tag line: "),
        "{text}"
    );
    assert!(
        lines[5].starts_with("  [breaks old clients] constraint-narrowed B_SEND/payload/text: `maxLength` 10 → 5. Fix: "),
        "{text}"
    );
    assert_eq!(lines.len(), 6, "{text}");
}

#[test]
fn the_json_report_names_rules_and_categories_in_kebab_case() {
    let named = |name: &str| json!({"type": "object", "properties": {"x": {"$ref": format!("#/$defs/{name}")}}, "required": ["x"]});
    let old = manifest(
        json!([client_message("SEND", named("Link"))]),
        json!({"Link": {"type": "string"}}),
    );
    let new = manifest(
        json!([client_message("SEND", named("Href"))]),
        json!({"Href": {"type": "string"}}),
    );
    let report = compare_quickly(&old, &new);
    assert!(!report.is_breaking());
    assert_eq!(report.changes[0].category, Category::GeneratedCode);
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(
        value,
        json!({"changes": [{
            "rule": "type-name-changed",
            "wireType": "SEND",
            "path": "SEND/payload/x",
            "category": "generated-code",
            "breaks": {"oldClientsNewServer": false, "newClientsOldServer": false},
            "message": "the type here was `Link` and is now `Href`",
            "fix": "none needed on the wire; after regenerating, update code that names the old type",
        }]})
    );
}

#[test]
fn null_in_an_enum_list_is_nullability_not_a_variant() {
    let with = |property: Value| json!({"type": "object", "properties": {"level": property}, "required": ["level"]});
    let old = manifest(
        json!([client_message(
            "SET",
            with(json!({"enum": ["low", "high", null]}))
        )]),
        json!({}),
    );
    let new = manifest(
        json!([client_message(
            "SET",
            with(json!({"anyOf": [{"$ref": "#/$defs/Level"}, {"type": "null"}]}))
        )]),
        json!({"Level": {"type": "string", "enum": ["low", "high"]}}),
    );
    let report = compare_quickly(&old, &new);
    assert!(report.changes.is_empty(), "{report}");
    let mut not_null = new.clone();
    not_null.messages[0].payload = Some(with(json!({"$ref": "#/$defs/Level"})));
    let report = compare_quickly(&old, &not_null);
    let rules: Vec<Rule> = report.changes.iter().map(|c| c.rule).collect();
    assert_eq!(rules, [Rule::FieldOptionalityChanged], "{report}");
}

fn with_meta(mut message: Value, meta: Value) -> Value {
    message["meta"] = meta;
    message
}

#[test]
fn typed_meta_is_compared_like_a_payload_under_its_own_path() {
    let plain = json!({"type": "object", "properties": {}});
    let untyped = manifest(json!([client_message("PING", plain.clone())]), json!({}));
    let required = manifest(
        json!([with_meta(
            client_message("PING", plain.clone()),
            json!({"$ref": "#/$defs/TraceMeta"})
        )]),
        json!({"TraceMeta": {"type": "object", "properties": {"traceId": {"type": "string"}}, "required": ["traceId"]}}),
    );
    let optional = manifest(
        json!([with_meta(
            client_message("PING", plain),
            json!({"$ref": "#/$defs/TraceMeta"})
        )]),
        json!({"TraceMeta": {"type": "object", "properties": {"traceId": {"type": "string"}}}}),
    );

    // A required meta key on a client message: old clients do not send it.
    let report = compare_quickly(&untyped, &required);
    let change = report
        .changes
        .iter()
        .find(|c| c.path == "PING/meta/traceId")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(change.rule, Rule::FieldAddedRequired, "{report}");
    assert!(change.breaks.old_clients_new_server, "{report}");
    assert!(report.is_breaking());

    // An optional one is safe for old clients; an old server ignores untyped extras.
    let report = compare_quickly(&untyped, &optional);
    assert!(
        report
            .changes
            .iter()
            .all(|c| !c.breaks.old_clients_new_server && !c.breaks.new_clients_old_server),
        "{report}"
    );

    // Dropping typed meta: old clients still send the key and the new server ignores it,
    // but new clients no longer send it and an old server still requires it.
    let report = compare_quickly(&required, &untyped);
    let change = report
        .changes
        .iter()
        .find(|c| c.path == "PING/meta/traceId")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(!change.breaks.old_clients_new_server, "{report}");
    assert!(change.breaks.new_clients_old_server, "{report}");

    // The same meta on both sides is no change.
    assert!(compare(&required, &required).changes.is_empty());
}
