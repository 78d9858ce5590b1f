//! Hostile input: docs that would close a comment or open a template tag survive verbatim
//! (escaped only where the target syntax requires), non-ASCII definition names work the way
//! schemars encodes them, and the generated client facade enforces directions at compile
//! time. (That the hostile outputs compile is shown by `roundtrip.rs` for TypeScript and by
//! the `twinwire-codegen-fixture` crate for Rust.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use serde_json::{Value, json};
use twinwire::{Manifest, Protocol};
use twinwire_codegen::Generator;
use twinwire_corpus::hostile::Hostile;

const OBJECT_DOC_LINE: &str =
    "Ends a comment early */ /* and opens another; has `backticks`, {{ braces }}, {% raw %},";

/// Every output of `manifest`, rendered in memory: `protocol.ts`, `router.rs`, and the JSON
/// Schema files by file name.
fn outputs(manifest: &Manifest) -> (String, String, Vec<(String, String)>) {
    let out = Generator::new(manifest.clone())
        .rust("router.rs")
        .typescript("ts")
        .schema("schema")
        .output()
        .unwrap();
    let file = |path: &str| {
        out.files
            .iter()
            .find(|f| f.path == Path::new(path))
            .map(|f| f.contents.clone())
            .unwrap()
    };
    let schemas = out
        .files
        .iter()
        .filter_map(|f| {
            let name = f.path.strip_prefix("schema").ok()?;
            Some((name.to_string_lossy().into_owned(), f.contents.clone()))
        })
        .collect();
    (file("ts/protocol.ts"), file("router.rs"), schemas)
}

#[test]
fn docs_and_names_survive_in_every_output() {
    let manifest = Hostile::manifest().unwrap();
    let (ts, rust, schemas) = outputs(&manifest);
    // In TSDoc `*/` must become `*\/`; everything else is verbatim.
    assert!(
        ts.contains(&OBJECT_DOC_LINE.replace("*/", "*\\/")),
        "doc line missing from protocol.ts"
    );
    assert!(ts.contains("{# a comment #}, ${interpolation}, \"quotes\", 'apostrophes', a back\\slash and <b>tags</b>."));
    assert!(ts.contains("Non-ASCII: Größe, naïve, 日本語, emoji 🦀."));
    assert!(
        !ts.contains("early */"),
        "an unescaped */ would end the comment"
    );
    assert!(ts.contains("/** The hostile protocol: *\\/ {{ }} `ticks`. */"));
    for key in [
        "\"with-dash\": number;",
        "\"123start\": boolean;",
        "__proto__?: string | null;",
        "\"a\\\"b\\\\c\": boolean;",
        "\"\": number;",
        "\"a/b~c\": string;",
        "größeCm: number;",
    ] {
        assert!(ts.contains(key), "missing property {key}");
    }
    for decl in [
        "export interface delete_ {",
        "export interface await_ {",
        "export const Meta: $MessageDescriptor<\"META\", \"client\", undefined>",
        "export type Größe = Groesse;",
        "export const Größe: $MessageDescriptor<\"GRÖSSE\", \"server\", Größe>",
        "export const Object: $MessageDescriptor<\"weird/type with space\", \"client\", Object>",
    ] {
        assert!(ts.contains(decl), "missing {decl}");
    }

    assert!(
        rust.contains(&format!("    /// {OBJECT_DOC_LINE}")),
        "{rust}"
    );
    assert!(rust.contains("    /// Non-ASCII: Größe, naïve, 日本語, emoji 🦀."));
    assert!(rust.contains("fn type_("));
    assert!(rust.contains("fn on_open_message("));
    assert!(rust.contains("payload: ::twinwire_corpus::hostile::delete,"));
    assert!(!rust.contains("fn größe"), "server messages get no handler");

    let bundle: Value = serde_json::from_str(
        &schemas
            .iter()
            .find(|(n, _)| n == "protocol.schema.json")
            .unwrap()
            .1,
    )
    .unwrap();
    assert!(
        bundle["$defs"]["Object"]["description"]
            .as_str()
            .unwrap()
            .starts_with(OBJECT_DOC_LINE)
    );
    let names: Vec<&str> = schemas.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"weird_type_with_space-a8d85bfcc1b070f3.schema.json"),
        "{names:?}"
    );
    assert!(
        names.iter().all(|n| n.len() <= 120 && n.is_ascii()),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.starts_with("GR_SSE-")), "{names:?}");
}

