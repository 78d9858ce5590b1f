//! RFC 6455 framing as the fuzz harness reads it, written from the RFC and
//! `docs/wire-protocol.md` ("Close codes") rather than from the runtime's decoder: what a
//! server must do with the bytes a client sends after the upgrade, and the client frames the
//! `websocket` target's seeds are built from.
//!
//! [`read`] walks a client's byte stream frame by frame. Where the stream stops inside a
//! frame or a fragmented message, it works out the bytes that finish them (a header's missing
//! bytes, a payload of spaces, a final empty continuation), so that the server, given them,
//! must reach a verdict instead of waiting for more.

use std::collections::BTreeSet;

/// Frame opcodes (RFC 6455, section 5.2).
pub mod opcode {
    /// Continues a fragmented message.
    pub const CONTINUATION: u8 = 0x0;
    /// Starts a text message.
    pub const TEXT: u8 = 0x1;
    /// Starts a binary message.
    pub const BINARY: u8 = 0x2;
    /// Closes the connection.
    pub const CLOSE: u8 = 0x8;
    /// Asks for a pong.
    pub const PING: u8 = 0x9;
    /// Answers a ping.
    pub const PONG: u8 = 0xA;
}

/// The largest payload of a control frame (RFC 6455, section 5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Close code: the peer broke the protocol.
pub const PROTOCOL_ERROR: u16 = 1002;
/// Close code: a message's data is not what its type says (text that is not UTF-8).
pub const INVALID_PAYLOAD: u16 = 1007;
/// Close code: a message over the receiver's limit.
pub const MESSAGE_TOO_BIG: u16 = 1009;

/// How the server must end up after reading a client's stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every frame is acceptable and the stream ends outside any message: the server keeps
    /// serving, and answers a request sent next.
    Serving,
    /// The stream breaks a rule: the server closes with one of these codes (a frame can
    /// break several rules at once, and the RFC does not rank them).
    Refused(BTreeSet<u16>),
    /// The client sent a valid close frame: the server echoes its code (none when it had
    /// none) and closes.
    ClientClosed(Option<u16>),
}

/// What the server reads from a client's stream, up to its [`Ending`].
#[derive(Debug)]
pub struct Reading {
    /// Where the server ends up.
    pub ending: Ending,
    /// Bytes to send after the stream so that its last frame and message are whole (empty
    /// when they already are).
    pub completion: Vec<u8>,
    /// The data messages served before the ending, in order. A binary message is served as
    /// text when it is UTF-8 and closes the connection otherwise, so every one is a string.
    pub messages: Vec<String>,
    /// The payloads of the pings read before the ending, in order: each must be answered by
    /// a pong with the same payload (or, as RFC 6455 allows, by the answer to a later one).
    pub pings: Vec<Vec<u8>>,
}

/// A fragmented message that has not ended.
struct Open {
    text: bool,
    data: Vec<u8>,
}

/// The client's bytes, extended with the completion when a frame is read past their end.
struct Stream {
    bytes: Vec<u8>,
    pos: usize,
    sent: usize,
}

