//! Integration tests: real commands through `plan()` + `run()` (in-process) and through the
//! `codex-linux-sandbox` binary, as root and as uid 65534 (via `setpriv`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod suite;
