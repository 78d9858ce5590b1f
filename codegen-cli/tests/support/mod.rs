//! The round-trip harness: generates a protocol's TypeScript and JSON Schemas into a
//! temporary folder, type-checks sample payloads with `tsc`, and runs `roundtrip.mjs` under
//! node to validate them with ajv and the generated guards. What serde and `Validate` say
//! about each sample is the truth every other side must agree with.
//!
//! Every sample is also validated by a second, independent JSON Schema implementation,
//! Python's `jsonschema` (`roundtrip.py`); the two validators must agree on every sample.
//!
//! Needs `node` and the repository's `node_modules` (typescript, ajv, ajv-formats), and a
//! Python with the packages of `requirements.txt`, which `scripts/test.sh` installs; without
//! them the TypeScript and JSON Schema checks are skipped
//! with a printed reason (a failure under `TWINWIRE_REQUIRE_ALL=1`, as `scripts/test.sh`
//! runs them), after the Rust-side checks have run.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use twinwire::{Manifest, Message};
use twinwire_codegen::Generator;
use twinwire_corpus::Verdict;
use twinwire_test_support::NpmTooling;

/// How a sample was made, which decides what is expected of it.
#[derive(Clone, Debug, PartialEq)]
pub enum How {
    /// serde serialized it from a Rust value: it must deserialize again.
    Serialized,
    /// Written by hand; serde's verdict is the truth.
    Handwritten,
    /// Written by hand, serde rejects it, and its JSON must not type-check (a
    /// `// @ts-expect-error` line proves it).
    TypeError,
    /// A server payload serde's serializer never writes (an `Option` field left out), though
    /// its deserializer would accept it: the server-side schema, guard and type refuse it.
    /// It must not type-check either.
    NeverSerialized,
    /// serde rejects it but the manifest's JSON Schema cannot express why (the reason is
    /// given), so neither the schema nor the guard generated from it can tell: both must
    /// accept it, which keeps the documented limitation honest.
    SchemaBlind(&'static str),
    /// serde reads it, yet every view refuses it, for the reason given: a form the server
    /// never writes (server → client), or one the views hold a client to a stricter rule
    /// for (README's type mapping says which). A string the TypeScript type cannot tell.
    ViewsRefuse(&'static str),
}

/// One payload of one message.
#[derive(Clone, Debug)]
pub struct Sample {
    pub kind: &'static str,
    pub payload: Option<Value>,
    pub how: How,
    pub note: &'static str,
}

impl Sample {
    /// The serde serialization of `value`.
    pub fn of<M: Message>(value: &M, note: &'static str) -> Self {
        Self {
            kind: M::WIRE_TYPE,
            payload: M::HAS_PAYLOAD.then(|| serde_json::to_value(value).unwrap()),
            how: How::Serialized,
            note,
        }
    }

    /// The same value as message `Up` and as message `Down`, which have the same fields:
    /// serialized as `Up`, and checked to be exactly what serde writes for `Down` too.
    pub fn both<Up: Message, Down: Message>(value: &Up, note: &'static str) -> [Self; 2] {
        let up = Self::of(value, note);
        let json = up.payload.clone().unwrap();
        let down: Down = serde_json::from_value(json.clone()).unwrap();
        let down = Self::of(&down, note);
        assert_eq!(
            down.payload.as_ref(),
            Some(&json),
            "{note}: Down serializes differently"
        );
        [up, down]
    }

    /// A hand-written payload.
    pub fn json(kind: &'static str, payload: Value, note: &'static str) -> Self {
        Self {
            kind,
            payload: Some(payload),
            how: How::Handwritten,
            note,
        }
    }

    /// A frame without payload.
    pub fn bare(kind: &'static str, note: &'static str) -> Self {
        Self {
            kind,
            payload: None,
            how: How::Handwritten,
            note,
        }
    }

    /// A hand-written payload that must also fail to type-check.
    pub fn type_error(kind: &'static str, payload: Value, note: &'static str) -> Self {
        Self {
            how: How::TypeError,
            ..Self::json(kind, payload, note)
        }
    }

    /// A server payload serde never serializes.
    pub fn never_serialized(kind: &'static str, payload: Value, note: &'static str) -> Self {
        Self {
            how: How::NeverSerialized,
            ..Self::json(kind, payload, note)
        }
    }

    /// A payload serde reads but every view refuses, for `reason`.
    pub fn views_refuse(
        kind: &'static str,
        payload: Value,
        reason: &'static str,
        note: &'static str,
    ) -> Self {
        Self {
            how: How::ViewsRefuse(reason),
            ..Self::json(kind, payload, note)
        }
    }

    /// A payload serde rejects for a reason JSON Schema cannot express.
    pub fn schema_blind(
        kind: &'static str,
        payload: Value,
        reason: &'static str,
        note: &'static str,
    ) -> Self {
        Self {
            how: How::SchemaBlind(reason),
            ..Self::json(kind, payload, note)
        }
    }
}

/// What every side must say about a sample.
#[derive(Clone, Debug, PartialEq)]
enum Expected {
    Valid,
    /// `Validate`'s issues as sorted `(path, code)` pairs.
    Issues(Vec<(String, String)>),
    Rejected {
        schema_can_tell: bool,
        /// The `(path, code)` the server reports: serde's first error.
        server: (String, String),
    },
}

pub type VerdictFn = fn(&str, Option<&Value>) -> Option<Verdict>;

/// The npm packages the TypeScript and JSON Schema checks use.
const NPM_PACKAGES: [&str; 5] = ["typescript", "ajv", "ajv-formats", "zod", "@ws-kit/zod"];

/// Node and the npm tooling, or `None` after skipping the calling test (which then returns).
pub fn npm_tooling() -> Option<NpmTooling> {
    twinwire_test_support::require_npm_tooling(&NPM_PACKAGES)
}

/// A fresh folder under the target directory (so node finds the repository's
/// `node_modules` and its `"type": "module"` package.json).
pub fn work_dir(name: &str) -> tempfile::TempDir {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).unwrap();
    tempfile::Builder::new()
        .prefix(&format!("codegen-{name}-"))
        .tempdir_in(base)
        .unwrap()
}

/// The strictest settings a user's project may use (those the TS client is checked with).
pub fn tsconfig(files: &[&str], out_dir: Option<&str>) -> Value {
    let mut options = json!({
        "target": "es2022",
        "lib": ["es2022"],
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "types": [],
        "strict": true,
        "exactOptionalPropertyTypes": true,
        "noUncheckedIndexedAccess": true,
        "noImplicitOverride": true,
        "noImplicitReturns": true,
        "noFallthroughCasesInSwitch": true,
        "noPropertyAccessFromIndexSignature": true,
        "verbatimModuleSyntax": true,
        "isolatedModules": true,
        "skipLibCheck": false,
    });
    match out_dir {
        Some(dir) => {
            options["outDir"] = json!(dir);
            options["rootDir"] = json!("gen");
        }
        None => options["noEmit"] = json!(true),
    }
    json!({ "compilerOptions": options, "files": files })
}

/// Runs tsc on a project file; `Err` with its output when it reports errors.
pub fn run_tsc(npm: &NpmTooling, project: &Path) -> Result<(), String> {
    let output = Command::new(npm.bin("tsc"))
        .arg("-p")
        .arg(project)
        .output()
        .expect("tsc runs");
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "tsc failed for {}:\n{}{}",
        project.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

fn expected(sample: &Sample, verdict: &Verdict) -> Expected {
    let rejected = matches!(verdict, Verdict::Rejected { .. });
    let what = || format!("{} ({})", sample.kind, sample.note);
    match &sample.how {
        How::NeverSerialized => {
            // serde's deserializer accepts it, so there is no server issue to match.
            return Expected::Rejected {
                schema_can_tell: true,
                server: (String::new(), String::new()),
            };
        }
        How::ViewsRefuse(_) => {
            assert!(
                matches!(verdict, Verdict::Valid),
                "{}: expected serde to read it, got {verdict:?}",
                what()
            );
            return Expected::Rejected {
                schema_can_tell: true,
                server: (String::new(), String::new()),
            };
        }
        How::Serialized => assert!(
            !rejected,
            "{}: serde cannot read back what it wrote: {verdict:?}",
            what()
        ),
        How::TypeError | How::SchemaBlind(_) => {
            assert!(
                rejected,
                "{}: expected serde to reject it, got {verdict:?}",
                what()
            );
        }
        How::Handwritten => {}
    }
    match verdict {
        Verdict::Valid => Expected::Valid,
        Verdict::Invalid(issues) => {
            let mut pairs: Vec<(String, String)> = issues
                .iter()
                .map(|i| (i.path.clone(), i.code.to_string()))
                .collect();
            pairs.sort();
            Expected::Issues(pairs)
        }
        Verdict::Rejected { path, code, .. } => Expected::Rejected {
            schema_can_tell: !matches!(sample.how, How::SchemaBlind(_)),
            server: (path.clone(), (*code).to_owned()),
        },
    }
}

/// Whether the guard's issues include the server's: the same code at the same path, where
/// serde may lose depth inside what it buffers (tagged and untagged enums, `flatten`, map
/// keys) so the guard's path may be deeper; and for the server's `invalid`, any code, since a
/// `Uuid`, `Url` or `char` field has the same schema as a `String` with the `uuid`, `url` or
/// `length` constraint and the guard reports those codes.
fn reports(issues: &[(String, String)], (path, code): &(String, String)) -> bool {
    issues.iter().any(|(p, c)| {
        let at = p == path || p.starts_with(&format!("{path}/"));
        at && (c == code || code == "invalid")
    })
}

/// The second, independent JSON Schema implementation: Python's `jsonschema` validates
/// every sample of `dir/samples.json` (its envelope from `type`, `meta` and `payload`)
/// against `dir/schema/` in one process (`roundtrip.py`), after checking the schemas
/// themselves. One result per sample, in order: `{id, ownSchema, ownErrors, bundle}`, as
/// ajv's drivers report them, or `None` after skipping the calling test (which then returns).
pub fn python_schema_results(dir: &Path) -> Option<Vec<Value>> {
    let python = twinwire_test_support::require_python_jsonschema()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/roundtrip.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(dir)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "roundtrip.py failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["metaErrors"],
        json!({}),
        "Python's jsonschema finds the generated schemas invalid"
    );
    Some(report["results"].as_array().unwrap().clone())
}

/// Generates `manifest`'s TypeScript and schemas, then checks every sample on every side.
pub fn round_trip(name: &str, manifest: Manifest, verdict: VerdictFn, samples: &[Sample]) {
    let work = work_dir(name);
    let dir = work.path();
    Generator::new(manifest.clone())
        .typescript(dir.join("gen"))
        .schema(dir.join("schema"))
        .zod(dir.join("gen/protocol.zod.ts"))
        .write()
        .unwrap();

    let mut expectations = Vec::new();
    let mut check = String::from("import * as P from \"./protocol.js\";\n\n");
    let mut sample_json = Vec::new();
    for (i, sample) in samples.iter().enumerate() {
        assert!(
            manifest.message(sample.kind).is_some(),
            "no message {}",
            sample.kind
        );
        let verdict = verdict(sample.kind, sample.payload.as_ref())
            .unwrap_or_else(|| panic!("no verdict for {}", sample.kind));
        let expected = expected(sample, &verdict);
        let id = format!("s{i}");
        let type_checks = !matches!(expected, Expected::Rejected { .. });
        let negative = matches!(sample.how, How::TypeError | How::NeverSerialized);
        if let (Some(payload), true) = (&sample.payload, type_checks || negative) {
            if negative {
                writeln!(
                    check,
                    "// @ts-expect-error -- {}",
                    sample.note.replace('\n', " ")
                )
                .unwrap();
            }
            // The payload type of the frame with this wire type, found through the envelope
            // unions (which name each message's payload type) by the public names only.
            writeln!(
                check,
                "export const {id}: Extract<P.ClientEnvelope | P.ServerEnvelope, {{ type: {} }}>[\"payload\"] = {};",
                serde_json::to_string(sample.kind).unwrap(),
                serde_json::to_string(payload).unwrap()
            )
            .unwrap();
        }
        let mut entry = json!({ "id": id, "type": sample.kind });
        if let Some(payload) = &sample.payload {
            entry["payload"] = payload.clone();
        }
        sample_json.push(entry);
        expectations.push((id, sample, expected));
    }
    std::fs::write(dir.join("gen/check.ts"), check).unwrap();
    std::fs::write(
        dir.join("samples.json"),
        serde_json::to_string(&sample_json).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("tsconfig.json"),
        serde_json::to_string_pretty(&tsconfig(
            &["gen/protocol.ts", "gen/twinwire-client.ts", "gen/check.ts"],
            Some("js"),
        ))
        .unwrap(),
    )
    .unwrap();
    // Everything so far was Rust's side (serde's verdict on every sample); the rest needs
    // tsc, node and ajv.
    // The zod module in a project of its own: zod's and WS-Kit's declarations use Node's
    // globals (`URL`, `AbortSignal`), which the dependency-free outputs must not need.
    let mut zod_project = tsconfig(&["gen/protocol.zod.ts"], Some("js"));
    zod_project["compilerOptions"]["types"] = json!(["node"]);
    std::fs::write(
        dir.join("tsconfig.zod.json"),
        serde_json::to_string_pretty(&zod_project).unwrap(),
    )
    .unwrap();
    let Some(npm) = npm_tooling() else {
        return;
    };
    for project in ["tsconfig.json", "tsconfig.zod.json"] {
        if let Err(e) = run_tsc(&npm, &dir.join(project)) {
            let kept = work.keep();
            panic!("{e}\n(work dir kept: {})", kept.display());
        }
    }
    std::fs::write(dir.join("js/package.json"), "{\"type\": \"module\"}\n").unwrap();

    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/roundtrip.mjs");
    let output = Command::new(&npm.node)
        .arg(&driver)
        .arg(dir)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "roundtrip.mjs failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["metaErrors"],
        json!({}),
        "generated schemas are not valid JSON Schema 2020-12"
    );
    let Some(second) = python_schema_results(dir) else {
        return;
    };
    let mut descriptors: Vec<String> = manifest
        .messages
        .iter()
        .map(|m| m.wire_type.clone())
        .collect();
    descriptors.sort();
    assert_eq!(
        report["descriptors"],
        json!(descriptors),
        "one descriptor per message"
    );

