//! Integration tests of the entry point (Linux: real bubblewrap and Landlock runs).

#![expect(clippy::unwrap_used, reason = "test helpers panic on setup failures")]

#[cfg(target_os = "linux")]
mod suite;
