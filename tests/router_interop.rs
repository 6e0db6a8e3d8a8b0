//! The embedded router (`wampkit::router::Router`) with peers that are not our own client:
//! Autobahn|Python sessions (`tests/python/router_peer.py`) over WebSocket, RawSocket and a
//! Unix socket, on every serializer. Python calls Python through the router (RPC with positional
//! and keyword arguments, application errors, progressive results, cancel in every mode, the
//! dealer's call timeout, PubSub with and without acknowledge), Python and a Rust
//! `wampkit::Session` call and publish to each other, and Python sessions authenticate with
//! ticket, WAMP-CRA, cryptosign and SCRAM.
//!
//! Each test starts its own router on port 0 in the test's runtime and runs one Python process
//! per transport × serializer cell, bounded in time and killed when dropped.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value as Json, json};
use wampkit::{
    Arguments, Dict, Error, Invocation, Serializer, Session, Value, WampError, rpc::CancelMode,
};

use support::{Peer, STEP, Served, Transport, connect, run_peer, within};

/// Defines one test per cell: `matrix! { scenario: test_name => Transport, Serializer; ... }`.
macro_rules! matrix {
    ($scenario:ident: $($name:ident => $transport:ident, $serializer:ident;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $scenario(Transport::$transport, Serializer::$serializer).await;
            }
        )*
    };
}

#[path = "router_interop/auth.rs"]
mod auth;
#[path = "router_interop/support.rs"]
mod support;

// ---------------------------------------------------------------------------------------------
// Python ↔ Python
// ---------------------------------------------------------------------------------------------

/// What `router_peer.py` echoes, in its JSON convention (`{"$bytes": base64}` for bytes).
fn echo_args_json() -> Json {
    json!([-7, 2.5, "zwölf ✓ 日本", {"$bytes": "AAH+/w=="}, [1, null, true], {"k": -1}])
}

fn echo_kwargs_json() -> Json {
    json!({"blob": {"$bytes": "CQg="}, "neg": -1})
}

/// The RPC part of `py-py`, also what a Python caller sees of Python procedures.
fn assert_python_rpc(out: &Json) {
    assert_eq!(out["add_positional"], json!({"args": [-3], "kwargs": {}}));
    assert_eq!(out["add_kwargs"], json!({"args": [42], "kwargs": {}}));
    assert_eq!(
        out["echo"],
        json!({"args": echo_args_json(), "kwargs": echo_kwargs_json()})
    );
    assert_eq!(
        out["fail"],
        json!({"error": "com.interop.error.failed", "args": ["it failed", 42], "kwargs": {"reason": "because"}})
    );
    assert_eq!(out["missing"]["error"], "wamp.error.no_such_procedure");
    assert_eq!(
        out["progress"],
        json!({"progress": [[3], [2], [1]], "result": "liftoff"}),
        "every progressive result, in order, then the final one"
    );

    // kill: the callee is interrupted and its own error reaches the caller.
    let cancel = &out["cancel"];
    assert_eq!(
        cancel["kill"]["error"], "com.interop.error.interrupted",
        "{cancel}"
    );
    assert_eq!(cancel["kill"]["args"], json!(["cancel-kill"]));
    // killnowait and skip: the router answers wamp.error.canceled at once.
    assert_eq!(
        cancel["killnowait"]["error"], "wamp.error.canceled",
        "{cancel}"
    );
    assert_eq!(cancel["skip"]["error"], "wamp.error.canceled", "{cancel}");
    for mode in ["kill", "killnowait", "skip"] {
        let elapsed = cancel[mode]["elapsed"].as_f64().unwrap();
        assert!(elapsed < 10.0, "{mode} took {elapsed} s");
    }
    // The dealer's timeout (300 ms) ends the call and interrupts the callee.
    assert_eq!(
        out["timeout"]["error"], "wamp.error.timeout",
        "{}",
        out["timeout"]
    );
    let elapsed = out["timeout"]["elapsed"].as_f64().unwrap();
    assert!(
        (0.25..10.0).contains(&elapsed),
        "a 300 ms timeout took {elapsed} s"
    );
    // skip leaves the callee alone: it finishes; the others interrupt it.
    let callee = &out["callee"];
    assert_eq!(
        callee["interrupted"],
        json!(["cancel-kill", "cancel-killnowait", "timeout"]),
        "{callee}"
    );
    assert_eq!(callee["completed"], json!(["cancel-skip"]), "{callee}");
}

