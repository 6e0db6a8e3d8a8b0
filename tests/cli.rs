//! The command-line peer (`examples/wamp.rs`) against the router under test: its documented
//! output lines and exit statuses are a contract other programs rely on.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use testkit::e2e;

const LIMIT: Duration = Duration::from_secs(30);

/// The example binary, built by `cargo test` next to this test's own binary.
fn wamp_binary() -> PathBuf {
    e2e::example_binary("wamp").unwrap_or_else(|e| panic!("{e}"))
}

fn wamp(args: &[&str]) -> Command {
    let mut command = Command::new(wamp_binary());
    command.args(["--url", &e2e::router_url()]).args(args);
    command
}

/// Runs the CLI to completion within the limit.
fn run(args: &[&str]) -> Output {
    let child = wamp(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_with_limit(child)
}

fn wait_with_limit(child: Child) -> Output {
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(LIMIT) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
            panic!("the wamp CLI did not finish within {LIMIT:?}");
        }
    }
}

/// A long-running CLI process whose stdout lines are read with a timeout.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = wamp(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(LIMIT)
            .expect("a line from the wamp CLI in time")
    }

    /// Waits for the process to exit by itself.
    fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the wamp CLI did not exit in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the `subscribed` notice the subscribe command prints on stderr.
    fn wait_stderr(&mut self, expected: &str) {
        let stderr = self.child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let expected = expected.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line == expected {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(LIMIT)
            .expect("the expected stderr line in time");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr)
        .trim_end()
        .to_owned()
}

#[test]
fn call_an_echo_registered_by_the_cli_with_every_serializer() {
    for serializer in ["json", "msgpack", "cbor"] {
        let procedure = format!("com.cli.{serializer}.echo");
        let callee =
            Running::start(&["--serializer", serializer, "register", &procedure, "--echo"]);
        assert_eq!(callee.line(), "registered");
        let output = run(&[
            "--serializer",
            serializer,
            "call",
            &procedure,
            "1",
            "-2",
            "2.5",
            "hi there",
            r#"{"a":[true,null]}"#,
            "--kw",
            "name=zwölf",
            "--kw",
            "n=-1",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            stdout(&output),
            r#"{"args":[1,-2,2.5,"hi there",{"a":[true,null]}],"kwargs":{"n":-1,"name":"zwölf"}}"#
        );
    }
}

#[test]
fn call_without_arguments_prints_empty_lists() {
    let output = run(&["call", "wamp.session.count"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let line = stdout(&output);
    assert!(
        line.starts_with(r#"{"args":["#) && line.ends_with(r#"],"kwargs":{}}"#),
        "{line}"
    );
}

#[test]
fn register_with_prefix_match_answers_concrete_procedures() {
    let callee = Running::start(&[
        "register",
        "com.cli.prefixed",
        "--echo",
        "--match",
        "prefix",
    ]);
    assert_eq!(callee.line(), "registered");
    let output = run(&["call", "com.cli.prefixed.any.thing", "7"]);
    assert_eq!(stdout(&output), r#"{"args":[7],"kwargs":{}}"#);
}

#[test]
fn subscribe_prints_events_and_exits_after_count() {
    let mut subscriber = Running::start(&[
        "subscribe",
        "com.cli.news",
        "--match",
        "prefix",
        "--count",
        "2",
    ]);
    subscriber.wait_stderr("subscribed");
    let first = run(&["publish", "com.cli.news.a", "1", "two", "--ack"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let ack = stdout(&first);
    assert!(ack.starts_with(r#"{"publication":"#), "{ack}");
    let second = run(&["publish", "com.cli.news.b", "--kw", "x=-0.5"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(stdout(&second).is_empty());

    assert_eq!(
        subscriber.line(),
        r#"{"topic":"com.cli.news.a","args":[1,"two"],"kwargs":{}}"#
    );
    assert_eq!(
        subscriber.line(),
        r#"{"topic":"com.cli.news.b","args":[],"kwargs":{"x":-0.5}}"#
    );
    assert!(
        subscriber.wait().success(),
        "subscribe exits 0 after --count events"
    );
}

#[test]
fn wamp_errors_exit_1_with_the_uri_on_stderr() {
    let output = run(&["call", "com.cli.nobody.home", "1"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let message = stderr(&output);
    assert!(
        message.starts_with("wamp.error.no_such_procedure ["),
        "{message}"
    );
}

#[test]
fn connection_failures_exit_2_and_say_so() {
    let closed = wamp_testkit::closed_port::closed_port().unwrap();
    let port = closed.port();
    let output = wait_with_limit(
        Command::new(wamp_binary())
            .args(["--url", &format!("ws://127.0.0.1:{port}/ws"), "call", "x"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("connection refused"),
        "{}",
        stderr(&output)
    );

    let output = run(&["--realm", "no.such.realm", "call", "x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("wamp.error.no_such_realm"),
        "{}",
        stderr(&output)
    );
}

/// A tokio runtime serving procedures for the CLI to call.
fn serve(
    register: impl FnOnce(
        wampkit::Session,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Vec<wampkit::Registration>> + Send>,
    >,
) -> (
    tokio::runtime::Runtime,
    wampkit::Session,
    Vec<wampkit::Registration>,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let session = runtime
        .block_on(wampkit::Session::connect(&e2e::router_url(), "realm1"))
        .unwrap();
    let registrations = runtime.block_on(register(session.clone()));
    (runtime, session, registrations)
}

#[test]
fn call_with_progress_prints_each_result() {
    use wampkit::{Arguments, Invocation};
    let (_runtime, _session, _registrations) = serve(|session| {
        Box::pin(async move {
            let countdown = session
                .register("com.cli.countdown", |inv: Invocation| async move {
                    let n: i64 = inv.arg(0)?;
                    if let Some(progress) = inv.progress() {
                        for i in (1..=n).rev() {
                            let _ = progress.send_value(i);
                        }
                    }
                    Ok(Arguments::single("liftoff")?)
                })
                .await
                .unwrap();
            vec![countdown]
        })
    });
    let output = run(&["call", "com.cli.countdown", "3", "--progress"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).lines().collect::<Vec<_>>(),
        [
            r#"{"progress":true,"args":[3],"kwargs":{}}"#,
            r#"{"progress":true,"args":[2],"kwargs":{}}"#,
            r#"{"progress":true,"args":[1],"kwargs":{}}"#,
            r#"{"args":["liftoff"],"kwargs":{}}"#,
        ]
    );
    // Without --progress only the final result is printed.
    let output = run(&["call", "com.cli.countdown", "3"]);
    assert_eq!(stdout(&output), r#"{"args":["liftoff"],"kwargs":{}}"#);
}

#[test]
fn call_with_timeout_gives_up_and_exits_1() {
    use wampkit::{Arguments, Invocation};
    let (_runtime, _session, _registrations) = serve(|session| {
        Box::pin(async move {
            let never = session
                .register("com.cli.never", |inv: Invocation| async move {
                    inv.canceled().await;
                    Ok(Arguments::new())
                })
                .await
                .unwrap();
            vec![never]
        })
    });
    let started = std::time::Instant::now();
    let output = run(&["call", "com.cli.never", "--timeout", "0.5"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(stderr(&output).contains("timed out"), "{}", stderr(&output));
}
