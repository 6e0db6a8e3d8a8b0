//! The advanced profile's RPC through the embedded router, with in-process sessions:
//! progressive results and input, cancel modes, shared registrations, revocation, deadlines.
#![cfg(test)]

mod common;

use std::time::Duration;

use common::{LIMIT, join, router, uri, within};
use futures_util::StreamExt;
use wampkit::rpc::CancelMode;
use wampkit::{Arguments, Invocation, Value, WampError};

#[tokio::test]
async fn progressive_results_arrive_in_order_then_the_final_one() {
    let router = router();
    let callee = join(&router).await;
    let _reg = callee
        .register("com.example.count", |inv: Invocation| async move {
            let n: u32 = inv.arg(0)?;
            if let Some(progress) = inv.progress() {
                for i in 0..n {
                    progress.send_value(i).map_err(|e| {
                        WampError::new("com.example.error")
                            .with_args(vec![Value::from(e.to_string())])
                    })?;
                }
            }
            Ok(Arguments::single("done")?)
        })
        .await
        .expect("register");
    let caller = join(&router).await;
    let mut stream = caller.call("com.example.count", (3,)).into_stream();
    let mut seen = Vec::new();
    while let Some(item) = within("result", stream.next()).await {
        let result = item.expect("a result");
        seen.push(result.arguments().args.first().cloned().unwrap_or_default());
    }
    assert_eq!(
        seen,
        [
            Value::from(0u64),
            Value::from(1u64),
            Value::from(2u64),
            Value::from("done")
        ]
    );
}

#[tokio::test]
async fn progressive_input_reaches_the_callee_as_one_invocation() {
    let router = router();
    let callee = join(&router).await;
    let _reg = callee
        .register("com.example.sum", |mut inv: Invocation| async move {
            let mut total: i64 = inv.arg(0)?;
            if let Some(mut input) = inv.take_input() {
                while let Some(chunk) = input.next().await {
                    total += chunk
                        .args
                        .first()
                        .and_then(Value::as_i64)
                        .unwrap_or_default();
                }
            }
            Ok(Arguments::single(total)?)
        })
        .await
        .expect("register");
    let caller = join(&router).await;
    let (mut input, mut results) = caller
        .call("com.example.sum", (1,))
        .into_duplex()
        .expect("duplex");
    input.send((-2,)).expect("chunk");
    input.send((40,)).expect("chunk");
    input.finish((3,)).expect("last chunk");
    let result = within("result", results.next())
        .await
        .expect("a result")
        .expect("ok");
    assert_eq!(result.arguments().args, [Value::from(42i64)]);
}

#[tokio::test]
async fn cancel_modes() {
    let router = router();
    let callee = join(&router).await;
    let (interrupted, mut interrupts) = tokio::sync::mpsc::unbounded_channel();
    let _reg = callee
        .register("com.example.wait", move |inv: Invocation| {
            let interrupted = interrupted.clone();
            async move {
                inv.canceled().await;
                let _ = interrupted.send(());
                Err::<Arguments, _>(WampError::new("wamp.error.canceled"))
            }
        })
        .await
        .expect("register");
    let caller = join(&router).await;
    for mode in [CancelMode::Kill, CancelMode::KillNoWait, CancelMode::Skip] {
        let stream = caller.call("com.example.wait", ()).into_stream();
        let cancel = stream.cancel_handle();
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel(mode);
        let mut stream = stream;
        let error = within("canceled", stream.next())
            .await
            .expect("an answer")
            .expect_err("an error");
        assert_eq!(uri(&error), "wamp.error.canceled", "{mode:?}");
        if mode == CancelMode::Skip {
            assert!(
                tokio::time::timeout(Duration::from_millis(200), interrupts.recv())
                    .await
                    .is_err(),
                "skip does not interrupt the callee"
            );
        } else {
            within("interrupt", interrupts.recv())
                .await
                .expect("the callee was interrupted");
        }
    }
}

#[tokio::test]
async fn first_last_and_random_callees() {
    use wampkit::rpc::InvokePolicy;
    let router = router();
    let a = join(&router).await;
    let b = join(&router).await;
    let mut registrations = Vec::new();
    for policy in [
        InvokePolicy::First,
        InvokePolicy::Last,
        InvokePolicy::Random,
    ] {
        let procedure = format!("com.example.{}", policy.as_str());
        for (session, name) in [(&a, "a"), (&b, "b")] {
            let registration = session
                .register(procedure.clone(), move |_inv: Invocation| async move {
                    Ok(Arguments::single(name)?)
                })
                .invoke(policy)
                .await
                .expect("register");
            registrations.push(registration);
        }
    }
    let caller = join(&router).await;
    let name = |procedure: &'static str| {
        let caller = caller.clone();
        async move {
            caller
                .call(procedure, ())
                .await
                .expect("call")
                .arg::<String>(0)
                .expect("name")
        }
    };
    assert_eq!(name("com.example.first").await, "a");
    assert_eq!(name("com.example.last").await, "b");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..64 {
        seen.insert(name("com.example.random").await);
    }
    assert_eq!(seen.len(), 2, "both callees get random calls");
    let error = b
        .register("com.example.first", |_inv: Invocation| async move {
            Ok(Arguments::new())
        })
        .invoke(InvokePolicy::First)
        .await
        .expect_err("registered already");
    assert_eq!(uri(&error), "wamp.error.procedure_already_exists");
    let error = b
        .register("com.example.last", |_inv: Invocation| async move {
            Ok(Arguments::new())
        })
        .invoke(InvokePolicy::RoundRobin)
        .await
        .expect_err("another policy");
    assert_eq!(
        uri(&error),
        "wamp.error.procedure_exists_with_different_invocation_policy"
    );
}

#[tokio::test]
async fn revoked_registrations_no_longer_answer() {
    let router = router();
    let callee = join(&router).await;
    let reg = callee
        .register("com.example.revoked", |_inv: Invocation| async move {
            Ok(Arguments::new())
        })
        .await
        .expect("register");
    let realm = router.realm("realm1").expect("realm");
    assert_eq!(realm.registrations().len(), 1);
    assert!(realm.revoke_registration(reg.id(), "wamp.close.revoked"));
    assert!(realm.registrations().is_empty());
    let caller = join(&router).await;
    let error = caller
        .call("com.example.revoked", ())
        .await
        .expect_err("no callee");
    assert_eq!(uri(&error), "wamp.error.no_such_procedure");
}

#[tokio::test(start_paused = true)]
async fn call_timeouts_follow_tokio_time() {
    let router = router();
    let callee = join(&router).await;
    let _slow = callee
        .register("com.example.slow", |_inv: Invocation| async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Arguments::new())
        })
        .await
        .expect("register");
    let caller = join(&router).await;
    let started = std::time::Instant::now();
    let error = caller
        .call("com.example.slow", ())
        .router_timeout(Duration::from_secs(600))
        .await
        .expect_err("timed out");
    assert_eq!(uri(&error), "wamp.error.timeout");
    assert!(
        started.elapsed() < LIMIT,
        "ten minutes of paused time pass at once"
    );
}
