//! End-to-end tests against the router under test (Crossbar.io or the embedded router; see
//! `testkit`), for every serializer.
//!
//! The router is started on free ports by `testkit` (Crossbar.io installed once, cached).
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::time::Duration;

use serde::{Deserialize, Serialize};
use testkit::e2e::{connect, next_event, register_echo, router_url, within};
use wampkit::{
    Arguments, Error, ErrorUri, Event, Invocation, MatchPolicy, Serializer, Session, Value,
    WampError, error::CloseInitiator,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sample {
    negative: i64,
    big: u64,
    ratio: f64,
    text: String,
    #[serde(with = "serde_bytes_compat")]
    blob: Vec<u8>,
    nested: Vec<Option<i32>>,
}

/// Serializes `Vec<u8>` as bytes (not as a list of numbers), like the `serde_bytes` crate.
mod serde_bytes_compat {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
        }
        d.deserialize_bytes(Visitor)
    }
}

fn sample() -> Sample {
    Sample {
        negative: -9_007_199_254_740_991,
        big: 18_446_744_073_709_551_615,
        ratio: -0.000_125,
        text: "zwölf ✓ 日本".into(),
        blob: vec![0, 1, 2, 254, 255],
        nested: vec![Some(-1), None, Some(i32::MAX)],
    }
}

async fn call_register_and_payloads(serializer: Serializer) {
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let uri = format!("com.test.{serializer}.echo");
    let _echo = register_echo(&callee, &uri).await;

    // Positional: scalars of every kind, and a struct.
    let result = within(
        "call",
        caller.call(&uri, (-5i32, 2.5f64, "zwölf", true, (), sample())),
    )
    .await
    .unwrap();
    let (n, x, s, b, unit, back): (i32, f64, String, bool, Option<i32>, Sample) =
        result.args().unwrap();
    assert_eq!((n, x, s.as_str(), b, unit), (-5, 2.5, "zwölf", true, None));
    assert_eq!(back, sample());

    // Keyword arguments come back as keyword results.
    let result = within("call kwargs", caller.call(&uri, ()).kwargs(sample()))
        .await
        .unwrap();
    assert!(result.arg_count() == 0);
    assert_eq!(result.kwargs::<Sample>().unwrap(), sample());
    assert_eq!(
        result.kwarg::<i64>("negative").unwrap(),
        -9_007_199_254_740_991
    );
    assert_eq!(result.kwarg::<Option<i64>>("missing").unwrap(), None);

    // Bytes survive as bytes, whatever the serializer.
    let result = within(
        "call bytes",
        caller.call(&uri, (Value::Bytes(vec![0, 159, 146, 150]),)),
    )
    .await
    .unwrap();
    assert_eq!(
        result.arguments().args[0],
        Value::Bytes(vec![0, 159, 146, 150])
    );

    // A typed result of the wrong shape is a payload error naming the problem.
    let err = result.arg::<String>(0).unwrap_err();
    assert!(matches!(err, Error::Payload(_)), "{err:?}");
    let err = result.arg::<i64>(3).unwrap_err();
    assert!(
        err.to_string().contains("positional argument 3: missing"),
        "{err}"
    );
}

