//! Scenario (c): resident memory per idle connection. A few warm-up connections first (so
//! runtime threads and allocator arenas exist), then the server's `VmRSS` before and after
//! opening many more connections that stay idle.
//!
//! Connections come from several loopback source addresses when one address's ephemeral
//! ports would not suffice (100,000 connections to one server need four or more), and
//! every client keeps reading so it answers the server's pings: a server with a heartbeat
//! (twinwire pings after 30 s of silence, Bun after 120 s) would otherwise drop the first
//! connections while the last ones are still being opened. A reading counts only if every
//! connection is still open on both sides when it is taken.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{self, Socket};
use crate::stats::{count, number};
use crate::{Error, procfs};

/// How many connections are opened at once.
const CONNECT_CONCURRENCY: usize = 32;

/// How often opening reports progress, in connections.
const PROGRESS_EVERY: usize = 10_000;

/// One memory measurement.
#[derive(Clone, Debug)]
pub struct MemoryLoad {
    /// The server's address.
    pub addr: SocketAddr,
    /// The server process.
    pub server_pid: u32,
    /// Connections opened (and kept) before the first reading.
    pub warmup_connections: usize,
    /// Idle connections measured.
    pub connections: usize,
    /// Quiet time before each reading, so the server reaches its idle state.
    pub settle: Duration,
    /// Connections per source address (`None`: half the kernel's ephemeral port range,
    /// leaving the rest to everything else that connects from 127.0.0.1).
    pub per_source_address: Option<usize>,
}

/// What one memory measurement found.
#[derive(Clone, Copy, Debug)]
pub struct MemoryRun {
    /// `VmRSS` before, KiB.
    pub before_kib: u64,
    /// `VmRSS` with every connection open, KiB.
    pub after_kib: u64,
    /// Connections measured.
    pub connections: usize,
    /// Loopback source addresses the connections came from.
    pub source_addresses: usize,
    /// Time taken to open the measured connections.
    pub opening: Duration,
}

impl MemoryRun {
    /// KiB of resident memory per idle connection.
    pub fn per_connection_kib(&self) -> f64 {
        (self.after_kib as f64 - self.before_kib as f64) / self.connections as f64
    }
}

/// Runs `load`, reporting progress while connections open.
///
/// # Errors
/// A connection failed or closed before the last reading (every one must be open for the
/// figure to mean anything), the server held fewer sockets than connections at that
/// reading, or `/proc` could not be read.
pub async fn run(load: &MemoryLoad, progress: &mut dyn FnMut(&str)) -> Result<MemoryRun, Error> {
    let total = load.warmup_connections + load.connections;
    let per_source = match load.per_source_address {
        Some(n) => n,
        None => procfs::ephemeral_port_count()? / 2,
    };
    let sources = source_addresses(load.addr, total, per_source)?;
    let mut clients = IdleClients {
        server: load.addr,
        sources,
        opened: 0,
        held: JoinSet::new(),
    };
    clients.open(load.warmup_connections, &mut |_| {}).await?;
    tokio::time::sleep(load.settle).await;
    clients.ensure_open()?;
    let before_kib = procfs::rss_kib(load.server_pid)?;

    let started = Instant::now();
    clients.open(load.connections, progress).await?;
    let opening = started.elapsed();
    tokio::time::sleep(load.settle).await;
    let after_kib = procfs::rss_kib(load.server_pid)?;
    let server_sockets = procfs::socket_count(load.server_pid)?;
    clients.ensure_open()?;
    if server_sockets < total {
        return Err(format!(
            "the server held {server_sockets} sockets for {total} connections when its memory \
             was read: it had closed some"
        )
        .into());
    }
    Ok(MemoryRun {
        before_kib,
        after_kib,
        connections: load.connections,
        source_addresses: clients.sources.len().max(1),
        opening,
    })
}

/// The source addresses for `total` connections to `server`, at most `per_source` from
/// each: 127.0.0.1, 127.0.0.2, … for a server on IPv4 loopback, used round-robin. Empty
/// (the kernel picks the source) for a server elsewhere, which one address must then
/// suffice for.
///
/// # Errors
/// More addresses are needed than the server's network offers.
pub fn source_addresses(
    server: SocketAddr,
    total: usize,
    per_source: usize,
) -> Result<Vec<IpAddr>, Error> {
    let needed = total.div_ceil(per_source.max(1)).max(1);
    let loopback_v4 = matches!(server.ip(), IpAddr::V4(ip) if ip.is_loopback());
    if !loopback_v4 {
        if needed > 1 {
            return Err(format!(
                "{total} connections need {needed} source addresses, which the harness only \
                 has for a server on 127.0.0.0/8, not {server}"
            )
            .into());
        }
        return Ok(Vec::new());
    }
    // 127.0.0.1 to 127.0.0.254: the last octet stays a host number.
    let hosts = u8::try_from(needed)
        .ok()
        .filter(|&n| n < u8::MAX)
        .ok_or_else(|| {
            format!(
                "{total} connections at {per_source} per source address need {needed} \
                 addresses, more than 127.0.0.1–127.0.0.254"
            )
        })?;
    Ok((1..=hosts)
        .map(|host| IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)))
        .collect())
}

