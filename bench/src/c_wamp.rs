//! wampkit, the crate under test.

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use wampkit::{Serializer, Session};

use crate::codec::Ser;
use crate::measure::{Meter, Report, Spec, rss, rss_held};
use crate::workload::*;

fn serializer(ser: Ser) -> Serializer {
    match ser {
        Ser::Json => Serializer::Json,
        Ser::MsgPack => Serializer::MsgPack,
        Ser::Cbor => Serializer::Cbor,
    }
}

pub async fn connect(url: &str, ser: Ser) -> Result<Session, String> {
    Session::builder(url, REALM)
        .serializer(serializer(ser))
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))
}

pub async fn run(url: &str, ser: Ser, workload: Workload, spec: Spec) -> Result<Report, String> {
    if let Workload::IdleSessions(n) = workload {
        return crate::embedded::idle_over_socket(url, ser, n, spec).await;
    }
    let session = connect(url, ser).await?;
    run_on(session, workload, spec).await
}

/// Runs `workload` with a joined session.
pub async fn run_on(session: Session, workload: Workload, spec: Spec) -> Result<Report, String> {
    let mut meter = Meter::new(spec);
    let report = match workload {
        Workload::Seq => {
            let mut i = 0u64;
            loop {
                let t = Instant::now();
                let ok = match session.call(ECHO, (i, "bench")).await {
                    Ok(r) => r.arg::<u64>(0).is_ok(),
                    Err(_) => false,
                };
                if !ok {
                    meter.error();
                }
                if !meter.op(Some(t.elapsed())) {
                    break;
                }
                i += 1;
            }
            meter.report()
        }
        Workload::Pipe(n) => {
            let call = |i: u64| {
                let session = &session;
                async move {
                    let t = Instant::now();
                    let ok = match session.call(ECHO, (i, "bench")).await {
                        Ok(r) => r.arg::<u64>(0).is_ok(),
                        Err(_) => false,
                    };
                    (t, ok)
                }
            };
            let mut pending = FuturesUnordered::new();
            for i in 0..n as u64 {
                pending.push(call(i));
            }
            let mut i = n as u64;
            while let Some((t, ok)) = pending.next().await {
                if !ok {
                    meter.error();
                }
                if !meter.op(Some(t.elapsed())) {
                    break;
                }
                pending.push(call(i));
                i += 1;
            }
            meter.report()
        }
        Workload::Pub(n) => {
            let publish = |i: u64| {
                let session = &session;
                async move {
                    let t = Instant::now();
                    let ok = session
                        .publish(PUB_TOPIC, (i, "bench"))
                        .acknowledge()
                        .await
                        .is_ok();
                    (t, ok)
                }
            };
            let mut pending = FuturesUnordered::new();
            for i in 0..n as u64 {
                pending.push(publish(i));
            }
            let mut i = n as u64;
            while let Some((t, ok)) = pending.next().await {
                if !ok {
                    meter.error();
                }
                if !meter.op(Some(t.elapsed())) {
                    break;
                }
                pending.push(publish(i));
                i += 1;
            }
            meter.report()
        }
        Workload::Events => {
            let mut sub = session
                .subscribe(FLOOD)
                .await
                .map_err(|e| format!("subscribe: {e}"))?;
            meter.restart();
            // No timer in the loop: it would cost the client CPU per event. The orchestrator
            // kills a client that stops receiving.
            while let Some(ev) = sub.next().await {
                if ev.arg::<u64>(0).is_err() {
                    meter.error();
                }
                if !meter.op(None) {
                    break;
                }
            }
            let mut report = meter.report();
            report.dropped = sub.dropped();
            drop(sub);
            report
        }
        Workload::PendingMem(n) => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let before = rss();
            let mut calls = Vec::with_capacity(n);
            let vec_bytes = (n * std::mem::size_of::<wampkit::rpc::CallFuture>()) as f64;
            for i in 0..n as u64 {
                calls.push(session.call(BLACKHOLE, (i, "bench")).into_future());
            }
            // Wait until the session task has taken every call in and sent it. Calls beyond the
            // session's request queue (`max_queued_commands`) wait for room and go out in order
            // without being polled; each is still polled once per round, as an executor would.
            let waker = futures_util::task::noop_waker();
            let mut cx = std::task::Context::from_waker(&waker);
            let t = Instant::now();
            loop {
                for call in &mut calls {
                    let _ = std::future::Future::poll(std::pin::Pin::new(call), &mut cx);
                }
                let d = session.diagnostics().await.map_err(|e| e.to_string())?;
                if d.pending_calls >= n || t.elapsed() > Duration::from_secs(30) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            let after = rss();
            let held = rss_held();
            let d = session.diagnostics().await.map_err(|e| e.to_string())?;
            let mut report = Report {
                items: Some(d.pending_calls as u64),
                bytes_per_item: Some((after as f64 - before as f64) / n as f64),
                note: Some(format!(
                    "{:.0} B after malloc_trim; CallFuture is {} B (held by the caller, in a preallocated Vec: {:.0} B/call \
                     of the delta); pending in session: {}",
                    (held as f64 - before as f64) / n as f64,
                    std::mem::size_of::<wampkit::rpc::CallFuture>(),
                    vec_bytes / n as f64,
                    d.pending_calls
                )),
                ..Report::default()
            };
            if d.pending_calls < n {
                report.errors = (n - d.pending_calls) as u64;
            }
            // Dropping them cancels; let the session exit without waiting on them.
            std::mem::forget(calls);
            report
        }
        Workload::SubMem(n) => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut subs = Vec::with_capacity(n);
            let before = rss();
            let mut pending = FuturesUnordered::new();
            for i in 0..n {
                let session = &session;
                pending.push(async move { session.subscribe(format!("bench.idle.{i}")).await });
                if pending.len() >= 100
                    && let Some(r) = pending.next().await
                {
                    subs.push(r.map_err(|e| e.to_string())?);
                }
            }
            while let Some(r) = pending.next().await {
                subs.push(r.map_err(|e| e.to_string())?);
            }
            drop(pending);
            tokio::time::sleep(Duration::from_millis(200)).await;
            let after = rss();
            let held = rss_held();
            let report = Report {
                items: Some(subs.len() as u64),
                bytes_per_item: Some((after as f64 - before as f64) / n as f64),
                note: Some(format!(
                    "{:.0} B after malloc_trim; Subscription handle is {} B (in a preallocated \
                     Vec)",
                    (held as f64 - before as f64) / n as f64,
                    std::mem::size_of::<wampkit::Subscription>()
                )),
                ..Report::default()
            };
            std::mem::forget(subs);
            report
        }
        Workload::Burst(n) | Workload::BurstCoop(n) => {
            let t = Instant::now();
            let cpu0 = crate::measure::process_cpu();
            let mut pending: FuturesUnordered<_> = (0..n as u64)
                .map(|i| session.call(ECHO, (i, "bench")).into_future())
                .collect();
            let (mut ok, mut errors) = (0u64, 0u64);
            // Burst awaits them `unconstrained` (outside tokio's cooperative budget); BurstCoop
            // the naive way, as an application would: a client whose futures spend the budget
            // on ready answers makes a FuturesUnordered of 100k re-poll most of them each time
            // the budget (128) runs out.
            let constrained = matches!(workload, Workload::BurstCoop(_));
            loop {
                let next = if constrained {
                    pending.next().await
                } else {
                    tokio::task::unconstrained(pending.next()).await
                };
                let Some(r) = next else { break };
                match r.and_then(|r| r.arg::<u64>(0)) {
                    Ok(_) => ok += 1,
                    Err(_) => errors += 1,
                }
            }
            Report {
                ops: ok,
                errors,
                secs: t.elapsed().as_secs_f64(),
                cpu: crate::measure::process_cpu() - cpu0,
                items: Some(n as u64),
                ..Report::default()
            }
        }
        Workload::IdleSessions(_) => {
            return Err("idle sessions are opened by their own runner".into());
        }
    };
    Ok(report)
}

