//! The embedded router (`wamp_router::Router`) with peers that are not our own client:
//! Autobahn|Python sessions (`tests/python/router_peer.py`) over WebSocket, RawSocket and a
//! Unix socket, on every serializer. Python calls Python through the router (RPC with positional
//! and keyword arguments, application errors, progressive results, cancel in every mode, the
//! dealer's call timeout, PubSub with and without acknowledge), Python and a Rust
//! `wamp_client::Session` call and publish to each other, and Python sessions authenticate with
//! ticket, WAMP-CRA, cryptosign and SCRAM.
//!
//! Each test starts its own router on port 0 in the test's runtime and runs one Python process
//! per transport × serializer cell, bounded in time and killed when dropped.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value as Json, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use wamp_client::{
    Arguments, Dict, Error, Invocation, Serializer, Session, Value, WampError, rpc::CancelMode,
};
use wamp_router::{Router, ScramKdfParams};

/// How long one step may take: one line from a Python peer, one call, the router's shutdown.
const STEP: Duration = Duration::from_secs(30);

/// The realm every test uses.
const REALM: &str = "realm1";

// ---------------------------------------------------------------------------------------------
// The router and its listeners
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Transport {
    WebSocket,
    RawSocket,
    Unix,
}

/// A router listening on a WebSocket, a RawSocket and a Unix socket.
struct Served {
    router: Router,
    ws: String,
    rs: String,
    unix: String,
    socket_path: PathBuf,
}

impl Served {
    async fn start() -> Served {
        Self::start_with(Router::builder().realm(REALM).build()).await
    }

