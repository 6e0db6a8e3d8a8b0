//! End-to-end tests of the typed meta API helpers ([`Session::meta`]) against the router under
//! test (Crossbar.io or the embedded router), plus the local feature check against a minimal
//! router that announces no meta API.
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt as _;
use testkit::e2e::{self, connect, next_event, within};
use wamp_testkit::scripted_router::{Frame, ScriptedRouter};
use wampkit::{
    Arguments, Error, ErrorUri, Event, Invocation, MatchPolicy, Registration, Serializer, Session,
    error::CloseInitiator, meta::MetaEvents, meta::SessionJoin, meta::SessionLeave,
    meta::TestamentOptions, meta::TestamentScope,
};

/// A session on `realm` of the shared router.
async fn connect_realm(realm: &str, serializer: Serializer) -> Session {
    e2e::join(Session::builder(e2e::router_url(), realm).serializer(serializer)).await
}

/// A URI no other test uses.
fn unique(name: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "com.test.meta.{name}.n{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The WAMP error URI of a result, or a panic naming what was expected.
fn error_uri<T: std::fmt::Debug>(result: wampkit::Result<T>, expected: &str) -> ErrorUri {
    match result {
        Err(Error::Wamp(e)) => e.uri,
        other => panic!("expected {expected}, got {other:?}"),
    }
}

async fn noop_procedure(session: &Session, uri: &str, policy: MatchPolicy) -> Registration {
    within(
        "register",
        session
            .register(uri, |_inv: Invocation| async { Ok(Arguments::new()) })
            .match_policy(policy),
    )
    .await
    .expect("registers")
}

/// The next event of `events` that satisfies `wanted` (other tests' sessions join and leave
/// the same realm concurrently).
async fn next_matching<T>(events: &mut MetaEvents<T>, wanted: impl Fn(&T) -> bool) -> T
where
    T: std::fmt::Debug + for<'e> TryFrom<&'e Event, Error = Error>,
{
    loop {
        let event = within("meta event", events.next())
            .await
            .expect("the meta event stream goes on")
            .expect("the meta event decodes");
        if wanted(&event) {
            return event;
        }
    }
}

#[tokio::test]
async fn crossbar_announces_every_meta_feature() {
    let session = connect(Serializer::Json).await;
    let supported = session.meta().supported();
    assert!(supported.session, "{supported:?}");
    assert!(supported.registration, "{supported:?}");
    assert!(supported.subscription, "{supported:?}");
    assert!(supported.testament, "{supported:?}");
}

#[tokio::test]
async fn sessions_are_counted_listed_and_described() {
    let session = connect(Serializer::Json).await;
    let other = connect(Serializer::MsgPack).await;
    let meta = session.meta();

    let count = within("count", meta.session_count(None)).await.unwrap();
    assert!(count >= 2, "{count}");
    let anonymous = within("count anonymous", meta.session_count(Some(&["anonymous"])))
        .await
        .unwrap();
    assert!(anonymous >= 2, "{anonymous}");
    let nobody = within("count nobody", meta.session_count(Some(&["no-such-role"])))
        .await
        .unwrap();
    assert_eq!(nobody, 0);

    let list = within("list", meta.session_list(None)).await.unwrap();
    assert!(
        list.contains(&session.id()) && list.contains(&other.id()),
        "{list:?}"
    );
    let list = within(
        "list anonymous",
        meta.session_list(Some(&["anonymous", "user"])),
    )
    .await
    .unwrap();
    assert!(list.contains(&session.id()), "{list:?}");
    let list = within("list nobody", meta.session_list(Some(&["no-such-role"])))
        .await
        .unwrap();
    assert!(list.is_empty(), "{list:?}");

    let info = within("get", meta.session_get(other.id())).await.unwrap();
    assert_eq!(info.session, other.id());
    assert_eq!(info.authid, other.details().authid);
    assert_eq!(info.authrole.as_deref(), Some("anonymous"));
    assert_eq!(info.authmethod.as_deref(), Some("anonymous"));
    assert_eq!(info.authprovider.as_deref(), Some("static"));
    match e2e::router().kind() {
        // Crossbar.io adds the realm, outside the specification, and no transport details.
        testkit::RouterKind::Crossbar => assert_eq!(
            info.details.get("realm").and_then(|v| v.as_str()),
            Some("realm1")
        ),
        // The embedded router sends the specification's keys, transport details included.
        testkit::RouterKind::Embedded => {
            assert!(info.transport.is_some(), "{info:?}");
        }
    }
    let own = within("get own", meta.session_get(session.id()))
        .await
        .unwrap();
    assert_eq!(own.authid, session.details().authid);

    let missing = within("get missing", meta.session_get(1)).await;
    assert_eq!(
        error_uri(missing, "no_such_session"),
        ErrorUri::NoSuchSession
    );
}

#[tokio::test]
async fn join_and_leave_events_arrive() {
    let watcher = connect(Serializer::Cbor).await;
    let meta = watcher.meta();
    let mut joins = within("on_join", meta.on_join()).await.unwrap();
    let mut leaves = within("on_leave", meta.on_leave()).await.unwrap();
    assert_ne!(joins.id(), leaves.id());

    let newcomer = connect(Serializer::Json).await;
    let id = newcomer.id();
    let join: SessionJoin = next_matching(&mut joins, |j: &SessionJoin| j.session == id).await;
    assert_eq!(join.authid, newcomer.details().authid);
    assert_eq!(join.authrole.as_deref(), Some("anonymous"));
    assert_eq!(join.authmethod.as_deref(), Some("anonymous"));
    assert_eq!(join.authprovider.as_deref(), Some("static"));
    assert!(join.details.contains_key("session"));

    within("leave", newcomer.leave()).await.unwrap();
    let leave: SessionLeave = next_matching(&mut leaves, |l: &SessionLeave| l.session == id).await;
    // Crossbar.io sends only the session id; the specification adds authid and authrole.
    if let Some(authid) = &leave.authid {
        assert_eq!(Some(authid), newcomer.details().authid.as_ref());
    }

    // A lost connection is a leave, too.
    let dropped = connect(Serializer::MsgPack).await;
    let id = dropped.id();
    let _ = next_matching(&mut joins, |j: &SessionJoin| j.session == id).await;
    drop(dropped);
    let _ = next_matching(&mut leaves, |l: &SessionLeave| l.session == id).await;

    within("unsubscribe", joins.unsubscribe()).await.unwrap();
    let raw = leaves.into_subscription();
    assert_eq!(raw.topic(), "wamp.session.on_leave");
}

#[tokio::test]
async fn kill_session_closes_the_other_session() {
    let admin = connect(Serializer::Json).await;
    let meta = admin.meta();

    // Default reason.
    let victim = connect(Serializer::MsgPack).await;
    within("kill", meta.kill_session(victim.id(), None, None))
        .await
        .unwrap();
    let reason = within("closed", victim.closed()).await;
    assert_eq!(reason.uri, "wamp.close.killed");
    assert_eq!(reason.initiator, CloseInitiator::Router);

    // Explicit reason and message.
    let victim = connect(Serializer::Cbor).await;
    within(
        "kill with reason",
        meta.kill_session(victim.id(), Some("com.test.meta.kicked"), Some("go away")),
    )
    .await
    .unwrap();
    let reason = within("closed", victim.closed()).await;
    assert_eq!(reason.uri, "com.test.meta.kicked");
    assert_eq!(reason.message.as_deref(), Some("go away"));

    // An unknown session is an error.
    let unknown = within("kill unknown", meta.kill_session(1, None, None)).await;
    assert_eq!(
        error_uri(unknown, "no_such_session"),
        ErrorUri::NoSuchSession
    );

    // Killing oneself is refused (locally: Crossbar.io would do it).
    let own = within("kill self", meta.kill_session(admin.id(), None, None)).await;
    assert_eq!(error_uri(own, "no_such_session"), ErrorUri::NoSuchSession);
    assert!(!admin.is_closed());
    within("still usable", meta.session_count(None))
        .await
        .unwrap();
}

#[tokio::test]
async fn kill_by_authid_kills_only_that_authid() {
    let admin = connect(Serializer::Json).await;
    let victim = connect(Serializer::Json).await;
    let bystander = connect(Serializer::Json).await;
    let authid = victim
        .details()
        .authid
        .clone()
        .expect("an anonymous authid");

    let killed = within(
        "kill_by_authid",
        admin
            .meta()
            .kill_by_authid(&authid, None, Some("by authid")),
    )
    .await
    .unwrap();
    assert_eq!(killed, vec![victim.id()]);
    let reason = within("closed", victim.closed()).await;
    assert_eq!(reason.uri, "wamp.close.killed");
    assert_eq!(reason.message.as_deref(), Some("by authid"));
    assert!(!admin.is_closed() && !bystander.is_closed());

    let none = within(
        "kill_by_authid unknown",
        admin.meta().kill_by_authid("no-such-authid", None, None),
    )
    .await
    .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let none = within(
        "kill_by_authrole unknown",
        admin.meta().kill_by_authrole("no-such-role", None, None),
    )
    .await
    .unwrap();
    assert_eq!(none, 0);
}

/// `kill_all` and `kill_by_authrole` hit every session of the realm, so they run on realm2,
/// which no other test of this binary uses.
#[tokio::test]
async fn kill_all_and_kill_by_authrole() {
    let admin = connect_realm("realm2", Serializer::Json).await;
    let mut victims = [
        connect_realm("realm2", Serializer::MsgPack).await,
        connect_realm("realm2", Serializer::Cbor).await,
    ];

    match e2e::router().kind() {
        // Crossbar.io 26.10 has no `wamp.session.kill_all`.
        testkit::RouterKind::Crossbar => {
            let result = within("kill_all", admin.meta().kill_all(None, None)).await;
            match result {
                Err(Error::Wamp(e)) => assert_eq!(e.uri, ErrorUri::NoSuchProcedure, "{e}"),
                other => panic!("expected no_such_procedure from kill_all, got {other:?}"),
            }
        }
        // The embedded router has it: every other session goes, the caller stays.
        testkit::RouterKind::Embedded => {
            let count = within("kill_all", admin.meta().kill_all(None, None))
                .await
                .unwrap();
            assert!(count >= 2, "{count}");
            for victim in &victims {
                within("closed", victim.closed()).await;
            }
            assert!(!admin.is_closed());
            victims = [
                connect_realm("realm2", Serializer::MsgPack).await,
                connect_realm("realm2", Serializer::Cbor).await,
            ];
        }
    }

    // Crossbar.io answers kill_by_authrole with the list of ids (counted here) and kills the
    // caller too when it has that role.
    let result = within(
        "kill_by_authrole",
        admin
            .meta()
            .kill_by_authrole("anonymous", Some("com.test.meta.role_gone"), None),
    )
    .await;
    for victim in &victims {
        let reason = within("closed", victim.closed()).await;
        assert_eq!(reason.uri, "com.test.meta.role_gone");
    }
    match result {
        Ok(count) => assert!(count >= 2, "{count}"),
        Err(Error::SessionClosed(reason)) => {
            assert_eq!(reason.uri, "com.test.meta.role_gone");
            assert_eq!(reason.initiator, CloseInitiator::Router);
        }
        Err(other) => panic!("unexpected kill_by_authrole error: {other}"),
    }
}

#[tokio::test]
async fn registrations_are_listed_looked_up_and_described() {
    let callee = connect(Serializer::MsgPack).await;
    let observer = connect(Serializer::Json).await;
    let meta = observer.meta();
    let exact_uri = unique("reg.exact");
    let prefix_uri = unique("reg.prefix");
    let exact = noop_procedure(&callee, &exact_uri, MatchPolicy::Exact).await;
    let prefix = noop_procedure(&callee, &prefix_uri, MatchPolicy::Prefix).await;

    let list = within("list", meta.registration_list()).await.unwrap();
    assert!(list.exact.contains(&exact.id()), "{list:?}");
    assert!(list.prefix.contains(&prefix.id()), "{list:?}");
    assert!(!list.exact.contains(&prefix.id()), "{list:?}");

    let found = within("lookup exact", meta.registration_lookup(&exact_uri, None))
        .await
        .unwrap();
    assert_eq!(found, Some(exact.id()));
    let found = within(
        "lookup prefix",
        meta.registration_lookup(&prefix_uri, Some(MatchPolicy::Prefix)),
    )
    .await
    .unwrap();
    assert_eq!(found, Some(prefix.id()));
    let found = within(
        "lookup prefix as exact",
        meta.registration_lookup(&prefix_uri, None),
    )
    .await
    .unwrap();
    assert_eq!(found, None);

    let matched = within("match exact", meta.registration_match(&exact_uri))
        .await
        .unwrap();
    assert_eq!(matched, Some(exact.id()));
    let matched = within(
        "match by prefix",
        meta.registration_match(&format!("{prefix_uri}.deep.name")),
    )
    .await
    .unwrap();
    assert_eq!(matched, Some(prefix.id()));
    let matched = within(
        "match nothing",
        meta.registration_match(&unique("reg.nothing")),
    )
    .await
    .unwrap();
    assert_eq!(matched, None);

    let info = within("get", meta.registration_get(exact.id()))
        .await
        .unwrap();
    assert_eq!(info.id, exact.id());
    assert_eq!(info.uri, exact_uri);
    assert_eq!(info.match_policy, "exact");
    assert_eq!(info.invoke.as_deref(), Some("single"));
    assert!(!info.created.is_empty());
    assert!(info.details.contains_key("created"));
    let info = within("get prefix", meta.registration_get(prefix.id()))
        .await
        .unwrap();
    assert_eq!(info.match_policy, "prefix");
    assert_eq!(info.uri, prefix_uri);

    let callees = within("callees", meta.registration_callees(exact.id()))
        .await
        .unwrap();
    assert_eq!(callees, vec![callee.id()]);
    let count = within("count", meta.registration_callee_count(exact.id()))
        .await
        .unwrap();
    assert_eq!(count, 1);

    for result in [
        within("get missing", meta.registration_get(1))
            .await
            .map(drop),
        within("callees missing", meta.registration_callees(1))
            .await
            .map(drop),
        within("count missing", meta.registration_callee_count(1))
            .await
            .map(drop),
    ] {
        assert_eq!(
            error_uri(result, "no_such_registration"),
            ErrorUri::NoSuchRegistration
        );
    }

    // Once unregistered, lookups find nothing.
    within("unregister", exact.unregister()).await.unwrap();
    let found = within("lookup gone", meta.registration_lookup(&exact_uri, None))
        .await
        .unwrap();
    assert_eq!(found, None);
}

#[tokio::test]
async fn subscriptions_are_listed_looked_up_and_described() {
    let first = connect(Serializer::Cbor).await;
    let second = connect(Serializer::Json).await;
    let meta = second.meta();
    let topic = unique("sub.exact");
    let prefix_topic = unique("sub.prefix");
    let exact = within("subscribe", first.subscribe(&topic)).await.unwrap();
    let exact_too = within("subscribe too", second.subscribe(&topic))
        .await
        .unwrap();
    assert_eq!(exact.id(), exact_too.id());
    let prefix = within(
        "subscribe prefix",
        first
            .subscribe(&prefix_topic)
            .match_policy(MatchPolicy::Prefix),
    )
    .await
    .unwrap();

    let list = within("list", meta.subscription_list()).await.unwrap();
    assert!(list.exact.contains(&exact.id()), "{list:?}");
    assert!(list.prefix.contains(&prefix.id()), "{list:?}");

    let found = within("lookup", meta.subscription_lookup(&topic, None))
        .await
        .unwrap();
    assert_eq!(found, Some(exact.id()));
    let found = within(
        "lookup prefix",
        meta.subscription_lookup(&prefix_topic, Some(MatchPolicy::Prefix)),
    )
    .await
    .unwrap();
    assert_eq!(found, Some(prefix.id()));
    let found = within(
        "lookup wrong policy",
        meta.subscription_lookup(&topic, Some(MatchPolicy::Prefix)),
    )
    .await
    .unwrap();
    assert_eq!(found, None);

    let matched = within("match", meta.subscription_match(&topic))
        .await
        .unwrap();
    assert_eq!(matched, vec![exact.id()]);
    let matched = within(
        "match by prefix",
        meta.subscription_match(&format!("{prefix_topic}.x")),
    )
    .await
    .unwrap();
    assert_eq!(matched, vec![prefix.id()]);
    let matched = within(
        "match nothing",
        meta.subscription_match(&unique("sub.nothing")),
    )
    .await
    .unwrap();
    assert!(matched.is_empty(), "{matched:?}");

    let info = within("get", meta.subscription_get(exact.id()))
        .await
        .unwrap();
    assert_eq!(info.id, exact.id());
    assert_eq!(info.uri, topic);
    assert_eq!(info.match_policy, "exact");
    assert!(!info.created.is_empty());
    let info = within("get prefix", meta.subscription_get(prefix.id()))
        .await
        .unwrap();
    assert_eq!(info.match_policy, "prefix");

    let mut subscribers = within("subscribers", meta.subscription_subscribers(exact.id()))
        .await
        .unwrap();
    subscribers.sort_unstable();
    let mut expected = vec![first.id(), second.id()];
    expected.sort_unstable();
    assert_eq!(subscribers, expected);
    let count = within("count", meta.subscription_subscriber_count(exact.id()))
        .await
        .unwrap();
    assert_eq!(count, 2);

    for result in [
        within("get missing", meta.subscription_get(1))
            .await
            .map(drop),
        within("subscribers missing", meta.subscription_subscribers(1))
            .await
            .map(drop),
        within("count missing", meta.subscription_subscriber_count(1))
            .await
            .map(drop),
    ] {
        assert_eq!(
            error_uri(result, "no_such_subscription"),
            ErrorUri::NoSuchSubscription
        );
    }

    // One subscriber fewer.
    within("unsubscribe", exact_too.unsubscribe())
        .await
        .unwrap();
    let count = within(
        "count after",
        meta.subscription_subscriber_count(exact.id()),
    )
    .await
    .unwrap();
    assert_eq!(count, 1);
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Farewell {
    reason: String,
    code: i64,
}

#[tokio::test]
async fn testaments_are_published_when_the_session_ends() {
    let listener = connect(Serializer::Json).await;
    let topic = unique("testament");
    let mut events = within("subscribe", listener.subscribe(&topic))
        .await
        .unwrap();

    // Ended with a goodbye: both scopes are published (Crossbar.io has no session resumption).
    let mortal = connect(Serializer::MsgPack).await;
    let farewell = Farewell {
        reason: "leaving".into(),
        code: -1,
    };
    within(
        "add testament",
        mortal.meta().add_testament(
            &topic,
            (mortal.id(), "bye"),
            &farewell,
            TestamentOptions::new(),
        ),
    )
    .await
    .unwrap();
    within(
        "add detached testament",
        mortal.meta().add_testament(
            &topic,
            ("detached",),
            (),
            TestamentOptions::new().scope(TestamentScope::Detached),
        ),
    )
    .await
    .unwrap();
    within("leave", mortal.leave()).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let event = next_event(&mut events).await;
        if event.arg_count() == 2 {
            assert_eq!(
                event.args::<(u64, String)>().unwrap(),
                (mortal.id(), "bye".into())
            );
            assert_eq!(event.kwargs::<Farewell>().unwrap(), farewell);
        }
        seen.push(
            event
                .arg::<serde_json::Value>(event.arg_count() - 1)
                .unwrap(),
        );
    }
    seen.sort_by_key(|v| v.to_string());
    assert_eq!(
        seen,
        vec![serde_json::json!("bye"), serde_json::json!("detached")]
    );

    // Ended by a lost connection, with publish options honoured.
    let mortal = connect(Serializer::Cbor).await;
    let excluded = connect(Serializer::Json).await;
    let mut excluded_events = within("subscribe excluded", excluded.subscribe(&topic))
        .await
        .unwrap();
    within(
        "add testament",
        mortal.meta().add_testament(
            &topic,
            ("dropped",),
            (),
            TestamentOptions::new().publish_option("exclude", vec![excluded.id()]),
        ),
    )
    .await
    .unwrap();
    drop(mortal);
    let event = next_event(&mut events).await;
    assert_eq!(event.arg::<String>(0).unwrap(), "dropped");
    // The excluded subscriber saw nothing before a marker published afterwards.
    within(
        "marker",
        listener.publish(&topic, ("marker",)).acknowledge(),
    )
    .await
    .unwrap();
    let event = next_event(&mut excluded_events).await;
    assert_eq!(event.arg::<String>(0).unwrap(), "marker");
}

#[tokio::test]
async fn flushed_testaments_are_not_published() {
    let listener = connect(Serializer::Json).await;
    let topic = unique("flushed");
    let mut events = within("subscribe", listener.subscribe(&topic))
        .await
        .unwrap();
    let mortal = connect(Serializer::Json).await;
    let meta = mortal.meta();
    for n in 0..2 {
        within(
            "add testament",
            meta.add_testament(&topic, (n,), (), TestamentOptions::new()),
        )
        .await
        .unwrap();
    }
    within(
        "add detached testament",
        meta.add_testament(
            &topic,
            ("kept",),
            (),
            TestamentOptions::new().scope(TestamentScope::Detached),
        ),
    )
    .await
    .unwrap();
    let flushed = within("flush", meta.flush_testaments(TestamentScope::Destroyed))
        .await
        .unwrap();
    assert_eq!(flushed, Some(2));
    let flushed = within(
        "flush again",
        meta.flush_testaments(TestamentScope::Destroyed),
    )
    .await
    .unwrap();
    assert_eq!(flushed, Some(0));
    within("leave", mortal.leave()).await.unwrap();

    // Only the detached testament is published, then the marker.
    within(
        "marker",
        listener
            .publish(&topic, ("marker",))
            .include_me()
            .acknowledge(),
    )
    .await
    .unwrap();
    assert_eq!(
        next_event(&mut events).await.arg::<String>(0).unwrap(),
        "kept"
    );
    assert_eq!(
        next_event(&mut events).await.arg::<String>(0).unwrap(),
        "marker"
    );
}

#[tokio::test]
async fn payloads_of_the_wrong_shape_are_errors() {
    let session = connect(Serializer::Json).await;
    // Positional testament arguments must be a sequence.
    let err = within(
        "bad args",
        session
            .meta()
            .add_testament(&unique("bad"), 5, (), TestamentOptions::new()),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Payload(_)), "{err:?}");
}

