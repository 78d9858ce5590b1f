//! The one results table, as Markdown (readable in a terminal, pasteable into
//! `BENCHMARKS.md`): a row per figure, a column per server, then the ratios of twinwire's
//! median to the others'.

use std::fmt::Write;

use crate::echo::EchoRun;
use crate::fanout::FanoutRun;
use crate::servers::ServerKind;
use crate::stats::{Summary, count, number};
use crate::suite::{Plan, Results, Scenario};

/// A figure of one server: a summary over runs, one measurement over all of them, a plain
/// count, nothing, or nothing because the machine's limits did not allow the measurement.
#[derive(Clone, Copy, Debug)]
enum Cell {
    Summary(Summary),
    Single(f64),
    Count(u64),
    Missing,
    Skipped,
}

impl Cell {
    fn of(values: &[f64]) -> Self {
        Summary::of(values).map_or(Self::Missing, Self::Summary)
    }

    fn median(self) -> Option<f64> {
        match self {
            Self::Summary(s) => Some(s.median),
            Self::Single(value) => Some(value),
            Self::Count(_) | Self::Missing | Self::Skipped => None,
        }
    }

    fn render(self) -> String {
        match self {
            Self::Summary(s) => s.to_string(),
            Self::Single(value) => number(value),
            Self::Count(n) => n.to_string(),
            Self::Missing => "—".to_owned(),
            Self::Skipped => "skipped".to_owned(),
        }
    }
}

struct Row {
    kind: Scenario,
    scenario: String,
    metric: &'static str,
    cells: Vec<Cell>,
    ratios: bool,
}

/// One figure of an echo run.
type EchoFigure = fn(&EchoRun) -> Option<f64>;
type FanoutFigure = fn(&FanoutRun) -> Option<f64>;

/// The columns whose median twinwire's is divided by.
const RATIO_COLUMNS: [(ServerKind, &str); 4] = [
    (ServerKind::Baseline, "twinwire / baseline"),
    (ServerKind::RawRust, "twinwire / raw tungstenite"),
    (ServerKind::WsKit, "twinwire / WS-Kit"),
    (ServerKind::RawBun, "twinwire / raw Bun"),
];

