//! The fuzz targets' bodies. Each panics on a broken invariant; libFuzzer reports the
//! panic as a crash with the input that caused it.

use std::fmt::Debug;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_tungstenite::tungstenite::{Bytes, Message as WsMessage};
use twinwire::{Manifest, Validate};
use twinwire_codegen::Generator;

use chat_protocol::{
    Attachment, AuthSuccess, Authenticate, Calculate, CalculateResult, ChatMessage, GetMessages,
    JoinRoom, LeaveRoom, Messages, Operation, RoomInfo, RoomList, SendMessage, TypingStart,
    TypingStop, UserJoined, UserLeft, UserTyping,
};

use crate::framing::{self, Ending};
use crate::harness::{End, Harness, Incoming, MARKER_PREFIX, MAX_FRAME};
use crate::oracle;

/// At most this many frames per `dispatch` input.
const MAX_FRAMES: usize = 16;

/// Separates frames in a `dispatch` input; never part of UTF-8 text.
const FRAME_SEPARATOR: u8 = 0xFF;

/// Starts a `dispatch` frame that is sent as a binary message; never part of UTF-8 text.
const BINARY_MARK: u8 = 0xFE;

/// Close code for a message over the size limit.
const TOO_BIG: u16 = 1009;

/// Close code for a binary message that is not UTF-8.
const NOT_UTF8: u16 = 1007;

/// One frame (UTF-8 text up to [`MAX_FRAME`] bytes) sent to the in-process server must get
/// exactly the answer [`oracle::expect`] works out from the documented rules, and a marker
/// request sent after it must be answered.
pub fn envelope(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Larger frames close the connection; `dispatch` covers them.
    if text.len() > MAX_FRAME || text.contains(MARKER_PREFIX) {
        return;
    }
    let expected = oracle::expect(text);
    if expected
        .correlation()
        .is_some_and(|id| id.starts_with(MARKER_PREFIX))
    {
        return;
    }
    Harness::with(|harness| {
        let marker = harness.marker();
        harness.send(vec![WsMessage::text(text), marker.message()]);
        let (min, max) = expected.answers();
        let answers = harness.answers_until(&marker, min, max);
        expected.check(text, &answers);
    });
}

/// Up to [`MAX_FRAMES`] frames (split at byte 0xFF; one starting with 0xFE goes as a binary
/// message, as does one that is not UTF-8), then a marker request. Every answer must be well
/// formed and the marker answered; the connection may only close as documented: 1009 for a
/// message over the size limit, 1007 for a binary one that is not UTF-8, and then a new
/// connection must be served.
pub fn dispatch(data: &[u8]) {
    if contains(data, MARKER_PREFIX.as_bytes()) || names_a_marker(data) {
        return;
    }
    let mut messages = Vec::new();
    let mut close = None;
    for chunk in data.split(|b| *b == FRAME_SEPARATOR).take(MAX_FRAMES) {
        let (message, bytes) = match chunk.split_first() {
            Some((&BINARY_MARK, rest)) => (WsMessage::Binary(Bytes::copy_from_slice(rest)), rest),
            _ => match std::str::from_utf8(chunk) {
                Ok(text) => (WsMessage::text(text), chunk),
                Err(_) => (WsMessage::Binary(Bytes::copy_from_slice(chunk)), chunk),
            },
        };
        messages.push(message);
        // Nothing after a closing message is read, so nothing after it is sent.
        if bytes.len() > MAX_FRAME {
            close = Some(TOO_BIG);
            break;
        }
        if std::str::from_utf8(bytes).is_err() {
            close = Some(NOT_UTF8);
            break;
        }
    }
    Harness::with(|harness| {
        let marker = harness.marker();
        if let Some(code) = close {
            harness.send(messages);
            loop {
                match harness.recv() {
                    Incoming::Frame(_) => {}
                    Incoming::Closed(closed) => {
                        assert_eq!(closed, Some(code), "closed with the wrong code");
                        break;
                    }
                }
            }
            harness.disconnect();
            harness.send(vec![marker.message()]);
        } else {
            messages.push(marker.message());
            harness.send(messages);
        }
        harness.answers_until(&marker, 0, usize::MAX);
    });
}

