//! A WebSocket client written from RFC 6455 alone, so that it can send what a WebSocket
//! library refuses to: reserved bits and opcodes, unmasked frames, lying lengths, invalid
//! UTF-8, broken close frames. It also checks what the server sends against the RFC (no
//! mask, no RSV bits, minimal lengths, whole control frames) and fails the test otherwise.
//!
//! Every read is bounded by [`PATIENCE`], which guards against hangs and is never a claim
//! about speed.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bound against hangs, never an assertion about speed.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Opcodes (RFC 6455, section 5.2).
pub const CONTINUATION: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// The RSV bits as they sit in the first byte of a frame.
pub const RSV1: u8 = 0x40;
pub const RSV2: u8 = 0x20;
pub const RSV3: u8 = 0x10;

/// One frame for the client to send, masked unless [`Frame::unmasked`] says otherwise.
#[derive(Clone, Debug)]
pub struct Frame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    masked: bool,
    payload: Vec<u8>,
    /// A length to put in the header instead of the payload's.
    declared_len: Option<u64>,
}

impl Frame {
    /// A final, masked frame with this opcode and payload.
    pub fn new(opcode: u8, payload: impl Into<Vec<u8>>) -> Self {
        Self {
            fin: true,
            rsv: 0,
            opcode,
            masked: true,
            payload: payload.into(),
            declared_len: None,
        }
    }

    /// A text frame; the bytes are not checked, so that invalid UTF-8 can be sent.
    pub fn text(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(TEXT, payload)
    }

    pub fn binary(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(BINARY, payload)
    }

    pub fn continuation(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(CONTINUATION, payload)
    }

    pub fn ping(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(PING, payload)
    }

    pub fn pong(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(PONG, payload)
    }

    /// A close frame with a status code and a reason (its bytes unchecked).
    pub fn close(code: u16, reason: &[u8]) -> Self {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason);
        Self::new(CLOSE, payload)
    }

    /// A close frame without a status code.
    pub fn close_empty() -> Self {
        Self::new(CLOSE, Vec::new())
    }

    /// Clears FIN: more fragments follow.
    #[must_use]
    pub fn more(mut self) -> Self {
        self.fin = false;
        self
    }

    /// Sets RSV bits ([`RSV1`], [`RSV2`], [`RSV3`]).
    #[must_use]
    pub fn rsv(mut self, bits: u8) -> Self {
        self.rsv = bits;
        self
    }

    /// Sends the frame without a mask, which a client must never do.
    #[must_use]
    pub fn unmasked(mut self) -> Self {
        self.masked = false;
        self
    }

    /// Declares `len` in the header whatever the payload is (usually none): a header that
    /// promises more than is sent, or more than any server accepts.
    #[must_use]
    pub fn declare_len(mut self, len: u64) -> Self {
        self.declared_len = Some(len);
        self
    }
}

/// A message (or control frame) received from the server.
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// The status code (none when the payload was empty) and the reason.
    Close(Option<u16>, String),
}

impl fmt::Debug for Message {
    // Long echoes would drown a failure's message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn clip(text: &str) -> String {
            match text.char_indices().nth(200) {
                Some((end, _)) => format!("{}… ({} bytes)", &text[..end], text.len()),
                None => text.to_owned(),
            }
        }
        match self {
            Self::Text(text) => write!(f, "Text({:?})", clip(text)),
            Self::Binary(bytes) => write!(f, "Binary({} bytes)", bytes.len()),
            Self::Ping(bytes) => write!(f, "Ping({bytes:?})"),
            Self::Pong(bytes) => write!(f, "Pong({bytes:?})"),
            Self::Close(code, reason) => write!(f, "Close({code:?}, {reason:?})"),
        }
    }
}

/// How the TCP connection ended, seen from the client.
#[derive(Debug)]
pub enum End {
    /// An orderly end of stream (the server closed its side).
    Eof,
    /// A read error, such as a reset.
    Error(std::io::ErrorKind),
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Eof => f.write_str("end of stream"),
            Self::Error(kind) => write!(f, "read error: {kind}"),
        }
    }
}

