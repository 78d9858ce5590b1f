//! The AsyncAPI output: the documents of the chat, corpus and hostile protocols parse with
//! `@asyncapi/parser` (the reference parser, pinned in the root `package.json`) without a
//! single error; every message, RPC and reserved frame is described and every reference
//! resolves; the corpus and hostile documents are snapshotted in `snapshots/` (the chat
//! document's golden copy is `examples/chat/generated/asyncapi.json`, checked by
//! `twinwire check`).
//!
//! The parser runs through `asyncapi/parse.mjs` under node. Without node or the repository's
//! `node_modules` those tests print why they skip, unless `TWINWIRE_REQUIRE_ALL=1` makes a
//! skip a failure. To accept intended snapshot changes:
//! `INSTA_UPDATE=always cargo test -p twinwire-codegen --test asyncapi`, then review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;
use twinwire::envelope::{
    ERROR_TYPE, HEARTBEAT_ACK_TYPE, HEARTBEAT_TYPE, RPC_ERROR_TYPE, RPC_PROGRESS_TYPE,
};
use twinwire::{Direction, Manifest, Protocol};
use twinwire_codegen::{AsyncApiOptions, Config, Generator};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The parser script, when node and the parser package are installed; otherwise the test
/// is skipped (or fails under `TWINWIRE_REQUIRE_ALL=1`, as in `scripts/test.sh`).
fn require_parser() -> Option<PathBuf> {
    twinwire_test_support::require_npm_tooling(&["@asyncapi/parser"])?;
    Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/asyncapi/parse.mjs"))
}

/// The AsyncAPI document of `manifest`.
fn document(manifest: Manifest, options: AsyncApiOptions) -> String {
    let out = Generator::new(manifest)
        .asyncapi("asyncapi.json", options)
        .output()
        .unwrap();
    assert_eq!(out.files.len(), 1);
    out.files.into_iter().next().unwrap().contents
}

fn chat_document() -> String {
    let config = Config::load(&repo_root().join("examples/chat/twinwire.toml")).unwrap();
    let options = config
        .output
        .asyncapi
        .expect("the chat example configures AsyncAPI");
    document(chat_protocol::Chat::manifest().unwrap(), options.options())
}

fn corpus_document() -> String {
    let options = AsyncApiOptions::default()
        .server_url("wss://corpus.example:8443/socket")
        .version("1.0.0");
    document(twinwire_corpus::Corpus::manifest().unwrap(), options)
}

/// Without a server URL or version: the defaults are exercised too.
fn hostile_document() -> String {
    document(
        twinwire_corpus::hostile::Hostile::manifest().unwrap(),
        AsyncApiOptions::default(),
    )
}

/// Runs the parser on `doc`; panics on an error diagnostic, and prints the others.
fn assert_parses_without_errors(what: &str, doc: &str) {
    let Some(script) = require_parser() else {
        return;
    };
    let mut child = Command::new("node")
        .arg(&script)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "parse.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let diagnostics = report["diagnostics"].as_array().unwrap();
    let errors: Vec<&Value> = diagnostics
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert!(
        errors.is_empty() && report["parsed"] == true,
        "@asyncapi/parser found errors in the {what} document:\n{}",
        serde_json::to_string_pretty(&errors).unwrap()
    );
    // Warnings and hints are listed, not failures: they are style advice.
    for d in diagnostics {
        eprintln!(
            "@asyncapi/parser {} on the {what} document: {} [{}] at /{}",
            d["severity"].as_str().unwrap_or("?"),
            d["message"].as_str().unwrap_or("?"),
            d["code"].as_str().unwrap_or("?"),
            d["path"]
                .as_array()
                .map(|p| p
                    .iter()
                    .map(|s| s.as_str().unwrap_or("?"))
                    .collect::<Vec<_>>()
                    .join("/"))
                .unwrap_or_default(),
        );
    }
}

#[test]
fn the_chat_document_parses_without_errors() {
    assert_parses_without_errors("chat", &chat_document());
}

#[test]
fn the_corpus_document_parses_without_errors() {
    assert_parses_without_errors("corpus", &corpus_document());
}

#[test]
fn the_hostile_document_parses_without_errors() {
    assert_parses_without_errors("hostile", &hostile_document());
}

#[test]
fn the_corpus_and_hostile_documents_match_their_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo_root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_snapshot!("corpus__asyncapi.json", corpus_document());
        insta::assert_snapshot!("hostile__asyncapi.json", hostile_document());
    });
}

/// The value at a local `$ref` (`#/a/b`), decoding JSON-pointer escapes.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

