//! The session task against routers that misbehave or fail at the worst moment: a restore that
//! fails partway, a handler that panics before it returns its future, invocation ids reused
//! across a reconnect or while an invocation runs, a duplicate REGISTERED, answers after GOODBYE,
//! a router that stops reading, and calls that cannot be repeated safely.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::collections::BTreeSet;
use std::future::IntoFuture as _;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::sync::oneshot;
use wamp_testkit::bounded;
use wamp_testkit::scripted_router::{
    RouterPeer, ScriptedRouter, args, dict, expect_message, invocation, result, welcome_details,
};
use wampkit::wire::{Message, Payload, Serializer, code};
use wampkit::{
    Arguments, Dict, Error, ErrorUri, Invocation, ReconnectPolicy, Session, Value,
    session::SessionState,
};

fn fast_policy() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(200))
        .jitter(0.0)
}

async fn finish<T>(script: tokio::task::JoinHandle<T>) -> T {
    bounded("the router script", script)
        .await
        .expect("the router script failed")
}

/// Waits until the session reaches a state `wanted` accepts.
async fn wait_for_state(session: &Session, wanted: impl Fn(&SessionState) -> bool) {
    let mut states = session.states();
    while let Some(state) = states.next().await {
        if wanted(&state) {
            return;
        }
    }
    panic!("the session closed before reaching the state");
}

