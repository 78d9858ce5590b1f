//! Scenario (a): RPC echo. A fixed number of connections each keep exactly one `ECHO`
//! request in flight for a fixed time; every reply is checked (type, correlation id, text)
//! and timed, and the server's CPU time over the measured window is read from `/proc`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use crate::client::{self, Envelope, Socket};
use crate::stats::percentile;
use crate::{Error, procfs};

/// How long one request may wait for its reply before it counts as an error.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// One echo load: how many connections, for how long.
#[derive(Clone, Debug)]
pub struct EchoLoad {
    /// The server's `ws://` URL.
    pub url: String,
    /// Concurrent connections, each with one request in flight.
    pub connections: usize,
    /// Unmeasured time first (connections warm up, allocators settle).
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// Characters of echoed text; 90 makes the payload `{"text":"…"}` about 100 bytes.
    pub text_len: usize,
    /// Replies are `ECHO_REPLY` (a router) rather than the request sent back (a raw echo).
    pub typed_reply: bool,
    /// The server process, to read its CPU time.
    pub server_pid: Option<u32>,
}

/// What one echo load measured.
#[derive(Clone, Debug)]
pub struct EchoRun {
    /// Round trips completed inside the measured window.
    pub round_trips: u64,
    /// Failed requests or connections (timeouts, wrong replies, error frames).
    pub errors: u64,
    /// The first failure, to show.
    pub first_error: Option<String>,
    /// The measured window's length.
    pub window: Duration,
    /// Round-trip latencies of the measured window, in nanoseconds, sorted.
    pub latencies_ns: Vec<u64>,
    /// Server CPU time (user + system) during the window.
    pub server_cpu: Option<Duration>,
    /// The share of `server_cpu` spent in user space (the rest is the kernel's), from the
    /// tick counts of the same window.
    pub server_user_share: Option<f64>,
    /// The load generator's own CPU time during the window: on a small machine it shares
    /// the cores with the server, so it bounds the round trips per second.
    pub client_cpu: Option<Duration>,
}

impl EchoRun {
    /// Round trips per second.
    pub fn rate(&self) -> f64 {
        self.round_trips as f64 / self.window.as_secs_f64()
    }

    /// A latency quantile in microseconds.
    pub fn latency_us(&self, q: f64) -> Option<f64> {
        percentile(&self.latencies_ns, q).map(|ns| ns as f64 / 1000.0)
    }

    /// Server CPU microseconds per round trip.
    pub fn cpu_us_per_round_trip(&self) -> Option<f64> {
        self.per_round_trip_us(self.server_cpu?)
    }

    /// Server CPU microseconds per round trip spent in user space: the server's own work
    /// (framing, parsing, handlers, encoding, scheduling), apart from the kernel's.
    pub fn user_cpu_us_per_round_trip(&self) -> Option<f64> {
        Some(self.cpu_us_per_round_trip()? * self.server_user_share?)
    }

    /// Server CPU microseconds per round trip spent in the kernel (system calls and, on
    /// loopback, TCP for both ends of each write).
    pub fn kernel_cpu_us_per_round_trip(&self) -> Option<f64> {
        Some(self.cpu_us_per_round_trip()? * (1.0 - self.server_user_share?))
    }

    /// Load generator CPU microseconds per round trip.
    pub fn client_cpu_us_per_round_trip(&self) -> Option<f64> {
        self.per_round_trip_us(self.client_cpu?)
    }

    fn per_round_trip_us(&self, cpu: Duration) -> Option<f64> {
        (self.round_trips > 0).then(|| cpu.as_secs_f64() * 1e6 / self.round_trips as f64)
    }
}

/// What one connection's task reports.
struct ConnectionReport {
    latencies_ns: Vec<u64>,
    error: Option<String>,
}

/// Runs `load` against its server.
///
/// # Errors
/// No connection could be opened, or `/proc` could not be read.
pub async fn run(load: &EchoLoad) -> Result<EchoRun, Error> {
    let mut sockets = Vec::with_capacity(load.connections);
    for _ in 0..load.connections {
        sockets.push(client::connect(&load.url).await?);
    }
    let text: Arc<str> = "twinwire echo benchmark payload "
        .chars()
        .cycle()
        .take(load.text_len)
        .collect::<String>()
        .into();
    let start = Instant::now() + load.warmup;
    let end = start + load.duration;

    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(index, socket)| {
            let text = Arc::clone(&text);
            let typed = load.typed_reply;
            tokio::spawn(drive(socket, index, text, typed, start, end))
        })
        .collect();

    let own_pid = std::process::id();
    let cpu_of = |pid: Option<u32>| pid.map(procfs::cpu_time_precise).transpose();
    tokio::time::sleep_until(start).await;
    let ticks_of = |pid: Option<u32>| pid.map(procfs::cpu_ticks).transpose();
    let (server_before, client_before) = (cpu_of(load.server_pid)?, cpu_of(Some(own_pid))?);
    let ticks_before = ticks_of(load.server_pid)?;
    tokio::time::sleep_until(end).await;
    let (server_after, client_after) = (cpu_of(load.server_pid)?, cpu_of(Some(own_pid))?);
    let ticks_after = ticks_of(load.server_pid)?;
    let used =
        |after: Option<Duration>, before: Option<Duration>| Some(after?.saturating_sub(before?));

    let mut run = EchoRun {
        round_trips: 0,
        errors: 0,
        first_error: None,
        window: load.duration,
        latencies_ns: Vec::new(),
        server_cpu: used(server_after, server_before),
        server_user_share: ticks_before
            .zip(ticks_after)
            .and_then(|(before, after)| before.user_share_until(after)),
        client_cpu: used(client_after, client_before),
    };
    for task in tasks {
        let report = match task.await {
            Ok(report) => report,
            Err(join) => ConnectionReport {
                latencies_ns: Vec::new(),
                error: Some(format!("a client task failed: {join}")),
            },
        };
        run.latencies_ns.extend(report.latencies_ns);
        if let Some(error) = report.error {
            run.errors += 1;
            run.first_error.get_or_insert(error);
        }
    }
    run.round_trips = run.latencies_ns.len() as u64;
    run.latencies_ns.sort_unstable();
    Ok(run)
}

