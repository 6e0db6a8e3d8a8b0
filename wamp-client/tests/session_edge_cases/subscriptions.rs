//! Subscriptions: ids shared by several subscriptions, unknown events, revocations.

use super::*;

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
