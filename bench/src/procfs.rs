//! A server process's CPU time, resident memory and open sockets, and the limits that bound
//! how many connections one run can open, read from `/proc` (Linux only).

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

/// The process's CPU time so far in clock ticks (10 ms on most systems), split into user
/// space and the kernel: fields 14 and 15 of `/proc/<pid>/stat`.
///
/// # Errors
/// `/proc/<pid>/stat` could not be read or parsed.
pub fn cpu_ticks(pid: u32) -> io::Result<CpuTicks> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_split(&stat).ok_or_else(|| malformed("stat", &stat))
}

/// CPU time in clock ticks, by where it was spent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTicks {
    /// Ticks in user space (`utime`).
    pub user: u64,
    /// Ticks in the kernel on the process's behalf (`stime`): system calls, and on
    /// loopback most of the TCP work of both ends.
    pub system: u64,
}

impl CpuTicks {
    /// The share of the CPU used between `self` (earlier) and `later` that was spent in
    /// user space; `None` when fewer than [`Self::MIN_FOR_SHARE`] ticks fell in the window.
    pub fn user_share_until(self, later: CpuTicks) -> Option<f64> {
        let user = later.user.saturating_sub(self.user);
        let system = later.system.saturating_sub(self.system);
        let total = user + system;
        (total >= Self::MIN_FOR_SHARE).then(|| user as f64 / total as f64)
    }

    /// Ticks are sampled (the kernel charges a whole tick to whatever runs when it fires),
    /// so a share from a few dozen is noise: a window needs about a second of CPU.
    pub const MIN_FOR_SHARE: u64 = 100;
}

/// Resident memory (`VmRSS`) in KiB.
///
/// # Errors
/// `/proc/<pid>/status` could not be read or has no `VmRSS` line.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_rss_kib(&status).ok_or_else(|| malformed("status", &status))
}

/// How many of the process's file descriptors are sockets: its listener and every
/// connection it holds (a connection the server has closed is no longer among them).
///
/// # Errors
/// `/proc/<pid>/fd` could not be listed.
pub fn socket_count(pid: u32) -> io::Result<usize> {
    let mut sockets = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        // A descriptor closed between listing and reading is not open any more.
        let Ok(target) = std::fs::read_link(entry?.path()) else {
            continue;
        };
        if target.to_string_lossy().starts_with("socket:") {
            sockets += 1;
        }
    }
    Ok(sockets)
}

/// This process's soft limit on open files (`None`: unlimited). Server processes started
/// by the harness inherit it.
///
/// # Errors
/// `/proc/self/limits` could not be read or has no such line.
pub fn open_file_limit() -> io::Result<Option<u64>> {
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    parse_open_file_limit(&limits).ok_or_else(|| malformed("limits", &limits))
}

/// How many local ports the kernel hands out to one source address
/// (`net.ipv4.ip_local_port_range`, both ends included).
///
/// # Errors
/// The range could not be read or parsed.
pub fn ephemeral_port_count() -> io::Result<usize> {
    let path = "/proc/sys/net/ipv4/ip_local_port_range";
    let range = std::fs::read_to_string(path)?;
    parse_port_range(&range)
        .ok_or_else(|| io::Error::other(format!("unexpected {path}: {range:?}")))
}

fn parse_open_file_limit(limits: &str) -> Option<Option<u64>> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .strip_prefix("Max open files")?
        .split_whitespace()
        .next()?;
    if soft == "unlimited" {
        return Some(None);
    }
    soft.parse().ok().map(Some)
}

fn parse_port_range(range: &str) -> Option<usize> {
    let mut ends = range.split_whitespace().map(str::parse::<usize>);
    let (low, high) = (ends.next()?.ok()?, ends.next()?.ok()?);
    (high >= low).then(|| high - low + 1)
}

fn malformed(file: &str, text: &str) -> io::Error {
    let start: String = text.chars().take(80).collect();
    io::Error::other(format!("unexpected /proc/<pid>/{file} contents: {start:?}"))
}

/// `utime + stime` in clock ticks: fields 14 and 15 of `/proc/<pid>/stat`, counted after
/// the command name, which is in parentheses and may itself contain spaces or `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    parse_cpu_split(stat).map(|t| t.user + t.system)
}

fn parse_cpu_split(stat: &str) -> Option<CpuTicks> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(CpuTicks { user, system })
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
        assert_eq!(
            parse_cpu_split(stat),
            Some(CpuTicks {
                user: 125,
                system: 37
            })
        );
        assert_eq!(parse_cpu_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn user_share_is_of_the_ticks_in_the_window() {
        let before = CpuTicks {
            user: 100,
            system: 900,
        };
        let after = CpuTicks {
            user: 130,
            system: 990,
        };
        assert_eq!(before.user_share_until(after), Some(0.25));
        let too_short = CpuTicks {
            user: 120,
            system: 979,
        };
        assert_eq!(before.user_share_until(too_short), None);
    }

    #[test]
    fn rss_is_read_from_its_line() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t    1234 kB\nThreads:\t3\n";
        assert_eq!(parse_rss_kib(status), Some(1234));
        assert_eq!(parse_rss_kib("Name:\tx\n"), None);
    }

    #[test]
    fn the_soft_open_file_limit_is_read_from_its_line() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            20000                131072               files     \n";
        assert_eq!(parse_open_file_limit(limits), Some(Some(20_000)));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_file_limit(unlimited), Some(None));
        assert_eq!(
            parse_open_file_limit("Max processes 10 10 processes\n"),
            None
        );
        assert!(open_file_limit().is_ok());
    }

    #[test]
    fn the_port_range_counts_both_ends() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some(28_232));
        assert_eq!(parse_port_range("1024 1024"), Some(1));
        assert_eq!(parse_port_range("60999 32768"), None);
        assert_eq!(parse_port_range("32768"), None);
        assert!(ephemeral_port_count().unwrap() > 0);
    }

    #[test]
    fn sockets_are_counted_as_they_open_and_close() {
        let pid = std::process::id();
        let before = socket_count(pid).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        // No other test of this binary opens or closes sockets, so the three are seen.
        let during = socket_count(pid).unwrap();
        assert!(
            during >= before + 3,
            "{before} sockets, then {during} with three more"
        );
        drop((listener, client, accepted));
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
