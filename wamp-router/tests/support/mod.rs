//! A raw client for the router's hostile-input tests: it speaks encoded messages (or any bytes)
//! over an in-memory connection served with `Router::serve`, and checks what comes back.
#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use wampkit::transport::memory::{self, MemoryTransport};
use wampkit::wire::{Id, Message, Payload};
use wampkit::{Arguments, Dict, Invocation, Serializer, Value};
use wampkit_router::Router;

/// How long any single step may take before the test fails as a hang.
pub const LIMIT: Duration = Duration::from_secs(10);

/// A client sending whatever the test tells it, never answering on its own.
pub struct Raw {
    transport: MemoryTransport,
    pub serializer: Serializer,
}

impl Raw {
    /// A connection to `router` whose messages are encoded with `serializer`.
    pub fn connect(router: &Router, serializer: Serializer) -> Raw {
        Raw::with_capacity(router, serializer, 64)
    }

    /// The same, holding at most `capacity` unread messages each way.
    pub fn with_capacity(router: &Router, serializer: Serializer, capacity: usize) -> Raw {
        let (client, server) = memory::duplex(capacity);
        router.serve(server, serializer, "hostile");
        Raw {
            transport: client,
            serializer,
        }
    }

    /// Sends bytes as one frame; false if the router has hung up.
    pub async fn send_bytes(&mut self, bytes: impl Into<Bytes>) -> bool {
        let sent = tokio::time::timeout(LIMIT, self.transport.send(bytes.into()))
            .await
            .expect("the router takes the frame in time");
        sent.is_ok()
    }

    /// Encodes and sends a message; false if the router has hung up.
    pub async fn send(&mut self, message: &Message) -> bool {
        let bytes = self.serializer.encode(message).expect("encodable");
        self.send_bytes(bytes).await
    }

    /// The next message, or `None` once the router has closed the connection.
    pub async fn recv(&mut self) -> Option<Message> {
        let next = tokio::time::timeout(LIMIT, self.transport.next())
            .await
            .expect("the router answers or closes in time");
        match next {
            Some(Ok(bytes)) => Some(
                self.serializer
                    .decode(&bytes)
                    .expect("the router sends valid messages"),
            ),
            _ => None,
        }
    }

    /// The next message other than an EVENT (meta events, say).
    pub async fn recv_skipping_events(&mut self) -> Option<Message> {
        loop {
            match self.recv().await? {
                Message::Event { .. } => continue,
                other => return Some(other),
            }
        }
    }

    /// Whether nothing arrives within `wait`.
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.transport.next())
            .await
            .is_err()
    }

    /// Sends HELLO to `realm1` with `roles` and returns the session id of the WELCOME.
    pub async fn join(&mut self, roles: Dict) -> Id {
        assert!(self.send(&hello("realm1", roles)).await, "HELLO sent");
        match self.recv().await {
            Some(Message::Welcome { session, .. }) => session,
            other => panic!("expected WELCOME, got {other:?}"),
        }
    }

    /// Expects ABORT with `reason`, then the end of the connection; returns its message.
    pub async fn expect_abort(&mut self, reason: &str) -> String {
        let message = match self.recv().await {
            Some(Message::Abort {
                reason: got,
                details,
                ..
            }) => {
                assert_eq!(got, reason, "{details:?}");
                details
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            }
            other => panic!("expected ABORT {reason}, got {other:?}"),
        };
        self.expect_closed().await;
        message
    }

    /// Expects the router to close the connection, skipping what it still sends.
    pub async fn expect_closed(&mut self) {
        while self.recv().await.is_some() {}
    }

    /// Registers `procedure` and returns the registration id.
    pub async fn register(&mut self, request: Id, procedure: &str) -> Id {
        let register = Message::Register {
            request,
            options: Dict::new(),
            procedure: procedure.into(),
        };
        assert!(self.send(&register).await);
        match self.recv_skipping_events().await {
            Some(Message::Registered {
                request: r,
                registration,
            }) if r == request => registration,
            other => panic!("expected REGISTERED, got {other:?}"),
        }
    }

    /// Subscribes to `topic` and returns the subscription id.
    pub async fn subscribe(&mut self, request: Id, topic: &str) -> Id {
        let subscribe = Message::Subscribe {
            request,
            options: Dict::new(),
            topic: topic.into(),
        };
        assert!(self.send(&subscribe).await);
        match self.recv_skipping_events().await {
            Some(Message::Subscribed {
                request: r,
                subscription,
            }) if r == request => subscription,
            other => panic!("expected SUBSCRIBED, got {other:?}"),
        }
    }
}

