//! [`Socket`]: the server's end of one WebSocket connection over any byte stream.
//!
//! Memory is what an idle connection costs, so a socket keeps no buffer of its own while
//! nothing is arriving or waiting to go out: it reads into one buffer per thread and keeps
//! only the bytes it could not decode yet (the rest of a frame still arriving, or frames
//! read together with the one returned). Frames go out from the caller's queue in one
//! vectored write per batch, header and payload side by side, without copying the payload.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::codec::{self, Decoded, Decoder, MAX_HEADER, Message, Violation, opcode};
use crate::frame::Frame;

/// The per-thread read buffer's size: the most one read takes from a socket.
const READ_CHUNK: usize = 64 * 1024;

/// Pongs not yet written past this many bytes are not queued: a client that pings without
/// reading only gets answers to the pings it reads (RFC 6455 allows answering only the
/// latest).
const MAX_URGENT: usize = 4 * 1024;

/// At most this many large frames go into one vectored write.
const BATCH: usize = 16;

/// Frames up to this size are copied into the per-thread write buffer, up to this many
/// bytes per write; larger ones are written from their own memory.
const MAX_COPIED_FRAME: usize = 2 * 1024;
const MAX_COPIED_BATCH: usize = 16 * 1024;

thread_local! {
    static READ_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
    static WRITE_BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(MAX_COPIED_BATCH));
}

/// Why reading from the client ended the connection.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The client broke RFC 6455 or the size limit.
    Violation(Violation),
    /// The byte stream failed.
    Io(io::Error),
}

/// The server's end of a WebSocket connection.
pub(crate) struct Socket<S> {
    io: S,
    decoder: Decoder,
    /// Bytes read and not decoded yet; `carry_pos` of them are already consumed. Freed as
    /// soon as they are all decoded.
    carry: Vec<u8>,
    carry_pos: usize,
    /// How many bytes (header and payload) of the front frame of the caller's queue have
    /// been written: a write that stops half-way resumes there.
    front_written: usize,
    /// Whole control frames to write before the queue's next frame (after the front one
    /// if it is half-written). Freed once written.
    urgent: Vec<u8>,
    /// Where in `urgent` the last pong starts while it can still be replaced by a newer
    /// one; `NO_PONG` otherwise (a u32, to fit beside the flags).
    pong_at: u32,
    close_sent: bool,
    close_received: bool,
    /// The client broke the protocol: nothing more is decoded.
    failed: bool,
}

const NO_PONG: u32 = u32::MAX;

/// What decoding a run of bytes produced.
struct Step {
    consumed: usize,
    outcome: Outcome,
}

/// What one read brought.
enum Chunk {
    /// A whole message (more bytes may be carried).
    Message(Message),
    /// Bytes that complete no message yet.
    Partial,
    /// The stream ended.
    End,
    Failed(ReadError),
}

enum Outcome {
    Message(Message),
    /// The bytes end inside a frame of this many bytes (a lower bound while its header is
    /// incomplete).
    Incomplete(usize),
}

impl<S: AsyncRead + AsyncWrite + Unpin> Socket<S> {
    /// The server's end of an upgraded stream, refusing messages over `max_message` bytes.
    pub(crate) fn new(io: S, max_message: usize) -> Self {
        Self {
            io,
            decoder: Decoder::new(max_message),
            carry: Vec::new(),
            carry_pos: 0,
            front_written: 0,
            urgent: Vec::new(),
            pong_at: NO_PONG,
            close_sent: false,
            close_received: false,
            failed: false,
        }
    }

    /// Starts reading with `bytes` the client sent before the socket existed (read by the
    /// HTTP server together with the upgrade request).
    pub(crate) fn read_ahead(mut self, bytes: &[u8]) -> Self {
        self.carry.extend_from_slice(bytes);
        self
    }

