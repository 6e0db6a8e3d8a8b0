//! The examples users copy (`examples/chat.rs`, `progress.rs`, `reconnect.rs`, `auth.rs`) run to
//! the end and print what their documentation promises, on their embedded router and against
//! the router under test (`--url` or `WAMP_URL`).
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::process::Stdio;
use std::time::Duration;

use testkit::e2e::{self, router, router_url};
use tokio::process::Command;

/// How long one example may take; each finishes in well under a second when it works.
const LIMIT: Duration = Duration::from_secs(30);

/// Runs the example `name` with `args` (and `env`), and returns its standard output once it
/// has exited successfully. The router is the embedded one unless `args` or `env` say otherwise.
async fn run(name: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let binary = e2e::example_binary(name).unwrap_or_else(|e| panic!("{e}"));
    let mut command = Command::new(binary);
    command
        .args(args)
        .env_remove("WAMP_URL")
        .env_remove("WAMP_REALM")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(LIMIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("the {name} example did not finish within {LIMIT:?}"))
        .unwrap_or_else(|e| panic!("the {name} example runs: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the {name} example failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

/// Asserts that `output` has each of `lines` (whole lines, in any order).
fn assert_lines(output: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            output.lines().any(|l| l == *line),
            "no line `{line}` in:\n{output}"
        );
    }
}

fn assert_chat(output: &str) {
    assert_lines(
        output,
        &[
            "alice says: Hello, is anybody there?",
            "  bob heard alice: Hello, is anybody there?",
            "  carol heard alice: Hello, is anybody there?",
            "bob says: Hi Alice, Bob here.",
            "  alice heard bob: Hi Alice, Bob here.",
            "  carol heard bob: Hi Alice, Bob here.",
            "carol says: Carol too. Nice typed events!",
            "  alice heard carol: Carol too. Nice typed events!",
            "  bob heard carol: Carol too. Nice typed events!",
            "  bob heard alice: Bye, both of you.",
            "  carol heard alice: Bye, both of you.",
            "the conversation is over",
        ],
    );
    // Under exclude_me, nobody hears themselves.
    for name in ["alice", "bob", "carol"] {
        assert!(
            !output.contains(&format!("{name} heard {name}:")),
            "{name} heard themselves:\n{output}"
        );
    }
}

#[tokio::test]
async fn chat_on_the_embedded_router() {
    assert_chat(&run("chat", &[], &[]).await);
}

#[tokio::test]
async fn chat_on_the_router_of_wamp_url() {
    let url = router_url();
    assert_chat(&run("chat", &[], &[("WAMP_URL", &url), ("WAMP_REALM", "realm1")]).await);
}

fn assert_progress(output: &str) {
    let progress: Vec<&str> = output
        .lines()
        .filter(|line| line.starts_with("progress: "))
        .collect();
    assert_eq!(
        progress,
        [
            "progress: 1/5",
            "progress: 2/5",
            "progress: 3/5",
            "progress: 4/5",
            "progress: 5/5"
        ],
        "{output}"
    );
    assert_eq!(
        output.lines().last(),
        Some("result: downloaded 5 chunks"),
        "{output}"
    );
}

#[tokio::test]
async fn progress_on_the_embedded_router() {
    let output = run("progress", &["--chunks", "5", "--delay-ms", "10"], &[]).await;
    assert_progress(&output);
}

#[tokio::test]
async fn progress_on_the_router_of_url() {
    let url = router_url();
    let args = ["--chunks", "5", "--delay-ms", "10", "--url", &url];
    assert_progress(&run("progress", &args, &[]).await);
}

#[tokio::test]
async fn reconnect_restarts_its_router_and_gets_its_registration_back() {
    let output = run("reconnect", &[], &[]).await;
    assert_lines(
        &output,
        &[
            "registered com.example.reconnect.ping and subscribed com.example.reconnect.news",
            "before the restart: the client received: news before the restart",
            "restarting the router",
            "after the restart: the client received: news after the restart",
            "state: closed (closed by this client (wamp.close.close_realm))",
        ],
    );
    // Two sessions: the first, and the one after the restart, which answers every call after it.
    // (The states in between may pass too quickly for the printer to see them all.)
    let joined: Vec<&str> = output
        .lines()
        .filter_map(|line| line.strip_prefix("state: joined as session "))
        .collect();
    let [before, after] = joined.as_slice() else {
        panic!("two joins expected:\n{output}");
    };
    assert_ne!(before, after, "{output}");
    assert_lines(
        &output,
        &[
            &format!("before the restart: another session's call: pong from session {before}"),
            &format!("after the restart: the client's own call: pong from session {after}"),
            &format!("after the restart: another session's call: pong from session {after}"),
        ],
    );
}

fn assert_auth(output: &str) {
    for (method, authid) in [
        ("ticket", "ticket-user"),
        ("wampcra", "cra-user"),
        ("cryptosign", "cs-user"),
    ] {
        let prefix = format!(
            "{method}: joined as authid {authid}, authrole user (authmethod {method}, session "
        );
        assert!(
            output.lines().any(|line| line.starts_with(&prefix)),
            "no line `{prefix}...` in:\n{output}"
        );
    }
    assert!(
        output.lines().any(|line| line.starts_with(
            "wampcra with a wrong secret: refused (Error::Aborted): wamp.error.not_authorized"
        )),
        "{output}"
    );
}

#[tokio::test]
async fn auth_on_the_embedded_router() {
    assert_auth(&run("auth", &[], &[]).await);
}

#[tokio::test]
async fn auth_on_the_router_of_url() {
    let url = router().url("auth");
    assert_auth(&run("auth", &["--url", &url, "--realm", "realm1"], &[]).await);
}