/// Item: a restore that fails partway. The new connection breaks while the client is still
/// sending its SUBSCRIBEs (the router reads nothing, then drops the connection, so the blocked
/// write fails): every subscription not sent yet, the idempotent call and the call that waited
/// must all be restored on the connection after it.
#[tokio::test]
async fn a_restore_that_fails_partway_loses_nothing() {
    // Far more SUBSCRIBEs than the connection holds in flight, so the restore stalls partway.
    const TOPICS: usize = 300;
    let padding = "x".repeat(60_000);
    let topic = move |i: usize| format!("com.example.t{i}.{padding}");
    let topics: BTreeSet<String> = (0..TOPICS).map(&topic).collect();

    bounded("restore partway", async {
        let router = ScriptedRouter::in_memory_with_capacity(Serializer::Json, 16);
        let url = router.url();
        let connector = router.connector();
        let (dropped_tx, dropped_rx) = oneshot::channel::<()>();
        let (waiting_tx, waiting_rx) = oneshot::channel::<()>();
        let expected = topics.clone();
        let script = tokio::spawn(async move {
            // First connection: a registration, the subscriptions, an idempotent call pending.
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_register(11).await;
            for i in 0..TOPICS {
                peer.accept_subscribe(1000 + i as u64).await;
            }
            let call = peer.expect_call().await;
            assert_eq!(call.procedure, "com.example.idempotent");
            peer.close();
            dropped_tx.send(()).unwrap();
            waiting_rx.await.unwrap();

            // Second connection: welcome, read nothing while the client restores, then drop it.
            let mut peer = router.accept().await;
            peer.welcome(2).await;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            peer.close();

            // Third connection: everything comes back.
            let mut peer = router.accept().await;
            peer.welcome(3).await;
            let (mut subscribed, mut registered, mut calls) = (BTreeSet::new(), 0, Vec::new());
            while subscribed.len() < TOPICS || registered < 1 || calls.len() < 2 {
                match peer.expect_message().await {
                    Message::Subscribe { request, topic, .. } => {
                        assert!(subscribed.insert(topic), "subscribed twice");
                        let subscription = 5000 + request;
                        peer.send(Message::Subscribed {
                            request,
                            subscription,
                        })
                        .await;
                    }
                    Message::Register { request, .. } => {
                        registered += 1;
                        peer.send(Message::Registered {
                            request,
                            registration: 12,
                        })
                        .await;
                    }
                    Message::Call {
                        request, procedure, ..
                    } => {
                        peer.send(result(request, args((procedure.clone(),)))).await;
                        calls.push(procedure);
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(subscribed, expected);
            calls.sort();
            assert_eq!(calls, ["com.example.idempotent", "com.example.waited"]);
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy())
            .no_keepalive()
            .connect_with_factory(connector)
            .await
            .unwrap();
        let _registration = session
            .register("com.example.echo", |inv: Invocation| async move {
                Ok(Arguments {
                    args: inv.arguments().args,
                    kwargs: Dict::new(),
                })
            })
            .await
            .unwrap();
        let mut subscriptions = Vec::new();
        for i in 0..TOPICS {
            subscriptions.push(session.subscribe(topic(i)).await.unwrap());
        }
        let idempotent = tokio::spawn(
            session
                .call("com.example.idempotent", ())
                .idempotent()
                .into_future(),
        );
        dropped_rx.await.unwrap();
        wait_for_state(&session, |s| !matches!(s, SessionState::Joined { .. })).await;
        let waited = tokio::spawn(
            session
                .call("com.example.waited", ())
                .wait_for_session()
                .into_future(),
        );
        // Let the session task take the call before the router lets it reconnect.
        session.diagnostics().await.unwrap();
        waiting_tx.send(()).unwrap();

        let idempotent = idempotent
            .await
            .unwrap()
            .expect("the idempotent call is sent again");
        assert_eq!(
            idempotent.arg::<String>(0).unwrap(),
            "com.example.idempotent"
        );
        let waited = waited.await.unwrap().expect("the waiting call is sent");
        assert_eq!(waited.arg::<String>(0).unwrap(), "com.example.waited");
        assert!(subscriptions.iter().all(|s| s.revoked().is_none()));
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

/// Item: a closure handler that panics before it returns its future is caught like one that
/// panics inside it: the caller gets `wamp.error.runtime_error` and the invocation is not kept.
#[tokio::test]
async fn a_handler_that_panics_before_returning_its_future_answers_runtime_error() {
    bounded("panic before the future", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_register(7).await;
            peer.send(invocation(3, 7, args(("not a number",)))).await;
            let (request, error) = expect_message!(
                peer,
                Message::Error { request_type: code::INVOCATION, request, error, .. } => (request, error)
            );
            assert_eq!((request, error.as_str()), (3, "wamp.error.runtime_error"));
            peer.expect_leave().await;
        });
        let session = Session::builder(&url, "realm1")
            .connect_with_factory(connector)
            .await
            .unwrap();
        let _registration = session
            .register("com.example.double", |inv: Invocation| {
                let n: i64 = inv.arg(0).unwrap();
                async move { Ok(Arguments::single(n * 2)?) }
            })
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let diagnostics = session.diagnostics().await.unwrap();
            if diagnostics.running_invocations == 0 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "the invocation is kept");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

fn progressive(request: u64, registration: u64, more: bool, value: i64) -> Message {
    Message::Invocation {
        request,
        registration,
        details: dict([("progress", Value::Bool(more))]),
        payload: Payload::new(args((value,)), Dict::new()),
    }
}

/// Sums a progressive invocation's input chunks.
async fn sum_handler(mut inv: Invocation) -> Result<Arguments, wampkit::WampError> {
    let mut sum: i64 = inv.arg(0)?;
    if let Some(mut input) = inv.take_input() {
        while let Some(chunk) = input.next().await {
            sum += chunk.args.first().and_then(Value::as_i64).unwrap_or(0);
        }
    }
    Ok(Arguments::single(sum)?)
}

/// Item: the ids of the lost connection's finished progressive invocations are forgotten; the
/// router of the new connection numbers its invocations afresh, and they are answered.
#[tokio::test]
async fn invocation_ids_of_a_lost_connection_are_not_dropped_on_the_next() {
    bounded("finished invocations across a reconnect", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let (answered_tx, answered_rx) = oneshot::channel::<()>();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_register(7).await;
            peer.send(progressive(5, 7, true, 1)).await;
            peer.send(progressive(5, 7, false, 2)).await;
            let payload =
                expect_message!(peer, Message::Yield { request: 5, payload, .. } => payload);
            assert_eq!(payload.into_parts().0, args((3,)));
            peer.close();

            let mut peer = router.accept().await;
            peer.welcome(2).await;
            peer.accept_register(8).await;
            // The new session's first invocation happens to have the same id.
            peer.send(invocation(5, 8, args((40,)))).await;
            let payload =
                expect_message!(peer, Message::Yield { request: 5, payload, .. } => payload);
            assert_eq!(payload.into_parts().0, args((40,)));
            answered_tx.send(()).unwrap();
            peer.expect_leave().await;
        });
        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy())
            .connect_with_factory(connector)
            .await
            .unwrap();
        let _registration = session
            .register("com.example.sum", sum_handler)
            .await
            .unwrap();
        answered_rx.await.unwrap();
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

/// Item: an INVOCATION that reuses the id of a running invocation that takes no input is a
/// protocol violation, not an input chunk that would leave its caller waiting forever.
#[tokio::test]
async fn an_invocation_reusing_a_running_id_is_a_protocol_violation() {
    bounded("invocation id reuse", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_register(7).await;
            peer.send(invocation(5, 7, args((1,)))).await;
            peer.send(invocation(5, 7, args((2,)))).await;
            let reason = expect_message!(peer, Message::Abort { reason, .. } => reason);
            assert_eq!(reason, "wamp.error.protocol_violation");
        });
        let session = Session::builder(&url, "realm1")
            .connect_with_factory(connector)
            .await
            .unwrap();
        let _registration = session
            .register("com.example.slow", |_inv: Invocation| async move {
                std::future::pending::<()>().await;
                Ok(Arguments::new())
            })
            .await
            .unwrap();
        let reason = session.closed().await;
        assert_eq!(reason.uri, "wamp.error.protocol_violation");
        finish(script).await;
    })
    .await;
}

/// Item: a REGISTERED naming a registration the session already holds is a protocol violation:
/// it would overwrite the first entry, and dropping the first handle would then unregister the
/// second.
#[tokio::test]
async fn a_duplicate_registered_id_is_a_protocol_violation() {
    bounded("duplicate REGISTERED", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_register(7).await;
            peer.accept_register(7).await;
            let reason = expect_message!(peer, Message::Abort { reason, .. } => reason);
            assert_eq!(reason, "wamp.error.protocol_violation");
        });
        let session = Session::builder(&url, "realm1")
            .connect_with_factory(connector)
            .await
            .unwrap();
        let handler = |_inv: Invocation| async move { Ok(Arguments::new()) };
        let first = session.register("com.example.a", handler).await.unwrap();
        let second = session.register("com.example.b", handler).await;
        assert!(
            matches!(&second, Err(Error::SessionClosed(reason)) if reason.uri == "wamp.error.protocol_violation"),
            "{second:?}"
        );
        assert_eq!(first.id(), 7);
        finish(script).await;
    })
    .await;
}

