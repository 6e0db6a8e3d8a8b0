//! Sessions on the embedded router: the meta API, testaments, authentication and
//! authorization, killing, leaving and shutdown.
#![cfg(test)]

mod common;

use std::time::Duration;

use common::{join, router, uri, within};
use futures_util::StreamExt;
use wampkit::meta::TestamentOptions;
use wampkit::{Arguments, Error, ErrorUri, Invocation, Serializer, Session};
use wampkit_router::{Action, RealmConfig, Role, Router};

#[tokio::test]
async fn the_meta_api_sees_sessions_and_registrations() {
    let router = router();
    let observer = join(&router).await;
    let mut joins = observer.meta().on_join().await.expect("on_join");
    let other = join(&router).await;
    let joined = within("on_join", joins.next())
        .await
        .expect("event")
        .expect("join");
    assert_eq!(joined.session, other.id());
    assert_eq!(observer.meta().session_count(None).await.expect("count"), 2);
    let info = observer.meta().session_get(other.id()).await.expect("get");
    assert_eq!(info.authrole.as_deref(), Some("anonymous"));
    let _reg = other
        .register("com.example.meta", |_inv: Invocation| async move {
            Ok(Arguments::new())
        })
        .await
        .expect("register");
    let list = observer.meta().registration_list().await.expect("list");
    assert_eq!(list.exact.len(), 1);
    let id = observer
        .meta()
        .registration_match("com.example.meta")
        .await
        .expect("match");
    assert_eq!(
        observer
            .meta()
            .registration_callees(id.expect("an id"))
            .await
            .expect("callees"),
        [other.id()]
    );
    observer
        .meta()
        .kill_session(other.id(), None, Some("bye"))
        .await
        .expect("kill");
    let reason = within("closed", other.closed()).await;
    assert_eq!(reason.uri.as_str(), "wamp.close.killed");
    assert_eq!(observer.meta().session_count(None).await.expect("count"), 1);
    let error = observer
        .meta()
        .kill_session(observer.id(), None, None)
        .await
        .expect_err("not itself");
    assert!(
        matches!(&error, Error::Wamp(e) if e.uri == ErrorUri::NoSuchSession)
            || uri(&error) == "wamp.error.no_such_session"
    );
}

#[tokio::test]
async fn testaments_are_published_when_a_session_goes() {
    let router = router();
    let watcher = join(&router).await;
    let mut events = watcher
        .subscribe("com.example.gone")
        .await
        .expect("subscribe");
    let dying = join(&router).await;
    dying
        .meta()
        .add_testament("com.example.gone", ("bye",), (), TestamentOptions::new())
        .await
        .expect("testament");
    dying.leave().await.expect("leave");
    let event = within("testament", events.next()).await.expect("event");
    assert_eq!(event.arg::<String>(0).expect("text"), "bye");
}

#[tokio::test]
async fn roles_limit_what_sessions_may_do() {
    let realm = RealmConfig::new("realm1").role(
        Role::new("anonymous").allow("com.example.public.", [Action::Call, Action::Subscribe]),
    );
    let router = Router::builder().add_realm(realm).build();
    let session = join(&router).await;
    let error = session
        .register("com.example.public.add", |_inv: Invocation| async move {
            Ok(Arguments::new())
        })
        .await
        .expect_err("refused");
    assert_eq!(uri(&error), "wamp.error.not_authorized");
    let error = session
        .call("com.example.private.add", ())
        .await
        .expect_err("refused");
    assert_eq!(uri(&error), "wamp.error.not_authorized");
    let error = session
        .call("com.example.public.add", ())
        .await
        .expect_err("no callee");
    assert_eq!(uri(&error), "wamp.error.no_such_procedure");
}

#[tokio::test]
async fn shutdown_says_goodbye_to_every_session() {
    let router = router();
    let a = join(&router).await;
    let b = Session::builder("memory://b", "realm1").serializer(Serializer::Json);
    let b = within("join", router.join(b)).await.expect("join");
    within("shutdown", router.shutdown()).await;
    for session in [&a, &b] {
        let reason = within("closed", session.closed()).await;
        assert_eq!(reason.uri.as_str(), "wamp.close.system_shutdown");
    }
    assert!(
        router.connect("realm1").await.is_err(),
        "a router shut down admits nobody"
    );
}

#[tokio::test]
async fn unknown_realms_are_refused() {
    let router = router();
    let error = router.connect("nowhere").await.expect_err("refused");
    assert!(error.to_string().contains("no_such_realm"), "{error}");
}

#[tokio::test]
async fn an_authorizer_decides_in_place_of_roles() {
    let realm = RealmConfig::new("realm1").authorizer(
        |requester: wampkit_router::Requester<'_>, action: Action, uri: &str| {
            action != Action::Publish
                || (uri.starts_with("com.example.open.")
                    && requester.identity.authrole == "anonymous")
        },
    );
    let router = Router::builder().add_realm(realm).build();
    let session = join(&router).await;
    let error = session
        .publish("com.example.closed", ())
        .acknowledge()
        .await
        .expect_err("refused");
    assert_eq!(uri(&error), "wamp.error.not_authorized");
    session
        .publish("com.example.open.news", ())
        .acknowledge()
        .await
        .expect("allowed");
}

