//! RawSocket: against the router under test (TCP and Unix socket, every serializer, both message
//! limits), and against a scripted router on a local TCP listener for what Crossbar cannot be
//! made to do (PINGs, bad frames, handshake errors, small limits).
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::sync::OnceLock;

use futures_util::StreamExt as _;
use serde_json::json;
use testkit::RouterKind;
use testkit::e2e::{connect_to, register_echo, within};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use wampkit::{
    Arguments, Error, ErrorUri, Invocation, Serializer, Session, Value, error::CloseInitiator,
};

/// The router's limit on the limited RawSocket endpoint.
const ROUTER_LIMIT: u32 = 65_536;

/// One router for this test binary, with the limited and the Unix socket endpoints.
fn router() -> &'static testkit::TestRouter {
    static ROUTER: OnceLock<Result<testkit::TestRouter, String>> = OnceLock::new();
    ROUTER
        .get_or_init(|| {
            testkit::TestRouter::start_with(&testkit::RouterOptions {
                rawsocket_limited: Some(ROUTER_LIMIT),
                rawsocket_unix: true,
                ..Default::default()
            })
        })
        .as_ref()
        .expect("the router starts")
}

fn payload() -> (i64, Value, f64, String, Vec<Option<i32>>) {
    (
        -9_007_199_254_740_991,
        Value::Bytes(vec![0, 1, 159, 254, 255]),
        -0.5,
        "zwölf ✓".into(),
        vec![Some(-1), None],
    )
}

/// Call/register and publish/subscribe round trips between two sessions at `url`.
async fn round_trips(url: &str, serializer: Serializer) {
    let callee = connect_to(url, serializer).await;
    let caller = connect_to(url, serializer).await;
    assert_eq!(caller.serializer(), serializer);
    let uri = format!("com.test.rawsocket.{serializer}.echo.{}", callee.id());
    let _echo = register_echo(&callee, &uri).await;
    let result = within("call", caller.call(&uri, payload()).kwarg("n", -42))
        .await
        .unwrap();
    assert_eq!(
        result
            .args::<(i64, Value, f64, String, Vec<Option<i32>>)>()
            .unwrap(),
        payload()
    );
    assert_eq!(result.kwarg::<i64>("n").unwrap(), -42);

    let topic = format!("com.test.rawsocket.{serializer}.news.{}", callee.id());
    let mut events = within("subscribe", callee.subscribe(&topic)).await.unwrap();
    within("publish", caller.publish(&topic, payload()).acknowledge())
        .await
        .unwrap();
    let event = within("event", events.next()).await.expect("an event");
    assert_eq!(
        event
            .args::<(i64, Value, f64, String, Vec<Option<i32>>)>()
            .unwrap(),
        payload()
    );
    within("leave", caller.leave()).await.unwrap();
    within("leave", callee.leave()).await.unwrap();
}

async fn tcp_round_trips(serializer: Serializer) {
    round_trips(&router().rawsocket_url(), serializer).await;
}

async fn unix_round_trips(serializer: Serializer) {
    let url = router().rawsocket_unix_url().expect("a unix endpoint");
    round_trips(&url, serializer).await;
}

