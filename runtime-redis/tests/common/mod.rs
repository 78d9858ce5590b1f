//! A real `redis-server` per test, twinwire server instances wired to it, and clients that
//! record what they receive.

// Helpers outside `#[test]` functions, where clippy.toml's test allowance does not reach;
// and each test binary uses only part of this module.
#![allow(clippy::unwrap_used, dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tempfile::TempDir;
use twinwire::{ErrorPayload, message, rpc};
use twinwire_redis::{RedisConfig, RedisEvent, RedisPubSub};
use twinwire_runtime::{
    Client, ErrorEvent, RequestError, Router, RpcContext, Server, ServerHandle,
};

/// How long a test waits for something that should happen promptly: a bound against hangs,
/// never an assertion about speed.
pub const PATIENCE: Duration = Duration::from_secs(15);
/// The pause between two checks of a condition being waited for.
const POLL: Duration = Duration::from_millis(20);

/// Subscribe this connection to a topic; answers with the connection's topics.
#[rpc("JOIN", response = Topics)]
pub struct Join {
    pub topic: String,
}

/// Unsubscribe this connection from a topic; answers with the connection's topics.
#[rpc("LEAVE", response = Topics)]
pub struct Leave {
    pub topic: String,
}

/// The connection's topics.
#[message("TOPICS")]
pub struct Topics {
    pub topics: Vec<String>,
}

/// Publish `text` to a topic.
#[rpc("SAY", response = Sent)]
pub struct Say {
    pub topic: String,
    pub text: String,
}

/// A publish succeeded.
#[message("SENT")]
pub struct Sent;

/// What subscribers receive.
#[message("SAID")]
pub struct Said {
    pub text: String,
}

fn router(events: &Events) -> Router<()> {
    Router::new()
        .rpc(|ctx: RpcContext<(), Join>, join: Join| async move {
            ctx.subscribe(&join.topic).await?;
            Ok(Topics {
                topics: ctx.topics(),
            })
        })
        .rpc(|ctx: RpcContext<(), Leave>, leave: Leave| async move {
            ctx.unsubscribe(&leave.topic).await?;
            Ok(Topics {
                topics: ctx.topics(),
            })
        })
        .rpc(|ctx: RpcContext<(), Say>, say: Say| async move {
            ctx.publish(&say.topic, &Said { text: say.text }).await?;
            Ok(Sent)
        })
        .on_error(events.hook())
}

/// Waits until `check` returns `Some`, checking every few milliseconds; panics with `what`
/// after [`PATIENCE`].
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// A `redis-server` on 127.0.0.1 at a free port, without persistence, in a temporary
/// directory; killed when dropped.
pub struct RedisServer {
    port: u16,
    dir: TempDir,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut last_error = String::new();
        // Another process may take the port between choosing and binding it: try again.
        for _ in 0..5 {
            let port = free_port();
            match spawn(port, dir.path()) {
                Ok(child) => {
                    return Self {
                        port,
                        dir,
                        child: Some(child),
                    };
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
        .map_err(|err| {
            format!(
                "cannot run `redis-server` ({err}); install it (scripts/test.sh does: \
                 apt-get install -y redis-server)"
            )
        })?;
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

/// Collects the events of a router's `on_error` hook.
#[derive(Clone, Default)]
pub struct Events(Arc<Mutex<Vec<ErrorEvent>>>);

impl Events {
    pub fn hook(&self) -> impl Fn(&ErrorEvent) + Send + Sync + 'static {
        let events = self.0.clone();
        move |event| events.lock().unwrap().push(event.clone())
    }

    pub fn all(&self) -> Vec<ErrorEvent> {
        self.0.lock().unwrap().clone()
    }

    /// The Redis events so far, in order.
    pub fn redis(&self) -> Vec<RedisEvent> {
        self.all().iter().filter_map(RedisEvent::of).collect()
    }

    /// Waits for the `n`th (from 1) report of `kind` and returns it.
    pub async fn wait_for(&self, kind: RedisEvent, n: usize) -> ErrorEvent {
        eventually(&format!("report {n} of {kind:?}"), || {
            self.all()
                .into_iter()
                .filter(|e| RedisEvent::of(e) == Some(kind))
                .nth(n - 1)
        })
        .await
    }
}

/// A twinwire server on 127.0.0.1 with Redis pub/sub.
pub struct Instance {
    pub handle: ServerHandle,
    pub pubsub: Arc<RedisPubSub>,
    pub events: Events,
}

impl Instance {
    /// An instance with `prefix` and quick reconnects.
    pub async fn start(redis: &RedisServer, prefix: &str) -> Self {
        let config = RedisConfig::new(redis.url())
            .prefix(prefix)
            .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200));
        Self::with_config(config).await
    }

    pub async fn with_config(config: RedisConfig) -> Self {
        let pubsub = Arc::new(
            RedisPubSub::connect(config)
                .await
                .expect("connect to Redis"),
        );
        let events = Events::default();
        let handle = Server::builder(router(&events))
            .pubsub(pubsub.clone())
            .build()
            .expect("the test router builds")
            .bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        Self {
            handle,
            pubsub,
            events,
        }
    }

    pub async fn client(&self) -> TestClient {
        let client = Client::connect(self.handle.url()).await.expect("connect");
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let sink = inbox.clone();
        client.on(move |said: Said, _| sink.lock().unwrap().push(said.text));
        TestClient { client, inbox }
    }

    pub async fn stop(self) {
        self.handle.shutdown().await.expect("clean shutdown");
    }
}

/// A client that records the text of every `SAID` it receives.
pub struct TestClient {
    pub client: Client,
    inbox: Arc<Mutex<Vec<String>>>,
}

impl TestClient {
    pub async fn join(&self, topic: &str) -> Result<Vec<String>, ErrorPayload> {
        let join = Join {
            topic: topic.into(),
        };
        self.call(self.client.request(&join, PATIENCE).await)
            .map(|t| t.topics)
    }

    pub async fn leave(&self, topic: &str) -> Result<Vec<String>, ErrorPayload> {
        let leave = Leave {
            topic: topic.into(),
        };
        self.call(self.client.request(&leave, PATIENCE).await)
            .map(|t| t.topics)
    }

    pub async fn say(&self, topic: &str, text: &str) -> Result<(), ErrorPayload> {
        let say = Say {
            topic: topic.into(),
            text: text.into(),
        };
        self.call(self.client.request(&say, PATIENCE).await)
            .map(|Sent| ())
    }

    /// The server's error for an RPC it refused; any other failure ends the test.
    fn call<T>(&self, result: Result<T, RequestError>) -> Result<T, ErrorPayload> {
        result.map_err(|err| match err {
            RequestError::Rpc(payload) => payload,
            other => panic!("the request failed without an answer: {other}"),
        })
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<String> {
        self.inbox.lock().unwrap().clone()
    }

    /// How many times `text` was received.
    pub fn count(&self, text: &str) -> usize {
        self.received().iter().filter(|t| *t == text).count()
    }

    /// Waits until `text` has arrived.
    pub async fn wait_for(&self, text: &str) {
        eventually(&format!("{text:?} to arrive"), || {
            (self.count(text) > 0).then_some(())
        })
        .await;
    }
}
