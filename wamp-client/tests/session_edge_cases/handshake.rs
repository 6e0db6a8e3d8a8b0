//! Joining: the HELLO the client sends, an ABORT in answer, binary serializers and
//! subprotocol negotiation.

use super::*;

// ===== 1. HELLO

#[tokio::test]
async fn hello_announces_roles_features_agent_and_realm() {
    bounded("hello", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut hellos = Vec::new();
            for _ in 0..2 {
                let mut peer = router.accept().await;
                let offered = peer.offered().to_vec();
                hellos.push((peer.welcome(SESSION_ID).await, offered));
                peer.expect_leave().await;
            }
            hellos
        });

        let session = connect(&url).await;
        assert_eq!(session.id(), SESSION_ID);
        assert_eq!(session.serializer(), Serializer::Json);
        assert_eq!(
            session.details().router_agent.as_deref(),
            Some("scripted-router")
        );
        assert!(session.details().router_has_role("dealer"));
        session.leave().await.unwrap();

        let custom = Session::builder(&url, "realm2")
            .agent("my-app/1.0")
            .connect()
            .await
            .unwrap();
        custom.leave().await.unwrap();

        let hellos = finish(script).await;
        let (hello, offered) = &hellos[0];
        // Every serializer compiled in: ["wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"].
        let compiled_in: Vec<&str> = Serializer::ALL
            .into_iter()
            .filter(|s| s.is_available())
            .map(Serializer::subprotocol)
            .collect();
        assert_eq!(offered, &compiled_in);
        assert_eq!(hello.realm, REALM);
        assert_eq!(
            hello.details.get("agent").and_then(Value::as_str),
            Some(concat!("wampkit/", env!("CARGO_PKG_VERSION")))
        );
        let roles = hello
            .details
            .get("roles")
            .and_then(Value::as_dict)
            .expect("HELLO.Details.roles is a dict");
        let expected: [(&str, &[&str]); 4] = [
            (
                "callee",
                &[
                    "call_canceling",
                    "caller_identification",
                    "pattern_based_registration",
                    "progressive_call_results",
                    "progressive_call_invocations",
                    "registration_revocation",
                    "shared_registration",
                ],
            ),
            (
                "caller",
                &[
                    "call_canceling",
                    "call_timeout",
                    "caller_identification",
                    "progressive_call_results",
                    "progressive_call_invocations",
                ],
            ),
            (
                "publisher",
                &[
                    "publisher_exclusion",
                    "publisher_identification",
                    "subscriber_blackwhite_listing",
                ],
            ),
            (
                "subscriber",
                &[
                    "pattern_based_subscription",
                    "publisher_identification",
                    "subscription_revocation",
                ],
            ),
        ];
        assert_eq!(
            roles.keys().map(String::as_str).collect::<Vec<_>>(),
            expected.iter().map(|(role, _)| *role).collect::<Vec<_>>(),
            "HELLO roles"
        );
        for (role, features) in expected {
            let announced = roles[role]
                .get("features")
                .and_then(Value::as_dict)
                .unwrap_or_else(|| panic!("roles.{role}.features is a dict"));
            assert_eq!(
                announced
                    .keys()
                    .map(String::as_str)
                    .collect::<BTreeSet<_>>(),
                features.iter().copied().collect::<BTreeSet<_>>(),
                "features of {role}"
            );
            assert!(
                announced.values().all(|v| *v == Value::Bool(true)),
                "every announced feature of {role} is `true`: {announced:?}"
            );
        }

        let (custom_hello, _) = &hellos[1];
        assert_eq!(custom_hello.realm, "realm2");
        assert_eq!(
            custom_hello.details.get("agent").and_then(Value::as_str),
            Some("my-app/1.0")
        );
    })
    .await;
}

// ===== 2. ABORT in answer to HELLO

#[tokio::test]
async fn abort_answering_hello_is_an_aborted_error() {
    bounded("abort", async {
        let (url, script) = serve(|mut peer| async move {
            let hello = peer
                .abort_hello("wamp.error.no_such_realm", "no realm `nope` on this router")
                .await;
            // No answer to an ABORT; the client just goes away.
            peer.expect_closed().await;
            hello
        })
        .await;

        let err = Session::connect(&url, "nope").await.unwrap_err();
        let Error::Aborted(wamp) = &err else {
            panic!("expected Error::Aborted, got {err:?}");
        };
        assert_eq!(wamp.uri, ErrorUri::NoSuchRealm);
        assert_eq!(wamp.message(), Some("no realm `nope` on this router"));
        assert_eq!(err.uri(), Some(&ErrorUri::NoSuchRealm));
        assert!(err.to_string().contains("no realm `nope`"), "{err}");
        assert_eq!(finish(script).await.realm, "nope");
    })
    .await;
}

// ===== 13. Binary serializers

