//! Transport and session hardening against a router that misbehaves or a configuration taken to
//! its extremes: a router that floods PINGs without reading, durations of `Duration::MAX`, huge
//! router texts, credentials in URLs.
//!
//! WebSocket cases run against the scripted router of `wamp-testkit`; RawSocket cases against a
//! small RawSocket router written here over TCP.
// Needs RawSocket and TLS: compiled with those features only (`cargo test --workspace` has them).
#![cfg(all(feature = "rawsocket", feature = "tls"))]
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::oneshot;
use wampkit::wire::{Id, Message, Payload};
use wampkit::{
    CloseReason, Dict, Error, ReconnectPolicy, Serializer, Session, Value, error::CloseInitiator,
    session::SessionState,
};

use wamp_testkit::bounded;
use wamp_testkit::scripted_router::{
    ScriptedRouter, abort, args, dict, error, expect_message, goodbye, result, welcome_details,
};

/// The longest any test may take: a hang fails the test instead of blocking CI.
const TEST_TIMEOUT: Duration = Duration::from_secs(30);
const SESSION_ID: Id = 77;
const REALM: &str = "realm1";

async fn finish<T>(script: tokio::task::JoinHandle<T>) -> T {
    match script.await {
        Ok(value) => value,
        Err(e) => panic!("the router script failed: {e}"),
    }
}

// ===== a RawSocket router

/// RawSocket frame types.
const MESSAGE: u8 = 0;
const PING: u8 = 1;
const PONG: u8 = 2;

/// The router's side of one RawSocket connection (JSON), played frame by frame.
struct RawPeer {
    stream: TcpStream,
    /// Received bytes not yet returned as frames.
    buffer: Vec<u8>,
}

impl RawPeer {
    /// The next frame: its type and payload; `None` at the end of the connection.
    async fn read_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if let Some(&[kind, l1, l2, l3]) = self.buffer.get(..4) {
                let length = usize::from(l1) << 16 | usize::from(l2) << 8 | usize::from(l3);
                if self.buffer.len() >= 4 + length {
                    let frame: Vec<u8> = self.buffer.drain(..4 + length).skip(4).collect();
                    return Some((kind, frame));
                }
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    async fn write_frame(&mut self, kind: u8, payload: &[u8]) {
        let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
        let mut frame = vec![kind, length[1], length[2], length[3]];
        frame.extend_from_slice(payload);
        self.stream.write_all(&frame).await.unwrap();
    }

    /// The next WAMP message; panics on a PING or PONG.
    async fn recv(&mut self) -> Option<Message> {
        let (kind, payload) = self.read_frame().await?;
        assert_eq!(kind, MESSAGE, "expected a WAMP message frame");
        Some(Serializer::Json.decode(&payload).unwrap())
    }

    async fn send(&mut self, message: &Message) {
        let bytes = Serializer::Json.encode(message).unwrap();
        self.write_frame(MESSAGE, &bytes).await;
    }

    async fn welcome(&mut self) {
        let hello = self.recv().await;
        assert!(matches!(hello, Some(Message::Hello { .. })), "{hello:?}");
        self.send(&Message::Welcome {
            session: SESSION_ID,
            details: welcome_details(),
        })
        .await;
    }
}

/// Starts a RawSocket router (JSON) with a small receive buffer, so that a router that does not
/// read stops taking the client's bytes early; `script` plays its one connection.
async fn serve_rs<F, Fut, T>(script: F) -> (String, tokio::task::JoinHandle<T>)
where
    F: FnOnce(RawPeer) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let url = format!("rs://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut hello = [0u8; 4];
        stream.read_exact(&mut hello).await.unwrap();
        assert_eq!(hello[0], 0x7F, "RawSocket magic");
        assert_eq!(hello[1] & 0x0F, 1, "the client asks for JSON");
        stream.write_all(&[0x7F, 0xF1, 0, 0]).await.unwrap();
        script(RawPeer {
            stream,
            buffer: Vec::new(),
        })
        .await
    });
    (url, task)
}

// ===== RawSocket PINGs from a router that does not read

/// PINGs flooded by the router while it reads nothing.
const FLOOD_PINGS: usize = 1000;
/// Their payload: large, so that the socket buffers between the client and the router hold only
/// a few dozen of the PONGs (at most 4 MiB on Linux).
const FLOOD_PING_SIZE: usize = 64 * 1024;