#[tokio::test]
async fn leaving_sessions_are_announced_and_their_calls_fail() {
    let router = router();
    let observer = join(&router).await;
    let mut leaves = observer.meta().on_leave().await.expect("on_leave");
    let callee = join(&router).await;
    let _reg = callee
        .register("com.example.hang", |_inv: Invocation| async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(Arguments::new())
        })
        .await
        .expect("register");
    let caller = join(&router).await;
    let call = tokio::spawn({
        let caller = caller.clone();
        async move { caller.call("com.example.hang", ()).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let callee_id = callee.id();
    assert_eq!(
        observer
            .meta()
            .kill_by_authrole("anonymous", None, None)
            .await
            .expect("kill"),
        2
    );
    let left = within("on_leave", leaves.next())
        .await
        .expect("event")
        .expect("leave");
    assert!(left.session == callee_id || left.session == caller.id());
    let error = within("call", call)
        .await
        .expect("the task")
        .expect_err("an error");
    assert!(
        matches!(error, Error::Wamp(_) | Error::SessionClosed(_)),
        "{error}"
    );
    assert_eq!(router.realm("realm1").expect("realm").sessions().len(), 1);
}

#[tokio::test]
async fn a_session_may_leave_256_testaments() {
    let router = router();
    let session = join(&router).await;
    for i in 0..256 {
        session
            .meta()
            .add_testament("com.example.gone", (i,), (), TestamentOptions::new())
            .await
            .expect("testament");
    }
    let error = session
        .meta()
        .add_testament("com.example.gone", (), (), TestamentOptions::new())
        .await
        .expect_err("one too many");
    assert_eq!(uri(&error), "wamp.error.unavailable");
}

#[tokio::test]
async fn shutdown_returns_even_when_a_client_stopped_reading() {
    use futures_util::SinkExt;
    use wampkit::transport::memory;

    let router = Router::builder()
        .realm("realm1")
        .outbound_queue(4)
        .goodbye_timeout(Duration::from_millis(200))
        .build();
    let (mut client, server) = memory::duplex(1);
    router.serve(server, Serializer::Json, "test");
    let hello = br#"[1,"realm1",{"roles":{"subscriber":{}}}]"#;
    client
        .send(bytes::Bytes::from_static(hello))
        .await
        .expect("HELLO");
    let welcome = within("WELCOME", client.next())
        .await
        .expect("a message")
        .expect("bytes");
    assert!(welcome.starts_with(b"[2,"), "{welcome:?}");
    client
        .send(bytes::Bytes::from_static(
            br#"[32,1,{},"com.example.flood"]"#,
        ))
        .await
        .expect("SUBSCRIBE");
    let subscribed = within("SUBSCRIBED", client.next())
        .await
        .expect("a message")
        .expect("bytes");
    assert!(subscribed.starts_with(b"[33,1,"), "{subscribed:?}");
    // The client reads nothing more: its queue and the link fill up, events are dropped.
    let publisher = join(&router).await;
    for i in 0..100 {
        publisher
            .publish("com.example.flood", (i,))
            .acknowledge()
            .await
            .expect("publish");
    }
    let realm = router.realm("realm1").expect("realm");
    let dropped: u64 = realm.sessions().iter().map(|s| s.dropped_events).sum();
    assert!(dropped >= 90, "{dropped} events dropped");
    within("shutdown", router.shutdown()).await;
    drop(client);
}

#[tokio::test]
async fn in_process_sessions_authenticate_like_any_other() {
    use wampkit_router::Authentication;

    let authentication = Authentication::new()
        .ticket("alice", "open sesame", "user")
        .scram("bob", "correct horse", "backend")
        .expect("SCRAM keys");
    let realm = RealmConfig::new("realm1")
        .authentication(authentication)
        .role(Role::new("user").allow("com.example.", [Action::Call]));
    let router = Router::builder().add_realm(realm).build();
    let alice = Session::builder("memory://alice", "realm1").ticket("alice", "open sesame");
    let alice = within("join", router.join(alice))
        .await
        .expect("alice joins");
    assert_eq!(alice.details().authrole.as_deref(), Some("user"));
    assert_eq!(alice.details().authmethod.as_deref(), Some("ticket"));
    let bob = Session::builder("memory://bob", "realm1").scram("bob", "correct horse");
    let bob = within("join", router.join(bob)).await.expect("bob joins");
    assert_eq!(bob.details().authrole.as_deref(), Some("backend"));
    let wrong = Session::builder("memory://eve", "realm1").ticket("alice", "guess");
    let error = within("refusal", router.join(wrong))
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("not_authorized"), "{error}");
    let anonymous = within("refusal", router.connect("realm1"))
        .await
        .expect_err("refused");
    assert!(
        anonymous.to_string().contains("no_auth_method"),
        "{anonymous}"
    );
    // Roles apply: a `backend` session has no rule here, a `user` one may call.
    let error = bob.call("com.example.x", ()).await.expect_err("refused");
    assert_eq!(uri(&error), "wamp.error.not_authorized");
    let error = alice
        .call("com.example.x", ())
        .await
        .expect_err("no callee");
    assert_eq!(uri(&error), "wamp.error.no_such_procedure");
}

#[tokio::test]
async fn a_router_shut_down_serves_no_connection() {
    use wampkit::transport::memory;

    let router = router();
    within("shutdown", router.shutdown()).await;
    let (mut client, server) = memory::duplex(8);
    router.serve(server, Serializer::Json, "late");
    assert!(
        within("end of the link", client.next()).await.is_none(),
        "the transport is closed without a word"
    );
}
