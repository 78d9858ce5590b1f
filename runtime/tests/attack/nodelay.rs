//! Back-to-back frames: a frame written right after another must not wait for the client's
//! delayed ACK (Nagle's algorithm holds a small segment while an earlier one is unacknowledged;
//! the client acknowledges late, about 40 ms on Linux). The server sets TCP_NODELAY on every
//! accepted socket.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{config, raw, recv, send_json, start};

#[tokio::test]
async fn a_second_frame_right_after_a_first_is_not_held_back() {
    const TRIES: usize = 10;
    let server = start(config()).await;
    let mut times = Vec::new();
    for i in 0..TRIES {
        // A fresh connection each time, and the request right after the handshake, as a
        // page does when it loads.
        let mut ws = raw(&server).await;
        let id = format!("t{i}");
        let started = Instant::now();
        send_json(
            &mut ws,
            json!({"type": "TWO_STEP", "meta": {"correlationId": id}}),
        )
        .await;
        // NOTE, then the answer in a second write 2 ms later.
        let (note, _) = recv(&mut ws).await;
        assert_eq!(note["type"], "NOTE", "{note}");
        let (answer, _) = recv(&mut ws).await;
        assert_eq!(answer["type"], "SUM", "{answer}");
        assert_eq!(answer["meta"]["correlationId"], id.as_str());
        times.push(started.elapsed());
    }
    times.sort();
    let median = times[TRIES / 2];
    // A generous bound: a stall is about 40 ms, the work itself about 2 ms.
    assert!(
        median < Duration::from_millis(20),
        "median {median:?} over {TRIES} tries: {times:?}"
    );
    server.shutdown().await.unwrap();
}