/// A router that sends PINGs but reads nothing cannot make the client queue a PONG for each: it
/// keeps one, the answer to the latest PING. Once the router reads again it gets what the socket
/// buffers held, then that one PONG, echoing the last PING.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_pings_from_a_router_that_does_not_read_do_not_pile_up() {
    bounded("RawSocket PING flood", async {
        let (read_tx, read) = oneshot::channel::<()>();
        let (url, script) = serve_rs(|mut peer| async move {
            peer.welcome().await;
            let request = match peer.recv().await {
                Some(Message::Call { request, .. }) => request,
                other => panic!("expected a CALL, got {other:?}"),
            };
            let payload = vec![b'p'; FLOOD_PING_SIZE];
            for _ in 0..FLOOD_PINGS {
                peer.write_frame(PING, &payload).await;
            }
            peer.write_frame(PING, b"last").await;
            // The RESULT comes after every PING: once the call returns, the client has read them.
            peer.send(&result(request, args(("flooded",)))).await;
            read.await.unwrap();
            // The client's GOODBYE may overtake the last PONG, still waiting for room.
            let (mut pongs, mut last, mut goodbye) = (0, false, false);
            while !(last && goodbye) {
                match peer.read_frame().await {
                    Some((PONG, payload)) => {
                        pongs += 1;
                        if payload == b"last" {
                            last = true;
                        } else {
                            assert_eq!(payload.len(), FLOOD_PING_SIZE, "a PONG echoes its PING");
                        }
                    }
                    Some((MESSAGE, bytes)) => {
                        let message = Serializer::Json.decode(&bytes).unwrap();
                        assert!(matches!(message, Message::Goodbye { .. }), "{message:?}");
                        goodbye = true;
                    }
                    other => panic!("expected PONGs and GOODBYE, got {other:?}"),
                }
            }
            peer.send(&Message::Goodbye {
                details: Dict::new(),
                reason: "wamp.close.goodbye_and_out".to_owned(),
            })
            .await;
            assert!(peer.read_frame().await.is_none(), "expected the end");
            pongs
        })
        .await;

        let session = Session::builder(&url, REALM)
            .serializer(Serializer::Json)
            .no_keepalive()
            .connect()
            .await
            .unwrap();
        let answer: String = session
            .call("com.example.flood", ())
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(answer, "flooded");
        read_tx.send(()).unwrap();
        session.leave().await.unwrap();
        let pongs = finish(script).await;
        // What the socket buffers held (4 MiB / 64 KiB = 64 PONGs at most), what the transport's
        // send buffer held, and the answer to the last PING; never one PONG per PING.
        assert!(
            pongs <= FLOOD_PINGS / 4,
            "{pongs} PONGs for {FLOOD_PINGS} unread PINGs: they were queued"
        );
    })
    .await;
}

// ===== durations too long for the clock: "never", not a panic

/// A keepalive timeout of `Duration::MAX` (and an interval of it): the session runs, PINGs or
/// not, and never declares the router dead.
#[tokio::test]
async fn keepalive_with_an_endless_timeout() {
    bounded("endless keepalive timeout", async {
        for interval in [Duration::from_millis(20), Duration::MAX] {
            let router = ScriptedRouter::start(Serializer::Json).await;
            let url = router.url();
            let script = tokio::spawn(async move {
                let mut peer = router.accept().await;
                peer.welcome(SESSION_ID).await;
                peer.answer_call(args(("alive",))).await;
                peer.expect_leave().await;
            });
            let session = Session::builder(&url, REALM)
                .keepalive(interval, Duration::MAX)
                .connect()
                .await
                .unwrap();
            // A few PINGs, each of which computes the dead-peer deadline.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let answer: String = session
                .call("com.example.ping", ())
                .await
                .unwrap()
                .arg(0)
                .unwrap();
            assert_eq!(answer, "alive", "interval {interval:?}");
            session.leave().await.unwrap();
            finish(script).await;
        }
    })
    .await;
}

/// `leave_timeout(Duration::MAX)`: leaving waits for the router's GOODBYE, which comes.
#[tokio::test]
async fn leave_with_an_endless_leave_timeout() {
    bounded("endless leave timeout", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(SESSION_ID).await;
            peer.expect_leave().await
        });
        let session = Session::builder(&url, REALM)
            .leave_timeout(Duration::MAX)
            .connect()
            .await
            .unwrap();
        let reason = session.leave().await.unwrap();
        assert_eq!(reason.initiator, CloseInitiator::Client, "{reason:?}");
        assert_eq!(finish(script).await, "wamp.close.close_realm");
    })
    .await;
}