/// Item: nothing follows GOODBYE. A handler that finishes while the session waits for the
/// router's GOODBYE sends no YIELD.
#[tokio::test]
async fn no_yield_follows_goodbye() {
    bounded("YIELD after GOODBYE", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let (started_tx, started_rx) = oneshot::channel::<()>();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_register(7).await;
            peer.send(invocation(5, 7, args(()))).await;
            expect_message!(peer, Message::Goodbye { .. });
            // Were the handler still running, it would finish now: its YIELD must not follow
            // the GOODBYE.
            let _ = started_tx.send(());
            peer.expect_silence(Duration::from_millis(500)).await;
            peer.send(wamp_testkit::scripted_router::goodbye(
                "wamp.close.goodbye_and_out",
                None,
            ))
            .await;
            peer.expect_closed().await;
        });
        let session = Session::builder(&url, "realm1")
            .connect_with_factory(connector)
            .await
            .unwrap();
        let (running_tx, running_rx) = oneshot::channel::<()>();
        let running_tx = std::sync::Mutex::new(Some(running_tx));
        let finish_rx = std::sync::Arc::new(tokio::sync::Mutex::new(Some(started_rx)));
        let _registration = session
            .register("com.example.late", move |_inv: Invocation| {
                let running = running_tx.lock().unwrap().take();
                let finish_rx = finish_rx.clone();
                async move {
                    if let Some(running) = running {
                        let _ = running.send(());
                    }
                    // Finishes once the router has the GOODBYE, unless aborted first.
                    let started = finish_rx.lock().await.take();
                    if let Some(started) = started {
                        let _ = started.await;
                    }
                    Ok(Arguments::single(1)?)
                }
            })
            .await
            .unwrap();
        running_rx.await.unwrap();
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