fn collect_refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            // `const`, `enum`, `default` and `examples` hold data, not schemas.
            for (key, v) in map {
                if !matches!(key.as_str(), "const" | "enum" | "default" | "examples") {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The message whose `name` is `kind`, and its key.
fn message_named<'a>(doc: &'a Value, kind: &str) -> (&'a String, &'a Value) {
    let messages = doc["components"]["messages"].as_object().unwrap();
    let found: Vec<_> = messages.iter().filter(|(_, m)| m["name"] == kind).collect();
    assert_eq!(found.len(), 1, "messages named {kind:?}: {found:?}");
    found[0]
}

fn message_refs(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["$ref"].as_str().unwrap().to_owned())
        .collect()
}

/// What a reader of the document relies on, checked without node.
fn assert_describes(manifest: &Manifest, text: &str) {
    let doc: Value = serde_json::from_str(text).unwrap();
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert!(
        doc["x-generator"]
            .as_str()
            .unwrap()
            .starts_with("Generated by twinwire-codegen")
    );
    assert_eq!(doc["info"]["title"], manifest.name.as_str());

    // Every reference resolves, and every restricted key is valid.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in &refs {
        assert!(resolve(&doc, r).is_some(), "{r} does not resolve");
    }
    for section in ["schemas", "messages", "correlationIds"] {
        for key in doc["components"][section].as_object().unwrap().keys() {
            assert!(is_valid_key(key), "components/{section}/{key:?}");
        }
    }
    for key in doc["operations"].as_object().unwrap().keys() {
        assert!(is_valid_key(key), "operations/{key:?}");
    }
    let channel = &doc["channels"]["socket"]["messages"];
    for key in channel.as_object().unwrap().keys() {
        assert!(is_valid_key(key), "channel message {key:?}");
    }

    let ops = doc["operations"].as_object().unwrap();
    let op_of = |key: &str| -> Vec<(&String, &Value)> {
        let target = format!("#/channels/socket/messages/{key}");
        ops.iter()
            .filter(|(_, op)| message_refs(&op["messages"]).contains(&target))
            .collect()
    };
    let responses: Vec<&str> = manifest.rpcs.iter().map(|r| r.response.as_str()).collect();
    for m in &manifest.messages {
        let (key, message) = message_named(&doc, &m.wire_type);
        assert_eq!(
            message["payload"]["properties"]["type"]["const"],
            m.wire_type.as_str()
        );
        assert_eq!(message["title"], m.rust_name.as_str());
        if !m.doc.is_empty() {
            assert_eq!(message["description"], m.doc.as_str());
        }
        assert!(channel.get(key).is_some(), "{key} is not on the channel");
        let ops = op_of(key);
        let expected = match m.direction {
            Direction::Client => Some("receive"),
            Direction::Server if responses.contains(&m.wire_type.as_str()) => None,
            Direction::Server => Some("send"),
        };
        match expected {
            Some(action) => {
                assert_eq!(ops.len(), 1, "{}: {ops:?}", m.wire_type);
                assert_eq!(ops[0].1["action"], action, "{}", m.wire_type);
            }
            None => assert!(ops.is_empty(), "{}: {ops:?}", m.wire_type),
        }
        // A payload-less message's envelope forbids a payload.
        if m.payload.is_none() {
            assert_eq!(message["payload"]["properties"]["payload"], false);
        }
    }
    let rpc_error = message_named(&doc, RPC_ERROR_TYPE).0.clone();
    for rpc in &manifest.rpcs {
        let (request, _) = message_named(&doc, &rpc.request);
        let (response, message) = message_named(&doc, &rpc.response);
        assert!(message.get("correlationId").is_some(), "{}", rpc.response);
        let ops = op_of(request);
        let reply = &ops[0].1["reply"];
        assert_eq!(
            message_refs(&reply["messages"]),
            [response, &rpc_error].map(|k| format!("#/channels/socket/messages/{k}"))
        );
        let (_, request_message) = message_named(&doc, &rpc.request);
        let required = &request_message["payload"]["required"];
        assert!(
            required.as_array().unwrap().contains(&"meta".into()),
            "an RPC request without meta.correlationId is refused"
        );
    }
    for (kind, action) in [
        (ERROR_TYPE, Some("send")),
        (RPC_PROGRESS_TYPE, Some("send")),
        ("$ws:abort", Some("receive")),
        (HEARTBEAT_TYPE, Some("receive")),
        (RPC_ERROR_TYPE, None),
        (HEARTBEAT_ACK_TYPE, None),
    ] {
        let (key, _) = message_named(&doc, kind);
        let ops = op_of(key);
        match action {
            Some(action) => {
                assert_eq!(ops.len(), 1, "{kind}");
                assert_eq!(ops[0].1["action"], action, "{kind}");
            }
            None => assert!(ops.is_empty(), "{kind} is only a reply"),
        }
    }
    let (heartbeat, _) = message_named(&doc, HEARTBEAT_TYPE);
    let (ack, _) = message_named(&doc, HEARTBEAT_ACK_TYPE);
    assert_eq!(
        message_refs(&op_of(heartbeat)[0].1["reply"]["messages"]),
        [format!("#/channels/socket/messages/{ack}")]
    );

    // Every definition is a component.
    assert_eq!(
        doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !k.starts_with("twinwire."))
            .count(),
        manifest.defs.len()
    );
}

