//! Advanced publish/subscribe options against the router under test (and an Autobahn|Python
//! subscriber), for every serializer: publisher exclusion, subscriber black- and whitelisting by
//! session id, authid and authrole, event retention, and publisher identification.
//!
//! Every "nothing arrives" check is followed by a normal publication from the same publisher
//! that must be the next event: events are ordered per publisher and subscriber, so an event the
//! router wrongly delivered would show up first, and the check cannot pass vacuously.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::IntoFuture;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::json;
use testkit::e2e::{self, python_line, python_ready};
use wampkit::{Event, Id, Serializer, Session, Subscription};

/// Every await gets this long; a hang fails the test instead of CI.
const LIMIT: Duration = Duration::from_secs(60);

/// How long a subscriber must stay silent to show that an event was not delivered.
const QUIET: Duration = Duration::from_millis(300);

async fn within<T>(what: &str, future: impl IntoFuture<Output = T>) -> T {
    e2e::within_for(LIMIT, what, future).await
}

async fn connect(serializer: Serializer) -> Session {
    let session = e2e::connect_for(LIMIT, &e2e::router_url(), serializer).await;
    // The features these tests rely on; if the router stopped announcing them, say so first.
    for feature in [
        "publisher_exclusion",
        "subscriber_blackwhite_listing",
        "publisher_identification",
        "event_retention",
    ] {
        assert!(
            session.details().router_supports("broker", feature),
            "the broker does not announce {feature}"
        );
    }
    session
}

/// A topic no other test (or serializer) uses.
fn topic(serializer: Serializer, test: &str) -> String {
    format!("com.test.pubsub_options.{serializer}.{test}")
}

async fn subscribe(session: &Session, topic: &str) -> Subscription {
    within("subscribe", session.subscribe(topic))
        .await
        .expect("subscribes")
}

/// Publishes `[n]` to `topic` with acknowledgement: once it returns, the router has dispatched it.
async fn publish(session: &Session, topic: &str, n: i64) {
    within("publish", session.publish(topic, (n,)).acknowledge())
        .await
        .expect("published");
}

async fn next_event(subscription: &mut Subscription) -> Event {
    within("event", subscription.next())
        .await
        .expect("an event")
}

/// The next event's single positional argument.
async fn next_number(subscription: &mut Subscription) -> i64 {
    let event = next_event(subscription).await;
    event
        .arg(0)
        .unwrap_or_else(|e| panic!("{e}: unexpected event {event:?}"))
}

/// Asserts that no event arrives for a while.
async fn assert_quiet(subscription: &mut Subscription, why: &str) {
    if let Ok(event) = tokio::time::timeout(QUIET, subscription.next()).await {
        panic!("{why}: unexpected {event:?}");
    }
}

/// The session ids subscribed to `topic`, from the subscription meta API.
///
/// This is the robust way to learn another client's session id: `wamp.subscription.lookup`
/// and `wamp.subscription.list_subscribers` only see sessions subscribed to this test's own
/// unique topic, whereas diffing `wamp.session.list` before and after the peer joins would also
/// pick up sessions that tests running in parallel open on the same shared router.
async fn subscribers(session: &Session, topic: &str) -> Vec<Id> {
    let lookup = within(
        "wamp.subscription.lookup",
        session.call("wamp.subscription.lookup", (topic,)),
    )
    .await
    .unwrap();
    let subscription: Option<Id> = lookup.arg(0).unwrap();
    let subscription = subscription.unwrap_or_else(|| panic!("nobody subscribed to {topic}"));
    let listed = within(
        "wamp.subscription.list_subscribers",
        session.call("wamp.subscription.list_subscribers", (subscription,)),
    )
    .await
    .unwrap();
    listed.arg(0).unwrap()
}

/// include_me (exclude_me false) delivers to the publisher's own subscription; by default it is excluded.
async fn publisher_exclusion(serializer: Serializer) {
    let session = connect(serializer).await;
    let topic = topic(serializer, "exclude_me");
    let mut own = subscribe(&session, &topic).await;

    publish(&session, &topic, 1).await;
    within(
        "publish exclude_me(true)",
        session
            .publish(&topic, (2,))
            .option("exclude_me", true)
            .acknowledge(),
    )
    .await
    .unwrap();
    within(
        "publish include_me",
        session.publish(&topic, (3,)).include_me().acknowledge(),
    )
    .await
    .unwrap();
    // Events from one publisher arrive in order: had 1 or 2 been delivered, it would come first.
    assert_eq!(next_number(&mut own).await, 3);
    assert_quiet(&mut own, "only the include_me publication").await;
}