    /// The underlying stream, e.g. to drain it after the close frame went out.
    pub(crate) fn io_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The next message from the client; `None` once the client closed (its close frame was
    /// returned before) or the stream ended.
    ///
    /// A ping's pong and the echo of a close frame are queued here; the caller writes them
    /// with [`write_frames`](Self::write_frames).
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, ReadError>>> {
        loop {
            if self.close_received {
                return Poll::Ready(None);
            }
            if self.failed {
                // What follows a violation is not framing any more: decoding on would read
                // a payload as headers (and could take a stray byte pattern for a close).
                return Poll::Ready(Some(Err(ReadError::Violation(Violation::Protocol(
                    "the stream broke the protocol earlier",
                )))));
            }
            if self.carry_pos < self.carry.len() {
                let step = decode_some(&mut self.decoder, &self.carry[self.carry_pos..]);
                let step = match step {
                    Ok(step) => step,
                    Err(violation) => return Poll::Ready(Some(Err(self.violated(violation)))),
                };
                self.carry_pos += step.consumed;
                if self.carry_pos == self.carry.len() {
                    self.carry = Vec::new();
                    self.carry_pos = 0;
                }
                match step.outcome {
                    Outcome::Message(message) => {
                        return Poll::Ready(Some(Ok(self.received(message))));
                    }
                    Outcome::Incomplete(frame_len) => {
                        // Keep only the incomplete frame, with room for the next read of
                        // it: what its header declares is reserved as it arrives, not on
                        // the header's word.
                        if !self.carry.is_empty() {
                            self.carry.drain(..self.carry_pos);
                            self.carry_pos = 0;
                            let want = frame_len.min(self.carry.len() + READ_CHUNK);
                            if self.carry.capacity() > 2 * want.max(READ_CHUNK) {
                                self.carry.shrink_to(want);
                            }
                            self.carry.reserve(want.saturating_sub(self.carry.len()));
                        }
                    }
                }
            }
            match ready!(self.poll_read_chunk(cx)) {
                Chunk::Message(message) => return Poll::Ready(Some(Ok(self.received(message)))),
                Chunk::Partial => {}
                Chunk::End => return Poll::Ready(None),
                Chunk::Failed(error) => return Poll::Ready(Some(Err(error))),
            }
        }
    }

    /// Reads once into the thread's buffer. Without carried bytes, decodes straight from
    /// it and carries only the rest; with them, appends to them.
    fn poll_read_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Chunk> {
        READ_BUFFER.with(|cell| {
            // A read cannot re-enter another socket's read on this thread, but should one
            // ever, a buffer of its own beats a panic.
            let mut own;
            let mut guard = cell.try_borrow_mut();
            let buffer: &mut [u8] = match &mut guard {
                Ok(shared) => shared,
                Err(_) => {
                    own = vec![0; READ_CHUNK];
                    &mut own
                }
            };
            let mut read_buf = ReadBuf::new(buffer);
            match ready!(Pin::new(&mut self.io).poll_read(cx, &mut read_buf)) {
                Err(error) => return Poll::Ready(Chunk::Failed(ReadError::Io(error))),
                // The stream ended, perhaps inside a frame: the connection dropped.
                Ok(()) if read_buf.filled().is_empty() => return Poll::Ready(Chunk::End),
                Ok(()) => {}
            }
            let bytes = read_buf.filled();
            if self.carry_pos < self.carry.len() {
                self.carry.extend_from_slice(bytes);
                return Poll::Ready(Chunk::Partial);
            }
            let step = match decode_some(&mut self.decoder, bytes) {
                Ok(step) => step,
                Err(violation) => return Poll::Ready(Chunk::Failed(self.violated(violation))),
            };
            let rest = &bytes[step.consumed..];
            match step.outcome {
                Outcome::Message(message) => {
                    self.carry.extend_from_slice(rest);
                    Poll::Ready(Chunk::Message(message))
                }
                Outcome::Incomplete(frame_len) => {
                    if !rest.is_empty() {
                        self.carry
                            .reserve(frame_len.min(READ_CHUNK).max(rest.len()));
                        self.carry.extend_from_slice(rest);
                    }
                    Poll::Ready(Chunk::Partial)
                }
            }
        })
    }

    /// Stops decoding for good: see `failed`.
    fn violated(&mut self, violation: Violation) -> ReadError {
        self.failed = true;
        self.carry = Vec::new();
        self.carry_pos = 0;
        ReadError::Violation(violation)
    }

    /// Answers what the socket answers on its own: a ping with its pong, a close with its
    /// echo (unless the server's close went out first).
    fn received(&mut self, message: Message) -> Message {
        match &message {
            Message::Ping(payload) if !self.close_sent => {
                // A pong still waiting, untouched, is replaced: RFC 6455 lets a server
                // answer only the latest of the pings it has not answered yet, and a client
                // that pings without reading then costs one pong, not one per ping.
                if let Some(start) = self.waiting_pong() {
                    self.urgent.truncate(start);
                }
                if self.urgent.len() < MAX_URGENT {
                    self.pong_at = u32::try_from(self.urgent.len()).unwrap_or(NO_PONG);
                    self.urgent
                        .extend(codec::control_frame(opcode::PONG, payload));
                }
            }
            Message::Close(frame) => {
                self.close_received = true;
                self.carry = Vec::new();
                self.carry_pos = 0;
                if !self.close_sent {
                    let echo = frame.as_ref().map(|f| (f.code, ""));
                    self.urgent.extend(codec::close_frame(echo));
                    self.close_sent = true;
                }
            }
            _ => {}
        }
        message
    }

    /// Where the last queued pong starts in `urgent`, if nothing follows it and none of
    /// it has been written.
    fn waiting_pong(&self) -> Option<usize> {
        let start = usize::try_from(self.pong_at).ok()?;
        (self.pong_at != NO_PONG && start < self.urgent.len()).then_some(start)
    }

    /// Queues a ping, sent by the next [`write_frames`](Self::write_frames).
    pub(crate) fn queue_ping(&mut self) {
        if !self.close_sent {
            self.pong_at = NO_PONG;
            self.urgent.extend(codec::control_frame(opcode::PING, &[]));
        }
    }

    /// Queues the server's close frame; nothing is sent after it.
    pub(crate) fn queue_close(&mut self, code: u16, reason: &str) {
        if !self.close_sent {
            self.pong_at = NO_PONG;
            self.urgent.extend(codec::close_frame(Some((code, reason))));
            self.close_sent = true;
        }
    }

    /// Drops the frames of `frames` that have not started going out, returning their
    /// bytes; a half-written front frame stays, since the stream must finish it before
    /// anything else can follow.
    pub(crate) fn discard_unstarted(&self, frames: &mut VecDeque<Frame>) -> usize {
        let keep = usize::from(self.front_written > 0).min(frames.len());
        frames.drain(keep..).map(|frame| frame.len()).sum()
    }

    /// Writes the queued control frames and `frames` (text frames, removed as they are
    /// written, `written` called with each one's length), then flushes.
    pub(crate) async fn write_frames(
        &mut self,
        frames: &mut VecDeque<Frame>,
        mut written: impl FnMut(usize),
    ) -> io::Result<()> {
        poll_fn(|cx| self.poll_write_frames(cx, frames, &mut written)).await
    }

    /// [`write_frames`](Self::write_frames) as a poll function.
    pub(crate) fn poll_write_frames(
        &mut self,
        cx: &mut Context<'_>,
        frames: &mut VecDeque<Frame>,
        written: &mut impl FnMut(usize),
    ) -> Poll<io::Result<()>> {
        loop {
            // A half-written frame first: nothing may come between its bytes.
            if self.front_written > 0 {
                if let Some(front) = frames.front() {
                    let (header, header_len) = codec::header(opcode::TEXT, front.len());
                    let header = &header[..header_len];
                    let payload = front.as_str().as_bytes();
                    let n = ready!(self.poll_write_from(cx, header, payload, self.front_written))?;
                    self.front_written += n;
                    if self.front_written == header_len + payload.len() {
                        self.front_written = 0;
                        if let Some(done) = frames.pop_front() {
                            written(done.len());
                        }
                    }
                    continue;
                }
                self.front_written = 0;
            }
            if !self.urgent.is_empty() {
                let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.urgent))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.urgent.drain(..n);
                // A pong partly written can no longer be replaced.
                if let Some(start) = self.waiting_pong() {
                    self.pong_at = start
                        .checked_sub(n)
                        .and_then(|start| u32::try_from(start).ok())
                        .unwrap_or(NO_PONG);
                }
                if self.urgent.is_empty() {
                    self.urgent = Vec::new();
                }
                continue;
            }
            if frames.is_empty() {
                return Pin::new(&mut self.io).poll_flush(cx);
            }
            if self.close_sent {
                // Nothing may follow the close frame.
                for frame in frames.drain(..) {
                    written(frame.len());
                }
                continue;
            }
            let n = ready!(self.poll_write_batch(cx, frames))?;
            self.advance(frames, n, written);
        }
    }

    /// Writes the bytes of `header` then `payload` from `offset` on, in one call.
    fn poll_write_from(
        &mut self,
        cx: &mut Context<'_>,
        header: &[u8],
        payload: &[u8],
        offset: usize,
    ) -> Poll<io::Result<usize>> {
        let (header, payload) = match offset.checked_sub(header.len()) {
            None => (&header[offset..], payload),
            Some(into_payload) => (&[][..], &payload[into_payload..]),
        };
        if header.is_empty() && payload.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let slices = [IoSlice::new(header), IoSlice::new(payload)];
        let n = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices))?;
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        Poll::Ready(Ok(n))
    }

    /// One write of the first frames of `frames` (none of them started). Small frames are
    /// copied into one buffer per thread and written with one plain write, which the kernel
    /// handles for less than a vector of small slices; large ones go out as slices of their
    /// own, uncopied.
    fn poll_write_batch(
        &mut self,
        cx: &mut Context<'_>,
        frames: &VecDeque<Frame>,
    ) -> Poll<io::Result<usize>> {
        let io = &mut self.io;
        let copied = WRITE_BUFFER.with(|cell| {
            let Ok(mut buffer) = cell.try_borrow_mut() else {
                return None;
            };
            buffer.clear();
            for frame in frames {
                if frame.len() > MAX_COPIED_FRAME
                    || buffer.len() + MAX_HEADER + frame.len() > MAX_COPIED_BATCH
                {
                    break;
                }
                let (header, used) = codec::header(opcode::TEXT, frame.len());
                buffer.extend_from_slice(&header[..used]);
                buffer.extend_from_slice(frame.as_str().as_bytes());
            }
            if buffer.is_empty() {
                return None;
            }
            Some(Pin::new(&mut *io).poll_write(cx, &buffer))
        });
        let n = match copied {
            Some(poll) => ready!(poll)?,
            None => {
                let mut headers = [([0_u8; MAX_HEADER], 0_usize); BATCH];
                let mut slices = [IoSlice::new(&[]); 2 * BATCH];
                let mut count = 0;
                for (slot, frame) in headers.iter_mut().zip(frames) {
                    *slot = codec::header(opcode::TEXT, frame.len());
                }
                for ((header, used), frame) in headers.iter().zip(frames) {
                    slices[count] = IoSlice::new(&header[..*used]);
                    slices[count + 1] = IoSlice::new(frame.as_str().as_bytes());
                    count += 2;
                }
                ready!(Pin::new(&mut *io).poll_write_vectored(cx, &slices[..count]))?
            }
        };
        if n == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        Poll::Ready(Ok(n))
    }

    /// Accounts `n` bytes written from the start of `frames`.
    fn advance(
        &mut self,
        frames: &mut VecDeque<Frame>,
        mut n: usize,
        written: &mut impl FnMut(usize),
    ) {
        while let Some(front) = frames.front() {
            let total = codec::header(opcode::TEXT, front.len()).1 + front.len();
            if n < total {
                self.front_written = n;
                return;
            }
            n -= total;
            if let Some(done) = frames.pop_front() {
                written(done.len());
            }
        }
    }
}

