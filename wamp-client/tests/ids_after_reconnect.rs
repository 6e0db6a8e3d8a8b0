//! After a reconnect the router assigns new ids to the restored registrations and subscriptions;
//! the handles report the current ones.

#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::time::Duration;

use futures_util::StreamExt as _;
use wamp_testkit::bounded;
use wamp_testkit::scripted_router::{ScriptedRouter, args, event, expect_message, invocation};
use wampkit::wire::{Message, Serializer};
use wampkit::{Invocation, ReconnectPolicy, Session, session::SessionState};

#[tokio::test]
async fn handles_report_the_router_ids_of_the_restored_session() {
    bounded("ids after reconnect", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1001).await;
            peer.accept_register(11).await;
            peer.accept_subscribe(21).await;
            peer.accept_subscribe(31).await;
            peer.close();
            dropped_tx.send(()).unwrap();

            // The new session gets new ids, told apart by topic and procedure.
            let mut peer = router.accept().await;
            peer.welcome(2002).await;
            for _ in 0..3 {
                match peer.expect_message().await {
                    Message::Register { request, .. } => {
                        peer.send(Message::Registered {
                            request,
                            registration: 12,
                        })
                        .await;
                    }
                    Message::Subscribe { request, topic, .. } => {
                        let subscription = if topic == "com.example.news" { 22 } else { 32 };
                        peer.send(Message::Subscribed {
                            request,
                            subscription,
                        })
                        .await;
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            // Traffic on the new ids shows the client has taken them in.
            peer.send(invocation(5, 12, args(("hi",)))).await;
            expect_message!(peer, Message::Yield { request: 5, .. } => ());
            peer.send(event(22, 900, args((1,)))).await;
            peer.send(event(32, 901, args((2,)))).await;
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .reconnect(
                ReconnectPolicy::default()
                    .initial_delay(Duration::from_millis(50))
                    .jitter(0.0),
            )
            .connect()
            .await
            .unwrap();
        let registration = session
            .register("com.example.echo", |inv: Invocation| async move {
                Ok(inv.arguments())
            })
            .await
            .unwrap();
        let mut news = session.subscribe("com.example.news").await.unwrap();
        let (handled_tx, mut handled_rx) = tokio::sync::mpsc::unbounded_channel();
        let ticks = session
            .subscribe("com.example.tick")
            .await
            .unwrap()
            .handle(move |event| {
                let handled_tx = handled_tx.clone();
                async move {
                    let _ = handled_tx.send(event.subscription);
                }
            });
        assert_eq!(
            (registration.id(), news.id(), ticks.id()),
            (11, 21, 31),
            "the first session's ids"
        );

        dropped_rx.await.unwrap();
        let mut states = session.states();
        while states.next().await != Some(SessionState::Joined { session: 2002 }) {}
        let event = news
            .next()
            .await
            .expect("the restored subscription delivers");
        assert_eq!(event.subscription, 22);
        assert_eq!(handled_rx.recv().await, Some(32));

        assert_eq!(
            (registration.id(), news.id(), ticks.id()),
            (12, 22, 32),
            "the restored session's ids"
        );
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}
