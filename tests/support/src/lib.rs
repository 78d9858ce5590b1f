//! Helpers shared by twinwire's tests; a dev-dependency only, never published.
//!
//! - [`Events`] records what a router's `on_error` hook reports.
//! - [`RedisServer`] (feature `redis`) runs a real `redis-server` per test.
//! - [`require_tool`], [`require_npm_tooling`] and [`skip`] let a test that needs a tool
//!   besides Rust (Node and the npm packages, `redis-server`, ...) skip with a printed reason
//!   on a machine without it, so `cargo test --workspace` passes with only Rust installed.
//!   With `TWINWIRE_REQUIRE_ALL=1` (set by `scripts/test.sh`) every such skip fails the test
//!   instead, so the full test command never skips silently.
//! - [`ModuleGraph`] reads a crate's module import graph, so `tests/module_graph.rs` can hold
//!   every crate of the workspace to acyclic modules (ARCHITECTURE.md, "Module layering").

mod events;
mod module_graph;
#[cfg(feature = "redis")]
mod redis_server;
mod tools;
mod wait;

pub use events::Events;
pub use module_graph::{ModuleGraph, ReadError};
#[cfg(feature = "redis")]
pub use redis_server::RedisServer;
pub use tools::{
    NpmTooling, PYTHON, REQUIRE_ALL, require_npm_tooling, require_python_jsonschema, require_tool,
    skip,
};
pub use wait::{PATIENCE, eventually};
