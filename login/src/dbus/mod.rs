//! A small blocking D-Bus client: just what the Secret Service store needs (session bus,
//! `EXTERNAL` authentication, method calls, one signal). No async runtime, no code generation.

mod connection;
mod message;
mod signature;
mod wire;

pub(crate) use connection::{BusError, Connection, session_bus_addresses};
pub(crate) use message::Message;
pub(crate) use wire::Value;