impl Stream {
    /// The next byte, or `fill` appended as the next byte past the client's end.
    fn next(&mut self, fill: u8) -> u8 {
        if self.pos == self.bytes.len() {
            self.bytes.push(fill);
        }
        let byte = self.bytes[self.pos];
        self.pos += 1;
        byte
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn completion(&self) -> Vec<u8> {
        self.bytes[self.sent..].to_vec()
    }
}

/// Reads `input`, the bytes a client sends after the upgrade, as a server limiting data
/// messages to `max_message` bytes must.
pub fn read(input: &[u8], max_message: usize) -> Reading {
    let mut stream = Stream {
        bytes: input.to_vec(),
        pos: 0,
        sent: input.len(),
    };
    let mut messages = Vec::new();
    let mut pings = Vec::new();
    let mut open: Option<Open> = None;
    let ending = loop {
        if stream.at_end() {
            if open.is_none() {
                break Ending::Serving;
            }
            // A message left open is ended by an empty final continuation.
            stream
                .bytes
                .extend_from_slice(&client_frame(true, opcode::CONTINUATION, [0; 4], b""));
        }
        match read_frame(&mut stream, &mut open, max_message) {
            Frame::Message(message) => messages.push(message),
            Frame::Ping(payload) => pings.push(payload),
            Frame::Nothing => {}
            Frame::End(ending) => break ending,
        }
    };
    Reading {
        ending,
        completion: stream.completion(),
        messages,
        pings,
    }
}

/// What one frame brought.
enum Frame {
    /// A data message ended, valid.
    Message(String),
    Ping(Vec<u8>),
    /// A pong, or a fragment of a message still open.
    Nothing,
    End(Ending),
}

fn refused(codes: impl IntoIterator<Item = u16>) -> Frame {
    Frame::End(Ending::Refused(codes.into_iter().collect()))
}

/// Reads the frame at the stream's position; past the client's bytes, completes it (a
/// broken frame too: a server may wait for its whole header before judging it).
fn read_frame(stream: &mut Stream, open: &mut Option<Open>, max_message: usize) -> Frame {
    let first = stream.next(0);
    // A missing second byte: masked, no payload.
    let second = stream.next(0x80);
    let fin = first & 0x80 != 0;
    let op = first & 0x0F;
    let masked = second & 0x80 != 0;
    let length = match second & 0x7F {
        126 => (0..2).fold(0_u64, |n, _| n << 8 | u64::from(stream.next(0))),
        127 => (0..8).fold(0_u64, |n, _| n << 8 | u64::from(stream.next(0))),
        short => u64::from(short),
    };

    let mut broken = BTreeSet::new();
    // No extension is negotiated, so no reserved bit may be set (section 5.2).
    if first & 0x70 != 0 {
        broken.insert(PROTOCOL_ERROR);
    }
    // Every frame from a client is masked (section 5.1).
    if !masked {
        broken.insert(PROTOCOL_ERROR);
    }
    // The most significant bit of a 64-bit length must be 0 (section 5.2).
    if length >> 63 != 0 {
        broken.insert(PROTOCOL_ERROR);
    }
    match op {
        opcode::CLOSE | opcode::PING | opcode::PONG => {
            // Control frames are never fragmented, and their length fits the 7-bit field
            // (section 5.5): a longer form is over 125 bytes or, below, not the shortest
            // encoding, which section 5.2 makes a MUST. Either way the frame is refused
            // whole, however its bytes are cut.
            if !fin || second & 0x7F > MAX_CONTROL_PAYLOAD as u8 {
                broken.insert(PROTOCOL_ERROR);
            }
        }
        opcode::TEXT | opcode::BINARY | opcode::CONTINUATION => {
            // A continuation continues an open message; a new one waits for it to end
            // (section 5.4).
            if (op == opcode::CONTINUATION) != open.is_some() {
                broken.insert(PROTOCOL_ERROR);
            }
            let so_far = open.as_ref().map_or(0, |o| o.data.len()) as u64;
            if so_far.saturating_add(length) > max_message as u64 {
                broken.insert(MESSAGE_TOO_BIG);
            }
        }
        // Reserved opcodes (section 5.2).
        _ => {
            broken.insert(PROTOCOL_ERROR);
        }
    }
    // An unmasked frame has no masking key.
    let mask: [u8; 4] = if masked {
        std::array::from_fn(|_| stream.next(0))
    } else {
        [0; 4]
    };
    if !broken.is_empty() {
        // A server may judge a frame on its header alone, or wait for the payload: the
        // completion gives it the payload too, unless that is longer than any message may
        // be (then the declared length suffices, as `docs/wire-protocol.md` says for 1009).
        if length <= max_message as u64 {
            for i in 0..length as usize {
                stream.next(b' ' ^ mask[i % 4]);
            }
        }
        return Frame::End(Ending::Refused(broken));
    }

    // Bounded above: a control payload is at most 125 bytes, a data one at most the limit.
    let length = usize::try_from(length).unwrap_or(usize::MAX);
    let payload: Vec<u8> = (0..length)
        .map(|i| stream.next(b' ' ^ mask[i % 4]) ^ mask[i % 4])
        .collect();

    match op {
        opcode::PING => Frame::Ping(payload),
        opcode::PONG => Frame::Nothing,
        opcode::CLOSE => close(&payload),
        opcode::TEXT | opcode::BINARY if fin => message(payload),
        opcode::TEXT | opcode::BINARY => {
            let text = op == opcode::TEXT;
            *open = Some(Open {
                text,
                data: payload,
            });
            fragment_checked(open)
        }
        _ => {
            let Some(mut message_so_far) = open.take() else {
                return refused([PROTOCOL_ERROR]);
            };
            message_so_far.data.extend_from_slice(&payload);
            if fin {
                message(message_so_far.data)
            } else {
                *open = Some(message_so_far);
                fragment_checked(open)
            }
        }
    }
}

/// A fragment of text is refused as soon as it cannot begin valid UTF-8 (section 8.1: the
/// endpoint fails the connection when it sees invalid data, not only at the message's end).
fn fragment_checked(open: &Option<Open>) -> Frame {
    match open {
        Some(o) if o.text && !is_utf8_prefix(&o.data) => refused([INVALID_PAYLOAD]),
        _ => Frame::Nothing,
    }
}

/// A whole data message. Text must be UTF-8 (section 8.1); twinwire serves a binary message
/// as text when it is UTF-8 and closes with 1007 otherwise (`docs/wire-protocol.md`).
fn message(data: Vec<u8>) -> Frame {
    match String::from_utf8(data) {
        Ok(text) => Frame::Message(text),
        Err(_) => refused([INVALID_PAYLOAD]),
    }
}

/// A close frame: empty, or a code a peer may send and a UTF-8 reason (sections 5.5.1, 7.4).
fn close(payload: &[u8]) -> Frame {
    let (code, reason) = match payload {
        [] => return Frame::End(Ending::ClientClosed(None)),
        [_] => return refused([PROTOCOL_ERROR]),
        [high, low, reason @ ..] => (u16::from_be_bytes([*high, *low]), reason),
    };
    let mut broken = BTreeSet::new();
    if !is_sendable_close_code(code) {
        broken.insert(PROTOCOL_ERROR);
    }
    if std::str::from_utf8(reason).is_err() {
        broken.insert(INVALID_PAYLOAD);
    }
    if broken.is_empty() {
        Frame::End(Ending::ClientClosed(Some(code)))
    } else {
        Frame::End(Ending::Refused(broken))
    }
}

/// A close code a peer may put on the wire: `docs/wire-protocol.md` refuses below 1000,
/// 1004–1006, 1015–2999 and 5000 up (RFC 6455 section 7.4 and the IANA registry, which adds
/// 1012–1014).
pub fn is_sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Whether `bytes` can begin valid UTF-8: valid, except maybe for a character cut at the end.
fn is_utf8_prefix(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none(),
    }
}