/// Raw bytes written to the server after the upgrade: `data[0]` and `data[1]` are the sizes
/// of the writes the rest is cut into, taken in turn (0: all that is left at once). The
/// server must do what [`framing::read`] works out from RFC 6455 and the documented close
/// codes:
///
/// - keep serving: every data message answered (as many answers as [`oracle::expect`]
///   allows), every ping ponged with its payload, and a marker request written after the
///   bytes that finish the last frame and message (see [`framing::Reading::completion`])
///   answered;
/// - or close with one of the codes of the rule broken (1002, 1007, 1009), after at most the
///   answers of the messages before it, then end the stream;
/// - or, after the client's close frame, echo its code and end the stream.
///
/// Every frame the server sends must be valid server framing (see [`RawClient`]), its text
/// well-formed JSON (see [`crate::harness::check_well_formed`]), and nothing may follow a
/// close frame.
///
/// [`RawClient`]: crate::raw::RawClient
pub fn websocket(data: &[u8]) {
    let [first, second, input @ ..] = data else {
        return;
    };
    let reading = framing::read(input, MAX_FRAME);
    let (mut min, mut max) = (0, 0);
    for text in &reading.messages {
        if text.contains(MARKER_PREFIX) {
            return;
        }
        let expected = oracle::expect(text);
        if expected
            .correlation()
            .is_some_and(|id| id.starts_with(MARKER_PREFIX))
        {
            return;
        }
        let (at_least, at_most) = expected.answers();
        min += at_least;
        max += at_most;
    }
    Harness::with(|harness| {
        let mut writes = cut(input, [*first, *second]);
        let marker = harness.marker();
        let serving = reading.ending == Ending::Serving;
        let mut last = reading.completion.clone();
        if serving {
            last.extend(framing::client_frame(
                true,
                framing::opcode::TEXT,
                [0x3C, 0x99, 0x01, 0xE7],
                marker.text().as_bytes(),
            ));
        }
        if !last.is_empty() {
            writes.push(&last);
        }
        let exchange = harness.raw_exchange(&writes, serving.then_some(&marker));
        let answers = exchange.answers.len();
        match &reading.ending {
            Ending::Serving => {
                assert_eq!(
                    exchange.end,
                    End::Answered,
                    "the server stopped serving after {:?}",
                    exchange.answers
                );
                assert!(
                    (min..=max).contains(&answers),
                    "{answers} answers to {} messages ({min} to {max} expected): {:?}",
                    reading.messages.len(),
                    exchange.answers
                );
            }
            Ending::Refused(codes) => {
                assert!(
                    matches!(exchange.end, End::Closed(Some(code)) if codes.contains(&code)),
                    "expected a close with one of {codes:?}, got {:?}",
                    exchange.end
                );
                assert!(answers <= max, "{answers} answers, at most {max} expected");
            }
            Ending::ClientClosed(code) => {
                assert_eq!(
                    exchange.end,
                    End::Closed(*code),
                    "the client's close frame was not echoed"
                );
                assert!(answers <= max, "{answers} answers, at most {max} expected");
            }
        }
        check_pongs(&reading.pings, &exchange.pongs);
    });
}

/// `input` cut into writes of `sizes[0]`, `sizes[1]`, `sizes[0]`… bytes (0: the rest).
fn cut(input: &[u8], sizes: [u8; 2]) -> Vec<&[u8]> {
    let mut writes = Vec::new();
    let mut rest = input;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let size = match usize::from(*size) {
            0 => rest.len(),
            size => size.min(rest.len()),
        };
        let (write, after) = rest.split_at(size);
        writes.push(write);
        rest = after;
    }
    writes
}

/// Every pong answers a ping read before the end, with its payload, in order; pings may go
/// unanswered only when a later one is answered (RFC 6455, section 5.5.3), so the last one
/// must be.
fn check_pongs(pings: &[Vec<u8>], pongs: &[Vec<u8>]) {
    let mut unanswered = pings.iter();
    for pong in pongs {
        assert!(
            unanswered.any(|ping| ping == pong),
            "a pong {pong:02X?} that answers no ping of {pings:02X?} (pongs {pongs:02X?})"
        );
    }
    assert!(
        unanswered.next().is_none(),
        "the last ping went unanswered: pings {pings:02X?}, pongs {pongs:02X?}"
    );
}

