//! A WebSocket client that writes raw bytes: the `websocket` target's side of the pipe. The
//! upgrade is a hand-written HTTP request; after it, the client writes whatever it is given,
//! in as many writes as it is told, and reads the server's frames with a parser that accepts
//! only what RFC 6455 lets a server send and what twinwire promises to send.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use crate::framing::{MAX_CONTROL_PAYLOAD, is_sendable_close_code, opcode};

/// The RFC 6455 example key, and the accept value the server must derive from it.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The longest response head the upgrade may get.
const MAX_HEAD: usize = 8 * 1024;

/// A frame the server sent, checked.
#[derive(Debug, PartialEq, Eq)]
pub enum ServerFrame {
    /// A text frame (UTF-8 checked).
    Text(String),
    /// A ping and its payload.
    Ping(Vec<u8>),
    /// A pong and its payload.
    Pong(Vec<u8>),
    /// A close frame: its code and reason, `None` without payload.
    Close(Option<(u16, String)>),
}

/// The first whole frame of `bytes` and its length, `Ok(None)` while it is incomplete, or
/// what is wrong with it. Server frames are unmasked, final (twinwire never fragments),
/// without reserved bits, text or control, with the shortest length encoding; control
/// payloads fit 125 bytes; text is UTF-8; a close frame has no payload or a code a peer may
/// send and a UTF-8 reason.
pub fn parse_server_frame(bytes: &[u8]) -> Result<Option<(ServerFrame, usize)>, String> {
    let [first, second, ..] = *bytes else {
        return Ok(None);
    };
    if first & 0x80 == 0 {
        return Err(format!("a fragment (FIN clear), first byte {first:#04X}"));
    }
    if first & 0x70 != 0 {
        return Err(format!("reserved bits set: first byte {first:#04X}"));
    }
    if second & 0x80 != 0 {
        return Err("a masked server frame".to_owned());
    }
    let (header_len, length) = match second & 0x7F {
        126 => {
            let Some(len) = bytes.get(2..4) else {
                return Ok(None);
            };
            let len = u64::from(u16::from_be_bytes([len[0], len[1]]));
            if len < 126 {
                return Err(format!("length {len} in 16 bits"));
            }
            (4, len)
        }
        127 => {
            let Some(len) = bytes.get(2..10) else {
                return Ok(None);
            };
            let len = len.iter().fold(0_u64, |n, b| n << 8 | u64::from(*b));
            if len <= u64::from(u16::MAX) {
                return Err(format!("length {len} in 64 bits"));
            }
            (10, len)
        }
        short => (2, u64::from(short)),
    };
    let op = first & 0x0F;
    let control = matches!(op, opcode::CLOSE | opcode::PING | opcode::PONG);
    if control && length > MAX_CONTROL_PAYLOAD as u64 {
        return Err(format!("a control frame of {length} bytes"));
    }
    let Some(end) = usize::try_from(length)
        .ok()
        .and_then(|len| len.checked_add(header_len))
    else {
        return Err(format!("a frame of {length} bytes"));
    };
    let Some(payload) = bytes.get(header_len..end) else {
        return Ok(None);
    };
    let frame = match op {
        opcode::TEXT => match std::str::from_utf8(payload) {
            Ok(text) => ServerFrame::Text(text.to_owned()),
            Err(e) => return Err(format!("a text frame that is not UTF-8: {e}")),
        },
        opcode::PING => ServerFrame::Ping(payload.to_vec()),
        opcode::PONG => ServerFrame::Pong(payload.to_vec()),
        opcode::CLOSE => ServerFrame::Close(match payload {
            [] => None,
            [_] => return Err("a close frame with a one-byte payload".to_owned()),
            [high, low, reason @ ..] => {
                let code = u16::from_be_bytes([*high, *low]);
                if !is_sendable_close_code(code) {
                    return Err(format!("close code {code}"));
                }
                let reason = std::str::from_utf8(reason)
                    .map_err(|e| format!("a close reason that is not UTF-8: {e}"))?;
                Some((code, reason.to_owned()))
            }
        }),
        // twinwire sends text only (docs/wire-protocol.md).
        other => return Err(format!("opcode {other:#X}")),
    };
    Ok(Some((frame, end)))
}

/// The client's end of one upgraded connection.
pub struct RawClient {
    stream: DuplexStream,
    /// Bytes read and not parsed yet.
    received: Vec<u8>,
}

/// What reading the server's side of the stream found next.
#[derive(Debug)]
pub enum Read {
    /// A frame.
    Frame(ServerFrame),
    /// The stream ended (between frames).
    End,
}

