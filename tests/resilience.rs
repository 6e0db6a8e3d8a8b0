//! Fault tests against the router under test: it is killed (Crossbar.io with SIGKILL, the
//! embedded router by dropping its runtime) while calls and events flow, then restarted on the
//! same ports. Every pending call must resolve with an error, every session must rejoin,
//! registrations and subscriptions must come back, traffic must resume, and nothing may be left
//! behind in the session tables.
//!
//! `WAMP_SOAK_CYCLES` sets the number of kill/restart cycles (default 20).
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use testkit::TestRouter;
use testkit::e2e::eventually;
use wampkit::{
    Arguments, Error, Invocation, ReconnectPolicy, Serializer, Session, session::SessionState,
};

const LIMIT: Duration = Duration::from_secs(60);

fn policy() -> ReconnectPolicy {
    ReconnectPolicy::default()
        .initial_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(500))
}

async fn connect(url: &str, serializer: Serializer) -> Session {
    Session::builder(url, "realm1")
        .serializer(serializer)
        .reconnect(policy())
        .join_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("joins realm1")
}

/// How often the polls below retry.
const POLL: Duration = Duration::from_millis(50);

/// Waits until `session` has rejoined after the current loss.
async fn rejoined(session: &Session, old_id: u64) {
    eventually("did not rejoin", LIMIT, POLL, || async move {
        match session.state() {
            SessionState::Joined { session: id } if id != old_id => Ok(()),
            state => Err(format!("{state:?}")),
        }
    })
    .await;
}