/// Helper for the Crossbar target: registers `bench.echo` and answers until killed.
pub async fn callee(url: &str, ser: Ser) -> Result<(), String> {
    let session = connect(url, ser).await?;
    let _reg = session
        .register(ECHO, echo)
        .await
        .map_err(|e| format!("register: {e}"))?;
    println!("ready");
    session.closed().await;
    Ok(())
}

/// Helper for the Crossbar target: publishes to `bench.flood` with `n` acknowledged
/// publications outstanding, until killed.
pub async fn publisher(url: &str, ser: Ser, n: usize) -> Result<(), String> {
    let session = connect(url, ser).await?;
    println!("ready");
    publish_flood(&session, n).await;
    Ok(())
}

/// `bench.echo`: answers with the call's arguments.
pub async fn echo(inv: wampkit::Invocation) -> Result<wampkit::Arguments, wampkit::WampError> {
    let mut out = wampkit::Arguments::new();
    out.args = inv.arguments().args;
    Ok(out)
}

/// Publishes to `bench.flood` with `n` acknowledged publications outstanding, for ever.
pub async fn publish_flood(session: &Session, n: usize) {
    let publish = |i: u64| {
        let session = &session;
        async move {
            session
                .publish(FLOOD, (i, "bench"))
                .acknowledge()
                .await
                .is_ok()
        }
    };
    let mut pending = FuturesUnordered::new();
    for i in 0..n as u64 {
        pending.push(publish(i));
    }
    let mut i = n as u64;
    while let Some(ok) = pending.next().await {
        if !ok {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        pending.push(publish(i));
        i += 1;
    }
}
