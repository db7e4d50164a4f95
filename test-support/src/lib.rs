//! Test-only helpers shared by the crates' integration tests (a dev-dependency, never
//! published):
//!
//! - [`ScriptedServer`]: an HTTP/1.1 server on 127.0.0.1 whose answers are scripted by request
//!   index and/or predicate ([`Script`]), which records every request ([`CapturedRequest`]), and
//!   which can stream bodies chunk by chunk with delays, stall, or drop the connection
//!   ([`Reply`]).
//! - [`sse`]: builders for Responses API server-sent events.
//!
//! The server uses std TCP and one thread per connection; every connection is answered with
//! `Connection: close`. Dropping the server (or [`ScriptedServer::shutdown`]) stops it and wakes
//! every stalled reply.

mod reply;
mod request;
mod server;
pub mod sse;

pub use reply::{Chunk, Reply};
pub use request::CapturedRequest;
pub use server::{Script, ScriptedServer};
