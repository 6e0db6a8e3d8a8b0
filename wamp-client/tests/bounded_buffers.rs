//! A subscriber that falls behind loses its oldest events, counted; the session, other
//! subscriptions and calls are not held up, and memory stays bounded.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::time::Duration;

use futures_util::StreamExt as _;
use wamp_testkit::scripted_router::{ScriptedRouter, args, event};
use wampkit::Session;
use wampkit::wire::Serializer;

/// A burst that the session reads many events per socket read does not run the session task
/// past what a subscriber's buffer holds: on a single-threaded runtime it yields to the
/// subscriber every few hundred events (its cooperative budget), so a subscriber that keeps up
/// loses none. (Spending the budget per socket read only, a read holding over a hundred of these
/// events, the task queues far more than the buffer before the subscriber runs: this fails.)
#[tokio::test]
async fn a_subscriber_that_keeps_up_loses_nothing_of_a_burst() {
    const BURST: u64 = 20_000;
    tokio::time::timeout(Duration::from_secs(30), async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_subscribe(7).await;
            peer.send_burst((0..BURST).map(|i| event(7, 10_000 + i, args((i,)))))
                .await;
            peer.expect_leave().await;
        });

        let session = Session::connect(&url, "realm1").await.unwrap();
        let mut burst = session
            .subscribe("com.example.burst")
            .buffer(2_000)
            .await
            .unwrap();
        for i in 0..BURST {
            let event = burst.next().await.unwrap();
            assert_eq!(
                event.arg::<u64>(0).unwrap(),
                i,
                "{} dropped",
                burst.dropped()
            );
        }
        assert_eq!(burst.dropped(), 0);
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_slow_subscriber_drops_its_oldest_events_and_nothing_else_waits() {
    tokio::time::timeout(Duration::from_secs(15), async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_subscribe(7).await;
            peer.accept_subscribe(8).await;
            for i in 0..1000 {
                peer.send(event(7, 10_000 + i, args((i,)))).await;
            }
            // The other subscription and a call still get through at once.
            peer.send(event(8, 99_999, args(("other",)))).await;
            peer.answer_call(args(("answered",))).await;
            peer.expect_leave().await;
        });

        let session = Session::connect(&url, "realm1").await.unwrap();
        let mut slow = session
            .subscribe("com.example.flood")
            .buffer(10)
            .await
            .unwrap();
        let mut other = session.subscribe("com.example.other").await.unwrap();
        // The slow subscriber reads nothing until the flood is over.
        let event = other.next().await.unwrap();
        assert_eq!(event.arg::<String>(0).unwrap(), "other");
        let answer: String = session
            .call("com.example.proc", ())
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(answer, "answered");

        assert_eq!(
            slow.dropped(),
            990,
            "every event beyond the buffer is counted"
        );
        let mut kept = Vec::new();
        while kept.len() < 10 {
            kept.push(slow.next().await.unwrap().arg::<i64>(0).unwrap());
        }
        assert_eq!(
            kept,
            (990..1000).collect::<Vec<_>>(),
            "the newest events are kept, in order"
        );
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await
    .expect("bounded");
}

#[tokio::test]
async fn a_subscriber_behind_by_more_than_its_byte_budget_drops_its_oldest_events() {
    tokio::time::timeout(Duration::from_secs(15), async {
        const EVENTS: u64 = 100;
        const BUDGET: usize = 10_000;
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_subscribe(7).await;
            // About 1 KiB each: the count (10,000 by default) is never reached, the bytes are.
            let padding = "x".repeat(1000);
            for i in 0..EVENTS {
                peer.send(event(7, 10_000 + i, args((i, &padding)))).await;
            }
            peer.answer_call(args(("answered",))).await;
            peer.expect_leave().await;
        });

        let session = Session::connect(&url, "realm1").await.unwrap();
        let mut slow = session
            .subscribe("com.example.large")
            .buffer_bytes(BUDGET)
            .await
            .unwrap();
        // Read nothing until the flood is over (the call is answered after it).
        session.call("com.example.proc", ()).await.unwrap();

        let dropped = slow.dropped();
        let kept = EVENTS - dropped;
        assert!(
            (8..=9).contains(&kept),
            "about 10 KB of ~1 KiB events are kept, not {kept}"
        );
        let mut numbers = Vec::new();
        for _ in 0..kept {
            numbers.push(slow.next().await.unwrap().arg::<u64>(0).unwrap());
        }
        assert_eq!(
            numbers,
            (EVENTS - kept..EVENTS).collect::<Vec<_>>(),
            "the newest events are kept, in order"
        );
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await
    .expect("bounded");
}

#[tokio::test]
async fn an_event_larger_than_the_byte_budget_is_still_delivered() {
    tokio::time::timeout(Duration::from_secs(15), async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_subscribe(7).await;
            peer.send(event(7, 1, args((1, "small")))).await;
            peer.send(event(7, 2, args((2, "x".repeat(5000))))).await;
            peer.answer_call(args(("answered",))).await;
            peer.expect_leave().await;
        });

        let session = Session::connect(&url, "realm1").await.unwrap();
        let mut subscription = session
            .subscribe("com.example.large")
            .buffer_bytes(1000)
            .await
            .unwrap();
        session.call("com.example.proc", ()).await.unwrap();
        assert_eq!(subscription.dropped(), 1, "the older event made room");
        let event = subscription.next().await.unwrap();
        assert_eq!(
            event.arg::<u64>(0).unwrap(),
            2,
            "the newest is kept whatever its size"
        );
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await
    .expect("bounded");
}