/// Item: a router that stopped reading cannot hold a leave up (keepalive off). The session task
/// is blocked writing a large publication when `leave` is called: `leave` returns, and the call
/// that was pending fails with `SessionClosed`.
#[tokio::test]
async fn leave_returns_when_the_router_stopped_reading() {
    bounded("leave with a router that does not read", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let (release_tx, release_rx) = oneshot::channel::<()>();
        let (called_tx, called_rx) = oneshot::channel::<()>();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.expect_call().await;
            called_tx.send(()).unwrap();
            // From now on nothing is read.
            let _ = release_rx.await;
            drop(peer);
        });
        let session = Session::builder(&url, "realm1")
            .no_keepalive()
            .leave_timeout(Duration::from_millis(500))
            .connect_with_factory(connector)
            .await
            .unwrap();
        let pending = tokio::spawn(session.call("com.example.never", ()).into_future());
        called_rx.await.unwrap();
        // Far more than the sockets buffer: the session task blocks writing.
        let chunk = "y".repeat(1 << 20);
        for _ in 0..48 {
            session
                .publish("com.example.flood", (chunk.as_str(),))
                .await
                .unwrap();
        }
        let left = tokio::time::timeout(Duration::from_secs(10), session.leave()).await;
        assert!(left.is_ok(), "leave() hangs on a router that does not read");
        let pending = pending.await.unwrap();
        assert!(
            matches!(pending, Err(Error::SessionClosed(_))),
            "{pending:?}"
        );
        assert!(session.is_closed());
        release_tx.send(()).unwrap();
        finish(script).await;
    })
    .await;
}

/// Item: a call that streams its input cannot be idempotent (after a reconnect only its first
/// chunk could be sent again, and the callee would wait for the rest forever).
#[tokio::test]
async fn an_idempotent_duplex_call_is_refused() {
    bounded("idempotent duplex", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            let mut details = welcome_details();
            if let Some(Value::Dict(roles)) = details.get_mut("roles") {
                if let Some(Value::Dict(dealer)) = roles.get_mut("dealer") {
                    if let Some(Value::Dict(features)) = dealer.get_mut("features") {
                        features.insert("progressive_call_invocations".into(), Value::Bool(true));
                    }
                }
            }
            peer.welcome_with(1, details).await;
            // No CALL goes out.
            peer.expect_leave().await;
        });
        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy())
            .connect_with_factory(connector)
            .await
            .unwrap();
        let refused = session
            .call("com.example.upload", (1,))
            .idempotent()
            .into_duplex();
        match refused {
            Err(Error::Wamp(error)) => assert_eq!(error.uri, ErrorUri::InvalidArgument),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("an idempotent duplex call was accepted"),
        }
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

/// The first connection registers one procedure (id 7) and drops; returns the second, joined.
async fn registered_then_reconnected(router: &ScriptedRouter) -> RouterPeer {
    let mut peer = router.accept().await;
    peer.welcome(1).await;
    peer.accept_register(7).await;
    peer.close();
    let mut peer = router.accept().await;
    peer.welcome(2).await;
    peer
}

