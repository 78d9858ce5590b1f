//! Benchmarks of twinwire side by side with a raw tokio-tungstenite echo server (the floor)
//! and with WS-Kit 0.10 and raw `Bun.serve` on Bun (issue 8; results in `BENCHMARKS.md`).
//!
//! The binaries: `twinwire-bench` (the load generator and driver: `all`, `smoke`),
//! `twinwire-echo` (the twinwire server) and `raw-echo` (the raw server); the Bun servers
//! are `bench/bun/wskit.ts` and `bench/bun/raw.ts`. `bench/run.sh` builds everything in
//! release mode and runs the full suite.
//!
//! Scenarios: (a) [`echo`], (b) [`fanout`], (c) [`memory`], (d) [`codegen`]; [`suite`]
//! runs them against each server and [`report`] prints the table.

pub mod client;
pub mod codegen;
pub mod echo;
pub mod environment;
pub mod fanout;
pub mod memory;
pub mod procfs;
pub mod protocol;
pub mod report;
pub mod servers;
pub mod stats;
pub mod suite;

/// Errors of the harness: each carries a message saying what failed.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The twinwire server's connection limit: room for 100,000 idle benchmark connections
/// and the warm-up ones. A counter, not a reservation: it costs no memory.
pub const MAX_CONNECTIONS: usize = 110_000;
