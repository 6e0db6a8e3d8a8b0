//! Unregistering a service, explicitly and by dropping its registration.

use super::*;

/// Two procedures and an event, under the prefix each test gives them.
#[wampkit::service]
pub trait Lifecycle {
    /// Answers `pong`.
    async fn ping(&self) -> String;

    /// Doubles `n`.
    async fn double(&self, n: i64) -> i64;

    /// A tick.
    #[wamp(event)]
    async fn tick(&self, n: u32);
}

/// Only an event: nothing to unregister, only to unsubscribe.
#[wampkit::service]
pub trait Ticks {
    /// A tock.
    #[wamp(event)]
    async fn tock(&self, n: u32);
}

impl Ticks for Sink {
    async fn tock(&self, n: u32) {
        self.forward(Received::Tick(n));
    }
}

impl Lifecycle for Sink {
    async fn ping(&self) -> String {
        "pong".into()
    }

    async fn double(&self, n: i64) -> i64 {
        n * 2
    }

    async fn tick(&self, n: u32) {
        self.forward(Received::Tick(n));
    }
}

/// The procedures of [`Lifecycle`] under `prefix`.
fn procedures(prefix: &str) -> [String; 2] {
    [uri(prefix, "ping"), uri(prefix, "double")]
}

/// The topics of [`Lifecycle`] under `prefix`.
fn topics(prefix: &str) -> [String; 1] {
    [uri(prefix, "tick")]
}

/// Registers the service under `prefix` and checks that it answers and receives.
async fn registered_and_working(
    callee: &Session,
    caller: &Session,
    prefix: &str,
) -> (
    wampkit::ServiceRegistration,
    mpsc::UnboundedReceiver<Received>,
) {
    let (sink, mut rx) = Sink::new();
    let service = LifecycleService::register_with_prefix(callee, prefix, sink);
    let service = within("register", service).await.unwrap();
    let registered: Vec<&str> = service
        .registrations()
        .iter()
        .map(|r| r.procedure())
        .collect();
    assert_eq!(registered, procedures(prefix));
    let subscribed: Vec<&str> = service.subscriptions().iter().map(|s| s.topic()).collect();
    assert_eq!(subscribed, topics(prefix));
    let client = LifecycleClient::with_prefix(caller, prefix).unwrap();
    assert_eq!(within("ping", client.ping()).await.unwrap(), "pong");
    assert_eq!(within("double", client.double(-21)).await.unwrap(), -42);
    within("tick", client.tick(1)).await.unwrap();
    assert_eq!(received(&mut rx).await, Received::Tick(1));
    for procedure in procedures(prefix) {
        assert!(
            registration_of(caller, &procedure).await.is_some(),
            "{procedure}"
        );
    }
    for topic in topics(prefix) {
        assert!(subscription_of(caller, &topic).await.is_some(), "{topic}");
    }
    (service, rx)
}

/// Checks that every procedure and subscription of the service under `prefix` is gone.
async fn all_gone(caller: &Session, prefix: &str, rx: &mut mpsc::UnboundedReceiver<Received>) {
    let client = LifecycleClient::with_prefix(caller, prefix).unwrap();
    assert_no_such_procedure("ping", within("ping", client.ping()).await);
    assert_no_such_procedure("double", within("double", client.double(1)).await);
    for procedure in procedures(prefix) {
        assert_eq!(
            registration_of(caller, &procedure).await,
            None,
            "{procedure}"
        );
    }
    for topic in topics(prefix) {
        assert_eq!(subscription_of(caller, &topic).await, None, "{topic}");
    }
    within("tick", client.tick(2)).await.unwrap();
    // Every handler is gone, and with them the service value (and its sender).
    if let Some(event) = within("the channel closes", rx.recv()).await {
        panic!("received {event:?} after unregistering");
    }
}

/// `ServiceRegistration::unregister` removes every procedure and subscription.
pub(crate) async fn unregister_removes_everything(serializer: Serializer) {
    let prefix = prefix(serializer, "unregister");
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let (service, mut rx) = registered_and_working(&callee, &caller, &prefix).await;
    within("unregister", service.unregister()).await.unwrap();
    all_gone(&caller, &prefix, &mut rx).await;

    // The URIs are free again.
    let (service, _rx) = registered_and_working(&callee, &caller, &prefix).await;
    within("unregister again", service.unregister())
        .await
        .unwrap();
}

/// `ServiceRegistration::unregister` awaits UNREGISTERED for each procedure but only aborts the
/// subscription tasks (their UNSUBSCRIBE goes out later, unconfirmed): for a service without
/// procedures it returns at once, with the subscription still there.
pub(crate) async fn unregister_of_events_only_waits_for_the_router(serializer: Serializer) {
    let prefix = prefix(serializer, "unregister_events");
    let subscriber = connect(serializer).await;
    let observer = connect(serializer).await;
    let topic = uri(&prefix, "tock");
    let (sink, mut rx) = Sink::new();
    let service = TicksService::register_with_prefix(&subscriber, &prefix, sink);
    let service = within("register", service).await.unwrap();
    let ticks = TicksClient::with_prefix(&observer, &prefix).unwrap();
    within("tock", ticks.tock(1)).await.unwrap();
    assert_eq!(received(&mut rx).await, Received::Tick(1));
    assert!(subscription_of(&observer, &topic).await.is_some());

    // `unregister` "waits for the router": once it returns, the router has no subscription
    // left, whichever session asks.
    within("unregister", service.unregister()).await.unwrap();
    assert_eq!(subscription_of(&observer, &topic).await, None);
    if let Some(event) = within("the channel closes", rx.recv()).await {
        panic!("received {event:?} after unregistering");
    }
}

/// Dropping a `ServiceRegistration` removes every procedure and subscription.
pub(crate) async fn drop_removes_everything(serializer: Serializer) {
    let prefix = prefix(serializer, "drop");
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let (service, mut rx) = registered_and_working(&callee, &caller, &prefix).await;
    drop(service);
    // The drop sends UNREGISTER and UNSUBSCRIBE without waiting; a round trip on the same
    // session orders after them.
    within("round trip", callee.call("wamp.session.count", ()))
        .await
        .unwrap();
    all_gone(&caller, &prefix, &mut rx).await;

    // The URIs are free again.
    let (service, _rx) = registered_and_working(&callee, &caller, &prefix).await;
    drop(service);
}
