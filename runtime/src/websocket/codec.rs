//! RFC 6455 framing for the server's side, without I/O: [`Decoder`] turns the client's
//! bytes into [`Message`]s, enforcing what a server must refuse; [`header`] and
//! [`close_frame`] encode what the server sends (unmasked, never fragmented).

use std::fmt;

/// A message from the client: a whole data message (its fragments joined) or a control
/// frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Message {
    /// A text message, UTF-8 checked.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping and its payload; the socket has already queued its pong.
    Ping(Vec<u8>),
    /// A pong (the answer to the server's ping, or an unsolicited heartbeat).
    Pong,
    /// The client's close frame: `None` when it had no payload.
    Close(Option<CloseFrame>),
}

/// The payload of a close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CloseFrame {
    pub code: u16,
    pub reason: String,
}

/// Why the client's bytes are not a WebSocket stream the server accepts, and the close code
/// that says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Violation {
    /// A framing rule broken (1002).
    Protocol(&'static str),
    /// A text message or close reason that is not UTF-8 (1007).
    InvalidUtf8(&'static str),
    /// A message over the configured maximum (1009).
    TooBig,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(rule) | Self::InvalidUtf8(rule) => f.write_str(rule),
            Self::TooBig => f.write_str("message too big"),
        }
    }
}

/// Frame opcodes (RFC 6455, section 5.2).
pub(crate) mod opcode {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;
}

/// The largest payload of a control frame.
pub(crate) const MAX_CONTROL_PAYLOAD: usize = 125;

/// The longest frame header the server writes: 2 bytes plus a 64-bit length.
pub(crate) const MAX_HEADER: usize = 10;

/// What [`Decoder::decode`] found at the start of its input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// The input ends inside a frame: at least `frame_len` bytes (the whole frame, once its
    /// header is known) are needed.
    Incomplete { frame_len: usize },
    /// One frame of `consumed` bytes, completing `message` (or `None`: a fragment of a
    /// message still open).
    Frame {
        consumed: usize,
        message: Option<Message>,
    },
}

/// An open fragmented data message.
#[derive(Debug)]
struct Fragmented {
    text: bool,
    data: Vec<u8>,
    /// Bytes of `data` known to be UTF-8 (text only): each fragment is checked as it
    /// arrives, so a message that never ends cannot carry invalid text unnoticed.
    checked: usize,
}

impl Fragmented {
    /// Checks the text received since the last check, up to the last whole character.
    fn check_utf8(&mut self) -> Result<(), Violation> {
        if !self.text {
            return Ok(());
        }
        match std::str::from_utf8(&self.data[self.checked..]) {
            Ok(_) => self.checked = self.data.len(),
            // A character cut by the fragment's end is judged with the next fragment.
            Err(error) if error.error_len().is_none() => self.checked += error.valid_up_to(),
            Err(_) => return Err(Violation::InvalidUtf8("text message is not valid UTF-8")),
        }
        Ok(())
    }
}

/// The state of the client-to-server direction between frames: the one fragmented message
/// that may be open. A few words; no buffer while the connection is idle.
#[derive(Debug)]
pub(crate) struct Decoder {
    max_message: usize,
    /// Boxed: rare, and an idle connection should not carry its room.
    fragmented: Option<Box<Fragmented>>,
}

/// A parsed frame header.
struct Header {
    fin: bool,
    opcode: u8,
    mask: [u8; 4],
    header_len: usize,
    payload_len: usize,
}

impl Decoder {
    /// A decoder refusing data messages over `max_message` bytes (all fragments together).
    pub(crate) fn new(max_message: usize) -> Self {
        Self {
            max_message,
            fragmented: None,
        }
    }