#[test]
fn every_message_rpc_and_reserved_frame_is_described_and_every_reference_resolves() {
    assert_describes(&chat_protocol::Chat::manifest().unwrap(), &chat_document());
    assert_describes(
        &twinwire_corpus::Corpus::manifest().unwrap(),
        &corpus_document(),
    );
    assert_describes(
        &twinwire_corpus::hostile::Hostile::manifest().unwrap(),
        &hostile_document(),
    );
}

#[test]
fn hostile_wire_types_get_valid_distinct_keys_and_keep_their_names() {
    let doc: Value = serde_json::from_str(&hostile_document()).unwrap();
    let (key, _) = message_named(&doc, "weird/type with space");
    assert_eq!(key, "weird.2Ftype.20with.20space");
    let (key, _) = message_named(&doc, "GRÖSSE");
    assert_eq!(key, "GR.C3.96SSE");
    assert!(
        doc["operations"]
            .get("receive_weird.2Ftype.20with.20space")
            .is_some()
    );
    // The protocol doc is a description, whatever it contains.
    assert_eq!(
        doc["info"]["description"],
        twinwire_corpus::hostile::Hostile::manifest()
            .unwrap()
            .doc
            .as_str()
    );
}

#[test]
fn the_server_and_version_come_from_the_options() {
    let corpus: Value = serde_json::from_str(&corpus_document()).unwrap();
    let server = &corpus["servers"]["ws"];
    assert_eq!(server["protocol"], "wss");
    assert_eq!(server["host"], "corpus.example:8443");
    assert_eq!(server["pathname"], "/socket");
    assert_eq!(corpus["info"]["version"], "1.0.0");

    let hostile: Value = serde_json::from_str(&hostile_document()).unwrap();
    assert!(hostile.get("servers").is_none());
    assert_eq!(hostile["info"]["version"], "0.0.0");

    let err = Generator::new(chat_protocol::Chat::manifest().unwrap())
        .asyncapi(
            "a.json",
            AsyncApiOptions::default().server_url("https://x/ws"),
        )
        .output()
        .unwrap_err();
    assert!(err.to_string().contains("ws://"), "{err}");
}

#[test]
fn the_cli_writes_and_checks_the_document() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("m.json"),
        chat_protocol::Chat::manifest().unwrap().to_pretty_json(),
    )
    .unwrap();
    std::fs::write(
        dir.join("twinwire.toml"),
        "[input]\nmanifest = \"m.json\"\n\n[output.asyncapi]\npath = \"out/asyncapi.json\"\nserver_url = \"ws://localhost:9000/chat\"\n",
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
    let written = std::fs::read_to_string(dir.join("out/asyncapi.json")).unwrap();
    let doc: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(doc["servers"]["ws"]["host"], "localhost:9000");
    assert_eq!(doc["servers"]["ws"]["pathname"], "/chat");
    std::fs::write(
        dir.join("out/asyncapi.json"),
        written.replace("Chat", "Chad"),
    )
    .unwrap();
    let stale = run("check");
    assert_eq!(stale.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stale.stdout).contains("asyncapi.json"));
}

#[test]
fn typed_meta_is_in_each_envelope_and_the_document_parses() {
    let manifest = twinwire_corpus::meta::Traced::manifest().unwrap();
    let doc = document(manifest.clone(), AsyncApiOptions::default());
    assert_describes(&manifest, &doc);
    let value: Value = serde_json::from_str(&doc).unwrap();
    let (_, up) = message_named(&value, "TRACED_UP");
    let meta = &up["payload"]["properties"]["meta"];
    let parts = meta["allOf"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{meta}");
    let typed = resolve(&value, parts[1]["$ref"].as_str().unwrap()).unwrap();
    assert!(typed["properties"].get("traceId").is_some(), "{typed}");
    assert!(
        up["payload"]["required"]
            .as_array()
            .unwrap()
            .contains(&Value::from("meta")),
        "a required meta key makes `meta` required"
    );
    let (_, tenant) = message_named(&value, "TENANT_UP");
    assert!(
        !tenant["payload"]["required"]
            .as_array()
            .unwrap()
            .contains(&Value::from("meta")),
        "all meta keys optional: `meta` stays optional"
    );
    assert_parses_without_errors("the typed meta document", &doc);
}
