//! The `websocket` target's seeds, built here so that each says what it is: valid framing
//! (cut into writes in several ways), one input per rule a client can break, close frames,
//! and streams that stop inside a frame. `cargo run --example write_seeds` writes them to
//! `seeds/websocket/`; a test checks that the committed files are current and that
//! [`framing::read`] gives each the ending it was built for.

use std::collections::BTreeSet;

use crate::framing::{self, Ending, client_frame, close_payload, opcode};

/// One seed: its file name (without `.bin`), its bytes, and how the server must end up.
#[derive(Debug)]
pub struct Seed {
    /// File name, without extension.
    pub name: &'static str,
    /// The input: two write sizes, then the client's bytes.
    pub bytes: Vec<u8>,
    /// What the seed was built to reach.
    pub ending: Ending,
}

const MASK: [u8; 4] = [0x12, 0x9B, 0xE4, 0x3F];

fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    client_frame(true, opcode, MASK, payload)
}

fn fragment(opcode: u8, payload: &[u8]) -> Vec<u8> {
    client_frame(false, opcode, MASK, payload)
}

fn text(payload: &str) -> Vec<u8> {
    frame(opcode::TEXT, payload.as_bytes())
}

/// `frames` cut into writes of `sizes` (see [`crate::websocket`]).
fn seed(name: &'static str, sizes: [u8; 2], frames: &[Vec<u8>], ending: Ending) -> Seed {
    let mut bytes = sizes.to_vec();
    for frame in frames {
        bytes.extend_from_slice(frame);
    }
    Seed {
        name,
        bytes,
        ending,
    }
}

fn refused(code: u16) -> Ending {
    Ending::Refused(BTreeSet::from([code]))
}

/// A frame with one header byte changed.
fn altered(mut frame: Vec<u8>, index: usize, xor: u8) -> Vec<u8> {
    frame[index] ^= xor;
    frame
}

