//! `twinwire-bench`: runs the benchmark suite and prints one table (see `BENCHMARKS.md`).
//!
//! ```text
//! twinwire-bench all [--runs N] [--servers twinwire,raw,wskit,bun] [--only echo,fanout,memory,codegen]
//! twinwire-bench smoke
//! ```
//!
//! Progress goes to stderr, the environment and the table to stdout. The exit code is 1
//! when any request, delivery or run failed (the table still shows what was measured).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use twinwire_bench::servers::{Programs, ServerKind};
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
        /// Only these scenarios.
        #[arg(long, value_delimiter = ',')]
        only: Vec<Only>,
        /// Seconds of each measured echo window.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60))]
        echo_seconds: u64,
    },
    /// A few connections for about a second against the Rust servers: proves the harness
    /// works, asserts no timings.
    Smoke,
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
    let plan = match cli.command {
        Command::Smoke => Plan::smoke(),
        Command::All {
            runs,
            servers,
            only,
            echo_seconds,
        } => {
            let mut plan = Plan::full();
            plan.runs = usize::try_from(runs).unwrap_or(3);
            plan.echo_duration = Duration::from_secs(echo_seconds);
            if !servers.is_empty() {
                plan.servers = ServerKind::ALL
                    .into_iter()
                    .filter(|k| servers.iter().any(|s| server_kind(*s) == *k))
                    .collect();
            }
            if !only.is_empty() {
                plan.scenarios = only.iter().map(|o| scenario(*o)).collect();
            }
            plan
        }
    };
    let programs = match Programs::beside_current_exe() {
        Ok(programs) => programs,
        Err(err) => {
            eprintln!("twinwire-bench: cannot find the server binaries: {err}");
            return ExitCode::FAILURE;
        }
    };
    let results = suite::run(&plan, &programs, |line| eprintln!("… {line}")).await;
    println!("{}", environment::describe(&programs));
    println!("{}", report::table(&plan, &results));
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
