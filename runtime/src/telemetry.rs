//! The names of the metrics the runtime records through the `metrics` facade, in one place.
//! Nothing is recorded until the application installs a recorder (e.g. a Prometheus
//! exporter); spans and events go through `tracing` the same way (see the crate docs,
//! "Telemetry").

/// Counter: upgrades accepted as WebSocket connections.
pub const CONNECTIONS_ACCEPTED: &str = "twinwire_connections_accepted_total";
/// Gauge: connections open now.
pub const CONNECTIONS_OPEN: &str = "twinwire_connections_open";
/// Counter: upgrades refused, by `reason` (`unauthenticated`, `forbidden`, `refused` for
/// another hook rejection, `origin`, `limit`, `handshake`, `panic`).
pub const CONNECTIONS_REFUSED: &str = "twinwire_connections_refused_total";
/// Counter: data frames received, by wire `type` (`unrouted` for a type without a route,
/// `invalid` for one that is not an envelope).
pub const FRAMES_RECEIVED: &str = "twinwire_frames_received_total";
/// Counter: frames written to clients.
pub const FRAMES_SENT: &str = "twinwire_frames_sent_total";
/// Counter: errors answered or noticed, by `kind` and `code` (every `on_error` event).
pub const ERRORS: &str = "twinwire_errors_total";
/// Histogram: how long handlers took, in seconds, by wire `type` and `outcome` (`ok`,
/// `error`, `panic`, `deadline`, `cancelled`).
pub const HANDLER_DURATION: &str = "twinwire_handler_duration_seconds";
/// Counter: connections closed because their outbound queue was full.
pub const QUEUE_FULL_CLOSES: &str = "twinwire_queue_full_closes_total";
/// Counter: published frames queued for local subscribers.
pub const PUBSUB_DELIVERIES: &str = "twinwire_pubsub_deliveries_total";