/// An in-memory router that answers HELLO with a WELCOME announcing broker and dealer without
/// any meta API feature, then records what the client sends until GOODBYE.
fn router_without_meta_api() -> (Arc<ScriptedRouter>, tokio::task::JoinHandle<Vec<String>>) {
    let router = Arc::new(ScriptedRouter::in_memory(Serializer::Json));
    let accepting = Arc::clone(&router);
    let task = tokio::spawn(async move {
        let mut peer = accepting.accept().await;
        let hello = peer.recv_frame().await.unwrap();
        assert!(
            matches!(&hello, Frame::Text(text) if text.starts_with("[1,")),
            "{hello:?}"
        );
        let welcome = serde_json::json!([2, 4242, {
            "authid": "tester",
            "authrole": "anonymous",
            "authmethod": "anonymous",
            "roles": {
                "broker": {"features": {"pattern_based_subscription": true}},
                "dealer": {"features": {"pattern_based_registration": true}}
            }
        }]);
        peer.send_frame(Frame::Text(welcome.to_string())).await;
        let mut received = Vec::new();
        while let Some(frame) = peer.recv_frame().await {
            let Frame::Text(text) = frame else {
                continue;
            };
            let goodbye = text.starts_with("[6,");
            received.push(text);
            if goodbye {
                let goodbye = serde_json::json!([6, {}, "wamp.close.goodbye_and_out"]);
                let _ = peer.try_send_frame(Frame::Text(goodbye.to_string())).await;
                break;
            }
        }
        received
    });
    (router, task)
}

