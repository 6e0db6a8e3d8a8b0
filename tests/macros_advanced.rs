//! The advanced profile through the macros, against the router under test: progressive
//! procedures (a method returning a stream; its client method returns a stream), pattern-based
//! registrations and subscriptions, shared registrations, caller disclosure, client deadlines
//! that cancel, and the callee seeing the cancellation; then the options of the generated client
//! (per-call deadlines, publication acknowledgement and `exclude_me`), the error hook of a
//! registration, and payload errors naming their procedure or topic.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use serde::{Deserialize, Serialize};
use testkit::e2e::{connect, within};
use tokio::sync::mpsc;
use wampkit::{
    ApplicationError, CallError, Error, EventDetails, InvocationDetails, Serializer, service,
};

/// Errors of the streaming procedures.
#[derive(Debug, PartialEq, ApplicationError)]
pub enum StreamError {
    /// The countdown was asked to fail at this number.
    #[wamp(uri = "com.madv.error.failed_at")]
    FailedAt(u32),
}

/// What the handlers report to the test.
#[derive(Debug, PartialEq)]
pub enum Report {
    /// A slow call noticed its cancellation.
    Cancelled,
    /// An event arrived on this concrete topic with this value.
    Event(String, i64),
}

/// The contract exercised here.
#[service(prefix = "com.madv")]
pub trait Advanced {
    /// Counts down from `n`: every number is a result, the last one final.
    fn countdown(&self, n: u32) -> impl Stream<Item = u32> + Send;

    /// Counts down from `n` and fails when reaching `fail_at`.
    fn fragile_countdown(
        &self,
        n: u32,
        fail_at: u32,
    ) -> impl Stream<Item = Result<u32, StreamError>> + Send;

    /// Serves every procedure under `com.madv.user.`: answers with the concrete URI.
    #[wamp(uri = "com.madv.user", match = "prefix")]
    async fn any_user(&self, details: InvocationDetails) -> String;

    /// Serves `com.madv.<anything>.ping`.
    #[wamp(uri = "com.madv..ping", match = "wildcard")]
    async fn any_ping(&self, details: InvocationDetails) -> String;

    /// A shared procedure: answers with this instance's number.
    #[wamp(invoke = "roundrobin")]
    async fn which(&self) -> u32;

    /// Who called (the router discloses callers to this procedure).
    #[wamp(disclose_caller)]
    async fn caller(&self, details: InvocationDetails) -> Option<u64>;

    /// Waits until canceled (or 10 s).
    async fn slow(&self, details: InvocationDetails) -> bool;

    /// Every event under `com.madv.news.`.
    #[wamp(topic = "com.madv.news", match = "prefix")]
    async fn news(&self, value: i64, details: EventDetails);
}

struct Impl {
    number: u32,
    reports: mpsc::UnboundedSender<Report>,
}

impl Advanced for Impl {
    fn countdown(&self, n: u32) -> impl Stream<Item = u32> + Send {
        futures_util::stream::iter((1..=n).rev())
    }

    fn fragile_countdown(
        &self,
        n: u32,
        fail_at: u32,
    ) -> impl Stream<Item = Result<u32, StreamError>> + Send {
        futures_util::stream::iter((1..=n).rev().map(move |i| {
            if i == fail_at {
                Err(StreamError::FailedAt(i))
            } else {
                Ok(i)
            }
        }))
    }

    async fn any_user(&self, details: InvocationDetails) -> String {
        details.procedure
    }

    async fn any_ping(&self, details: InvocationDetails) -> String {
        details.procedure
    }

    async fn which(&self) -> u32 {
        self.number
    }

    async fn caller(&self, details: InvocationDetails) -> Option<u64> {
        details.caller
    }

    async fn slow(&self, details: InvocationDetails) -> bool {
        tokio::select! {
            () = details.canceled() => {
                let _ = self.reports.send(Report::Cancelled);
                false
            }
            () = tokio::time::sleep(Duration::from_secs(10)) => true,
        }
    }

    async fn news(&self, value: i64, details: EventDetails) {
        let _ = self
            .reports
            .send(Report::Event(details.topic.into(), value));
    }
}

