//! Advanced-profile RPC against the router under test: cancellation in every mode (with the
//! callee's cancellation signal and no leaks afterwards), progressive results, shared
//! registrations, client- and router-side timeouts, caller identification, and progressive
//! invocations: refused clearly where the router lacks them (Crossbar.io), streamed where it has
//! them (the embedded router).
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use testkit::RouterKind;
use testkit::e2e::{self, within};
use tokio::sync::mpsc;
use wampkit::{
    Arguments, Error, ErrorUri, Invocation, Serializer, Session, WampError, rpc::CancelMode,
    rpc::InvokePolicy,
};

async fn connect(serializer: Serializer) -> Session {
    e2e::join(
        Session::builder(e2e::router_url(), "realm1")
            .serializer(serializer)
            .interrupt_grace(Duration::from_millis(500)),
    )
    .await
}

/// Polls `diagnostics` until `done` holds, so that tables are checked after the router's last
/// answer has been processed.
async fn eventually(
    session: &Session,
    what: &str,
    done: impl Fn(&wampkit::session::Diagnostics) -> bool,
) {
    let done = &done;
    e2e::eventually(
        what,
        Duration::from_secs(10),
        Duration::from_millis(20),
        move || async move {
            let diagnostics = session.diagnostics().await.unwrap();
            if done(&diagnostics) {
                Ok(())
            } else {
                Err(format!("{diagnostics:?}"))
            }
        },
    )
    .await;
}

/// What the slow callee reports.
#[derive(Debug, PartialEq)]
enum Seen {
    Started,
    Cancelled,
}

/// Registers a procedure that reports its start, then waits (up to 10 s) for cancellation.
async fn slow_callee(
    session: &Session,
    uri: &str,
) -> (wampkit::Registration, mpsc::UnboundedReceiver<Seen>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let registration = within(
        "register slow",
        session.register(uri, move |inv: Invocation| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Seen::Started);
                tokio::select! {
                    () = inv.canceled() => {
                        let _ = tx.send(Seen::Cancelled);
                        Err(WampError::with_message(ErrorUri::Canceled, "stopped on request"))
                    }
                    () = tokio::time::sleep(Duration::from_secs(10)) => Ok(Arguments::single("finished")?),
                }
            }
        }),
    )
    .await
    .unwrap();
    (registration, rx)
}

async fn cancel_in_every_mode(serializer: Serializer) {
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    for mode in [CancelMode::Kill, CancelMode::KillNoWait, CancelMode::Skip] {
        let uri = format!("com.adv.{serializer}.slow.{}", mode.as_str());
        let (_registration, mut seen) = slow_callee(&callee, &uri).await;
        let call = caller.call(&uri, ()).into_future();
        let handle = call.cancel_handle();
        let pending = tokio::spawn(call);
        assert_eq!(within("started", seen.recv()).await, Some(Seen::Started));
        handle.cancel(mode);
        let result = within("canceled call", pending).await.unwrap();
        let err = result.unwrap_err();
        assert_eq!(err.uri(), Some(&ErrorUri::Canceled), "{mode:?}: {err:?}");
        if mode == CancelMode::Skip {
            // Skip does not interrupt the callee.
            let nothing = tokio::time::timeout(Duration::from_millis(300), seen.recv()).await;
            assert!(
                nothing.is_err(),
                "skip must not interrupt the callee: {nothing:?}"
            );
        } else {
            assert_eq!(
                within("cancellation seen", seen.recv()).await,
                Some(Seen::Cancelled),
                "{mode:?}: the callee's cancellation signal fires"
            );
            eventually(&callee, "the interrupted invocation is gone", |d| {
                d.running_invocations == 0
            })
            .await;
        }
        eventually(&caller, "no pending call is left", |d| {
            d.pending_calls == 0 && d.pending_requests == 0
        })
        .await;
    }
}

async fn dropping_a_call_cancels_it(serializer: Serializer) {
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let uri = format!("com.adv.{serializer}.dropped");
    let (_registration, mut seen) = slow_callee(&callee, &uri).await;
    let call = caller.call(&uri, ()).into_future();
    let pending = tokio::spawn(call);
    assert_eq!(within("started", seen.recv()).await, Some(Seen::Started));
    pending.abort();
    assert_eq!(
        within("cancellation seen", seen.recv()).await,
        Some(Seen::Cancelled),
        "dropping the future cancels the call (killnowait by default)"
    );
    eventually(&caller, "no pending call is left", |d| d.pending_calls == 0).await;
    eventually(&callee, "no invocation is left", |d| {
        d.running_invocations == 0
    })
    .await;
}