/// Renders `results` as a Markdown table. Cells are `median (min–max)` over runs.
pub fn table(plan: &Plan, results: &Results) -> String {
    let servers = &plan.servers;
    let mut rows = Vec::new();
    let per_server = |f: &dyn Fn(ServerKind) -> Cell| servers.iter().map(|&k| f(k)).collect();

    let echo = if plan.echo_text_len == Plan::full().echo_text_len {
        format!("(a) echo, {} conns", plan.echo_connections)
    } else {
        format!(
            "(a) echo, {} conns, {}-char text",
            plan.echo_connections,
            count(plan.echo_text_len)
        )
    };
    let echo_cell = |kind: ServerKind, figure: &dyn Fn(&EchoRun) -> Option<f64>| {
        let values: Vec<f64> = results
            .echo
            .get(&kind)
            .map(|runs| runs.iter().filter_map(figure).collect())
            .unwrap_or_default();
        Cell::of(&values)
    };
    // The load generator's CPU is a diagnostic (what bounds round trips per second on a
    // small machine), not a figure of the server: no ratios.
    let echo_rows: [(&'static str, EchoFigure, bool); 8] = [
        ("round trips/s", |r| Some(r.rate()), true),
        ("latency p50 (µs)", |r| r.latency_us(0.5), true),
        ("latency p99 (µs)", |r| r.latency_us(0.99), true),
        ("latency p99.9 (µs)", |r| r.latency_us(0.999), true),
        (
            "server CPU µs / round trip",
            EchoRun::cpu_us_per_round_trip,
            true,
        ),
        (
            "… of which user space",
            EchoRun::user_cpu_us_per_round_trip,
            true,
        ),
        (
            "… of which kernel",
            EchoRun::kernel_cpu_us_per_round_trip,
            true,
        ),
        (
            "load generator CPU µs / round trip",
            EchoRun::client_cpu_us_per_round_trip,
            false,
        ),
    ];
    for (metric, figure, ratios) in echo_rows {
        rows.push(Row {
            kind: Scenario::Echo,
            scenario: echo.clone(),
            metric,
            cells: per_server(&|k| echo_cell(k, &figure)),
            ratios,
        });
    }
    rows.push(Row {
        kind: Scenario::Echo,
        scenario: echo.clone(),
        metric: "errors",
        cells: per_server(&|k| match results.echo.get(&k) {
            Some(runs) => Cell::Count(runs.iter().map(|r| r.errors).sum()),
            None => Cell::Missing,
        }),
        ratios: false,
    });

    for &size in &plan.fanout_sizes {
        let scenario = format!("(b) fan-out to {}", count(size));
        let figure = |kind: ServerKind, f: &dyn Fn(&crate::fanout::Delivery) -> f64| {
            let values: Vec<f64> = results
                .fanout
                .get(&(kind, size))
                .map(|run| run.deliveries.iter().map(f).collect())
                .unwrap_or_default();
            Cell::of(&values)
        };
        rows.push(Row {
            kind: Scenario::Fanout,
            scenario: scenario.clone(),
            metric: "deliveries/s",
            cells: per_server(&|k| figure(k, &|d| d.rate())),
            ratios: true,
        });
        rows.push(Row {
            kind: Scenario::Fanout,
            scenario: scenario.clone(),
            metric: "last subscriber has it (ms)",
            cells: per_server(&|k| figure(k, &|d| d.last_subscriber.as_secs_f64() * 1000.0)),
            ratios: true,
        });
        let cpu_rows: [(&'static str, FanoutFigure); 3] = [
            ("server CPU µs / delivery", FanoutRun::cpu_us_per_delivery),
            ("… of which user space", FanoutRun::user_cpu_us_per_delivery),
            ("… of which kernel", FanoutRun::kernel_cpu_us_per_delivery),
        ];
        for (metric, figure) in cpu_rows {
            rows.push(Row {
                kind: Scenario::Fanout,
                scenario: scenario.clone(),
                metric,
                cells: per_server(&|k| {
                    let cpu = results.fanout.get(&(k, size)).and_then(figure);
                    cpu.map_or(Cell::Missing, Cell::Single)
                }),
                ratios: true,
            });
        }
        rows.push(Row {
            kind: Scenario::Fanout,
            scenario,
            metric: "errors",
            cells: per_server(&|k| match results.fanout.get(&(k, size)) {
                Some(run) => Cell::Count(run.errors),
                None => Cell::Missing,
            }),
            ratios: false,
        });
    }

    for &size in &plan.idle_sizes {
        let skipped = results.memory_skipped.contains_key(&size);
        rows.push(Row {
            kind: Scenario::Memory,
            scenario: format!("(c) {} idle conns", count(size)),
            metric: if skipped {
                "not measured: open-file limit (see below)"
            } else {
                "RSS per connection (KiB)"
            },
            cells: per_server(&|k| {
                if skipped {
                    return Cell::Skipped;
                }
                let values: Vec<f64> = results
                    .memory
                    .get(&(k, size))
                    .map(|runs| runs.iter().map(|r| r.per_connection_kib()).collect())
                    .unwrap_or_default();
                Cell::of(&values)
            }),
            ratios: true,
        });
    }

    let codegen = format!(
        "(d) codegen, {} msgs + {} RPCs",
        count(plan.codegen.messages),
        count(plan.codegen.rpcs)
    );
    let codegen_cell = |f: &dyn Fn(&crate::codegen::CodegenRun) -> f64| {
        let values: Vec<f64> = results.codegen.iter().map(f).collect();
        per_server(&|k| {
            if k == ServerKind::Twinwire {
                Cell::of(&values)
            } else {
                Cell::Missing
            }
        })
    };
    rows.push(Row {
        kind: Scenario::Codegen,
        scenario: codegen.clone(),
        metric: "generate + write (ms)",
        cells: codegen_cell(&|r| r.generate.as_secs_f64() * 1000.0),
        ratios: false,
    });
    rows.push(Row {
        kind: Scenario::Codegen,
        scenario: codegen,
        metric: "render in memory (ms)",
        cells: codegen_cell(&|r| r.render.as_secs_f64() * 1000.0),
        ratios: false,
    });

    rows.retain(|row| plan.scenarios.contains(&row.kind));
    render(servers, &rows)
}

fn render(servers: &[ServerKind], rows: &[Row]) -> String {
    let ratio_columns: Vec<_> = RATIO_COLUMNS
        .iter()
        .filter(|(kind, _)| servers.contains(kind) && servers.contains(&ServerKind::Twinwire))
        .collect();
    let twinwire = servers.iter().position(|&k| k == ServerKind::Twinwire);

    let mut header: Vec<String> = vec!["scenario".into(), "metric".into()];
    header.extend(servers.iter().map(|k| k.label().to_owned()));
    header.extend(ratio_columns.iter().map(|(_, title)| (*title).to_owned()));

    let mut lines = vec![header];
    for row in rows {
        let mut line = vec![row.scenario.clone(), row.metric.to_owned()];
        line.extend(row.cells.iter().map(|c| c.render()));
        for (kind, _) in &ratio_columns {
            let ratio = match (row.ratios, twinwire, servers.iter().position(|k| k == kind)) {
                (true, Some(t), Some(o)) => row.cells[t]
                    .median()
                    .zip(row.cells[o].median())
                    .filter(|&(_, other)| other != 0.0)
                    .map(|(tw, other)| format!("{:.2}×", tw / other)),
                _ => None,
            };
            line.push(ratio.unwrap_or_else(|| "—".to_owned()));
        }
        lines.push(line);
    }

    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
            let _ = writeln!(out, "|-{}-|", rule.join("-|-"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_table_shows_summaries_ratios_and_gaps() {
        let plan = Plan {
            servers: vec![ServerKind::Twinwire, ServerKind::RawRust],
            ..Plan::smoke()
        };
        let mut results = Results::default();
        let run = |round_trips: u64, cpu_ms: u64| EchoRun {
            round_trips,
            errors: 0,
            first_error: None,
            window: Duration::from_secs(1),
            latencies_ns: vec![10_000; round_trips as usize],
            server_cpu: Some(Duration::from_millis(cpu_ms)),
            server_user_share: Some(0.25),
            client_cpu: None,
        };
        results
            .echo
            .insert(ServerKind::Twinwire, vec![run(1000, 100), run(1200, 110)]);
        results
            .echo
            .insert(ServerKind::RawRust, vec![run(2000, 100)]);
        let table = table(&plan, &results);
        let line = |metric: &str| {
            table
                .lines()
                .find(|l| l.contains(metric))
                .unwrap_or_else(|| panic!("no {metric} row in\n{table}"))
                .to_owned()
        };
        let rate = line("round trips/s");
        assert!(rate.contains("1,100 (1,000–1,200)"), "{rate}");
        assert!(rate.contains("0.55×"), "{rate}");
        // 100 ms / 1000 = 100 µs and 110 ms / 1200 = 91.7 µs; raw 50 µs.
        let cpu = line("CPU µs");
        assert!(cpu.contains("95.8 (91.7–100)"), "{cpu}");
        assert!(cpu.contains("50.0 (50.0–50.0)"), "{cpu}");
        // A quarter of it in user space, the rest in the kernel.
        let user = line("of which user space");
        assert!(user.contains("24.0 (22.9–25.0)"), "{user}");
        assert!(user.contains("12.5 (12.5–12.5)"), "{user}");
        assert!(
            line("of which kernel").contains("71.9 (68.8–75.0)"),
            "{table}"
        );
        assert!(line("RSS per connection").contains("—"));
        assert!(!table.contains("WS-Kit"), "{table}");
    }

    #[test]
    fn memory_rows_come_one_per_size_and_say_when_skipped() {
        let plan = Plan {
            servers: vec![ServerKind::Twinwire, ServerKind::RawBun],
            scenarios: vec![Scenario::Memory],
            idle_sizes: vec![10_000, 100_000],
            ..Plan::smoke()
        };
        let mut results = Results::default();
        let run = |after_kib: u64| crate::memory::MemoryRun {
            before_kib: 1_000,
            after_kib,
            connections: 10_000,
            source_addresses: 1,
            opening: Duration::from_secs(2),
        };
        results.memory.insert(
            (ServerKind::Twinwire, 10_000),
            vec![run(71_000), run(81_000)],
        );
        results
            .memory
            .insert((ServerKind::RawBun, 10_000), vec![run(21_000)]);
        results
            .memory_skipped
            .insert(100_000, "the open-file limit is 20,000".to_owned());
        let table = table(&plan, &results);
        let rows: Vec<&str> = table.lines().filter(|l| l.contains("idle conns")).collect();
        assert_eq!(rows.len(), 2, "{table}");
        // (71,000 − 1,000) / 10,000 = 7 KiB and 8 KiB, median 7.5; Bun 2 KiB.
        assert!(rows[0].contains("(c) 10,000 idle conns"), "{table}");
        assert!(rows[0].contains("7.50 (7.00–8.00)"), "{table}");
        assert!(rows[0].contains("3.75×"), "{table}");
        assert!(rows[1].contains("(c) 100,000 idle conns"), "{table}");
        assert!(rows[1].contains("not measured: open-file limit"), "{table}");
        assert_eq!(rows[1].matches("skipped").count(), 2, "{table}");
        assert!(!table.contains("codegen"), "{table}");
    }
}