/// Runs the whole scenario on one serializer. The contract's URIs are fixed, so the
/// serializers run one after the other in a single test.
async fn scenario(serializer: Serializer) {
    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let first = connect(serializer).await;
    let second = connect(serializer).await;
    let caller = connect(serializer).await;
    let one = within(
        "register 1",
        AdvancedService::register(
            &first,
            Impl {
                number: 1,
                reports: reports_tx.clone(),
            },
        ),
    )
    .await
    .unwrap();
    // The second instance may only share `which`; its other registrations would be refused,
    // so it registers a contract of its own for that one procedure.
    let two = within("register 2", SharedService::register(&second, Second))
        .await
        .unwrap();
    let client = AdvancedClient::new(&caller);

    // Progressive results through the stub.
    let numbers: Vec<u32> = within(
        "countdown",
        client.countdown(4).map(|r| r.unwrap()).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(numbers, [4, 3, 2, 1]);
    let empty: Vec<u32> = within(
        "empty countdown",
        client.countdown(0).map(|r| r.unwrap()).collect::<Vec<_>>(),
    )
    .await;
    assert!(empty.is_empty());
    // A plain call sees only the final (last) result.
    let last: u32 = within("plain call", caller.call("com.madv.countdown", (4,)))
        .await
        .unwrap()
        .arg(0)
        .unwrap();
    assert_eq!(last, 1);
    // A stream of Results: items, then the typed error.
    let results: Vec<Result<u32, CallError<StreamError>>> = within(
        "fragile",
        client.fragile_countdown(5, 3).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0].as_ref().unwrap(), &5);
    assert_eq!(results[1].as_ref().unwrap(), &4);
    assert!(
        matches!(
            results[2],
            Err(CallError::Application(StreamError::FailedAt(3)))
        ),
        "{results:?}"
    );

    // Pattern-based registrations: the concrete procedure reaches the method.
    let procedure: String = within("prefix", caller.call("com.madv.user.42.name", ()))
        .await
        .unwrap()
        .arg(0)
        .unwrap();
    assert_eq!(procedure, "com.madv.user.42.name");
    let procedure: String = within("wildcard", caller.call("com.madv.eu.ping", ()))
        .await
        .unwrap()
        .arg(0)
        .unwrap();
    assert_eq!(procedure, "com.madv.eu.ping");

    // Shared registration: the two instances take turns.
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(within("which", client.which()).await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, [1, 1, 2, 2], "roundrobin over both instances");

    // Caller disclosure.
    assert_eq!(
        within("caller", client.caller()).await.unwrap(),
        Some(caller.id())
    );

    // A client deadline cancels the call; the method sees the cancellation.
    let err = within(
        "slow",
        client.with_timeout(Duration::from_millis(300)).slow(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, CallError::Other(Error::Timeout { .. })),
        "{err:?}"
    );
    assert_eq!(
        within("cancelled", reports.recv()).await,
        Some(Report::Cancelled)
    );

    // Pattern subscription: concrete topics reach the handler; no publisher method exists for a
    // pattern, so publish with the session.
    within(
        "publish",
        caller.publish("com.madv.news.sports", (7,)).acknowledge(),
    )
    .await
    .unwrap();
    assert_eq!(
        within("event", reports.recv()).await,
        Some(Report::Event("com.madv.news.sports".into(), 7))
    );

    // Clean up before the next serializer registers the same URIs.
    within("unregister 1", one.unregister()).await.unwrap();
    within("unregister 2", two.unregister()).await.unwrap();
    for session in [first, second, caller] {
        within("leave", session.leave()).await.unwrap();
    }
}

/// A second instance of the shared `which` procedure.
#[service(prefix = "com.madv")]
pub trait Shared {
    /// The same procedure as `Advanced::which`, registered with the same policy.
    #[wamp(invoke = "roundrobin")]
    async fn which(&self) -> u32;
}

struct Second;

impl Shared for Second {
    async fn which(&self) -> u32 {
        2
    }
}

#[tokio::test]
async fn advanced_features_through_the_macros() {
    for serializer in [Serializer::Json, Serializer::MsgPack, Serializer::Cbor] {
        scenario(serializer).await;
    }
}

/// The contract of the client and registration options.
#[service(prefix = "com.mopt")]
pub trait Options {
    /// Adds.
    async fn add(&self, a: i64, b: i64) -> i64;

    /// Waits until canceled (or 10 s).
    async fn stall(&self, details: InvocationDetails) -> bool;

    /// A name (the `Mismatch` contract reads it as a number).
    async fn label(&self) -> String;

    /// The stock of an item changed.
    #[wamp(event)]
    async fn stock(&self, item: String, count: u32);
}

/// Some of `Options`' URIs with other types: a result that does not decode, an argument that
/// cannot be encoded.
#[service(prefix = "com.mopt")]
pub trait Mismatch {
    /// `com.mopt.label`, read as a number.
    async fn label(&self) -> u32;

    /// `com.mopt.add`, with an argument that cannot be encoded.
    async fn add(&self, a: Unsendable, b: i64) -> i64;

    /// The second argument unsendable (it fails before it is sent).
    async fn add_second(&self, a: i64, b: Unsendable) -> i64;

    /// Keyword arguments from a struct that cannot be sent.
    async fn add_options(&self, #[wamp(kwargs)] options: Unsendable) -> i64;
}

/// A value whose serialization always fails.
#[derive(Debug, Deserialize)]
pub struct Unsendable;

impl Serialize for Unsendable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("cannot be sent"))
    }
}

/// Reports each event it handles.
struct Stockist(mpsc::UnboundedSender<(String, u32)>);

