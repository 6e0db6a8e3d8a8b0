//! Reconnect and restore against a scripted router that drops the connection: registrations and
//! subscriptions come back with their options and handlers, idempotent calls are sent again,
//! other requests fail fast with `Disconnected`, the state stream tells the story, and fatal
//! refusals end the session.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::IntoFuture;
use std::time::Duration;

use futures_util::StreamExt as _;
use wamp_testkit::bounded;
use wamp_testkit::scripted_router::{
    ScriptedRouter, args, dict, event, expect_message, invocation, result,
};
use wampkit::wire::{Message, Serializer};
use wampkit::{
    Arguments, Error, ErrorUri, Invocation, MatchPolicy, ReconnectPolicy, Session, Value,
    session::SessionState,
};

fn fast_policy() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(200))
        .jitter(0.0)
}

#[tokio::test]
async fn registrations_and_subscriptions_are_restored_after_a_drop() {
    bounded("restore", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        let script = tokio::spawn(async move {
            // First connection: join, register, subscribe (prefix), then drop the connection.
            let mut peer = router.accept().await;
            peer.welcome(1001).await;
            let (_, procedure) = peer.accept_register(11).await;
            assert_eq!(procedure, "com.example.echo");
            let (_, topic) = peer.accept_subscribe(21).await;
            assert_eq!(topic, "com.example.news");
            // An idempotent call is pending when the connection drops.
            let first_call = peer.expect_call().await;
            assert_eq!(first_call.procedure, "com.example.idempotent");
            peer.close();
            dropped_tx.send(()).unwrap();

            // Second connection: a new session; everything comes back the same way.
            let mut peer = router.accept().await;
            peer.welcome(2002).await;
            let mut restored = Vec::new();
            for _ in 0..3 {
                restored.push(peer.expect_message().await);
            }
            let mut register = None;
            let mut subscribe = None;
            let mut call = None;
            for message in restored {
                match message {
                    Message::Register {
                        request,
                        options,
                        procedure,
                    } => register = Some((request, options, procedure)),
                    Message::Subscribe {
                        request,
                        options,
                        topic,
                    } => subscribe = Some((request, options, topic)),
                    Message::Call {
                        request,
                        procedure,
                        payload,
                        ..
                    } => call = Some((request, procedure, payload)),
                    other => panic!("unexpected {other:?}"),
                }
            }
            let (register_request, register_options, procedure) = register.expect("REGISTER again");
            assert_eq!(procedure, "com.example.echo");
            assert_eq!(
                register_options,
                dict([("disclose_caller", Value::Bool(true))])
            );
            let (subscribe_request, subscribe_options, topic) = subscribe.expect("SUBSCRIBE again");
            assert_eq!(topic, "com.example.news");
            assert_eq!(subscribe_options, dict([("match", Value::from("prefix"))]));
            let (call_request, call_procedure, call_payload) =
                call.expect("the idempotent call again");
            assert_eq!(call_procedure, "com.example.idempotent");
            assert_eq!(call_payload.into_parts().0, args((7,)));
            // The new session numbers its requests from 1 again.
            let mut ids = [register_request, subscribe_request, call_request];
            ids.sort_unstable();
            assert_eq!(ids, [1, 2, 3]);
            peer.send(Message::Registered {
                request: register_request,
                registration: 12,
            })
            .await;
            peer.send(Message::Subscribed {
                request: subscribe_request,
                subscription: 22,
            })
            .await;
            peer.send(result(call_request, args(("again",)))).await;
            // The restored handlers work under the new ids.
            peer.send(invocation(5, 12, args(("hi",)))).await;
            let yielded =
                expect_message!(peer, Message::Yield { request: 5, payload, .. } => payload);
            assert_eq!(yielded.into_parts().0, args(("hi",)));
            peer.send(event(22, 900, args((42,)))).await;
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy())
            .connect_with_factory(connector)
            .await
            .unwrap();
        let mut states = session.states();
        assert_eq!(
            states.next().await,
            Some(SessionState::Joined { session: 1001 })
        );
        let _echo = session
            .register("com.example.echo", |inv: Invocation| async move {
                Ok(inv.arguments())
            })
            .disclose_caller()
            .await
            .unwrap();
        let mut news = session
            .subscribe("com.example.news")
            .match_policy(MatchPolicy::Prefix)
            .await
            .unwrap();
        let idempotent = tokio::spawn(
            session
                .call("com.example.idempotent", (7,))
                .idempotent()
                .into_future(),
        );
        dropped_rx.await.unwrap();

        // While disconnected: a plain call fails fast with Disconnected.
        while let SessionState::Joined { session: 1001 } = session.state() {
            tokio::task::yield_now().await;
        }
        let mut saw_disconnect = false;
        let mut rejoined = false;
        while let Some(state) = states.next().await {
            match state {
                SessionState::Disconnected { reason } => {
                    saw_disconnect = true;
                    assert_eq!(reason.initiator, wampkit::error::CloseInitiator::Transport);
                }
                SessionState::Reconnecting { attempt, .. } => assert!(attempt >= 1),
                SessionState::Joined { session: 2002 } => {
                    rejoined = true;
                    break;
                }
                other => panic!("unexpected state {other:?}"),
            }
        }
        assert!(rejoined);
        let _ = saw_disconnect;
        assert_eq!(session.id(), 2002);
        let again: String = idempotent.await.unwrap().unwrap().arg(0).unwrap();
        assert_eq!(
            again, "again",
            "the idempotent call was sent again and answered"
        );
        let event = news
            .next()
            .await
            .expect("the restored subscription delivers");
        assert_eq!(event.arg::<i64>(0).unwrap(), 42);
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn requests_while_disconnected_fail_fast_or_wait() {
    bounded("disconnected", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            let pending = peer.expect_call().await;
            assert_eq!(pending.procedure, "com.example.plain");
            peer.close();
            dropped_tx.send(()).unwrap();
            // Keep the router away until the test has made its requests.
            go_rx.await.unwrap();
            let mut peer = router.accept().await;
            peer.welcome(2).await;
            // Only the call that waits for the session arrives.
            let waited = peer.expect_call().await;
            assert_eq!(waited.procedure, "com.example.waiting");
            peer.send(result(waited.request, args(("waited",)))).await;
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy().initial_delay(Duration::from_millis(200)))
            .connect_with_factory(connector)
            .await
            .unwrap();
        let plain = tokio::spawn(session.call("com.example.plain", ()).into_future());
        dropped_rx.await.unwrap();
        let err = plain.await.unwrap().unwrap_err();
        assert!(
            matches!(err, Error::Disconnected(_)),
            "a pending call fails: {err:?}"
        );
        // Wait until the session knows.
        while matches!(session.state(), SessionState::Joined { .. }) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let err = session.call("com.example.fast_fail", ()).await.unwrap_err();
        assert!(matches!(err, Error::Disconnected(_)), "{err:?}");
        let err = session
            .publish("com.example.topic", ())
            .acknowledge()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Disconnected(_)), "{err:?}");
        let waiting = tokio::spawn(
            session
                .call("com.example.waiting", ())
                .wait_for_session()
                .into_future(),
        );
        go_tx.send(()).unwrap();
        let waited: String = waiting.await.unwrap().unwrap().arg(0).unwrap();
        assert_eq!(waited, "waited");
        assert_eq!(session.diagnostics().await.unwrap().pending_calls, 0);
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_fatal_refusal_ends_the_session_and_attempts_are_bounded() {
    bounded("fatal", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let script = tokio::spawn(async move {
            let peer = router.accept().await;
            let mut peer = peer;
            peer.welcome(1).await;
            peer.close();
            // The reconnect is refused: not authorized, which is fatal by default.
            let mut peer = router.accept().await;
            peer.abort_hello("wamp.error.not_authorized", "go away")
                .await;
        });
        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy())
            .connect_with_factory(connector)
            .await
            .unwrap();
        let reason = session.closed().await;
        assert_eq!(reason.uri, ErrorUri::NotAuthorized.as_str());
        assert!(matches!(session.state(), SessionState::Closed(_)));
        script.await.unwrap();

        // Attempts are bounded: a router that is gone for good.
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.close();
            drop(router);
        });
        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy().max_attempts(Some(3)))
            .connect_with_factory(connector)
            .await
            .unwrap();
        let reason = session.closed().await;
        assert!(
            reason
                .message
                .as_deref()
                .unwrap_or_default()
                .contains("gave up reconnecting after 3 attempts"),
            "{reason:?}"
        );
        script.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn leave_and_router_kill_do_not_reconnect() {
    bounded("no reconnect", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.send(wamp_testkit::scripted_router::goodbye(
                "wamp.close.killed",
                Some("bye"),
            ))
            .await;
            let _ = peer.recv().await;
        });
        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy())
            .connect_with_factory(connector)
            .await
            .unwrap();
        let reason = session.closed().await;
        assert_eq!(reason.uri, "wamp.close.killed");
        script.await.unwrap();
    })
    .await;
}

