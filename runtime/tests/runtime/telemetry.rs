//! Tracing: the connection span's fields and the events at its decision points.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use twinwire_runtime::{Client, Rejection, Router, RpcContext, UpgradeRequest};

use crate::common::{Add, PATIENCE, Sum, start, test_config};

/// Renders fields as `name=value` pairs.
struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

/// Records every span (name and fields) and event (its span, message and fields) as a line.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn find(&self, needle: &[&str]) -> Option<String> {
        self.lines()
            .into_iter()
            .find(|line| needle.iter().all(|n| line.contains(n)))
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: LayerContext<'_, S>) {
        let mut fields = Fields(format!("span {}", attrs.metadata().name()));
        attrs.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        let span = ctx
            .event_span(event)
            .map_or("-".to_owned(), |s| s.name().to_owned());
        let mut fields = Fields(format!("event {} in {span}", event.metadata().level()));
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
}

#[tokio::test]
async fn connections_handlers_and_refusals_are_traced() {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    // Current-thread runtime: the server's tasks run on this thread, under this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let router = Router::<()>::new()
        .authenticate(|request: UpgradeRequest| async move {
            match request.token().as_deref() {
                Some("bad") => Err(Rejection::unauthenticated("no entry")),
                _ => Ok(()),
            }
        })
        .rpc(|_: RpcContext<(), Add>, req: Add| async move {
            Ok(Sum {
                value: req.a + req.b,
            })
        });
    let server = start(router, test_config()).await;
    let client = Client::connect(format!("{}?x=1", server.url()))
        .await
        .unwrap();
    let sum = client.request(&Add { a: 1, b: 2 }, PATIENCE).await.unwrap();
    assert_eq!(sum.value, 3);
    client.close(4000, "bye").await.unwrap();
    let refused = Client::builder(server.url())
        .bearer_token("bad")
        .connect()
        .await
        .unwrap();
    refused.closed().await;
    server.shutdown().await.unwrap();

    let span = recorder
        .find(&[
            "span twinwire.connection",
            "conn.id=",
            "peer=127.0.0.1:",
            "path=/",
        ])
        .unwrap_or_else(|| panic!("no connection span: {:#?}", recorder.lines()));
    assert!(!span.contains("x=1"), "the query stays out of logs: {span}");
    let handled = recorder
        .find(&[
            "in twinwire.connection",
            "handled",
            "type=\"ADD\"",
            "outcome=\"ok\"",
        ])
        .unwrap_or_else(|| panic!("no handler event: {:#?}", recorder.lines()));
    assert!(handled.contains("correlation_id=Some(") || handled.contains("correlation_id="));
    assert!(handled.contains("duration_ms="), "{handled}");
    assert!(handled.starts_with("event DEBUG"), "{handled}");
    recorder
        .find(&[
            "connection closed",
            "close.code=4000",
            "in twinwire.connection",
        ])
        .unwrap_or_else(|| panic!("no close event: {:#?}", recorder.lines()));
    recorder
        .find(&[
            "upgrade refused",
            "reason=\"unauthenticated\"",
            "status=401",
        ])
        .unwrap_or_else(|| panic!("no refusal event: {:#?}", recorder.lines()));
    // Nothing per frame above TRACE... and nothing at INFO or above on a quiet run.
    assert!(
        recorder
            .lines()
            .iter()
            .all(|l| !l.starts_with("event INFO") && !l.starts_with("event WARN")),
        "{:#?}",
        recorder.lines()
    );
}