/// `Call::timeout(Duration::MAX)` on a stream of progressive results: every result restarts the
/// deadline.
#[tokio::test]
async fn progressive_call_with_an_endless_timeout() {
    bounded("endless call timeout", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(SESSION_ID).await;
            let call = peer.expect_call().await;
            assert_eq!(
                call.options.get("receive_progress"),
                Some(&Value::Bool(true))
            );
            for (n, progress) in [(1, true), (2, true), (3, false)] {
                let details = if progress {
                    dict([("progress", Value::Bool(true))])
                } else {
                    Dict::new()
                };
                peer.send(Message::Result {
                    request: call.request,
                    details,
                    payload: Payload::new(args((n,)), Dict::new()),
                })
                .await;
            }
            peer.expect_leave().await;
        });
        let session = Session::connect(&url, REALM).await.unwrap();
        let mut results = session
            .call("com.example.count", ())
            .timeout(Duration::MAX)
            .into_stream();
        let mut received = Vec::new();
        while let Some(result) = results.next().await {
            received.push(result.unwrap().arg::<i64>(0).unwrap());
        }
        assert_eq!(received, [1, 2, 3]);
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

/// A reconnect delay of `Duration::MAX`: the session waits (for ever) and can still be left.
#[tokio::test]
async fn reconnect_with_an_endless_delay() {
    bounded("endless reconnect delay", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(SESSION_ID).await;
            // Gone without a word: the client reconnects.
            peer.close();
        });
        let policy = ReconnectPolicy::default()
            .initial_delay(Duration::MAX)
            .max_delay(Duration::MAX);
        let session = Session::builder(&url, REALM)
            .reconnect(policy)
            .connect()
            .await
            .unwrap();
        let mut states = session.states();
        loop {
            match states.next().await {
                Some(SessionState::Reconnecting { attempt, delay }) => {
                    assert_eq!(attempt, 1);
                    assert!(delay > Duration::from_secs(86_400 * 365 * 100), "{delay:?}");
                    break;
                }
                Some(SessionState::Joined { .. } | SessionState::Disconnected { .. }) => {}
                other => panic!("expected the session to wait before reconnecting: {other:?}"),
            }
        }
        finish(script).await;
        // Still waiting, and answering: leaving ends it.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let reason = session.leave().await.unwrap();
        assert_eq!(reason.initiator, CloseInitiator::Client, "{reason:?}");
        assert!(matches!(
            states.next().await,
            Some(SessionState::Closed(_)) | None
        ));
    })
    .await;
}

// ===== huge texts from the router: clipped in errors, close reasons, logs and ABORT

/// 1 MiB of text from the router.
fn huge_text() -> String {
    "é".repeat(512 * 1024)
}

/// What is kept of a router text is a few hundred bytes, and says how long the original was.
#[track_caller]
fn assert_clipped(text: &str) {
    assert!(text.len() < 1000, "{} bytes: {}…", text.len(), &text[..200]);
    assert!(text.contains("… (1048576 bytes)"), "{text}");
}

/// A known key of the wrong type holding 1 MiB: the client's ABORT and its close reason quote
/// only the start of it.
#[tokio::test]
async fn protocol_violation_quotes_a_huge_value_short() {
    bounded("huge value in a protocol violation", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(SESSION_ID).await;
            let (request, _) = peer.accept_subscribe(5).await;
            assert_eq!(request, 1);
            // EVENT.Details.retained must be a boolean.
            peer.send(Message::Event {
                subscription: 5,
                publication: 9,
                details: dict([("retained", Value::from(huge_text()))]),
                payload: Payload::Empty,
            })
            .await;
            let details = expect_message!(
                peer,
                Message::Abort { details, reason, .. }
                    if reason == "wamp.error.protocol_violation" => details
            );
            details
                .get("message")
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        });
        let session = Session::connect(&url, REALM).await.unwrap();
        let _events = session.subscribe("com.example.topic").await.unwrap();
        let reason = session.closed().await;
        assert_eq!(
            reason.initiator,
            CloseInitiator::ProtocolViolation,
            "{reason:?}"
        );
        let message = reason.message.clone().unwrap();
        assert!(message.contains("retained must be a boolean"), "{message}");
        assert!(message.len() < 1000, "{} bytes", message.len());
        assert!(reason.to_string().len() < 1000);
        let sent = finish(script).await;
        assert!(sent.len() < 1000, "the ABORT carried {} bytes", sent.len());
        assert_eq!(sent, message);
    })
    .await;
}

