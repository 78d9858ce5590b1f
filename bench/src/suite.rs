//! The whole benchmark: which scenarios, how big, how many runs, against which servers;
//! running them one server process at a time and collecting the results.
//!
//! Runs of one scenario are interleaved across servers (run 1 of each server, then run 2
//! of each, …), so a noisy moment on the machine does not land on one server only. Every
//! echo and memory run starts a fresh server process; a fan-out size starts one per server
//! and measures several publishes on it.
//!
//! An idle-connection size that needs more open files than this process may have (the
//! servers inherit its limit) is skipped with a note instead of failing the run.

use std::collections::HashMap;
use std::time::Duration;

use crate::Error;
use crate::codegen::{self, CodegenRun, Synthetic};
use crate::echo::{self, EchoLoad, EchoRun};
use crate::fanout::{self, FanoutLoad, FanoutRun};
use crate::memory::{self, MemoryLoad, MemoryRun};
use crate::servers::{Programs, RunningServer, ServerKind};
use crate::stats::count;
use crate::{MAX_CONNECTIONS, procfs};

/// Connections of each memory run opened before the first reading.
const MEMORY_WARMUP_CONNECTIONS: usize = 16;

/// Open files a process needs besides its connections: the standard streams, the
/// runtime's epoll and wake-up descriptors, the pipes to the server, and Bun's own files.
const OPEN_FILE_HEADROOM: usize = 1_024;

/// A scenario of the issue: (a) echo, (b) fan-out, (c) memory, (d) codegen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// (a) RPC echo.
    Echo,
    /// (b) Fan-out.
    Fanout,
    /// (c) Memory per idle connection.
    Memory,
    /// (d) Code generation.
    Codegen,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The servers, in table order.
    pub servers: Vec<ServerKind>,
    /// The scenarios.
    pub scenarios: Vec<Scenario>,
    /// Runs per scenario and server (measured publishes, for fan-out).
    pub runs: usize,
    /// (a) connections.
    pub echo_connections: usize,
    /// (a) unmeasured warm-up per run.
    pub echo_warmup: Duration,
    /// (a) measured window per run.
    pub echo_duration: Duration,
    /// (a) characters of echoed text.
    pub echo_text_len: usize,
    /// (b) subscriber counts.
    pub fanout_sizes: Vec<usize>,
    /// (b) measured publishes per subscriber count (after one unmeasured).
    pub fanout_publishes: usize,
    /// (b) quiet time before each publish.
    pub fanout_pause: Duration,
    /// (c) idle connection counts, one row each.
    pub idle_sizes: Vec<usize>,
    /// (c) connections per loopback source address (`None`: half the ephemeral port
    /// range); smaller only to exercise several addresses with few connections.
    pub idle_per_source_address: Option<usize>,
    /// (c) quiet time before each memory reading.
    pub memory_settle: Duration,
    /// (d) the synthetic protocol.
    pub codegen: Synthetic,
}

impl Plan {
    /// The full benchmark of issue 8: 3 runs; 50 echo connections for 5 s after 1 s of
    /// warm-up; fan-out to 1,000 and 10,000 subscribers, 20 measured publishes each;
    /// 10,000 and 100,000 idle connections; a protocol of 1,000 messages and 100 RPCs.
    pub fn full() -> Self {
        Self {
            servers: ServerKind::ALL.to_vec(),
            scenarios: vec![
                Scenario::Echo,
                Scenario::Fanout,
                Scenario::Memory,
                Scenario::Codegen,
            ],
            runs: 3,
            echo_connections: 50,
            echo_warmup: Duration::from_secs(1),
            echo_duration: Duration::from_secs(5),
            echo_text_len: 90,
            fanout_sizes: vec![1_000, 10_000],
            fanout_publishes: 20,
            fanout_pause: Duration::from_millis(200),
            idle_sizes: vec![10_000, 100_000],
            idle_per_source_address: None,
            memory_settle: Duration::from_secs(1),
            codegen: Synthetic {
                messages: 1_000,
                rpcs: 100,
            },
        }
    }