fn assert_python_pubsub(out: &Json) {
    let pubsub = &out["pubsub"];
    let event = |i: i64| json!({"args": [i], "kwargs": {"n": i}});
    let last = json!({"args": ["last"], "kwargs": {}});
    assert_eq!(
        pubsub["subscriber"],
        json!([event(0), event(1), event(2), event(3), event(4), last]),
        "the subscriber gets every event, in order"
    );
    assert_eq!(
        pubsub["publisher"],
        json!([event(3), event(4), last]),
        "the publisher gets exactly its exclude_me=false events"
    );
    let acks = pubsub["acks"].as_array().unwrap();
    assert_eq!(acks.len(), 2);
    for id in acks {
        let id = id.as_u64().unwrap();
        assert!((1..=1u64 << 53).contains(&id), "publication id {id}");
    }
    assert_ne!(acks[0], acks[1], "publication ids differ");
    assert_eq!(
        pubsub["invalid"],
        json!({"error": "wamp.error.invalid_uri"}),
        "an acknowledged publication to a reserved topic is refused"
    );
}

async fn python_to_python(transport: Transport, serializer: Serializer) {
    let served = Served::start().await;
    let out = run_peer(served.url(transport), serializer, &["py-py"]).await;
    assert_python_rpc(&out);
    assert_python_pubsub(&out);
    served.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Python ↔ Rust
// ---------------------------------------------------------------------------------------------

/// What the Rust callee's slow procedure saw.
#[derive(Default)]
struct Fates {
    interrupted: Vec<String>,
    completed: Vec<String>,
}

/// Registers `{prefix}.add`, `.fail`, `.countdown` and `.slow` on the Rust session.
async fn register_rust_procedures(
    session: &Session,
    prefix: &str,
) -> (Vec<wampkit::Registration>, Arc<Mutex<Fates>>) {
    let fates = Arc::new(Mutex::new(Fates::default()));
    let mut registrations = Vec::new();
    let add = session.register(format!("{prefix}.add"), |inv: Invocation| async move {
        let (a, b): (i64, i64) = if inv.arg_count() == 0 {
            (inv.kwarg("a")?, inv.kwarg("b")?)
        } else {
            inv.args()?
        };
        Ok(Arguments::single(a + b)?)
    });
    registrations.push(within("register add", add).await.unwrap());
    let fail = session.register(format!("{prefix}.fail"), |_inv: Invocation| async move {
        Err(
            WampError::with_message("com.interop.error.rust", "rust says no")
                .with_args(("rust says no", -3))
                .with_kwargs(Dict::from([("bytes".to_owned(), Value::Bytes(vec![1, 2]))])),
        )
    });
    registrations.push(within("register fail", fail).await.unwrap());
    let countdown = session.register(
        format!("{prefix}.countdown"),
        |inv: Invocation| async move {
            let n: i64 = inv.arg(0)?;
            if let Some(progress) = inv.progress() {
                for i in (1..=n).rev() {
                    progress.send(Arguments::single(i)?).map_err(|e| {
                        WampError::with_message("com.interop.error.rust", e.to_string())
                    })?;
                }
            }
            Ok(Arguments::single("liftoff")?)
        },
    );
    registrations.push(within("register countdown", countdown).await.unwrap());
    let seen = fates.clone();
    let slow = session.register(format!("{prefix}.slow"), move |inv: Invocation| {
        let seen = seen.clone();
        async move {
            let (label, seconds): (String, f64) = inv.args()?;
            tokio::select! {
                () = inv.canceled() => {
                    seen.lock().unwrap().interrupted.push(label.clone());
                    Err(WampError::with_message("com.interop.error.interrupted", label))
                }
                () = tokio::time::sleep(Duration::from_secs_f64(seconds)) => {
                    seen.lock().unwrap().completed.push(label.clone());
                    Ok(Arguments::single(label)?)
                }
            }
        }
    });
    registrations.push(within("register slow", slow).await.unwrap());
    (registrations, fates)
}

/// The Rust values of `echo_args_json` and `echo_kwargs_json`.
fn echo_args() -> Vec<Value> {
    vec![
        Value::from(-7),
        Value::from(2.5),
        Value::from("zwölf ✓ 日本"),
        Value::Bytes(vec![0, 1, 254, 255]),
        Value::List(vec![Value::from(1), Value::Null, Value::Bool(true)]),
        Value::Dict(Dict::from([("k".to_owned(), Value::from(-1))])),
    ]
}

fn echo_kwargs() -> Dict {
    Dict::from([
        ("blob".to_owned(), Value::Bytes(vec![9, 8])),
        ("neg".to_owned(), Value::from(-1)),
    ])
}

fn error_uri(result: &Result<wampkit::CallResult, Error>) -> String {
    match result {
        Err(Error::Wamp(e)) => e.uri.as_str().to_owned(),
        other => panic!("expected an error reply, got {other:?}"),
    }
}

/// Polls the Python callee's `status` until `done` holds for it.
async fn python_status(session: &Session, prefix: &str, done: impl Fn(&Json) -> bool) -> Json {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let status: Json = within("status", session.call(format!("{prefix}.status"), ()))
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        if done(&status) {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the Python callee's status stays {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn lists(status: &Json, key: &str, label: &str) -> bool {
    status[key]
        .as_array()
        .is_some_and(|labels| labels.iter().any(|l| l == label))
}

/// A Rust caller of the Python procedures.
async fn rust_calls_python(session: &Session, p: &str) {
    let sum: i64 = within("add", session.call(format!("{p}.add"), (2, -5)))
        .await
        .unwrap()
        .arg(0)
        .unwrap();
    assert_eq!(sum, -3);
    let sum: i64 = within(
        "add kwargs",
        session
            .call(format!("{p}.add"), ())
            .kwargs(json!({"a": 40, "b": 2})),
    )
    .await
    .unwrap()
    .arg(0)
    .unwrap();
    assert_eq!(sum, 42);
    let echoed = within(
        "echo",
        session
            .call(format!("{p}.echo"), echo_args())
            .kwargs(echo_kwargs()),
    )
    .await
    .unwrap();
    assert_eq!(echoed.arguments().args, echo_args());
    assert_eq!(echoed.arguments().kwargs, echo_kwargs());

    match within("fail", session.call(format!("{p}.fail"), ())).await {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, "com.interop.error.failed");
            assert_eq!(e.args::<(String, i64)>().unwrap(), ("it failed".into(), 42));
            assert_eq!(e.kwargs.get("reason"), Some(&Value::from("because")));
        }
        other => panic!("expected the Python error, got {other:?}"),
    }
    let missing = within("missing", session.call(format!("{p}.missing"), ())).await;
    assert_eq!(error_uri(&missing), "wamp.error.no_such_procedure");

    // Progressive results from a Python callee.
    let mut results = session.call(format!("{p}.countdown"), (3,)).into_stream();
    let (mut progress, mut last) = (Vec::new(), None);
    while let Some(result) = within("countdown", results.next()).await {
        let result = result.unwrap();
        if result.is_progress() {
            progress.push(result.arg::<i64>(0).unwrap());
        } else {
            last = Some(result.arg::<String>(0).unwrap());
        }
    }
    assert_eq!(progress, [3, 2, 1]);
    assert_eq!(last.as_deref(), Some("liftoff"));

    // Cancel in every mode: kill forwards the Python callee's error, the others the router's.
    for (mode, seconds, expected) in [
        (CancelMode::Kill, 30.0, "com.interop.error.interrupted"),
        (CancelMode::KillNoWait, 30.0, "wamp.error.canceled"),
        (CancelMode::Skip, 0.5, "wamp.error.canceled"),
    ] {
        let label = format!("rust-{}", mode.as_str());
        let call = session
            .call(format!("{p}.slow"), (&label, seconds))
            .into_future();
        let handle = call.cancel_handle();
        let pending = tokio::spawn(call);
        python_status(session, p, |s| lists(s, "started", &label)).await;
        handle.cancel(mode);
        let result = within("canceled call", pending).await.unwrap();
        assert_eq!(error_uri(&result), expected, "{mode:?}");
        let fate = if mode == CancelMode::Skip {
            "completed"
        } else {
            "interrupted"
        };
        let status = python_status(session, p, |s| {
            lists(s, "interrupted", &label) || lists(s, "completed", &label)
        })
        .await;
        assert!(lists(&status, fate, &label), "{mode:?}: {status}");
    }

    // The dealer's timeout, sent in milliseconds.
    let timed_out = within(
        "router timeout",
        session
            .call(format!("{p}.slow"), ("rust-timeout", 30.0))
            .router_timeout(Duration::from_millis(300)),
    )
    .await;
    assert_eq!(error_uri(&timed_out), "wamp.error.timeout");
    let status = python_status(session, p, |s| lists(s, "interrupted", "rust-timeout")).await;
    assert!(!lists(&status, "completed", "rust-timeout"), "{status}");
}