impl Options for Stockist {
    async fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    async fn stall(&self, details: InvocationDetails) -> bool {
        tokio::select! {
            () = details.canceled() => false,
            () = tokio::time::sleep(Duration::from_secs(10)) => true,
        }
    }

    async fn label(&self) -> String {
        "seven".into()
    }

    async fn stock(&self, item: String, count: u32) {
        let _ = self.0.send((item, count));
    }
}

#[tokio::test]
async fn client_and_registration_options() {
    let serializer = Serializer::MsgPack;
    let own = connect(serializer).await;
    let other = connect(serializer).await;
    let (heard_tx, mut heard) = mpsc::unbounded_channel();
    let (hook_tx, mut hooked) = mpsc::unbounded_channel();
    let registration = within(
        "register",
        OptionsService::register_with_error_hook(&own, Stockist(heard_tx), move |event, error| {
            let _ = hook_tx.send((event.topic.to_string(), error));
        }),
    )
    .await
    .unwrap();

    // Publications: acknowledged and `exclude_me` by default, so the registering session does
    // not hear its own event (the next one heard is the one after it).
    let mine = OptionsClient::new(&own);
    let id = within("own event", mine.stock("excluded".into(), 1))
        .await
        .unwrap();
    assert!(id.is_some(), "acknowledged by default");
    let included = mine.exclude_me(false);
    assert!(
        within("own event, included", included.stock("included".into(), 2))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        within("included", heard.recv()).await,
        Some(("included".into(), 2))
    );
    let unacknowledged = OptionsClient::new(&other).acknowledge(false);
    assert_eq!(
        within("unacknowledged", unacknowledged.stock("fast".into(), 3))
            .await
            .unwrap(),
        None
    );
    assert_eq!(within("fast", heard.recv()).await, Some(("fast".into(), 3)));
    // The copies left `mine` as it was: its event is still excluded.
    within("own event again", mine.stock("excluded".into(), 4))
        .await
        .unwrap();
    within("other event", unacknowledged.stock("after".into(), 5))
        .await
        .unwrap();
    assert_eq!(
        within("after", heard.recv()).await,
        Some(("after".into(), 5))
    );

    // A deadline for one call, through a copy of the client; the client keeps none.
    let client = OptionsClient::new(&other);
    let err = within(
        "stall",
        client.with_timeout(Duration::from_millis(300)).stall(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, CallError::Other(Error::Timeout { .. })),
        "{err:?}"
    );
    assert_eq!(within("add", client.add(2, 3)).await.unwrap(), 5);

    // Payload errors name the procedure (and the argument).
    let mismatch = MismatchClient::new(&other);
    match within("label", mismatch.label()).await {
        Err(CallError::Other(Error::Payload(e))) => {
            assert!(e.message().contains("`com.mopt.label`"), "{e}");
        }
        other => panic!("expected a payload error, got {other:?}"),
    }
    match within("unsendable", mismatch.add(Unsendable, 1)).await {
        Err(CallError::Other(Error::Payload(e))) => {
            assert!(
                e.message().contains("`com.mopt.add`") && e.message().contains("`a`"),
                "{e}"
            );
        }
        other => panic!("expected a payload error, got {other:?}"),
    }
    match within("unsendable b", mismatch.add_second(1, Unsendable)).await {
        Err(CallError::Other(Error::Payload(e))) => {
            assert!(
                e.message()
                    .starts_with("`com.mopt.add_second`, argument `b`: cannot be sent"),
                "{e}"
            );
        }
        other => panic!("expected a payload error, got {other:?}"),
    }
    match within("unsendable options", mismatch.add_options(Unsendable)).await {
        Err(CallError::Other(Error::Payload(e))) => {
            assert!(
                e.message().starts_with(
                    "`com.mopt.add_options`, keyword arguments (`options`): cannot be sent"
                ),
                "{e}"
            );
        }
        other => panic!("expected a payload error, got {other:?}"),
    }

    // An event the handler cannot decode reaches the hook, naming the topic; the handler
    // takes the next good event.
    within(
        "bad event",
        other
            .publish("com.mopt.stock", ("bolt", "many"))
            .acknowledge(),
    )
    .await
    .unwrap();
    let (topic, error) = within("hook", hooked.recv()).await.unwrap();
    assert_eq!(topic, "com.mopt.stock");
    assert!(matches!(error, Error::Payload(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("`com.mopt.stock`") && message.contains("`count`"),
        "{message}"
    );
    within("good event", unacknowledged.stock("good".into(), 6))
        .await
        .unwrap();
    assert_eq!(within("good", heard.recv()).await, Some(("good".into(), 6)));
    assert!(hooked.try_recv().is_err(), "one bad event, one report");

    within("unregister", registration.unregister())
        .await
        .unwrap();
    for session in [own, other] {
        within("leave", session.leave()).await.unwrap();
    }
}
