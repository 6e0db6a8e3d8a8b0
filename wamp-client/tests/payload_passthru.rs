//! The session's payload passthru mode against a scripted router, with a codec of the test's
//! own (the cryptobox codec has its tests in `e2ee::key_ring`, and end-to-end ones against
//! Autobahn|Python in the root package): what HELLO announces, refusing a router that did not
//! announce the mode, encoded requests and answers in both directions, and what cannot be
//! decoded.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use futures_util::StreamExt as _;
use wamp_testkit::bounded;
use wamp_testkit::scripted_router::{
    RouterPeer, ScriptedRouter, args, dict, expect_message, welcome_details,
};
use wampkit::e2ee::{DecodedPayload, EncodedPayload, PayloadCodec, PayloadCodecError, PayloadRole};
use wampkit::wire::{Id, Message, Payload, Serializer, code};
use wampkit::{Dict, Error, Invocation, Session, Value, WampError};

/// Encodes every URI under `com.secret.`: a marker byte, then `{uri, args, kwargs}` as JSON.
/// Not encryption: the session's handling is under test, not a cipher.
#[derive(Debug)]
struct MarkingCodec;

const MARK: u8 = 0xEE;

fn mark(uri: &str, args: &[Value], kwargs: &Dict) -> Vec<u8> {
    let inner = Value::Dict(dict([
        ("uri", Value::from(uri)),
        ("args", Value::List(args.to_vec())),
        ("kwargs", Value::Dict(kwargs.clone())),
    ]));
    let mut bytes = vec![MARK];
    bytes.extend(serde_json::to_vec(&inner).unwrap());
    bytes
}

impl PayloadCodec for MarkingCodec {
    fn encodes(&self, _role: PayloadRole, uri: &str) -> bool {
        uri.starts_with("com.secret.")
    }

    fn encode(
        &self,
        role: PayloadRole,
        uri: &str,
        args: &[Value],
        kwargs: &Dict,
    ) -> Result<Option<EncodedPayload>, PayloadCodecError> {
        Ok(self.encodes(role, uri).then(|| EncodedPayload {
            scheme: "x_mark".into(),
            serializer: "json".into(),
            cipher: None,
            key_id: None,
            bytes: mark(uri, args, kwargs),
        }))
    }

    fn requires_encoding(&self, role: PayloadRole, uri: &str) -> bool {
        self.encodes(role, uri) && uri.starts_with("com.secret.strict.")
    }