/// Every seed of the `websocket` target.
pub fn websocket() -> Vec<Seed> {
    let poke = text(r#"{"type":"POKE"}"#);
    let calculate = text(
        r#"{"type":"CALCULATE","meta":{"correlationId":"c1"},"payload":{"operation":"add","a":1,"b":2}}"#,
    );
    // A room no other target's seed joins: `cargo test` replays the targets side by side
    // on one server, where a publish reaches every connection in the room.
    let binary_join = frame(
        opcode::BINARY,
        br#"{"type":"JOIN_ROOM","payload":{"roomId":"raw-websocket"}}"#,
    );
    // Over 125 bytes, so its length takes 16 bits.
    let long_message = text(&format!(
        r#"{{"type":"SEND_MESSAGE","payload":{{"roomId":"r","text":"{}"}}}}"#,
        "\u{e9}t\u{e9} \u{1F389} ".repeat(12)
    ));
    let mixed = vec![
        poke.clone(),
        frame(opcode::PING, b"ping"),
        calculate.clone(),
        binary_join,
        frame(opcode::PONG, b""),
        long_message.clone(),
    ];
    let fragmented = vec![
        fragment(
            opcode::TEXT,
            br#"{"type":"SEND_MESSAGE","payload":{"roomId":"r","#,
        ),
        frame(opcode::PING, b"between"),
        fragment(opcode::CONTINUATION, "\"text\":\"\u{20ac}".as_bytes()),
        frame(opcode::PONG, b"unsolicited"),
        // The euro sign's last bytes in a fragment of their own.
        fragment(opcode::CONTINUATION, &"\u{20ac}".as_bytes()[..1]),
        frame(opcode::PING, b""),
        client_frame(
            true,
            opcode::CONTINUATION,
            MASK,
            &"\u{20ac}\"}}".as_bytes()[1..],
        ),
        poke.clone(),
    ];
    let ping_125 = frame(opcode::PING, &[0xAB; 125]);
    let mut over_limit = client_frame(true, opcode::TEXT, MASK, &[b' '; 3000]);
    over_limit.truncate(600);
    let mut length_msb = vec![0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 5];
    length_msb.extend_from_slice(&MASK);
    // Five bytes in a 16-bit length: not minimal, which RFC 6455 asks of senders only.
    let mut long_form = vec![0x81, 0xFE, 0x00, 0x05];
    long_form.extend_from_slice(&MASK);
    long_form.extend(
        b"{\"a\"}"
            .iter()
            .zip(MASK.iter().cycle())
            .map(|(b, k)| b ^ k),
    );
    let euro = "\u{20ac}".as_bytes();
    let long_length_ping = [&[0x89, 0xFE, 0, 5][..], &MASK, b"hello"].concat();
    let long_length_close = [&[0x88, 0xFE, 0, 0][..], &MASK].concat();

    vec![
        // Valid framing, cut into writes in several ways.
        seed(
            "one_text",
            [0, 0],
            std::slice::from_ref(&poke),
            Ending::Serving,
        ),
        seed("mixed_one_write", [0, 0], &mixed, Ending::Serving),
        seed("mixed_byte_by_byte", [1, 1], &mixed, Ending::Serving),
        seed("mixed_odd_cuts", [3, 7], &mixed, Ending::Serving),
        seed(
            "fragmented_with_pings",
            [0, 0],
            &fragmented,
            Ending::Serving,
        ),
        seed("fragmented_cut", [2, 9], &fragmented, Ending::Serving),
        seed(
            "fragmented_binary",
            [0, 0],
            &[
                fragment(opcode::BINARY, br#"{"type":"#),
                client_frame(true, opcode::CONTINUATION, MASK, br#""POKE"}"#),
            ],
            Ending::Serving,
        ),
        seed(
            "ping_125",
            [64, 0],
            std::slice::from_ref(&ping_125),
            Ending::Serving,
        ),
        seed("long_form_length", [0, 0], &[long_form], Ending::Serving),
        seed(
            "empty_messages",
            [0, 0],
            &[text(""), frame(opcode::BINARY, b""), text(""), poke.clone()],
            Ending::Serving,
        ),
        // Streams that stop inside a frame or a message: the harness finishes them.
        seed(
            "cut_in_header",
            [0, 0],
            &[poke.clone(), long_message[..3].to_vec()],
            Ending::Serving,
        ),
        seed(
            "cut_in_payload",
            [0, 0],
            &[calculate[..40].to_vec()],
            Ending::Serving,
        ),
        seed(
            "cut_in_ping",
            [0, 0],
            &[ping_125[..50].to_vec()],
            Ending::Serving,
        ),
        seed(
            "open_message",
            [0, 0],
            &[fragment(opcode::TEXT, br#"{"type":"PO"#)],
            Ending::Serving,
        ),
        // A broken frame cut short: the harness finishes its header (and short payload).
        seed(
            "cut_in_broken_header",
            [0, 0],
            &[vec![0x00, 0x83, 0x81, 0x12]],
            refused(1002),
        ),
        seed(
            "cut_in_over_limit_header",
            [0, 0],
            &[vec![0x82, 0xFE, 0x10]],
            refused(1009),
        ),
        // One broken rule each.
        seed(
            "rsv1",
            [0, 0],
            &[poke.clone(), altered(poke.clone(), 0, 0x40)],
            refused(1002),
        ),
        seed(
            "rsv2",
            [0, 0],
            &[altered(poke.clone(), 0, 0x20)],
            refused(1002),
        ),
        seed(
            "rsv3_on_ping",
            [0, 0],
            &[altered(frame(opcode::PING, b""), 0, 0x10)],
            refused(1002),
        ),
        seed(
            "reserved_data_opcode",
            [0, 0],
            &[frame(0x3, b"x")],
            refused(1002),
        ),
        seed(
            "reserved_control_opcode",
            [0, 0],
            &[frame(0xB, b"")],
            refused(1002),
        ),
        seed(
            "unmasked",
            [0, 0],
            &[vec![0x81, 0x02, b'{', b'}']],
            refused(1002),
        ),
        seed(
            "ping_too_long",
            [0, 0],
            &[frame(opcode::PING, &[0; 126])],
            refused(1002),
        ),
        seed(
            "close_too_long",
            [1, 1],
            &[frame(opcode::CLOSE, &close_payload(1000, &[b'x'; 124]))],
            refused(1002),
        ),
        // Short control frames with a 16-bit length, whole and cut after the length byte:
        // refused either way (a server once accepted them only when whole).
        seed(
            "control_long_length_whole",
            [0, 0],
            std::slice::from_ref(&long_length_ping),
            refused(1002),
        ),
        seed(
            "control_long_length_split",
            [2, 0],
            &[long_length_ping],
            refused(1002),
        ),
        seed(
            "close_long_length_whole",
            [0, 0],
            std::slice::from_ref(&long_length_close),
            refused(1002),
        ),
        seed(
            "close_long_length_split",
            [1, 1],
            &[long_length_close],
            refused(1002),
        ),
        seed(
            "ping_fragmented",
            [0, 0],
            &[fragment(opcode::PING, b"p")],
            refused(1002),
        ),
        seed(
            "continuation_first",
            [0, 0],
            &[frame(opcode::CONTINUATION, b"{}")],
            refused(1002),
        ),
        seed(
            "new_message_inside_fragmented",
            [0, 0],
            &[fragment(opcode::TEXT, b"{"), text("}")],
            refused(1002),
        ),
        // The length is also over the limit: either code is right.
        seed(
            "length_msb",
            [0, 0],
            &[length_msb],
            Ending::Refused(BTreeSet::from([1002, 1009])),
        ),
        seed(
            "invalid_utf8",
            [0, 0],
            &[
                poke.clone(),
                frame(opcode::TEXT, b"{\"type\":\"\xC0\xAF\"}"),
            ],
            refused(1007),
        ),
        seed(
            "invalid_utf8_surrogate",
            [0, 0],
            &[frame(opcode::TEXT, b"\xED\xA0\x80")],
            refused(1007),
        ),
        seed(
            "invalid_utf8_in_first_fragment",
            [0, 0],
            &[fragment(opcode::TEXT, b"ok\xFF")],
            refused(1007),
        ),
        seed(
            "invalid_utf8_across_fragments",
            [0, 0],
            &[
                fragment(opcode::TEXT, &[b'o', b'k', euro[0], euro[1]]),
                client_frame(true, opcode::CONTINUATION, MASK, b"("),
            ],
            refused(1007),
        ),
        seed(
            "character_cut_at_end",
            [0, 0],
            &[
                fragment(opcode::TEXT, &euro[..2]),
                client_frame(true, opcode::CONTINUATION, MASK, b""),
            ],
            refused(1007),
        ),
        seed(
            "binary_not_utf8",
            [0, 0],
            &[frame(opcode::BINARY, b"\xFE\xFF")],
            refused(1007),
        ),
        seed("over_limit", [0, 0], &[over_limit], refused(1009)),
        seed(
            "over_limit_fragmented",
            [0, 0],
            &[
                fragment(opcode::TEXT, &[b' '; 1500]),
                frame(opcode::PING, b""),
                client_frame(true, opcode::CONTINUATION, MASK, &[b' '; 600]),
            ],
            refused(1009),
        ),
        // Close frames.
        seed(
            "close_normal",
            [0, 0],
            &[
                poke.clone(),
                frame(opcode::CLOSE, &close_payload(1000, b"bye")),
                poke.clone(),
            ],
            Ending::ClientClosed(Some(1000)),
        ),
        seed(
            "close_without_code",
            [0, 0],
            &[frame(opcode::CLOSE, b"")],
            Ending::ClientClosed(None),
        ),
        seed(
            "close_application_code",
            [4, 4],
            &[frame(
                opcode::CLOSE,
                &close_payload(4321, "\u{e9}".as_bytes()),
            )],
            Ending::ClientClosed(Some(4321)),
        ),
        seed(
            "close_inside_fragmented",
            [0, 0],
            &[
                fragment(opcode::TEXT, b"{"),
                frame(opcode::CLOSE, &close_payload(1001, b"")),
            ],
            Ending::ClientClosed(Some(1001)),
        ),
        seed(
            "close_one_byte",
            [0, 0],
            &[frame(opcode::CLOSE, &[3])],
            refused(1002),
        ),
        seed(
            "close_code_999",
            [0, 0],
            &[frame(opcode::CLOSE, &close_payload(999, b""))],
            refused(1002),
        ),
        seed(
            "close_code_1005",
            [0, 0],
            &[frame(opcode::CLOSE, &close_payload(1005, b""))],
            refused(1002),
        ),
        seed(
            "close_code_1015",
            [0, 0],
            &[frame(opcode::CLOSE, &close_payload(1015, b""))],
            refused(1002),
        ),
        seed(
            "close_code_5000",
            [0, 0],
            &[frame(opcode::CLOSE, &close_payload(5000, b""))],
            refused(1002),
        ),
        seed(
            "close_reason_not_utf8",
            [0, 0],
            &[frame(opcode::CLOSE, &close_payload(1000, b"\xFF"))],
            refused(1007),
        ),
    ]
}

/// The model's ending for a seed's bytes.
pub fn ending_of(bytes: &[u8]) -> Ending {
    framing::read(
        bytes.get(2..).unwrap_or_default(),
        crate::harness::MAX_FRAME,
    )
    .ending
}

/// The largest manifest `manifest_codegen` reads (see [`crate::manifest_codegen`]).
pub use crate::targets::MAX_MANIFEST;

/// The manifest `text` cut into manifests of at most `max_len` bytes (minified), so that a
/// manifest too large for [`MAX_MANIFEST`] still seeds every shape it holds: each part keeps
/// the manifest's other fields, a run of its messages (an RPC's request and response stay
/// together), the RPCs among them, and the definitions their payloads reach.
///
/// # Errors
/// `text` is not a manifest's JSON, or one message (or RPC pair) with its definitions alone
/// is over `max_len`.
pub fn manifest_parts(text: &str, max_len: usize) -> Result<Vec<String>, String> {
    use serde_json::{Map, Value};

    let manifest: Map<String, Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
    let list = |key: &str| {
        manifest
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (messages, rpcs) = (list("messages"), list("rpcs"));
    let defs = manifest
        .get("defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let wire_type = |m: &Value| m["type"].as_str().unwrap_or_default().to_owned();

    // Units of messages that must stay together: an RPC's request and response.
    let mut units: Vec<Vec<Value>> = Vec::new();
    let mut placed = BTreeSet::new();
    for rpc in &rpcs {
        let pair: Vec<Value> = messages
            .iter()
            .filter(|m| wire_type(m) == rpc["request"] || wire_type(m) == rpc["response"])
            .cloned()
            .collect();
        placed.extend(pair.iter().map(wire_type));
        units.push(pair);
    }
    for message in &messages {
        if !placed.contains(&wire_type(message)) {
            units.push(vec![message.clone()]);
        }
    }

    let part = |messages: &[Value]| -> String {
        let types: BTreeSet<String> = messages.iter().map(wire_type).collect();
        let mut reached = Map::new();
        let mut pending: Vec<String> = Vec::new();
        for message in messages {
            collect_refs(message, &mut pending);
        }
        while let Some(name) = pending.pop() {
            if reached.contains_key(&name) {
                continue;
            }
            if let Some(schema) = defs.get(&name) {
                collect_refs(schema, &mut pending);
                reached.insert(name, schema.clone());
            }
        }
        let mut out = manifest.clone();
        out.insert("messages".to_owned(), Value::Array(messages.to_vec()));
        let kept = rpcs
            .iter()
            .filter(|r| {
                [&r["request"], &r["response"]]
                    .iter()
                    .all(|t| t.as_str().is_some_and(|t| types.contains(t)))
            })
            .cloned()
            .collect();
        out.insert("rpcs".to_owned(), Value::Array(kept));
        out.insert("defs".to_owned(), Value::Object(reached));
        Value::Object(out).to_string()
    };

    let mut parts = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    for unit in units {
        let mut grown = current.clone();
        grown.extend(unit.iter().cloned());
        if part(&grown).len() <= max_len {
            current = grown;
            continue;
        }
        if current.is_empty() {
            return Err(format!(
                "{:?} alone is over {max_len} bytes",
                unit.iter().map(wire_type).collect::<Vec<_>>()
            ));
        }
        parts.push(part(&current));
        current = unit;
        if part(&current).len() > max_len {
            return Err(format!(
                "{:?} alone is over {max_len} bytes",
                current.iter().map(wire_type).collect::<Vec<_>>()
            ));
        }
    }
    if !current.is_empty() {
        parts.push(part(&current));
    }
    Ok(parts)
}

/// The definition names every `$ref` in `value` points to.
fn collect_refs(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                if key == "$ref"
                    && let Some(name) = item.as_str().and_then(twinwire::manifest::ref_target)
                {
                    into.push(name);
                }
                collect_refs(item, into);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect_refs(item, into);
            }
        }
        _ => {}
    }
}
