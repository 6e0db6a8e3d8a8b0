//! Sessions over a transport given by the application (`connect_with`, `connect_with_factory`),
//! here the in-memory one: every serializer's bytes cross it, and its failures reach the session
//! as a socket's would.
// Needs all three serializers: compiled with those features only (`cargo test --workspace` has them).
#![cfg(all(feature = "msgpack", feature = "cbor"))]
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use wamp_testkit::scripted_router::{RouterPeer, ScriptedRouter, args, expect_message, result};
use wamp_testkit::{bounded, instant_router};
use wampkit::transport::{TransportError, memory};
use wampkit::wire::Message;
use wampkit::{Error, Serializer, Session};

#[tokio::test]
async fn every_serializer_crosses_the_memory_transport() {
    for serializer in Serializer::ALL {
        bounded(serializer.name(), async {
            let router = ScriptedRouter::in_memory(serializer);
            let connecting = router.connect(Session::builder(router.url(), "realm1"));
            let script = tokio::spawn(async move {
                let mut peer = router.accept().await;
                let hello = peer.welcome(5).await;
                assert_eq!(hello.realm, "realm1");
                let call = peer.expect_call().await;
                assert_eq!(call.args, args((2, "two", -2.5)));
                peer.send(result(call.request, call.args)).await;
                peer.expect_leave().await;
            });
            let session = connecting.await.unwrap();
            assert_eq!(session.serializer(), serializer);
            let answer = session.call("com.example.echo", (2, "two", -2.5)).await;
            let (n, s, f): (i64, String, f64) = answer.unwrap().args().unwrap();
            assert_eq!((n, s.as_str(), f), (2, "two", -2.5));
            session.leave().await.unwrap();
            script.await.unwrap();
        })
        .await;
    }
}

/// A transport error ends the session as a broken socket does, and fails what was pending.
#[tokio::test]
async fn a_transport_error_ends_the_session() {
    bounded("transport error", async {
        let (client, peer) = memory::pair(Serializer::Json);
        let script = tokio::spawn(async move {
            let mut peer = RouterPeer::in_memory(peer);
            peer.welcome(1).await;
            peer.expect_call().await;
            peer.fail("the cable was cut").await;
        });
        let session = Session::builder("memory://test", "realm1")
            .connect_with(client)
            .await
            .unwrap();
        let call = session.call("com.example.hang", ()).await;
        assert!(call.is_err(), "{call:?}");
        let reason = session.closed().await;
        assert!(session.is_closed());
        assert!(
            format!("{reason:?}").contains("the cable was cut"),
            "{reason:?}"
        );
        script.await.unwrap();
    })
    .await;
}

/// The session's end of the transport closes when the session leaves.
#[tokio::test]
async fn leaving_closes_the_transport() {
    bounded("leave closes", async {
        let (client, mut peer) = memory::pair(Serializer::MsgPack);
        let script = tokio::spawn(async move {
            let hello = peer.recv().await;
            assert!(
                matches!(hello, Some(Ok(Message::Hello { .. }))),
                "{hello:?}"
            );
            let mut peer = RouterPeer::in_memory(peer);
            peer.send(Message::Welcome {
                session: 3,
                details: wamp_testkit::scripted_router::welcome_details(),
            })
            .await;
            expect_message!(peer, Message::Goodbye { .. });
            peer.send(wamp_testkit::scripted_router::goodbye(
                "wamp.close.goodbye_and_out",
                None,
            ))
            .await;
            peer.expect_closed().await;
        });
        let session = Session::builder("memory://test", "realm1")
            .serializer(Serializer::MsgPack)
            .connect_with(client)
            .await
            .unwrap();
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

/// A factory that cannot open a transport fails the connect with its reason.
#[tokio::test]
async fn a_failing_factory_is_a_connect_error() {
    let connecting =
        Session::builder("memory://nowhere", "realm1").connect_with_factory(|| async {
            Err::<memory::MemoryTransport, _>(TransportError::new("no route to the router"))
        });
    match bounded("failing factory", connecting).await {
        Err(Error::Connect(error)) => {
            assert!(error.reason.contains("no route to the router"), "{error}");
            assert_eq!(error.url, "memory://nowhere");
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}

/// A factory's I/O failure stays reachable through the error chain.
#[tokio::test]
async fn a_factory_io_error_is_the_connect_errors_root_cause() {
    let connecting =
        Session::builder("memory://nowhere", "realm1").connect_with_factory(|| async {
            let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
            Err::<memory::MemoryTransport, _>(TransportError::io(
                "cannot reach the router",
                refused,
            ))
        });
    let error = bounded("failing factory", connecting).await.unwrap_err();
    let mut causes = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source());
    let transport = causes
        .find_map(|e| e.downcast_ref::<TransportError>())
        .expect("the transport error in the chain");
    assert_eq!(
        transport.kind(),
        Some(std::io::ErrorKind::ConnectionRefused)
    );
    let root = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
        .last()
        .and_then(|e| e.downcast_ref::<std::io::Error>());
    assert_eq!(
        root.map(std::io::Error::kind),
        Some(std::io::ErrorKind::ConnectionRefused),
        "{error:?}"
    );
}

/// The instant router answers in memory as over a WebSocket: calls, registrations,
/// subscriptions, acknowledged publications and leaving.
#[tokio::test]
async fn the_instant_router_answers_in_memory() {
    fn sum(_procedure: &str, args: &[wampkit::Value]) -> Vec<wampkit::Value> {
        vec![wampkit::Value::from(
            args.iter().filter_map(wampkit::Value::as_i64).sum::<i64>(),
        )]
    }
    bounded("instant router", async {
        let session = Session::builder("memory://instant", "realm1")
            .serializer(Serializer::Cbor)
            .connect_with_factory(instant_router::connector(Serializer::Cbor, sum))
            .await
            .unwrap();
        let total: i64 = session
            .call("com.example.sum", (2, 3, 4))
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(total, 9);
        let _registration = session
            .register("com.example.noop", |_: wampkit::Invocation| async {
                Ok(wampkit::Arguments::new())
            })
            .await
            .unwrap();
        let _events = session.subscribe("com.example.topic").await.unwrap();
        session
            .publish("com.example.topic", (1,))
            .acknowledge()
            .await
            .unwrap();
        session.leave().await.unwrap();
    })
    .await;
}