async fn errors_arrive_typed(serializer: Serializer) {
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let uri = format!("com.test.{serializer}.divide");
    let _div = within(
        "register",
        callee.register(&uri, |inv: Invocation| async move {
            let (a, b): (f64, f64) = inv.args()?;
            if b == 0.0 {
                return Err(WampError::with_message(
                    "com.test.error.division_by_zero",
                    "cannot divide by zero",
                )
                .with_kwargs(serde_json::json!({"dividend": a})));
            }
            Ok(Arguments::single(a / b)?)
        }),
    )
    .await
    .unwrap();

    let quotient: f64 = within("call", caller.call(&uri, (7.0, -2.0)))
        .await
        .unwrap()
        .arg(0)
        .unwrap();
    assert_eq!(quotient, -3.5);

    // Application error: URI, args and kwargs.
    match within("call div 0", caller.call(&uri, (1.5, 0.0))).await {
        Err(Error::Wamp(e)) => {
            assert_eq!(
                e.uri,
                ErrorUri::Other("com.test.error.division_by_zero".into())
            );
            assert_eq!(e.message(), Some("cannot divide by zero"));
            assert_eq!(e.kwargs.get("dividend"), Some(&Value::Float(1.5)));
        }
        other => panic!("expected an application error, got {other:?}"),
    }

    // Wrong payload: invalid_argument with a message that names the problem.
    match within("call bad args", caller.call(&uri, ("seven",))).await {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, ErrorUri::InvalidArgument);
            let message = e.message().unwrap_or_default();
            assert!(message.contains("positional argument 0"), "{message}");
        }
        other => panic!("expected invalid_argument, got {other:?}"),
    }

    // Router errors are variants.
    let missing = format!("com.test.{serializer}.missing");
    let err = within("call missing", caller.call(&missing, ()))
        .await
        .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::NoSuchProcedure));
    let err = within(
        "register twice",
        callee.register(&uri, |_inv: Invocation| async { Ok(Arguments::new()) }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::ProcedureAlreadyExists));

    // The reserved prefix is refused locally, before anything is sent.
    let err = within(
        "register wamp.",
        callee.register("wamp.test.x", |_inv: Invocation| async {
            Ok(Arguments::new())
        }),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::InvalidUri { .. }), "{err:?}");
}

async fn callee_calls_on_same_session(serializer: Serializer) {
    let session = connect(serializer).await;
    let inner = format!("com.test.{serializer}.inner");
    let outer = format!("com.test.{serializer}.outer");
    let _inner = within(
        "register inner",
        session.register(&inner, |inv: Invocation| async move {
            let n: i64 = inv.arg(0)?;
            Ok(Arguments::single(n * 2)?)
        }),
    )
    .await
    .unwrap();
    let inner_uri = inner.clone();
    let _outer = within(
        "register outer",
        session.register(&outer, move |inv: Invocation| {
            let inner = inner_uri.clone();
            async move {
                let n: i64 = inv.arg(0)?;
                let session = inv.session().expect("the session is open").clone();
                // A nested call on the session that delivered this invocation.
                let doubled: i64 = session
                    .call(&inner, (n,))
                    .await
                    .map_err(|e| WampError::with_message("com.test.error.nested", e.to_string()))?
                    .arg(0)
                    .map_err(|e| WampError::with_message("com.test.error.nested", e.to_string()))?;
                Ok(Arguments::single(doubled + 1)?)
            }
        }),
    )
    .await
    .unwrap();
    let result: i64 = within("outer call", session.call(&outer, (20,)))
        .await
        .unwrap()
        .arg(0)
        .unwrap();
    assert_eq!(result, 41);
}

async fn publish_and_subscribe(serializer: Serializer) {
    let subscriber = connect(serializer).await;
    let publisher = connect(serializer).await;
    let topic = format!("com.test.{serializer}.news");

    let mut first = within("subscribe", subscriber.subscribe(&topic))
        .await
        .unwrap();
    let mut second = within("subscribe again", subscriber.subscribe(&topic))
        .await
        .unwrap();
    // Crossbar gives the same subscription id to both; each must see every event.
    assert_eq!(first.id(), second.id());

    let publication = within(
        "publish",
        publisher
            .publish(&topic, (-1, 0.5, "zwölf"))
            .kwarg("sample", sample())
            .acknowledge(),
    )
    .await
    .unwrap();
    for events in [&mut first, &mut second] {
        let event = next_event(events).await;
        assert_eq!(event.publication, publication);
        assert_eq!(event.topic, topic);
        assert_eq!(
            event.args::<(i32, f64, String)>().unwrap(),
            (-1, 0.5, "zwölf".into())
        );
        assert_eq!(event.kwarg::<Sample>("sample").unwrap(), sample());
        assert_eq!(
            event.publisher(),
            Some(publisher.id()),
            "realm1 discloses publishers"
        );
    }

    // Dropping one local subscription keeps the other subscribed.
    drop(first);
    within("publish 2", publisher.publish(&topic, (2,)).acknowledge())
        .await
        .unwrap();
    assert_eq!(next_event(&mut second).await.arg::<i32>(0).unwrap(), 2);

    // After unsubscribing, nothing more arrives and the stream has ended.
    within("unsubscribe", second.unsubscribe()).await.unwrap();
    let mut probe = within("subscribe probe", subscriber.subscribe(&topic))
        .await
        .unwrap();
    within("publish 3", publisher.publish(&topic, (3,)).acknowledge())
        .await
        .unwrap();
    assert_eq!(next_event(&mut probe).await.arg::<i32>(0).unwrap(), 3);

    // Fire-and-forget publish, and the publisher's own subscription with include_me.
    let mut own = within("own subscribe", publisher.subscribe(&topic))
        .await
        .unwrap();
    within("publish 4", publisher.publish(&topic, (4,)).include_me())
        .await
        .unwrap();
    assert_eq!(next_event(&mut own).await.arg::<i32>(0).unwrap(), 4);
    assert_eq!(next_event(&mut probe).await.arg::<i32>(0).unwrap(), 4);
}

