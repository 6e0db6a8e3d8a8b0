//! Sessions that go away mid-conversation (dropped connections, GOODBYE or ABORT with calls in
//! flight, clients that never finish joining): the router tells the other side of each call,
//! forgets every registration and subscription of the session, and keeps serving.
#![cfg(test)]

mod support;

use std::time::Duration;

use support::*;
use wampkit::wire::{Message, Payload};
use wampkit::{Dict, Serializer, Value};
use wampkit_router::Router;

/// Sends three calls from `caller` (two to `com.a`, one to `com.b`) and returns the
/// invocation ids `a` and `b` received.
async fn three_calls(caller: &mut Raw, a: &mut Raw, b: &mut Raw) -> (Vec<u64>, u64) {
    for (request, procedure) in [(1, "com.a"), (2, "com.a"), (3, "com.b")] {
        assert!(
            caller
                .send(&call(request, procedure, Dict::new(), vec![]))
                .await
        );
    }
    let mut of_a = Vec::new();
    for _ in 0..2 {
        match a.recv().await {
            Some(Message::Invocation { request, .. }) => of_a.push(request),
            other => panic!("expected INVOCATION, got {other:?}"),
        }
    }
    let of_b = match b.recv().await {
        Some(Message::Invocation { request, .. }) => request,
        other => panic!("expected INVOCATION, got {other:?}"),
    };
    (of_a, of_b)
}

/// How a caller leaves with its calls pending.
#[derive(Debug, Clone, Copy)]
enum Leaving {
    Drop,
    Goodbye,
    Abort,
}

