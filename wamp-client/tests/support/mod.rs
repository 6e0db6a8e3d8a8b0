//! Test support shared by the integration tests of `wamp-client`.
//!
//! Each test binary includes it with `mod support;` and uses a subset, hence `dead_code`.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod scripted_router;
