//! Async helpers shared by the end-to-end tests (`tests/*.rs`): time limits, sessions on the
//! [`shared`](crate::shared) router, Autobahn|Python peers run off the async runtime, polling,
//! the example binaries, and
//! [`per_serializer!`](crate::per_serializer).
//!
//! These are assertions for tests: where a step times out or fails, they panic with a message
//! that names the step (as a test's own `assert!` would), so that a test reads as a sequence of
//! steps. Every limit is a parameter or one of the constants below; helpers without a limit in
//! their name use [`LIMIT`] (sessions) or [`PEER_LIMIT`] (Python peers).
//!
//! ```no_run
//! use testkit::e2e::{connect, within};
//! use wampkit::Serializer;
//!
//! async fn count_sessions() -> u64 {
//!     let session = connect(Serializer::Json).await;
//!     within("count", session.call("wamp.session.count", ()))
//!         .await
//!         .map_or(0, |result| result.arg(0).unwrap_or(0))
//! }
//! ```

use std::fmt::Display;
use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use wampkit::{Event, Invocation, Registration, Serializer, Session, SessionBuilder, Subscription};

use crate::{PythonPeer, TestRouter};

/// The default time limit of one step ([`within`], [`connect`], [`join`], ...): a hang fails the
/// test instead of CI.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The time limit of one Python peer step ([`python_run`], [`python_ready`], [`python_line`]):
/// a peer starts an interpreter and connects first.
pub const PEER_LIMIT: Duration = Duration::from_secs(60);

/// Awaits `future` for at most [`LIMIT`].
///
/// # Panics
///
/// With `timed out: {what}` when the limit passes first.
pub async fn within<T>(what: &str, future: impl IntoFuture<Output = T>) -> T {
    within_for(LIMIT, what, future).await
}

/// Awaits `future` for at most `limit`.
///
/// # Panics
///
/// With `timed out: {what}` when the limit passes first.
// Panicking is the point: a step that hangs fails the test, naming the step.
#[allow(clippy::panic)]
pub async fn within_for<T>(limit: Duration, what: &str, future: impl IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(limit, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// The router all tests of one test binary share ([`shared`](crate::shared)).
///
/// # Panics
///
/// When the router cannot be started.
// Panicking is the point: without a router, no end-to-end test can run.
#[allow(clippy::panic)]
pub fn router() -> &'static TestRouter {
    match crate::shared() {
        Ok(router) => router,
        Err(e) => panic!("the router starts: {e}"),
    }
}

/// The anonymous WebSocket URL of [`router`].
///
/// # Panics
///
/// When the router cannot be started.
pub fn router_url() -> String {
    router().ws_url()
}

/// A session on `realm1` of [`router`] (anonymous WebSocket) with `serializer`, joined within
/// [`LIMIT`].
///
/// # Panics
///
/// When the router cannot be started, or the session does not join in time.
pub async fn connect(serializer: Serializer) -> Session {
    connect_to(&router_url(), serializer).await
}

/// A session on `realm1` at `url` with `serializer`, joined within [`LIMIT`].
///
/// # Panics
///
/// When the session does not join in time; the message names `url` and the error.
pub async fn connect_to(url: &str, serializer: Serializer) -> Session {
    connect_for(LIMIT, url, serializer).await
}

/// A session on `realm1` at `url` with `serializer`, joined within `limit`.
///
/// # Panics
///
/// When the session does not join in time; the message names `url` and the error.
// Panicking is the point: a test cannot go on without its session.
#[allow(clippy::panic)]
pub async fn connect_for(limit: Duration, url: &str, serializer: Serializer) -> Session {
    let builder = Session::builder(url, "realm1").serializer(serializer);
    match within_for(limit, "connect", builder.connect()).await {
        Ok(session) => session,
        Err(e) => panic!("joins realm1 at {url}: {e}"),
    }
}

/// Connects and joins with `builder` (any URL, realm, serializer or option) within [`LIMIT`].
///
/// # Panics
///
/// When the session does not join in time.
// Panicking is the point: a test cannot go on without its session.
#[allow(clippy::panic)]
pub async fn join(builder: SessionBuilder) -> Session {
    match within("connect", builder.connect()).await {
        Ok(session) => session,
        Err(e) => panic!("joins: {e}"),
    }
}

/// Registers `uri` on `session` (within [`LIMIT`]) as a procedure that answers with its
/// arguments: positional and keyword arguments come back as they were sent.
///
/// # Panics
///
/// When the registration fails or takes too long.
// Panicking is the point: a test cannot go on without its procedure.
#[allow(clippy::panic)]
pub async fn register_echo(session: &Session, uri: &str) -> Registration {
    let register = session.register(uri, |inv: Invocation| async move { Ok(inv.arguments()) });
    match within("register echo", register).await {
        Ok(registration) => registration,
        Err(e) => panic!("registers {uri}: {e}"),
    }
}

/// The next event of `events`, within [`LIMIT`].
///
/// # Panics
///
/// When no event arrives in time, or the subscription has ended.
// Panicking is the point: the test expected an event.
#[allow(clippy::panic)]
pub async fn next_event(events: &mut Subscription) -> Event {
    match within("event", events.next_event()).await {
        Some(event) => event,
        None => panic!("an event: the subscription has ended"),
    }
}

/// Calls `poll` until it returns `Ok`, sleeping `interval` after every `Err`, for at most
/// `timeout`; returns the `Ok` value.
///
/// `poll` is always called at least once, and once more after the last sleep that ends before
/// the deadline.
///
/// # Panics
///
/// With `{what}: {error}` (the last error) when `timeout` has passed.
// Panicking is the point: the condition the test waits for did not come true.
#[allow(clippy::panic)]
pub async fn eventually<T, E, F, Fut>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut poll: F,
) -> T
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match poll().await {
            Ok(value) => return value,
            Err(e) if Instant::now() >= deadline => panic!("{what}: {e}"),
            Err(_) => tokio::time::sleep(interval).await,
        }
    }
}

