//! Requests: ids, protocol violations of the router, late answers.

use super::*;

// ===== 3. Request ids

#[tokio::test]
async fn request_ids_are_sequential_across_request_kinds() {
    bounded("request ids", async {
        const TOTAL: u64 = 11;
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            let mut seen = Vec::new();
            for expected in 1..=TOTAL {
                let message = peer.expect_message().await;
                let Some((_, request)) = request_of(&message) else {
                    panic!("expected request {expected}, got {message:?}");
                };
                assert_eq!(request, expected, "request id of {message:?}");
                seen.push(message.name());
                let answer = match &message {
                    // Each result is the request id, so the client can check the pairing too.
                    Message::Call { .. } => Some(result(request, args((request,)))),
                    Message::Publish { options, .. } => match options.get("acknowledge") {
                        Some(Value::Bool(true)) => Some(Message::Published {
                            request,
                            publication: 9_000 + request,
                        }),
                        None => None,
                        Some(other) => panic!("PUBLISH.Options.acknowledge = {other:?}"),
                    },
                    Message::Subscribe { .. } => Some(Message::Subscribed {
                        request,
                        subscription: 100,
                    }),
                    Message::Register { .. } => Some(Message::Registered {
                        request,
                        registration: 200,
                    }),
                    Message::Unsubscribe { subscription, .. } => {
                        assert_eq!(*subscription, 100);
                        Some(Message::Unsubscribed {
                            request,
                            details: None,
                        })
                    }
                    Message::Unregister { registration, .. } => {
                        assert_eq!(*registration, 200);
                        Some(Message::Unregistered {
                            request,
                            details: None,
                        })
                    }
                    other => panic!("unexpected {other:?}"),
                };
                if let Some(answer) = answer {
                    peer.send(answer).await;
                }
            }
            peer.expect_leave().await;
            seen
        })
        .await;

        let session = connect(&url).await;
        let first: u64 = session
            .call("com.example.one", ())
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(first, 1);
        session
            .publish("com.example.fire", ("and forget",))
            .await
            .unwrap();
        let subscription = session.subscribe("com.example.topic").await.unwrap();
        let registration = session
            .register("com.example.proc", |_: Invocation| async {
                Ok(Arguments::new())
            })
            .await
            .unwrap();
        let publication = session
            .publish("com.example.acked", ())
            .acknowledge()
            .await
            .unwrap();
        assert_eq!(publication, 9_005);
        let sixth: u64 = session
            .call("com.example.two", ())
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(sixth, 6);
        drop(subscription);
        registration.unregister().await.unwrap();
        // Issued together: ids in issue order.
        let a = session.call("com.example.c", ("a",)).into_future();
        let b = session.call("com.example.c", ("b",)).into_future();
        let c = session.call("com.example.c", ("c",)).into_future();
        let (a, b, c) = tokio::join!(a, b, c);
        let ids: Vec<u64> = [a, b, c]
            .into_iter()
            .map(|r| r.unwrap().arg(0).unwrap())
            .collect();
        assert_eq!(ids, [9, 10, 11]);
        session.leave().await.unwrap();

        assert_eq!(
            finish(script).await,
            [
                "CALL",
                "PUBLISH",
                "SUBSCRIBE",
                "REGISTER",
                "PUBLISH",
                "CALL",
                "UNSUBSCRIBE",
                "UNREGISTER",
                "CALL",
                "CALL",
                "CALL"
            ]
        );
    })
    .await;
}

// ===== 4. Protocol violations

/// What the router does wrong once a CALL, a SUBSCRIBE and an acknowledged PUBLISH are pending.
#[derive(Debug, Clone, Copy)]
enum Violation {
    MalformedJson,
    SecondWelcome,
    ResultForUnissuedRequest,
    UnknownMessageCode,
    ErrorForInvocation,
    ResultForSubscribe,
}

impl Violation {
    /// A word the ABORT message (and the close reason) should contain.
    fn explained_by(self) -> &'static str {
        match self {
            Violation::MalformedJson => "json",
            Violation::SecondWelcome => "WELCOME",
            Violation::ResultForUnissuedRequest => "1000",
            Violation::UnknownMessageCode => "999",
            Violation::ErrorForInvocation => "INVOCATION",
            Violation::ResultForSubscribe => "SUBSCRIBE",
        }
    }
}

