//! A real `redis-server` per test.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::require_tool;
use crate::wait::POLL;

/// A `redis-server` on 127.0.0.1 at a free port, without persistence, in a temporary
/// directory; killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: TempDir,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port, or returns `None` after
    /// [`skip`](crate::skip)ping the calling test when `redis-server` is not on `PATH`
    /// (`scripts/test.sh` installs it):
    ///
    /// ```no_run
    /// let Some(redis) = twinwire_test_support::RedisServer::start() else { return };
    /// ```
    ///
    /// # Panics
    ///
    /// When `redis-server` is installed but does not start.
    pub fn start() -> Option<Self> {
        require_tool("redis-server")?;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut last_error = String::new();
        // Another process may take the port between choosing and binding it: try again.
        for _ in 0..5 {
            let port = free_port();
            match spawn(port, dir.path()) {
                Ok(child) => {
                    return Some(Self {
                        port,
                        dir,
                        child: Some(child),
                    });
                }
                Err(err) => last_error = err,
            }
        }
        panic!("could not start redis-server: {last_error}");
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL: a crash, not a shutdown) and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops (SIGSTOP) or continues (SIGCONT) the server: a stopped server keeps its
    /// connections open but answers nothing, like a host that hangs or a network that
    /// silently drops packets.
    pub fn pause(&self, paused: bool) {
        let child = self.child.as_ref().expect("the server is running");
        let signal = if paused { "STOP" } else { "CONT" };
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{signal} {}", child.id()))
            .status()
            .expect("run sh");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Starts the server again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        let mut last_error = String::new();
        // The old process's listening socket may linger for a moment.
        for _ in 0..50 {
            match spawn(self.port, self.dir.path()) {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(err) => last_error = err,
            }
            std::thread::sleep(POLL);
        }
        panic!(
            "could not restart redis-server on port {}: {last_error}",
            self.port
        );
    }

    fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(2)))
            .expect("a test connection to redis-server")
    }

    /// Runs a command on a connection of its own.
    pub fn query<T: redis::FromRedisValue>(&self, command: &mut redis::Cmd) -> T {
        command
            .query(&mut self.connection())
            .expect("the command to succeed")
    }

    /// `PUBSUB CHANNELS`, sorted.
    pub fn channels(&self) -> Vec<String> {
        let mut channels: Vec<String> = self.query(redis::cmd("PUBSUB").arg("CHANNELS"));
        channels.sort();
        channels
    }

    /// How many connections are subscribed to `channel` (`PUBSUB NUMSUB`).
    pub fn subscribers(&self, channel: &str) -> usize {
        let counts: Vec<(String, usize)> =
            self.query(redis::cmd("PUBSUB").arg("NUMSUB").arg(channel));
        counts.first().map_or(0, |(_, n)| *n)
    }

    /// How many client connections are in subscribe mode (`CLIENT LIST TYPE pubsub`).
    pub fn subscriber_connections(&self) -> usize {
        let list: String = self.query(redis::cmd("CLIENT").arg("LIST").arg("TYPE").arg("pubsub"));
        list.lines().filter(|line| !line.trim().is_empty()).count()
    }

    /// How many client connections Redis has, besides the one asking.
    pub fn other_connections(&self) -> usize {
        let list: String = self.query(redis::cmd("CLIENT").arg("LIST"));
        list.lines()
            .filter(|line| !line.trim().is_empty())
            .count()
            .saturating_sub(1)
    }

    /// `PUBLISH channel message`, as another program would.
    pub fn publish(&self, channel: &str, message: &str) {
        let _: usize = self.query(redis::cmd("PUBLISH").arg(channel).arg(message));
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// Starts `redis-server` on `port` and waits until it answers `PING`.
fn spawn(port: u16, dir: &Path) -> Result<Child, String> {
    let log = dir.join(format!("redis-{port}.log"));
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| format!("cannot run `redis-server`: {err}"))?;
    let url = format!("redis://127.0.0.1:{port}/");
    for _ in 0..250 {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!("redis-server exited with {status}: {log}"));
        }
        let pong = redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
        if pong.is_ok() {
            return Ok(child);
        }
        std::thread::sleep(POLL);
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!("redis-server on port {port} did not answer PING"))
}
