//! A server process's CPU time and resident memory, read from `/proc` (Linux only).

use std::io;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// CPU time the process has used so far, in nanoseconds: the sum of its threads'
/// `/proc/<pid>/task/<tid>/schedstat` run times, so a window of a few milliseconds (one
/// publish) can be measured. Falls back to [`cpu_time`] (10 ms ticks) where schedstat is
/// missing. Threads that exit are not counted, which is why only windows in which the
/// server keeps its threads are measured with it.
///
/// # Errors
/// Neither `/proc/<pid>/task` nor `/proc/<pid>/stat` could be read.
pub fn cpu_time_precise(pid: u32) -> io::Result<Duration> {
    match threads_run_time(pid) {
        Ok(Some(time)) => Ok(time),
        Ok(None) | Err(_) => cpu_time(pid),
    }
}

fn threads_run_time(pid: u32) -> io::Result<Option<Duration>> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        let Ok(text) = std::fs::read_to_string(path) else {
            // The thread exited between listing and reading.
            continue;
        };
        match parse_schedstat_ns(&text) {
            Some(ns) => total += ns,
            None => return Ok(None),
        }
    }
    Ok(Some(Duration::from_nanos(total)))
}

/// The first field of `schedstat`: nanoseconds spent running.
fn parse_schedstat_ns(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// User plus system CPU time the process (all its threads) has used so far, in clock ticks
/// (10 ms on most systems).
///
/// # Errors
/// `/proc/<pid>/stat` could not be read or parsed.
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let ticks = parse_cpu_ticks(&stat).ok_or_else(|| malformed("stat", &stat))?;
    Ok(Duration::from_secs_f64(
        ticks as f64 / ticks_per_second() as f64,
    ))
}

/// Resident memory (`VmRSS`) in KiB.
///
/// # Errors
/// `/proc/<pid>/status` could not be read or has no `VmRSS` line.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_rss_kib(&status).ok_or_else(|| malformed("status", &status))
}

fn malformed(file: &str, text: &str) -> io::Error {
    let start: String = text.chars().take(80).collect();
    io::Error::other(format!("unexpected /proc/<pid>/{file} contents: {start:?}"))
}

/// `utime + stime` in clock ticks: fields 14 and 15 of `/proc/<pid>/stat`, counted after
/// the command name, which is in parentheses and may itself contain spaces or `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn parse_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on every common Linux).
fn ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_skip_a_command_name_with_spaces_and_parens() {
        let stat = "4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 300 0 0 0 \
                    125 37 0 0 20 0 3 0 1000 1000000 500 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(162));
        assert_eq!(parse_cpu_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn rss_is_read_from_its_line() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t    1234 kB\nThreads:\t3\n";
        assert_eq!(parse_rss_kib(status), Some(1234));
        assert_eq!(parse_rss_kib("Name:\tx\n"), None);
    }

    #[test]
    fn schedstat_run_time_is_its_first_field() {
        assert_eq!(parse_schedstat_ns("102753 0 1\n"), Some(102_753));
        assert_eq!(parse_schedstat_ns(""), None);
    }

    #[test]
    fn this_process_can_be_measured() {
        let pid = std::process::id();
        assert!(rss_kib(pid).unwrap() > 0);
        cpu_time(pid).unwrap();
        cpu_time_precise(pid).unwrap();
    }
}
