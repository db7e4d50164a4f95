//! Test-only helpers shared by the crates' tests (a dev-dependency, never published):
//!
//! - [`ScriptedServer`]: an HTTP/1.1 server on 127.0.0.1 whose answers are scripted by request
//!   index and/or predicate ([`Script`]), which records every request ([`CapturedRequest`]), and
//!   which can stream bodies chunk by chunk with delays, stall, or drop the connection
//!   ([`Reply`]).
//! - [`sse`]: builders for Responses API server-sent events.
//! - [`output_with_stdin`]: run a command with input on stdin, output captured.
//! - [`http_get`]: a blocking GET client (no redirects) for tests that play the browser.
//! - [`TestHome`]: a temporary HOME, CODEX_HOME, system configuration directory and working
//!   directory, and the cleared environment a CLI test runs the binary with.
//! - [`as_nobody`], [`chown_to_nobody`], [`require_root_and_setpriv`]: running as uid 65534,
//!   with a canary that fails when the machine cannot.
//! - [`Rs256Signer`]: RS256 JWTs signed with a committed test-only key, and its JWKS.
//! - [`PolicyBuilder`]: compact [`codex_sandbox_policy::SandboxPolicy`] values.
//!
//! The server uses std TCP and one thread per connection; every connection is answered with
//! `Connection: close`. Dropping the server (or [`ScriptedServer::shutdown`]) stops it and wakes
//! every stalled reply.

mod home;
mod http;
mod policy;
mod process;
mod reply;
mod request;
mod rs256;
mod server;
pub mod sse;
#[cfg(unix)]
mod users;

pub use home::{TEST_PATH, TestHome};
pub use http::{HttpResponse, http_get, http_get_with_headers};
pub use policy::{PolicyBuilder, paths};
pub use process::output_with_stdin;
pub use reply::{Chunk, Reply};
pub use request::CapturedRequest;
pub use rs256::{Rs256Signer, base64url};
pub use server::{Script, ScriptedServer};
#[cfg(unix)]
pub use users::{
    NOBODY, as_nobody, chown_to_nobody, is_root, missing_for_unprivileged_runs,
    require_root_and_setpriv,
};