#[cfg(any(feature = "msgpack", feature = "cbor"))]
async fn check_basic_call(serializer: Serializer) {
    let (url, script) = serve_with(serializer, move |mut peer| async move {
        assert_eq!(peer.chosen(), Some(serializer.subprotocol()));
        peer.welcome(SESSION_ID).await;
        // `recv` checks that the frames are binary.
        let call = peer.expect_call().await;
        assert_eq!(call.procedure, "com.example.echo");
        assert_eq!(
            call.args,
            vec![
                Value::from(-3),
                Value::from("zwölf"),
                Value::Bytes(vec![0, 1, 254, 255])
            ]
        );
        assert_eq!(call.kwargs, dict([("scale", Value::from(2.5))]));
        peer.send(Message::Result {
            request: call.request,
            details: Dict::new(),
            payload: Payload::new(call.args, call.kwargs),
        })
        .await;
        peer.expect_leave().await;
    })
    .await;

    // The client offers every serializer; the router picks `serializer`.
    let session = connect(&url).await;
    assert_eq!(session.serializer(), serializer);
    let sent = Arguments::positional((-3, "zwölf"))
        .unwrap()
        .with_arg(Value::Bytes(vec![0, 1, 254, 255]))
        .unwrap()
        .with_kwarg("scale", 2.5)
        .unwrap();
    let echoed = session
        .call("com.example.echo", ())
        .arguments(sent.clone())
        .await
        .unwrap();
    assert_eq!(echoed.arguments().args, sent.args);
    assert_eq!(echoed.arguments().kwargs, sent.kwargs);
    session.leave().await.unwrap();
    finish(script).await;
}

#[cfg(feature = "msgpack")]
#[tokio::test]
async fn basic_call_over_msgpack() {
    bounded("msgpack", check_basic_call(Serializer::MsgPack)).await;
}

#[cfg(feature = "cbor")]
#[tokio::test]
async fn basic_call_over_cbor() {
    bounded("cbor", check_basic_call(Serializer::Cbor)).await;
}

// ===== 14. Subprotocol negotiation

#[cfg(all(feature = "msgpack", feature = "cbor"))]
/// Connects to a router answering the subprotocol offer as `subprotocol` says, offering `offer`;
/// the connection must fail with `Error::Connect`.
async fn connect_error(subprotocol: Subprotocol, offer: &[Serializer]) -> Error {
    let router = ScriptedRouter::with_subprotocol(subprotocol).await;
    let url = router.url();
    let server = tokio::spawn(async move {
        // The server side may complete; the client must reject the answer.
        let _ = router.try_accept().await;
    });
    let err = Session::builder(&url, REALM)
        .serializers(offer.iter().copied())
        .connect()
        .await
        .unwrap_err();
    let Error::Connect(connect) = &err else {
        panic!("expected Error::Connect, got {err:?}");
    };
    assert_eq!(connect.url, url);
    server.abort();
    err
}

#[cfg(all(feature = "msgpack", feature = "cbor"))]
#[tokio::test]
async fn router_choosing_no_subprotocol_is_a_connect_error_naming_serializers() {
    bounded("no subprotocol", async {
        let text = connect_error(Subprotocol::Omit, &Serializer::ALL)
            .await
            .to_string();
        assert!(text.contains("serializer"), "{text}");
        assert!(
            text.contains("wamp.2.json, wamp.2.msgpack, wamp.2.cbor"),
            "{text}"
        );

        // A router that speaks only CBOR, offered only JSON, answers without a subprotocol.
        let text = connect_error(Subprotocol::Pick(Serializer::Cbor), &[Serializer::Json])
            .await
            .to_string();
        assert!(text.contains("serializer"), "{text}");
        assert!(text.contains("wamp.2.json"), "{text}");
    })
    .await;
}

#[cfg(all(feature = "msgpack", feature = "cbor"))]
#[tokio::test]
async fn router_choosing_an_unoffered_subprotocol_is_a_connect_error() {
    bounded("unoffered subprotocol", async {
        for (chosen, offer) in [
            ("wamp.2.ubjson", &Serializer::ALL[..]),
            ("wamp.2.cbor", &[Serializer::Json][..]),
        ] {
            let err = connect_error(Subprotocol::Force(chosen.to_owned()), offer).await;
            // The cause is at least in the error's source chain.
            let mut chain = Vec::new();
            let mut source: Option<&dyn std::error::Error> = Some(&err);
            while let Some(e) = source {
                chain.push(e.to_string());
                source = e.source();
            }
            let chain = chain.join(": ");
            assert!(chain.contains("subprotocol"), "{chain}");
        }
    })
    .await;
}

#[cfg(all(feature = "msgpack", feature = "cbor"))]
#[tokio::test]
async fn router_choosing_an_unoffered_subprotocol_is_explained_in_the_error_message() {
    bounded("unoffered subprotocol message", async {
        for (chosen, offer, offered) in [
            (
                "wamp.2.ubjson",
                &Serializer::ALL[..],
                "wamp.2.json, wamp.2.msgpack, wamp.2.cbor",
            ),
            ("wamp.2.cbor", &[Serializer::Json][..], "wamp.2.json"),
        ] {
            let text = connect_error(Subprotocol::Force(chosen.to_owned()), offer)
                .await
                .to_string();
            // tungstenite drops the response when it rejects it, so the chosen name may be
            // unknown to the client; the offer and what went wrong are not.
            assert!(
                text.contains("serializer") || text.contains("subprotocol"),
                "the error should say the router chose a serializer that was not offered: {text}"
            );
            assert!(text.contains("not offered"), "{text}");
            assert!(
                text.contains(offered),
                "the error should list the offer: {text}"
            );
        }
    })
    .await;
}