async fn check_protocol_violation(violation: Violation) {
    let (url, script) = serve(move |mut peer| async move {
        peer.welcome(SESSION_ID).await;
        let call = expect_message!(peer, Message::Call { request, .. } => request);
        let subscribe = expect_message!(peer, Message::Subscribe { request, .. } => request);
        expect_message!(peer, Message::Publish { .. });
        match violation {
            Violation::MalformedJson => peer.send_raw_text(r#"[50, 1, {}, ["unterminated"#).await,
            Violation::SecondWelcome => {
                peer.send(Message::Welcome {
                    session: SESSION_ID + 1,
                    details: Dict::new(),
                })
                .await;
            }
            Violation::ResultForUnissuedRequest => peer.send(result(1000, args(("?",)))).await,
            Violation::UnknownMessageCode => {
                peer.send_value(&Value::List(args((999, 1, Dict::new()))))
                    .await;
            }
            Violation::ErrorForInvocation => {
                peer.send(error(
                    code::INVOCATION,
                    call,
                    "wamp.error.runtime_error",
                    vec![],
                ))
                .await;
            }
            Violation::ResultForSubscribe => peer.send(result(subscribe, vec![])).await,
        }
        let details = expect_message!(
            peer,
            Message::Abort { reason, details, .. } if reason == "wamp.error.protocol_violation"
                => details
        );
        // Nothing after the ABORT, and the client drops the connection.
        peer.expect_closed().await;
        details
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
    .await;

    let session = connect(&url).await;
    let call = session.call("com.example.pending", ()).into_future();
    let subscribe = session.subscribe("com.example.topic").into_future();
    let publish = session
        .publish("com.example.acked", ())
        .acknowledge()
        .into_future();
    let (call, subscribe, publish) = tokio::join!(call, subscribe, publish);
    let reasons = [
        closed_reason("the pending call", call),
        closed_reason("the pending subscribe", subscribe),
        closed_reason("the pending acknowledged publish", publish),
    ];
    let closed = session.closed().await;
    assert_eq!(
        closed.initiator,
        CloseInitiator::ProtocolViolation,
        "{closed:?}"
    );
    assert_eq!(closed.uri, "wamp.error.protocol_violation");
    for reason in &reasons {
        assert_eq!(reason, &closed);
    }
    assert!(session.is_closed());
    assert_eq!(
        assert_call_fails_fast(&session, CloseInitiator::ProtocolViolation).await,
        closed
    );
    let later_subscribe = tokio::time::timeout(FAIL_FAST, session.subscribe("com.example.t"))
        .await
        .expect("a subscribe on a closed session must fail at once");
    closed_reason("a later subscribe", later_subscribe);

    let abort_message = finish(script).await.expect("ABORT.Details.message");
    assert!(
        abort_message.contains(violation.explained_by()),
        "the ABORT message should explain the {violation:?}: {abort_message:?}"
    );
    assert_eq!(closed.message.as_deref(), Some(abort_message.as_str()));
}

#[tokio::test]
async fn protocol_violation_malformed_json() {
    bounded(
        "malformed JSON",
        check_protocol_violation(Violation::MalformedJson),
    )
    .await;
}

#[tokio::test]
async fn protocol_violation_second_welcome() {
    bounded(
        "second WELCOME",
        check_protocol_violation(Violation::SecondWelcome),
    )
    .await;
}

#[tokio::test]
async fn protocol_violation_result_for_a_request_never_issued() {
    bounded(
        "RESULT for an unissued request",
        check_protocol_violation(Violation::ResultForUnissuedRequest),
    )
    .await;
}

#[tokio::test]
async fn protocol_violation_unknown_message_code() {
    bounded(
        "unknown message code",
        check_protocol_violation(Violation::UnknownMessageCode),
    )
    .await;
}

#[tokio::test]
async fn protocol_violation_error_for_an_invocation() {
    bounded(
        "ERROR with REQUEST.Type 68",
        check_protocol_violation(Violation::ErrorForInvocation),
    )
    .await;
}

#[tokio::test]
async fn protocol_violation_result_answering_a_subscribe() {
    bounded(
        "RESULT for a SUBSCRIBE",
        check_protocol_violation(Violation::ResultForSubscribe),
    )
    .await;
}

#[tokio::test]
async fn protocol_violation_before_welcome_aborts_the_join() {
    bounded("RESULT before WELCOME", async {
        let (url, script) = serve(|mut peer| async move {
            peer.expect_hello().await;
            peer.send(result(1, vec![])).await;
            let reason = expect_message!(peer, Message::Abort { reason, .. } => reason);
            assert_eq!(reason, "wamp.error.protocol_violation");
            peer.expect_closed().await;
        })
        .await;

        let err = Session::connect(&url, REALM).await.unwrap_err();
        let Error::ProtocolViolation(violation) = &err else {
            panic!("expected Error::ProtocolViolation, got {err:?}");
        };
        assert!(violation.reason().contains("RESULT"), "{violation}");
        assert!(violation.invalid_message().is_none(), "{violation:?}");
        finish(script).await;
    })
    .await;
}

#[tokio::test]
async fn an_undecodable_message_before_welcome_keeps_the_wire_error() {
    bounded("garbage before WELCOME", async {
        let (url, script) = serve(|mut peer| async move {
            peer.expect_hello().await;
            peer.send_raw_text("[9999]").await;
            let reason = expect_message!(peer, Message::Abort { reason, .. } => reason);
            assert_eq!(reason, "wamp.error.protocol_violation");
            peer.expect_closed().await;
        })
        .await;

        let err = Session::connect(&url, REALM).await.unwrap_err();
        assert!(err.to_string().starts_with("protocol violation: "), "{err}");
        let source = std::error::Error::source(&err).expect("the wire error");
        assert_eq!(
            source.downcast_ref::<InvalidMessage>(),
            Some(&InvalidMessage::UnknownType(9999)),
            "{err:?}"
        );
        finish(script).await;
    })
    .await;
}

#[tokio::test]
async fn router_abort_after_join_closes_the_session_without_a_reply() {
    bounded("router ABORT", async {
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.expect_call().await;
            peer.send(wamp_testkit::scripted_router::abort(
                "wamp.error.protocol_violation",
                "you broke it",
            ))
            .await;
            // An ABORT is never answered.
            peer.expect_closed().await;
        })
        .await;

        let session = connect(&url).await;
        let reason = closed_reason(
            "the pending call",
            session.call("com.example.pending", ()).await,
        );
        assert_eq!(
            reason,
            CloseReason {
                uri: ErrorUri::ProtocolViolation,
                message: Some("you broke it".to_owned()),
                initiator: CloseInitiator::Router,
            }
        );
        assert_eq!(session.closed().await, reason);
        assert_call_fails_fast(&session, CloseInitiator::Router).await;
        finish(script).await;
    })
    .await;
}

// ===== 5. Late answers

#[tokio::test]
async fn late_result_for_an_abandoned_call_is_ignored() {
    bounded("late result", async {
        let (gave_up, gave_up_rx) = oneshot::channel::<()>();
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            let first = peer.expect_call().await;
            assert_eq!(first.procedure, "com.example.slow");
            gave_up_rx.await.unwrap();
            // Dropping the call's future cancels it (the router announced call_canceling).
            let (canceled, mode) = expect_message!(
                peer,
                Message::Cancel { request, options } => (request, options.get("mode").cloned())
            );
            assert_eq!(canceled, first.request);
            assert_eq!(
                mode,
                Some(Value::from("killnowait")),
                "the default cancel mode"
            );
            // The answer to the abandoned call, a duplicate of it, and a late ERROR.
            peer.send(result(first.request, args(("late",)))).await;
            peer.send(result(first.request, args(("later still",))))
                .await;
            peer.send(error(
                code::CALL,
                first.request,
                "wamp.error.canceled",
                vec![],
            ))
            .await;
            let second = peer.answer_call(args(("fresh",))).await;
            assert_eq!(second.request, first.request + 1);
            peer.expect_leave().await;
        })
        .await;

        let session = connect(&url).await;
        let abandoned = tokio::time::timeout(
            Duration::from_millis(100),
            session.call("com.example.slow", ()),
        )
        .await;
        assert!(abandoned.is_err(), "the router does not answer in time");
        gave_up.send(()).unwrap();
        let answer: String = session
            .call("com.example.fast", ())
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(answer, "fresh");
        assert!(!session.is_closed());
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}