/// Item: a restoring REGISTER refused with `procedure_already_exists` (a stale session of ours
/// may still hold the procedure) is tried again with backoff; once the router accepts it, the
/// registration serves calls and was never revoked.
#[tokio::test]
async fn a_refused_restore_is_retried_until_the_router_accepts_it() {
    bounded("restore retried", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let (served_tx, served_rx) = oneshot::channel::<()>();
        let script = tokio::spawn(async move {
            let mut peer = registered_then_reconnected(&router).await;
            for _ in 0..3 {
                let request = expect_message!(peer, Message::Register { request, .. } => request);
                peer.send(wamp_testkit::scripted_router::error(
                    code::REGISTER,
                    request,
                    "wamp.error.procedure_already_exists",
                    args(()),
                ))
                .await;
            }
            peer.accept_register(8).await;
            peer.send(invocation(4, 8, args((1,)))).await;
            expect_message!(peer, Message::Yield { request: 4, .. });
            served_tx.send(()).unwrap();
            peer.expect_leave().await;
        });
        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy())
            .connect_with_factory(connector)
            .await
            .unwrap();
        let registration = session
            .register("com.example.held", |inv: Invocation| async move {
                Ok(Arguments {
                    args: inv.arguments().args,
                    kwargs: Dict::new(),
                })
            })
            .await
            .unwrap();
        served_rx.await.unwrap();
        assert_eq!(registration.revoked(), None);
        let diagnostics = session.diagnostics().await.unwrap();
        assert_eq!(
            (diagnostics.registrations, diagnostics.restore_retries),
            (1, 0)
        );
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

/// Item: past the reconnect policy's `restore_retry` window the refusal is final: the
/// registration is revoked and says why.
#[tokio::test]
async fn a_restore_refused_past_the_retry_window_is_revoked() {
    bounded("restore given up", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let script = tokio::spawn(async move {
            let mut peer = registered_then_reconnected(&router).await;
            loop {
                match peer.expect_message().await {
                    Message::Register { request, .. } => {
                        peer.send(wamp_testkit::scripted_router::error(
                            code::REGISTER,
                            request,
                            "wamp.error.procedure_already_exists",
                            args(()),
                        ))
                        .await;
                    }
                    Message::Goodbye { .. } => break,
                    other => panic!("unexpected {other:?}"),
                }
            }
            peer.send(wamp_testkit::scripted_router::goodbye(
                "wamp.close.goodbye_and_out",
                None,
            ))
            .await;
        });
        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy().restore_retry(Duration::from_millis(400)))
            .connect_with_factory(connector)
            .await
            .unwrap();
        let registration = session
            .register("com.example.taken", |_inv: Invocation| async move {
                Ok(Arguments::new())
            })
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while registration.revoked().is_none() {
            assert!(tokio::time::Instant::now() < deadline, "never revoked");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let reason = registration.revoked().unwrap();
        assert!(reason.contains("procedure_already_exists"), "{reason}");
        let diagnostics = session.diagnostics().await.unwrap();
        assert_eq!(
            (diagnostics.registrations, diagnostics.restore_retries),
            (0, 0)
        );
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

/// Requests that wait for a reconnecting session are bounded like the request queue: past
/// `max_queued_commands` a waiting call fails with `QueueFull` instead of growing memory for as
/// long as the outage lasts; those within the bound go out once the session has rejoined.
#[tokio::test]
async fn requests_waiting_for_the_session_are_bounded() {
    bounded("waiting requests bounded", async {
        let router = ScriptedRouter::in_memory(Serializer::Json);
        let url = router.url();
        let connector = router.connector();
        let (dropped_tx, dropped_rx) = oneshot::channel::<()>();
        let (queued_tx, queued_rx) = oneshot::channel::<()>();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.close();
            dropped_tx.send(()).unwrap();
            queued_rx.await.unwrap();
            let mut peer = router.accept().await;
            peer.welcome(2).await;
            for _ in 0..4 {
                peer.answer_call(args(("ok",))).await;
            }
            peer.expect_leave().await;
        });
        let session = Session::builder(&url, "realm1")
            .reconnect(fast_policy())
            .max_queued_commands(4)
            .connect_with_factory(connector)
            .await
            .unwrap();
        dropped_rx.await.unwrap();
        wait_for_state(&session, |s| !matches!(s, SessionState::Joined { .. })).await;
        let mut calls = Vec::new();
        for _ in 0..6 {
            calls.push(tokio::spawn(
                session
                    .call("com.example.later", ())
                    .wait_for_session()
                    .into_future(),
            ));
            // One at a time, so that the session task takes each in before the next.
            session.diagnostics().await.unwrap();
        }
        queued_tx.send(()).unwrap();
        let mut outcomes = Vec::new();
        for call in calls {
            outcomes.push(call.await.unwrap());
        }
        assert!(outcomes[..4].iter().all(Result::is_ok), "{outcomes:?}");
        for outcome in &outcomes[4..] {
            assert!(
                matches!(outcome, Err(Error::QueueFull { limit: 4 })),
                "{outcome:?}"
            );
        }
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}