    /// The smoke test: the Rust servers only, a few connections for about a second, tiny
    /// fan-out, memory and codegen loads (the idle connections from several source
    /// addresses). Proves the harness works, measures nothing.
    pub fn smoke() -> Self {
        Self {
            servers: vec![ServerKind::Twinwire, ServerKind::RawRust],
            runs: 1,
            echo_connections: 4,
            echo_warmup: Duration::from_millis(100),
            echo_duration: Duration::from_secs(1),
            fanout_sizes: vec![8],
            fanout_publishes: 2,
            fanout_pause: Duration::from_millis(20),
            idle_sizes: vec![16],
            idle_per_source_address: Some(5),
            memory_settle: Duration::from_millis(50),
            codegen: Synthetic {
                messages: 20,
                rpcs: 2,
            },
            ..Self::full()
        }
    }

    fn has(&self, scenario: Scenario) -> bool {
        self.scenarios.contains(&scenario)
    }
}

/// Everything measured.
#[derive(Debug, Default)]
pub struct Results {
    /// (a) per server, one entry per run.
    pub echo: HashMap<ServerKind, Vec<EchoRun>>,
    /// (b) per server and subscriber count.
    pub fanout: HashMap<(ServerKind, usize), FanoutRun>,
    /// (c) per server and idle connection count, one entry per run.
    pub memory: HashMap<(ServerKind, usize), Vec<MemoryRun>>,
    /// (c) idle connection counts not measured, with the reason (not a failure: the
    /// machine's limits do not allow them).
    pub memory_skipped: HashMap<usize, String>,
    /// (d) one entry per run.
    pub codegen: Vec<CodegenRun>,
    /// Runs that could not be measured at all, with the reason.
    pub failures: Vec<String>,
    /// Observations to print under the table (e.g. WS-Kit's router pub/sub probe).
    pub notes: Vec<String>,
}

impl Results {
    /// Failed requests, deliveries and runs, over every scenario.
    pub fn error_count(&self) -> u64 {
        let echo: u64 = self.echo.values().flatten().map(|r| r.errors).sum();
        let fanout: u64 = self.fanout.values().map(|r| r.errors).sum();
        echo + fanout + self.failures.len() as u64
    }

    /// The first few error messages, for a summary.
    pub fn error_messages(&self) -> Vec<String> {
        let mut messages = self.failures.clone();
        for (kind, runs) in &self.echo {
            for run in runs {
                if let Some(error) = &run.first_error {
                    messages.push(format!(
                        "{kind} echo: {} errors, first: {error}",
                        run.errors
                    ));
                }
            }
        }
        for ((kind, size), run) in &self.fanout {
            if let Some(error) = &run.first_error {
                messages.push(format!(
                    "{kind} fan-out to {size}: {} errors, first: {error}",
                    run.errors
                ));
            }
        }
        messages
    }
}

