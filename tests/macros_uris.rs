//! URIs chosen at run time, end to end against the router under test and Autobahn|Python peers,
//! for every serializer: one `#[service]` contract served under two prefixes side by side, URI
//! templates whose `{name}` components are typed parameters (called and published to from Rust
//! and from Python, and a component that does not parse answered with
//! `wamp.error.invalid_argument`), a typed stub calling a Python callee's concrete URI, and the
//! errors of an invalid prefix, of overlapping patterns and of a value that is not one URI
//! component.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use serde_json::json;
use testkit::e2e::{connect, python_call, python_line, python_publish, python_ready, within};
use tokio::sync::mpsc;
use wampkit::{CallError, Error, ErrorUri, InvocationDetails, Serializer, service};

/// How long a test waits to be sure that something does *not* arrive.
const QUIET: Duration = Duration::from_millis(500);

/// One tenant's directory: the same contract for every tenant, under the tenant's prefix.
#[service]
pub trait Directory {
    /// `{prefix}.add`.
    async fn add(&self, a: i64, b: i64) -> i64;

    /// `{prefix}.user.{id}.rename`: answers `tenant:id:name`.
    #[wamp(name = "user.{id}.rename")]
    async fn rename(&self, id: u64, name: String) -> String;

    /// Two components and the details: answers the shelf, the number and the concrete URI.
    #[wamp(name = "shelf.{shelf}.book.{number}")]
    async fn book(
        &self,
        shelf: String,
        number: i64,
        details: InvocationDetails,
    ) -> (String, i64, String);

    /// `{prefix}.room.{room}.message`.
    #[wamp(event, name = "room.{room}.message")]
    async fn message(&self, room: String, text: String);

    /// `{prefix}.count.{to}`: progressive results 1 to `to`.
    #[wamp(name = "count.{to}")]
    fn count(&self, to: u32) -> impl Stream<Item = u32> + Send;
}

struct Tenant {
    name: &'static str,
    messages: mpsc::UnboundedSender<(&'static str, String, String)>,
}

impl Directory for Tenant {
    async fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    async fn rename(&self, id: u64, name: String) -> String {
        format!("{}:{id}:{name}", self.name)
    }

    async fn book(
        &self,
        shelf: String,
        number: i64,
        details: InvocationDetails,
    ) -> (String, i64, String) {
        (shelf, number, details.procedure)
    }

    async fn message(&self, room: String, text: String) {
        let _ = self.messages.send((self.name, room, text));
    }

