//! The machine and versions a run measured, printed above the table.

use std::fmt::Write;
use std::process::Command;

use crate::servers::Programs;

/// A short description: CPU, cores, memory, kernel, and the versions of every server's
/// stack.
pub fn describe(programs: &Programs) -> String {
    let mut out = String::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info
                .lines()
                .find(|l| l.starts_with("MemTotal:"))?
                .to_owned();
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.1} GiB RAM", kib / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "unknown RAM".to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_owned());
    let _ = writeln!(out, "- machine: {cpu}, {cores} cores, {memory}, {kernel}");
    // Other work on the machine shows in every figure; the load average says how much.
    if let Some(load) = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().nth(2).map(str::to_owned))
    {
        let _ = writeln!(
            out,
            "- load average (15 min) when the table was printed: {load}"
        );
    }
    let _ = writeln!(
        out,
        "- rust: {}; twinwire {}, tokio-tungstenite 0.30 (release build)",
        command_output("rustc", &["--version"]).unwrap_or_else(|| "rustc (unknown)".into()),
        env!("CARGO_PKG_VERSION"),
    );
    let bun = command_output(&programs.bun().to_string_lossy(), &["--version"])
        .map_or_else(|| "not installed".to_owned(), |v| format!("Bun {v}"));
    let package = |name: &str| {
        let path = programs
            .bun_dir
            .join("node_modules")
            .join(name)
            .join("package.json");
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|json| json.get("version")?.as_str().map(str::to_owned))
            .map_or_else(
                || format!("{name} (not installed)"),
                |v| format!("{name} {v}"),
            )
    };
    let _ = writeln!(
        out,
        "- bun: {bun}; {}, {}, {}, {}",
        package("@ws-kit/zod"),
        package("@ws-kit/bun"),
        package("@ws-kit/core"),
        package("zod"),
    );
    out
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
