//! The callee side, and progressive call invocations: handlers, errors, panics, interrupts,
//! input chunks, registration revocation.

use super::*;

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
            .register("com.example.sum", |mut inv: wampkit::Invocation| async move {
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
                Ok(wampkit::Arguments::single(sum)?)
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
            .register("com.example.revoked", |_inv: wampkit::Invocation| async {
                Ok(wampkit::Arguments::new())
            })
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
