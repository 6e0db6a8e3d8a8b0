//! Session edge cases against a scripted fake router: handshake details, request ids, protocol
//! violations, late answers, router and transport closes, leaving, shared subscriptions,
//! invocations and interrupts, revocations, binary serializers and subprotocol negotiation.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::collections::BTreeSet;
use std::future::{Future, IntoFuture as _};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use tokio::sync::{mpsc, oneshot};
use wamp_client::wire::{Id, Message, Payload, code};
use wamp_client::{
    Arguments, CloseInitiator, CloseReason, Dict, Error, ErrorUri, Invocation, Serializer, Session,
    Value, WampError,
};

use wamp_testkit::bounded;
use wamp_testkit::scripted_router::{
    RouterPeer, ScriptedRouter, Subprotocol, args, dict, error, event, expect_message, goodbye,
    interrupt, invocation, request_of, result, revoke_subscription,
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
fn closed_reason<T: std::fmt::Debug>(what: &str, result: wamp_client::Result<T>) -> CloseReason {
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
        assert_eq!(offered, &["wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"]);
        assert_eq!(hello.realm, REALM);
        assert_eq!(
            hello.details.get("agent").and_then(Value::as_str),
            Some(concat!("wamp-client-rs/", env!("CARGO_PKG_VERSION")))
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
        let Error::ProtocolViolation(reason) = &err else {
            panic!("expected Error::ProtocolViolation, got {err:?}");
        };
        assert!(reason.contains("RESULT"), "{reason}");
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
                uri: "wamp.error.protocol_violation".to_owned(),
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

// ===== 6. Router GOODBYE

#[tokio::test]
async fn router_goodbye_is_answered_and_fails_pending_calls() {
    bounded("router goodbye", async {
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.expect_call().await;
            peer.send(goodbye("wamp.close.killed", Some("bye"))).await;
            let (reason, details) =
                expect_message!(peer, Message::Goodbye { reason, details } => (reason, details));
            assert_eq!(reason, "wamp.close.goodbye_and_out");
            assert!(details.is_empty(), "{details:?}");
            peer.expect_closed().await;
        })
        .await;

        let session = connect(&url).await;
        let pending = session.call("com.example.pending", ()).await;
        let reason = closed_reason("the pending call", pending);
        let expected = CloseReason {
            uri: "wamp.close.killed".to_owned(),
            message: Some("bye".to_owned()),
            initiator: CloseInitiator::Router,
        };
        assert_eq!(reason, expected);
        assert_eq!(session.closed().await, expected);
        assert_call_fails_fast(&session, CloseInitiator::Router).await;
        finish(script).await;
    })
    .await;
}

// ===== 7. Abrupt TCP close

#[tokio::test]
async fn abrupt_disconnect_fails_pending_calls_and_ends_subscriptions() {
    bounded("abrupt disconnect", async {
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.accept_subscribe(300).await;
            peer.expect_call().await;
            peer.expect_call().await;
            peer.close();
        })
        .await;

        let session = connect(&url).await;
        let mut events = session.subscribe("com.example.topic").await.unwrap();
        let first = session.call("com.example.a", ()).into_future();
        let second = session.call("com.example.b", ()).into_future();
        let (first, second) = tokio::join!(first, second);
        for (what, result) in [("first call", first), ("second call", second)] {
            let reason = closed_reason(what, result);
            assert_eq!(reason.initiator, CloseInitiator::Transport, "{reason:?}");
        }
        assert!(
            events.next().await.is_none(),
            "the subscription stream ends"
        );
        assert_eq!(session.closed().await.initiator, CloseInitiator::Transport);
        assert_call_fails_fast(&session, CloseInitiator::Transport).await;
        finish(script).await;
    })
    .await;
}

// ===== 8. Leaving

#[tokio::test]
async fn leave_completes_when_the_router_answers_goodbye() {
    bounded("leave", async {
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.expect_leave().await
        })
        .await;

        let session = Session::builder(&url, REALM)
            .leave_timeout(Duration::from_secs(60))
            .connect()
            .await
            .unwrap();
        let started = Instant::now();
        let reason = session.leave().await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "leave waited {:?} although the router answered",
            started.elapsed()
        );
        assert_eq!(reason.initiator, CloseInitiator::Client);
        assert_eq!(reason.uri, "wamp.close.close_realm");
        assert!(session.is_closed());
        assert_call_fails_fast(&session, CloseInitiator::Client).await;
        assert_eq!(finish(script).await, "wamp.close.close_realm");
    })
    .await;
}

