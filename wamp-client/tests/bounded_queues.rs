//! Every queue a router (or a careless loop) could grow has a bound, and what happens beyond it is
//! the documented outcome: progressive results fail the call and cancel it, progressive input
//! stops the invocation, invocations beyond the limit are answered "busy", and requests beyond
//! the command queue wait for room (or fail when they cannot wait) while control commands always
//! go through.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::{Future, IntoFuture as _};
use std::task::Poll;
use std::time::Duration;

use futures_util::StreamExt as _;
use wamp_testkit::bounded;
use wamp_testkit::scripted_router::{
    ScriptedRouter, args, dict, error, expect_message, invocation, result, welcome_details,
};
use wampkit::wire::{Message, Payload, code};
use wampkit::{Arguments, Dict, Error, Invocation, Serializer, Session, Value};

/// WELCOME details of a dealer that supports progressive results and invocations (and canceling).
fn progressive_welcome() -> Dict {
    let mut details = welcome_details();
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

fn progress_details() -> Dict {
    dict([("progress", Value::Bool(true))])
}

// ===== progressive results

#[tokio::test]
async fn progressive_results_beyond_the_buffer_fail_the_call_and_cancel_it() {
    bounded("progressive results", async {
        const SENT: usize = 3000;
        let limit = wampkit::session::DEFAULT_MAX_PROGRESS_BUFFER;
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome_with(1, progressive_welcome()).await;
            let call = peer.expect_call().await;
            for i in 0..SENT {
                peer.send(Message::Result {
                    request: call.request,
                    details: progress_details(),
                    payload: Payload::new(args((i,)), Dict::new()),
                })
                .await;
            }
            // The client gives up on the call: CANCEL, killnowait (the dealer answers at once).
            // Its other call may come before or after.
            let mut canceled = false;
            for _ in 0..2 {
                match peer.expect_message().await {
                    Message::Cancel { request, options } => {
                        assert_eq!(request, call.request);
                        assert_eq!(options.get("mode"), Some(&Value::from("killnowait")));
                        peer.send(error(code::CALL, request, "wamp.error.canceled", vec![]))
                            .await;
                        canceled = true;
                    }
                    Message::Call { request, .. } => {
                        // The session carries on.
                        peer.send(result(request, args(("still here",)))).await;
                    }
                    other => panic!("expected CANCEL and CALL, got {other:?}"),
                }
            }
            assert!(canceled);
            peer.expect_leave().await;
        });

        let session = Session::connect(&url, "realm1").await.unwrap();
        let mut stream = session.call("com.example.flood", ()).into_stream();
        // Nobody reads the stream until the router has flooded it and the call was canceled.
        let answer: String = session
            .call("com.example.other", ())
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(answer, "still here");
        for i in 0..limit {
            let result = stream.next().await.unwrap().unwrap();
            assert!(result.is_progress());
            assert_eq!(result.arg::<usize>(0).unwrap(), i, "buffered in order");
        }
        match stream.next().await {
            Some(Err(Error::ProgressOverflow { limit: reported })) => assert_eq!(reported, limit),
            other => panic!("expected ProgressOverflow after the buffer, got {other:?}"),
        }
        assert!(
            stream.next().await.is_none(),
            "the stream ends after the error"
        );
        assert_eq!(session.diagnostics().await.unwrap().pending_calls, 0);
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_call_sets_its_own_progress_buffer() {
    bounded("per-call progress buffer", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome_with(1, progressive_welcome()).await;
            let call = peer.expect_call().await;
            for i in 0..4 {
                peer.send(Message::Result {
                    request: call.request,
                    details: progress_details(),
                    payload: Payload::new(args((i,)), Dict::new()),
                })
                .await;
            }
            expect_message!(peer, Message::Cancel { request, .. } if request == call.request);
            peer.expect_leave().await;
        });

        let session = Session::connect(&url, "realm1").await.unwrap();
        let mut stream = session
            .call("com.example.flood", ())
            .progress_buffer(3)
            .into_stream();
        let mut got = Vec::new();
        while let Some(item) = stream.next().await {
            got.push(item.map(|r| r.arg::<u32>(0).unwrap()));
        }
        assert!(
            matches!(
                got.as_slice(),
                [
                    Ok(0),
                    Ok(1),
                    Ok(2),
                    Err(Error::ProgressOverflow { limit: 3 })
                ]
            ),
            "{got:?}"
        );
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

// ===== progressive invocation input

#[tokio::test]
async fn input_chunks_beyond_the_buffer_stop_the_invocation() {
    bounded("progressive input", async {
        const BUFFER: usize = 4;
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_register(5).await;
            // The first chunk starts the handler; it never reads the rest.
            for _ in 0..BUFFER + 10 {
                peer.send(Message::Invocation {
                    request: 1,
                    registration: 5,
                    details: progress_details(),
                    payload: Payload::new(args(("chunk",)), Dict::new()),
                })
                .await;
            }
            let (error, payload) = expect_message!(
                peer,
                Message::Error { request_type: code::INVOCATION, request: 1, error, payload, .. }
                    => (error, payload)
            );
            assert_eq!(error, "wamp.error.runtime_error");
            let (error_args, _) = payload.into_parts();
            let message = error_args[0].as_str().unwrap().to_owned();
            assert!(message.contains("4 input chunks behind"), "{message}");
            // Later chunks of the stopped invocation are dropped, not answered again.
            peer.send(Message::Invocation {
                request: 1,
                registration: 5,
                details: Dict::new(),
                payload: Payload::new(args(("last",)), Dict::new()),
            })
            .await;
            peer.expect_silence(Duration::from_millis(200)).await;
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .max_progress_buffer(BUFFER)
            .connect()
            .await
            .unwrap();
        let _registration = session
            .register("com.example.upload", |mut inv: Invocation| async move {
                let _input = inv.take_input();
                std::future::pending::<()>().await;
                Ok(Arguments::new())
            })
            .await
            .unwrap();
        // Wait for the script's silence, then check the handler is gone.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(session.diagnostics().await.unwrap().running_invocations, 0);
        tokio::time::sleep(Duration::from_millis(150)).await;
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

// ===== running invocations

#[tokio::test]
async fn invocations_beyond_the_limit_are_answered_busy_at_once() {
    bounded("concurrent invocations", async {
        const LIMIT: usize = 4;
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_register(5).await;
            for request in 1..=LIMIT as u64 + 3 {
                peer.send(invocation(request, 5, args((request,)))).await;
            }
            // The excess is refused at once, the running ones are left alone.
            for expected in LIMIT as u64 + 1..=LIMIT as u64 + 3 {
                let (request, error, payload) = expect_message!(
                    peer,
                    Message::Error { request_type: code::INVOCATION, request, error, payload, .. }
                        => (request, error, payload)
                );
                assert_eq!(request, expected);
                assert_eq!(error, "wamp.error.unavailable");
                let (error_args, _) = payload.into_parts();
                assert_eq!(
                    error_args[0].as_str().unwrap(),
                    "callee busy: 4 invocations running (SessionBuilder::max_concurrent_invocations)"
                );
            }
            peer.expect_silence(Duration::from_millis(100)).await;
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .max_concurrent_invocations(LIMIT)
            .connect()
            .await
            .unwrap();
        let _registration = session
            .register("com.example.slow", |_inv: Invocation| async move {
                std::future::pending::<()>().await;
                Ok(Arguments::new())
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            session.diagnostics().await.unwrap().running_invocations,
            LIMIT
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_finished_invocation_makes_room_for_the_next() {
    bounded("invocation slots", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_register(5).await;
            for request in 1..=3 {
                peer.send(invocation(request, 5, args((request,)))).await;
                let answered = expect_message!(peer, Message::Yield { request, .. } => request);
                assert_eq!(answered, request);
            }
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .max_concurrent_invocations(1)
            .connect()
            .await
            .unwrap();
        let _registration = session
            .register("com.example.quick", |inv: Invocation| async move {
                let (n,): (u64,) = inv.args()?;
                Ok(Arguments::single(n)?)
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

// ===== the command queue

/// Polls a future once, without letting other tasks (the session task) run.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let waker = futures_util::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    std::pin::Pin::new(future).poll(&mut cx)
}

#[tokio::test(flavor = "current_thread")]
async fn a_publishing_loop_waits_for_room_and_control_commands_still_go_through() {
    bounded("command queue", async {
        const QUEUE: usize = 16;
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            peer.accept_subscribe(9).await;
            // In order: what was queued, the unsubscribe sent on drop, then what waited for room.
            for i in 0..QUEUE as u64 {
                let (args, _) = expect_message!(
                    peer, Message::Publish { payload, .. } => payload.into_parts()
                );
                assert_eq!(args, wamp_testkit::scripted_router::args((i,)));
            }
            expect_message!(
                peer,
                Message::Unsubscribe {
                    subscription: 9,
                    ..
                }
            );
            for i in QUEUE as u64..QUEUE as u64 + 5 {
                let (args, _) = expect_message!(
                    peer, Message::Publish { payload, .. } => payload.into_parts()
                );
                assert_eq!(args, wamp_testkit::scripted_router::args((i,)));
            }
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .max_queued_commands(QUEUE)
            .connect()
            .await
            .unwrap();
        let subscription = session.subscribe("com.example.topic").await.unwrap();
        // Without yielding to the session task: the queue fills up, then publishing waits.
        for i in 0..QUEUE as u64 {
            let mut publish = session.publish("com.example.topic", (i,)).into_future();
            assert!(
                matches!(poll_once(&mut publish), Poll::Ready(Ok(()))),
                "publication {i} fits the queue"
            );
        }
        let mut waiting = session
            .publish("com.example.topic", (QUEUE as u64,))
            .into_future();
        assert!(
            poll_once(&mut waiting).is_pending(),
            "a publication beyond the queue waits for room"
        );
        // A control command sent from Drop is not held back (nor lost).
        drop(subscription);
        waiting.await.unwrap();
        for i in QUEUE as u64 + 1..QUEUE as u64 + 5 {
            session.publish("com.example.topic", (i,)).await.unwrap();
        }
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn calls_beyond_the_queue_are_sent_after_it_and_dropping_one_sends_nothing() {
    bounded("queued calls", async {
        const QUEUE: usize = 8;
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            let mut calls = Vec::new();
            for _ in 0..QUEUE + 1 {
                let call = peer.expect_call().await;
                calls.push(call.args[0].as_u64().unwrap());
                peer.send(result(call.request, call.args)).await;
            }
            // The queued call that was dropped never went out: only the queue's 8 and call 9.
            assert_eq!(
                calls,
                (0..QUEUE as u64)
                    .chain([QUEUE as u64 + 1])
                    .collect::<Vec<_>>()
            );
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .max_queued_commands(QUEUE)
            .connect()
            .await
            .unwrap();
        let sent: Vec<_> = (0..QUEUE as u64)
            .map(|i| session.call("com.example.echo", (i,)).into_future())
            .collect();
        let dropped = session
            .call("com.example.echo", (QUEUE as u64,))
            .into_future();
        let mut queued = session
            .call("com.example.echo", (QUEUE as u64 + 1,))
            .into_future();
        assert!(poll_once(&mut queued).is_pending());
        drop(dropped);
        for (i, call) in sent.into_iter().enumerate() {
            assert_eq!(call.await.unwrap().arg::<usize>(0).unwrap(), i);
        }
        assert_eq!(queued.await.unwrap().arg::<usize>(0).unwrap(), QUEUE + 1);
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_waiting_call_goes_out_unpolled_and_dropping_it_then_cancels_it() {
    bounded("waiting call taken in", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            let first = peer.expect_call().await;
            let waiting = peer.expect_call().await;
            assert_eq!(waiting.args, args((1,)));
            // Its future was dropped once the call had gone out: CANCEL follows.
            expect_message!(peer, Message::Cancel { request, .. } if request == waiting.request);
            peer.send(error(
                code::CALL,
                waiting.request,
                "wamp.error.canceled",
                vec![],
            ))
            .await;
            peer.send(result(first.request, first.args)).await;
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .max_queued_commands(1)
            .connect()
            .await
            .unwrap();
        let first = session.call("com.example.echo", (0,)).into_future();
        let waiting = session.call("com.example.echo", (1,)).into_future();
        // Never polled: the session task takes it in after the queue all the same.
        while session.diagnostics().await.unwrap().pending_calls < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(waiting);
        assert_eq!(first.await.unwrap().arg::<u64>(0).unwrap(), 0);
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn requests_waiting_for_room_fail_when_the_session_closes() {
    bounded("waiting requests at close", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(1).await;
            // Never answered: the session leaves with the call pending. What waited for room
            // behind the LEAVE is never sent.
            peer.expect_call().await;
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .max_queued_commands(1)
            .connect()
            .await
            .unwrap();
        let pending = session.call("com.example.never", ()).into_future();
        let mut call = session.call("com.example.echo", ()).into_future();
        let mut subscribe = session.subscribe("com.example.topic").into_future();
        assert!(poll_once(&mut call).is_pending());
        assert!(poll_once(&mut subscribe).is_pending());
        session.leave().await.unwrap();
        for outcome in [
            pending.await.map(drop),
            call.await.map(drop),
            subscribe.await.map(drop),
        ] {
            assert!(
                matches!(outcome, Err(Error::SessionClosed(_))),
                "{outcome:?}"
            );
        }
        script.await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn input_chunks_that_cannot_wait_fail_with_queue_full() {
    bounded("input chunks", async {
        const QUEUE: usize = 4;
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome_with(1, progressive_welcome()).await;
            let call = peer.expect_call().await;
            // The call took one slot; three chunks fit, then the last chunk from finish().
            let mut chunks = 0;
            loop {
                let options = expect_message!(
                    peer, Message::Call { request, options, .. } if request == call.request => options
                );
                chunks += 1;
                if !options.contains_key("progress") {
                    break;
                }
            }
            assert_eq!(chunks, QUEUE);
            peer.send(result(call.request, args(("done",)))).await;
            peer.expect_leave().await;
        });

        let session = Session::builder(&url, "realm1")
            .max_queued_commands(QUEUE)
            .connect()
            .await
            .unwrap();
        let (mut input, mut output) = session
            .call("com.example.upload", ("first",))
            .into_duplex()
            .unwrap();
        for i in 0..QUEUE - 1 {
            input.send((i,)).unwrap();
        }
        match input.send(("too many",)) {
            Err(Error::QueueFull { limit }) => assert_eq!(limit, QUEUE),
            other => panic!("expected QueueFull, got {other:?}"),
        }
        // The last chunk is never refused.
        input.finish(("last",)).unwrap();
        let last = output.next().await.unwrap().unwrap();
        assert_eq!(last.arg::<String>(0).unwrap(), "done");
        session.leave().await.unwrap();
        script.await.unwrap();
    })
    .await;
}

#[test]
fn request_futures_stay_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<wampkit::rpc::CallFuture>();
    send_sync::<wampkit::rpc::CallStream>();
    send_sync::<wampkit::pubsub::PublishFuture>();
    send_sync::<wampkit::pubsub::PlainPublishFuture>();
    send_sync::<wampkit::pubsub::SubscribeFuture>();
    send_sync::<wampkit::rpc::RegisterFuture>();
}
