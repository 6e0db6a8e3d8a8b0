//! Fake WAMP routers and test helpers shared by the tests, fuzz targets and benchmarks of
//! `wampkit`; none needs a real router.
//!
//! - [`scripted_router`]: a router the test plays by hand, message by message, in memory or
//!   over a WebSocket; with [`expect_message!`] and the builders of [`messages`].
//! - [`instant_router`]: a router that answers at once and routes nothing, for benchmarks and
//!   fuzzing.
//! - [`bounded`] and [`ARITY`]: a time limit for a test, and the arity of every message type.
//! - [`closed_port::closed_port`]: a port of 127.0.0.1 that refuses connections while it is kept.

// A failed expectation panics: that is how a test fails, with a message naming what went wrong.
#![allow(clippy::panic, clippy::expect_used)]

pub mod closed_port;
pub mod instant_router;
pub mod messages;
pub mod scripted_router;

use std::future::IntoFuture;
use std::time::Duration;

/// The time limit of [`bounded`]: far above what any test here takes, so that only a hang
/// reaches it.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Awaits `future` for at most [`LIMIT`]; panics, naming `what`, when the limit passes first
/// (the client or the router script hangs).
pub async fn bounded<T>(what: &str, future: impl IntoFuture<Output = T>) -> T {
    bounded_for(LIMIT, what, future).await
}

/// Awaits `future` for at most `limit`; panics, naming `what`, when the limit passes first.
pub async fn bounded_for<T>(limit: Duration, what: &str, future: impl IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(limit, future).await {
        Ok(output) => output,
        Err(_) => {
            panic!("{what}: timed out after {limit:?}; the client or the router script hangs")
        }
    }
}

/// Every message type code with its name and the allowed lengths of its array (least, most).
pub const ARITY: &[(u64, &str, usize, usize)] = &[
    (1, "HELLO", 3, 3),
    (2, "WELCOME", 3, 3),
    (3, "ABORT", 3, 5),
    (4, "CHALLENGE", 3, 3),
    (5, "AUTHENTICATE", 3, 3),
    (6, "GOODBYE", 3, 3),
    (8, "ERROR", 5, 7),
    (16, "PUBLISH", 4, 6),
    (17, "PUBLISHED", 3, 3),
    (32, "SUBSCRIBE", 4, 4),
    (33, "SUBSCRIBED", 3, 3),
    (34, "UNSUBSCRIBE", 3, 3),
    (35, "UNSUBSCRIBED", 2, 3),
    (36, "EVENT", 4, 6),
    (48, "CALL", 4, 6),
    (49, "CANCEL", 3, 3),
    (50, "RESULT", 3, 5),
    (64, "REGISTER", 4, 4),
    (65, "REGISTERED", 3, 3),
    (66, "UNREGISTER", 3, 3),
    (67, "UNREGISTERED", 2, 3),
    (68, "INVOCATION", 4, 6),
    (69, "INTERRUPT", 3, 3),
    (70, "YIELD", 3, 5),
    (337, "EVENT_RECEIVED", 2, 2),
];
