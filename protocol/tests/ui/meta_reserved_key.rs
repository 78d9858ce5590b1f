// Typed meta cannot declare the keys the wire protocol owns, however the name is reached.

#[twinwire::data(meta)]
pub struct Standard {
    pub timestamp: u64,
    pub correlation_id: String,
}

#[twinwire::data(meta)]
pub struct Reserved {
    #[serde(rename = "clientId")]
    pub client: String,
    #[serde(alias = "receivedAt")]
    pub received: Option<u64>,
}

#[twinwire::data(meta)]
pub struct Fine {
    pub trace_id: String,
}

fn main() {}
