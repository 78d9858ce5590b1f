//! The zod output through the command line: `[output] zod` in `twinwire.toml` writes
//! `protocol.zod.ts`, `check` finds it fresh, then stale after an edit; the same manifest
//! gives the same bytes. (Its verdicts are checked sample by sample in tests/roundtrip.rs,
//! its text in snapshots/, its WS-Kit definitions by the WS-Kit e2e server.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use twinwire::Protocol;
use twinwire_codegen::Generator;

#[test]
fn the_cli_writes_and_checks_the_zod_module() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("m.json"),
        chat_protocol::Chat::manifest().unwrap().to_pretty_json(),
    )
    .unwrap();
    std::fs::write(
        dir.join("twinwire.toml"),
        "[input]\nmanifest = \"m.json\"\n\n[output]\nzod = \"out/protocol.zod.ts\"\n",
    )
    .unwrap();
    let run = |command: &str| {
        Command::new(env!("CARGO_BIN_EXE_twinwire"))
            .args([command, "--config", "twinwire.toml"])
            .current_dir(dir)
            .output()
            .unwrap()
    };
    assert_eq!(run("check").status.code(), Some(1), "missing at first");
    assert_eq!(run("generate").status.code(), Some(0));
    assert_eq!(run("check").status.code(), Some(0));
    let written = std::fs::read_to_string(dir.join("out/protocol.zod.ts")).unwrap();
    assert!(written.contains("import { message, rpc } from \"@ws-kit/zod\";"));
    assert!(written.contains("export const Calculate = rpc({"));
    std::fs::write(
        dir.join("out/protocol.zod.ts"),
        written.replace("strictObject", "object"),
    )
    .unwrap();
    let stale = run("check");
    assert_eq!(stale.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stale.stdout).contains("protocol.zod.ts"));
}

#[test]
fn the_zod_module_is_deterministic_and_only_it_needs_packages() {
    let render = || {
        Generator::new(twinwire_corpus::Corpus::manifest().unwrap())
            .typescript("ts")
            .zod("ts/protocol.zod.ts")
            .output()
            .unwrap()
            .files
    };
    let first = render();
    assert_eq!(first, render());
    for file in &first {
        let imports_packages = file.contents.contains("from \"zod\"");
        assert_eq!(
            imports_packages,
            file.path.ends_with("protocol.zod.ts"),
            "{}",
            file.path.display()
        );
    }
}
