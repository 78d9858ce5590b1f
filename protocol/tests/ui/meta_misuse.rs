// Typed meta: the meta type must be a `#[twinwire::data(meta)]` struct with named keys.

#[twinwire::data]
pub struct NotMeta {
    pub trace_id: String,
}

#[twinwire::message("PING", meta = NotMeta)]
pub struct Ping {}

#[twinwire::data(meta)]
pub struct Tuple(pub String);

#[twinwire::data(meta)]
#[serde(deny_unknown_fields)]
pub struct Strict {
    pub trace_id: String,
}

#[twinwire::data]
pub struct Inner {
    pub a: String,
}

#[twinwire::data(meta)]
pub struct Flattened {
    #[serde(flatten)]
    pub inner: Inner,
}

#[twinwire::message("PONG", meta)]
pub struct Pong {}

#[twinwire::data(meta = NotMeta)]
pub struct Wrong {
    pub a: String,
}

fn main() {}
