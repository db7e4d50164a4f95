//! Integration tests of the model client against a scripted server on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