/// The router's GOODBYE or ABORT with a 1 MiB message (and reason): the close reason keeps the
/// start of each.
#[tokio::test]
async fn huge_goodbye_and_abort_texts_are_clipped() {
    bounded("huge GOODBYE and ABORT", async {
        for abort_it in [false, true] {
            let router = ScriptedRouter::start(Serializer::Json).await;
            let url = router.url();
            let script = tokio::spawn(async move {
                let mut peer = router.accept().await;
                peer.welcome(SESSION_ID).await;
                let reason = format!("com.example.{}", huge_text());
                let message = huge_text();
                if abort_it {
                    peer.send(abort(&reason, &message)).await;
                } else {
                    peer.send(goodbye(&reason, Some(&message))).await;
                    expect_message!(peer, Message::Goodbye { .. });
                }
                peer.expect_closed().await;
            });
            let session = Session::connect(&url, REALM).await.unwrap();
            let reason: CloseReason = session.closed().await;
            assert_eq!(reason.initiator, CloseInitiator::Router, "{reason:?}");
            assert!(
                reason.uri.as_str().starts_with("com.example.é"),
                "{}",
                &reason.uri.as_str()[..50]
            );
            assert!(
                reason.uri.as_str().len() < 1000,
                "{} bytes",
                reason.uri.as_str().len()
            );
            assert_clipped(reason.message.as_deref().unwrap());
            assert!(reason.to_string().len() < 2000);
            finish(script).await;
        }
    })
    .await;
}

/// An ERROR with a 1 MiB message, or an ABORT refusing the session with one: the error keeps the
/// whole payload, but its description is short.
#[tokio::test]
async fn huge_error_messages_are_described_short() {
    bounded("huge ERROR and join ABORT", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(SESSION_ID).await;
            let call = peer.expect_call().await;
            peer.send(error(
                wampkit::wire::code::CALL,
                call.request,
                "com.example.error.huge",
                vec![Value::from(huge_text()), Value::from(huge_text())],
            ))
            .await;
            peer.expect_leave().await;
            let mut peer = router.accept().await;
            peer.abort_hello("wamp.error.not_authorized", &huge_text())
                .await;
        });
        let session = Session::connect(&url, REALM).await.unwrap();
        let failed = session.call("com.example.huge", ()).await.unwrap_err();
        assert_eq!(
            failed.as_wamp().and_then(|e| e.message()).map(str::len),
            Some(1024 * 1024),
            "the payload itself is kept"
        );
        let described = failed.to_string();
        assert!(described.len() < 2000, "{} bytes", described.len());
        assert!(described.contains("… (1048576 bytes)"), "{described}");
        session.leave().await.unwrap();

        let refused = Session::connect(&url, REALM).await.unwrap_err();
        assert!(matches!(refused, Error::Aborted(_)), "{refused:?}");
        let described = refused.to_string();
        assert!(described.len() < 1000, "{} bytes", described.len());
        assert!(described.contains("… (1048576 bytes)"), "{described}");
        finish(script).await;
    })
    .await;
}

