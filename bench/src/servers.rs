//! The servers under test: what each one is, how to start it as a child process on
//! 127.0.0.1, and how to stop it.
//!
//! Every server binary prints `listening <host:port>` on its first stdout line once it
//! accepts connections; [`RunningServer::start`] waits for that line (bounded by
//! [`STARTUP_TIMEOUT`]) and kills the process when dropped, so no scenario can leak one.

use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// How long a server may take to print its address.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The socket buffer size of the raw server: the same as twinwire's default, so the
/// comparison measures the runtime, not buffer sizes.
pub const RAW_BUFFER_SIZE: usize = 4 * 1024;

/// Prints the line [`RunningServer::start`] waits for.
///
/// # Errors
/// Writing to stdout failed.
pub fn announce(addr: SocketAddr) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "listening {addr}")?;
    out.flush()
}

/// The tuned tokio-tungstenite configuration of the raw server: small read and write
/// buffers (the library's defaults are 128 KiB each) and the same 64 KiB message limit as
/// twinwire.
pub fn raw_websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(RAW_BUFFER_SIZE)
        .write_buffer_size(RAW_BUFFER_SIZE)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

/// One of the servers compared: the four of every run, and a baseline build of twinwire
/// when one is given (`--baseline`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// `twinwire-runtime` serving the benchmark protocol (`twinwire-echo`).
    Twinwire,
    /// tokio-tungstenite alone (`raw-echo`).
    RawRust,
    /// WS-Kit 0.10 with `@ws-kit/zod` on Bun (`bench/bun/wskit.ts`).
    WsKit,
    /// `Bun.serve` alone (`bench/bun/raw.ts`).
    RawBun,
    /// Another build of `twinwire-echo` (e.g. from an earlier commit), measured in the same
    /// run so a change is compared side by side rather than across runs.
    Baseline,
}

impl ServerKind {
    /// Every server, in table order.
    pub const ALL: [ServerKind; 4] = [Self::Twinwire, Self::RawRust, Self::WsKit, Self::RawBun];