    let mut failures = Vec::new();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), second.len(), "one Python result per sample");
    for (((id, sample, expected), result), python) in expectations.iter().zip(results).zip(&second)
    {
        assert_eq!(result["id"], json!(id));
        assert_eq!(python["id"], json!(id));
        let own = result["ownSchema"].as_bool();
        let bundle = result["bundle"].as_bool();
        let validators_agree =
            own == python["ownSchema"].as_bool() && bundle == python["bundle"].as_bool();
        let issues: Vec<(String, String)> = {
            let mut list: Vec<(String, String)> = result["issues"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|i| {
                            (
                                i["path"].as_str().unwrap_or("?").to_owned(),
                                i["code"].as_str().unwrap_or("?").to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            list.sort();
            list
        };
        // zod accepts what the generated guard accepts: a valid value, and a value serde
        // rejects for a reason JSON Schema cannot express (`SchemaBlind`).
        let zod_should_accept = match expected {
            Expected::Valid => true,
            Expected::Issues(_) => false,
            Expected::Rejected {
                schema_can_tell, ..
            } => !schema_can_tell,
        };
        let zod = result["zod"].as_bool();
        let problem = if !validators_agree {
            Some(format!(
                "the JSON Schema validators disagree: ajv own {own:?} bundle {bundle:?} ({}), \
                 Python jsonschema own {} bundle {} ({})",
                result["ownErrors"], python["ownSchema"], python["bundle"], python["ownErrors"]
            ))
        } else if zod != Some(zod_should_accept) {
            Some(format!(
                "zod said {zod:?}, expected {zod_should_accept}: {}",
                result["zodIssues"]
            ))
        } else {
            None
        };
        let problem = problem.or(match expected {
            Expected::Valid => {
                if own != Some(true) || bundle != Some(true) {
                    Some(format!(
                        "schema refused a valid value: {}",
                        result["ownErrors"]
                    ))
                } else if !issues.is_empty() {
                    Some(format!("guard reported {issues:?} for a valid value"))
                } else {
                    None
                }
            }
            Expected::Issues(pairs) => {
                if own != Some(false) || bundle != Some(false) {
                    Some("schema accepted a value that breaks a constraint".to_owned())
                } else if issues != *pairs {
                    Some(format!("guard reported {issues:?}, Rust {pairs:?}"))
                } else {
                    None
                }
            }
            Expected::Rejected {
                schema_can_tell,
                server,
            } => {
                if *schema_can_tell && (own != Some(false) || bundle != Some(false)) {
                    Some("schema accepted a value serde rejects".to_owned())
                } else if !schema_can_tell && (own != Some(true) || bundle != Some(true)) {
                    Some("schema now rejects it: drop `SchemaBlind` from this sample".to_owned())
                } else if !schema_can_tell && !issues.is_empty() {
                    Some(format!(
                        "guard now rejects it ({issues:?}): drop `SchemaBlind`"
                    ))
                } else if *schema_can_tell && issues.is_empty() {
                    Some("guard accepted a value serde rejects".to_owned())
                } else if *schema_can_tell && !server.1.is_empty() && !reports(&issues, server) {
                    Some(format!(
                        "guard reported {issues:?}, not the server's {server:?}"
                    ))
                } else {
                    None
                }
            }
        });
        if let Some(problem) = problem {
            failures.push(format!(
                "{id} {} ({}): {problem}\n    payload: {}",
                sample.kind,
                sample.note,
                sample
                    .payload
                    .as_ref()
                    .map_or("<none>".to_owned(), |p| p.to_string())
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
