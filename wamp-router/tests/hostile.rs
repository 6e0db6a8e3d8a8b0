//! The router against a malicious client speaking raw bytes over an in-memory connection:
//! garbage, truncated and mistyped messages, ids out of range, messages only a router sends,
//! answers and cancels for what is not the client's, nesting beyond any decoder's limit. The
//! router answers a protocol violation with ABORT `wamp.error.protocol_violation` and closes that
//! connection, ignores what the specification tells it to ignore, never panics or hangs, keeps
//! serving other sessions, and forgets everything a session held once it is gone. (Clients that
//! vanish mid-call: `vanishing.rs`; clients that stop reading: `slow_consumer.rs`.)
#![cfg(test)]

mod support;

use std::time::Duration;

use support::*;
use wampkit::wire::{MAX_ID, Message, Payload, code};
use wampkit::{Dict, Serializer, Value};

const VIOLATION: &str = "wamp.error.protocol_violation";

/// Bytes that are no message in any serializer.
fn garbage() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        vec![0xff; 7],
        b"not a message".to_vec(),
        b"[1, \"realm1\"".to_vec(),
        vec![0xc1],
        vec![0x9f, 0x01],
    ]
}

#[tokio::test]
async fn garbage_before_hello_is_aborted() {
    let router = router();
    for serializer in Serializer::ALL {
        for bytes in garbage() {
            let mut raw = Raw::connect(&router, serializer);
            assert!(raw.send_bytes(bytes.clone()).await);
            raw.expect_abort(VIOLATION).await;
        }
    }
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn truncated_and_mistyped_hellos_are_aborted() {
    let router = router();
    for serializer in Serializer::ALL {
        let whole = serializer
            .encode(&hello("realm1", all_roles()))
            .expect("encode");
        for cut in [1, whole.len() / 2, whole.len() - 1] {
            let mut raw = Raw::connect(&router, serializer);
            assert!(raw.send_bytes(whole[..cut].to_vec()).await);
            raw.expect_abort(VIOLATION).await;
        }
    }
    // The realm as a number, the details as a list, a missing field, an unknown type code.
    for text in [
        r#"[1, 7, {"roles": {"caller": {}}}]"#,
        r#"[1, "realm1", ["roles"]]"#,
        r#"[1, "realm1"]"#,
        r#"[999, "realm1", {}]"#,
        r#"["HELLO", "realm1", {}]"#,
        r#"{"hello": "realm1"}"#,
    ] {
        let mut raw = Raw::connect(&router, Serializer::Json);
        assert!(raw.send_bytes(text.as_bytes().to_vec()).await);
        raw.expect_abort(VIOLATION).await;
    }
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

/// One of every message a client can send, and every one only a router sends, with a valid
/// request id.
fn every_message() -> Vec<Message> {
    let payload = || Payload::new(vec![Value::from(1)], Dict::new());
    vec![
        Message::Welcome {
            session: 1,
            details: Dict::new(),
        },
        Message::Abort {
            details: Dict::new(),
            reason: "wamp.close.normal".into(),
            payload: Payload::Empty,
        },
        Message::Challenge {
            method: "ticket".into(),
            extra: Dict::new(),
        },
        Message::Authenticate {
            signature: "secret".into(),
            extra: Dict::new(),
        },
        Message::Goodbye {
            details: Dict::new(),
            reason: "wamp.close.normal".into(),
        },
        Message::Error {
            request_type: code::INVOCATION,
            request: 1,
            details: Dict::new(),
            error: "com.error".into(),
            payload: payload(),
        },
        Message::Publish {
            request: 1,
            options: Dict::new(),
            topic: "com.topic".into(),
            payload: payload(),
        },
        Message::Published {
            request: 1,
            publication: 2,
        },
        Message::Subscribe {
            request: 1,
            options: Dict::new(),
            topic: "com.topic".into(),
        },
        Message::Subscribed {
            request: 1,
            subscription: 2,
        },
        Message::Unsubscribe {
            request: 1,
            subscription: 2,
        },
        Message::Unsubscribed {
            request: 1,
            details: None,
        },
        Message::Event {
            subscription: 1,
            publication: 2,
            details: Dict::new(),
            payload: payload(),
        },
        call(1, "com.proc", Dict::new(), vec![]),
        Message::Cancel {
            request: 1,
            options: Dict::new(),
        },
        Message::Result {
            request: 1,
            details: Dict::new(),
            payload: payload(),
        },
        Message::Register {
            request: 1,
            options: Dict::new(),
            procedure: "com.proc".into(),
        },
        Message::Registered {
            request: 1,
            registration: 2,
        },
        Message::Unregister {
            request: 1,
            registration: 2,
        },
        Message::Unregistered {
            request: 1,
            details: None,
        },
        Message::Invocation {
            request: 1,
            registration: 2,
            details: Dict::new(),
            payload: payload(),
        },
        Message::Interrupt {
            request: 1,
            options: Dict::new(),
        },
        Message::Yield {
            request: 1,
            options: Dict::new(),
            payload: payload(),
        },
    ]
}

#[tokio::test]
async fn every_message_before_hello_is_aborted() {
    let router = router();
    let mut count = 0;
    for serializer in Serializer::ALL {
        for message in every_message() {
            let mut raw = Raw::connect(&router, serializer);
            assert!(raw.send(&message).await);
            let text = raw.expect_abort(VIOLATION).await;
            assert!(text.contains("HELLO"), "{}: {text}", message.name());
            count += 1;
        }
    }
    assert_eq!(count, 3 * every_message().len());
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn hellos_the_router_refuses() {
    let router = router();
    let mut raw = Raw::connect(&router, Serializer::MsgPack);
    assert!(raw.send(&hello("no.such.realm", all_roles())).await);
    raw.expect_abort("wamp.error.no_such_realm").await;

    let mut raw = Raw::connect(&router, Serializer::MsgPack);
    assert!(raw.send(&hello("realm1", Dict::new())).await);
    raw.expect_abort(VIOLATION).await;
    let mut raw = Raw::connect(&router, Serializer::Json);
    assert!(
        raw.send_bytes(br#"[1, "realm1", {"roles": "caller"}]"#.to_vec())
            .await
    );
    raw.expect_abort(VIOLATION).await;
    // Roles that are not a dict at all.
    let mut raw = Raw::connect(&router, Serializer::Json);
    assert!(
        raw.send_bytes(br#"[1, "realm1", {"roles": [1, 2]}]"#.to_vec())
            .await
    );
    raw.expect_abort(VIOLATION).await;
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

/// Messages a joined client must never send: each one ends its session with ABORT.
#[tokio::test]
async fn router_messages_from_a_joined_client_are_aborted() {
    let router = router();
    let forbidden: Vec<Message> = every_message()
        .into_iter()
        .filter(|m| {
            !matches!(
                m,
                Message::Abort { .. }
                    | Message::Goodbye { .. }
                    | Message::Error { .. }
                    | Message::Publish { .. }
                    | Message::Subscribe { .. }
                    | Message::Unsubscribe { .. }
                    | Message::Call { .. }
                    | Message::Cancel { .. }
                    | Message::Register { .. }
                    | Message::Unregister { .. }
                    | Message::Yield { .. }
            )
        })
        .chain([hello("realm1", all_roles())])
        .collect();
    assert_eq!(forbidden.len(), 13);
    for serializer in Serializer::ALL {
        for message in &forbidden {
            let mut raw = Raw::connect(&router, serializer);
            let session = raw.join(all_roles()).await;
            assert!(raw.send(message).await);
            let text = raw.expect_abort(VIOLATION).await;
            assert!(text.contains(message.name()), "{text}");
            let realm = router.realm("realm1").expect("realm");
            eventually("the aborted session gone", || {
                realm.sessions().iter().all(|s| s.id != session)
            })
            .await;
        }
    }
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn errors_other_than_for_an_invocation_are_aborted() {
    let router = router();
    for request_type in [
        code::CALL,
        code::PUBLISH,
        code::SUBSCRIBE,
        code::REGISTER,
        code::HELLO,
        code::ERROR,
        12345,
    ] {
        let mut raw = Raw::connect(&router, Serializer::Cbor);
        raw.join(all_roles()).await;
        let error = Message::Error {
            request_type,
            request: 1,
            details: Dict::new(),
            error: "com.error".into(),
            payload: Payload::Empty,
        };
        assert!(raw.send(&error).await);
        raw.expect_abort(VIOLATION).await;
    }
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn garbage_and_bad_ids_after_joining_are_aborted() {
    let router = router();
    let too_big = MAX_ID + 1;
    let cases: Vec<(Serializer, Vec<u8>)> = vec![
        (Serializer::Json, b"{]".to_vec()),
        (Serializer::MsgPack, vec![0xc1, 0xc1]),
        (Serializer::Cbor, vec![0xff]),
        // Ids out of range: 0, 2^53 + 1, 2^64 - 1, negative, fractional.
        (Serializer::Json, br#"[48, 0, {}, "com.proc"]"#.to_vec()),
        (
            Serializer::Json,
            format!(r#"[48, {too_big}, {{}}, "com.proc"]"#).into_bytes(),
        ),
        (
            Serializer::Json,
            br#"[48, 18446744073709551615, {}, "com.proc"]"#.to_vec(),
        ),
        (Serializer::Json, br#"[48, -1, {}, "com.proc"]"#.to_vec()),
        (Serializer::Json, br#"[48, 1.5, {}, "com.proc"]"#.to_vec()),
        (Serializer::Json, br#"[34, 1, 1e300]"#.to_vec()),
        (
            Serializer::Json,
            br#"[70, 99999999999999999999999, {}]"#.to_vec(),
        ),
        // Wrong types: options as a list, the procedure as a number, a missing field.
        (Serializer::Json, br#"[48, 1, [], "com.proc"]"#.to_vec()),
        (Serializer::Json, br#"[48, 1, {}, 5]"#.to_vec()),
        (Serializer::Json, br#"[64, 1, {}]"#.to_vec()),
        (
            Serializer::Json,
            br#"[16, 1, {}, "t", {"not": "a list"}]"#.to_vec(),
        ),
        (Serializer::Json, br#"[]"#.to_vec()),
        (Serializer::Json, br#"null"#.to_vec()),
    ];
    for (serializer, bytes) in cases {
        let mut raw = Raw::connect(&router, serializer);
        raw.join(all_roles()).await;
        assert!(raw.send_bytes(bytes.clone()).await);
        raw.expect_abort(VIOLATION).await;
    }
    // The same id limits in the binary serializers.
    for serializer in [Serializer::MsgPack, Serializer::Cbor] {
        for id in [0, too_big, u64::MAX] {
            let mut raw = Raw::connect(&router, serializer);
            raw.join(all_roles()).await;
            assert!(raw.send_bytes(binary_call(serializer, id, &[])).await);
            raw.expect_abort(VIOLATION).await;
        }
    }
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

/// `[CALL, id, {}, "p"]` in MessagePack or CBOR, followed by `tail` as its arguments list (the
/// array header then counts five elements).
fn binary_call(serializer: Serializer, id: u64, tail: &[u8]) -> Vec<u8> {
    let five = !tail.is_empty();
    let mut bytes = Vec::new();
    if serializer == Serializer::MsgPack {
        bytes.extend([if five { 0x95 } else { 0x94 }, 0x30, 0xcf]);
        bytes.extend(id.to_be_bytes());
        bytes.extend([0x80, 0xa1, b'p']);
    } else {
        bytes.extend([if five { 0x85 } else { 0x84 }, 0x18, 0x30, 0x1b]);
        bytes.extend(id.to_be_bytes());
        bytes.extend([0xa0, 0x61, b'p']);
    }
    bytes.extend(tail);
    bytes
}

#[tokio::test]
async fn deeply_nested_payloads_are_refused_or_routed() {
    let router = router();
    // Far deeper than any decoder allows: refused as undecodable, without exhausting the stack.
    for depth in [200, 100_000] {
        let mut json = String::from(r#"[48, 1, {}, "com.proc", "#);
        json.push_str(&"[".repeat(depth));
        json.push_str(&"]".repeat(depth));
        json.push(']');
        let mut raw = Raw::connect(&router, Serializer::Json);
        raw.join(all_roles()).await;
        assert!(raw.send_bytes(json.into_bytes()).await);
        raw.expect_abort(VIOLATION).await;

        for serializer in [Serializer::MsgPack, Serializer::Cbor] {
            // `depth` one-element arrays around a null.
            let (open, null) = match serializer {
                Serializer::MsgPack => (0x91, 0xc0),
                _ => (0x81, 0xf6),
            };
            let mut nested = vec![open; depth];
            nested.push(null);
            let mut raw = Raw::connect(&router, serializer);
            raw.join(all_roles()).await;
            assert!(raw.send_bytes(binary_call(serializer, 1, &nested)).await);
            raw.expect_abort(VIOLATION).await;
        }
    }
    // Nested within the limit: routed to the callee like any payload.
    let mut callee = Raw::connect(&router, Serializer::Json);
    callee.join(all_roles()).await;
    callee.register(1, "com.deep").await;
    let mut caller = Raw::connect(&router, Serializer::Json);
    caller.join(all_roles()).await;
    let depth = 100;
    let mut json = String::from(r#"[48, 1, {}, "com.deep", ["#);
    json.push_str(&"[".repeat(depth));
    json.push_str(&"]".repeat(depth));
    json.push_str("]]");
    assert!(caller.send_bytes(json.into_bytes()).await);
    match callee.recv().await {
        Some(Message::Invocation { payload, .. }) => {
            let (args, _) = payload.into_parts();
            let mut value = args.first().cloned().expect("one argument");
            let mut levels = 0;
            while let Value::List(mut items) = value {
                levels += 1;
                value = items.pop().unwrap_or(Value::Null);
            }
            assert_eq!(levels, depth);
        }
        other => panic!("expected INVOCATION, got {other:?}"),
    }
    drop((callee, caller));
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn answers_for_unknown_or_foreign_invocations_are_ignored() {
    let router = router();
    let mut callee = Raw::connect(&router, Serializer::MsgPack);
    callee.join(all_roles()).await;
    callee.register(1, "com.proc").await;
    let mut intruder = Raw::connect(&router, Serializer::Json);
    intruder.join(all_roles()).await;
    let mut caller = Raw::connect(&router, Serializer::Cbor);
    caller.join(all_roles()).await;

    // Answers for invocations nobody made: ignored, the session stays.
    for request in [1, 77, MAX_ID] {
        let yielded = Message::Yield {
            request,
            options: Dict::new(),
            payload: Payload::Empty,
        };
        assert!(intruder.send(&yielded).await);
        let error = Message::Error {
            request_type: code::INVOCATION,
            request,
            details: Dict::new(),
            error: "com.error".into(),
            payload: Payload::Empty,
        };
        assert!(intruder.send(&error).await);
        let cancel = Message::Cancel {
            request,
            options: options(&[("mode", Value::from("kill"))]),
        };
        assert!(intruder.send(&cancel).await);
    }

    assert!(caller.send(&call(5, "com.proc", Dict::new(), vec![])).await);
    let invocation = match callee.recv().await {
        Some(Message::Invocation { request, .. }) => request,
        other => panic!("expected INVOCATION, got {other:?}"),
    };
    // Another session answers, errs and cancels for the callee's invocation and the
    // caller's request id: ignored.
    let forged = Message::Yield {
        request: invocation,
        options: Dict::new(),
        payload: Payload::new(vec![Value::from("forged")], Dict::new()),
    };
    assert!(intruder.send(&forged).await);
    let forged_error = Message::Error {
        request_type: code::INVOCATION,
        request: invocation,
        details: Dict::new(),
        error: "com.forged".into(),
        payload: Payload::Empty,
    };
    assert!(intruder.send(&forged_error).await);
    let forged_cancel = Message::Cancel {
        request: 5,
        options: Dict::new(),
    };
    assert!(intruder.send(&forged_cancel).await);
    // The intruder is still joined: a meta call is answered.
    assert!(
        intruder
            .send(&call(9, "wamp.session.count", Dict::new(), vec![]))
            .await
    );
    match intruder.recv_skipping_events().await {
        Some(Message::Result { request: 9, .. }) => {}
        other => panic!("expected RESULT, got {other:?}"),
    }
    assert!(
        caller.quiet_for(Duration::from_millis(100)).await,
        "no forged answer"
    );
    // The real answer goes through.
    let real = Message::Yield {
        request: invocation,
        options: Dict::new(),
        payload: Payload::new(vec![Value::from("real")], Dict::new()),
    };
    assert!(callee.send(&real).await);
    match caller.recv().await {
        Some(Message::Result {
            request: 5,
            payload,
            ..
        }) => {
            let (args, _) = payload.into_parts();
            assert_eq!(args, vec![Value::from("real")]);
        }
        other => panic!("expected RESULT, got {other:?}"),
    }
    // A late second answer: ignored.
    assert!(callee.send(&real).await);
    assert!(caller.quiet_for(Duration::from_millis(100)).await);
    drop((callee, intruder, caller));
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn a_duplicate_call_request_id_is_aborted() {
    let router = router();
    let mut callee = Raw::connect(&router, Serializer::Json);
    callee.join(roles(&[("callee", &["call_canceling"])])).await;
    callee.register(1, "com.proc").await;
    let mut caller = Raw::connect(&router, Serializer::Json);
    caller.join(all_roles()).await;
    assert!(caller.send(&call(3, "com.proc", Dict::new(), vec![])).await);
    let invocation = match callee.recv().await {
        Some(Message::Invocation { request, .. }) => request,
        other => panic!("expected INVOCATION, got {other:?}"),
    };
    assert!(caller.send(&call(3, "com.proc", Dict::new(), vec![])).await);
    caller.expect_abort(VIOLATION).await;
    // The first call's callee hears that its caller is gone.
    match callee.recv().await {
        Some(Message::Interrupt { request, .. }) => assert_eq!(request, invocation),
        other => panic!("expected INTERRUPT, got {other:?}"),
    }
    drop(callee);
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn a_progressive_call_without_the_feature_is_aborted() {
    let router = router();
    let mut callee = Raw::connect(&router, Serializer::Json);
    callee
        .join(roles(&[("callee", &["progressive_call_invocations"])]))
        .await;
    callee.register(1, "com.proc").await;
    let mut caller = Raw::connect(&router, Serializer::Json);
    caller.join(roles(&[("caller", &[])])).await;
    let progressive = options(&[("progress", Value::Bool(true))]);
    assert!(caller.send(&call(1, "com.proc", progressive, vec![])).await);
    caller.expect_abort(VIOLATION).await;
    assert!(callee.quiet_for(Duration::from_millis(100)).await);
    drop(callee);
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn odd_but_legal_requests_are_answered() {
    let router = router();
    let mut raw = Raw::connect(&router, Serializer::MsgPack);
    raw.join(all_roles()).await;
    // Unknown match policies are refused by the decoder, as any malformed message.
    for (request_type, bad) in [(code::REGISTER, "regex"), (code::SUBSCRIBE, "")] {
        let mut other = Raw::connect(&router, Serializer::Json);
        other.join(all_roles()).await;
        let text = format!(r#"[{request_type}, 1, {{"match": "{bad}"}}, "com.x"]"#);
        assert!(other.send_bytes(text.into_bytes()).await);
        other.expect_abort(VIOLATION).await;
    }
    // Unknown ids and procedures, bad meta arguments.
    let unregister = Message::Unregister {
        request: 3,
        registration: MAX_ID,
    };
    expect_error(&mut raw, unregister, "wamp.error.no_such_registration").await;
    let unsubscribe = Message::Unsubscribe {
        request: 4,
        subscription: 1,
    };
    expect_error(&mut raw, unsubscribe, "wamp.error.no_such_subscription").await;
    let forever = options(&[("timeout", Value::from(u64::MAX))]);
    let missing = call(5, "com.missing", forever, vec![]);
    expect_error(&mut raw, missing, "wamp.error.no_such_procedure").await;
    let meta = call(6, "wamp.session.get", Dict::new(), vec![Value::from("x")]);
    expect_error(&mut raw, meta, "wamp.error.invalid_argument").await;
    let kill_self = call(7, "wamp.session.kill", Dict::new(), vec![Value::from(1)]);
    expect_error(&mut raw, kill_self, "wamp.error.no_such_session").await;

    // A call with a deadline beyond any clock reaches its callee and is answered.
    let mut callee = Raw::connect(&router, Serializer::Cbor);
    callee.join(all_roles()).await;
    callee.register(1, "com.proc").await;
    let forever = options(&[("timeout", Value::from(u64::MAX))]);
    assert!(raw.send(&call(8, "com.proc", forever, vec![])).await);
    let Some(Message::Invocation { request, .. }) = callee.recv().await else {
        panic!("expected INVOCATION")
    };
    let answer = Message::Yield {
        request,
        options: Dict::new(),
        payload: Payload::Empty,
    };
    assert!(callee.send(&answer).await);
    match raw.recv_skipping_events().await {
        Some(Message::Result { request: 8, .. }) => {}
        other => panic!("expected RESULT, got {other:?}"),
    }
    drop((raw, callee));
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

/// Sends `message` and expects an ERROR with `uri` in answer.
async fn expect_error(raw: &mut Raw, message: Message, uri: &str) {
    assert!(raw.send(&message).await);
    match raw.recv_skipping_events().await {
        Some(Message::Error { error, .. }) => assert_eq!(error, uri, "{message:?}"),
        other => panic!("expected ERROR {uri}, got {other:?}"),
    }
}