/// A HELLO.
pub fn hello(realm: &str, roles: Dict) -> Message {
    let mut details = Dict::new();
    details.insert("roles".into(), Value::Dict(roles));
    Message::Hello {
        realm: realm.into(),
        details,
    }
}

/// HELLO roles: each role with the features named.
pub fn roles(spec: &[(&str, &[&str])]) -> Dict {
    spec.iter()
        .map(|(role, features)| {
            let features: Dict = features
                .iter()
                .map(|f| ((*f).to_owned(), Value::Bool(true)))
                .collect();
            let mut details = Dict::new();
            details.insert("features".into(), Value::Dict(features));
            ((*role).to_owned(), Value::Dict(details))
        })
        .collect()
}

/// Every client role, no features.
pub fn all_roles() -> Dict {
    roles(&[
        ("caller", &[]),
        ("callee", &[]),
        ("publisher", &[]),
        ("subscriber", &[]),
    ])
}

/// A CALL.
pub fn call(request: Id, procedure: &str, options: Dict, args: Vec<Value>) -> Message {
    Message::Call {
        request,
        options,
        procedure: procedure.into(),
        payload: Payload::new(args, Dict::new()),
    }
}

/// Options from pairs.
pub fn options(pairs: &[(&str, Value)]) -> Dict {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// A router with `realm1`.
pub fn router() -> Router {
    Router::builder()
        .realm("realm1")
        .goodbye_timeout(Duration::from_millis(200))
        .build()
}

/// Waits until `check` holds, failing the test after [`LIMIT`].
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + LIMIT;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until the realm holds no session, registration or subscription.
pub async fn assert_all_gone(router: &Router) {
    let realm = router.realm("realm1").expect("realm1");
    eventually("every session, registration and subscription gone", || {
        realm.sessions().is_empty()
            && realm.registrations().is_empty()
            && realm.subscriptions().is_empty()
    })
    .await;
}

/// Two well-behaved sessions still call and publish through `router`; they leave afterwards.
pub async fn assert_serves(router: &Router) {
    let join = |serializer| {
        let builder = wampkit::Session::builder("memory://check", "realm1").serializer(serializer);
        router.join(builder)
    };
    let callee = tokio::time::timeout(LIMIT, join(Serializer::Json))
        .await
        .expect("join in time")
        .expect("join");
    let caller = tokio::time::timeout(LIMIT, join(Serializer::Cbor))
        .await
        .expect("join in time")
        .expect("join");
    let _registration = callee
        .register("com.check.double", |inv: Invocation| async move {
            let (n,): (i64,) = inv.args()?;
            Ok(Arguments::single(n * 2)?)
        })
        .await
        .expect("register");
    let mut events = callee
        .subscribe("com.check.topic")
        .await
        .expect("subscribe");
    let doubled: i64 = tokio::time::timeout(LIMIT, caller.call("com.check.double", (21,)))
        .await
        .expect("call in time")
        .expect("call")
        .arg(0)
        .expect("a number");
    assert_eq!(doubled, 42);
    tokio::time::timeout(
        LIMIT,
        caller.publish("com.check.topic", ("hi",)).acknowledge(),
    )
    .await
    .expect("publish in time")
    .expect("publish");
    let event = tokio::time::timeout(LIMIT, events.next())
        .await
        .expect("event in time")
        .expect("an event");
    let (text,): (String,) = event.args().expect("args");
    assert_eq!(text, "hi");
    drop(events);
    drop(_registration);
    caller.leave().await.expect("leave");
    callee.leave().await.expect("leave");
}