/// Whether a frame in `data` names a correlation id of the marker's form behind escapes.
fn names_a_marker(data: &[u8]) -> bool {
    data.split(|b| *b == FRAME_SEPARATOR).any(|chunk| {
        let text = chunk.strip_prefix(&[BINARY_MARK]).unwrap_or(chunk);
        std::str::from_utf8(text).is_ok_and(|text| {
            text.contains('\\')
                && oracle::expect(text)
                    .correlation()
                    .is_some_and(|id| id.starts_with(MARKER_PREFIX))
        })
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// JSON text into every payload type of the chat protocol. Whatever decodes must encode,
/// decode again to an equal value, and keep its validation verdict and issues; every issue
/// must point at a value present in the encoded payload.
pub fn chat_payloads(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    round_trip::<Authenticate>(text);
    round_trip::<AuthSuccess>(text);
    round_trip::<JoinRoom>(text);
    round_trip::<LeaveRoom>(text);
    round_trip::<UserJoined>(text);
    round_trip::<UserLeft>(text);
    round_trip::<RoomInfo>(text);
    round_trip::<RoomList>(text);
    round_trip::<Attachment>(text);
    round_trip::<SendMessage>(text);
    round_trip::<ChatMessage>(text);
    round_trip::<TypingStart>(text);
    round_trip::<TypingStop>(text);
    round_trip::<UserTyping>(text);
    round_trip::<GetMessages>(text);
    round_trip::<Messages>(text);
    round_trip::<Operation>(text);
    round_trip::<Calculate>(text);
    round_trip::<CalculateResult>(text);
}

fn round_trip<T>(text: &str)
where
    T: DeserializeOwned + Serialize + Validate + PartialEq + Debug,
{
    let Ok(value) = serde_json::from_str::<T>(text) else {
        return;
    };
    let name = std::any::type_name::<T>();
    let verdict = value.validate().map_err(|e| e.into_issues());
    let encoded = serde_json::to_string(&value)
        .unwrap_or_else(|e| panic!("{name}: {value:?} does not encode: {e}"));
    let again: T = serde_json::from_str(&encoded)
        .unwrap_or_else(|e| panic!("{name}: its own encoding {encoded} does not decode: {e}"));
    assert_eq!(
        again, value,
        "{name}: changed by a round trip through {encoded}"
    );
    assert_eq!(
        again.validate().map_err(|e| e.into_issues()),
        verdict,
        "{name}: validation changed by a round trip through {encoded}"
    );
    if let Err(issues) = verdict {
        let tree: serde_json::Value = serde_json::from_str(&encoded)
            .unwrap_or_else(|e| panic!("{name}: {encoded} is not JSON: {e}"));
        for issue in issues {
            assert!(
                tree.pointer(&issue.path).is_some(),
                "{name}: issue {issue:?} points at nothing in {encoded}"
            );
        }
    }
}

/// The largest manifest [`manifest_codegen`] reads. Every valid input is read twice and
/// rendered twice, so large ones slow the fuzzer down in proportion, without reaching code
/// that small ones do not: the chat example's manifest fits, and the test corpus's is seeded
/// in parts (see [`crate::seeds::manifest_parts`]).
pub const MAX_MANIFEST: usize = 16 * 1024;

/// A manifest (up to [`MAX_MANIFEST`] bytes) read from JSON, then every output rendered in
/// memory: errors are fine, panics are not. A manifest that reads writes back to JSON that
/// reads as the same manifest, every rendered file lands inside the folder chosen for its
/// output, and a second rendering is the same.
pub fn manifest_codegen(data: &[u8]) {
    if data.len() > MAX_MANIFEST {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(manifest) = Manifest::from_json(text) else {
        return;
    };
    let written = manifest.to_pretty_json();
    let again = Manifest::from_json(&written)
        .unwrap_or_else(|e| panic!("a manifest's own JSON does not read back: {e}\n{written}"));
    assert_eq!(again, manifest, "a manifest changed by its JSON round trip");

    let (rust, ts, schema) = ("out/router.rs", "out/ts", "out/schema");
    let generator = Generator::new(manifest)
        .rust(rust)
        .typescript(ts)
        .schema(schema);
    let Ok(output) = generator.output() else {
        return;
    };
    for file in &output.files {
        let path = file.path.as_path();
        let inside = path == Path::new(rust)
            || [ts, schema].iter().any(|dir| {
                path.parent() == Some(Path::new(dir))
                    && path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n != "." && n != ".." && !n.contains(['/', '\\']))
            });
        assert!(inside, "a generated file outside its folder: {path:?}");
        assert!(
            !file.contents.is_empty(),
            "an empty generated file: {path:?}"
        );
    }
    let twice = generator
        .output()
        .unwrap_or_else(|e| panic!("a second rendering failed: {e}"));
    assert_eq!(twice, output, "rendering is not deterministic");
}