#[tokio::test]
async fn a_vanished_callers_calls_interrupt_their_callees() {
    let router = router();
    for leaving in [Leaving::Drop, Leaving::Goodbye, Leaving::Abort] {
        let mut a = Raw::connect(&router, Serializer::Json);
        a.join(roles(&[("callee", &["call_canceling"])])).await;
        a.register(1, "com.a").await;
        // b cannot be interrupted: it hears nothing.
        let mut b = Raw::connect(&router, Serializer::MsgPack);
        b.join(roles(&[("callee", &[])])).await;
        b.register(1, "com.b").await;
        let mut caller = Raw::connect(&router, Serializer::Cbor);
        caller.join(all_roles()).await;
        let (of_a, of_b) = three_calls(&mut caller, &mut a, &mut b).await;
        match leaving {
            Leaving::Drop => drop(caller),
            Leaving::Goodbye => {
                let goodbye = Message::Goodbye {
                    details: Dict::new(),
                    reason: "wamp.close.normal".into(),
                };
                assert!(caller.send(&goodbye).await);
                match caller.recv().await {
                    Some(Message::Goodbye { reason, .. }) => {
                        assert_eq!(reason, "wamp.close.goodbye_and_out");
                    }
                    other => panic!("expected GOODBYE, got {other:?}"),
                }
                caller.expect_closed().await;
            }
            Leaving::Abort => {
                let abort = Message::Abort {
                    details: Dict::new(),
                    reason: "wamp.error.canceled".into(),
                    payload: Payload::Empty,
                };
                assert!(caller.send(&abort).await);
                caller.expect_closed().await;
            }
        }
        let mut interrupted = Vec::new();
        for _ in 0..2 {
            match a.recv().await {
                Some(Message::Interrupt { request, options }) => {
                    assert_eq!(
                        options.get("mode").and_then(Value::as_str),
                        Some("killnowait"),
                        "{leaving:?}"
                    );
                    interrupted.push(request);
                }
                other => panic!("{leaving:?}: expected INTERRUPT, got {other:?}"),
            }
        }
        interrupted.sort_unstable();
        let mut expected = of_a.clone();
        expected.sort_unstable();
        assert_eq!(interrupted, expected, "{leaving:?}");
        assert!(b.quiet_for(Duration::from_millis(100)).await, "{leaving:?}");
        // Late answers go nowhere, and are no violation.
        for (callee, invocation) in [(&mut a, of_a[0]), (&mut b, of_b)] {
            let answer = Message::Yield {
                request: invocation,
                options: Dict::new(),
                payload: Payload::Empty,
            };
            assert!(callee.send(&answer).await);
            assert!(
                callee.quiet_for(Duration::from_millis(50)).await,
                "{leaving:?}"
            );
        }
        let realm = router.realm("realm1").expect("realm");
        eventually("the caller gone", || realm.sessions().len() == 2).await;
        drop((a, b));
        assert_all_gone(&router).await;
    }
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn a_vanished_callees_callers_get_an_error() {
    let router = router();
    let mut callee = Raw::connect(&router, Serializer::Json);
    callee.join(all_roles()).await;
    let registration = callee.register(1, "com.proc").await;
    let mut caller = Raw::connect(&router, Serializer::Json);
    caller.join(all_roles()).await;
    for request in 1..=3 {
        assert!(
            caller
                .send(&call(request, "com.proc", Dict::new(), vec![]))
                .await
        );
    }
    for _ in 1..=3 {
        assert!(matches!(
            callee.recv().await,
            Some(Message::Invocation { .. })
        ));
    }
    let realm = router.realm("realm1").expect("realm");
    assert_eq!(
        realm.registrations().first().map(|r| r.id),
        Some(registration)
    );
    drop(callee);
    let mut answered = Vec::new();
    for _ in 1..=3 {
        match caller.recv().await {
            Some(Message::Error { request, error, .. }) => {
                assert_eq!(error, "wamp.error.canceled");
                answered.push(request);
            }
            other => panic!("expected ERROR, got {other:?}"),
        }
    }
    answered.sort_unstable();
    assert_eq!(answered, [1, 2, 3]);
    eventually("the registration gone", || realm.registrations().is_empty()).await;
    // The procedure is free again.
    assert!(caller.send(&call(4, "com.proc", Dict::new(), vec![])).await);
    match caller.recv().await {
        Some(Message::Error { error, .. }) => assert_eq!(error, "wamp.error.no_such_procedure"),
        other => panic!("expected ERROR, got {other:?}"),
    }
    drop(caller);
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn many_sessions_vanishing_at_once_leave_nothing_behind() {
    let router = router();
    let mut clients = Vec::new();
    for index in 0..100u64 {
        let serializer = Serializer::ALL[(index % 3) as usize];
        let mut raw = Raw::connect(&router, serializer);
        raw.join(all_roles()).await;
        raw.register(1, &format!("com.proc.{index}")).await;
        raw.subscribe(2, "com.shared.topic").await;
        raw.subscribe(3, &format!("com.topic.{index}")).await;
        // A call to a neighbour, left pending.
        if index > 0 {
            let procedure = format!("com.proc.{}", index - 1);
            assert!(raw.send(&call(4, &procedure, Dict::new(), vec![])).await);
        }
        clients.push(raw);
    }
    let realm = router.realm("realm1").expect("realm");
    assert_eq!(realm.sessions().len(), 100);
    assert_eq!(realm.registrations().len(), 100);
    assert_eq!(realm.subscriptions().len(), 101);
    drop(clients);
    assert_all_gone(&router).await;
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn clients_that_never_finish_joining_are_timed_out() {
    let router = Router::builder()
        .realm("realm1")
        .hello_timeout(Duration::from_millis(200))
        .goodbye_timeout(Duration::from_millis(200))
        .build();
    // Silent after connecting: ABORT wamp.error.timeout.
    let mut silent = Raw::connect(&router, Serializer::Json);
    silent.expect_abort("wamp.error.timeout").await;
    // Gone before HELLO, or halfway through one: nothing is left.
    for _ in 0..10 {
        drop(Raw::connect(&router, Serializer::MsgPack));
    }
    assert_serves(&router).await;
    assert_all_gone(&router).await;
    // Every connection task ends: shutdown returns.
    tokio::time::timeout(LIMIT, router.shutdown())
        .await
        .expect("shutdown in time");
}