/// exclude([id]) keeps the event from an Autobahn|Python subscriber, and only from it.
async fn exclude_python_session(serializer: Serializer) {
    let ser = serializer.name().to_owned();
    let topic = topic(serializer, "exclude_python");
    let python = python_ready(vec![
        "--serializer".into(),
        ser,
        "subscribe".into(),
        topic.clone(),
        "--count".into(),
        "1".into(),
    ])
    .await;
    let publisher = connect(serializer).await;
    // Only the Python peer is subscribed yet, so the list is its session id alone.
    let listed = subscribers(&publisher, &topic).await;
    assert_eq!(listed.len(), 1, "subscribers of {topic}: {listed:?}");
    let python_id = listed[0];
    assert_ne!(python_id, publisher.id());

    // A Rust subscriber that is not excluded proves the first publication was dispatched.
    let witness = connect(serializer).await;
    let mut seen = subscribe(&witness, &topic).await;

    within(
        "publish excluding python",
        publisher
            .publish(&topic, (1,))
            .exclude([python_id])
            .acknowledge(),
    )
    .await
    .unwrap();
    publish(&publisher, &topic, 2).await;

    assert_eq!(next_number(&mut seen).await, 1);
    assert_eq!(next_number(&mut seen).await, 2);
    // The peer prints its first event and exits (--count 1): it must be the second publication.
    let (_python, event) = python_line(python).await;
    assert_eq!(event["args"], json!([2]), "{event}");
    assert_eq!(event["publisher"], json!(publisher.id()), "{event}");
}

/// eligible(ids) restricts delivery to the listed sessions; with exclude, both must hold (AND).
async fn eligible_sessions(serializer: Serializer) {
    let topic = topic(serializer, "eligible");
    let publisher = connect(serializer).await;
    let chosen = connect(serializer).await;
    let other = connect(serializer).await;
    let mut chosen_events = subscribe(&chosen, &topic).await;
    let mut other_events = subscribe(&other, &topic).await;

    within(
        "publish eligible",
        publisher
            .publish(&topic, (1,))
            .eligible([chosen.id()])
            .acknowledge(),
    )
    .await
    .unwrap();
    // Both are eligible, but one is excluded too: the conditions combine with AND.
    within(
        "publish eligible and exclude",
        publisher
            .publish(&topic, (2,))
            .eligible([chosen.id(), other.id()])
            .exclude([other.id()])
            .acknowledge(),
    )
    .await
    .unwrap();
    publish(&publisher, &topic, 3).await;

    assert_eq!(next_number(&mut chosen_events).await, 1);
    assert_eq!(next_number(&mut chosen_events).await, 2);
    assert_eq!(next_number(&mut chosen_events).await, 3);
    assert_eq!(next_number(&mut other_events).await, 3);
}

/// exclude_authid / eligible_authid select by authid (Crossbar gives every anonymous session
/// its own random authid).
async fn authid_lists(serializer: Serializer) {
    let topic = topic(serializer, "authid");
    let publisher = connect(serializer).await;
    let first = connect(serializer).await;
    let second = connect(serializer).await;
    let first_authid = first.details().authid.clone().expect("an authid");
    let second_authid = second.details().authid.clone().expect("an authid");
    assert_ne!(first_authid, second_authid);
    let mut first_events = subscribe(&first, &topic).await;
    let mut second_events = subscribe(&second, &topic).await;

    within(
        "publish exclude_authid",
        publisher
            .publish(&topic, (1,))
            .exclude_authid([first_authid.as_str()])
            .acknowledge(),
    )
    .await
    .unwrap();
    within(
        "publish eligible_authid",
        publisher
            .publish(&topic, (2,))
            .eligible_authid(vec![first_authid.clone()])
            .acknowledge(),
    )
    .await
    .unwrap();
    publish(&publisher, &topic, 3).await;

    assert_eq!(next_number(&mut first_events).await, 2);
    assert_eq!(next_number(&mut first_events).await, 3);
    assert_eq!(next_number(&mut second_events).await, 1);
    assert_eq!(next_number(&mut second_events).await, 3);
}

/// exclude_authrole / eligible_authrole select by role: every realm1 anonymous session has the
/// authrole "anonymous".
async fn authrole_lists(serializer: Serializer) {
    let topic = topic(serializer, "authrole");
    let publisher = connect(serializer).await;
    let subscriber = connect(serializer).await;
    assert_eq!(subscriber.details().authrole.as_deref(), Some("anonymous"));
    let mut events = subscribe(&subscriber, &topic).await;

    within(
        "publish exclude_authrole",
        publisher
            .publish(&topic, (1,))
            .exclude_authrole(["anonymous"])
            .acknowledge(),
    )
    .await
    .unwrap();
    within(
        "publish eligible_authrole(user)",
        publisher
            .publish(&topic, (2,))
            .eligible_authrole(["user"])
            .acknowledge(),
    )
    .await
    .unwrap();
    assert_quiet(&mut events, "excluded by authrole").await;

    within(
        "publish eligible_authrole(anonymous)",
        publisher
            .publish(&topic, (3,))
            .eligible_authrole(["anonymous"])
            .acknowledge(),
    )
    .await
    .unwrap();
    publish(&publisher, &topic, 4).await;
    assert_eq!(next_number(&mut events).await, 3);
    assert_eq!(next_number(&mut events).await, 4);
}