/// Decodes frames from `input` until one completes a message or the input ends inside a
/// frame.
fn decode_some(decoder: &mut Decoder, input: &[u8]) -> Result<Step, Violation> {
    let mut consumed = 0;
    loop {
        match decoder.decode(&input[consumed..])? {
            Decoded::Incomplete { frame_len } => {
                return Ok(Step {
                    consumed,
                    outcome: Outcome::Incomplete(frame_len),
                });
            }
            Decoded::Frame {
                consumed: frame,
                message,
            } => {
                consumed += frame;
                if let Some(message) = message {
                    return Ok(Step {
                        consumed,
                        outcome: Outcome::Message(message),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

    use super::*;

    const MASK: [u8; 4] = [1, 2, 3, 4];

    fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let (header, used) = codec::header(opcode, payload.len());
        let mut frame = header[..used].to_vec();
        frame[1] |= 0x80;
        frame.extend_from_slice(&MASK);
        frame.extend(payload.iter().zip(MASK.iter().cycle()).map(|(b, k)| b ^ k));
        frame
    }

    fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let (header, used) = codec::header(opcode, payload.len());
        [&header[..used], payload].concat()
    }

    async fn next(socket: &mut Socket<DuplexStream>) -> Option<Result<Message, ReadError>> {
        poll_fn(|cx| socket.poll_next(cx)).await
    }

    #[tokio::test]
    async fn frames_read_together_are_returned_one_by_one_and_then_nothing_is_kept() {
        let (mut client, server) = duplex(1 << 20);
        let mut socket = Socket::new(server, 1 << 20);
        let big = "b".repeat(100_000);
        let input = [
            client_frame(opcode::TEXT, b"one"),
            client_frame(opcode::PONG, b""),
            client_frame(opcode::TEXT, big.as_bytes()),
        ]
        .concat();
        // Byte by byte for the first frames, then the rest at once.
        for byte in &input[..12] {
            client.write_all(&[*byte]).await.expect("write");
            tokio::task::yield_now().await;
        }
        client.write_all(&input[12..]).await.expect("write");
        assert!(matches!(next(&mut socket).await, Some(Ok(Message::Text(t))) if t == "one"));
        assert!(matches!(next(&mut socket).await, Some(Ok(Message::Pong))));
        assert!(matches!(next(&mut socket).await, Some(Ok(Message::Text(t))) if t == big));
        // Idle again: no buffer held.
        assert_eq!(socket.carry.capacity(), 0);
        drop(client);
        assert!(next(&mut socket).await.is_none());
    }

    #[tokio::test]
    async fn a_frame_cut_short_is_finished_before_the_close_frame() {
        // A pipe of 16 bytes that nobody reads yet: the first write stops part-way.
        let (mut client, server) = duplex(16);
        let mut socket = Socket::new(server, 1024);
        let first = Frame::from_text("x".repeat(300));
        let mut frames: VecDeque<Frame> = [first.clone(), Frame::from_text("dropped")]
            .into_iter()
            .collect();
        let mut sent = Vec::new();
        {
            let write = socket.write_frames(&mut frames, |len| sent.push(len));
            assert!(
                tokio::time::timeout(std::time::Duration::from_millis(50), write)
                    .await
                    .is_err(),
                "the pipe is full"
            );
        }
        assert!(socket.front_written > 0);
        assert_eq!(socket.discard_unstarted(&mut frames), "dropped".len());
        socket.queue_close(1008, "bye");
        let reader = tokio::spawn(async move {
            let mut bytes = Vec::new();
            client.read_to_end(&mut bytes).await.expect("read");
            bytes
        });
        socket
            .write_frames(&mut frames, |len| sent.push(len))
            .await
            .expect("written");
        drop(socket);
        let bytes = reader.await.expect("reader");
        let expected = [
            server_frame(opcode::TEXT, first.as_str().as_bytes()),
            codec::close_frame(Some((1008, "bye"))),
        ]
        .concat();
        assert_eq!(bytes, expected);
        assert_eq!(sent, vec![300]);
    }

    #[tokio::test]
    async fn batches_keep_frame_order_through_partial_writes() {
        let (mut client, server) = duplex(7);
        let mut socket = Socket::new(server, 1024);
        // Small frames (copied into one buffer) and large ones (written as slices) mixed.
        let texts: Vec<String> = (0..150)
            .map(|i| "y".repeat(if i % 10 == 3 { 3_000 + i } else { i * 7 % 300 }))
            .collect();
        let mut frames: VecDeque<Frame> = texts.iter().cloned().map(Frame::from_text).collect();
        let reader = tokio::spawn(async move {
            let mut bytes = Vec::new();
            client.read_to_end(&mut bytes).await.expect("read");
            bytes
        });
        let mut count = 0;
        socket
            .write_frames(&mut frames, |_| count += 1)
            .await
            .expect("written");
        drop(socket);
        let expected: Vec<u8> = texts
            .iter()
            .flat_map(|t| server_frame(opcode::TEXT, t.as_bytes()))
            .collect();
        assert_eq!(reader.await.expect("reader"), expected);
        assert_eq!(count, texts.len());
    }

    /// The header of a masked text frame declaring `len` payload bytes (64-bit length form),
    /// and its mask.
    fn declared_header(len: u64) -> Vec<u8> {
        let mut header = vec![0x81, 0x80 | 127];
        header.extend_from_slice(&len.to_be_bytes());
        header.extend_from_slice(&MASK);
        header
    }

    /// Polls `socket` once for a message: a header whose payload has not come must leave it
    /// waiting.
    fn poll_once(socket: &mut Socket<DuplexStream>) -> Poll<Option<Result<Message, ReadError>>> {
        let waker = futures_util::task::noop_waker();
        socket.poll_next(&mut Context::from_waker(&waker))
    }

    #[tokio::test]
    async fn a_declared_length_is_not_reserved_before_its_bytes_arrive() {
        // A limit for large uploads. The client sends a header declaring a frame of the whole
        // limit, and four bytes of it: what the socket keeps must follow what arrived, not
        // what was promised, or every connection can make the server hold the limit in
        // memory for 18 bytes sent (and trickle the rest, or never send it).
        const LIMIT: usize = 256 << 20;
        let (mut client, server) = duplex(1 << 16);
        let mut socket = Socket::new(server, LIMIT);
        let mut bytes = declared_header(LIMIT as u64);
        bytes.extend_from_slice(b"abcd");
        client.write_all(&bytes).await.expect("write");
        assert!(poll_once(&mut socket).is_pending());
        assert!(
            socket.carry.capacity() <= 2 * READ_CHUNK,
            "{} bytes reserved for {} received",
            socket.carry.capacity(),
            bytes.len()
        );
    }

    #[tokio::test]
    async fn a_huge_declared_length_under_an_unbounded_limit_does_not_panic() {
        // `max_frame_size(usize::MAX)`: "no limit". A header declaring 2^63 - 1 bytes (the
        // largest length RFC 6455 allows) passes the limit; reserving it up front panics
        // with "capacity overflow" (a length under isize::MAX but over the machine's memory
        // aborts the process instead).
        let (mut client, server) = duplex(1 << 16);
        let mut socket = Socket::new(server, usize::MAX);
        let mut bytes = declared_header(u64::MAX >> 1);
        bytes.extend_from_slice(b"abcd");
        client.write_all(&bytes).await.expect("write");
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            poll_once(&mut socket).is_pending()
        }));
        assert!(
            matches!(polled, Ok(true)),
            "a 14-byte header made the socket panic"
        );
    }

    #[tokio::test]
    async fn pings_are_answered_and_a_close_is_echoed_once() {
        let (mut client, server) = duplex(1 << 16);
        let mut socket = Socket::new(server, 1024);
        let input = [
            client_frame(opcode::PING, b"hi"),
            client_frame(opcode::CLOSE, &[0x03, 0xE8, b'o', b'k']),
            client_frame(opcode::TEXT, b"ignored after the close"),
        ]
        .concat();
        client.write_all(&input).await.expect("write");
        assert!(matches!(next(&mut socket).await, Some(Ok(Message::Ping(p))) if p == b"hi"));
        assert!(matches!(
            next(&mut socket).await,
            Some(Ok(Message::Close(Some(_))))
        ));
        assert!(next(&mut socket).await.is_none());
        socket.queue_close(1000, "not sent twice");
        socket
            .write_frames(&mut VecDeque::new(), |_| {})
            .await
            .expect("written");
        drop(socket);
        let mut bytes = Vec::new();
        client.read_to_end(&mut bytes).await.expect("read");
        let expected = [
            server_frame(opcode::PONG, b"hi"),
            codec::close_frame(Some((1000, ""))),
        ]
        .concat();
        assert_eq!(bytes, expected);
    }
    #[tokio::test]
    async fn unanswered_pings_get_one_pong_for_the_latest() {
        let (mut client, server) = duplex(1 << 16);
        let mut socket = Socket::new(server, 1024);
        let pings: Vec<u8> = (0..50)
            .flat_map(|i: u8| client_frame(opcode::PING, &[i]))
            .collect();
        client.write_all(&pings).await.expect("write");
        for i in 0..50_u8 {
            assert!(matches!(next(&mut socket).await, Some(Ok(Message::Ping(p))) if p == [i]));
        }
        socket
            .write_frames(&mut VecDeque::new(), |_| {})
            .await
            .expect("written");
        drop(socket);
        let mut bytes = Vec::new();
        client.read_to_end(&mut bytes).await.expect("read");
        assert_eq!(bytes, server_frame(opcode::PONG, &[49]));
    }

    #[tokio::test]
    async fn nothing_is_decoded_after_a_violation() {
        let (mut client, server) = duplex(1 << 16);
        let mut socket = Socket::new(server, 1024);
        let mut unmasked = client_frame(opcode::TEXT, b"x");
        unmasked[1] &= 0x7F;
        let input = [unmasked, client_frame(opcode::TEXT, b"after")].concat();
        client.write_all(&input).await.expect("write");
        assert!(matches!(
            next(&mut socket).await,
            Some(Err(ReadError::Violation(Violation::Protocol(_))))
        ));
        // The well-formed frame after it is never returned.
        assert!(matches!(next(&mut socket).await, Some(Err(_))));
        assert_eq!(socket.carry.capacity(), 0);
    }
}