/// One frame as it came from the server.
struct Received {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

/// Masking keys differ between frames and connections, and are never all zero: a server
/// that ignored the mask would then read garbage.
static KEY_SEED: AtomicU32 = AtomicU32::new(0x9E37_79B9);

/// A raw WebSocket connection to the server.
pub struct Client {
    stream: TcpStream,
    /// Bytes read from the socket and not yet parsed.
    buf: Vec<u8>,
    /// xorshift32 state for masking keys.
    key_state: u32,
    /// A fragmented data message being received: its opcode and the bytes so far.
    partial: Option<(u8, Vec<u8>)>,
}

impl Client {
    /// Opens a TCP connection to `addr` and performs the opening handshake (RFC 6455,
    /// section 4.1), checking the server's answer.
    pub async fn connect(addr: SocketAddr) -> Self {
        Self::connect_with(addr, &[]).await
    }

    /// Like [`connect`](Self::connect), with `early` frames sent in the same write as the
    /// upgrade request, before the server has answered it: the HTTP server reads them with
    /// the request, and the socket must not lose them.
    pub async fn connect_with(addr: SocketAddr, early: &[Frame]) -> Self {
        let stream = TcpStream::connect(addr)
            .await
            .expect("connect to the server");
        // Frames written one at a time leave at once, which the byte-by-byte case needs.
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let seed = KEY_SEED.fetch_add(0x6D2B_79F5, Ordering::Relaxed);
        let mut client = Self {
            stream,
            buf: Vec::new(),
            key_state: seed | 1,
            partial: None,
        };
        let mut nonce = [0_u8; 16];
        for chunk in nonce.chunks_mut(4) {
            chunk.copy_from_slice(&client.next_key());
        }
        let key = base64(&nonce);
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        let mut bytes = request.into_bytes();
        for frame in early {
            let encoded = client.encode(frame);
            bytes.extend(encoded);
        }
        client.write_raw(&bytes).await;
        let head = client.read_head().await;
        check_upgrade(&head, &accept_key(&key));
        client
    }

    /// Reads the HTTP response head; bytes after it stay in the buffer (frames may follow
    /// the head in the same segment).
    async fn read_head(&mut self) -> String {
        let read = async {
            loop {
                if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head: Vec<u8> = self.buf.drain(..end + 4).collect();
                    return String::from_utf8(head).expect("an ASCII response head");
                }
                let mut chunk = [0_u8; 1024];
                let n = self
                    .stream
                    .read(&mut chunk)
                    .await
                    .expect("read the response");
                assert!(n > 0, "the server closed during the handshake");
                self.buf.extend_from_slice(&chunk[..n]);
            }
        };
        tokio::time::timeout(PATIENCE, read)
            .await
            .expect("the upgrade is answered in time")
    }

    fn next_key(&mut self) -> [u8; 4] {
        let mut x = self.key_state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.key_state = x;
        x.to_be_bytes()
    }

