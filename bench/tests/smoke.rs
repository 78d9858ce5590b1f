//! The harness's smoke mode against the real server binaries, so it cannot rot: every
//! scenario runs with a few connections for about a second against twinwire and the raw
//! server (the idle connections from several loopback source addresses). It asserts that
//! the harness worked (round trips happened, every delivery arrived, nothing failed), never
//! how fast.

use std::path::PathBuf;

use twinwire_bench::servers::{Programs, ServerKind};
use twinwire_bench::suite::{self, Plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_mode_measures_both_rust_servers_without_errors() {
    let programs = Programs {
        twinwire: PathBuf::from(env!("CARGO_BIN_EXE_twinwire-echo")),
        raw: PathBuf::from(env!("CARGO_BIN_EXE_raw-echo")),
        bun_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bun"),
        baseline: None,
        rust_server_args: Vec::new(),
    };
    let plan = Plan::smoke();
    let results = suite::run(&plan, &programs, |line| eprintln!("{line}")).await;

    assert_eq!(results.error_count(), 0, "{:#?}", results.error_messages());
    for kind in [ServerKind::Twinwire, ServerKind::RawRust] {
        let echo = &results.echo[&kind];
        assert_eq!(echo.len(), plan.runs, "{kind}");
        assert!(
            echo.iter().all(|run| run.round_trips > 0),
            "{kind}: {echo:?}"
        );
        assert!(echo.iter().all(|run| run.server_cpu.is_some()), "{kind}");

        for &size in &plan.fanout_sizes {
            let fanout = &results.fanout[&(kind, size)];
            assert_eq!(fanout.deliveries.len(), plan.fanout_publishes, "{kind}");
            assert!(
                fanout.deliveries.iter().all(|d| d.delivered == size),
                "{kind}"
            );
        }

        for &size in &plan.idle_sizes {
            let memory = &results.memory[&(kind, size)];
            assert_eq!(memory.len(), plan.runs, "{kind}");
            assert!(memory.iter().all(|run| run.after_kib > 0), "{kind}");
            // The smoke plan spreads its few connections over several loopback source
            // addresses, as 100,000 need.
            assert!(
                memory.iter().all(|run| run.source_addresses > 1),
                "{kind}: {memory:?}"
            );
        }
    }
    assert_eq!(results.codegen.len(), plan.runs);
    assert!(results.codegen.iter().all(|run| run.files > 0));

    let table = twinwire_bench::report::table(&plan, &results);
    assert!(table.contains("round trips/s"), "{table}");
}
