//! The router example (`examples/router.rs`): its command line, its `ready` line and its
//! shutdown on SIGTERM and SIGINT are a contract the demo script and users' scripts rely on.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)
#![cfg(unix)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use futures_util::StreamExt;
use testkit::e2e::{self, within};
use wampkit::{Arguments, Invocation, Serializer, Session};

const LIMIT: Duration = Duration::from_secs(30);

/// The router example, started with `args`, and the URLs it listens on once it said `ready`.
fn start(args: &[&str]) -> (Child, Vec<String>) {
    let binary = e2e::example_binary("router").unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the router example starts");
    let stdout = child.stdout.take().expect("its stdout");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut urls = Vec::new();
    let ready = loop {
        let line = match received.recv_timeout(LIMIT) {
            Ok(line) => line,
            Err(e) => break Err(format!("no `ready` from the router example: {e}")),
        };
        if line == "ready" {
            break Ok(());
        }
        match line.strip_prefix("listening on ") {
            Some(url) => urls.push(url.to_owned()),
            None => break Err(format!("unexpected line before `ready`: {line}")),
        }
    };
    if let Err(e) = ready {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{e}");
    }
    (child, urls)
}

/// Sends `signal` (`TERM`, `INT`) to the child and waits for it to exit.
fn stop(mut child: Child, signal: &str) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -{signal}");
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the router example did not stop on SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn join(url: &str, realm: &str, serializer: Serializer) -> Session {
    within(
        "join",
        Session::builder(url, realm)
            .serializer(serializer)
            .connect(),
    )
    .await
    .unwrap_or_else(|e| panic!("cannot join {realm} at {url}: {e}"))
}

#[tokio::test]
async fn routes_between_its_listeners_and_says_goodbye_on_sigterm() {
    let (child, urls) = start(&[
        "--listen",
        "ws://127.0.0.1:0/ws",
        "--listen",
        "rs://127.0.0.1:0",
        "--realm",
        "realm1",
        "--realm",
        "realm2",
    ]);
    let [ws, rs] = urls.as_slice() else {
        panic!("two listeners expected: {urls:?}");
    };
    assert!(
        ws.starts_with("ws://127.0.0.1:") && !ws.contains(":0/"),
        "{ws}"
    );
    assert!(
        rs.starts_with("rs://127.0.0.1:") && !rs.ends_with(":0"),
        "{rs}"
    );

    let callee = join(ws, "realm1", Serializer::Json).await;
    let _add = within(
        "register",
        callee.register("com.example.add", |inv: Invocation| async move {
            let (a, b): (i64, i64) = inv.args()?;
            Ok(Arguments::single(a + b)?)
        }),
    )
    .await
    .expect("register");
    let caller = join(rs, "realm1", Serializer::Cbor).await;
    let sum: i64 = within("call", caller.call("com.example.add", (2, -5)))
        .await
        .expect("call")
        .arg(0)
        .expect("a sum");
    assert_eq!(sum, -3);
    let other = join(ws, "realm2", Serializer::MsgPack).await;
    let mut events = within("subscribe", other.subscribe("com.example.news"))
        .await
        .expect("subscribe");
    let error = within("call", other.call("com.example.add", (1, 1)))
        .await
        .expect_err("realm2 has no such procedure");
    assert!(error.to_string().contains("no_such_procedure"), "{error}");

    let status = tokio::task::spawn_blocking(move || stop(child, "TERM"))
        .await
        .expect("the stopping thread");
    assert!(status.success(), "exit status {status}");
    for session in [&callee, &caller, &other] {
        let reason = within("closed", session.closed()).await;
        assert_eq!(reason.uri.as_str(), "wamp.close.system_shutdown");
    }
    assert!(within("end of events", events.next()).await.is_none());
}

#[tokio::test]
async fn stops_on_sigint() {
    let (child, urls) = start(&["--listen", "ws://127.0.0.1:0/ws"]);
    let session = join(&urls[0], "realm1", Serializer::Json).await;
    let status = tokio::task::spawn_blocking(move || stop(child, "INT"))
        .await
        .expect("the stopping thread");
    assert!(status.success(), "exit status {status}");
    let reason = within("closed", session.closed()).await;
    assert_eq!(reason.uri.as_str(), "wamp.close.system_shutdown");
}

#[tokio::test]
async fn refuses_a_tls_listener_without_a_certificate() {
    let binary = e2e::example_binary("router").unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(binary)
        .args(["--listen", "wss://127.0.0.1:0/ws"])
        .stdin(Stdio::null())
        .output()
        .expect("the router example runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--tls-cert"), "{stderr}");
}