/// A client frame: `opcode` and `payload` masked with `mask`, the shortest length, FIN as
/// given, no reserved bit.
pub fn client_frame(fin: bool, opcode: u8, mask: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![u8::from(fin) << 7 | opcode];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len => match u16::try_from(len) {
            Ok(len) => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&len.to_be_bytes());
            }
            Err(_) => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
        },
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, k)| b ^ k));
    frame
}

/// A close frame's payload: the code, then the reason.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    [&code.to_be_bytes()[..], reason].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASK: [u8; 4] = [0xA1, 0x07, 0x5C, 0xE3];

    fn refused_with(codes: &[u16]) -> Ending {
        Ending::Refused(codes.iter().copied().collect())
    }

    #[test]
    fn whole_frames_are_served_in_order() {
        let input = [
            client_frame(false, opcode::TEXT, MASK, "h\u{e9}".as_bytes()),
            client_frame(true, opcode::PING, MASK, b"p"),
            client_frame(true, opcode::CONTINUATION, MASK, b"llo"),
            client_frame(true, opcode::BINARY, MASK, b"{}"),
            client_frame(true, opcode::PONG, MASK, b""),
        ]
        .concat();
        let reading = read(&input, 2048);
        assert_eq!(reading.ending, Ending::Serving);
        assert_eq!(reading.messages, ["h\u{e9}llo", "{}"]);
        assert_eq!(reading.pings, [b"p".to_vec()]);
        assert!(reading.completion.is_empty());
    }

    #[test]
    fn a_stream_cut_anywhere_is_completed_to_what_the_whole_one_does() {
        let whole = [
            client_frame(true, opcode::TEXT, MASK, b"{\"type\":\"POKE\"}"),
            client_frame(false, opcode::TEXT, MASK, &[b'x'; 130]),
        ]
        .concat();
        for cut in 0..whole.len() {
            let reading = read(&whole[..cut], 2048);
            assert_eq!(reading.ending, Ending::Serving, "cut at {cut}");
            let completed = [&whole[..cut], &reading.completion[..]].concat();
            // The completion ends the cut frame and then the open message.
            assert_eq!(read(&completed, 2048).completion, Vec::<u8>::new());
            assert!(reading.completion.len() <= 6 + 4 + 130 + 6, "cut at {cut}");
        }
        // A payload cut short is finished with spaces, which keep text valid.
        let cut = client_frame(true, opcode::TEXT, MASK, b"abc  ");
        assert_eq!(read(&cut[..cut.len() - 2], 2048).messages, ["abc  "]);
    }

    #[test]
    fn each_rule_has_its_code() {
        let text = client_frame(true, opcode::TEXT, MASK, b"{}");
        let with = |index: usize, bits: u8| {
            let mut frame = text.clone();
            frame[index] ^= bits;
            frame
        };
        let cases: Vec<(Vec<u8>, Ending)> = vec![
            (with(0, 0x40), refused_with(&[1002])),
            (with(0, 0x02), refused_with(&[1002])),
            (with(1, 0x80)[..4].to_vec(), refused_with(&[1002])),
            (
                client_frame(false, opcode::PING, MASK, b""),
                refused_with(&[1002]),
            ),
            (
                client_frame(true, opcode::PONG, MASK, &[0; 126]),
                refused_with(&[1002]),
            ),
            (
                client_frame(true, opcode::CONTINUATION, MASK, b""),
                refused_with(&[1002]),
            ),
            // A ping of 5 bytes with a 16-bit length.
            (
                [&[0x89, 0xFE, 0, 5][..], &MASK, b"hello"].concat(),
                refused_with(&[1002]),
            ),
            (
                client_frame(true, opcode::TEXT, MASK, &[b' '; 2049]),
                refused_with(&[1009]),
            ),
            (
                [
                    client_frame(false, opcode::BINARY, MASK, &[b' '; 2000]),
                    client_frame(true, opcode::CONTINUATION, MASK, &[b' '; 49]),
                ]
                .concat(),
                refused_with(&[1009]),
            ),
            (
                client_frame(true, opcode::TEXT, MASK, b"\xC0\xAF"),
                refused_with(&[1007]),
            ),
            (
                client_frame(true, opcode::BINARY, MASK, b"\xFF"),
                refused_with(&[1007]),
            ),
            (
                client_frame(false, opcode::TEXT, MASK, b"ok\xFF"),
                refused_with(&[1007]),
            ),
            (
                client_frame(true, opcode::CLOSE, MASK, &[3]),
                refused_with(&[1002]),
            ),
            (
                client_frame(true, opcode::CLOSE, MASK, &close_payload(1005, b"")),
                refused_with(&[1002]),
            ),
            (
                client_frame(true, opcode::CLOSE, MASK, &close_payload(1000, b"\xFF")),
                refused_with(&[1007]),
            ),
            (
                client_frame(true, opcode::CLOSE, MASK, &close_payload(999, b"\xFF")),
                refused_with(&[1002, 1007]),
            ),
            (
                client_frame(true, opcode::CLOSE, MASK, &close_payload(4000, b"bye")),
                Ending::ClientClosed(Some(4000)),
            ),
            (
                client_frame(true, opcode::CLOSE, MASK, b""),
                Ending::ClientClosed(None),
            ),
            // RSV and an over-limit length in one header: either code is right.
            (
                {
                    let mut frame = client_frame(true, opcode::TEXT, MASK, &[b' '; 3000]);
                    frame[0] |= 0x10;
                    frame
                },
                refused_with(&[1002, 1009]),
            ),
        ];
        for (input, ending) in cases {
            assert_eq!(read(&input, 2048).ending, ending, "{input:02X?}");
        }
    }

    #[test]
    fn a_broken_frame_is_completed_too() {
        // A continuation without a message, cut inside its masking key.
        let reading = read(&[0x00, 0x83, 0x81, 0x12], 2048);
        assert_eq!(reading.ending, refused_with(&[1002]));
        assert_eq!(reading.completion.len(), 2 + 3);
        // Unmasked: no key, the payload only.
        assert_eq!(read(&[0x81, 0x05, b'a'], 2048).completion.len(), 4);
        // Over the limit: the header only.
        let reading = read(&[0x82, 0xFE, 0x10], 2048);
        assert_eq!(reading.ending, refused_with(&[1009]));
        assert_eq!(reading.completion.len(), 1 + 4);
    }

    #[test]
    fn a_character_cut_between_fragments_is_judged_at_the_end() {
        let euro = "\u{20ac}".as_bytes();
        let open = client_frame(false, opcode::TEXT, MASK, &euro[..1]);
        // Open, and cut: the final empty continuation leaves the character cut.
        assert_eq!(read(&open, 2048).ending, refused_with(&[1007]));
        let whole = [
            open,
            client_frame(true, opcode::CONTINUATION, MASK, &euro[1..]),
        ]
        .concat();
        assert_eq!(read(&whole, 2048).messages, ["\u{20ac}"]);
    }
}
