// `SocketAddr` has serde and JSON Schema support but cannot take `#[twinwire::data]`.
#[twinwire::message("CONNECT_TO")]
pub struct ConnectTo {
    pub addresses: Vec<std::net::SocketAddr>,
}

fn main() {}
