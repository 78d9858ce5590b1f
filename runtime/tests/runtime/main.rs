//! Runtime tests over real sockets on 127.0.0.1, in one binary to keep link time down.

mod bad_input;
mod common;
mod router;
mod rpc;