/// On the endpoint that accepts 64 KiB, larger messages fail locally and the session goes on.
async fn router_limit_fails_locally(serializer: Serializer) {
    let url = router()
        .rawsocket_limited_url()
        .expect("a limited endpoint");
    let session = connect_to(&url, serializer).await;
    // The helper on the same endpoint: the embedded router's limit is a router's own, so its
    // limited endpoint is a router of its own.
    let helper = connect_to(&url, serializer).await;
    let uri = format!("com.test.rawsocket.{serializer}.limited.{}", session.id());
    let _echo = register_echo(&helper, &uri).await;
    let big = "x".repeat(ROUTER_LIMIT as usize + 1);

    // A call: a typed error naming the sizes.
    let err = within("big call", session.call(&uri, (&big,)))
        .await
        .unwrap_err();
    let wamp = err
        .as_wamp()
        .unwrap_or_else(|| panic!("a WAMP error: {err:?}"));
    assert_eq!(wamp.uri, ErrorUri::PayloadSizeExceeded, "{err}");
    let message = wamp.args[0].as_str().unwrap_or_default().to_owned();
    assert!(
        message.contains("the CALL message is") && message.contains("65536 bytes"),
        "{message}"
    );

    // The session is still usable.
    let result = within("small call", session.call(&uri, ("small",)))
        .await
        .unwrap();
    assert_eq!(result.arg::<String>(0).unwrap(), "small");

    // An acknowledged publication fails the same way.
    let topic = format!("com.test.rawsocket.{serializer}.limited.{}", session.id());
    let err = within(
        "big publish",
        session.publish(&topic, (&big,)).acknowledge(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::PayloadSizeExceeded), "{err}");

    // A result too large for the router: the caller gets payload_size_exceeded instead.
    let big_result = format!(
        "com.test.rawsocket.{serializer}.big_result.{}",
        session.id()
    );
    let size = ROUTER_LIMIT as usize + 10;
    let _big = within(
        "register big",
        session.register(&big_result, move |_: Invocation| async move {
            Ok(Arguments::single("y".repeat(size))?)
        }),
    )
    .await
    .unwrap();
    let err = within("call big result", helper.call(&big_result, ()))
        .await
        .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::PayloadSizeExceeded), "{err}");

    assert!(!session.is_closed());
    let result = within("small call again", session.call(&uri, (-1,)))
        .await
        .unwrap();
    assert_eq!(result.arg::<i64>(0).unwrap(), -1);
}

/// With a small receive limit, Crossbar honours the announced limit: it never sends a larger
/// message (events are skipped, results become errors), and the session goes on. (The limit
/// must leave room for Crossbar's WELCOME, about 1 KiB, which it would not send either.)
async fn own_limit_is_announced(serializer: Serializer) {
    let url = router().rawsocket_url();
    let small = within(
        "connect",
        Session::builder(&url, "realm1")
            .serializer(serializer)
            .max_message_size(4096)
            .connect(),
    )
    .await
    .unwrap();
    let publisher = connect_to(&url, serializer).await;
    let topic = format!("com.test.rawsocket.{serializer}.small.{}", small.id());
    let mut events = within("subscribe", small.subscribe(&topic)).await.unwrap();
    within(
        "big publish",
        publisher.publish(&topic, ("z".repeat(5000),)).acknowledge(),
    )
    .await
    .unwrap();
    within(
        "small publish",
        publisher.publish(&topic, (7,)).acknowledge(),
    )
    .await
    .unwrap();
    let event = within("event", events.next()).await.expect("an event");
    assert_eq!(event.arg::<i64>(0).unwrap(), 7, "the big event was skipped");

    let uri = format!("com.test.rawsocket.{serializer}.small.echo.{}", small.id());
    let _echo = register_echo(&publisher, &uri).await;
    let err = within(
        "call with a big result",
        small.call(&uri, ("z".repeat(5000),)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Wamp(_)), "{err:?}");
    assert!(!small.is_closed());
    let result = within("small call", small.call(&uri, (3,))).await.unwrap();
    assert_eq!(result.arg::<i64>(0).unwrap(), 3);
}

testkit::per_serializer!(
    tcp_round_trips,
    unix_round_trips,
    router_limit_fails_locally,
    own_limit_is_announced,
);