/// What the Python caller saw of the Rust procedures.
fn assert_python_calls_rust(calls: &Json) {
    assert_eq!(calls["add_positional"], json!({"args": [-3], "kwargs": {}}));
    assert_eq!(calls["add_kwargs"], json!({"args": [42], "kwargs": {}}));
    assert_eq!(
        calls["fail"],
        json!({"error": "com.interop.error.rust", "args": ["rust says no", -3], "kwargs": {"bytes": {"$bytes": "AQI="}}})
    );
    assert_eq!(
        calls["progress"],
        json!({"progress": [[3], [2], [1]], "result": "liftoff"})
    );
    let cancel = &calls["cancel"];
    assert_eq!(
        cancel["kill"]["error"], "com.interop.error.interrupted",
        "{cancel}"
    );
    assert_eq!(cancel["kill"]["args"], json!(["cancel-kill"]));
    assert_eq!(
        cancel["killnowait"]["error"], "wamp.error.canceled",
        "{cancel}"
    );
    assert_eq!(cancel["skip"]["error"], "wamp.error.canceled", "{cancel}");
    assert_eq!(calls["timeout"]["error"], "wamp.error.timeout", "{calls}");
    let elapsed = calls["timeout"]["elapsed"].as_f64().unwrap();
    assert!(
        (0.25..10.0).contains(&elapsed),
        "a 300 ms timeout took {elapsed} s"
    );
}