    /// The bytes of `frame` on the wire.
    pub fn encode(&mut self, frame: &Frame) -> Vec<u8> {
        let mut out = Vec::with_capacity(frame.payload.len() + 14);
        out.push(u8::from(frame.fin) << 7 | frame.rsv | frame.opcode);
        let mask_bit = if frame.masked { 0x80 } else { 0 };
        let len = frame
            .declared_len
            .unwrap_or(u64::try_from(frame.payload.len()).expect("a payload length fits u64"));
        // The shortest of the three length forms (section 5.2).
        if len < 126 {
            out.push(mask_bit | u8::try_from(len).expect("under 126"));
        } else if let Ok(len) = u16::try_from(len) {
            out.push(mask_bit | 126);
            out.extend_from_slice(&len.to_be_bytes());
        } else {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
        if frame.masked {
            let key = self.next_key();
            out.extend_from_slice(&key);
            out.extend(
                frame
                    .payload
                    .iter()
                    .zip(key.iter().cycle())
                    .map(|(byte, k)| byte ^ k),
            );
        } else {
            out.extend_from_slice(&frame.payload);
        }
        out
    }

    /// Writes `frame` in one write.
    pub async fn send(&mut self, frame: Frame) {
        self.send_all(&[frame]).await;
    }

    /// Writes all `frames` in one write, so that the server is likely to read them at once.
    pub async fn send_all(&mut self, frames: &[Frame]) {
        let mut bytes = Vec::new();
        for frame in frames {
            bytes.extend(self.encode(frame));
        }
        self.write_raw(&bytes).await;
    }

    /// Writes bytes as they are.
    pub async fn write_raw(&mut self, bytes: &[u8]) {
        tokio::time::timeout(PATIENCE, self.stream.write_all(bytes))
            .await
            .expect("the server reads in time")
            .expect("write to the server");
    }

    /// Writes bytes one at a time, pausing between them, so that the server sees each in a
    /// read of its own.
    pub async fn trickle(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_raw(&[*byte]).await;
            self.stream.flush().await.expect("flush");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Reads until at least `n` bytes are buffered.
    async fn fill(&mut self, n: usize) -> Result<(), End> {
        while self.buf.len() < n {
            let mut chunk = [0_u8; 16 * 1024];
            match self.stream.read(&mut chunk).await {
                Ok(0) => return Err(End::Eof),
                Ok(read) => self.buf.extend_from_slice(&chunk[..read]),
                Err(err) => return Err(End::Error(err.kind())),
            }
        }
        Ok(())
    }

    /// Reads one frame and checks it against what RFC 6455 requires of a server.
    async fn read_frame(&mut self) -> Result<Received, End> {
        self.fill(2).await?;
        let (first, second) = (self.buf[0], self.buf[1]);
        assert_eq!(
            first & (RSV1 | RSV2 | RSV3),
            0,
            "the server set RSV bits without an extension (first byte {first:#04x})"
        );
        assert_eq!(second & 0x80, 0, "the server masked a frame (section 5.1)");
        let (header_len, len) = match second & 0x7F {
            126 => {
                self.fill(4).await?;
                let len = u64::from(u16::from_be_bytes([self.buf[2], self.buf[3]]));
                assert!(len >= 126, "a 16-bit length of {len}: not minimal (5.2)");
                (4, len)
            }
            127 => {
                self.fill(10).await?;
                let bytes: [u8; 8] = self.buf[2..10].try_into().expect("8 bytes");
                let len = u64::from_be_bytes(bytes);
                assert!(len >> 63 == 0, "a 64-bit length with its top bit set (5.2)");
                assert!(len > 0xFFFF, "a 64-bit length of {len}: not minimal (5.2)");
                (10, len)
            }
            short => (2, u64::from(short)),
        };
        let len = usize::try_from(len).expect("a frame that fits in memory");
        self.fill(header_len + len).await?;
        let frame: Vec<u8> = self.buf.drain(..header_len + len).collect();
        let received = Received {
            fin: first & 0x80 != 0,
            opcode: first & 0x0F,
            payload: frame[header_len..].to_vec(),
        };
        if received.opcode >= CLOSE {
            assert!(received.fin, "the server fragmented a control frame (5.5)");
            assert!(
                len <= 125,
                "a control frame of {len} bytes from the server (5.5)"
            );
        }
        Ok(received)
    }

    /// The next message: data frames are reassembled, control frames come as they arrive,
    /// even between the fragments of a message.
    pub async fn next(&mut self) -> Result<Message, End> {
        let read = async {
            loop {
                let frame = self.read_frame().await?;
                let data = match (frame.opcode, self.partial.take()) {
                    (PING, partial) => {
                        self.partial = partial;
                        return Ok(Message::Ping(frame.payload));
                    }
                    (PONG, partial) => {
                        self.partial = partial;
                        return Ok(Message::Pong(frame.payload));
                    }
                    (CLOSE, _) => return Ok(close_message(&frame.payload)),
                    (TEXT | BINARY, None) => (frame.opcode, frame.payload),
                    (CONTINUATION, Some((opcode, mut bytes))) => {
                        bytes.extend_from_slice(&frame.payload);
                        (opcode, bytes)
                    }
                    (opcode, partial) => panic!(
                        "the server sent opcode {opcode:#x} while a fragmented message was \
                         {}open",
                        if partial.is_some() { "" } else { "not " }
                    ),
                };
                if !frame.fin {
                    self.partial = Some(data);
                    continue;
                }
                return Ok(match data {
                    (TEXT, bytes) => Message::Text(
                        String::from_utf8(bytes).expect("the server's text is valid UTF-8"),
                    ),
                    (_, bytes) => Message::Binary(bytes),
                });
            }
        };
        tokio::time::timeout(PATIENCE, read)
            .await
            .expect("the server sends a frame or ends the connection in time")
    }

    /// The next message, which must come before the connection ends.
    pub async fn recv(&mut self) -> Message {
        match self.next().await {
            Ok(message) => message,
            Err(end) => panic!("the connection ended ({end}) where a frame was expected"),
        }
    }

    /// The next message must be a text frame answering `ECHO` with `text`.
    pub async fn expect_echo(&mut self, text: &str) {
        match self.recv().await {
            Message::Text(json) => {
                let value: serde_json::Value =
                    serde_json::from_str(&json).expect("the server sends JSON");
                assert_eq!(value["type"], "ECHOED", "{json}");
                let echoed = value["payload"]["text"].as_str().expect("a text payload");
                assert!(
                    echoed == text,
                    "echoed {} bytes that differ from the {} sent",
                    echoed.len(),
                    text.len()
                );
            }
            other => panic!("expected the echo of {} bytes, got {other:?}", text.len()),
        }
    }

    /// The next message must be a pong carrying `payload`.
    pub async fn expect_pong(&mut self, payload: &[u8]) {
        match self.recv().await {
            Message::Pong(got) => assert_eq!(got, payload, "the pong's payload"),
            other => panic!("expected a pong of {} bytes, got {other:?}", payload.len()),
        }
    }

    /// The next message must be a close frame; returns its code and reason once the server
    /// has closed TCP. The client answers it as the RFC asks (section 5.5.1), then waits for
    /// the server to close the connection (7.1.1); nothing may follow the close frame.
    pub async fn closing(&mut self) -> (Option<u16>, String) {
        let (code, reason) = self.recv_close().await;
        self.answer_close(code).await;
        (code, reason)
    }

    /// The next message must be a close frame with `code`, then the server closes TCP
    /// (as in [`closing`](Self::closing)). Returns the close reason.
    pub async fn expect_close(&mut self, code: u16) -> String {
        let (got, reason) = self.recv_close().await;
        assert_eq!(got, Some(code), "the close code (reason {reason:?})");
        self.answer_close(got).await;
        reason
    }

    /// The next message, which must be a close frame: its code and reason.
    async fn recv_close(&mut self) -> (Option<u16>, String) {
        match self.next().await {
            Ok(Message::Close(code, reason)) => (code, reason),
            Ok(other) => panic!("expected a close frame, got {other:?}"),
            Err(end) => panic!("the connection ended ({end}) without a close frame"),
        }
    }

    /// Answers the server's close frame with one of the same code, then waits for the
    /// server to end the TCP connection.
    async fn answer_close(&mut self, code: Option<u16>) {
        let answer = match code {
            Some(code) => Frame::close(code, b""),
            None => Frame::close_empty(),
        };
        let answer = self.encode(&answer);
        // The server may already be gone: it need not wait for this answer.
        let _ = self.stream.write_all(&answer).await;
        self.expect_tcp_end().await;
    }

    /// The server must end the TCP connection (an end of stream or a reset) without
    /// sending anything more.
    pub async fn expect_tcp_end(&mut self) {
        assert!(
            self.buf.is_empty(),
            "{} bytes followed the server's close frame",
            self.buf.len()
        );
        let end = tokio::time::timeout(PATIENCE, self.fill(1))
            .await
            .expect("the server closes the TCP connection in time");
        assert!(
            end.is_err(),
            "{} bytes followed the server's close frame (in a later read)",
            self.buf.len()
        );
    }

    /// Ends a healthy session: a close 1000, answered in kind.
    pub async fn close_normally(mut self) {
        self.send(Frame::close(1000, b"done")).await;
        self.expect_close(1000).await;
    }
}

/// A close frame's code and reason, checked against section 7.1.5 and 7.4.
fn close_message(payload: &[u8]) -> Message {
    match payload {
        [] => Message::Close(None, String::new()),
        [_] => panic!("the server sent a close frame with a 1-byte payload"),
        [high, low, reason @ ..] => {
            let code = u16::from_be_bytes([*high, *low]);
            assert!(
                matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999),
                "the server sent close code {code}, which may not be sent (7.4)"
            );
            let reason = String::from_utf8(reason.to_vec()).expect("a UTF-8 close reason");
            Message::Close(Some(code), reason)
        }
    }
}

/// Checks a `101` answer to an upgrade request (section 4.2.2).
fn check_upgrade(head: &str, accept: &str) {
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    assert!(
        status.starts_with("HTTP/1.1 101"),
        "not a 101 answer: {head}"
    );
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let upgrade = header("upgrade").unwrap_or_default();
    assert!(upgrade.eq_ignore_ascii_case("websocket"), "{head}");
    let connection = header("connection").unwrap_or_default();
    assert!(
        connection
            .split(',')
            .any(|token| token.trim().eq_ignore_ascii_case("upgrade")),
        "{head}"
    );
    assert_eq!(
        header("sec-websocket-accept").as_deref(),
        Some(accept),
        "{head}"
    );
    // No extension was offered, so none may be in use.
    assert_eq!(header("sec-websocket-extensions"), None, "{head}");
}

/// `Sec-WebSocket-Accept` for a key: base64 of the SHA-1 of the key and the RFC's GUID.
pub fn accept_key(key: &str) -> String {
    base64(&sha1(
        format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes(),
    ))
}

/// Base64 with padding (RFC 4648, section 4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0_u32, |acc, (i, byte)| {
            acc | u32::from(*byte) << (16 - 8 * i)
        });
        for i in 0..4 {
            if i <= chunk.len() {
                let index = (group >> (18 - 6 * i)) & 0x3F;
                out.push(char::from(ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SHA-1 (FIPS 180-4), which the handshake needs and the test dependencies lack.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut message = data.to_vec();
    let bits = u64::try_from(data.len()).expect("length fits u64") * 8;
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bits.to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0_u32; 80];
        for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
            *word = u32::from_be_bytes(bytes.try_into().expect("4 bytes"));
        }
        for t in 16..80 {
            w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (t, word) in w.iter().enumerate() {
            let (f, k) = match t {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (state, value) in h.iter_mut().zip([a, b, c, d, e]) {
            *state = state.wrapping_add(value);
        }
    }
    let mut digest = [0_u8; 20];
    for (bytes, word) in digest.chunks_exact_mut(4).zip(h) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

#[test]
fn the_accept_key_of_the_rfc_example() {
    // RFC 6455, section 1.3.
    assert_eq!(
        accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    // FIPS 180 test vectors: the empty message and one of two blocks.
    assert_eq!(
        base64(&sha1(b"")),
        base64(&[
            0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55, 0xbf, 0xef, 0x95, 0x60,
            0x18, 0x90, 0xaf, 0xd8, 0x07, 0x09
        ])
    );
    assert_eq!(
        base64(&sha1(
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        )),
        base64(&[
            0x84, 0x98, 0x3e, 0x44, 0x1c, 0x3b, 0xd2, 0x6e, 0xba, 0xae, 0x4a, 0xa1, 0xf9, 0x51,
            0x29, 0xe5, 0xe5, 0x46, 0x70, 0xf1
        ])
    );
}
