//! Scenario (c): resident memory per idle connection. A few warm-up connections first (so
//! runtime threads and allocator arenas exist), then the server's `VmRSS` before and after
//! opening many more connections that stay idle.

use std::time::Duration;

use futures_util::StreamExt;

use crate::client::{self, Socket};
use crate::{Error, procfs};

/// How many connections are opened at once.
const CONNECT_CONCURRENCY: usize = 32;

/// One memory measurement.
#[derive(Clone, Debug)]
pub struct MemoryLoad {
    /// The server's `ws://` URL.
    pub url: String,
    /// The server process.
    pub server_pid: u32,
    /// Connections opened (and kept) before the first reading.
    pub warmup_connections: usize,
    /// Idle connections measured.
    pub connections: usize,
    /// Quiet time before each reading, so the server reaches its idle state.
    pub settle: Duration,
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
}

impl MemoryRun {
    /// KiB of resident memory per idle connection.
    pub fn per_connection_kib(&self) -> f64 {
        (self.after_kib as f64 - self.before_kib as f64) / self.connections as f64
    }
}

/// Runs `load`.
///
/// # Errors
/// A connection failed (every one must open for the figure to mean anything), or `/proc`
/// could not be read.
pub async fn run(load: &MemoryLoad) -> Result<MemoryRun, Error> {
    let warmup = open(&load.url, load.warmup_connections).await?;
    tokio::time::sleep(load.settle).await;
    let before_kib = procfs::rss_kib(load.server_pid)?;
    let idle = open(&load.url, load.connections).await?;
    tokio::time::sleep(load.settle).await;
    let after_kib = procfs::rss_kib(load.server_pid)?;
    drop((warmup, idle));
    Ok(MemoryRun {
        before_kib,
        after_kib,
        connections: load.connections,
    })
}

async fn open(url: &str, count: usize) -> Result<Vec<Socket>, Error> {
    futures_util::stream::iter((0..count).map(|_| client::connect(url)))
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}
