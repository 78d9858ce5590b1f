//! The server's side of RFC 6455: framing without I/O in `codec`, and the connection's
//! [`Socket`] over any byte stream in `socket`. The runtime's own, rather than a WebSocket
//! library's, for what an idle connection costs: no read or write buffer is held per
//! connection while nothing is moving (see `socket`).
//!
//! What the server refuses, with the close code it sends, is in `docs/wire-protocol.md`
//! ("Close codes"). Not supported: extensions (permessage-deflate is never negotiated).

mod codec;
mod socket;

pub(crate) use codec::{Message, Violation};
pub(crate) use socket::{ReadError, Socket};