/// Runs a one-shot Python peer ([`run_python`](crate::run_python) against [`router`], within
/// [`PEER_LIMIT`]) off the async runtime; returns its stdout.
///
/// `args` are `peer.py`'s arguments, e.g. `call com.example.add --args "[1, 2]"` as four strings.
///
/// # Panics
///
/// When the peer fails; the message holds its output.
pub async fn python_run(args: Vec<String>) -> String {
    off_runtime("python peer failed", move || {
        crate::run_python(router(), &borrowed(&args), PEER_LIMIT)
    })
    .await
}

/// Runs a one-shot Python peer ([`python_run`]) and parses the last line of its stdout that
/// starts with `{` as JSON.
///
/// # Panics
///
/// When the peer fails or prints no JSON line.
// Panicking is the point: the test's peer failed.
#[allow(clippy::panic)]
pub async fn python_json(args: Vec<String>) -> Json {
    let stdout = python_run(args).await;
    let Some(line) = stdout.lines().rfind(|l| l.starts_with('{')) else {
        panic!("no JSON line in python output: {stdout}");
    };
    match serde_json::from_str(line) {
        Ok(json) => json,
        Err(e) => panic!("{e}: {line}"),
    }
}

/// Calls `procedure` once from Autobahn|Python (`peer.py call`) with `serializer`; returns
/// `{"args", "kwargs"}`, or `{"error", "args", "kwargs"}` for an error.
///
/// # Panics
///
/// When the peer fails or prints no JSON line.
pub async fn python_call(
    serializer: wampkit::Serializer,
    procedure: &str,
    args: Json,
    kwargs: Json,
) -> Json {
    python_json(vec![
        "--serializer".into(),
        serializer.name().into(),
        "call".into(),
        procedure.into(),
        "--args".into(),
        args.to_string(),
        "--kwargs".into(),
        kwargs.to_string(),
    ])
    .await
}

/// Publishes one event from Autobahn|Python (`peer.py publish`, acknowledged) with
/// `serializer`.
///
/// # Panics
///
/// When the peer fails or the router does not acknowledge the publication.
// Panicking is the point: the test's peer failed.
#[allow(clippy::panic)]
pub async fn python_publish(
    serializer: wampkit::Serializer,
    topic: &str,
    args: Json,
    kwargs: Json,
) {
    let out = python_run(vec![
        "--serializer".into(),
        serializer.name().into(),
        "publish".into(),
        topic.into(),
        "--args".into(),
        args.to_string(),
        "--kwargs".into(),
        kwargs.to_string(),
    ])
    .await;
    if !out.contains("published") {
        panic!("python publish failed: {out}");
    }
}

/// Starts a long-running Python peer ([`PythonPeer::spawn`] against [`router`]) off the async
/// runtime and waits up to [`PEER_LIMIT`] for its `ready` line.
///
/// # Panics
///
/// When the peer cannot be started or does not get ready in time.
pub async fn python_ready(args: Vec<String>) -> PythonPeer {
    off_runtime("python peer not ready", move || {
        let mut peer = PythonPeer::spawn(router(), &borrowed(&args))?;
        peer.wait_for_line("ready", PEER_LIMIT)?;
        Ok(peer)
    })
    .await
}

