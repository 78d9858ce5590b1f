//! The benchmark protocol, declared with the twinwire macros: an echo RPC for scenario (a),
//! and for fan-out (b) a subscribe RPC plus a publish trigger whose payload reaches every
//! subscriber of a topic as `NEWS`.
//!
//! The WS-Kit server (`bench/bun/wskit.ts`) declares the same frames with `@ws-kit/zod`, and
//! the raw servers recognise `SUBSCRIBE` and `PUBLISH` by their first bytes.

use twinwire::{message, protocol, rpc};

/// Asks the server to send `text` back.
#[rpc("ECHO", response = EchoReply)]
#[derive(Clone, Debug, PartialEq)]
pub struct Echo {
    /// Any text; it comes back unchanged.
    pub text: String,
}

/// The answer to `ECHO`.
#[message("ECHO_REPLY")]
#[derive(Clone, Debug, PartialEq)]
pub struct EchoReply {
    /// The request's text.
    pub text: String,
}

/// Subscribes the connection to a topic; answered once the subscription is in place, so the
/// load generator knows when every subscriber is ready.
#[rpc("SUBSCRIBE", response = Subscribed)]
#[derive(Clone, Debug, PartialEq)]
pub struct Subscribe {
    /// The topic to join.
    pub topic: String,
}

/// The answer to `SUBSCRIBE`.
#[message("SUBSCRIBED")]
#[derive(Clone, Debug, PartialEq)]
pub struct Subscribed {
    /// The topic joined.
    pub topic: String,
}

/// Publishes `text` to every subscriber of `topic`, as `NEWS`.
#[message("PUBLISH")]
#[derive(Clone, Debug, PartialEq)]
pub struct Publish {
    /// Where to publish.
    pub topic: String,
    /// What every subscriber receives.
    pub text: String,
}

/// A published text, as every subscriber receives it.
#[message("NEWS")]
#[derive(Clone, Debug, PartialEq)]
pub struct News {
    /// The text of the `PUBLISH` that caused it.
    pub text: String,
}

protocol! {
    /// The benchmark protocol: echo, subscribe, publish.
    pub Bench {
        client: [Publish],
        server: [News],
        rpc: [Echo, Subscribe],
    }
}