#[tokio::test]
async fn leave_with_sends_the_reason_and_message() {
    bounded("leave_with", async {
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            let (reason, details) =
                expect_message!(peer, Message::Goodbye { reason, details } => (reason, details));
            peer.send(goodbye("wamp.close.goodbye_and_out", None)).await;
            peer.expect_closed().await;
            (reason, details)
        })
        .await;

        let session = connect(&url).await;
        let reason = session
            .leave_with("wamp.close.system_shutdown", Some("maintenance"))
            .await
            .unwrap();
        assert_eq!(reason.uri, "wamp.close.system_shutdown");
        assert_eq!(reason.message.as_deref(), Some("maintenance"));
        let (sent, details) = finish(script).await;
        assert_eq!(sent, "wamp.close.system_shutdown");
        assert_eq!(details, dict([("message", Value::from("maintenance"))]));
    })
    .await;
}

#[tokio::test]
async fn leave_completes_after_the_timeout_without_router_goodbye() {
    bounded("leave timeout", async {
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            expect_message!(peer, Message::Goodbye { .. });
            // Never answer; the client must give up and close the connection by itself.
            peer.expect_closed().await;
        })
        .await;

        let leave_timeout = Duration::from_millis(300);
        let session = Session::builder(&url, REALM)
            .leave_timeout(leave_timeout)
            .connect()
            .await
            .unwrap();
        let started = Instant::now();
        let reason = session.leave().await.unwrap();
        let waited = started.elapsed();
        assert!(
            waited >= leave_timeout.saturating_sub(Duration::from_millis(20)),
            "leave returned after {waited:?}, before the leave timeout"
        );
        assert!(waited < Duration::from_secs(5), "leave took {waited:?}");
        assert_eq!(reason.initiator, CloseInitiator::Client);
        assert!(session.is_closed());
        finish(script).await;
    })
    .await;
}

// ===== 9. Shared subscription ids