/// A retained event reaches a later subscriber that asks for it, marked as retained; one that
/// does not ask gets nothing retained.
async fn event_retention(serializer: Serializer) {
    let topic = topic(serializer, "retain");
    let publisher = connect(serializer).await;

    // Nobody is subscribed yet. The later retained publication replaces the earlier one, and a
    // publication without `retain` leaves it in place.
    for n in [1, 2] {
        within(
            "publish retained",
            publisher.publish(&topic, (n,)).retain().acknowledge(),
        )
        .await
        .unwrap();
    }
    within(
        "publish retain(false)",
        publisher
            .publish(&topic, (3,))
            .option("retain", false)
            .acknowledge(),
    )
    .await
    .unwrap();

    let late = connect(serializer).await;
    let mut retained = within(
        "subscribe get_retained",
        late.subscribe(&topic).get_retained(),
    )
    .await
    .unwrap();
    let event = next_event(&mut retained).await;
    assert!(event.retained(), "{event:?}");
    assert_eq!(event.arg::<i64>(0).unwrap(), 2, "{event:?}");
    assert_eq!(event.publisher(), Some(publisher.id()), "{event:?}");

    let plain_session = connect(serializer).await;
    let mut plain = within(
        "subscribe without get_retained",
        plain_session
            .subscribe(&topic)
            .option("get_retained", false),
    )
    .await
    .unwrap();
    assert_quiet(&mut plain, "no retained event without get_retained").await;

    publish(&publisher, &topic, 4).await;
    for subscription in [&mut retained, &mut plain] {
        let event = next_event(subscription).await;
        assert_eq!(event.arg::<i64>(0).unwrap(), 4, "{event:?}");
        assert!(!event.retained(), "{event:?}");
    }
}

/// Crossbar's realm1 discloses publishers (by role permission): the event names the publishing
/// session, its authid and its authrole.
async fn publisher_identification(serializer: Serializer) {
    let topic = topic(serializer, "identification");
    let publisher = connect(serializer).await;
    let subscriber = connect(serializer).await;
    let mut events = subscribe(&subscriber, &topic).await;

    within(
        "publish disclose_me",
        publisher.publish(&topic, (1,)).disclose_me().acknowledge(),
    )
    .await
    .unwrap();
    let event = next_event(&mut events).await;
    assert_eq!(event.publisher(), Some(publisher.id()), "{event:?}");
    assert_eq!(
        event.publisher_authid(),
        publisher.details().authid.as_deref(),
        "{event:?}"
    );
    assert!(event.publisher_authid().is_some(), "{event:?}");
    assert_eq!(event.publisher_authrole(), Some("anonymous"), "{event:?}");
    assert!(!event.retained(), "{event:?}");
}

testkit::per_serializer!(
    publisher_exclusion,
    exclude_python_session,
    eligible_sessions,
    authid_lists,
    authrole_lists,
    event_retention,
    publisher_identification,
);

/// A prefix pattern may end with a dot, as Autobahn|Python allows and Crossbar.io accepts:
/// `…prefix_dot.` matches `…prefix_dot.x`.
#[tokio::test]
async fn prefix_subscription_ending_with_a_dot() {
    let prefix = format!("{}.", topic(Serializer::Json, "prefix_dot"));
    let publisher = connect(Serializer::Json).await;
    let subscriber = connect(Serializer::Json).await;
    let mut events = within(
        "subscribe to a prefix ending with a dot",
        subscriber
            .subscribe(&prefix)
            .match_policy(wampkit::MatchPolicy::Prefix),
    )
    .await
    .expect("a prefix pattern ending with a dot is accepted");
    let published = format!("{prefix}x");
    publish(&publisher, &published, 7).await;
    let event = next_event(&mut events).await;
    assert_eq!(event.topic, published, "{event:?}");
    assert_eq!(event.arg::<i64>(0).unwrap(), 7, "{event:?}");
    // As an exact topic it is still refused before reaching the router.
    let exact = within("subscribe exactly", subscriber.subscribe(&prefix)).await;
    assert!(
        matches!(&exact, Err(wampkit::Error::InvalidUri { .. })),
        "{exact:?}"
    );
}