    /// Decodes the first frame of `input`.
    ///
    /// # Errors
    /// The frame breaks RFC 6455 or the size limit; the connection must be closed with the
    /// violation's code. Limits are checked on the header, before the payload is waited for.
    pub(crate) fn decode(&mut self, input: &[u8]) -> Result<Decoded, Violation> {
        let Some(header) = self.header(input)? else {
            return Ok(Decoded::Incomplete {
                frame_len: MAX_HEADER + 4,
            });
        };
        let frame_len = header.header_len + header.payload_len;
        let Some(frame) = input.get(..frame_len) else {
            return Ok(Decoded::Incomplete { frame_len });
        };
        let payload = &frame[header.header_len..];
        let message = match header.opcode {
            opcode::TEXT | opcode::BINARY => {
                let text = header.opcode == opcode::TEXT;
                if header.fin {
                    Some(finish(text, unmask(payload, header.mask))?)
                } else {
                    let mut open = Fragmented {
                        text,
                        data: unmask(payload, header.mask),
                        checked: 0,
                    };
                    open.check_utf8()?;
                    self.fragmented = Some(Box::new(open));
                    None
                }
            }
            opcode::CONTINUATION => {
                let Some(open) = &mut self.fragmented else {
                    return Err(Violation::Protocol(
                        "a continuation frame without a fragmented message to continue",
                    ));
                };
                unmask_into(&mut open.data, payload, header.mask);
                if !header.fin {
                    open.check_utf8()?;
                }
                match self.fragmented.take() {
                    Some(done) if header.fin => Some(finish(done.text, done.data)?),
                    open => {
                        self.fragmented = open;
                        None
                    }
                }
            }
            opcode::PING => Some(Message::Ping(unmask(payload, header.mask))),
            opcode::PONG => Some(Message::Pong),
            _ => Some(Message::Close(close_payload(&unmask(
                payload,
                header.mask,
            ))?)),
        };
        Ok(Decoded::Frame {
            consumed: frame_len,
            message,
        })
    }

    /// Parses and checks the header at the start of `input`; `None` until it is complete.
    fn header(&self, input: &[u8]) -> Result<Option<Header>, Violation> {
        let [first, second, ..] = *input else {
            return Ok(None);
        };
        let fin = first & 0x80 != 0;
        if first & 0x70 != 0 {
            return Err(Violation::Protocol(
                "reserved bits set without a negotiated extension",
            ));
        }
        let opcode = first & 0x0F;
        let control = match opcode {
            opcode::CONTINUATION | opcode::TEXT | opcode::BINARY => false,
            opcode::CLOSE | opcode::PING | opcode::PONG => true,
            _ => return Err(Violation::Protocol("reserved opcode")),
        };
        if second & 0x80 == 0 {
            return Err(Violation::Protocol("client frames must be masked"));
        }
        let (length_len, short) = match second & 0x7F {
            126 => (2, None),
            127 => (8, None),
            len => (0, Some(usize::from(len))),
        };
        // A control frame's payload fits the 7-bit length (RFC 6455, 5.5): a longer length
        // form is refused whatever it says and however the bytes arrive.
        if control && short.is_none() {
            return Err(Violation::Protocol("control frame payload over 125 bytes"));
        }
        let header_len = 2 + length_len + 4;
        let Some(rest) = input.get(2..header_len) else {
            return Ok(None);
        };
        let (length, mask) = rest.split_at(length_len);
        let payload_len = match short {
            Some(len) => len as u64,
            None => length.iter().fold(0_u64, |n, b| n << 8 | u64::from(*b)),
        };
        if payload_len >> 63 != 0 {
            return Err(Violation::Protocol(
                "frame length with its most significant bit set",
            ));
        }
        if control {
            if !fin {
                return Err(Violation::Protocol("control frames must not be fragmented"));
            }
            if payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(Violation::Protocol("control frame payload over 125 bytes"));
            }
        } else {
            match (&self.fragmented, opcode) {
                (Some(_), opcode::TEXT | opcode::BINARY) => {
                    return Err(Violation::Protocol(
                        "a new message started before the fragmented one ended",
                    ));
                }
                (None, opcode::CONTINUATION) => {
                    return Err(Violation::Protocol(
                        "a continuation frame without a fragmented message to continue",
                    ));
                }
                _ => {}
            }
            let so_far = self.fragmented.as_ref().map_or(0, |f| f.data.len()) as u64;
            if so_far.saturating_add(payload_len) > self.max_message as u64 {
                return Err(Violation::TooBig);
            }
        }
        // Within `max_message` (a usize) or 125: the conversion cannot fail.
        let payload_len = usize::try_from(payload_len).map_err(|_| Violation::TooBig)?;
        Ok(Some(Header {
            fin,
            opcode,
            mask: [mask[0], mask[1], mask[2], mask[3]],
            header_len,
            payload_len,
        }))
    }
}