#[tokio::test]
async fn subscriptions_sharing_a_router_id_share_events_and_unsubscribe_last() {
    bounded("shared subscription", async {
        const SUBSCRIPTION: Id = 77;
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.accept_subscribe(SUBSCRIPTION).await;
            peer.accept_subscribe(SUBSCRIPTION).await;
            peer.send(event(SUBSCRIPTION, 1001, args(("first",)))).await;
            peer.send(event(SUBSCRIPTION, 1002, args(("second",))))
                .await;
            // The first subscription is dropped now: the next message must be the marker
            // PUBLISH, not an UNSUBSCRIBE.
            let marker =
                expect_message!(peer, Message::Publish { request, topic, .. } => (request, topic));
            assert_eq!(marker, (3, "com.example.marker".to_owned()));
            peer.send(event(SUBSCRIPTION, 1003, args(("third",)))).await;
            // Dropping the second one unsubscribes.
            let (request, subscription) = expect_message!(
                peer,
                Message::Unsubscribe { request, subscription } => (request, subscription)
            );
            assert_eq!((request, subscription), (4, SUBSCRIPTION));
            peer.send(Message::Unsubscribed {
                request,
                details: None,
            })
            .await;
            peer.expect_leave().await;
        })
        .await;

        let session = connect(&url).await;
        let mut one = session.subscribe("com.example.topic").await.unwrap();
        let mut two = session.subscribe("com.example.topic").await.unwrap();
        assert_eq!((one.id(), two.id()), (SUBSCRIPTION, SUBSCRIPTION));
        for events in [&mut one, &mut two] {
            for (publication, text) in [(1001, "first"), (1002, "second")] {
                let event = events.next().await.expect("an event");
                assert_eq!(event.publication, publication);
                assert_eq!(event.arg::<String>(0).unwrap(), text);
                assert_eq!(event.topic, "com.example.topic");
            }
        }
        drop(one);
        session.publish("com.example.marker", ()).await.unwrap();
        let third = two.next().await.expect("the third event");
        assert_eq!(third.publication, 1003);
        drop(two);
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

#[tokio::test]
async fn subscribe_merged_into_a_subscription_being_unsubscribed_subscribes_again() {
    bounded("subscribe during unsubscribe", async {
        const OLD: Id = 77;
        const NEW: Id = 78;
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.accept_subscribe(OLD).await;
            // The client subscribes again and drops its first subscription before the answer:
            // the router sees SUBSCRIBE (merged into OLD, still active), then UNSUBSCRIBE OLD.
            let subscribe = expect_message!(peer, Message::Subscribe { request, .. } => request);
            let unsubscribe =
                expect_message!(peer, Message::Unsubscribe { request, .. } => request);
            peer.send(Message::Subscribed {
                request: subscribe,
                subscription: OLD,
            })
            .await;
            peer.send(Message::Unsubscribed {
                request: unsubscribe,
                details: None,
            })
            .await;
            // Since OLD is gone at the router, the client must subscribe once more.
            let again = expect_message!(peer, Message::Subscribe { request, topic, .. } => (request, topic));
            assert_eq!(again.1, "com.example.topic");
            peer.send(Message::Subscribed { request: again.0, subscription: NEW }).await;
            peer.send(event(NEW, 1001, args(("after",)))).await;
            peer.expect_leave().await;
        })
        .await;

        let session = connect(&url).await;
        let first = session.subscribe("com.example.topic").await.unwrap();
        // `into_future` sends the SUBSCRIBE; the drop then sends the UNSUBSCRIBE.
        let second = session.subscribe("com.example.topic").into_future();
        drop(first);
        let mut second = second.await.unwrap();
        assert_eq!(second.id(), NEW);
        let event = second.next().await.expect("an event on the new subscription");
        assert_eq!(event.arg::<String>(0).unwrap(), "after");
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

// ===== 10. Invocations

#[tokio::test]
async fn invocation_handler_may_call_on_the_same_session_and_yields() {
    bounded("invocation", async {
        let (yielded, yielded_rx) = oneshot::channel();
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            let (_, procedure) = peer.accept_register(500).await;
            assert_eq!(procedure, "com.example.outer");
            peer.send(invocation(1, 500, args((2, 3)))).await;
            // The handler calls back into the router before it answers.
            let inner = peer.answer_call(args((5,))).await;
            assert_eq!(inner.procedure, "com.example.inner");
            assert_eq!(inner.args, args((2, 3)));
            let (request, options, payload) = expect_message!(
                peer,
                Message::Yield { request, options, payload } => (request, options, payload)
            );
            assert_eq!(request, 1);
            assert!(options.is_empty(), "{options:?}");
            assert_eq!(payload, Payload::new(args((50,)), Dict::new()));
            yielded.send(()).unwrap();
            peer.expect_leave().await;
        })
        .await;

        let session = connect(&url).await;
        let _registration = session
            .register("com.example.outer", |inv: Invocation| async move {
                let (a, b): (i64, i64) = inv.args()?;
                let session = inv.session().expect("the invocation's session").clone();
                let sum: i64 = session
                    .call("com.example.inner", (a, b))
                    .await
                    .map_err(|e| WampError::with_message("com.example.error.inner", e.to_string()))?
                    .arg(0)
                    .map_err(|e| {
                        WampError::with_message("com.example.error.inner", e.to_string())
                    })?;
                Ok(Arguments::single(sum * 10)?)
            })
            .await
            .unwrap();
        yielded_rx.await.expect("the router received the YIELD");
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

#[tokio::test]
async fn invocation_handler_error_is_sent_as_error_68() {
    bounded("handler error", async {
        let (answered, answered_rx) = oneshot::channel();
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.accept_register(501).await;
            peer.send(invocation(7, 501, args((100,)))).await;
            let message = peer.expect_message().await;
            answered.send(()).unwrap();
            peer.expect_leave().await;
            message
        })
        .await;

        let session = connect(&url).await;
        let _registration = session
            .register("com.example.withdraw", |inv: Invocation| async move {
                let amount: i64 = inv.arg(0)?;
                Err(WampError::new("com.example.error.overdrawn")
                    .with_args(("not enough money", amount))
                    .with_kwargs(serde_json::json!({"balance": -5})))
            })
            .await
            .unwrap();
        answered_rx.await.unwrap();
        session.leave().await.unwrap();

        let Message::Error {
            request_type,
            request,
            error,
            payload,
            ..
        } = finish(script).await
        else {
            panic!("expected ERROR");
        };
        assert_eq!((request_type, request), (code::INVOCATION, 7));
        assert_eq!(error, "com.example.error.overdrawn");
        assert_eq!(
            payload,
            Payload::new(
                args(("not enough money", 100)),
                dict([("balance", Value::from(-5))])
            )
        );
    })
    .await;
}

async fn panicking_handler(_: Invocation) -> Result<Arguments, WampError> {
    panic!("the handler blew up")
}

#[tokio::test]
async fn invocation_handler_panic_is_sent_as_runtime_error() {
    bounded("handler panic", async {
        let (answered, answered_rx) = oneshot::channel();
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.accept_register(502).await;
            peer.send(invocation(8, 502, vec![])).await;
            let message = peer.expect_message().await;
            answered.send(()).unwrap();
            // The session survives its handler's panic.
            peer.answer_call(args(("still here",))).await;
            peer.expect_leave().await;
            message
        })
        .await;

        let session = connect(&url).await;
        let _registration = session
            .register("com.example.explode", panicking_handler)
            .await
            .unwrap();
        answered_rx.await.unwrap();
        let alive: String = session
            .call("com.example.ping", ())
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(alive, "still here");
        session.leave().await.unwrap();

        let Message::Error {
            request_type,
            request,
            error,
            payload,
            ..
        } = finish(script).await
        else {
            panic!("expected ERROR");
        };
        assert_eq!((request_type, request), (code::INVOCATION, 8));
        assert_eq!(error, "wamp.error.runtime_error");
        let (args, _) = payload.into_parts();
        let text = string_args(&args).join(" ");
        assert!(text.contains("the handler blew up"), "{text}");
    })
    .await;
}

