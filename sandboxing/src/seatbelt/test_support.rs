//! Compact construction of policies for the Seatbelt tests (the shared builder).

pub(crate) use codex_test_support::{PolicyBuilder, paths};
