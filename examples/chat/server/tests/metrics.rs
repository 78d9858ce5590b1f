//! `--metrics`: Prometheus text at /metrics, with the runtime's counters. A test binary of
//! its own, since the recorder is process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chat_server::{ChatConfig, METRICS_PATH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut raw))
        .await
        .unwrap()
        .unwrap();
    raw
}

#[tokio::test]
async fn metrics_are_served_as_prometheus_text_when_enabled() {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = ChatConfig::new(([127, 0, 0, 1], 0).into(), dir.path());
    config.metrics = Some(handle);
    let server = chat_server::start(config).await.unwrap();
    let client = twinwire_runtime::Client::connect(server.ws_url())
        .await
        .unwrap();
    let refused =
        twinwire_runtime::Client::connect(format!("{}?access_token=forged", server.ws_url()))
            .await
            .unwrap();
    refused.closed().await;

    let reply = get(server.local_addr(), METRICS_PATH).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        reply.contains("twinwire_connections_accepted_total 1"),
        "{reply}"
    );
    assert!(
        reply.contains(r#"twinwire_connections_refused_total{reason="unauthenticated"} 1"#),
        "{reply}"
    );
    drop(client);
    server.shutdown().await.unwrap();
}
