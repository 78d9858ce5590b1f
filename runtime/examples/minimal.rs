//! A minimal server for the chat protocol: rooms as topics, and the CALCULATE RPC.
use chat_protocol::{Calculate, CalculateResult, JoinRoom, Operation};
use twinwire_runtime::{Router, serve};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let router = Router::<()>::new()
        .on(|ctx, join: JoinRoom| async move {
            ctx.subscribe(&format!("room:{}", join.room_id)).await?;
            Ok(())
        })
        .rpc(|_ctx, req: Calculate| async move {
            let result = match req.operation {
                Operation::Add => req.a + req.b,
                Operation::Multiply => req.a * req.b,
            };
            Ok(CalculateResult { result })
        });
    // Serves ws://127.0.0.1:3000/ (any path) until Ctrl-C, then shuts down gracefully.
    serve(router, "127.0.0.1:3000").await?;
    Ok(())
}