/// A manifest with a non-ASCII definition name, referenced the way schemars writes it
/// (percent-encoded in the URI fragment).
fn non_ascii_manifest() -> Manifest {
    let mut manifest = Hostile::manifest().unwrap();
    let def = manifest.defs.remove("Groesse").unwrap();
    manifest.defs.insert("Größe".to_owned(), def);
    for m in &mut manifest.messages {
        if m.payload == Some(json!({"$ref": "#/$defs/Groesse"})) {
            m.payload = Some(json!({"$ref": "#/$defs/Gr%C3%B6%C3%9Fe"}));
        }
    }
    manifest
}

#[test]
fn non_ascii_definition_names_compile_and_resolve() {
    let manifest = non_ascii_manifest();
    let work = support::work_dir("non-ascii");
    let dir = work.path();
    Generator::new(manifest.clone())
        .typescript(dir.join("gen"))
        .schema(dir.join("schema"))
        .write()
        .unwrap();
    let ts = std::fs::read_to_string(dir.join("gen/protocol.ts")).unwrap();
    assert!(
        ts.contains("export interface Größe {"),
        "the message's payload is the definition itself"
    );
    let bundle = std::fs::read_to_string(dir.join("schema/protocol.schema.json")).unwrap();
    assert!(bundle.contains("\"Größe\": {"));
    assert!(bundle.contains("\"$ref\": \"#/$defs/Gr%C3%B6%C3%9Fe\""));
    let Some(npm) = support::npm_tooling() else {
        return;
    };
    std::fs::write(
        dir.join("tsconfig.json"),
        support::tsconfig(&["gen/protocol.ts", "gen/twinwire-client.ts"], None).to_string(),
    )
    .unwrap();
    support::run_tsc(&npm, &dir.join("tsconfig.json")).unwrap();
}

/// The facade's types come from the descriptors: clients send only client messages, listen
/// only to server messages, and `request` resolves with the response's payload.
#[test]
fn the_chat_facade_enforces_directions_and_payloads() {
    let Some(npm) = support::npm_tooling() else {
        return;
    };
    let work = support::work_dir("facade");
    let dir = work.path();
    Generator::new(chat_protocol::Chat::manifest().unwrap())
        .typescript(dir.join("gen"))
        .write()
        .unwrap();
    let usage = r#"import {
  AuthSuccess, Calculate, ChatMessage, GetMessages, JoinRoom, SendMessage, createChatClient,
  type ClientEnvelope, type Messages, type RpcMap, type ServerEnvelope,
} from "./protocol.js";

const client = createChatClient({ url: "ws://127.0.0.1:1/" });
client.send(JoinRoom, { roomId: "general" });
client.send(SendMessage, { roomId: "general", text: "hi" });
// @ts-expect-error -- a server message cannot be sent
client.send(AuthSuccess, { userId: "u", userName: "n" });
// @ts-expect-error -- the payload must match the message
client.send(JoinRoom, { room: "general" });
// @ts-expect-error -- an RPC request goes through `request`
client.send(GetMessages, { roomId: "general" });
client.on(ChatMessage, (message) => {
  const text: string = message.text;
  const at: number = message.timestamp;
  void [text, at];
});
// @ts-expect-error -- a client message cannot be listened to
client.on(JoinRoom, () => {});
export async function history(): Promise<Messages> {
  const result = await client.request(Calculate, { operation: "add", a: 1, b: 2 });
  const sum: number = result.result;
  void sum;
  // @ts-expect-error -- unknown operation
  await client.request(Calculate, { operation: "divide", a: 1, b: 2 });
  return client.request(GetMessages, { roomId: "general", limit: 5 });
}
const frame: ClientEnvelope = { type: "JOIN_ROOM", payload: { roomId: "r" } };
// @ts-expect-error -- the payload belongs to another type
const wrong: ServerEnvelope = { type: "USER_LEFT", payload: { roomId: "r" } };
type Calc = RpcMap["CALCULATE"]["response"];
const calc: Calc = { result: 1 };
void [frame, wrong, calc];
"#;
    std::fs::write(dir.join("gen/usage.ts"), usage).unwrap();
    std::fs::write(
        dir.join("tsconfig.json"),
        support::tsconfig(
            &["gen/protocol.ts", "gen/twinwire-client.ts", "gen/usage.ts"],
            None,
        )
        .to_string(),
    )
    .unwrap();
    support::run_tsc(&npm, &dir.join("tsconfig.json")).unwrap();
}