/// A revocation with a 1 MiB reason: the subscription keeps the start of it.
#[tokio::test]
async fn huge_revocation_reasons_are_clipped() {
    bounded("huge revocation reason", async {
        let router = ScriptedRouter::start(Serializer::Json).await;
        let url = router.url();
        let script = tokio::spawn(async move {
            let mut peer = router.accept().await;
            peer.welcome(SESSION_ID).await;
            peer.accept_subscribe(5).await;
            peer.send(Message::Unsubscribed {
                request: 0,
                details: Some(dict([
                    ("subscription", Value::from(5u64)),
                    ("reason", Value::from(huge_text())),
                ])),
            })
            .await;
            peer.expect_leave().await;
        });
        let session = Session::connect(&url, REALM).await.unwrap();
        let mut events = session.subscribe("com.example.topic").await.unwrap();
        assert!(events.next().await.is_none(), "the stream ends");
        assert_clipped(events.revoked().unwrap());
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

// ===== credentials in the router URL

/// Records the name and fields of every span and event.
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Capture {
    fn push(&self, line: String) -> u64 {
        let mut lines = self.0.lock().unwrap();
        lines.push(line);
        u64::try_from(lines.len()).unwrap()
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut line = format!("span {}", span.metadata().name());
        span.record(&mut Fields(&mut line));
        tracing::span::Id::from_u64(self.push(line))
    }

    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut line = "record".to_owned();
        values.record(&mut Fields(&mut line));
        self.push(line);
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = "event".to_owned();
        event.record(&mut Fields(&mut line));
        self.push(line);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

/// The password and query string of the router URL (a token, often) appear neither in the
/// connect error nor in the session's span, nor in the builder's `Debug`.
#[tokio::test]
async fn url_credentials_stay_out_of_errors_and_spans() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let _subscriber = tracing::subscriber::set_default(Capture(Arc::clone(&lines)));
    let url = "ws://user:secret@127.0.0.1:1/ws?token=abc";
    let redacted = "ws://user:***@127.0.0.1:1/ws?…";

    let error = bounded("refused connection", Session::connect(url, REALM))
        .await
        .unwrap_err();
    let Error::Connect(connect) = &error else {
        panic!("expected a connect error, got {error:?}");
    };
    assert_eq!(connect.url, redacted);
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(text.contains(redacted), "{text}");
        assert!(!text.contains("secret") && !text.contains("abc"), "{text}");
    }

    // TLS without verification warns, naming the URL.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tls_url = format!(
        "wss://user:secret@{}/ws?token=abc",
        listener.local_addr().unwrap()
    );
    let unanswered = Session::builder(&tls_url, REALM)
        .danger_accept_invalid_certificates()
        .join_timeout(Duration::from_millis(300))
        .connect()
        .await;
    assert!(
        matches!(unanswered, Err(Error::Timeout { .. })),
        "{unanswered:?}"
    );

    let builder = format!("{:?}", Session::builder(url, REALM));
    assert!(builder.contains(redacted), "{builder}");
    assert!(
        !builder.contains("secret") && !builder.contains("abc"),
        "{builder}"
    );

    let lines = lines.lock().unwrap().join("\n");
    assert!(
        lines.contains(&format!("span wamp.session url={redacted}")),
        "{lines}"
    );
    assert!(lines.contains("url=wss://user:***@127.0.0.1:"), "{lines}");
    assert!(
        !lines.contains("secret") && !lines.contains("abc"),
        "{lines}"
    );
}

// ===== CA files are read off the runtime's threads

/// A CA file that is a FIFO: reading it blocks until something writes to it. On a current-thread
/// runtime, a read on the runtime's thread would stall every task until the writer gives up
/// waiting; read on a blocking thread, the runtime goes on, and its task is what feeds the FIFO.
#[cfg(unix)]
#[tokio::test]
async fn ca_files_are_read_without_blocking_the_runtime() {
    let directory = std::env::temp_dir().join(format!("wamp-ca-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let fifo = directory.join("ca.pem");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed");

    // The writer: feeds the FIFO when the runtime asks, or on its own after a while (a stalled
    // runtime cannot ask), so that the test fails instead of hanging.
    let (ask, asked) = std::sync::mpsc::channel::<()>();
    let writer_fifo = fifo.clone();
    let writer = std::thread::spawn(move || {
        let runtime_asked = asked.recv_timeout(Duration::from_secs(3)).is_ok();
        // Not a certificate: the connect fails right after reading it, naming the file.
        std::fs::write(&writer_fifo, b"not a certificate").unwrap();
        runtime_asked
    });

    // TCP connects (the kernel completes it without an accept); TLS setup then reads the CA file.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://{}/ws", listener.local_addr().unwrap());
    let connecting = tokio::spawn(
        Session::builder(&url, REALM)
            .no_tls_webpki_roots()
            .tls_ca_file(&fifo)
            .connect(),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Fails once the writer gave up waiting: the assertion below says why.
    let _ = ask.send(());
    let result = tokio::time::timeout(TEST_TIMEOUT, connecting)
        .await
        .unwrap()
        .unwrap();
    let runtime_asked = writer.join().unwrap();
    let _ = std::fs::remove_dir_all(&directory);

    let error = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        error.contains("ca.pem contains no certificate"),
        "the CA file was read: {error}"
    );
    assert!(
        runtime_asked,
        "the runtime stalled while the CA file was being read"
    );
}

/// A refused RawSocket connection keeps the `io::Error` at the end of its error chain.
#[tokio::test]
async fn a_refused_rawsocket_connection_keeps_its_io_error() {
    let closed = wamp_testkit::closed_port::closed_port().unwrap();
    let url = format!("rs://127.0.0.1:{}", closed.port());
    let error = bounded("refused connection", Session::connect(&url, REALM))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Connect(_)), "{error:?}");
    let io = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
        .find_map(|e| e.downcast_ref::<std::io::Error>());
    assert_eq!(
        io.map(std::io::Error::kind),
        Some(std::io::ErrorKind::ConnectionRefused),
        "{error:?}"
    );
}