/// A finished data message, text checked for UTF-8.
fn finish(text: bool, data: Vec<u8>) -> Result<Message, Violation> {
    if !text {
        return Ok(Message::Binary(data));
    }
    String::from_utf8(data)
        .map(Message::Text)
        .map_err(|_| Violation::InvalidUtf8("text message is not valid UTF-8"))
}

/// The close frame's code and reason, checked (RFC 6455, section 7.4).
fn close_payload(payload: &[u8]) -> Result<Option<CloseFrame>, Violation> {
    let (code, reason) = match payload {
        [] => return Ok(None),
        [_] => return Err(Violation::Protocol("close frame payload of one byte")),
        [high, low, reason @ ..] => (u16::from_be_bytes([*high, *low]), reason),
    };
    if !is_valid_close_code(code) {
        return Err(Violation::Protocol("invalid close code"));
    }
    let reason = std::str::from_utf8(reason)
        .map_err(|_| Violation::InvalidUtf8("close reason is not valid UTF-8"))?;
    Ok(Some(CloseFrame {
        code,
        reason: reason.to_owned(),
    }))
}

/// A code a peer may send: the ones RFC 6455 and the IANA registry define for use on the
/// wire, and the ranges for libraries (3000–3999) and applications (4000–4999). 1004–1006
/// and 1015 are reserved and must never be sent.
pub(crate) fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// `payload` unmasked into a new buffer.
fn unmask(payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    unmask_into(&mut out, payload, mask);
    out
}

/// Appends `payload` unmasked to `out`, eight bytes at a time where it can.
fn unmask_into(out: &mut Vec<u8>, payload: &[u8], mask: [u8; 4]) {
    // Each fragment's mask starts at its own first byte, wherever `out` ends.
    let mask8 = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = payload.chunks_exact(8);
    out.reserve(payload.len());
    for chunk in &mut chunks {
        let mut word = [0_u8; 8];
        word.copy_from_slice(chunk);
        out.extend_from_slice(&(u64::from_ne_bytes(word) ^ mask8).to_ne_bytes());
    }
    // Chunks of eight keep the mask aligned: the tail starts at mask[0].
    out.extend(
        chunks
            .remainder()
            .iter()
            .zip(mask.iter().cycle())
            .map(|(byte, key)| byte ^ key),
    );
}