/// Runs `plan`, reporting progress lines to `progress`.
pub async fn run(plan: &Plan, programs: &Programs, mut progress: impl FnMut(&str)) -> Results {
    let mut results = Results::default();
    let mut servers = Vec::new();
    for &kind in &plan.servers {
        match programs.missing(kind) {
            Some(reason) => results.failures.push(format!("{kind} skipped: {reason}")),
            None => servers.push(kind),
        }
    }

    if plan.has(Scenario::Echo) {
        for run in 1..=plan.runs {
            for &kind in &servers {
                progress(&format!("(a) echo: {kind}, run {run}/{}", plan.runs));
                match echo_run(plan, programs, kind).await {
                    Ok(measured) => results.echo.entry(kind).or_default().push(measured),
                    Err(err) => results
                        .failures
                        .push(format!("{kind} echo run {run}: {err}")),
                }
            }
        }
    }
    if plan.has(Scenario::Fanout) {
        for &size in &plan.fanout_sizes {
            for &kind in &servers {
                progress(&format!("(b) fan-out to {size}: {kind}"));
                match fanout_run(plan, programs, kind, size).await {
                    Ok(measured) => {
                        results.fanout.insert((kind, size), measured);
                    }
                    Err(err) => results
                        .failures
                        .push(format!("{kind} fan-out to {size}: {err}")),
                }
            }
        }
    }
    if plan.has(Scenario::Fanout) && servers.contains(&ServerKind::WsKit) {
        progress("(b) WS-Kit pub/sub through its router (probe)");
        match wskit_router_probe(programs).await {
            Ok(note) => results.notes.push(note),
            Err(err) => results
                .notes
                .push(format!("WS-Kit router pub/sub probe failed: {err}")),
        }
    }
    if plan.has(Scenario::Memory) {
        let limit = procfs::open_file_limit();
        for &size in &plan.idle_sizes {
            let skip = match &limit {
                Ok(limit) => too_few_open_files(size, *limit),
                Err(err) => Some(format!("the open-file limit could not be read: {err}")),
            };
            if let Some(reason) = skip {
                progress(&format!(
                    "(c) {} idle connections skipped: {reason}",
                    count(size)
                ));
                results.notes.push(format!(
                    "(c) {} idle conns not measured: {reason}",
                    count(size)
                ));
                results.memory_skipped.insert(size, reason);
                continue;
            }
            for run in 1..=plan.runs {
                for &kind in &servers {
                    progress(&format!(
                        "(c) {} idle connections: {kind}, run {run}/{}",
                        count(size),
                        plan.runs
                    ));
                    match memory_run(plan, programs, kind, size, &mut progress).await {
                        Ok(measured) => {
                            results
                                .memory
                                .entry((kind, size))
                                .or_default()
                                .push(measured);
                        }
                        Err(err) => results.failures.push(format!(
                            "{kind} memory run {run} with {} idle conns: {err}",
                            count(size)
                        )),
                    }
                }
            }
        }
    }
    if plan.has(Scenario::Codegen) {
        let json = codegen::manifest_json(plan.codegen);
        // The first generation warms caches and the allocator; it is not counted.
        for run in 0..=plan.runs {
            progress(&format!("(d) codegen: run {run}/{}", plan.runs));
            match codegen::run(&json) {
                Ok(measured) if run > 0 => results.codegen.push(measured),
                Ok(_) => {}
                Err(err) => {
                    results.failures.push(format!("codegen: {err}"));
                    break;
                }
            }
        }
    }
    results
}

async fn echo_run(plan: &Plan, programs: &Programs, kind: ServerKind) -> Result<EchoRun, Error> {
    let mut server = RunningServer::start(programs, kind)?;
    let load = EchoLoad {
        url: server.url(),
        connections: plan.echo_connections,
        warmup: plan.echo_warmup,
        duration: plan.echo_duration,
        text_len: plan.echo_text_len,
        typed_reply: kind.replies_typed(),
        server_pid: Some(server.pid()),
    };
    let measured = echo::run(&load).await?;
    ensure_running(&mut server)?;
    Ok(measured)
}

async fn fanout_run(
    plan: &Plan,
    programs: &Programs,
    kind: ServerKind,
    subscribers: usize,
) -> Result<FanoutRun, Error> {
    let mut server = RunningServer::start(programs, kind)?;
    let load = FanoutLoad {
        url: server.url(),
        subscribers,
        warmup_publishes: 1,
        publishes: plan.fanout_publishes,
        pause: plan.fanout_pause,
        delivery_timeout: Duration::from_secs(30),
        server_pid: Some(server.pid()),
    };
    let measured = fanout::run(&load).await?;
    ensure_running(&mut server)?;
    Ok(measured)
}