async fn python_and_rust(transport: Transport, serializer: Serializer) {
    const EVENTS: i64 = 3;
    let served = Served::start().await;
    let url = served.url(transport);
    let session = connect(url, serializer).await;
    let (p, r) = ("com.interop.py", "com.interop.rs");
    let (_registrations, fates) = register_rust_procedures(&session, r).await;
    let mut events = within("subscribe", session.subscribe(format!("{r}.topic")))
        .await
        .unwrap();

    let mut peer = Peer::spawn(
        url,
        serializer,
        &[
            "rust-peer",
            "--prefix",
            p,
            "--rust-prefix",
            r,
            "--events",
            &EVENTS.to_string(),
        ],
    );
    assert_eq!(peer.line().await, "ready");

    // Meanwhile, the Python caller calls the Rust procedures.
    rust_calls_python(&session, p).await;
    for i in 0..EVENTS {
        within(
            "publish",
            session
                .publish(format!("{p}.topic"), (i,))
                .kwarg("n", i)
                .acknowledge(),
        )
        .await
        .unwrap();
    }

    let calls = peer.json().await;
    assert_python_calls_rust(&calls["calls"]);
    let received = peer.json().await;
    let expected: Vec<Json> = (0..EVENTS)
        .map(|i| json!({"args": [i], "kwargs": {"n": i}}))
        .collect();
    assert_eq!(received["events"], json!(expected), "Rust → Python events");
    peer.finish().await;

    for i in 0..2i64 {
        let event = within("event from Python", events.next_event())
            .await
            .expect("the subscription is alive");
        assert_eq!(event.arg::<i64>(0).unwrap(), i);
        assert_eq!(event.kwarg::<i64>("n").unwrap(), i);
    }

    // The Rust callee: interrupted by kill, killnowait and the timeout; skip left it to finish.
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        {
            let fates = fates.lock().unwrap();
            if fates.completed.iter().any(|l| l == "cancel-skip") {
                assert_eq!(
                    fates.interrupted,
                    ["cancel-kill", "cancel-killnowait", "timeout"]
                );
                assert_eq!(fates.completed, ["cancel-skip"]);
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the skipped invocation never finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    within("leave", session.leave()).await.unwrap();
    served.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

matrix! { python_to_python:
    python_to_python_websocket_json => WebSocket, Json;
    python_to_python_websocket_msgpack => WebSocket, MsgPack;
    python_to_python_websocket_cbor => WebSocket, Cbor;
    python_to_python_rawsocket_json => RawSocket, Json;
    python_to_python_rawsocket_msgpack => RawSocket, MsgPack;
    python_to_python_rawsocket_cbor => RawSocket, Cbor;
    python_to_python_unix_msgpack => Unix, MsgPack;
}

matrix! { python_and_rust:
    python_and_rust_websocket_json => WebSocket, Json;
    python_and_rust_websocket_msgpack => WebSocket, MsgPack;
    python_and_rust_websocket_cbor => WebSocket, Cbor;
    python_and_rust_rawsocket_json => RawSocket, Json;
    python_and_rust_rawsocket_msgpack => RawSocket, MsgPack;
    python_and_rust_rawsocket_cbor => RawSocket, Cbor;
}

/// A Python caller on WebSocket with JSON, its callee and subscriber on RawSocket with CBOR: the
/// router carries every message across transports and serializers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_to_python_across_transports_and_serializers() {
    let served = Served::start().await;
    let out = run_peer(
        &served.ws,
        Serializer::Json,
        &[
            "py-py",
            "--peer-url",
            &served.rs,
            "--peer-serializer",
            "cbor",
        ],
    )
    .await;
    assert_python_rpc(&out);
    assert_python_pubsub(&out);
    served.stop().await;
}
