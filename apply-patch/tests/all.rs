//! Integration tests of the apply-patch library. One test binary; one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