async fn subscriber_publishes_on_same_session(serializer: Serializer) {
    let session = connect(serializer).await;
    let observer = connect(serializer).await;
    let ping = format!("com.test.{serializer}.ping");
    let pong = format!("com.test.{serializer}.pong");
    let mut pongs = within("subscribe pong", observer.subscribe(&pong))
        .await
        .unwrap();
    let pong_topic = pong.clone();
    let _handler = within("subscribe ping", session.subscribe(&ping))
        .await
        .unwrap()
        .handle(move |event: Event| {
            let pong = pong_topic.clone();
            async move {
                let n: i64 = event.arg(0).unwrap_or(-1);
                let session = event.session().expect("open").clone();
                // Publishing from inside a handler, acknowledged: must not deadlock.
                session
                    .publish(&pong, (n + 1,))
                    .acknowledge()
                    .await
                    .unwrap();
            }
        });
    within("publish ping", observer.publish(&ping, (41,)).acknowledge())
        .await
        .unwrap();
    assert_eq!(next_event(&mut pongs).await.arg::<i64>(0).unwrap(), 42);
}

async fn pattern_subscriptions_and_registrations(serializer: Serializer) {
    let session = connect(serializer).await;
    let other = connect(serializer).await;
    let base = format!("com.test.{serializer}.pattern");
    let mut prefix = within(
        "prefix subscribe",
        session.subscribe(&base).match_policy(MatchPolicy::Prefix),
    )
    .await
    .unwrap();
    let mut wildcard = within(
        "wildcard subscribe",
        session
            .subscribe(format!("{base}..update"))
            .match_policy(MatchPolicy::Wildcard),
    )
    .await
    .unwrap();
    let concrete = format!("{base}.user7.update");
    within("publish", other.publish(&concrete, (7,)).acknowledge())
        .await
        .unwrap();
    assert_eq!(next_event(&mut prefix).await.topic, concrete);
    assert_eq!(next_event(&mut wildcard).await.topic, concrete);

    let _reg = within(
        "prefix register",
        session
            .register(format!("{base}.proc"), |inv: Invocation| async move {
                Ok(Arguments::single(inv.procedure.clone())?)
            })
            .match_policy(MatchPolicy::Prefix),
    )
    .await
    .unwrap();
    let called = format!("{base}.proc.deep.name");
    let procedure: String = within("call by prefix", other.call(&called, ()))
        .await
        .unwrap()
        .arg(0)
        .unwrap();
    assert_eq!(procedure, called);
}

async fn unregister_explicit_and_on_drop(serializer: Serializer) {
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let uri = format!("com.test.{serializer}.transient");
    let registration = register_echo(&callee, &uri).await;
    within("call", caller.call(&uri, (1,))).await.unwrap();
    within("unregister", registration.unregister())
        .await
        .unwrap();
    let err = within("call after unregister", caller.call(&uri, (1,)))
        .await
        .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::NoSuchProcedure));

    let registration = register_echo(&callee, &uri).await;
    drop(registration);
    // The drop sends UNREGISTER without waiting; a round trip on the same session orders after it.
    within("round trip", callee.call("wamp.session.count", ()))
        .await
        .unwrap();
    let err = within("call after drop", caller.call(&uri, (1,)))
        .await
        .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::NoSuchProcedure));
}