/// Calls until one succeeds (the callee's registration may still be on its way back).
async fn call_works(caller: &Session, n: i64) {
    let result = eventually("calls do not resume", LIMIT, POLL, || {
        caller.call("com.res.double", (n,)).into_future()
    })
    .await;
    assert_eq!(result.arg::<i64>(0).unwrap(), n * 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_router_kills() {
    let cycles: u32 = std::env::var("WAMP_SOAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let mut router = tokio::task::block_in_place(TestRouter::start).expect("the router starts");
    let url = router.ws_url();

    let callee = connect(&url, Serializer::MsgPack).await;
    let subscriber = connect(&url, Serializer::Cbor).await;
    let caller = connect(&url, Serializer::Json).await;
    let _double = callee
        .register("com.res.double", |inv: Invocation| async move {
            let n: i64 = inv.arg(0)?;
            Ok(Arguments::single(n * 2)?)
        })
        .await
        .unwrap();
    let received = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&received);
    let _ticks = subscriber
        .subscribe("com.res.tick")
        .await
        .unwrap()
        .handle(move |_event| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });

    // Background traffic: a call every few milliseconds; every one must resolve.
    let resolved = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let traffic = {
        let caller = caller.clone();
        let (resolved, failed) = (Arc::clone(&resolved), Arc::clone(&failed));
        tokio::spawn(async move {
            let mut n = 0i64;
            loop {
                n += 1;
                let outcome =
                    tokio::time::timeout(LIMIT, caller.call("com.res.double", (n,))).await;
                match outcome {
                    Ok(Ok(_)) => {}
                    Ok(Err(Error::SessionClosed(_))) => return,
                    Ok(Err(_)) => {
                        failed.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => panic!("a call hung across a router kill"),
                }
                resolved.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    for cycle in 1..=cycles {
        // Traffic flows: a call and an event.
        call_works(&caller, i64::from(cycle)).await;
        let before = received.load(Ordering::SeqCst);
        let (publisher, ticks) = (&caller, &received);
        eventually(
            &format!("cycle {cycle}: events do not flow"),
            LIMIT,
            POLL,
            || async move {
                if ticks.load(Ordering::SeqCst) != before {
                    return Ok(());
                }
                let _ = publisher
                    .publish("com.res.tick", (cycle,))
                    .acknowledge()
                    .await;
                Err("no event since the last cycle")
            },
        )
        .await;

        let ids = [callee.id(), subscriber.id(), caller.id()];
        tokio::task::block_in_place(|| router.kill_router()).expect("kill -9");
        tokio::time::sleep(Duration::from_millis(200)).await;
        tokio::task::block_in_place(|| router.restart()).expect("restart");
        for (session, old) in [&callee, &subscriber, &caller].into_iter().zip(ids) {
            tokio::time::timeout(LIMIT, rejoined(session, old))
                .await
                .unwrap_or_else(|_| panic!("cycle {cycle}: a session did not rejoin"));
        }
        eprintln!(
            "cycle {cycle}/{cycles}: rejoined; {} calls resolved so far ({} failed during outages)",
            resolved.load(Ordering::SeqCst),
            failed.load(Ordering::SeqCst)
        );
    }

    // After the last cycle: traffic resumes and the tables hold only what is live.
    call_works(&caller, 1000).await;
    traffic.abort();
    let _ = traffic.await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let caller_tables = caller.diagnostics().await.unwrap();
    assert_eq!(caller_tables.pending_calls, 0, "{caller_tables:?}");
    let callee_tables = callee.diagnostics().await.unwrap();
    assert_eq!(callee_tables.registrations, 1, "{callee_tables:?}");
    assert_eq!(callee_tables.running_invocations, 0, "{callee_tables:?}");
    let subscriber_tables = subscriber.diagnostics().await.unwrap();
    assert_eq!(subscriber_tables.subscriptions, 1, "{subscriber_tables:?}");
    eprintln!(
        "survived {cycles} router kills; {} calls resolved ({} failed during outages), {} events received",
        resolved.load(Ordering::SeqCst),
        failed.load(Ordering::SeqCst),
        received.load(Ordering::SeqCst)
    );
    for session in [callee, subscriber, caller] {
        let _ = session.leave().await;
    }
    tokio::task::block_in_place(move || drop(router));
}

/// A service whose registration must outlive a stalled router.
#[wampkit::service(prefix = "com.res.frozen")]
trait Frozen {
    /// `n + 1`.
    async fn next(&self, n: i64) -> i64;
}

struct FrozenImpl;

impl Frozen for FrozenImpl {
    async fn next(&self, n: i64) -> i64 {
        n + 1
    }
}

/// The router stalls (SIGSTOP for 8 s) under a `#[service]` callee with a 1 s / 3 s keepalive.
/// The clients give the connection up and reconnect while the router is frozen; once it resumes
/// it may take their new HELLOs before it notices the old sessions are gone, and then refuses
/// the callee's restoring REGISTER with `procedure_already_exists` (the stale session holds the
/// procedure). The refusal must be retried, not taken as final: calls resume, the service is not
/// revoked and the callee holds its registration again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_survives_a_frozen_router() {
    if testkit::skip_on_embedded("freezing the router is SIGSTOP to Crossbar.io's process group") {
        return;
    }
    let mut router = tokio::task::block_in_place(TestRouter::start).expect("the router starts");
    let url = router.ws_url();
    let connect = |serializer| {
        Session::builder(&url, "realm1")
            .serializer(serializer)
            .reconnect(policy())
            .keepalive(Duration::from_secs(1), Duration::from_secs(3))
            .join_timeout(Duration::from_secs(2))
            .connect()
    };
    let callee = connect(Serializer::MsgPack).await.expect("callee joins");
    let caller = connect(Serializer::Json).await.expect("caller joins");
    let service = FrozenService::register(&callee, FrozenImpl)
        .await
        .expect("registers");
    let client = FrozenClient::new(&caller);
    assert_eq!(client.next(1).await.unwrap(), 2);

    tokio::task::block_in_place(|| router.freeze_router()).expect("freezes the router");
    tokio::time::sleep(Duration::from_secs(8)).await;
    tokio::task::block_in_place(|| router.thaw_router()).expect("thaws the router");

    let next = eventually("calls do not resume", LIMIT, POLL, || client.next(41)).await;
    assert_eq!(next, 42);
    assert_eq!(service.revoked(), None);
    let diagnostics = callee.diagnostics().await.unwrap();
    assert_eq!(
        (diagnostics.registrations, diagnostics.restore_retries),
        (1, 0)
    );
    drop(service);
    callee.leave().await.unwrap();
    caller.leave().await.unwrap();
}
