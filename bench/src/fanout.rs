//! Scenario (b): fan-out. Many connections subscribe to one topic (each waits for its
//! `SUBSCRIBED`), then a separate connection sends `PUBLISH` several times, one at a time.
//! For each publish the load generator notes when it sent it and when the last subscriber
//! read the resulting `NEWS`: that span is the time until the last subscriber has it, and
//! subscribers divided by it the deliveries per second.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::{self, Envelope, Socket};
use crate::{Error, procfs};

/// The topic every subscriber joins.
pub const TOPIC: &str = "bench";

/// How many connections are opened at once while setting up.
const CONNECT_CONCURRENCY: usize = 32;

/// One fan-out load.
#[derive(Clone, Debug)]
pub struct FanoutLoad {
    /// The server's `ws://` URL.
    pub url: String,
    /// Subscribed connections.
    pub subscribers: usize,
    /// Unmeasured publishes first.
    pub warmup_publishes: usize,
    /// Measured publishes, one at a time.
    pub publishes: usize,
    /// Pause between publishes, so each starts from a quiet server.
    pub pause: Duration,
    /// How long the last subscriber may take to receive one publish.
    pub delivery_timeout: Duration,
    /// The server process, to read its CPU time over the measured publishes.
    pub server_pid: Option<u32>,
}

/// One measured publish.
#[derive(Clone, Copy, Debug)]
pub struct Delivery {
    /// From sending `PUBLISH` to the last subscriber reading `NEWS`.
    pub last_subscriber: Duration,
    /// Subscribers that got it.
    pub delivered: usize,
}

impl Delivery {
    /// Deliveries per second.
    pub fn rate(&self) -> f64 {
        self.delivered as f64 / self.last_subscriber.as_secs_f64()
    }
}

/// What a fan-out load measured.
#[derive(Clone, Debug, Default)]
pub struct FanoutRun {
    /// The measured publishes, each fully delivered.
    pub deliveries: Vec<Delivery>,
    /// Failures: a subscriber that could not subscribe, a wrong frame, a publish that did
    /// not reach everyone in time.
    pub errors: u64,
    /// The first failure, to show.
    pub first_error: Option<String>,
    /// How many subscribers a publish that timed out reached (the load stops there).
    pub incomplete: Option<usize>,
    /// Server CPU time from the first measured publish to the last delivery, pauses
    /// included (an idle server uses next to none).
    pub server_cpu: Option<Duration>,
    /// The share of `server_cpu` spent in user space, from tick counts (10 ms each); `None`
    /// for a window too short to tell (1,000 subscribers: some tens of ticks).
    pub server_user_share: Option<f64>,
}

impl FanoutRun {
    /// Server CPU microseconds per delivery over the measured publishes.
    pub fn cpu_us_per_delivery(&self) -> Option<f64> {
        let delivered: usize = self.deliveries.iter().map(|d| d.delivered).sum();
        let cpu = self.server_cpu?;
        (delivered > 0).then(|| cpu.as_secs_f64() * 1e6 / delivered as f64)
    }

    /// Server CPU microseconds per delivery spent in user space.
    pub fn user_cpu_us_per_delivery(&self) -> Option<f64> {
        Some(self.cpu_us_per_delivery()? * self.server_user_share?)
    }

    /// Server CPU microseconds per delivery spent in the kernel.
    pub fn kernel_cpu_us_per_delivery(&self) -> Option<f64> {
        Some(self.cpu_us_per_delivery()? * (1.0 - self.server_user_share?))
    }
}