async fn leave_and_rejoin(serializer: Serializer) {
    let session = connect(serializer).await;
    let uri = format!("com.test.{serializer}.rejoin");
    let _reg = register_echo(&session, &uri).await;
    let reason = within("leave", session.leave()).await.unwrap();
    assert_eq!(reason.initiator, CloseInitiator::Client);
    assert!(session.is_closed());
    let err = within("call after leave", session.call("wamp.session.count", ()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SessionClosed(_)), "{err:?}");

    // A new session on a new connection works, and the old registration is gone.
    let again = connect(serializer).await;
    assert_ne!(again.id(), session.id());
    let err = within("call old registration", again.call(&uri, ()))
        .await
        .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::NoSuchProcedure));
    let _reg = register_echo(&again, &uri).await;
    within("call new registration", again.call(&uri, (1,)))
        .await
        .unwrap();
}

async fn router_kills_session(serializer: Serializer) {
    let victim = connect(serializer).await;
    let admin = connect(serializer).await;
    let blocker = format!("com.test.{serializer}.never_answers");
    let _never = within(
        "register blocker",
        admin.register(&blocker, |_inv: Invocation| async {
            std::future::pending::<()>().await;
            Ok(Arguments::new())
        }),
    )
    .await
    .unwrap();
    // A call that will still be pending when the session is killed.
    let pending = tokio::spawn({
        let victim = victim.clone();
        async move { victim.call(&blocker, ()).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    within(
        "kill",
        admin
            .call("wamp.session.kill", (victim.id(),))
            .kwarg("reason", "wamp.close.killed")
            .kwarg("message", "test kill"),
    )
    .await
    .unwrap();
    let reason = within("closed", victim.closed()).await;
    assert_eq!(reason.uri, "wamp.close.killed");
    assert_eq!(reason.initiator, CloseInitiator::Router);
    assert_eq!(reason.message.as_deref(), Some("test kill"));
    let result = within("pending call", pending).await.unwrap();
    assert!(matches!(result, Err(Error::SessionClosed(_))), "{result:?}");
}

testkit::per_serializer!(
    call_register_and_payloads,
    errors_arrive_typed,
    callee_calls_on_same_session,
    publish_and_subscribe,
    subscriber_publishes_on_same_session,
    pattern_subscriptions_and_registrations,
    unregister_explicit_and_on_drop,
    leave_and_rejoin,
    router_kills_session,
);

#[tokio::test]
async fn welcome_details_are_exposed() {
    let session = connect(Serializer::Json).await;
    let details = session.details();
    assert_eq!(details.realm, "realm1");
    assert_eq!(details.authrole.as_deref(), Some("anonymous"));
    assert_eq!(details.authmethod.as_deref(), Some("anonymous"));
    assert!(details.router_has_role("broker") && details.router_has_role("dealer"));
    assert!(details.router_supports("dealer", "pattern_based_registration"));
    // Keys outside the specification (Crossbar's `x_cb_*`) are kept, not rejected; the embedded
    // router sends none.
    if testkit::RouterKind::current() == testkit::RouterKind::Crossbar {
        assert!(details.details.contains_key("x_cb_node"));
    }
    assert!(details.authid.is_some());
}

#[tokio::test]
async fn unknown_realm_is_a_typed_abort() {
    let err = within("connect", Session::connect(&router_url(), "no.such.realm"))
        .await
        .unwrap_err();
    match &err {
        Error::Aborted(e) => assert_eq!(e.uri, ErrorUri::NoSuchRealm, "{e}"),
        other => panic!("expected an abort, got {other:?}"),
    }
}

#[tokio::test]
async fn connection_failures_are_clear() {
    // A closed port: connection refused.
    let closed = wamp_testkit::closed_port::closed_port().unwrap();
    let port = closed.port();
    let err = within(
        "connect",
        Session::connect(&format!("ws://127.0.0.1:{port}/ws"), "realm1"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    assert!(err.to_string().contains("connection refused"), "{err}");

    // A path that is not a WebSocket endpoint.
    let url = testkit::shared().unwrap().url("no-such-path");
    let err = within("connect", Session::connect(&url, "realm1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");

    // An unsupported scheme.
    let err = within(
        "connect",
        Session::connect("http://127.0.0.1:1/ws", "realm1"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("unsupported URL scheme"), "{err}");
}