/// Reads the next line of a long-running Python peer off the async runtime (waiting up to
/// [`PEER_LIMIT`]) and parses it as JSON; gives the peer back with it.
///
/// # Panics
///
/// When no line comes in time, or it is not JSON.
pub async fn python_line(mut peer: PythonPeer) -> (PythonPeer, Json) {
    off_runtime("python peer line", move || {
        let line = peer.read_line(PEER_LIMIT)?;
        let json = serde_json::from_str(&line).map_err(|e| format!("{e}: {line}"))?;
        Ok((peer, json))
    })
    .await
}

/// The path of the example `name` (e.g. `wamp`, from `examples/wamp.rs`), which `cargo test`
/// builds next to the test binaries.
///
/// Fails when the binary is missing, e.g. when the test binary runs outside of `cargo test`.
pub fn example_binary(name: &str) -> Result<PathBuf, String> {
    let mut dir = std::env::current_exe().map_err(|e| format!("the test binary's path: {e}"))?;
    dir.pop(); // the test binary
    if dir.ends_with("deps") {
        dir.pop();
    }
    let binary = dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!(
            "{} is missing: run through `cargo test` (which builds the examples) or `cargo build \
             --example {name}` first",
            binary.display()
        ))
    }
}

/// Defines one `#[tokio::test]` per serializer (JSON, MessagePack, CBOR) for each of the named
/// `async fn name(serializer: wampkit::Serializer)` of the calling module.
///
/// The tests go to the modules `json`, `msgpack` and `cbor` (so a test is named e.g.
/// `msgpack::publish_and_subscribe`). The calling crate needs `tokio` (with the `macros`
/// feature) and `wampkit`.
///
/// ```no_run
/// async fn round_trip(serializer: wampkit::Serializer) {
///     let session = testkit::e2e::connect(serializer).await;
///     assert_eq!(session.serializer(), serializer);
/// }
///
/// async fn leave(serializer: wampkit::Serializer) {
///     let session = testkit::e2e::connect(serializer).await;
///     testkit::e2e::within("leave", session.leave()).await.ok();
/// }
///
/// testkit::per_serializer!(round_trip, leave);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! per_serializer {
    ($($name:ident),* $(,)?) => {
        mod json { $( #[tokio::test] async fn $name() { super::$name(wampkit::Serializer::Json).await } )* }
        mod msgpack { $( #[tokio::test] async fn $name() { super::$name(wampkit::Serializer::MsgPack).await } )* }
        mod cbor { $( #[tokio::test] async fn $name() { super::$name(wampkit::Serializer::Cbor).await } )* }
    };
}

/// Runs the blocking `job` (a Python peer step) on tokio's blocking threads and returns its
/// value.
///
/// # Panics
///
/// With `{what}: {error}` when the job fails, or when its task panicked.
// Panicking is the point: the test's peer step failed.
#[allow(clippy::panic)]
async fn off_runtime<T, F>(what: &str, job: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, String> + Send + 'static,
{
    match tokio::task::spawn_blocking(job).await {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => panic!("{what}: {e}"),
        Err(e) => panic!("{what}: the blocking task failed: {e}"),
    }
}

/// `args` as the `&[&str]` that [`PythonPeer::spawn`] takes.
fn borrowed(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn within_returns_the_output() {
        assert_eq!(within("ready", async { 7 }).await, 7);
    }

    #[tokio::test]
    #[should_panic(expected = "timed out: never")]
    async fn within_for_panics_on_timeout() {
        within_for(
            Duration::from_millis(10),
            "never",
            std::future::pending::<()>(),
        )
        .await;
    }

    #[tokio::test]
    async fn eventually_polls_until_ok() {
        let mut calls = 0;
        let value = eventually(
            "counting",
            Duration::from_secs(5),
            Duration::from_millis(1),
            || {
                calls += 1;
                let done = calls;
                async move { if done >= 3 { Ok(done) } else { Err("not yet") } }
            },
        )
        .await;
        assert_eq!(value, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "stuck: still 0")]
    async fn eventually_panics_with_the_last_error() {
        eventually(
            "stuck",
            Duration::from_millis(20),
            Duration::from_millis(5),
            || async { Err::<(), _>("still 0") },
        )
        .await;
    }

    #[test]
    fn args_are_borrowed() {
        let args = vec!["call".to_owned(), "x".to_owned()];
        assert_eq!(borrowed(&args), vec!["call", "x"]);
    }

    #[test]
    fn missing_example_is_explained() {
        let err = example_binary("no-such-example").err().unwrap_or_default();
        assert!(err.contains("no-such-example"), "{err}");
        assert!(
            err.contains("cargo build --example no-such-example"),
            "{err}"
        );
    }
}