    fn count(&self, to: u32) -> impl Stream<Item = u32> + Send {
        futures_util::stream::iter(1..=to)
    }
}

/// Procedures of Python callees, each registered under its own concrete URI: `{peer}` picks one.
#[service]
pub trait Peers {
    /// `{prefix}.{peer}.add`.
    #[wamp(name = "{peer}.add")]
    async fn add(&self, peer: String, a: i64, b: i64) -> i64;
}

/// A unique prefix per test and serializer: tests share the router.
fn prefix(serializer: Serializer, test: &str) -> String {
    format!(
        "com.muri.p{}.{}.{test}",
        std::process::id(),
        serializer.name()
    )
}

/// Registers tenants `a` and `b` under `{prefix}.a` and `{prefix}.b` on one session; returns
/// the session, the registrations and the messages their event handlers receive.
async fn two_tenants(
    serializer: Serializer,
    prefix: &str,
) -> (
    wampkit::Session,
    Vec<wampkit::ServiceRegistration>,
    mpsc::UnboundedReceiver<(&'static str, String, String)>,
) {
    let session = connect(serializer).await;
    let (messages, received) = mpsc::unbounded_channel();
    let mut registrations = Vec::new();
    for name in ["a", "b"] {
        let tenant = Tenant {
            name,
            messages: messages.clone(),
        };
        let registration = within(
            "register a tenant",
            DirectoryService::register_with_prefix(&session, &format!("{prefix}.{name}"), tenant),
        )
        .await
        .unwrap();
        registrations.push(registration);
    }
    (session, registrations, received)
}

async fn two_prefixes_side_by_side(serializer: Serializer) {
    let prefix = prefix(serializer, "side");
    let (session, registrations, mut messages) = two_tenants(serializer, &prefix).await;
    let procedures: Vec<&str> = registrations[0]
        .registrations()
        .iter()
        .map(|r| r.procedure())
        .collect();
    assert_eq!(
        procedures,
        [
            format!("{prefix}.a.add"),
            format!("{prefix}.a.user..rename"),
            format!("{prefix}.a.shelf..book."),
            format!("{prefix}.a.count."),
        ]
    );
    let topics: Vec<&str> = registrations[1]
        .subscriptions()
        .iter()
        .map(|s| s.topic())
        .collect();
    assert_eq!(topics, [format!("{prefix}.b.room..message")]);

    let caller = connect(serializer).await;
    let a = DirectoryClient::with_prefix(&caller, &format!("{prefix}.a")).unwrap();
    let b = DirectoryClient::with_prefix(&caller, &format!("{prefix}.b")).unwrap();
    assert_eq!(a.prefix(), format!("{prefix}.a"));
    assert_eq!(within("add", a.add(2, 3)).await.unwrap(), 5);
    assert_eq!(
        within("rename a", a.rename(42, "Ada".into()))
            .await
            .unwrap(),
        "a:42:Ada"
    );
    assert_eq!(
        within("rename b", b.rename(7, "Bo".into())).await.unwrap(),
        "b:7:Bo"
    );
    assert_eq!(
        within("book", b.book("fiction".into(), -12)).await.unwrap(),
        (
            "fiction".to_owned(),
            -12,
            format!("{prefix}.b.shelf.fiction.book.-12")
        )
    );

    let counted: Vec<u32> = within("count", a.count(3).map(Result::unwrap).collect()).await;
    assert_eq!(counted, [1, 2, 3]);

    // The publisher fills the room in; only tenant b's handler is subscribed to b's rooms.
    within("publish", b.message("lobby".into(), "hello".into()))
        .await
        .unwrap();
    let received = within("message", messages.recv()).await.unwrap();
    assert_eq!(received, ("b", "lobby".to_owned(), "hello".to_owned()));
    assert!(
        tokio::time::timeout(QUIET, messages.recv()).await.is_err(),
        "tenant a received b's message"
    );
    drop(session);
}

async fn python_calls_and_publishes_templated_uris(serializer: Serializer) {
    let prefix = prefix(serializer, "py");
    let (_session, _registrations, mut messages) = two_tenants(serializer, &prefix).await;

    let answer = python_call(
        serializer,
        &format!("{prefix}.a.user.42.rename"),
        json!(["Ada"]),
        json!({}),
    )
    .await;
    assert_eq!(answer["args"], json!(["a:42:Ada"]), "{answer}");
    let answer = python_call(
        serializer,
        &format!("{prefix}.b.shelf.poetry.book.7"),
        json!([]),
        json!({}),
    )
    .await;
    assert_eq!(
        answer["args"],
        json!([["poetry", 7, format!("{prefix}.b.shelf.poetry.book.7")]]),
        "{answer}"
    );

    // A component that does not parse into the parameter's type is the caller's mistake.
    let answer = python_call(
        serializer,
        &format!("{prefix}.a.user.ada.rename"),
        json!(["Ada"]),
        json!({}),
    )
    .await;
    assert_eq!(answer["error"], "wamp.error.invalid_argument", "{answer}");
    let message = answer["args"][0].as_str().unwrap_or_default();
    assert!(
        message.contains("{id}") && message.contains("`ada`"),
        "{answer}"
    );

    python_publish(
        serializer,
        &format!("{prefix}.a.room.kitchen.message"),
        json!(["soup"]),
        json!({}),
    )
    .await;
    let received = within("message", messages.recv()).await.unwrap();
    assert_eq!(received, ("a", "kitchen".to_owned(), "soup".to_owned()));
}

async fn rust_stub_calls_python_callee(serializer: Serializer) {
    let prefix = prefix(serializer, "callee");
    let mut callee = python_ready(vec![
        "--serializer".into(),
        serializer.name().into(),
        "callee".into(),
        "--prefix".into(),
        format!("{prefix}.peer7"),
    ])
    .await;
    let session = connect(serializer).await;
    let peers = PeersClient::with_prefix(&session, &prefix).unwrap();
    assert_eq!(
        within("add", peers.add("peer7".into(), 2, 40))
            .await
            .unwrap(),
        42
    );
    let refused = within("add", peers.add("peer8".into(), 2, 40)).await;
    assert!(
        matches!(&refused, Err(CallError::Other(Error::Wamp(e))) if e.uri == ErrorUri::NoSuchProcedure),
        "{refused:?}"
    );
    callee.terminate(Duration::from_secs(10)).ok();

    // A Python subscriber of a concrete topic receives what the publisher method fills in.
    let subscriber = python_ready(vec![
        "--serializer".into(),
        serializer.name().into(),
        "subscribe".into(),
        format!("{prefix}.room.lobby.message"),
    ])
    .await;
    let directory = DirectoryClient::with_prefix(&session, &prefix).unwrap();
    within("publish", directory.message("lobby".into(), "hi".into()))
        .await
        .unwrap();
    let (_subscriber, event) = python_line(subscriber).await;
    assert_eq!(event["args"], json!(["hi"]), "{event}");
}

async fn uri_mistakes(serializer: Serializer) {
    let session = connect(serializer).await;
    let (messages, _received) = mpsc::unbounded_channel();
    for bad in ["", "com..x", "com.x.", "com.ex ample"] {
        let tenant = Tenant {
            name: "x",
            messages: messages.clone(),
        };
        let refused = DirectoryService::register_with_prefix(&session, bad, tenant).await;
        assert!(
            matches!(&refused, Err(Error::InvalidUri { uri, .. }) if uri == bad),
            "{bad:?}: {refused:?}"
        );
        let refused = DirectoryClient::with_prefix(&session, bad);
        assert!(
            matches!(&refused, Err(Error::InvalidUri { uri, .. }) if uri == bad),
            "{bad:?}: {refused:?}"
        );
    }

    // A value that is not exactly one URI component would call another procedure.
    let peers = PeersClient::with_prefix(&session, &prefix(serializer, "mistakes")).unwrap();
    for bad in ["a.b", "", "a b", "a#b"] {
        let refused = peers.add(bad.into(), 1, 2).await;
        assert!(
            matches!(&refused, Err(CallError::Other(Error::InvalidUri { .. }))),
            "{bad:?}: {refused:?}"
        );
    }
}

/// `{prefix}.{group}` and the complete `com.muri.clash.{t}.admin` overlap only under some
/// prefixes: that is seen when registering.
#[service]
pub trait Clashing {
    /// A team's admin.
    #[wamp(uri = "com.muri.clash.{team}.admin")]
    async fn admin(&self, team: String) -> String;

    /// A group's admin.
    #[wamp(name = "{group}.admin")]
    async fn group_admin(&self, group: String) -> String;
}

struct Clash;

impl Clashing for Clash {
    async fn admin(&self, team: String) -> String {
        format!("team {team}")
    }

    async fn group_admin(&self, group: String) -> String {
        format!("group {group}")
    }
}

/// Once, not per serializer: the complete URI is the same in every run.
#[tokio::test]
async fn overlapping_patterns_at_registration() {
    let serializer = Serializer::Json;
    let session = connect(serializer).await;
    // `com.muri.clash..admin` and `com.muri.clash..admin` again: refused before the second.
    let refused = ClashingService::register_with_prefix(&session, "com.muri.clash", Clash).await;
    assert!(
        matches!(&refused, Err(Error::OverlappingUris { first, second })
            if first == "com.muri.clash..admin" && second == "com.muri.clash..admin"),
        "{refused:?}"
    );
    // Nothing stays registered: under another prefix the same service registers (the router
    // would refuse `com.muri.clash..admin` a second time otherwise) and answers.
    let other = format!("com.muri.other{}", serializer.name());
    let _registration = within(
        "register",
        ClashingService::register_with_prefix(&session, &other, Clash),
    )
    .await
    .unwrap();
    let caller = connect(serializer).await;
    let client = ClashingClient::with_prefix(&caller, &other).unwrap();
    assert_eq!(
        within("admin", client.admin("red".into())).await.unwrap(),
        "team red"
    );
    assert_eq!(
        within("group admin", client.group_admin("ops".into()))
            .await
            .unwrap(),
        "group ops"
    );
}

testkit::per_serializer!(
    two_prefixes_side_by_side,
    python_calls_and_publishes_templated_uris,
    rust_stub_calls_python_callee,
    uri_mistakes,
);