#[tokio::test]
async fn wrong_endpoint_kind_is_explained() {
    // ws:// on the RawSocket port: Crossbar drops the connection at the HTTP request.
    let port = router().rawsocket_port();
    let err = within(
        "connect",
        Session::connect(&format!("ws://127.0.0.1:{port}/ws"), "realm1"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    assert!(
        err.to_string().contains("is this a WebSocket endpoint"),
        "{err}"
    );

    // rs:// on the WebSocket port: Crossbar's HTTP server waits silently for a request; the
    // embedded router's closes the connection at the bytes that start no HTTP request.
    let port = router().ws_port();
    let err = within(
        "connect",
        Session::connect(&format!("rs://127.0.0.1:{port}"), "realm1"),
    )
    .await
    .unwrap_err();
    let expected = match router().kind() {
        RouterKind::Crossbar => "did not answer the RawSocket handshake",
        RouterKind::Embedded => "this is not a RawSocket endpoint",
    };
    assert!(err.to_string().contains(expected), "{err}");

    // A closed port.
    let closed = wamp_testkit::closed_port::closed_port().unwrap();
    let port = closed.port();
    let err = within(
        "connect",
        Session::connect(&format!("rs://127.0.0.1:{port}"), "realm1"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("connection refused"), "{err}");

    let err = within("connect", Session::connect("rs://127.0.0.1", "realm1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs a port"), "{err}");
}

// ===== a scripted router (JSON only)

/// The router side of one RawSocket connection.
struct Peer {
    stream: TcpStream,
}

impl Peer {
    async fn accept(listener: &TcpListener) -> Peer {
        let (stream, _) = within("accept", listener.accept()).await.unwrap();
        Peer { stream }
    }

    /// Reads the client's handshake, answers `reply`, returns what the client sent.
    async fn handshake(&mut self, reply: [u8; 4]) -> [u8; 4] {
        let mut hello = [0u8; 4];
        within("read hello", self.stream.read_exact(&mut hello))
            .await
            .unwrap();
        within("write reply", self.stream.write_all(&reply))
            .await
            .unwrap();
        hello
    }

    /// The next frame: (first header byte, payload); `None` at EOF.
    async fn read_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut header = [0u8; 4];
        match within("read header", self.stream.read_exact(&mut header)).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return None,
            Err(e) => panic!("reading a frame: {e}"),
        }
        let length =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let mut payload = vec![0u8; length];
        within("read payload", self.stream.read_exact(&mut payload))
            .await
            .unwrap();
        Some((header[0], payload))
    }

    async fn write_frame(&mut self, first: u8, payload: &[u8]) {
        let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
        let mut frame = vec![first, length[1], length[2], length[3]];
        frame.extend_from_slice(payload);
        within("write frame", self.stream.write_all(&frame))
            .await
            .unwrap();
    }

    /// The next WAMP message (JSON), skipping nothing.
    async fn read_message(&mut self) -> serde_json::Value {
        let (first, payload) = self.read_frame().await.expect("a frame");
        assert_eq!(first, 0, "a message frame");
        serde_json::from_slice(&payload).unwrap()
    }

    async fn send(&mut self, message: serde_json::Value) {
        self.write_frame(0, &serde_json::to_vec(&message).unwrap())
            .await;
    }

    /// Accepts the HELLO with a WELCOME.
    async fn welcome(&mut self) {
        let hello = self.read_message().await;
        assert_eq!(hello[0], 1, "HELLO: {hello}");
        self.send(json!([2, 1, {"roles": {"dealer": {}, "broker": {}}}]))
            .await;
    }
}

/// A listener on a free port and its `rs://` URL.
async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("rs://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// Connects a JSON session to a scripted router that answers the handshake with `reply`.
async fn scripted(reply: [u8; 4], max_message_size: Option<usize>) -> (Session, Peer) {
    let (listener, url) = listener().await;
    let mut builder = Session::builder(&url, "realm1").serializer(Serializer::Json);
    if let Some(size) = max_message_size {
        builder = builder.max_message_size(size);
    }
    let client = tokio::spawn(builder.connect());
    let mut peer = Peer::accept(&listener).await;
    peer.handshake(reply).await;
    peer.welcome().await;
    let session = within("join", client).await.unwrap().unwrap();
    (session, peer)
}

#[tokio::test]
async fn handshake_announces_serializer_and_limit() {
    let (listener, url) = listener().await;
    for (serializer, size, expected) in [
        (Serializer::Json, None, [0x7F, 0xF1, 0, 0]),
        (Serializer::MsgPack, Some(512), [0x7F, 0x02, 0, 0]),
        (Serializer::Cbor, Some(100_000), [0x7F, 0x73, 0, 0]),
    ] {
        let mut builder = Session::builder(&url, "realm1").serializer(serializer);
        if let Some(size) = size {
            builder = builder.max_message_size(size);
        }
        let client = tokio::spawn(builder.connect());
        let mut peer = Peer::accept(&listener).await;
        let hello = peer.handshake([0x7F, 0x40, 0, 0]).await; // error 4: no more connections
        assert_eq!(hello, expected, "{serializer}");
        let err = within("connect", client).await.unwrap().unwrap_err();
        assert!(
            err.to_string().contains("maximum number of connections"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn ping_is_answered_with_pong() {
    let (session, mut peer) = scripted([0x7F, 0xF1, 0, 0], None).await;
    for payload in [&b"ping \x00\xff payload"[..], b""] {
        peer.write_frame(1, payload).await;
        let (first, echoed) = peer.read_frame().await.expect("a PONG");
        assert_eq!(first, 2, "a PONG frame");
        assert_eq!(echoed, payload);
    }
    // An unsolicited PONG is ignored.
    peer.write_frame(2, b"pong").await;

    // The session still works: a call and its result.
    let call = tokio::spawn({
        let session = session.clone();
        async move { session.call("com.example.add", (1, -2)).await }
    });
    let message = peer.read_message().await;
    assert_eq!(message[0], 48, "CALL: {message}");
    let request = message[1].as_u64().unwrap();
    peer.send(json!([50, request, {}, [-1]])).await;
    let result = within("call", call).await.unwrap().unwrap();
    assert_eq!(result.arg::<i64>(0).unwrap(), -1);
    assert!(!session.is_closed());
}

#[tokio::test]
async fn reserved_bits_fail_the_connection() {
    let (session, mut peer) = scripted([0x7F, 0xF1, 0, 0], None).await;
    let call = tokio::spawn({
        let session = session.clone();
        async move { session.call("com.example.slow", ()).await }
    });
    let message = peer.read_message().await;
    assert_eq!(message[0], 48, "CALL: {message}");
    peer.write_frame(0x10, b"[36,1,2,{}]").await;
    let reason = within("closed", session.closed()).await;
    assert_eq!(reason.initiator, CloseInitiator::Transport, "{reason}");
    assert!(
        reason
            .message
            .as_deref()
            .is_some_and(|m| m.contains("reserved header bits")),
        "{reason}"
    );
    let result = within("pending call", call).await.unwrap();
    assert!(matches!(result, Err(Error::SessionClosed(_))), "{result:?}");
}

#[tokio::test]
async fn oversized_incoming_frame_fails_the_connection() {
    let (session, mut peer) = scripted([0x7F, 0xF1, 0, 0], Some(512)).await;
    let call = tokio::spawn({
        let session = session.clone();
        async move { session.call("com.example.big", ()).await }
    });
    let message = peer.read_message().await;
    let request = message[1].as_u64().unwrap();
    let result = serde_json::to_vec(&json!([50, request, {}, ["w".repeat(1000)]])).unwrap();
    peer.write_frame(0, &result).await;
    let reason = within("closed", session.closed()).await;
    assert!(
        reason
            .message
            .as_deref()
            .is_some_and(|m| m.contains("exceeds this client's limit of 512 bytes")),
        "{reason}"
    );
    let result = within("pending call", call).await.unwrap();
    assert!(matches!(result, Err(Error::SessionClosed(_))), "{result:?}");
    let diagnostics = session.diagnostics().await;
    assert!(diagnostics.is_err(), "the session task has ended");
}

#[tokio::test]
async fn refused_serializer_is_retried_on_a_new_connection() {
    let (listener, url) = listener().await;
    let client = tokio::spawn(
        Session::builder(&url, "realm1")
            .serializers([Serializer::Cbor, Serializer::Json])
            .connect(),
    );
    let mut first = Peer::accept(&listener).await;
    let hello = first.handshake([0x7F, 0x10, 0, 0]).await;
    assert_eq!(hello[1] & 0x0F, 3, "CBOR first");
    drop(first);
    let mut second = Peer::accept(&listener).await;
    let hello = second.handshake([0x7F, 0xF1, 0, 0]).await;
    assert_eq!(hello[1] & 0x0F, 1, "then JSON");
    second.welcome().await;
    let session = within("join", client).await.unwrap().unwrap();
    assert_eq!(session.serializer(), Serializer::Json);

    // With nothing left to try, the error names the serializer.
    let client = tokio::spawn(
        Session::builder(&url, "realm1")
            .serializer(Serializer::Cbor)
            .connect(),
    );
    let mut peer = Peer::accept(&listener).await;
    peer.handshake([0x7F, 0x10, 0, 0]).await;
    let err = within("connect", client).await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("the router does not support serializer cbor over RawSocket"),
        "{err}"
    );

    // Crossbar's way: closing the connection without an answer.
    let client = tokio::spawn(
        Session::builder(&url, "realm1")
            .serializers([Serializer::MsgPack, Serializer::Json])
            .connect(),
    );
    let mut peer = Peer::accept(&listener).await;
    let mut hello = [0u8; 4];
    peer.stream.read_exact(&mut hello).await.unwrap();
    drop(peer);
    let mut peer = Peer::accept(&listener).await;
    peer.handshake([0x7F, 0xF1, 0, 0]).await;
    peer.welcome().await;
    let session = within("join", client).await.unwrap().unwrap();
    assert_eq!(session.serializer(), Serializer::Json);
}

#[tokio::test]
async fn bad_handshake_replies_are_explained() {
    let (listener, url) = listener().await;
    for (reply, expected) in [
        (*b"HTTP", "WebSocket endpoint"),
        ([0x7F, 0x20, 0, 0], "maximum message length"),
        ([0x7F, 0x30, 0, 0], "reserved bits"),
        ([0x7F, 0xF2, 0, 0], "serializer id 2"),
        ([0x7F, 0xF1, 1, 0], "reserved bytes"),
    ] {
        let client = tokio::spawn(
            Session::builder(&url, "realm1")
                .serializer(Serializer::Json)
                .connect(),
        );
        let mut peer = Peer::accept(&listener).await;
        peer.handshake(reply).await;
        let err = within("connect", client).await.unwrap().unwrap_err();
        assert!(err.to_string().contains(expected), "{reply:?}: {err}");
    }
}

#[tokio::test]
async fn router_limit_is_enforced_before_sending() {
    // LLLL = 2: the router accepts 2 KiB (room for the HELLO).
    let (session, mut peer) = scripted([0x7F, 0x21, 0, 0], None).await;
    let big = "b".repeat(3000);
    let err = within("big call", session.call("com.example.big", (&big,)))
        .await
        .unwrap_err();
    assert_eq!(err.uri(), Some(&ErrorUri::PayloadSizeExceeded), "{err}");
    assert!(err.to_string().contains("2048 bytes"), "{err}");

    // Nothing was sent for it: the next frame is the small call.
    let call = tokio::spawn({
        let session = session.clone();
        async move { session.call("com.example.small", ("s",)).await }
    });
    let message = peer.read_message().await;
    assert_eq!(message[3], "com.example.small", "{message}");
    let request = message[1].as_u64().unwrap();
    peer.send(json!([50, request, {}, ["ok"]])).await;
    let result = within("small call", call).await.unwrap().unwrap();
    assert_eq!(result.arg::<String>(0).unwrap(), "ok");

    // An oversized YIELD becomes an ERROR for the router to pass on.
    let registration = tokio::spawn({
        let session = session.clone();
        async move {
            session
                .register("com.example.big_result", |_: Invocation| async move {
                    Ok(Arguments::single("r".repeat(3000))?)
                })
                .await
        }
    });
    let message = peer.read_message().await;
    assert_eq!(message[0], 64, "REGISTER: {message}");
    let request = message[1].as_u64().unwrap();
    peer.send(json!([65, request, 77])).await;
    let _registration = within("register", registration).await.unwrap().unwrap();
    peer.send(json!([68, 5, 77, {}])).await;
    let message = peer.read_message().await;
    assert_eq!(message[0], 8, "ERROR: {message}");
    assert_eq!(message[1], 68);
    assert_eq!(message[2], 5);
    assert_eq!(message[4], "wamp.error.payload_size_exceeded");
    assert!(!session.is_closed());
}