#[tokio::test]
async fn missing_features_fail_fast_without_sending() {
    let (scripted, router) = router_without_meta_api();
    let session = within(
        "connect",
        scripted.connect(Session::builder(scripted.url(), "realm1")),
    )
    .await
    .unwrap();
    let meta = session.meta();
    assert_eq!(meta.supported(), wampkit::meta::MetaSupport::default());

    let check = |result: wampkit::Result<()>, feature: &str| match result {
        Err(Error::Wamp(e)) => {
            assert_eq!(e.uri, ErrorUri::FeatureNotSupported, "{e}");
            let message = e.message().unwrap_or_default();
            assert!(message.contains(feature), "{message}");
        }
        other => panic!("expected feature_not_supported, got {other:?}"),
    };
    check(meta.session_count(None).await.map(drop), "session_meta_api");
    check(meta.session_list(None).await.map(drop), "session_meta_api");
    check(meta.session_get(1).await.map(drop), "session_meta_api");
    check(meta.kill_session(1, None, None).await, "session_meta_api");
    check(
        meta.kill_by_authid("x", None, None).await.map(drop),
        "session_meta_api",
    );
    check(
        meta.kill_by_authrole("x", None, None).await.map(drop),
        "session_meta_api",
    );
    check(
        meta.kill_all(None, None).await.map(drop),
        "session_meta_api",
    );
    check(meta.on_join().await.map(drop), "session_meta_api");
    check(meta.on_leave().await.map(drop), "session_meta_api");
    check(
        meta.registration_list().await.map(drop),
        "registration_meta_api",
    );
    check(
        meta.registration_lookup("a.b", None).await.map(drop),
        "registration_meta_api",
    );
    check(
        meta.registration_match("a.b").await.map(drop),
        "registration_meta_api",
    );
    check(
        meta.registration_get(1).await.map(drop),
        "registration_meta_api",
    );
    check(
        meta.registration_callees(1).await.map(drop),
        "registration_meta_api",
    );
    check(
        meta.registration_callee_count(1).await.map(drop),
        "registration_meta_api",
    );
    check(
        meta.subscription_list().await.map(drop),
        "subscription_meta_api",
    );
    check(
        meta.subscription_lookup("a.b", None).await.map(drop),
        "subscription_meta_api",
    );
    check(
        meta.subscription_match("a.b").await.map(drop),
        "subscription_meta_api",
    );
    check(
        meta.subscription_get(1).await.map(drop),
        "subscription_meta_api",
    );
    check(
        meta.subscription_subscribers(1).await.map(drop),
        "subscription_meta_api",
    );
    check(
        meta.subscription_subscriber_count(1).await.map(drop),
        "subscription_meta_api",
    );
    check(
        meta.add_testament("a.b", (), (), TestamentOptions::new())
            .await,
        "testament_meta_api",
    );
    check(
        meta.flush_testaments(TestamentScope::Destroyed)
            .await
            .map(drop),
        "testament_meta_api",
    );

    within("leave", session.leave()).await.unwrap();
    let received = within("router", router).await.unwrap();
    assert_eq!(received.len(), 1, "only GOODBYE was sent: {received:?}");
    assert!(received[0].starts_with("[6,"), "{received:?}");
}
