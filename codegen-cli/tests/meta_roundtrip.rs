//! Typed meta round-trips through every view: for each sample frame of the `Traced` corpus
//! protocol (typed meta in both directions and on an RPC), what the server makes of its
//! `meta` (serde, then `Validate`, paths under `/meta`) must be what the generated JSON
//! Schemas (the message's own file and the bundle, by ajv and by Python's `jsonschema`, which
//! must agree on every sample), the TypeScript envelope types (`tsc --strict`), the
//! descriptors' `validateMeta` and the zod meta schemas say.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use twinwire::Protocol;
use twinwire::manifest::ref_target;
use twinwire_codegen::Generator;
use twinwire_corpus::Verdict;
use twinwire_corpus::meta::{TenantMeta, TraceMeta, Traced, meta_verdict};

/// How a sample was made.
#[derive(Clone, Copy, PartialEq)]
enum How {
    /// serde serialized the meta from a Rust value.
    Serialized,
    /// Written by hand; the server's verdict is the truth.
    Handwritten,
    /// Written by hand, refused by the server, and its envelope must not type-check.
    TypeError,
}

struct Sample {
    kind: &'static str,
    meta: Option<Value>,
    payload: Option<Value>,
    how: How,
    note: &'static str,
}

fn sample(kind: &'static str, meta: Option<Value>, how: How, note: &'static str) -> Sample {
    let payload = match kind {
        "TENANT_UP" => None,
        _ => Some(json!({"n": 1})),
    };
    Sample {
        kind,
        meta,
        payload,
        how,
        note,
    }
}

fn samples() -> Vec<Sample> {
    use How::*;
    let trace = serde_json::to_value(TraceMeta {
        trace_id: "t-1".into(),
        priority: Some(3),
    })
    .unwrap();
    let no_priority = serde_json::to_value(TraceMeta {
        trace_id: "t-2".into(),
        priority: None,
    })
    .unwrap();
    let tenant = serde_json::to_value(TenantMeta {
        tenant: Some("acme".into()),
    })
    .unwrap();
    assert_eq!(tenant, json!({"x-tenant": "acme"}));
    vec![
        sample("TRACED_UP", Some(trace.clone()), Serialized, "serde's meta"),
        sample(
            "TRACED_DOWN",
            Some(trace),
            Serialized,
            "serde's meta, server to client",
        ),
        sample(
            "TRACED_DOWN",
            Some(no_priority),
            Serialized,
            "an absent optional key, as the server writes it",
        ),
        sample(
            "TRACED_UP",
            Some(json!({"traceId": "t", "timestamp": 5, "correlationId": "c", "other": [1]})),
            Handwritten,
            "standard keys and untyped extras beside the typed ones",
        ),
        sample(
            "TRACED_UP",
            Some(json!({"traceId": "t", "priority": null})),
            Handwritten,
            "null for an optional key",
        ),
        sample(
            "TRACED_UP",
            Some(json!({"traceId": ""})),
            Handwritten,
            "too short",
        ),
        sample(
            "TRACED_UP",
            Some(json!({"traceId": "x".repeat(33), "priority": 11})),
            Handwritten,
            "too long and too large",
        ),
        sample(
            "TRACED_UP",
            Some(json!({"traceId": "t", "priority": -1})),
            Handwritten,
            "below the integer type's range",
        ),
        sample(
            "TRACED_UP",
            Some(json!({})),
            TypeError,
            "the required key is missing",
        ),
        sample("TRACED_UP", None, TypeError, "no meta at all"),
        sample(
            "TRACED_UP",
            Some(json!({"traceId": 5})),
            TypeError,
            "a key of the wrong type",
        ),
        sample(
            "TRACED_UP",
            Some(json!({"traceId": "t", "priority": "high"})),
            TypeError,
            "an optional key of the wrong type",
        ),
        sample(
            "TRACED_DOWN",
            Some(json!({"priority": 1})),
            TypeError,
            "server to client without the required key",
        ),
        sample(
            "TRACED_CALL",
            Some(json!({"traceId": "t", "correlationId": "k"})),
            Handwritten,
            "a request",
        ),
        sample(
            "TRACED_CALL",
            Some(json!({"correlationId": "k"})),
            TypeError,
            "a request without the required key",
        ),
        sample(
            "TENANT_UP",
            None,
            Handwritten,
            "all keys optional: no meta needed",
        ),
        sample("TENANT_UP", Some(tenant), Serialized, "a renamed key"),
        sample(
            "TENANT_UP",
            Some(json!({"x-tenant": null})),
            Handwritten,
            "null for the optional key",
        ),
        sample(
            "TENANT_UP",
            Some(json!({"x-tenant": ""})),
            Handwritten,
            "an empty string under non_empty",
        ),
        sample(
            "TENANT_UP",
            Some(json!({"x-tenant": 5})),
            TypeError,
            "a renamed key of the wrong type",
        ),
        sample(
            "TENANT_UP",
            Some(json!({"tenant": 5})),
            Handwritten,
            "the Rust name is just an untyped extra",
        ),
    ]
}

