//! What the router's integration tests share: time limits, a router with `realm1`, sessions
//! joined in-process, and error URIs.
#![allow(dead_code)] // each test binary uses its own part

use std::future::Future;
use std::time::Duration;

use wampkit::{Error, Session};
use wampkit_router::Router;

pub const LIMIT: Duration = Duration::from_secs(10);

pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {LIMIT:?}"))
}

pub fn router() -> Router {
    Router::builder().realm("realm1").build()
}

pub async fn join(router: &Router) -> Session {
    within("join", router.connect("realm1"))
        .await
        .expect("join")
}

pub fn uri(error: &Error) -> &str {
    match error {
        Error::Wamp(e) => e.uri.as_str(),
        other => panic!("expected a WAMP error, got {other}"),
    }
}