/// The header of an unmasked, final frame with `opcode` and a payload of `len` bytes, and
/// how many of its bytes are used.
pub(crate) fn header(opcode: u8, len: usize) -> ([u8; MAX_HEADER], usize) {
    let mut header = [0_u8; MAX_HEADER];
    header[0] = 0x80 | opcode;
    let used = if len < 126 {
        header[1] = len as u8;
        2
    } else if let Ok(len) = u16::try_from(len) {
        header[1] = 126;
        header[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (header, used)
}

/// A whole control frame (ping, pong or close) with `payload`, cut to 125 bytes.
pub(crate) fn control_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let payload = &payload[..payload.len().min(MAX_CONTROL_PAYLOAD)];
    let (header, used) = header(opcode, payload.len());
    let mut frame = Vec::with_capacity(used + payload.len());
    frame.extend_from_slice(&header[..used]);
    frame.extend_from_slice(payload);
    frame
}

/// A close frame: no payload for `None`, else the code and the reason (which the caller
/// keeps within 123 bytes).
pub(crate) fn close_frame(close: Option<(u16, &str)>) -> Vec<u8> {
    let mut payload = Vec::new();
    if let Some((code, reason)) = close {
        payload.extend_from_slice(&code.to_be_bytes());
        payload.extend_from_slice(reason.as_bytes());
    }
    control_frame(opcode::CLOSE, &payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASK: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];

    /// A client frame: masked with `MASK`, the shortest length encoding.
    fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let (header, used) = header(opcode, payload.len());
        let mut frame = header[..used].to_vec();
        if !fin {
            frame[0] &= 0x7F;
        }
        frame[1] |= 0x80;
        frame.extend_from_slice(&MASK);
        frame.extend(payload.iter().zip(MASK.iter().cycle()).map(|(b, k)| b ^ k));
        frame
    }

    fn decode_all(decoder: &mut Decoder, mut input: &[u8]) -> Result<Vec<Message>, Violation> {
        let mut messages = Vec::new();
        while !input.is_empty() {
            match decoder.decode(input)? {
                Decoded::Incomplete { frame_len } => panic!("incomplete, needs {frame_len}"),
                Decoded::Frame { consumed, message } => {
                    messages.extend(message);
                    input = &input[consumed..];
                }
            }
        }
        Ok(messages)
    }

    #[test]
    fn every_length_encoding_round_trips() {
        for len in [0, 1, 125, 126, 127, 65_535, 65_536, 200_000] {
            let text = "x".repeat(len);
            let frame = client_frame(true, opcode::TEXT, text.as_bytes());
            let mut decoder = Decoder::new(1 << 20);
            assert_eq!(
                decode_all(&mut decoder, &frame),
                Ok(vec![Message::Text(text)])
            );
            // Every strict prefix is incomplete, never an error.
            for cut in [0, 1, 2, frame.len() / 2, frame.len() - 1] {
                assert!(matches!(
                    decoder.decode(&frame[..cut]),
                    Ok(Decoded::Incomplete { .. })
                ));
            }
        }
    }

    #[test]
    fn unmasking_handles_every_alignment() {
        for len in 0..40 {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let masked: Vec<u8> = payload
                .iter()
                .zip(MASK.iter().cycle())
                .map(|(b, k)| b ^ k)
                .collect();
            assert_eq!(unmask(&masked, MASK), payload);
        }
    }

    #[test]
    fn fragments_are_joined_with_control_frames_between_them() {
        let text = "héllo wörld ✓ 🎉";
        let bytes = text.as_bytes();
        // Split at every byte position, through multi-byte characters too.
        for at in 0..=bytes.len() {
            let mut input = client_frame(false, opcode::TEXT, &bytes[..at]);
            input.extend(client_frame(true, opcode::PING, b"p"));
            input.extend(client_frame(true, opcode::CONTINUATION, &bytes[at..]));
            let mut decoder = Decoder::new(1024);
            assert_eq!(
                decode_all(&mut decoder, &input),
                Ok(vec![
                    Message::Ping(b"p".to_vec()),
                    Message::Text(text.to_owned())
                ])
            );
        }
    }

    #[test]
    fn framing_violations_are_protocol_errors() {
        let masked_text = client_frame(true, opcode::TEXT, b"{}");
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                {
                    let mut f = masked_text.clone();
                    f[0] |= 0x40;
                    f
                },
                "reserved bits",
            ),
            (client_frame(true, 0x3, b""), "reserved opcode"),
            (client_frame(true, 0xB, b""), "reserved opcode"),
            (
                {
                    let mut f = masked_text.clone();
                    f[1] &= 0x7F;
                    f
                },
                "masked",
            ),
            (client_frame(false, opcode::PING, b""), "fragmented"),
            (client_frame(true, opcode::PING, &[0; 126]), "125"),
            (
                client_frame(true, opcode::CONTINUATION, b"x"),
                "continuation",
            ),
            (
                [
                    client_frame(false, opcode::TEXT, b"a"),
                    client_frame(true, opcode::TEXT, b"b"),
                ]
                .concat(),
                "new message",
            ),
            (client_frame(true, opcode::CLOSE, &[3]), "one byte"),
            (
                {
                    let mut f = vec![0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
                    f.extend_from_slice(&MASK);
                    f
                },
                "most significant bit",
            ),
        ];
        for (input, rule) in cases {
            let error = decode_all(&mut Decoder::new(1 << 20), &input).unwrap_err();
            match error {
                Violation::Protocol(message) => {
                    assert!(message.contains(rule), "{message:?} for {rule}");
                }
                other => panic!("{other:?} for {rule}"),
            }
        }
    }

    #[test]
    fn a_control_frame_in_a_long_length_form_is_refused_however_short() {
        // Ping, 16-bit length form holding 5: refused whole as when cut after two bytes.
        let mut frame = vec![0x89, 0xFE, 0x00, 0x05];
        frame.extend_from_slice(&MASK);
        frame.extend_from_slice(&[0; 5]);
        for cut in [2, frame.len()] {
            assert!(matches!(
                Decoder::new(1024).decode(&frame[..cut]),
                Err(Violation::Protocol(_))
            ));
        }
    }

    #[test]
    fn a_ping_with_a_long_length_is_refused_on_its_first_two_bytes() {
        let frame = client_frame(true, opcode::PING, &[0; 200]);
        assert!(matches!(
            Decoder::new(1024).decode(&frame[..2]),
            Err(Violation::Protocol(_))
        ));
    }

    #[test]
    fn invalid_utf8_is_refused_whole_and_fragmented() {
        let invalid: [&[u8]; 6] = [
            b"\x80",
            b"\xC0\xAF",
            b"\xED\xA0\x80",
            b"\xF4\x90\x80\x80",
            b"ok\xE2\x82",
            b"\xFE\xFF",
        ];
        for bytes in invalid {
            let whole = client_frame(true, opcode::TEXT, bytes);
            assert!(matches!(
                decode_all(&mut Decoder::new(1024), &whole),
                Err(Violation::InvalidUtf8(_))
            ));
            let split = [
                client_frame(false, opcode::TEXT, &bytes[..1]),
                client_frame(true, opcode::CONTINUATION, &bytes[1..]),
            ]
            .concat();
            assert!(matches!(
                decode_all(&mut Decoder::new(1024), &split),
                Err(Violation::InvalidUtf8(_))
            ));
        }
        // A fragmented message is refused at its first invalid fragment, before it ends.
        let mut decoder = Decoder::new(1024);
        let open = client_frame(false, opcode::TEXT, b"ok\xFF");
        assert!(matches!(
            decoder.decode(&open),
            Err(Violation::InvalidUtf8(_))
        ));
        // Binary messages are not checked here: the driver decides what they must hold.
        let binary = client_frame(true, opcode::BINARY, b"\xFF");
        assert_eq!(
            decode_all(&mut Decoder::new(1024), &binary),
            Ok(vec![Message::Binary(vec![0xFF])])
        );
    }

    #[test]
    fn the_limit_is_checked_on_headers_over_all_fragments() {
        let mut decoder = Decoder::new(10);
        let over = client_frame(true, opcode::TEXT, &[b'x'; 11]);
        // Refused on the header alone: the payload is never waited for.
        assert_eq!(decoder.decode(&over[..8]), Err(Violation::TooBig));
        let mut decoder = Decoder::new(10);
        let first = client_frame(false, opcode::TEXT, &[b'x'; 6]);
        assert!(matches!(
            decoder.decode(&first),
            Ok(Decoded::Frame { message: None, .. })
        ));
        let second = client_frame(true, opcode::CONTINUATION, &[b'x'; 5]);
        assert_eq!(decoder.decode(&second), Err(Violation::TooBig));
    }

    #[test]
    fn close_frames_are_checked() {
        let close = |payload: &[u8]| {
            decode_all(
                &mut Decoder::new(1024),
                &client_frame(true, opcode::CLOSE, payload),
            )
        };
        assert_eq!(close(b""), Ok(vec![Message::Close(None)]));
        assert_eq!(
            close(b"\x03\xE8bye"),
            Ok(vec![Message::Close(Some(CloseFrame {
                code: 1000,
                reason: "bye".to_owned()
            }))])
        );
        for code in [0_u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65_535] {
            assert!(
                matches!(close(&code.to_be_bytes()), Err(Violation::Protocol(_))),
                "{code}"
            );
        }
        for code in [1000_u16, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999] {
            assert!(close(&code.to_be_bytes()).is_ok(), "{code}");
        }
        assert!(matches!(
            close(b"\x03\xE8\xFF"),
            Err(Violation::InvalidUtf8(_))
        ));
    }

    #[test]
    fn server_frames_use_the_shortest_length() {
        assert_eq!(&header(opcode::TEXT, 5).0[..2], &[0x81, 5]);
        assert_eq!(header(opcode::TEXT, 126).1, 4);
        assert_eq!(header(opcode::TEXT, 65_535).1, 4);
        assert_eq!(header(opcode::TEXT, 65_536).1, 10);
        assert_eq!(close_frame(Some((1000, "ok"))), b"\x88\x04\x03\xE8ok");
        assert_eq!(close_frame(None), b"\x88\x00");
        assert_eq!(control_frame(opcode::PONG, &[1; 200]).len(), 2 + 125);
    }
}
