//! The advanced profile's PubSub through the embedded router, with in-process sessions:
//! disclosure, exclusion and eligibility, retention, revocation.
#![cfg(test)]

mod common;

use std::time::Duration;

use common::{join, router, within};
use futures_util::StreamExt;
use wampkit::{Arguments, Invocation, Value};

#[tokio::test]
async fn callers_and_publishers_are_disclosed_when_they_ask() {
    let router = router();
    let callee = join(&router).await;
    let _reg = callee
        .register("com.example.who", |inv: Invocation| async move {
            Ok(Arguments::single(
                inv.details.get("caller").cloned().unwrap_or_default(),
            )?)
        })
        .await
        .expect("register");
    let caller = join(&router).await;
    let anonymous = caller.call("com.example.who", ()).await.expect("call");
    assert_eq!(anonymous.arguments().args, [Value::Null]);
    let disclosed = caller
        .call("com.example.who", ())
        .disclose_me()
        .await
        .expect("call");
    assert_eq!(disclosed.arguments().args, [Value::from(caller.id())]);

    let subscriber = join(&router).await;
    let mut events = subscriber
        .subscribe("com.example.topic")
        .await
        .expect("subscribe");
    caller
        .publish("com.example.topic", ())
        .disclose_me()
        .acknowledge()
        .await
        .expect("publish");
    let event = within("event", events.next()).await.expect("event");
    assert_eq!(
        event.details.get("publisher"),
        Some(&Value::from(caller.id()))
    );
}

#[tokio::test]
async fn exclusion_and_eligibility() {
    let router = router();
    let a = join(&router).await;
    let b = join(&router).await;
    let publisher = join(&router).await;
    let mut a_events = a.subscribe("com.example.t").await.expect("subscribe");
    let mut b_events = b.subscribe("com.example.t").await.expect("subscribe");
    publisher
        .publish("com.example.t", ("not a",))
        .exclude([a.id()])
        .acknowledge()
        .await
        .expect("publish");
    publisher
        .publish("com.example.t", ("only a",))
        .eligible([a.id()])
        .acknowledge()
        .await
        .expect("publish");
    let first_b: String = within("b", b_events.next())
        .await
        .expect("event")
        .arg(0)
        .expect("text");
    let first_a: String = within("a", a_events.next())
        .await
        .expect("event")
        .arg(0)
        .expect("text");
    assert_eq!((first_a.as_str(), first_b.as_str()), ("only a", "not a"));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), b_events.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn retained_events_reach_later_subscribers() {
    let router = router();
    let publisher = join(&router).await;
    publisher
        .publish("com.example.state", ("first",))
        .retain()
        .acknowledge()
        .await
        .expect("publish");
    publisher
        .publish("com.example.state", ("second",))
        .retain()
        .acknowledge()
        .await
        .expect("publish");
    let subscriber = join(&router).await;
    let mut events = subscriber
        .subscribe("com.example.state")
        .get_retained()
        .await
        .expect("subscribe");
    let event = within("retained", events.next()).await.expect("event");
    assert_eq!(event.arg::<String>(0).expect("text"), "second");
    assert_eq!(event.details.get("retained"), Some(&Value::Bool(true)));
}

#[tokio::test]
async fn revoked_subscriptions_no_longer_deliver() {
    let router = router();
    let subscriber = join(&router).await;
    let mut events = subscriber
        .subscribe("com.example.revoked")
        .await
        .expect("subscribe");
    let realm = router.realm("realm1").expect("realm");
    let id = realm
        .subscriptions()
        .first()
        .map(|s| s.id)
        .expect("a subscription");
    assert!(realm.revoke_subscription(id, "wamp.close.revoked"));
    assert!(within("end of the stream", events.next()).await.is_none());
    assert_eq!(events.revoked(), Some("wamp.close.revoked"));
    assert!(realm.subscriptions().is_empty());
}
