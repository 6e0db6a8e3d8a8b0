//! The advanced profile through the embedded router, with in-process sessions: progressive
//! results and input, cancel modes, disclosure, exclusion and listing, retention, revocation,
//! the meta API, testaments, authorization and shutdown.
#![cfg(test)]

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use wamp_client::meta::TestamentOptions;
use wamp_client::rpc::CancelMode;
use wamp_client::{Arguments, Error, ErrorUri, Invocation, Serializer, Session, Value, WampError};
use wamp_router::{Action, RealmConfig, Role, Router};

const LIMIT: Duration = Duration::from_secs(10);

async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {LIMIT:?}"))
}

fn router() -> Router {
    Router::builder().realm("realm1").build()
}

async fn join(router: &Router) -> Session {
    within("join", router.connect("realm1"))
        .await
        .expect("join")
}

fn uri(error: &Error) -> &str {
    match error {
        Error::Wamp(e) => e.uri.as_str(),
        other => panic!("expected a WAMP error, got {other}"),
    }
}

#[tokio::test]
async fn progressive_results_arrive_in_order_then_the_final_one() {
    let router = router();
    let callee = join(&router).await;
    let _reg = callee
        .register("com.example.count", |inv: Invocation| async move {
            let n: u32 = inv.arg(0)?;
            if let Some(progress) = inv.progress() {
                for i in 0..n {
                    progress.send_value(i).map_err(|e| {
                        WampError::new("com.example.error")
                            .with_args(vec![Value::from(e.to_string())])
                    })?;
                }
            }
            Ok(Arguments::single("done")?)
        })
        .await
        .expect("register");
    let caller = join(&router).await;
    let mut stream = caller.call("com.example.count", (3,)).into_stream();
    let mut seen = Vec::new();
    while let Some(item) = within("result", stream.next()).await {
        let result = item.expect("a result");
        seen.push(result.args.first().cloned().unwrap_or_default());
    }
    assert_eq!(
        seen,
        [
            Value::from(0u64),
            Value::from(1u64),
            Value::from(2u64),
            Value::from("done")
        ]
    );
}

#[tokio::test]
async fn progressive_input_reaches_the_callee_as_one_invocation() {
    let router = router();
    let callee = join(&router).await;
    let _reg = callee
        .register("com.example.sum", |mut inv: Invocation| async move {
            let mut total: i64 = inv.arg(0)?;
            if let Some(mut input) = inv.take_input() {
                while let Some(chunk) = input.next().await {
                    total += chunk
                        .args
                        .first()
                        .and_then(Value::as_i64)
                        .unwrap_or_default();
                }
            }
            Ok(Arguments::single(total)?)
        })
        .await
        .expect("register");
    let caller = join(&router).await;
    let (mut input, mut results) = caller
        .call("com.example.sum", (1,))
        .into_duplex()
        .expect("duplex");
    input.send((-2,)).expect("chunk");
    input.send((40,)).expect("chunk");
    input.finish((3,)).expect("last chunk");
    let result = within("result", results.next())
        .await
        .expect("a result")
        .expect("ok");
    assert_eq!(result.args, [Value::from(42i64)]);
}

