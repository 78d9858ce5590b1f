//! The twinwire server of the benchmarks: the [`Bench`](twinwire_bench::protocol::Bench)
//! protocol on `twinwire-runtime` with its default configuration, except for two limits a
//! load generator is meant to exceed: the connection limit (raised for the 10,000- and
//! 100,000-connection scenarios) and the per-connection rate limit (raised far above the
//! load, about 3,000 round trips a second per connection, so that its check is still
//! paid for).
//!
//! `twinwire-echo [ADDR] [--read-buffer BYTES]` (default `127.0.0.1:0`) prints
//! `listening <addr>` once it accepts connections and serves until Ctrl-C. `--read-buffer`
//! is accepted and ignored: the harness passes it to both Rust servers, and twinwire has no
//! per-connection read buffer to size (it reads into one buffer per thread).

use twinwire_bench::protocol::{Echo, EchoReply, News, Publish, Subscribe, Subscribed};
use twinwire_runtime::{Context, RateLimit, Router, RpcContext, Server, ServerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut addr = "127.0.0.1:0".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--read-buffer" => {
                let bytes = args.next().ok_or("--read-buffer needs a size in bytes")?;
                bytes.parse::<usize>()?;
            }
            _ => addr = arg,
        }
    }
    let router = Router::<()>::new()
        .rpc(
            |_ctx: RpcContext<(), Echo>, req: Echo| async move { Ok(EchoReply { text: req.text }) },
        )
        .rpc(
            |ctx: RpcContext<(), Subscribe>, req: Subscribe| async move {
                ctx.subscribe(&req.topic).await?;
                Ok(Subscribed { topic: req.topic })
            },
        )
        .on(|ctx: Context, msg: Publish| async move {
            ctx.publish(&msg.topic, &News { text: msg.text }).await?;
            Ok(())
        });
    let config = ServerConfig::default()
        .max_connections(twinwire_bench::MAX_CONNECTIONS)
        .rate_limit(RateLimit::per_second(1_000_000).burst(1_000_000));
    let handle = Server::builder(router)
        .config(config)
        .build()?
        .bind(addr)
        .await?;
    twinwire_bench::servers::announce(handle.local_addr())?;
    tokio::signal::ctrl_c().await?;
    handle.shutdown().await?;
    Ok(())
}
