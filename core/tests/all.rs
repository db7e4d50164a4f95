//! The turn loop against a scripted Responses server, with a fake command runner.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
