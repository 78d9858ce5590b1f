//! `twinwire-bench`: runs the benchmark suite and prints one table (see `BENCHMARKS.md`).
//!
//! ```text
//! twinwire-bench all [--runs N] [--servers twinwire,raw,wskit,bun] [--only echo,fanout,memory,codegen]
//!                    [--idle-connections 10000,100000]
//! twinwire-bench smoke
//! twinwire-bench echo ws://127.0.0.1:PORT/ [--raw] [--connections N] [--seconds N]
//! ```
//!
//! Progress goes to stderr, the environment and the table to stdout. The exit code is 1
//! when any request, delivery or run failed (the table still shows what was measured).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use twinwire_bench::echo::{self, EchoLoad};
use twinwire_bench::servers::{Programs, ServerKind};
use twinwire_bench::stats::number;
use twinwire_bench::suite::{self, Plan, Scenario};
use twinwire_bench::{environment, report};

#[derive(Parser)]
#[command(about = "twinwire vs raw tokio-tungstenite vs WS-Kit on Bun, side by side")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The full benchmark (several minutes; the Bun servers need `npm ci` in bench/bun).
    All {
        /// Runs per scenario and server.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
        runs: u64,
        /// Only these servers.
        #[arg(long, value_delimiter = ',')]
        servers: Vec<Server>,
        /// Only these scenarios (`memory` is every idle-connection row).
        #[arg(long, value_delimiter = ',')]
        only: Vec<Only>,
        /// The idle-connection rows of `memory` (default 10000,100000); a row whose count
        /// the open-file limit cannot hold is skipped with a note.
        #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=100_000))]
        idle_connections: Vec<u64>,
        /// Seconds of each measured echo window.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
        echo_seconds: u64,
        /// Characters of echoed text per request (default 90: a payload of about 100 bytes).
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=60_000))]
        echo_text: u64,
        /// Socket read buffer of both Rust servers, in bytes (default: twinwire's 4 KiB);
        /// for experiments.
        #[arg(long, value_parser = clap::value_parser!(u64).range(256..=1_048_576))]
        read_buffer: Option<u64>,
        /// Another build of `twinwire-echo` (e.g. from an earlier commit) to measure in the
        /// same run, as the column "twinwire baseline" with a ratio column.
        #[arg(long, value_name = "PATH")]
        baseline: Option<std::path::PathBuf>,
    },
    /// A few connections for about a second against the Rust servers: proves the harness
    /// works, asserts no timings.
    Smoke,
    /// Echo load against a server that is already running (e.g. under a profiler);
    /// prints round trips per second and latencies.
    Echo {
        /// The server's `ws://` URL.
        url: String,
        /// The server sends the request back instead of answering `ECHO_REPLY`.
        #[arg(long)]
        raw: bool,
        /// Connections, each with one request in flight.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1000))]
        connections: u64,
        /// Seconds measured (after one second of warm-up).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
        seconds: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Server {
    Twinwire,
    Raw,
    Wskit,
    Bun,
}

#[derive(Clone, Copy, ValueEnum)]
enum Only {
    Echo,
    Fanout,
    Memory,
    Codegen,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut rust_server_args = Vec::new();
    let mut baseline = None;
    let plan = match cli.command {
        Command::Echo {
            url,
            raw,
            connections,
            seconds,
        } => return echo_only(url, raw, connections, seconds).await,
        Command::Smoke => Plan::smoke(),
        Command::All {
            runs,
            servers,
            only,
            idle_connections,
            echo_seconds,
            echo_text,
            read_buffer,
            baseline: baseline_path,
        } => {
            if let Some(bytes) = read_buffer {
                rust_server_args = vec!["--read-buffer".to_owned(), bytes.to_string()];
            }
            let mut plan = Plan::full();
            plan.runs = usize::try_from(runs).unwrap_or(3);
            plan.fanout_publishes = plan.fanout_publishes.max(plan.runs);
            plan.echo_duration = Duration::from_secs(echo_seconds);
            plan.echo_text_len = usize::try_from(echo_text).unwrap_or(90);
            if !servers.is_empty() {
                plan.servers = ServerKind::ALL
                    .into_iter()
                    .filter(|k| servers.iter().any(|s| server_kind(*s) == *k))
                    .collect();
            }
            if let Some(path) = baseline_path {
                // Right after twinwire, so the two builds run back to back.
                let at = plan
                    .servers
                    .iter()
                    .position(|&k| k == ServerKind::Twinwire)
                    .map_or(0, |i| i + 1);
                plan.servers.insert(at, ServerKind::Baseline);
                baseline = Some(path);
            }
            if !idle_connections.is_empty() {
                plan.idle_sizes = idle_connections
                    .iter()
                    .filter_map(|&n| usize::try_from(n).ok())
                    .collect();
            }
            if !only.is_empty() {
                plan.scenarios = only.iter().map(|o| scenario(*o)).collect();
            }
            plan
        }
    };
    let programs = match Programs::beside_current_exe() {
        Ok(programs) => Programs {
            rust_server_args,
            baseline,
            ..programs
        },
        Err(err) => {
            eprintln!("twinwire-bench: cannot find the server binaries: {err}");
            return ExitCode::FAILURE;
        }
    };
    let results = suite::run(&plan, &programs, |line| eprintln!("… {line}")).await;
    println!("{}", environment::describe(&programs));
    if let Some(path) = &programs.baseline {
        println!(
            "\"twinwire baseline\" is `{}`, run in the same pass as twinwire.\n",
            path.display()
        );
    }
    if !programs.rust_server_args.is_empty() {
        println!(
            "Rust servers started with `{}` (an experiment, not the default configuration).\n",
            programs.rust_server_args.join(" ")
        );
    }
    println!("{}", report::table(&plan, &results));
    for note in &results.notes {
        println!("- {note}");
    }
    let errors = results.error_count();
    if errors == 0 {
        return ExitCode::SUCCESS;
    }
    eprintln!("twinwire-bench: {errors} failures:");
    for message in results.error_messages() {
        eprintln!("  - {message}");
    }
    ExitCode::FAILURE
}

async fn echo_only(url: String, raw: bool, connections: u64, seconds: u64) -> ExitCode {
    let load = EchoLoad {
        url,
        connections: usize::try_from(connections).unwrap_or(50),
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(seconds),
        text_len: Plan::full().echo_text_len,
        typed_reply: !raw,
        server_pid: None,
    };
    match echo::run(&load).await {
        Ok(run) => {
            let us = |q| run.latency_us(q).map_or_else(|| "—".to_owned(), number);
            println!(
                "{} round trips/s, p50 {} µs, p99 {} µs, p99.9 {} µs, load generator {} µs CPU \
                 per round trip, {} errors",
                number(run.rate()),
                us(0.5),
                us(0.99),
                us(0.999),
                run.client_cpu_us_per_round_trip()
                    .map_or_else(|| "—".to_owned(), number),
                run.errors
            );
            if let Some(error) = run.first_error {
                eprintln!("first error: {error}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("twinwire-bench: {err}");
            ExitCode::FAILURE
        }
    }
}

fn server_kind(server: Server) -> ServerKind {
    match server {
        Server::Twinwire => ServerKind::Twinwire,
        Server::Raw => ServerKind::RawRust,
        Server::Wskit => ServerKind::WsKit,
        Server::Bun => ServerKind::RawBun,
    }
}

fn scenario(only: Only) -> Scenario {
    match only {
        Only::Echo => Scenario::Echo,
        Only::Fanout => Scenario::Fanout,
        Only::Memory => Scenario::Memory,
        Only::Codegen => Scenario::Codegen,
    }
}