/// The open client connections, each held by a task that reads it until it closes.
struct IdleClients {
    server: SocketAddr,
    sources: Vec<IpAddr>,
    /// Connections opened so far, which picks the next source address.
    opened: usize,
    /// Each task ends only when its connection closed or failed, with the reason; dropping
    /// the set aborts them, which closes every connection.
    held: JoinSet<String>,
}

impl IdleClients {
    /// Opens `wanted` more connections, at most [`CONNECT_CONCURRENCY`] at a time.
    async fn open(&mut self, wanted: usize, progress: &mut dyn FnMut(&str)) -> Result<(), Error> {
        let server = self.server;
        let first = self.opened;
        let sources = &self.sources;
        let mut connecting = futures_util::stream::iter((first..first + wanted).map(|i| {
            let source = (!sources.is_empty()).then(|| sources[i % sources.len()]);
            client::connect_from(source, server)
        }))
        .buffer_unordered(CONNECT_CONCURRENCY);
        let started = Instant::now();
        let mut done = 0;
        while let Some(socket) = connecting.next().await {
            // The first failure ends the run; the connections still being opened are
            // dropped with the stream.
            self.held.spawn(hold(socket?));
            done += 1;
            if done % PROGRESS_EVERY == 0 || done == wanted {
                let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
                progress(&format!(
                    "    {} of {} open ({}/s, from {} source address{})",
                    count(done),
                    count(wanted),
                    number(rate),
                    sources.len().max(1),
                    if sources.len() > 1 { "es" } else { "" },
                ));
            }
        }
        self.opened += wanted;
        Ok(())
    }

    /// Fails if any connection has closed or failed.
    fn ensure_open(&mut self) -> Result<(), Error> {
        let mut closed = 0;
        let mut first = None;
        while let Some(ended) = self.held.try_join_next() {
            closed += 1;
            let reason = ended.unwrap_or_else(|err| format!("its task failed: {err}"));
            first.get_or_insert(reason);
        }
        match first {
            None => Ok(()),
            Some(reason) => Err(format!(
                "{closed} of {} connections closed before the reading; the first: {reason}",
                self.opened
            )
            .into()),
        }
    }
}

/// Reads `socket` until it closes, so the pings of the server are answered (the WebSocket
/// library queues the pong when it reads a ping and writes it on the next read); returns
/// why it closed.
async fn hold(mut socket: Socket) -> String {
    loop {
        match socket.next().await {
            Some(Ok(Message::Close(frame))) => return format!("the server closed it: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(err)) => return format!("reading failed: {err}"),
            None => return "the server dropped it".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().expect("an IP address"), 8080)
    }

    #[test]
    fn loopback_connections_spread_over_enough_source_addresses() {
        let one = source_addresses(server("127.0.0.1"), 10_016, 14_116).unwrap();
        assert_eq!(one, vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);

        let many = source_addresses(server("127.0.0.1"), 100_016, 14_116).unwrap();
        assert_eq!(many.len(), 8);
        assert_eq!(many[7], IpAddr::V4(Ipv4Addr::new(127, 0, 0, 8)));
        assert!(100_016_usize.div_ceil(many.len()) <= 14_116);

        let exact = source_addresses(server("127.0.0.1"), 20, 10).unwrap();
        assert_eq!(exact.len(), 2);
        assert_eq!(
            source_addresses(server("127.0.0.1"), 0, 10).unwrap().len(),
            1
        );
    }

    #[test]
    fn source_addresses_stay_within_loopback_hosts() {
        assert_eq!(
            source_addresses(server("127.0.0.1"), 254, 1).unwrap().len(),
            254
        );
        assert!(source_addresses(server("127.0.0.1"), 255, 1).is_err());
        assert!(source_addresses(server("127.0.0.1"), 1_000_000, 1).is_err());
    }

    #[test]
    fn other_servers_get_the_kernels_source_or_an_error() {
        assert!(
            source_addresses(server("10.1.2.3"), 100, 1_000)
                .unwrap()
                .is_empty()
        );
        assert!(
            source_addresses(server("::1"), 100, 1_000)
                .unwrap()
                .is_empty()
        );
        assert!(source_addresses(server("10.1.2.3"), 2_000, 1_000).is_err());
    }
}