async fn ignored_interrupt_aborts_the_handler(serializer: Serializer) {
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let uri = format!("com.adv.{serializer}.stubborn");
    let finished = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&finished);
    let _registration = within(
        "register",
        callee.register(&uri, move |_inv: Invocation| {
            let counter = Arc::clone(&counter);
            async move {
                // Ignores cancellation entirely.
                tokio::time::sleep(Duration::from_secs(3)).await;
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(Arguments::new())
            }
        }),
    )
    .await
    .unwrap();
    let call = caller.call(&uri, ()).into_future();
    let handle = call.cancel_handle();
    let pending = tokio::spawn(call);
    eventually(&callee, "the invocation runs", |d| {
        d.running_invocations == 1
    })
    .await;
    handle.cancel(CancelMode::Kill);
    let err = within("kill", pending).await.unwrap().unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::Canceled), "{err:?}");
    eventually(
        &callee,
        "the handler is aborted after the grace period",
        |d| d.running_invocations == 0,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the aborted handler never finished"
    );
}

async fn thousand_progressive_results_in_order(serializer: Serializer) {
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let uri = format!("com.adv.{serializer}.count");
    let _registration = within(
        "register",
        callee.register(&uri, |inv: Invocation| async move {
            let n: u32 = inv.arg(0)?;
            // Progress goes out only when the caller asked for it.
            if let Some(progress) = inv.progress() {
                for i in 0..n {
                    progress.send_value(i).map_err(|e| {
                        WampError::with_message(ErrorUri::RuntimeError, e.to_string())
                    })?;
                }
            }
            Ok(Arguments::single("done")?)
        }),
    )
    .await
    .unwrap();
    let mut results = caller.call(&uri, (1000,)).into_stream();
    let mut progress = Vec::new();
    let mut last = None;
    while let Some(result) = within("next result", results.next()).await {
        let result = result.unwrap();
        if result.is_progress() {
            progress.push(result.arg::<u32>(0).unwrap());
        } else {
            last = Some(result.arg::<String>(0).unwrap());
        }
    }
    assert_eq!(
        progress,
        (0..1000).collect::<Vec<_>>(),
        "every progressive result, in order"
    );
    assert_eq!(last.as_deref(), Some("done"));

    // An ordinary call does not ask for progress, and sees only the final result.
    let single: String = within("plain call", caller.call(&uri, (5,)))
        .await
        .unwrap()
        .arg(0)
        .unwrap();
    assert_eq!(single, "done");
}

async fn roundrobin_spreads_calls_over_three_callees(serializer: Serializer) {
    let uri = format!("com.adv.{serializer}.shared");
    let mut callees = Vec::new();
    let mut registrations = Vec::new();
    for index in 0..3u32 {
        let session = connect(serializer).await;
        registrations.push(
            within(
                "register shared",
                session
                    .register(&uri, move |_inv: Invocation| async move {
                        Ok(Arguments::single(index)?)
                    })
                    .invoke(InvokePolicy::RoundRobin),
            )
            .await
            .unwrap(),
        );
        callees.push(session);
    }
    let caller = connect(serializer).await;
    let mut counts = [0u32; 3];
    for _ in 0..9 {
        let index: usize = within("call", caller.call(&uri, ()))
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        counts[index] += 1;
    }
    assert_eq!(
        counts,
        [3, 3, 3],
        "roundrobin gives each callee every third call"
    );

    // A callee with another policy is refused.
    let other = connect(serializer).await;
    let err = within(
        "register single",
        other.register(&uri, |_inv: Invocation| async { Ok(Arguments::new()) }),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.uri(),
        Some(&ErrorUri::ProcedureExistsWithDifferentInvocationPolicy)
    );
}

