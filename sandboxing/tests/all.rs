//! Integration tests of the entry point (Linux: real bubblewrap and Landlock runs).

#![cfg_attr(
    target_os = "linux",
    expect(clippy::unwrap_used, reason = "test helpers panic on setup failures")
)]

#[cfg(target_os = "linux")]
mod suite;
