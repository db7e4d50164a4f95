//! Integration tests of the real `codex` binary. One test binary; one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
