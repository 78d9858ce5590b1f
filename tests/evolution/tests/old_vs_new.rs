//! The proof end to end: for a selection of corpus cases, the OLD generated TypeScript client
//! runs against the NEW twinwire server and the NEW client against the OLD server, over real
//! WebSockets. Every frame of the case's probes must flow or fail exactly as the in-process
//! check (real serde and `Validate`) says, and each role must break exactly when labelled.
//!
//! Per case and version, the clients are generated with the library into this test's scratch
//! folder (never committed) and compiled with the repository's `tsc`; the servers are
//! twinwire-runtime servers built from the case's own Rust types, which send the version's
//! server → client probe frames as each connection opens. `e2e/driver.mjs` connects each
//! client, sends the client → server probes of its version and reports what happened.
//! Needs Node and `npm ci` (skipped otherwise, failed under `TWINWIRE_REQUIRE_ALL=1`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use twinwire::Direction;
use twinwire_evolution::{Case, Label, Probe, Role, Side, cases};
use twinwire_runtime::{Server, ServerHandle};

/// The cases run end to end: both labels in both roles, client and server messages, fields,
/// constraints, enums and wire types.
///
/// Not `server/field-added-option`: the generated validators require every field a server
/// always writes, `Option`s included (they mirror what the server sends), so a new
/// TypeScript client rejects an old server's frame without the new `Option` field, which
/// serde (and the label) accept. A known gap of the TypeScript reader, listed in the README
/// ("Evolving a protocol").
const CASES: &[&str] = &[
    "message/client-added",
    "message/server-added",
    "message/client-removed",
    "message/server-wire-type-renamed",
    "server/field-added-required",
    "server/field-removed-required",
    "server/field-renamed",
    "server/field-type-changed",
    "client/field-added-required",
    "client/field-added-optional",
    "client/field-removed-required",
    "client/max-length-narrowed",
    "enum/server-variant-added",
    "enum/client-variant-removed",
];

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Old => "old",
        Side::New => "new",
    }
}

fn folder_name(case: &str) -> String {
    case.replace('/', "__")
}