/// The round's progress, shared by every subscriber's reader.
struct Tally {
    base: Instant,
    round: AtomicUsize,
    received: AtomicUsize,
    /// Nanoseconds after `base` of the latest delivery this round.
    last_ns: AtomicU64,
    subscribers: usize,
    everyone: Notify,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Tally {
    fn fail(&self, error: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self
            .first_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        first.get_or_insert(error);
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Runs `load` against its server.
///
/// # Errors
/// The publisher could not connect or send. Subscriber failures are counted in the result.
pub async fn run(load: &FanoutLoad) -> Result<FanoutRun, Error> {
    let subscribed: Vec<Result<Socket, Error>> =
        futures_util::stream::iter((0..load.subscribers).map(|i| subscribe(&load.url, i)))
            .buffer_unordered(CONNECT_CONCURRENCY)
            .collect()
            .await;

    let tally = Arc::new(Tally {
        base: Instant::now(),
        round: AtomicUsize::new(usize::MAX),
        received: AtomicUsize::new(0),
        last_ns: AtomicU64::new(0),
        subscribers: load.subscribers,
        everyone: Notify::new(),
        errors: AtomicU64::new(0),
        first_error: std::sync::Mutex::new(None),
    });
    let mut readers = JoinSet::new();
    for socket in subscribed {
        match socket {
            Ok(socket) => {
                readers.spawn(read_news(socket, Arc::clone(&tally)));
            }
            Err(err) => tally.fail(err.to_string()),
        }
    }

    let mut run = FanoutRun::default();
    if tally.errors.load(Ordering::Relaxed) == 0 {
        let mut publisher = client::connect(&load.url).await?;
        let mut cpu_before = None;
        let mut ticks_before = None;
        for round in 0..load.warmup_publishes + load.publishes {
            tokio::time::sleep(load.pause).await;
            if round == load.warmup_publishes {
                cpu_before = load.server_pid.map(procfs::cpu_time_precise).transpose()?;
                ticks_before = load.server_pid.map(procfs::cpu_ticks).transpose()?;
            }
            match publish_once(&mut publisher, &tally, round, load.delivery_timeout).await? {
                Ok(delivery) if round >= load.warmup_publishes => run.deliveries.push(delivery),
                Ok(_) => {}
                Err(reached) => {
                    run.incomplete = Some(reached);
                    break;
                }
            }
        }
        if let (Some(pid), Some(before), None) = (load.server_pid, cpu_before, run.incomplete) {
            run.server_cpu = Some(procfs::cpu_time_precise(pid)?.saturating_sub(before));
            let ticks_after = procfs::cpu_ticks(pid)?;
            run.server_user_share = ticks_before.and_then(|b| b.user_share_until(ticks_after));
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), publisher.close(None)).await;
    }
    readers.abort_all();
    run.errors = tally.errors.load(Ordering::Relaxed);
    run.first_error = tally
        .first_error
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    Ok(run)
}

/// Sends one publish and waits until every subscriber has it; `Err(reached)` when they did
/// not within `wait` (counted as an error).
async fn publish_once(
    publisher: &mut Socket,
    tally: &Tally,
    round: usize,
    wait: Duration,
) -> Result<Result<Delivery, usize>, Error> {
    tally.received.store(0, Ordering::SeqCst);
    tally.last_ns.store(0, Ordering::SeqCst);
    tally.round.store(round, Ordering::SeqCst);
    let text = news_text(round);
    let frame = client::message("PUBLISH", &json!({ "topic": TOPIC, "text": text }));
    let everyone = tally.everyone.notified();
    let sent = tally.now_ns();
    client::send(publisher, frame).await?;
    if tokio::time::timeout(wait, everyone).await.is_err() {
        let got = tally.received.load(Ordering::SeqCst);
        tally.fail(format!(
            "publish {round} reached {got} of {} subscribers within {wait:?}",
            tally.subscribers
        ));
        return Ok(Err(got));
    }
    let last = tally.last_ns.load(Ordering::SeqCst).saturating_sub(sent);
    Ok(Ok(Delivery {
        last_subscriber: Duration::from_nanos(last),
        delivered: tally.subscribers,
    }))
}

/// The `NEWS` text of publish `round`: about 100 bytes of payload, numbered so a late
/// delivery of an earlier round is told apart.
fn news_text(round: usize) -> String {
    let mut text = format!("publish {round} ");
    while text.len() < 88 {
        text.push_str("fan-out ");
    }
    text.truncate(88);
    text
}

fn round_of(text: &str) -> Option<usize> {
    text.strip_prefix("publish ")?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// Connects subscriber `index` and waits for its `SUBSCRIBED`.
async fn subscribe(url: &str, index: usize) -> Result<Socket, Error> {
    let mut socket = client::connect(url).await?;
    let id = format!("s{index}");
    client::send(
        &mut socket,
        client::request("SUBSCRIBE", &id, &json!({ "topic": TOPIC })),
    )
    .await?;
    let reply = client::next_text(&mut socket, Duration::from_secs(10)).await?;
    let envelope = Envelope::parse(&reply)?;
    envelope.fail_on_error()?;
    if envelope.wire_type != "SUBSCRIBED" || envelope.correlation_id() != Some(&id) {
        return Err(format!("subscriber {index} expected SUBSCRIBED for {id}, got {reply}").into());
    }
    Ok(socket)
}

/// Reads a subscriber's frames, counting each `NEWS` of the current round.
async fn read_news(mut socket: Socket, tally: Arc<Tally>) {
    loop {
        let frame = match socket.next().await {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            Some(Err(err)) => return tally.fail(format!("a subscriber's read failed: {err}")),
            None => return tally.fail("the server dropped a subscriber".into()),
        };
        let at = tally.now_ns();
        let round = Envelope::parse(&frame).and_then(|envelope| {
            envelope.fail_on_error()?;
            if envelope.wire_type != "NEWS" {
                return Err(format!("a subscriber expected NEWS, got {frame}").into());
            }
            let payload = envelope.text_payload()?;
            payload
                .text
                .as_deref()
                .and_then(round_of)
                .ok_or_else(|| Error::from(format!("NEWS without a round number: {frame}")))
        });
        match round {
            Ok(round) if round == tally.round.load(Ordering::SeqCst) => {
                tally.last_ns.fetch_max(at, Ordering::SeqCst);
                if tally.received.fetch_add(1, Ordering::SeqCst) + 1 == tally.subscribers {
                    tally.everyone.notify_one();
                }
            }
            Ok(round) => tally.fail(format!("a subscriber got publish {round} late")),
            Err(err) => tally.fail(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_texts_carry_their_round() {
        for round in [0, 7, 12_345] {
            let text = news_text(round);
            assert_eq!(text.len(), 88);
            assert_eq!(round_of(&text), Some(round));
        }
        assert_eq!(round_of("something else"), None);
    }
}
