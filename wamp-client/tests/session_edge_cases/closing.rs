//! Endings: the router's GOODBYE, an abrupt close, leaving.

use super::*;

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
            uri: ErrorUri::Killed,
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