async fn client_deadline_cancels(serializer: Serializer) {
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let uri = format!("com.adv.{serializer}.deadline");
    let (_registration, mut seen) = slow_callee(&callee, &uri).await;
    let started = Instant::now();
    let err = within(
        "call with deadline",
        caller.call(&uri, ()).timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(within("started", seen.recv()).await, Some(Seen::Started));
    assert_eq!(
        within("cancelled", seen.recv()).await,
        Some(Seen::Cancelled)
    );
    eventually(&caller, "no pending call is left", |d| d.pending_calls == 0).await;
}

async fn router_timeout_in_the_routers_unit(serializer: Serializer) {
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let uri = format!("com.adv.{serializer}.router_timeout");
    let (_registration, mut seen) = slow_callee(&callee, &uri).await;
    let started = Instant::now();
    // Crossbar reads the option in seconds; sent as milliseconds it would be 1000 s.
    let err = within(
        "call with router timeout",
        caller
            .call(&uri, ())
            .router_timeout(Duration::from_millis(1000)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::Timeout), "{err:?}");
    let elapsed = started.elapsed();
    // Crossbar checks timeouts on a one-second tick, so the error comes within about 2 s; had the
    // value been read as 1000 seconds, it would not come at all.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(within("started", seen.recv()).await, Some(Seen::Started));
    assert_eq!(
        within("interrupted", seen.recv()).await,
        Some(Seen::Cancelled),
        "the dealer interrupts the callee"
    );
}

async fn caller_is_identified(serializer: Serializer) {
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let uri = format!("com.adv.{serializer}.whoami");
    let _registration = within(
        "register",
        callee
            .register(&uri, |inv: Invocation| async move {
                Ok(Arguments::positional((
                    inv.caller(),
                    inv.caller_authrole().map(str::to_owned),
                ))?)
            })
            .disclose_caller(),
    )
    .await
    .unwrap();
    let (id, role): (Option<u64>, Option<String>) =
        within("call", caller.call(&uri, ()).disclose_me())
            .await
            .unwrap()
            .args()
            .unwrap();
    assert_eq!(id, Some(caller.id()));
    assert_eq!(role.as_deref(), Some("anonymous"));
}

testkit::per_serializer!(
    cancel_in_every_mode,
    dropping_a_call_cancels_it,
    ignored_interrupt_aborts_the_handler,
    thousand_progressive_results_in_order,
    roundrobin_spreads_calls_over_three_callees,
    client_deadline_cancels,
    router_timeout_in_the_routers_unit,
    caller_is_identified,
);

/// Crossbar.io does not support progressive call invocations, and the call says so before
/// sending anything; the embedded router supports them, and the input reaches the callee.
#[tokio::test]
async fn progressive_invocations_where_the_router_has_them_or_not() {
    match e2e::router().kind() {
        RouterKind::Crossbar => progressive_invocations_are_refused().await,
        RouterKind::Embedded => progressive_invocations_stream_the_input().await,
    }
}

async fn progressive_invocations_are_refused() {
    let session = connect(Serializer::Json).await;
    assert!(
        !session
            .details()
            .router_supports("dealer", "progressive_call_invocations")
    );
    let err = session
        .call("com.adv.duplex", (1,))
        .into_duplex()
        .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::FeatureNotSupported), "{err:?}");
    assert!(
        err.to_string().contains("progressive_call_invocations"),
        "{err}"
    );
}

async fn progressive_invocations_stream_the_input() {
    let callee = connect(Serializer::MsgPack).await;
    let caller = connect(Serializer::Json).await;
    assert!(
        caller
            .details()
            .router_supports("dealer", "progressive_call_invocations")
    );
    let _sum = within(
        "register the summing callee",
        callee.register("com.adv.duplex", |mut inv: Invocation| async move {
            let mut sum: i64 = inv.arg(0)?;
            if let Some(mut input) = inv.take_input() {
                while let Some(chunk) = input.next().await {
                    sum += chunk
                        .args
                        .first()
                        .and_then(wampkit::Value::as_i64)
                        .unwrap_or(0);
                }
            }
            Ok(Arguments::single(sum)?)
        }),
    )
    .await
    .unwrap();
    let (mut input, mut results) = caller.call("com.adv.duplex", (1,)).into_duplex().unwrap();
    input.send((2,)).unwrap();
    input.finish((3,)).unwrap();
    let result = within("the final result", results.next())
        .await
        .expect("a result")
        .unwrap();
    assert_eq!(result.arg::<i64>(0).unwrap(), 6);
}

/// A prefix registration may end with a dot, as Autobahn|Python allows and Crossbar.io accepts:
/// `com.adv.prefix_dot.` answers `com.adv.prefix_dot.y`.
#[tokio::test]
async fn prefix_registration_ending_with_a_dot() {
    let callee = connect(Serializer::Json).await;
    let caller = connect(Serializer::Json).await;
    let _registration = within(
        "register a prefix ending with a dot",
        callee
            .register("com.adv.prefix_dot.", |inv: Invocation| async move {
                Ok(Arguments::single(inv.procedure)?)
            })
            .match_policy(wampkit::MatchPolicy::Prefix),
    )
    .await
    .expect("a prefix pattern ending with a dot is accepted");
    let called: String = within(
        "call under the prefix",
        caller.call("com.adv.prefix_dot.y", ()),
    )
    .await
    .unwrap()
    .arg(0)
    .unwrap();
    assert_eq!(called, "com.adv.prefix_dot.y");
}