/// The zod schema of a message's typed meta: its definition's name plus `Schema`.
fn zod_name(manifest: &twinwire::Manifest, kind: &str) -> String {
    let meta = manifest.message(kind).unwrap().meta.as_ref().unwrap();
    let def = ref_target(meta["$ref"].as_str().unwrap()).unwrap();
    format!("{def}Schema")
}

#[test]
fn typed_meta_round_trips_through_schema_typescript_guards_and_zod() {
    let manifest = Traced::manifest().unwrap();
    let work = support::work_dir("meta");
    let dir = work.path();
    Generator::new(manifest.clone())
        .typescript(dir.join("gen"))
        .schema(dir.join("schema"))
        .zod(dir.join("gen/protocol.zod.ts"))
        .write()
        .unwrap();

    let samples = samples();
    let mut check = String::from("import * as P from \"./protocol.js\";\n\n");
    let mut entries = Vec::new();
    let mut verdicts = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        let verdict = meta_verdict(s.kind, s.meta.as_ref()).unwrap();
        let refused = matches!(verdict, Verdict::Rejected { .. });
        match s.how {
            How::Serialized => assert!(
                !refused,
                "{}: serde cannot read its own meta: {verdict:?}",
                s.note
            ),
            How::TypeError => assert!(
                refused,
                "{}: expected the server to refuse it: {verdict:?}",
                s.note
            ),
            How::Handwritten => {}
        }
        let id = format!("s{i}");
        let mut envelope = json!({"type": s.kind});
        if let Some(meta) = &s.meta {
            envelope["meta"] = meta.clone();
        }
        if let Some(payload) = &s.payload {
            envelope["payload"] = payload.clone();
        }
        if !refused || s.how == How::TypeError {
            if s.how == How::TypeError {
                writeln!(check, "// @ts-expect-error -- {}", s.note).unwrap();
            }
            writeln!(
                check,
                "export const {id}: Extract<P.ClientEnvelope | P.ServerEnvelope, {{ type: {} }}> = {envelope};",
                serde_json::to_string(s.kind).unwrap(),
            )
            .unwrap();
        }
        let mut entry = envelope.clone();
        entry["id"] = json!(id);
        entry["zod"] = json!(zod_name(&manifest, s.kind));
        entries.push(entry);
        verdicts.push(verdict);
    }
    std::fs::write(dir.join("gen/check.ts"), check).unwrap();
    std::fs::write(
        dir.join("samples.json"),
        serde_json::to_string(&entries).unwrap(),
    )
    .unwrap();
    let project = support::tsconfig(
        &[
            "gen/protocol.ts",
            "gen/twinwire-client.ts",
            "gen/check.ts",
            "gen/protocol.zod.ts",
        ],
        Some("js"),
    );
    let mut project = project;
    project["compilerOptions"]["types"] = json!(["node"]);
    std::fs::write(
        dir.join("tsconfig.json"),
        serde_json::to_string_pretty(&project).unwrap(),
    )
    .unwrap();

    // Everything so far was the server's side; the rest needs tsc, node, ajv and zod.
    let Some(npm) = support::npm_tooling() else {
        return;
    };
    if let Err(e) = support::run_tsc(&npm, &dir.join("tsconfig.json")) {
        panic!("{e}\n(work dir kept: {})", work.keep().display());
    }
    std::fs::write(dir.join("js/package.json"), "{\"type\": \"module\"}\n").unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/meta_roundtrip.mjs");
    let output = Command::new(&npm.node)
        .arg(&driver)
        .arg(dir)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "meta_roundtrip.mjs failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["metaErrors"],
        json!({}),
        "generated schemas are not valid JSON Schema 2020-12"
    );
    // The second, independent JSON Schema implementation, as in the main round trip.
    let Some(second) = support::python_schema_results(dir) else {
        return;
    };
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), samples.len(), "one ajv result per sample");
    assert_eq!(second.len(), samples.len(), "one Python result per sample");

    let mut failures = Vec::new();
    for (((i, s), verdict), (result, python)) in samples
        .iter()
        .enumerate()
        .zip(&verdicts)
        .zip(results.iter().zip(&second))
    {
        let id = format!("s{i}");
        assert_eq!(result["id"], json!(id));
        assert_eq!(python["id"], json!(id));
        let mut issues: Vec<(String, String)> = result["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["path"].as_str().unwrap().to_owned(),
                    i["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        issues.sort();
        let schemas = (result["ownSchema"].as_bool(), result["bundle"].as_bool());
        let python_schemas = (python["ownSchema"].as_bool(), python["bundle"].as_bool());
        let zod = result["zod"].as_bool();
        // Both validators must agree with each other first; the checks below then hold
        // ajv's verdict, and so both, to serde's.
        let problem = if schemas != python_schemas {
            Some(format!(
                "the JSON Schema validators disagree: ajv (own, bundle) {schemas:?} ({}), \
                 Python jsonschema {python_schemas:?} ({})",
                result["ownErrors"], python["ownErrors"]
            ))
        } else {
            None
        };
        let problem = problem.or(match verdict {
            Verdict::Valid if schemas != (Some(true), Some(true)) => Some(format!(
                "the schema refused a valid frame: {}",
                result["ownErrors"]
            )),
            Verdict::Valid if !issues.is_empty() => Some(format!("the guard reported {issues:?}")),
            Verdict::Valid if zod != Some(true) => Some("zod refused a valid meta".to_owned()),
            Verdict::Valid => None,
            Verdict::Invalid(expected) => {
                let mut expected: Vec<(String, String)> = expected
                    .iter()
                    .map(|i| (i.path.clone(), i.code.to_string()))
                    .collect();
                expected.sort();
                if schemas != (Some(false), Some(false)) {
                    Some("the schema accepted a meta that breaks a constraint".to_owned())
                } else if issues != expected {
                    Some(format!("the guard reported {issues:?}, Rust {expected:?}"))
                } else if zod != Some(false) {
                    Some("zod accepted a meta that breaks a constraint".to_owned())
                } else {
                    None
                }
            }
            Verdict::Rejected { path, code, .. } => {
                let reported = issues.iter().any(|(p, c)| {
                    (p == path || p.starts_with(&format!("{path}/")))
                        && (c == code || *code == "invalid")
                });
                if schemas != (Some(false), Some(false)) {
                    Some("the schema accepted a meta the server refuses".to_owned())
                } else if !reported {
                    Some(format!(
                        "the guard reported {issues:?}, not the server's ({path}, {code})"
                    ))
                } else if zod != Some(false) {
                    Some("zod accepted a meta the server refuses".to_owned())
                } else {
                    None
                }
            }
        });
        if let Some(problem) = problem {
            failures.push(format!(
                "{id} {} ({}): {problem}\n    meta: {:?}",
                s.kind, s.note, s.meta
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} samples disagree (work dir kept: {}):\n{}",
        failures.len(),
        samples.len(),
        work.keep().display(),
        failures.join("\n")
    );
}