/// The frames a version's server sends: its server → client probes.
fn server_frames(case: &Case, side: Side) -> Vec<(String, Option<Value>)> {
    case.probes
        .iter()
        .filter_map(|probe| match probe {
            Probe::Frame {
                from,
                kind,
                payload,
            } if *from == side
                && case
                    .version(side)
                    .manifest
                    .message(kind)
                    .map(|m| m.direction)
                    == Some(Direction::Server) =>
            {
                Some(((*kind).to_owned(), payload.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The frames a version's client sends: its client → server probes.
fn client_frames(case: &Case, side: Side) -> Vec<Value> {
    case.probes
        .iter()
        .filter_map(|probe| match probe {
            Probe::Frame {
                from,
                kind,
                payload,
            } if *from == side
                && case
                    .version(side)
                    .manifest
                    .message(kind)
                    .map(|m| m.direction)
                    == Some(Direction::Client) =>
            {
                Some(json!({"kind": kind, "payload": payload}))
            }
            _ => None,
        })
        .collect()
}

async fn serve(case: &Case, side: Side) -> ServerHandle<()> {
    let router = case.version(side).router_sending(server_frames(case, side));
    Server::builder(router)
        .build()
        .expect("the case's router builds")
        .bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0")
}

/// Generates and compiles both versions' TypeScript clients of every case.
fn build_clients(cases: &[&Case], tsc: &Path, work: &Path) -> Result<(), String> {
    for case in cases {
        for side in [Side::Old, Side::New] {
            let dir = work
                .join("cases")
                .join(folder_name(case.name))
                .join(side_name(side));
            twinwire_codegen::Generator::new(case.version(side).manifest.clone())
                .typescript(&dir)
                .write()
                .map_err(|e| format!("{}: generating {}: {e}", case.name, side_name(side)))?;
        }
    }
    let tsconfig = json!({
        "compilerOptions": {
            "target": "ES2022",
            "module": "NodeNext",
            "moduleResolution": "NodeNext",
            "strict": true,
            "skipLibCheck": true,
            "types": [],
            "rootDir": ".",
            "outDir": "js"
        },
        "include": ["cases/**/*.ts"]
    });
    std::fs::write(work.join("tsconfig.json"), tsconfig.to_string()).map_err(|e| e.to_string())?;
    let out = Command::new(tsc)
        .arg("-p")
        .arg(work.join("tsconfig.json"))
        .output()
        .map_err(|e| format!("running tsc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tsc failed on the generated clients:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

#[test]
fn old_clients_against_new_servers_and_back_behave_as_labelled() {
    let Some(npm) = twinwire_test_support::require_npm_tooling(&["typescript", "ws"]) else {
        return;
    };
    let all = cases::all();
    let by_name: HashMap<&str, &Case> = all.iter().map(|c| (c.name, c)).collect();
    let selected: Vec<&Case> = CASES
        .iter()
        .map(|name| {
            *by_name
                .get(name)
                .unwrap_or_else(|| panic!("no case {name}"))
        })
        .collect();

    // Under the repository's target/ folder, so the compiled modules load as ES modules
    // (the root package.json) and resolve `ws` from the root node_modules.
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("evolution-e2e");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    build_clients(&selected, &npm.bin("tsc"), &work).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut servers = Vec::new();
    let mut runs = Vec::new();
    for case in &selected {
        for server_side in [Side::Old, Side::New] {
            let handle = runtime.block_on(serve(case, server_side));
            let client_side = server_side.other();
            let module = work
                .join("js/cases")
                .join(folder_name(case.name))
                .join(side_name(client_side))
                .join("protocol.js");
            runs.push(json!({
                "case": case.name,
                "client": side_name(client_side),
                "url": handle.url(),
                "module": module,
                "clientFrames": client_frames(case, client_side),
            }));
            servers.push(handle);
        }
    }
    let plan = work.join("plan.json");
    std::fs::write(&plan, json!({ "runs": runs }).to_string()).unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/driver.mjs");

    // The servers run on the tokio runtime's worker threads while node drives them.
    let out = Command::new(&npm.node)
        .arg(&driver)
        .arg(&plan)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "driver failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("the driver prints JSON");
    for handle in servers {
        runtime.block_on(handle.shutdown()).unwrap();
    }

    let mut table = String::new();
    let mut mismatches = 0;
    let mut role_breaks: HashMap<(&str, Role), bool> = HashMap::new();
    // The n-th probe of a kind in a run matches the n-th record of that kind.
    let mut matched: HashMap<String, usize> = HashMap::new();
    for case in &selected {
        for probe in &case.probes {
            let Probe::Frame { from, kind, .. } = probe else {
                continue;
            };
            let expected = case.run(probe).unwrap();
            let direction = case
                .version(*from)
                .manifest
                .message(kind)
                .map(|m| m.direction);
            // The run whose client is the client side of this probe's conversation.
            let (client, list) = match direction {
                Some(Direction::Client) => (*from, "sent"),
                _ => (from.other(), "received"),
            };
            let run = report["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["case"] == case.name && r["client"] == side_name(client))
                .unwrap();
            let records: Vec<&Value> = run[list]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["kind"] == *kind)
                .collect();
            let n = matched
                .entry(format!("{}|{}|{list}|{kind}", case.name, side_name(client)))
                .or_default();
            let index = *n;
            *n += 1;
            let record = records.get(index);
            let e2e_accepted = record.map(|r| r["accepted"] == true);
            let in_process = expected.accepted.is_ok();
            *role_breaks.entry((case.name, expected.role)).or_default() |=
                e2e_accepted == Some(false);
            if e2e_accepted != Some(in_process) {
                mismatches += 1;
                writeln!(
                    table,
                    "{}: {from:?} {kind} ({}): end to end {}, in process {}",
                    case.name,
                    expected.role,
                    record.map_or_else(|| "never arrived".to_owned(), |r| r["detail"].to_string()),
                    match &expected.accepted {
                        Ok(()) => "accepted".to_owned(),
                        Err(e) => format!("rejected: {e}"),
                    }
                )
                .unwrap();
            }
        }
        for role in Role::ALL {
            let breaks = role_breaks
                .get(&(case.name, role))
                .copied()
                .unwrap_or(false);
            let label = if breaks {
                Label::Breaking
            } else {
                Label::Compatible
            };
            if label != case.label(role) {
                mismatches += 1;
                writeln!(
                    table,
                    "{}: {role}: labelled {:?}, end to end {label:?}",
                    case.name,
                    case.label(role)
                )
                .unwrap();
            }
        }
    }
    assert!(
        mismatches == 0,
        "{mismatches} mismatches:\n{table}\ndriver report:\n{report:#}"
    );
}