/// Subscribes and publishes through WS-Kit's own pub/sub API (`ctx.topics.subscribe`,
/// `ctx.publish` with the Bun adapter) instead of Bun's, to show what it delivers; the
/// fan-out rows use Bun's `ws.subscribe` / `server.publish` because this path delivers
/// nothing in WS-Kit 0.10.
async fn wskit_router_probe(programs: &Programs) -> Result<String, Error> {
    const SUBSCRIBERS: usize = 10;
    let server = RunningServer::start_with(programs, ServerKind::WsKit, &["--pubsub", "router"])?;
    let load = FanoutLoad {
        url: server.url(),
        subscribers: SUBSCRIBERS,
        warmup_publishes: 0,
        publishes: 1,
        pause: Duration::from_millis(100),
        delivery_timeout: Duration::from_secs(2),
        server_pid: None,
    };
    let probe = fanout::run(&load).await?;
    let reached = probe
        .incomplete
        .unwrap_or_else(|| probe.deliveries.iter().map(|d| d.delivered).sum());
    Ok(format!(
        "WS-Kit (Bun) with subscribe and publish through its router (`withPubSub` + \
         `bunPubSub`): one publish reached {reached} of {SUBSCRIBERS} subscribers within 2 s; \
         the fan-out rows use Bun's own `ws.subscribe` / `server.publish` from the WS-Kit \
         handlers."
    ))
}

async fn memory_run(
    plan: &Plan,
    programs: &Programs,
    kind: ServerKind,
    connections: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<MemoryRun, Error> {
    let mut server = RunningServer::start(programs, kind)?;
    let load = MemoryLoad {
        addr: server.addr(),
        server_pid: server.pid(),
        warmup_connections: MEMORY_WARMUP_CONNECTIONS,
        connections,
        settle: plan.memory_settle,
        per_source_address: plan.idle_per_source_address,
    };
    let measured = memory::run(&load, progress).await?;
    ensure_running(&mut server)?;
    Ok(measured)
}

/// Why `connections` idle connections cannot be opened under the open-file limit `limit`
/// (`None`: unlimited), if they cannot: the load generator holds one socket per
/// connection and so does the server, which inherits the limit; twinwire's server also
/// refuses connections past [`MAX_CONNECTIONS`].
fn too_few_open_files(connections: usize, limit: Option<u64>) -> Option<String> {
    let total = connections + MEMORY_WARMUP_CONNECTIONS;
    if total >= MAX_CONNECTIONS {
        return Some(format!(
            "{} connections reach the benchmark server's limit of {}",
            count(total),
            count(MAX_CONNECTIONS)
        ));
    }
    let needed = total + OPEN_FILE_HEADROOM;
    let limit = usize::try_from(limit?).unwrap_or(usize::MAX);
    (limit < needed).then(|| {
        format!(
            "the open-file limit is {}, below the {} each process needs (`bash bench/run.sh` \
             raises it when it may: as root with CAP_SYS_RESOURCE, or up to the hard limit \
             `ulimit -Hn`)",
            count(limit),
            count(needed)
        )
    })
}

/// A server that died during a run invalidates it.
fn ensure_running(server: &mut RunningServer) -> Result<(), Error> {
    if server.is_running()? {
        Ok(())
    } else {
        Err(format!("{} exited during the run", server.kind()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_past_the_open_file_limit_are_skipped_with_the_reason() {
        assert_eq!(too_few_open_files(10_000, Some(20_000)), None);
        assert_eq!(too_few_open_files(100_000, None), None);
        assert_eq!(too_few_open_files(100_000, Some(131_072)), None);
        let reason = too_few_open_files(100_000, Some(20_000)).expect("20,000 files are too few");
        assert!(
            reason.contains("20,000") && reason.contains("101,040"),
            "{reason}"
        );
        // The headroom counts: exactly the connections is not enough.
        assert!(too_few_open_files(10_000, Some(10_016)).is_some());
        assert!(too_few_open_files(MAX_CONNECTIONS, None).is_some());
    }
}
