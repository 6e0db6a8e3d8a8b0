//! Session edge cases against a scripted fake router, one module per topic: joining
//! ([`handshake`]), request ids, protocol violations and late answers ([`requests`]), router and
//! transport closes and leaving ([`closing`]), shared subscriptions and revocations
//! ([`subscriptions`]), invocations, interrupts and progressive invocations ([`invocations`]).
//! The helpers they share are here.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

mod closing;
mod handshake;
mod invocations;
mod requests;
mod subscriptions;

use std::collections::BTreeSet;
use std::future::{Future, IntoFuture as _};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use tokio::sync::{mpsc, oneshot};
use wampkit::wire::{Id, InvalidMessage, Message, Payload, code};
use wampkit::{
    Arguments, CloseReason, Dict, Error, ErrorUri, Invocation, Serializer, Session, Value,
    WampError, error::CloseInitiator,
};

use wamp_testkit::bounded;
#[cfg(all(feature = "msgpack", feature = "cbor"))]
use wamp_testkit::scripted_router::Subprotocol;
use wamp_testkit::scripted_router::{
    RouterPeer, ScriptedRouter, args, dict, error, event, expect_message, goodbye, interrupt,
    invocation, request_of, result, revoke_subscription,
};

/// How long an operation on a closed session may take to fail ("fast").
const FAIL_FAST: Duration = Duration::from_secs(1);

const SESSION_ID: Id = 4_242_424_242;
const REALM: &str = "com.example.realm";

/// Starts a JSON router whose connection `script` plays, on a task of its own.
async fn serve<F, Fut, T>(script: F) -> (String, tokio::task::JoinHandle<T>)
where
    F: FnOnce(RouterPeer) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    serve_with(Serializer::Json, script).await
}

/// Starts a router speaking `serializer` whose (first) connection `script` plays.
async fn serve_with<F, Fut, T>(
    serializer: Serializer,
    script: F,
) -> (String, tokio::task::JoinHandle<T>)
where
    F: FnOnce(RouterPeer) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let router = ScriptedRouter::start(serializer).await;
    let url = router.url();
    let task = tokio::spawn(async move {
        let peer = router.accept().await;
        script(peer).await
    });
    (url, task)
}

/// Waits for the router script and surfaces its panic, if any.
async fn finish<T>(script: tokio::task::JoinHandle<T>) -> T {
    match script.await {
        Ok(value) => value,
        Err(e) => panic!("the router script failed: {e}"),
    }
}

async fn connect(url: &str) -> Session {
    Session::connect(url, REALM)
        .await
        .expect("joining the scripted router")
}

/// The close reason inside an `Error::SessionClosed`, or a panic naming what came instead.
fn closed_reason<T: std::fmt::Debug>(what: &str, result: wampkit::Result<T>) -> CloseReason {
    match result {
        Err(Error::SessionClosed(reason)) => reason,
        other => panic!("{what}: expected Error::SessionClosed, got {other:?}"),
    }
}

/// A call on a closed session must fail at once with `SessionClosed`.
async fn assert_call_fails_fast(session: &Session, initiator: CloseInitiator) -> CloseReason {
    let result = tokio::time::timeout(FAIL_FAST, session.call("com.example.later", ()))
        .await
        .expect("a call on a closed session must fail at once");
    let reason = closed_reason("a call on a closed session", result);
    assert_eq!(reason.initiator, initiator, "{reason:?}");
    reason
}

fn string_args(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .map(|v| v.as_str().map_or_else(|| format!("{v:?}"), str::to_owned))
        .collect()
}
