//! Measures the server's resident memory per idle connection, for the default 4 KiB socket
//! buffers and for the WebSocket library's own 128 KiB default.
//!
//! `cargo run --release -p twinwire-runtime --example idle_memory -- [connections]`
//!
//! The server runs in a child process (this same binary with `serve <read> <write>`), so
//! the clients' memory does not count; its `VmRSS` is read from `/proc` (Linux only) before
//! and after the clients connect.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use twinwire_runtime::{Router, Server, ServerConfig};

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        let read = args.get(2).ok_or("read buffer size")?.parse()?;
        let write = args.get(3).ok_or("write buffer size")?.parse()?;
        return serve(read, write).await;
    }
    let connections: usize = args.get(1).map_or(Ok(2_000), |n| n.parse())?;
    println!("{connections} idle connections, server RSS growth per connection:");
    for (label, size) in [
        ("512 B buffers", 512),
        ("4 KiB buffers (default)", 4 * 1024),
        ("128 KiB buffers", 128 * 1024),
    ] {
        let per_connection = measure(connections, size).await?;
        println!("  {label:<24} {per_connection:>8.1} KiB");
    }
    Ok(())
}

async fn serve(read: usize, write: usize) -> Result<(), Error> {
    let config = ServerConfig::default()
        .buffer_sizes(read, write)
        .max_connections(1_000_000)
        .ping(None, Duration::from_secs(10));
    let handle = Server::builder(Router::<()>::new())
        .config(config)
        .build()?
        .bind("127.0.0.1:0")
        .await?;
    println!("{} {}", handle.local_addr(), std::process::id());
    // Serve until the parent closes stdin.
    tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await?;
    handle.shutdown().await?;
    Ok(())
}

fn rss_kib(pid: u32) -> Result<f64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS in /proc/<pid>/status")?;
    let kib = line.split_whitespace().nth(1).ok_or("malformed VmRSS")?;
    Ok(kib.parse()?)
}

async fn measure(connections: usize, buffer: usize) -> Result<f64, Error> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args(["serve", &buffer.to_string(), &buffer.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("child stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let addr = parts.next().ok_or("server address")?.to_owned();
    let pid: u32 = parts.next().ok_or("server pid")?.parse()?;

    // Warm up the runtime's threads and allocator with a few connections first.
    let mut clients = Vec::new();
    for _ in 0..16 {
        clients.push(
            tokio_tungstenite::connect_async(format!("ws://{addr}/"))
                .await?
                .0,
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(pid)?;
    for _ in 0..connections {
        clients.push(
            tokio_tungstenite::connect_async(format!("ws://{addr}/"))
                .await?
                .0,
        );
    }
    // Let the server's connection tasks reach their idle state.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid)?;

    for client in &mut clients {
        let _ = client.close(None).await;
    }
    for mut client in clients {
        while client.next().await.is_some() {}
    }
    drop(child.stdin.take());
    child.wait()?;
    Ok((after - before) / connections as f64)
}