#[tokio::test]
async fn invocation_for_an_unknown_registration_is_answered_no_such_registration() {
    bounded("unknown registration", async {
        let (answered, answered_rx) = oneshot::channel();
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.send(invocation(9, 12_345, args((1,)))).await;
            let (request_type, request, error) = expect_message!(
                peer,
                Message::Error { request_type, request, error, .. } => (request_type, request, error)
            );
            assert_eq!((request_type, request), (code::INVOCATION, 9));
            assert_eq!(error, "wamp.error.no_such_registration");
            answered.send(()).unwrap();
            peer.answer_call(args(("up",))).await;
            peer.expect_leave().await;
        })
        .await;

        let session = connect(&url).await;
        answered_rx.await.expect("the router received the ERROR");
        let up: String = session.call("com.example.ping", ()).await.unwrap().arg(0).unwrap();
        assert_eq!(up, "up");
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

// ===== 11. INTERRUPT

/// Sends on its channel when dropped: tells the test that a handler's future was dropped.
struct DropSignal(mpsc::UnboundedSender<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[tokio::test]
async fn interrupt_aborts_the_handler_and_kill_answers_canceled() {
    bounded("interrupt", async {
        let (started, mut started_rx) = mpsc::unbounded_channel::<()>();
        let (dropped, mut dropped_rx) = mpsc::unbounded_channel::<()>();
        let (go, mut go_rx) = mpsc::unbounded_channel::<()>();
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.accept_register(600).await;
            peer.send(invocation(21, 600, vec![])).await;
            go_rx.recv().await.unwrap();
            peer.send(interrupt(21, "kill")).await;
            let (request_type, request, error) = expect_message!(
                peer,
                Message::Error { request_type, request, error, .. } => (request_type, request, error)
            );
            assert_eq!((request_type, request), (code::INVOCATION, 21));
            assert_eq!(error, "wamp.error.canceled");
            // `killnowait` aborts the handler too, but the dealer expects no answer.
            peer.send(invocation(22, 600, vec![])).await;
            go_rx.recv().await.unwrap();
            peer.send(interrupt(22, "killnowait")).await;
            // An INTERRUPT for an invocation that does not exist is ignored, without an answer.
            peer.send(interrupt(999, "kill")).await;
            // So the next message is the client's CALL.
            peer.answer_call(args(("up",))).await;
            peer.expect_leave().await;
        })
        .await;

        let session = connect(&url).await;
        let _registration = session
            .register("com.example.forever", move |_: Invocation| {
                let started = started.clone();
                let guard = DropSignal(dropped.clone());
                async move {
                    let _guard = guard;
                    started.send(()).unwrap();
                    std::future::pending::<()>().await;
                    Ok(Arguments::new())
                }
            })
            .await
            .unwrap();
        for mode in ["kill", "killnowait"] {
            started_rx.recv().await.expect("the handler started");
            go.send(()).unwrap();
            dropped_rx.recv().await.unwrap_or_else(|| {
                panic!("the handler's future is dropped (task aborted) on INTERRUPT {mode}")
            });
        }
        let up: String = session.call("com.example.ping", ()).await.unwrap().arg(0).unwrap();
        assert_eq!(up, "up");
        assert!(!session.is_closed());
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

// ===== 12. Unknown events and revocation

#[tokio::test]
async fn unknown_event_is_ignored_and_revocation_ends_the_stream() {
    bounded("revocation", async {
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.accept_subscribe(10).await;
            peer.accept_subscribe(20).await;
            peer.send(event(99, 5000, args(("nobody",)))).await;
            peer.send(event(10, 5001, args(("for a",)))).await;
            peer.send(revoke_subscription(10)).await;
            peer.send(event(10, 5002, args(("after revocation",))))
                .await;
            peer.send(event(20, 5003, args(("for b",)))).await;
            // Dropping the revoked subscription sends nothing: next comes the marker.
            expect_message!(peer, Message::Publish { topic, .. } if topic == "com.example.marker");
            peer.expect_leave().await;
        })
        .await;

        let session = connect(&url).await;
        let mut a = session.subscribe("com.example.a").await.unwrap();
        let mut b = session.subscribe("com.example.b").await.unwrap();
        let first = a.next().await.expect("the event for a");
        assert_eq!(first.publication, 5001);
        assert!(a.next().await.is_none(), "the revoked stream ends");
        assert_eq!(
            a.revoked(),
            Some("revoked by the router"),
            "the revocation is surfaced"
        );
        assert_eq!(b.revoked(), None);
        let other = b.next().await.expect("the event for b");
        assert_eq!(other.publication, 5003);
        assert!(!session.is_closed());
        drop(a);
        session.publish("com.example.marker", ()).await.unwrap();
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

// ===== 13. Binary serializers

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
    assert_eq!(echoed.args, sent.args);
    assert_eq!(echoed.kwargs, sent.kwargs);
    session.leave().await.unwrap();
    finish(script).await;
}

#[tokio::test]
async fn basic_call_over_msgpack() {
    bounded("msgpack", check_basic_call(Serializer::MsgPack)).await;
}

#[tokio::test]
async fn basic_call_over_cbor() {
    bounded("cbor", check_basic_call(Serializer::Cbor)).await;
}

// ===== 14. Subprotocol negotiation

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

// ===== 15. Progressive call invocations (Crossbar.io does not support them)

/// WELCOME details of a dealer that supports progressive invocations.
fn progressive_welcome() -> Dict {
    let mut details = wamp_testkit::scripted_router::welcome_details();
    if let Some(Value::Dict(roles)) = details.get_mut("roles") {
        if let Some(Value::Dict(dealer)) = roles.get_mut("dealer") {
            if let Some(Value::Dict(features)) = dealer.get_mut("features") {
                for feature in ["progressive_call_invocations", "progressive_call_results"] {
                    features.insert(feature.into(), Value::Bool(true));
                }
            }
        }
    }
    details
}

#[tokio::test]
async fn caller_streams_input_chunks_under_one_request_id() {
    bounded("duplex caller", async {
        let (url, script) = serve(|mut peer| async move {
            peer.welcome_with(SESSION_ID, progressive_welcome()).await;
            let mut chunks = Vec::new();
            for _ in 0..3 {
                let chunk = expect_message!(
                    peer,
                    Message::Call { request, options, procedure, payload } => (request, options, procedure, payload)
                );
                chunks.push(chunk);
            }
            let request = chunks[0].0;
            assert!(chunks.iter().all(|c| c.0 == request), "every chunk reuses the request id");
            assert!(chunks.iter().all(|c| c.2 == "com.example.sum"));
            // The first chunk carries the call's options; continuations only `progress`.
            assert_eq!(chunks[0].1.get("progress"), Some(&Value::Bool(true)));
            assert_eq!(chunks[0].1.get("receive_progress"), Some(&Value::Bool(true)));
            assert_eq!(chunks[1].1, dict([("progress", Value::Bool(true))]));
            assert!(chunks[2].1.is_empty(), "the last chunk has no progress flag: {:?}", chunks[2].1);
            let values: Vec<Vec<Value>> = chunks
                .into_iter()
                .map(|c| c.3.into_parts().0)
                .collect();
            assert_eq!(values, vec![args((1,)), args((2,)), args((3,))]);
            let mut progress = Dict::new();
            progress.insert("progress".into(), Value::Bool(true));
            peer.send(Message::Result {
                request,
                details: progress,
                payload: Payload::new(args((3,)), Dict::new()),
            })
            .await;
            peer.send(result(request, args((6,)))).await;
            peer.expect_leave().await;
        })
        .await;

        let session = connect(&url).await;
        let (mut input, mut results) = session
            .call("com.example.sum", (1,))
            .into_duplex()
            .expect("the router announced progressive_call_invocations");
        input.send((2,)).unwrap();
        input.finish((3,)).unwrap();
        let first = results.next().await.unwrap().unwrap();
        assert!(first.is_progress());
        assert_eq!(first.arg::<i64>(0).unwrap(), 3);
        let last = results.next().await.unwrap().unwrap();
        assert!(!last.is_progress());
        assert_eq!(last.arg::<i64>(0).unwrap(), 6);
        assert!(results.next().await.is_none());
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

#[tokio::test]
async fn callee_receives_input_chunks_and_drops_late_ones() {
    bounded("duplex callee", async {
        const REGISTRATION: Id = 55;
        let (url, script) = serve(|mut peer| async move {
            peer.welcome_with(SESSION_ID, progressive_welcome()).await;
            peer.accept_register(REGISTRATION).await;
            let details = |progress: bool| {
                let mut details = Dict::new();
                if progress {
                    details.insert("progress".into(), Value::Bool(true));
                }
                details
            };
            let mut first = details(true);
            first.insert("receive_progress".into(), Value::Bool(true));
            for (chunk_details, value) in [(first, 1), (details(true), 2), (details(false), 3)] {
                peer.send(Message::Invocation {
                    request: 7,
                    registration: REGISTRATION,
                    details: chunk_details,
                    payload: Payload::new(args((value,)), Dict::new()),
                })
                .await;
            }
            // Progress for each chunk, then the final sum.
            let mut yields = Vec::new();
            for _ in 0..4 {
                yields.push(expect_message!(
                    peer,
                    Message::Yield { request: 7, options, payload } => (options, payload.into_parts().0)
                ));
            }
            let progress: Vec<_> = yields[..3]
                .iter()
                .map(|(options, values)| {
                    assert_eq!(options.get("progress"), Some(&Value::Bool(true)));
                    values.clone()
                })
                .collect();
            assert_eq!(progress, vec![args((1,)), args((3,)), args((6,))]);
            assert!(yields[3].0.is_empty(), "the final YIELD has no progress flag");
            assert_eq!(yields[3].1, args((6,)));
            // A chunk after the final answer is dropped: no new handler, no answer.
            peer.send(Message::Invocation {
                request: 7,
                registration: REGISTRATION,
                details: details(true),
                payload: Payload::new(args((100,)), Dict::new()),
            })
            .await;
            peer.expect_silence(Duration::from_millis(300)).await;
            peer.expect_leave().await;
        })
        .await;

        let session = connect(&url).await;
        let _registration = session
            .register("com.example.sum", |mut inv: wamp_client::Invocation| async move {
                let mut sum: i64 = inv.arg(0)?;
                let progress = inv.progress().cloned();
                let send = |sum: i64| {
                    if let Some(progress) = &progress {
                        let _ = progress.send_value(sum);
                    }
                };
                send(sum);
                if let Some(mut input) = inv.take_input() {
                    while let Some(chunk) = input.next().await {
                        sum += chunk.args.first().and_then(Value::as_i64).unwrap_or(0);
                        send(sum);
                    }
                }
                Ok(wamp_client::Arguments::single(sum)?)
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(session.diagnostics().await.unwrap().running_invocations, 0);
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

#[tokio::test]
async fn registration_revocation_is_surfaced() {
    bounded("registration revocation", async {
        const REGISTRATION: Id = 31;
        let (url, script) = serve(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.accept_register(REGISTRATION).await;
            peer.send(Message::Unregistered {
                request: 0,
                details: Some(dict([
                    ("registration", Value::from(REGISTRATION)),
                    ("reason", Value::from("com.example.reason.maintenance")),
                ])),
            })
            .await;
            // An invocation racing the revocation is answered, not left hanging.
            peer.send(invocation(9, REGISTRATION, args((1,)))).await;
            let (request, uri) = expect_message!(
                peer,
                Message::Error { request, error, .. } => (request, error)
            );
            assert_eq!(
                (request, uri.as_str()),
                (9, "wamp.error.no_such_registration")
            );
            peer.expect_leave().await;
        })
        .await;

        let session = connect(&url).await;
        let registration = session
            .register(
                "com.example.revoked",
                |_inv: wamp_client::Invocation| async { Ok(wamp_client::Arguments::new()) },
            )
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while registration.revoked().is_none() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the revocation is surfaced"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            registration.revoked(),
            Some("com.example.reason.maintenance")
        );
        assert_eq!(session.diagnostics().await.unwrap().registrations, 0);
        // Dropping a revoked registration sends no UNREGISTER (the script would see it).
        drop(registration);
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}