/// What `dropped_while_being_restored` restores.
#[derive(Clone, Copy, Debug)]
enum Restored {
    Subscription,
    Registration,
}

#[tokio::test]
async fn a_subscription_dropped_while_being_restored_is_unsubscribed() {
    dropped_while_being_restored(Restored::Subscription).await;
}

#[tokio::test]
async fn a_registration_dropped_while_being_restored_is_unregistered() {
    dropped_while_being_restored(Restored::Registration).await;
}

/// A subscription or registration is restored after a drop, and its handle is dropped while
/// the SUBSCRIBE or REGISTER is on its way: once the router answers with the new id, the client
/// gives it back (the handle's own removal had no router id to go to).
async fn dropped_while_being_restored(kind: Restored) {
    bounded(&format!("{kind:?} dropped during restore"), async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let (restoring_tx, restoring_rx) = tokio::sync::oneshot::channel::<()>();
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        let (given_back_tx, given_back_rx) = tokio::sync::oneshot::channel::<()>();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1001).await;
            match kind {
                Restored::Subscription => drop(peer.accept_subscribe(21).await),
                Restored::Registration => drop(peer.accept_register(11).await),
            }
            peer.close();

            // The new connection: the request comes again, and the handle is dropped before it
            // is answered.
            let mut peer = router.accept().await;
            peer.welcome(2002).await;
            let request = match peer.expect_message().await {
                Message::Subscribe { request, .. } | Message::Register { request, .. } => request,
                other => panic!("expected the restoring request, got {other:?}"),
            };
            restoring_tx.send(()).unwrap();
            dropped_rx.await.unwrap();
            peer.send(match kind {
                Restored::Subscription => Message::Subscribed {
                    request,
                    subscription: 22,
                },
                Restored::Registration => Message::Registered {
                    request,
                    registration: 22,
                },
            })
            .await;
            // Nobody uses it any more: the restored subscription or registration is given back.
            let answer = match (kind, peer.expect_message().await) {
                (
                    Restored::Subscription,
                    Message::Unsubscribe {
                        request,
                        subscription: 22,
                    },
                ) => Message::Unsubscribed {
                    request,
                    details: None,
                },
                (
                    Restored::Registration,
                    Message::Unregister {
                        request,
                        registration: 22,
                    },
                ) => Message::Unregistered {
                    request,
                    details: None,
                },
                (_, other) => panic!("expected it given back, got {other:?}"),
            };
            peer.send(answer).await;
            given_back_tx.send(()).unwrap();
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy())
            .connect_with_factory(connector)
            .await
            .unwrap();
        let handle: Box<dyn std::any::Any> = match kind {
            Restored::Subscription => {
                Box::new(session.subscribe("com.example.news").await.unwrap())
            }
            Restored::Registration => Box::new(
                session
                    .register("com.example.echo", |_: Invocation| async move {
                        Ok(Arguments::new())
                    })
                    .await
                    .unwrap(),
            ),
        };
        restoring_rx.await.unwrap();
        drop(handle);
        // Commands are taken in order: once this is answered, the drop's removal has been
        // handled (with no router id to send it to yet).
        let diagnostics = session.diagnostics().await.unwrap();
        assert_eq!(diagnostics.registrations, 0);
        dropped_tx.send(()).unwrap();
        if given_back_rx.await.is_err() {
            // The script failed: report its panic.
            script.await.unwrap();
            return;
        }
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}