    async fn start_with(router: Router) -> Served {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let socket_path = std::env::temp_dir().join(format!(
            "wamp-router-interop-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&socket_path);
        let ws = router.listen("ws://127.0.0.1:0/ws").await.unwrap();
        let rs = router.listen("rs://127.0.0.1:0").await.unwrap();
        let unix = router
            .listen(&format!("unix://{}", socket_path.display()))
            .await
            .unwrap();
        assert_ne!(ws.local_addr().unwrap().port(), 0, "{}", ws.url());
        assert_ne!(rs.local_addr().unwrap().port(), 0, "{}", rs.url());
        Served {
            router,
            ws: ws.url().to_owned(),
            rs: rs.url().to_owned(),
            unix: unix.url().to_owned(),
            socket_path,
        }
    }

    fn url(&self, transport: Transport) -> &str {
        match transport {
            Transport::WebSocket => &self.ws,
            Transport::RawSocket => &self.rs,
            Transport::Unix => &self.unix,
        }
    }

    /// Shuts the router down, which must not take long once the peers have left.
    async fn stop(self) {
        within("router shutdown", self.router.shutdown()).await;
        let _ = std::fs::remove_file(&self.socket_path);
    }
}

async fn within<T>(what: &str, future: impl std::future::IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(STEP, future.into_future()).await {
        Ok(value) => value,
        Err(_) => panic!("{what}: nothing within {STEP:?}"),
    }
}

async fn connect(url: &str, serializer: Serializer) -> Session {
    let builder = Session::builder(url, REALM).serializer(serializer);
    within("a Rust session joins", builder.connect())
        .await
        .unwrap_or_else(|e| panic!("a Rust session on {url}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Python peers
// ---------------------------------------------------------------------------------------------

/// The Python of the Crossbar.io venv, which has Autobahn|Python.
fn python() -> &'static PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = testkit::workspace_root();
        let out = std::process::Command::new("bash")
            .arg(root.join("scripts").join("crossbar.sh"))
            .arg("python")
            .stderr(Stdio::inherit())
            .output()
            .expect("runs scripts/crossbar.sh python");
        assert!(out.status.success(), "scripts/crossbar.sh python failed");
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// A running `router_peer.py`: its stdout line by line, its stderr for messages. Dropping it
/// kills the process.
struct Peer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    stderr: Arc<Mutex<String>>,
    what: String,
}

impl Peer {
    fn spawn(url: &str, serializer: Serializer, args: &[&str]) -> Peer {
        let script = testkit::workspace_root()
            .join("tests")
            .join("python")
            .join("router_peer.py");
        let mut child = Command::new(python())
            .arg("-u")
            .arg(script)
            .args(["--url", url, "--serializer", serializer.name()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starts router_peer.py");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf).await {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Peer {
            child,
            lines,
            stderr,
            what: format!("router_peer.py {} ({url}, {serializer})", args.join(" ")),
        }
    }

    fn fail(&self, why: &str) -> ! {
        panic!(
            "{}: {why}\nstderr:\n{}",
            self.what,
            self.stderr.lock().unwrap()
        )
    }

    async fn line(&mut self) -> String {
        match tokio::time::timeout(STEP, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) => {
                // Let the stderr reader catch up before quoting it.
                let _ = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                self.fail("exited without printing another line")
            }
            Ok(Err(e)) => self.fail(&format!("cannot read its output: {e}")),
            Err(_) => self.fail(&format!("printed nothing within {STEP:?}")),
        }
    }

    async fn json(&mut self) -> Json {
        let line = self.line().await;
        serde_json::from_str(&line).unwrap_or_else(|e| self.fail(&format!("{e}: {line}")))
    }

    /// Waits for the peer to exit, which it must do successfully.
    async fn finish(mut self) {
        match tokio::time::timeout(STEP, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => {}
            Ok(Ok(status)) => self.fail(&format!("exited with {status}")),
            Ok(Err(e)) => self.fail(&format!("cannot wait for it: {e}")),
            Err(_) => self.fail("did not exit"),
        }
    }
}

/// Runs a peer that prints one JSON object and exits.
async fn run_peer(url: &str, serializer: Serializer, args: &[&str]) -> Json {
    let mut peer = Peer::spawn(url, serializer, args);
    let out = peer.json().await;
    peer.finish().await;
    out
}

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
) -> (Vec<wamp_client::Registration>, Arc<Mutex<Fates>>) {
    let fates = Arc::new(Mutex::new(Fates::default()));
    let mut registrations = Vec::new();
    let add = session.register(format!("{prefix}.add"), |inv: Invocation| async move {
        let (a, b): (i64, i64) = if inv.args.is_empty() {
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

fn error_uri(result: &Result<wamp_client::CallResult, Error>) -> String {
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
    assert_eq!(echoed.args, echo_args());
    assert_eq!(echoed.kwargs, echo_kwargs());

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

// ---------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------

/// The realm that authenticates.
const SECURE_REALM: &str = "secure";

/// Crossbar.io's test principals (scripts/crossbar/config.json), throwaway credentials.
fn credentials() -> Json {
    json!({
        "ticket": {"authid": "ticket-user", "ticket": "ticket-secret-123"},
        "wampcra": {"authid": "cra-user", "secret": "cra-secret-123"},
        "wampcra_salted": {
            "authid": "cra-salted-user", "secret": "cra-salted-secret",
            "salt": "salt123", "iterations": 100, "keylen": 32
        },
        "cryptosign": {
            "authid": "cs-user",
            "privkey": "d2ddb103d432490f61893bd87fe72c0f3f6fc36f2412ccf99519bb873af7e61c",
            "pubkey": "53d9e731fcf81e7b480a0c4f281fea226a6c58b8118d4c08975a90273c77ef3b"
        },
        "scram_derived": {"authid": "scram-derived-user", "password": "derived-secret-456"},
        "scram": {
            "authid": "scram-user", "password": "scram-secret-123",
            "principal": {
                "kdf": "argon2id-13", "iterations": 16, "memory": 512,
                "salt": "5ff8f9fad4f6c5ca86341dacf4ca3eae",
                "stored-key": "02cb23c30751cd481d7f59cdb80499c6d9e6096756a7d9efa9f4fa9e9327864c",
                "server-key": "45a39bb0eb7239e01c8ece71a2e7e2cfef51df9a06e932cada1a8161eb186951"
            }
        }
    })
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn hex32(text: &str) -> [u8; 32] {
    hex_bytes(text).try_into().unwrap()
}

/// Every principal of `credentials`, with the role `user`: `scram` from its stored keys, as
/// Crossbar.io's configuration gives them (hex, as Crossbar.io reads them), `scram_derived`
/// from its password.
fn authentication() -> wamp_router::Authentication {
    let c = credentials();
    let s = |v: &Json| v.as_str().unwrap().to_owned();
    let n = |v: &Json| u32::try_from(v.as_u64().unwrap()).unwrap();
    let (salted, scram) = (&c["wampcra_salted"], &c["scram"]["principal"]);
    let salt = hex_bytes(scram["salt"].as_str().unwrap());
    wamp_router::Authentication::new()
        .ticket(s(&c["ticket"]["authid"]), s(&c["ticket"]["ticket"]), "user")
        .wampcra(
            s(&c["wampcra"]["authid"]),
            s(&c["wampcra"]["secret"]),
            "user",
        )
        .wampcra_salted(
            s(&salted["authid"]),
            s(&salted["secret"]),
            s(&salted["salt"]),
            n(&salted["iterations"]),
            n(&salted["keylen"]),
            "user",
        )
        .unwrap()
        .cryptosign(
            s(&c["cryptosign"]["authid"]),
            c["cryptosign"]["pubkey"].as_str().unwrap(),
            "user",
        )
        .unwrap()
        .principal(
            s(&c["scram"]["authid"]),
            wamp_router::Credential::scram_keys(
                wamp_client::auth::primitives::ScramKdfVariant::Argon2idBase64,
                salt,
                n(&scram["iterations"]),
                n(&scram["memory"]),
                hex32(scram["stored-key"].as_str().unwrap()),
                hex32(scram["server-key"].as_str().unwrap()),
                "user",
            ),
        )
        .scram_with(
            s(&c["scram_derived"]["authid"]),
            c["scram_derived"]["password"].as_str().unwrap(),
            "user",
            ScramKdfParams::Argon2id {
                memory_kib: 1024,
                iterations: 2,
            },
        )
        .unwrap()
}

async fn python_authenticates(transport: Transport, serializer: Serializer) {
    let router = Router::builder()
        .realm(REALM)
        .add_realm(wamp_router::RealmConfig::new(SECURE_REALM).authentication(authentication()))
        .build();
    let served = Served::start_with(router).await;
    let out = run_peer(
        served.url(transport),
        serializer,
        &[
            "--realm",
            SECURE_REALM,
            "auth",
            "--credentials",
            &credentials().to_string(),
        ],
    )
    .await;
    let c = credentials();
    for (case, method, principal) in [
        ("ticket", "ticket", "ticket"),
        ("wampcra", "wampcra", "wampcra"),
        ("wampcra_salted", "wampcra", "wampcra_salted"),
        ("cryptosign", "cryptosign", "cryptosign"),
        ("scram", "scram", "scram"),
        ("scram_derived", "scram", "scram_derived"),
    ] {
        assert_eq!(
            out[case],
            json!({
                "authid": c[principal]["authid"],
                "authrole": "user",
                "authmethod": method,
                // wamp.session.count: this session.
                "call": {"args": [1], "kwargs": {}},
            }),
            "{case}: {out}"
        );
    }
    for case in [
        "ticket_wrong",
        "wampcra_wrong",
        "cryptosign_wrong",
        "scram_wrong",
        "ticket_unknown",
    ] {
        assert_eq!(
            out[case],
            json!({"error": "wamp.error.not_authorized"}),
            "{case}: {out}"
        );
    }
    served.stop().await;
}

matrix! { python_authenticates:
    python_authenticates_websocket_json => WebSocket, Json;
    python_authenticates_websocket_msgpack => WebSocket, MsgPack;
    python_authenticates_websocket_cbor => WebSocket, Cbor;
    python_authenticates_rawsocket_json => RawSocket, Json;
    python_authenticates_rawsocket_msgpack => RawSocket, MsgPack;
    python_authenticates_rawsocket_cbor => RawSocket, Cbor;
}