impl RawClient {
    /// Upgrades `stream` to WebSocket with a hand-written request; panics unless the server
    /// switches protocols with the right accept key.
    pub async fn upgrade(mut stream: DuplexStream, patience: Duration) -> Self {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: fuzz.invalid\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n\r\n"
        );
        let mut head = Vec::new();
        let exchange = async {
            stream.write_all(request.as_bytes()).await?;
            let mut chunk = [0_u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&chunk[..n]);
            }
            Ok::<(), std::io::Error>(())
        };
        tokio::time::timeout(patience, exchange)
            .await
            .unwrap_or_else(|_| panic!("no answer to the upgrade within {patience:?}"))
            .unwrap_or_else(|e| panic!("the upgrade failed: {e}"));
        let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
            panic!(
                "no whole response head: {:?}",
                String::from_utf8_lossy(&head)
            );
        };
        let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
        assert!(
            text.starts_with("http/1.1 101 ")
                && text.lines().any(|l| l.starts_with("sec-websocket-accept:")
                    && l.contains(&ACCEPT.to_ascii_lowercase())),
            "the upgrade was refused: {text}"
        );
        Self {
            stream,
            // Whatever came after the head is the start of the server's frames.
            received: head[end + 4..].to_vec(),
        }
    }

    /// Writes `chunks` one write each, letting the server run between them, while reading
    /// the server's frames into `on_frame` until it returns `true` or the stream ends.
    /// Writing stops early when the server no longer reads. Returns whether `on_frame`
    /// finished (`false`: the stream ended first).
    ///
    /// Reading and writing go together so that a server answering faster than the client
    /// writes never fills the pipe and stalls both.
    ///
    /// Not bounded in time: the caller bounds the whole exchange.
    pub async fn exchange(
        &mut self,
        chunks: &[&[u8]],
        mut on_frame: impl FnMut(ServerFrame) -> bool,
    ) -> bool {
        let (mut reader, mut writer) = tokio::io::split(&mut self.stream);
        let received = &mut self.received;
        let write = async {
            for (i, chunk) in chunks.iter().enumerate() {
                if i > 0 {
                    // The server reads each write on its own (as far as scheduling allows),
                    // so frames arrive cut where the input chose.
                    tokio::task::yield_now().await;
                }
                if writer.write_all(chunk).await.is_err() {
                    return;
                }
            }
        };
        let read = async {
            loop {
                match next(&mut reader, received).await {
                    Read::Frame(frame) => {
                        if on_frame(frame) {
                            return true;
                        }
                    }
                    Read::End => return false,
                }
            }
        };
        let ((), finished) = tokio::join!(write, read);
        finished
    }

    /// Writes `bytes` in one write, ignoring a server that no longer reads.
    pub async fn write(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// Shuts the client's sending side: the server reads the end of the stream.
    pub async fn shutdown(&mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// The next frame or the end of the stream; panics past `patience`.
    pub async fn next(&mut self, patience: Duration) -> Read {
        tokio::time::timeout(patience, next(&mut self.stream, &mut self.received))
            .await
            .unwrap_or_else(|_| panic!("nothing from the server within {patience:?}: a hang"))
    }
}

/// The next frame from `reader` (after the bytes already `received`); panics on a frame
/// a server may not send or a stream that ends inside a frame.
async fn next(reader: &mut (impl AsyncReadExt + Unpin), received: &mut Vec<u8>) -> Read {
    loop {
        match parse_server_frame(received) {
            Ok(Some((frame, used))) => {
                received.drain(..used);
                return Read::Frame(frame);
            }
            Ok(None) => {}
            Err(wrong) => {
                panic!("the server sent a frame it may not send: {wrong}: {received:02X?}")
            }
        }
        let mut chunk = [0_u8; 4096];
        // A failed read is the end of the stream for a client.
        let n = reader.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            assert!(
                received.is_empty(),
                "the stream ended inside a frame: {received:02X?}"
            );
            return Read::End;
        }
        received.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Option<ServerFrame>, String> {
        parse_server_frame(bytes).map(|f| f.map(|(frame, _)| frame))
    }

    #[test]
    fn server_frames_are_checked() {
        assert_eq!(
            parse(b"\x81\x02{}"),
            Ok(Some(ServerFrame::Text("{}".to_owned())))
        );
        assert_eq!(parse(b"\x81\x02{"), Ok(None));
        assert_eq!(
            parse(b"\x88\x05\x03\xEFbye"),
            Ok(Some(ServerFrame::Close(Some((1007, "bye".to_owned())))))
        );
        assert_eq!(parse(b"\x8A\x00"), Ok(Some(ServerFrame::Pong(Vec::new()))));
        let long = [&b"\x81\x7E\x00\x7E"[..], &[b' '; 126]].concat();
        assert!(matches!(parse(&long), Ok(Some(ServerFrame::Text(_)))));
        for wrong in [
            &b"\x01\x00"[..],              // not final
            b"\xC1\x00",                   // RSV1
            b"\x82\x00",                   // binary
            b"\x83\x00",                   // reserved opcode
            b"\x81\x80\0\0\0\0",           // masked
            b"\x81\x7E\x00\x05hello",      // 16-bit length under 126
            b"\x81\x7F\0\0\0\0\0\0\x01\0", // 64-bit length under 65 536
            b"\x89\x7E\x00\x7E",           // control over 125 bytes
            b"\x88\x01\x03",               // one-byte close payload
            b"\x88\x02\x03\xED",           // close code 1005
            b"\x88\x03\x03\xE8\xFF",       // reason not UTF-8
            b"\x81\x01\xFF",               // text not UTF-8
        ] {
            assert!(parse(wrong).is_err(), "{wrong:02X?}");
        }
    }
}