/// One connection: request, check, repeat until `end`; latencies count from `start`.
async fn drive(
    mut socket: Socket,
    index: usize,
    text: Arc<str>,
    typed: bool,
    start: Instant,
    end: Instant,
) -> ConnectionReport {
    let mut latencies_ns = Vec::new();
    let frames = RequestFrames::new(index, &text);
    let mut error = None;
    for seq in 0u64.. {
        let (frame, id) = frames.frame(seq);
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        if let Err(err) = round_trip(&mut socket, frame, &id, &text, typed).await {
            error = Some(format!("connection {index}, request {id}: {err}"));
            break;
        }
        let done = Instant::now();
        if sent >= start && done <= end {
            latencies_ns.push(u64::try_from((done - sent).as_nanos()).unwrap_or(u64::MAX));
        }
    }
    // A clean close, without waiting long for the server's echo of it.
    let _ = tokio::time::timeout(Duration::from_millis(200), socket.close(None)).await;
    ConnectionReport {
        latencies_ns,
        error,
    }
}

/// A connection's `ECHO` requests, built by splicing the sequence number into fixed text:
/// the load generator shares the CPU with the server, so it avoids JSON encoding per
/// request.
struct RequestFrames {
    index: usize,
    head: String,
    tail: String,
}

impl RequestFrames {
    fn new(index: usize, text: &str) -> Self {
        Self {
            index,
            head: format!(r#"{{"type":"ECHO","meta":{{"correlationId":"c{index}-"#),
            tail: format!(r#""}},"payload":{}}}"#, json!({ "text": text })),
        }
    }

    /// Request `seq`'s frame and correlation id.
    fn frame(&self, seq: u64) -> (String, String) {
        (
            format!("{}{seq}{}", self.head, self.tail),
            format!("c{}-{seq}", self.index),
        )
    }
}

async fn round_trip(
    socket: &mut Socket,
    frame: String,
    id: &str,
    text: &str,
    typed: bool,
) -> Result<(), Error> {
    client::send(socket, frame).await?;
    let reply = client::next_text(socket, REPLY_TIMEOUT).await?;
    check_reply(&reply, id, text, typed)
}

/// Checks a reply: the expected type, the request's correlation id and its text.
fn check_reply(reply: &str, id: &str, text: &str, typed: bool) -> Result<(), Error> {
    let envelope = Envelope::parse(reply)?;
    envelope.fail_on_error()?;
    let expected = if typed { "ECHO_REPLY" } else { "ECHO" };
    if envelope.wire_type != expected {
        return Err(format!("expected {expected}, got {}", envelope.wire_type).into());
    }
    if envelope.correlation_id() != Some(id) {
        return Err(format!(
            "correlation id mismatch: sent {id:?}, got {:?}",
            envelope.correlation_id()
        )
        .into());
    }
    if envelope.text_payload()?.text.as_deref() != Some(text) {
        return Err("the echoed text differs from the request's".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_frames_are_envelopes_with_the_correlation_id() {
        let (frame, id) = RequestFrames::new(3, "a\"b").frame(17);
        assert_eq!(id, "c3-17");
        let parsed = Envelope::parse(&frame).unwrap();
        assert_eq!(parsed.wire_type, "ECHO");
        assert_eq!(parsed.correlation_id(), Some("c3-17"));
        assert_eq!(parsed.text_payload().unwrap().text.as_deref(), Some("a\"b"));
    }

    #[test]
    fn replies_are_checked_for_type_id_and_text() {
        let good = r#"{"type":"ECHO_REPLY","meta":{"correlationId":"c1-2","timestamp":1},"payload":{"text":"hi"}}"#;
        check_reply(good, "c1-2", "hi", true).unwrap();
        assert!(check_reply(good, "c1-3", "hi", true).is_err());
        assert!(check_reply(good, "c1-2", "ho", true).is_err());
        assert!(check_reply(good, "c1-2", "hi", false).is_err());
        let echoed = r#"{"type":"ECHO","meta":{"correlationId":"c1-2"},"payload":{"text":"hi"}}"#;
        check_reply(echoed, "c1-2", "hi", false).unwrap();
        let error = r#"{"type":"RPC_ERROR","meta":{"correlationId":"c1-2"},"payload":{"code":"INTERNAL","message":"x"}}"#;
        assert!(check_reply(error, "c1-2", "hi", true).is_err());
    }
}