    /// The column title.
    pub fn label(self) -> &'static str {
        match self {
            Self::Twinwire => "twinwire",
            Self::RawRust => "raw tungstenite",
            Self::WsKit => "WS-Kit (Bun)",
            Self::RawBun => "raw Bun.serve",
            Self::Baseline => "twinwire baseline",
        }
    }

    /// Whether it runs on Bun (and so needs `npm ci` in `bench/bun`).
    pub fn needs_bun(self) -> bool {
        matches!(self, Self::WsKit | Self::RawBun)
    }

    /// Whether it answers `ECHO` with `ECHO_REPLY` (a router), or sends the frame back as
    /// is (a raw echo).
    pub fn replies_typed(self) -> bool {
        matches!(self, Self::Twinwire | Self::WsKit | Self::Baseline)
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Where the server programs are.
#[derive(Clone, Debug)]
pub struct Programs {
    /// The `twinwire-echo` binary.
    pub twinwire: PathBuf,
    /// The `raw-echo` binary.
    pub raw: PathBuf,
    /// The `bench/bun` folder (scripts and `node_modules`).
    pub bun_dir: PathBuf,
    /// A second `twinwire-echo` build to compare against ([`ServerKind::Baseline`]).
    pub baseline: Option<PathBuf>,
    /// Extra arguments for the Rust servers (e.g. `--read-buffer 1024`), for experiments.
    pub rust_server_args: Vec<String>,
}

impl Programs {
    /// The binaries next to the running executable (they are built together) and the
    /// `bench/bun` folder of this crate.
    ///
    /// # Errors
    /// The running executable's path is unknown.
    pub fn beside_current_exe() -> io::Result<Self> {
        let exe = std::env::current_exe()?;
        Ok(Self {
            twinwire: exe.with_file_name(format!("twinwire-echo{}", std::env::consts::EXE_SUFFIX)),
            raw: exe.with_file_name(format!("raw-echo{}", std::env::consts::EXE_SUFFIX)),
            bun_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("bun"),
            baseline: None,
            rust_server_args: Vec::new(),
        })
    }

    /// The Bun binary installed by `npm ci` in `bench/bun`.
    pub fn bun(&self) -> PathBuf {
        self.bun_dir.join("node_modules/bun/bin/bun.exe")
    }

    /// Why `kind` cannot be started, if it cannot.
    pub fn missing(&self, kind: ServerKind) -> Option<String> {
        let path = match kind {
            ServerKind::Twinwire => &self.twinwire,
            ServerKind::RawRust => &self.raw,
            ServerKind::Baseline => match &self.baseline {
                Some(path) => path,
                None => return Some("no baseline binary: pass --baseline PATH".to_owned()),
            },
            ServerKind::WsKit | ServerKind::RawBun => &self.bun(),
        };
        if path.is_file() {
            return None;
        }
        Some(if kind.needs_bun() {
            format!(
                "{} not found: run `npm ci` in {}",
                path.display(),
                self.bun_dir.display()
            )
        } else {
            format!(
                "{} not found: build with `cargo build --release -p twinwire-bench`",
                path.display()
            )
        })
    }

    fn command(&self, kind: ServerKind) -> Command {
        match kind {
            ServerKind::Twinwire | ServerKind::RawRust | ServerKind::Baseline => {
                let program = match kind {
                    ServerKind::RawRust => &self.raw,
                    ServerKind::Baseline => self.baseline.as_ref().unwrap_or(&self.twinwire),
                    _ => &self.twinwire,
                };
                let mut command = Command::new(program);
                command.args(&self.rust_server_args);
                command
            }
            ServerKind::WsKit | ServerKind::RawBun => {
                let script = if kind == ServerKind::WsKit {
                    "wskit.ts"
                } else {
                    "raw.ts"
                };
                let mut command = Command::new(self.bun());
                command.arg(script).current_dir(&self.bun_dir);
                command
            }
        }
    }
}

/// A server child process, killed when dropped.
#[derive(Debug)]
pub struct RunningServer {
    kind: ServerKind,
    child: Child,
    addr: SocketAddr,
}

impl RunningServer {
    /// Starts `kind` and waits until it accepts connections.
    ///
    /// # Errors
    /// The program could not be started, exited, or did not announce an address within
    /// [`STARTUP_TIMEOUT`].
    pub fn start(programs: &Programs, kind: ServerKind) -> io::Result<Self> {
        Self::start_with(programs, kind, &[])
    }

    /// Starts `kind` with extra arguments (e.g. `--pubsub router` for WS-Kit).
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn start_with(programs: &Programs, kind: ServerKind, args: &[&str]) -> io::Result<Self> {
        if let Some(missing) = programs.missing(kind) {
            return Err(io::Error::new(io::ErrorKind::NotFound, missing));
        }
        let mut child = programs
            .command(kind)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err(io::Error::other("the server's stdout was not captured"));
        };
        let (tx, rx) = mpsc::channel();
        // Reads the announcement, then keeps draining stdout so the server never blocks
        // on a full pipe.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut announced = false;
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                if !announced && let Some(addr) = line.strip_prefix("listening ") {
                    announced = true;
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let line = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait()?;
                return Err(io::Error::other(format!(
                    "{kind} did not announce its address within {STARTUP_TIMEOUT:?} ({status})"
                )));
            }
        };
        let addr = match line.parse() {
            Ok(addr) => addr,
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other(format!(
                    "{kind} announced an unreadable address {line:?}: {err}"
                )));
            }
        };
        Ok(Self { kind, child, addr })
    }

    /// Which server this is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The process id, for `/proc` measurements.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `ws://` URL to connect to.
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Whether the process is still running.
    ///
    /// # Errors
    /// The process state could not be read.
    pub fn is_running(&mut self) -> io::Result<bool> {
        Ok(self.child.try_wait()?.is_none())
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