    fn decode(
        &self,
        role: PayloadRole,
        uri: &str,
        payload: &EncodedPayload,
    ) -> Result<DecodedPayload, PayloadCodecError> {
        if payload.scheme != "x_mark" {
            return Err(PayloadCodecError::UnknownScheme {
                scheme: payload.scheme.clone(),
            });
        }
        if !self.encodes(role, uri) {
            return Err(PayloadCodecError::NoKey { uri: uri.into() });
        }
        let decrypt = || PayloadCodecError::Decrypt { uri: uri.into() };
        let Some((&MARK, json)) = payload.bytes.split_first() else {
            return Err(decrypt());
        };
        let inner: Value = serde_json::from_slice(json).map_err(|_| decrypt())?;
        Ok(DecodedPayload {
            uri: inner.get("uri").and_then(Value::as_str).map(str::to_owned),
            args: inner
                .get("args")
                .and_then(Value::as_list)
                .map(<[Value]>::to_vec)
                .unwrap_or_default(),
            kwargs: inner
                .get("kwargs")
                .and_then(Value::as_dict)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// WELCOME details whose dealer and broker announce the passthru mode (as Crossbar.io names it).
fn passthru_welcome() -> Dict {
    let mut details = welcome_details();
    if let Some(Value::Dict(roles)) = details.get_mut("roles") {
        for role in ["dealer", "broker"] {
            if let Some(Value::Dict(features)) = roles.get_mut(role).and_then(|r| match r {
                Value::Dict(r) => r.get_mut("features"),
                _ => None,
            }) {
                features.insert("payload_transparency".into(), Value::Bool(true));
            }
        }
    }
    details
}

/// An encoded payload's details and payload, as a router forwards them (Autobahn's form).
fn encoded(uri: &str, args: Vec<Value>) -> (Dict, Payload) {
    let details = dict([
        ("enc_algo", Value::from("x_mark")),
        ("enc_serializer", Value::from("json")),
    ]);
    (
        details,
        Payload::Transparent(mark(uri, &args, &Dict::new())),
    )
}

fn garbled() -> (Dict, Payload) {
    let (details, _) = encoded("com.secret.x", Vec::new());
    (details, Payload::Transparent(vec![0, 1, 2, 3]))
}

/// Reads an encoded payload the client sent.
fn unmark(options: &Dict, payload: Payload) -> (String, Vec<Value>) {
    assert_eq!(options.get("enc_algo"), Some(&Value::from("x_mark")));
    let Payload::Transparent(bytes) = payload else {
        panic!("not a transparent payload: {payload:?}");
    };
    let encoded = EncodedPayload {
        scheme: "x_mark".into(),
        serializer: "json".into(),
        cipher: None,
        key_id: None,
        bytes,
    };
    let decoded = MarkingCodec
        .decode(PayloadRole::Responder, "com.secret.any", &encoded)
        .unwrap();
    (decoded.uri.unwrap(), decoded.args)
}

fn features(hello: &Dict, role: &str) -> Dict {
    hello
        .get("roles")
        .and_then(|r| r.get(role))
        .and_then(|r| r.get("features"))
        .and_then(Value::as_dict)
        .cloned()
        .unwrap()
}

async fn join(router: &ScriptedRouter, codec: bool) -> Session {
    let mut builder = Session::builder(router.url(), "realm1");
    if codec {
        builder = builder.payload_codec(MarkingCodec);
    }
    router.connect(builder).await.unwrap()
}

#[tokio::test]
async fn hello_announces_the_mode_only_with_a_codec() {
    bounded("hello", async {
        for codec in [false, true] {
            let router = ScriptedRouter::in_memory(Serializer::Json);
            let script = async {
                let mut peer = router.accept().await;
                let hello = peer.welcome(1).await;
                for role in ["caller", "callee", "publisher", "subscriber"] {
                    let features = features(&hello.details, role);
                    for name in ["payload_passthru_mode", "payload_transparency"] {
                        assert_eq!(features.contains_key(name), codec, "{role} {name}");
                    }
                }
                peer
            };
            let (_peer, _session) = tokio::join!(script, join(&router, codec));
        }
    })
    .await;
}

#[tokio::test]
async fn a_router_that_did_not_announce_the_mode_gets_no_encoded_request() {
    bounded("unannounced", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let script = async {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            // Only the plain call reaches the router.
            let (request, procedure) = expect_message!(
                peer,
                Message::Call { request, procedure, payload: Payload::Args { .. }, .. } => (request, procedure)
            );
            assert_eq!(procedure, "com.plain.add");
            peer.send(wamp_testkit::scripted_router::result(request, args((3,))))
                .await;
            peer
        };
        let client = async {
            let session = join(&router, true).await;
            let refused = session.call("com.secret.add", (1, 2)).await;
            assert!(
                matches!(
                    &refused,
                    Err(Error::PayloadCodec(PayloadCodecError::RouterUnsupported { role: "dealer", uri }))
                        if uri == "com.secret.add"
                ),
                "{refused:?}"
            );
            let refused = session.publish("com.secret.news", ("x",)).await;
            assert!(
                matches!(
                    refused,
                    Err(Error::PayloadCodec(PayloadCodecError::RouterUnsupported { role: "broker", .. }))
                ),
                "{refused:?}"
            );
            let sum: i64 = session.call("com.plain.add", (1, 2)).await.unwrap().arg(0).unwrap();
            assert_eq!(sum, 3);
            session
        };
        let (_peer, _session) = tokio::join!(script, client);
    })
    .await;
}

/// The next CALL, encoded for `procedure`: its request id and arguments.
async fn next_call(peer: &mut RouterPeer, procedure: &str) -> (Id, Vec<Value>) {
    let (request, options, payload) = expect_message!(
        peer,
        Message::Call { request, options, payload, .. } => (request, options, payload)
    );
    let (uri, args) = unmark(&options, payload);
    assert_eq!(uri, procedure);
    (request, args)
}

/// The router's side of `calls_and_their_answers_are_encoded`.
async fn answer_calls(mut peer: RouterPeer) -> RouterPeer {
    // A good answer, a tampered one, one made for another procedure, an encoded error.
    let (request, args) = next_call(&mut peer, "com.secret.add").await;
    assert_eq!(args, vec![Value::from(1), Value::from(2)]);
    let (details, payload) = encoded("com.secret.add", vec![Value::from(3)]);
    peer.send(Message::Result {
        request,
        details,
        payload,
    })
    .await;
    let (request, _) = next_call(&mut peer, "com.secret.add").await;
    let (details, payload) = garbled();
    peer.send(Message::Result {
        request,
        details,
        payload,
    })
    .await;
    let (request, _) = next_call(&mut peer, "com.secret.add").await;
    let (details, payload) = encoded("com.secret.other", vec![Value::from(3)]);
    peer.send(Message::Result {
        request,
        details,
        payload,
    })
    .await;
    let (request, _) = next_call(&mut peer, "com.secret.add").await;
    let (details, payload) = encoded("com.secret.error.nope", vec![Value::from("no")]);
    let error = "com.secret.error.nope".to_owned();
    let request_type = code::CALL;
    peer.send(Message::Error {
        request_type,
        request,
        details,
        error,
        payload,
    })
    .await;
    peer
}

#[tokio::test]
async fn calls_and_their_answers_are_encoded() {
    bounded("calls", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let script = async {
            let mut peer = router.accept().await;
            peer.welcome_with(1, passthru_welcome()).await;
            answer_calls(peer).await
        };
        let client = async {
            let session = join(&router, true).await;
            let call = || session.call("com.secret.add", (1, 2));
            assert_eq!(call().await.unwrap().arg::<i64>(0).unwrap(), 3);
            let tampered = call().await;
            assert!(
                matches!(
                    tampered,
                    Err(Error::PayloadCodec(PayloadCodecError::Decrypt { .. }))
                ),
                "{tampered:?}"
            );
            let replayed = call().await;
            assert!(
                matches!(
                    &replayed,
                    Err(Error::PayloadCodec(PayloadCodecError::UriMismatch { envelope, inner }))
                        if envelope == "com.secret.add" && inner == "com.secret.other"
                ),
                "{replayed:?}"
            );
            match call().await {
                Err(Error::Wamp(e)) => {
                    assert_eq!(e.uri, "com.secret.error.nope");
                    assert_eq!(e.args, vec![Value::from("no")]);
                }
                other => panic!("expected the decoded error, got {other:?}"),
            }
            assert!(!session.is_closed());
            session
        };
        let (_peer, _session) = tokio::join!(script, client);
    })
    .await;
}

/// The router's side of `invocations_and_events_are_decoded_and_answers_encoded`.
async fn invoke_and_publish(
    mut peer: RouterPeer,
    registration: Id,
    subscription: Id,
) -> RouterPeer {
    // An invocation that decodes: its YIELD is encoded.
    let (details, payload) = encoded("com.secret.echo", vec![Value::from("hi")]);
    peer.send(Message::Invocation {
        request: 1,
        registration,
        details,
        payload,
    })
    .await;
    let (options, payload) = expect_message!(peer, Message::Yield { request: 1, options, payload } => (options, payload));
    assert_eq!(
        unmark(&options, payload),
        ("com.secret.echo".into(), vec![Value::from("hi")])
    );
    // One that does not: answered with Autobahn's error, in the clear.
    let (details, payload) = garbled();
    peer.send(Message::Invocation {
        request: 2,
        registration,
        details,
        payload,
    })
    .await;
    let error = expect_message!(
        peer,
        Message::Error { request_type: code::INVOCATION, request: 2, error, .. } => error
    );
    assert_eq!(error, "wamp.error.encryption.decrypt_error");
    // The handler's application error is encoded with its error URI's key.
    let (details, payload) = encoded("com.secret.echo", vec![Value::from("fail")]);
    peer.send(Message::Invocation {
        request: 3,
        registration,
        details,
        payload,
    })
    .await;
    let (details, error, payload) = expect_message!(
        peer,
        Message::Error { request: 3, details, error, payload, .. } => (details, error, payload)
    );
    assert_eq!(error, "com.secret.error.failed");
    assert_eq!(
        unmark(&details, payload),
        (error, vec![Value::from("it failed")])
    );

    let (details, payload) = encoded("com.secret.news", vec![Value::from(7)]);
    peer.send(Message::Event {
        subscription,
        publication: 1,
        details,
        payload,
    })
    .await;
    let (details, payload) = garbled();
    peer.send(Message::Event {
        subscription,
        publication: 2,
        details,
        payload,
    })
    .await;
    peer
}

#[tokio::test]
async fn invocations_and_events_are_decoded_and_answers_encoded() {
    bounded("invocations", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let script = async {
            let mut peer = router.accept().await;
            peer.welcome_with(1, passthru_welcome()).await;
            peer.accept_register(7).await;
            peer.accept_subscribe(9).await;
            invoke_and_publish(peer, 7, 9).await
        };
        let client = async {
            let session = join(&router, true).await;
            let echo = session.register("com.secret.echo", |inv: Invocation| async move {
                if inv.arg::<String>(0)? == "fail" {
                    return Err(WampError::with_message(
                        "com.secret.error.failed",
                        "it failed",
                    ));
                }
                Ok(inv.arguments())
            });
            let _echo = echo.await.unwrap();
            let mut events = session.subscribe("com.secret.news").await.unwrap();
            let event = events.next().await.unwrap();
            assert_eq!(event.arg::<i64>(0).unwrap(), 7);
            assert!(event.payload_error().is_none());
            let garbled = events.next().await.unwrap();
            assert!(matches!(
                garbled.payload_error(),
                Some(PayloadCodecError::Decrypt { .. })
            ));
            assert!(garbled.arg_count() == 0);
            assert!(garbled.kwargs::<Dict>().is_err());
            assert!(!session.is_closed());
            (session, events)
        };
        let (_peer, _client) = tokio::join!(script, client);
    })
    .await;
}

#[tokio::test]
async fn plain_payloads_where_the_codec_requires_encoding_are_refused() {
    bounded("strict", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let script = async {
            let mut peer = router.accept().await;
            peer.welcome_with(1, passthru_welcome()).await;
            peer.accept_subscribe(9).await;
            let plain = || Payload::new(args((1,)), Dict::new());
            for publication in [1, 2] {
                // A plain event where the codec requires encoding, then one where it does not
                // (the second subscription's topic).
                let subscription = if publication == 1 { 9 } else { 10 };
                if publication == 2 {
                    peer.accept_subscribe(10).await;
                }
                let (details, payload) = (Dict::new(), plain());
                peer.send(Message::Event {
                    subscription,
                    publication,
                    details,
                    payload,
                })
                .await;
            }
            // A plain RESULT is refused; a plain ERROR (the router makes some) is not.
            for answer in 0..2 {
                let (request, _) = next_call(&mut peer, "com.secret.strict.add").await;
                if answer == 0 {
                    let details = Dict::new();
                    peer.send(Message::Result {
                        request,
                        details,
                        payload: plain(),
                    })
                    .await;
                } else {
                    peer.send(wamp_testkit::scripted_router::error(
                        code::CALL,
                        request,
                        "wamp.error.canceled",
                        Vec::new(),
                    ))
                    .await;
                }
            }
            peer
        };
        let client = async {
            let session = join(&router, true).await;
            let mut strict = session.subscribe("com.secret.strict.news").await.unwrap();
            let event = strict.next().await.unwrap();
            assert!(
                matches!(
                    event.payload_error(),
                    Some(PayloadCodecError::Unencoded { .. })
                ),
                "{event:?}"
            );
            assert!(event.arg_count() == 0);
            let mut lenient = session.subscribe("com.secret.news").await.unwrap();
            let event = lenient.next().await.unwrap();
            assert_eq!(event.arg::<i64>(0).unwrap(), 1);

            let refused = session.call("com.secret.strict.add", (1, 2)).await;
            assert!(
                matches!(
                    refused,
                    Err(Error::PayloadCodec(PayloadCodecError::Unencoded { .. }))
                ),
                "{refused:?}"
            );
            let canceled = session.call("com.secret.strict.add", (1, 2)).await;
            assert!(matches!(canceled, Err(Error::Wamp(_))), "{canceled:?}");
            (session, strict, lenient)
        };
        let (_peer, _client) = tokio::join!(script, client);
    })
    .await;
}
