//! Routing through the embedded router with in-process sessions: RPC and PubSub, basic and
//! advanced profile, on every serializer.
#![cfg(test)]

use std::time::Duration;

use futures_util::StreamExt;
use wampkit::rpc::{CancelMode, InvokePolicy};
use wampkit::{Arguments, Error, ErrorUri, Invocation, MatchPolicy, Serializer, Session};
use wampkit_router::Router;

const LIMIT: Duration = Duration::from_secs(10);

fn router() -> Router {
    Router::builder().realm("realm1").build()
}

async fn join(router: &Router, serializer: Serializer) -> Session {
    let builder = Session::builder("memory://test", "realm1").serializer(serializer);
    tokio::time::timeout(LIMIT, router.join(builder))
        .await
        .expect("join in time")
        .expect("join")
}

#[tokio::test]
async fn calls_reach_the_callee_on_every_serializer() {
    let router = router();
    for serializer in Serializer::ALL {
        let callee = join(&router, serializer).await;
        let _reg = callee
            .register("com.example.add", |inv: Invocation| async move {
                let (a, b): (i64, f64) = inv.args()?;
                Ok(Arguments::single(a as f64 + b)?)
            })
            .await
            .expect("register");
        for caller_serializer in Serializer::ALL {
            let caller = join(&router, caller_serializer).await;
            let sum: f64 = caller
                .call("com.example.add", (-2, 0.5))
                .await
                .expect("call")
                .arg(0)
                .expect("a number");
            assert_eq!(sum, -1.5, "{serializer:?} -> {caller_serializer:?}");
            let bytes: Vec<u8> = caller
                .call("com.example.echo_missing", ())
                .await
                .err()
                .map(|e| {
                    assert!(
                        matches!(&e, Error::Wamp(w) if w.uri == ErrorUri::NoSuchProcedure),
                        "{e}"
                    );
                    Vec::new()
                })
                .expect("no such procedure");
            assert!(bytes.is_empty());
            caller.leave().await.expect("leave");
        }
        callee.leave().await.expect("leave");
    }
}

#[tokio::test]
async fn events_reach_subscribers_but_not_the_publisher() {
    let router = router();
    let subscriber = join(&router, Serializer::Cbor).await;
    let other = join(&router, Serializer::Json).await;
    let publisher = join(&router, Serializer::MsgPack).await;
    let mut events = subscriber
        .subscribe("com.example.news")
        .await
        .expect("subscribe");
    let mut other_events = other
        .subscribe("com.example.news")
        .await
        .expect("subscribe");
    let mut own = publisher
        .subscribe("com.example.news")
        .await
        .expect("subscribe");
    publisher
        .publish("com.example.news", (1, "two", -3.5))
        .acknowledge()
        .await
        .expect("publish");
    for events in [&mut events, &mut other_events] {
        let event = tokio::time::timeout(LIMIT, events.next())
            .await
            .expect("event")
            .expect("event");
        let (a, b, c): (u8, String, f64) = event.args().expect("args");
        assert_eq!((a, b.as_str(), c), (1, "two", -3.5));
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), own.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn pattern_registrations_and_shared_policies() {
    let router = router();
    let a = join(&router, Serializer::Json).await;
    let b = join(&router, Serializer::Json).await;
    for (session, name) in [(&a, "a"), (&b, "b")] {
        let name = name.to_owned();
        std::mem::forget(
            session
                .register("com.example.rr", move |_inv: Invocation| {
                    let name = name.clone();
                    async move { Ok(Arguments::single(name)?) }
                })
                .invoke(InvokePolicy::RoundRobin)
                .await
                .expect("register"),
        );
    }
    let _prefix = a
        .register("com.example.prefix.", |inv: Invocation| async move {
            Ok(Arguments::single(inv.procedure.clone())?)
        })
        .match_policy(MatchPolicy::Prefix)
        .await
        .expect("register prefix");
    let caller = join(&router, Serializer::MsgPack).await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        let name: String = caller
            .call("com.example.rr", ())
            .await
            .expect("call")
            .arg(0)
            .expect("name");
        seen.push(name);
    }
    assert_eq!(seen, ["a", "b", "a", "b"]);
    let procedure: String = caller
        .call("com.example.prefix.deep.name", ())
        .await
        .expect("call")
        .arg(0)
        .expect("procedure");
    assert_eq!(procedure, "com.example.prefix.deep.name");
}

#[tokio::test]
async fn cancel_and_timeout_interrupt_the_callee() {
    let router = router();
    let callee = join(&router, Serializer::Json).await;
    let _slow = callee
        .register("com.example.slow", |_inv: Invocation| async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(Arguments::new())
        })
        .await
        .expect("register");
    let caller = join(&router, Serializer::Json).await;
    let call = caller
        .call("com.example.slow", ())
        .router_timeout(Duration::from_millis(100));
    let error = tokio::time::timeout(LIMIT, call)
        .await
        .expect("in time")
        .expect_err("timeout");
    assert!(
        matches!(&error, Error::Wamp(w) if w.uri.as_str() == "wamp.error.timeout"),
        "{error}"
    );
    let _ = CancelMode::Kill;
}
