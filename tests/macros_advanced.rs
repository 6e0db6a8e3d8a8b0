//! The advanced profile through the macros, against the router under test: progressive
//! procedures (a method returning a stream; its client method returns a stream), pattern-based
//! registrations and subscriptions, shared registrations, caller disclosure, client deadlines
//! that cancel, and the callee seeing the cancellation.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use testkit::e2e::{connect, within};
use tokio::sync::mpsc;
use wamp_client::{
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
        let _ = self.reports.send(Report::Event(details.topic, value));
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
        client
            .clone()
            .with_timeout(Duration::from_millis(300))
            .slow(),
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