#[tokio::test]
async fn cancel_modes() {
    let router = router();
    let callee = join(&router).await;
    let (interrupted, mut interrupts) = tokio::sync::mpsc::unbounded_channel();
    let _reg = callee
        .register("com.example.wait", move |inv: Invocation| {
            let interrupted = interrupted.clone();
            async move {
                inv.canceled().await;
                let _ = interrupted.send(());
                Err::<Arguments, _>(WampError::new("wamp.error.canceled"))
            }
        })
        .await
        .expect("register");
    let caller = join(&router).await;
    for mode in [CancelMode::Kill, CancelMode::KillNoWait, CancelMode::Skip] {
        let stream = caller.call("com.example.wait", ()).into_stream();
        let cancel = stream.cancel_handle();
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel(mode);
        let mut stream = stream;
        let error = within("canceled", stream.next())
            .await
            .expect("an answer")
            .expect_err("an error");
        assert_eq!(uri(&error), "wamp.error.canceled", "{mode:?}");
        if mode == CancelMode::Skip {
            assert!(
                tokio::time::timeout(Duration::from_millis(200), interrupts.recv())
                    .await
                    .is_err(),
                "skip does not interrupt the callee"
            );
        } else {
            within("interrupt", interrupts.recv())
                .await
                .expect("the callee was interrupted");
        }
    }
}

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
    assert_eq!(anonymous.args, [Value::Null]);
    let disclosed = caller
        .call("com.example.who", ())
        .disclose_me()
        .await
        .expect("call");
    assert_eq!(disclosed.args, [Value::from(caller.id())]);

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
async fn revoked_registrations_no_longer_answer() {
    let router = router();
    let callee = join(&router).await;
    let reg = callee
        .register("com.example.revoked", |_inv: Invocation| async move {
            Ok(Arguments::new())
        })
        .await
        .expect("register");
    let realm = router.realm("realm1").expect("realm");
    assert_eq!(realm.registrations().len(), 1);
    assert!(realm.revoke_registration(reg.id(), "wamp.close.revoked"));
    assert!(realm.registrations().is_empty());
    let caller = join(&router).await;
    let error = caller
        .call("com.example.revoked", ())
        .await
        .expect_err("no callee");
    assert_eq!(uri(&error), "wamp.error.no_such_procedure");
}

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

#[tokio::test]
async fn an_authorizer_decides_in_place_of_roles() {
    let realm = RealmConfig::new("realm1").authorizer(
        |requester: wamp_router::Requester<'_>, action: Action, uri: &str| {
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
async fn first_last_and_random_callees() {
    use wamp_client::rpc::InvokePolicy;
    let router = router();
    let a = join(&router).await;
    let b = join(&router).await;
    let mut registrations = Vec::new();
    for policy in [
        InvokePolicy::First,
        InvokePolicy::Last,
        InvokePolicy::Random,
    ] {
        let procedure = format!("com.example.{}", policy.as_str());
        for (session, name) in [(&a, "a"), (&b, "b")] {
            let registration = session
                .register(procedure.clone(), move |_inv: Invocation| async move {
                    Ok(Arguments::single(name)?)
                })
                .invoke(policy)
                .await
                .expect("register");
            registrations.push(registration);
        }
    }
    let caller = join(&router).await;
    let name = |procedure: &'static str| {
        let caller = caller.clone();
        async move {
            caller
                .call(procedure, ())
                .await
                .expect("call")
                .arg::<String>(0)
                .expect("name")
        }
    };
    assert_eq!(name("com.example.first").await, "a");
    assert_eq!(name("com.example.last").await, "b");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..64 {
        seen.insert(name("com.example.random").await);
    }
    assert_eq!(seen.len(), 2, "both callees get random calls");
    let error = b
        .register("com.example.first", |_inv: Invocation| async move {
            Ok(Arguments::new())
        })
        .invoke(InvokePolicy::First)
        .await
        .expect_err("registered already");
    assert_eq!(uri(&error), "wamp.error.procedure_already_exists");
    let error = b
        .register("com.example.last", |_inv: Invocation| async move {
            Ok(Arguments::new())
        })
        .invoke(InvokePolicy::RoundRobin)
        .await
        .expect_err("another policy");
    assert_eq!(
        uri(&error),
        "wamp.error.procedure_exists_with_different_invocation_policy"
    );
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
    use wamp_client::transport::memory;

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

#[tokio::test(start_paused = true)]
async fn call_timeouts_follow_tokio_time() {
    let router = router();
    let callee = join(&router).await;
    let _slow = callee
        .register("com.example.slow", |_inv: Invocation| async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Arguments::new())
        })
        .await
        .expect("register");
    let caller = join(&router).await;
    let started = std::time::Instant::now();
    let error = caller
        .call("com.example.slow", ())
        .router_timeout(Duration::from_secs(600))
        .await
        .expect_err("timed out");
    assert_eq!(uri(&error), "wamp.error.timeout");
    assert!(
        started.elapsed() < LIMIT,
        "ten minutes of paused time pass at once"
    );
}

#[tokio::test]
async fn in_process_sessions_authenticate_like_any_other() {
    use wamp_router::Authentication;

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
