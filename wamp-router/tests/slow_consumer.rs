//! Sessions that stop reading: events to them are dropped and counted (or they are closed, as
//! the slow-consumer policy says) while the publisher and the other subscribers go on; an RPC
//! message that does not fit closes the session, and its callers get an error.
#![cfg(test)]

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use support::*;
use wampkit::wire::Id;
use wampkit::{Error, Serializer, Session};
use wampkit_router::{Router, SlowConsumer};

const QUEUE: usize = 16;
const EVENTS: usize = 500;

fn slow_router(policy: SlowConsumer) -> Router {
    Router::builder()
        .realm("realm1")
        .outbound_queue(QUEUE)
        .slow_consumer(policy)
        .goodbye_timeout(Duration::from_millis(200))
        .build()
}

async fn join(router: &Router, serializer: Serializer) -> Session {
    let builder = Session::builder("memory://slow", "realm1").serializer(serializer);
    tokio::time::timeout(LIMIT, router.join(builder))
        .await
        .expect("join in time")
        .expect("join")
}

/// A subscriber to `com.flood` that reads nothing after SUBSCRIBED (its connection holds one
/// message), a well-behaved subscriber counting what it gets, and a publisher sending
/// [`EVENTS`] acknowledged publications one after another. Returns the slow subscriber's
/// connection and session id, and how many events the good one received.
async fn flood(router: &Router) -> (Raw, Id, usize) {
    let mut slow = Raw::with_capacity(router, Serializer::MsgPack, 1);
    let slow_id = slow.join(all_roles()).await;
    slow.subscribe(1, "com.flood").await;
    let good = join(router, Serializer::Cbor).await;
    let mut events = good.subscribe("com.flood").await.expect("subscribe");
    let counting = tokio::spawn(async move {
        let mut count = 0;
        while count < EVENTS {
            match tokio::time::timeout(LIMIT, events.next()).await {
                Ok(Some(_)) => count += 1,
                _ => break,
            }
        }
        count
    });
    let publisher = join(router, Serializer::Json).await;
    let publishing = async {
        for n in 0..EVENTS {
            publisher
                .publish("com.flood", (n,))
                .acknowledge()
                .await
                .expect("acknowledged");
        }
    };
    tokio::time::timeout(LIMIT, publishing)
        .await
        .expect("the publisher is never held up by the slow subscriber");
    let received = counting.await.expect("counted");
    publisher.leave().await.expect("leave");
    good.leave().await.expect("leave");
    (slow, slow_id, received)
}

#[tokio::test]
async fn events_to_a_subscriber_that_does_not_read_are_dropped_and_counted() {
    let router = slow_router(SlowConsumer::DropEvents);
    let (slow, slow_id, received) = flood(&router).await;
    assert_eq!(received, EVENTS, "the good subscriber gets every event");
    let realm = router.realm("realm1").expect("realm");
    let sessions = realm.sessions();
    let snapshot = sessions
        .iter()
        .find(|s| s.id == slow_id)
        .expect("the slow subscriber is still joined");
    // The router queue, the connection's one slot and the writer's hand hold a few; the rest
    // is dropped.
    let held = (QUEUE + 2) as u64;
    assert!(
        snapshot.dropped_events >= EVENTS as u64 - held,
        "dropped {} of {EVENTS}",
        snapshot.dropped_events
    );
    assert!(snapshot.dropped_events < EVENTS as u64);
    drop(slow);
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

#[tokio::test]
async fn a_subscriber_that_does_not_read_is_closed_under_the_close_policy() {
    let router = slow_router(SlowConsumer::Close);
    let (mut slow, slow_id, received) = flood(&router).await;
    assert_eq!(received, EVENTS, "the good subscriber gets every event");
    let realm = router.realm("realm1").expect("realm");
    eventually("the slow subscriber closed", || {
        realm.sessions().iter().all(|s| s.id != slow_id)
    })
    .await;
    // Its connection ends: what it held is readable, then the end.
    slow.expect_closed().await;
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}

/// A callee that reads nothing after REGISTERED (its connection holds one message).
async fn stuck_callee(router: &Router) -> (Raw, Id) {
    let mut callee = Raw::with_capacity(router, Serializer::Json, 1);
    let callee_id = callee.join(all_roles()).await;
    callee.register(1, "com.stuck").await;
    (callee, callee_id)
}

/// Makes `count` calls to `com.stuck` at once and returns how each ended.
async fn stuck_calls(caller: &Session, count: usize) -> Vec<Result<(), Error>> {
    let calls: FuturesUnordered<_> = (0..count)
        .map(|n| async move { caller.call("com.stuck", (n,)).await.map(drop) })
        .collect();
    let outcomes: Vec<_> = tokio::time::timeout(LIMIT, calls.collect())
        .await
        .expect("every call is answered: none is dropped silently");
    assert_eq!(outcomes.len(), count);
    outcomes
}

#[tokio::test]
async fn a_callee_that_does_not_read_is_closed_and_its_callers_get_errors() {
    for policy in [SlowConsumer::DropEvents, SlowConsumer::Close] {
        let router = slow_router(policy);
        let (mut callee, callee_id) = stuck_callee(&router).await;
        // More invocations than the callee's queue holds, fewer answers per caller than a
        // caller's queue holds.
        let per_caller = QUEUE / 2;
        let mut callers = Vec::new();
        for serializer in Serializer::ALL {
            callers.push(join(&router, serializer).await);
        }
        let all = futures_util::future::join_all(
            callers.iter().map(|caller| stuck_calls(caller, per_caller)),
        )
        .await;
        for outcome in all.into_iter().flatten() {
            match outcome {
                Err(Error::Wamp(error)) => {
                    assert_eq!(error.uri.as_str(), "wamp.error.canceled", "{policy:?}");
                }
                other => panic!("{policy:?}: expected an error, got {other:?}"),
            }
        }
        let realm = router.realm("realm1").expect("realm");
        assert!(realm.sessions().iter().all(|s| s.id != callee_id));
        assert!(realm.registrations().is_empty());
        callee.expect_closed().await;
        for caller in callers {
            caller.leave().await.expect("leave");
        }
        assert_serves(&router).await;
        assert_all_gone(&router).await;
    }
}

/// The errors for a caller's calls, when its callee is closed, are RPC messages too: a caller
/// with more calls pending than its own queue holds is closed in turn. Every call still ends.
#[tokio::test]
async fn a_caller_whose_answers_overflow_its_queue_is_closed_not_left_waiting() {
    let router = slow_router(SlowConsumer::DropEvents);
    let (mut callee, _) = stuck_callee(&router).await;
    let caller = join(&router, Serializer::MsgPack).await;
    let outcomes = stuck_calls(&caller, QUEUE * 3).await;
    let mut closed = 0;
    for outcome in outcomes {
        match outcome {
            Err(Error::Wamp(error)) => assert_eq!(error.uri.as_str(), "wamp.error.canceled"),
            Err(Error::SessionClosed(_)) => closed += 1,
            other => panic!("expected an error, got {other:?}"),
        }
    }
    assert!(closed > 0, "the caller's queue overflowed");
    assert!(caller.is_closed());
    callee.expect_closed().await;
    assert_serves(&router).await;
    assert_all_gone(&router).await;
}
