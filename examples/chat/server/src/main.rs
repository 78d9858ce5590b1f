//! `chat-server`: runs the chat example and serves its page. `bash examples/chat/run.sh`
//! builds the page first; `chat-server --help` lists the options.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chat_server::{ChatConfig, ChatServer};
use clap::Parser;
use twinwire_redis::{RedisConfig, RedisPubSub, URL_ENV};

/// Where `cargo run` and the test builds find the bundled page: `examples/chat/web/dist`.
const DEFAULT_STATIC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/dist");

/// Channel prefix in a shared Redis, so other apps' channels never mix with the chat's.
const REDIS_PREFIX: &str = "twinwire-chat:";

/// The twinwire chat example: a WebSocket chat server that also serves its web page.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address or host name to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port for both the page (HTTP) and the WebSocket endpoint (/ws); 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Folder of the built page.
    #[arg(long, default_value = DEFAULT_STATIC_DIR)]
    static_dir: PathBuf,
    /// Share rooms with other chat-server instances through this Redis (e.g.
    /// redis://127.0.0.1:6379/); default: $TWINWIRE_REDIS_URL. Without either, rooms live in
    /// this process only.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Accept WebSocket upgrades from pages of this origin only (repeat for several), e.g.
    /// https://chat.example.com; others get 403. Set it in production: without it, any web
    /// page a user visits can open the chat's socket in their name. Requests without an
    /// Origin header come from programs, not browser pages, and are not affected.
    #[arg(long = "allowed-origin", value_name = "ORIGIN", value_parser = parse_origin)]
    allowed_origins: Vec<String>,
    /// The secret that signs sign-in tokens; give every instance sharing Redis the same one.
    /// Default: a random one, so tokens work on this process only.
    #[arg(long, value_name = "SECRET")]
    token_secret: Option<String>,
    /// Serve Prometheus metrics at GET /metrics (connections, frames, errors, latency).
    #[arg(long)]
    metrics: bool,
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing after (a trailing `/` is
/// tolerated and dropped).
fn parse_origin(text: &str) -> Result<String, String> {
    let origin = text.strip_suffix('/').unwrap_or(text);
    let uri: twinwire_runtime::axum::http::Uri = origin
        .parse()
        .map_err(|_| format!("{text:?} is not an origin like https://chat.example.com"))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let bare = uri.path() == "/" && uri.query().is_none() && !origin.ends_with('/');
    if !scheme_ok || uri.authority().is_none() || !bare || origin.contains('@') {
        return Err(format!(
            "{text:?} is not an origin: write scheme://host[:port], e.g. https://chat.example.com"
        ));
    }
    Ok(origin.to_owned())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Logs go to stderr, driven by RUST_LOG (default: info); stdout carries the lines the
    // test harness reads.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("chat-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let addr = resolve(&args.host, args.port).await?;
    let mut config = ChatConfig::new(addr, args.static_dir.clone());
    if args.allowed_origins.is_empty() {
        if !addr.ip().is_loopback() {
            eprintln!(
                "chat-server: warning: any web page can open the chat's WebSocket from its \
                 visitors' browsers; pass --allowed-origin with the page's origin"
            );
        }
    } else {
        config.server = config.server.allowed_origins(args.allowed_origins.clone());
    }
    if args.metrics {
        let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .map_err(|err| format!("cannot install the metrics recorder: {err}"))?;
        config.metrics = Some(handle);
    }
    if let Some(secret) = args.token_secret.as_deref().filter(|s| !s.is_empty()) {
        config.accounts = Some(chat_server::Accounts::new(secret.as_bytes()).with_demo_users());
    }
    let redis = match args.redis.as_deref() {
        Some(url) if !url.trim().is_empty() => Some(RedisConfig::new(url)),
        _ => RedisConfig::from_env(),
    };
    if let Some(redis) = redis {
        let redis = redis.prefix(REDIS_PREFIX);
        let url = redis.redacted_url();
        let pubsub = RedisPubSub::connect(redis)
            .await
            .map_err(|err| format!("{err} (from --redis or {URL_ENV})"))?;
        config.pubsub = Some(Arc::new(pubsub));
        println!("chat-server: sharing rooms with other instances through Redis at {url}");
    }
    let server = chat_server::start(config)
        .await
        .map_err(|err| err.to_string())?;
    announce(&server, &args);
    server
        .run_until(shutdown_signal())
        .await
        .map_err(|err| format!("serving failed: {err}"))?;
    println!("chat-server: stopped");
    Ok(())
}

async fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    let mut addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|err| format!("cannot resolve --host {host:?}: {err}"))?;
    addrs
        .next()
        .ok_or_else(|| format!("--host {host:?} resolves to no address"))
}

fn announce(server: &ChatServer, args: &Args) {
    if !server.page_built() {
        eprintln!(
            "chat-server: warning: {} has no index.html; build the page with \
             `node examples/chat/web/build.mjs` (run.sh does)",
            args.static_dir.display()
        );
    }
    // The test harness waits for this line (and reads the port from it).
    println!(
        "chat-server: listening on {} (WebSocket at {})",
        server.http_url(),
        server.ws_url()
    );
}

/// Ctrl-C, or SIGTERM (what process managers and `kill` send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // Without a Ctrl-C handler, wait for SIGTERM alone.
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    () = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Args, parse_origin};

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        for (given, kept) in [
            ("https://chat.example.com", "https://chat.example.com"),
            ("http://localhost:8080/", "http://localhost:8080"),
            ("https://[::1]:3000", "https://[::1]:3000"),
        ] {
            assert_eq!(parse_origin(given).as_deref(), Ok(kept));
        }
        for bad in [
            "chat.example.com",
            "ftp://chat.example.com",
            "https://chat.example.com/app",
            "https://chat.example.com?x=1",
            "https://user@chat.example.com",
            "https://",
            "*",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn allowed_origin_repeats() {
        let args = Args::parse_from([
            "chat-server",
            "--allowed-origin",
            "https://a.example",
            "--allowed-origin",
            "https://b.example",
        ]);
        assert_eq!(
            args.allowed_origins,
            ["https://a.example", "https://b.example"]
        );
        assert!(Args::parse_from(["chat-server"]).allowed_origins.is_empty());
    }
}
