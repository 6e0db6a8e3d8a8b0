//! Keepalive: PINGs keep an idle session open while the router answers them, and a router that
//! falls silent (or stops reading) is declared dead within the timeout, failing what is pending.
//!
//! WebSocket runs against the scripted router of `wamp-testkit` (tungstenite answers Pings while
//! the script reads); RawSocket against a small RawSocket router written here over TCP.
// Needs RawSocket as well as WebSocket: compiled with those features only (`cargo test --workspace` has them).
#![cfg(feature = "rawsocket")]
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::future::{Future, IntoFuture as _};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use wampkit::wire::{Id, Message, Payload};
use wampkit::{CloseReason, Dict, Error, Serializer, Session, error::CloseInitiator};

use wamp_testkit::bounded;
use wamp_testkit::scripted_router::{RouterPeer, ScriptedRouter, args, result, welcome_details};

const SESSION_ID: Id = 77;
const REALM: &str = "realm1";
/// The keepalive used by the tests: a PING every 100 ms, dead after 400 ms of silence.
const INTERVAL: Duration = Duration::from_millis(100);
const TIMEOUT: Duration = Duration::from_millis(400);
/// The close message a silent router gets, for [`TIMEOUT`].
const DEAD: &str = "no answer from the router for 0.4 s: the connection is dead";

async fn finish<T>(script: tokio::task::JoinHandle<T>) -> T {
    match script.await {
        Ok(value) => value,
        Err(e) => panic!("the router script failed: {e}"),
    }
}

/// The close reason inside an `Error::SessionClosed`, or a panic naming what came instead.
fn closed_reason<T: std::fmt::Debug>(what: &str, result: wampkit::Result<T>) -> CloseReason {
    match result {
        Err(Error::SessionClosed(reason)) => reason,
        other => panic!("{what}: expected Error::SessionClosed, got {other:?}"),
    }
}

/// Checks that `reason` is the keepalive's verdict on a dead connection.
#[track_caller]
fn assert_declared_dead(reason: &CloseReason, message_part: &str) {
    assert_eq!(reason.initiator, CloseInitiator::Transport, "{reason:?}");
    let message = reason.message.as_deref().unwrap_or_default();
    assert!(
        message.contains(message_part),
        "the close message should say {message_part:?}: {reason:?}"
    );
}

/// Checks that a dead connection was noticed after the timeout, and not much later.
#[track_caller]
fn assert_noticed_in_time(elapsed: Duration) {
    assert!(
        elapsed >= TIMEOUT,
        "declared dead after {elapsed:?}, before the {TIMEOUT:?} timeout"
    );
    assert!(
        elapsed < TIMEOUT * 5,
        "declared dead only after {elapsed:?} (timeout {TIMEOUT:?})"
    );
}

// ===== WebSocket

/// Starts a JSON WebSocket router whose connection `script` plays.
async fn serve_ws<F, Fut, T>(script: F) -> (String, tokio::task::JoinHandle<T>)
where
    F: FnOnce(RouterPeer) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let router = ScriptedRouter::start(Serializer::Json).await;
    let url = router.url();
    let task = tokio::spawn(async move {
        let peer = router.accept().await;
        script(peer).await
    });
    (url, task)
}

/// Reads WebSocket messages for `duration` (tungstenite answers the Pings meanwhile), returning
/// how many Pings arrived; panics on anything but Pings.
async fn count_ws_pings(peer: &mut RouterPeer, duration: Duration) -> usize {
    let mut pings = 0;
    let deadline = tokio::time::Instant::now() + duration;
    while let Ok(message) = tokio::time::timeout_at(deadline, peer.websocket().next()).await {
        match message {
            Some(Ok(WsMessage::Ping(_))) => pings += 1,
            other => panic!("expected only Pings from an idle client, got {other:?}"),
        }
    }
    pings
}

/// Reads what the client sent before it went away and counts the Pings among it.
async fn count_remaining_ws_pings(peer: &mut RouterPeer) -> usize {
    let mut pings = 0;
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_secs(2), peer.websocket().next()).await
    {
        match message {
            Ok(WsMessage::Ping(_)) => pings += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    pings
}

async fn connect_ws(url: &str) -> Session {
    Session::builder(url, REALM)
        .keepalive(INTERVAL, TIMEOUT)
        .connect()
        .await
        .expect("joining the scripted router")
}

#[tokio::test]
async fn websocket_answered_pings_keep_an_idle_session_alive() {
    bounded("WebSocket keepalive answered", async {
        let (url, script) = serve_ws(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            // Five timeouts without a single WAMP message: only Pings and the Pongs tungstenite
            // sends back.
            let pings = count_ws_pings(&mut peer, TIMEOUT * 5).await;
            peer.answer_call(args(("alive",))).await;
            peer.expect_leave().await;
            pings
        })
        .await;

        let session = connect_ws(&url).await;
        tokio::time::sleep(TIMEOUT * 5).await;
        assert!(!session.is_closed(), "{:?}", session.closed().await);
        let answer: String = session
            .call("com.example.ping", ())
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(answer, "alive");
        session.leave().await.unwrap();
        let pings = finish(script).await;
        // 2 s at one Ping per 100 ms.
        assert!(
            (10..=25).contains(&pings),
            "{pings} Pings in {:?}",
            TIMEOUT * 5
        );
    })
    .await;
}

#[tokio::test]
async fn websocket_silent_router_is_declared_dead_and_pending_calls_fail() {
    bounded("WebSocket silent router", async {
        let (done_tx, done) = oneshot::channel::<()>();
        let (url, script) = serve_ws(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            peer.expect_call().await;
            // Silence: read nothing (so no Pongs either), send nothing, keep the socket open.
            let _ = done.await;
            count_remaining_ws_pings(&mut peer).await
        })
        .await;

        let start = Instant::now();
        let session = connect_ws(&url).await;
        let call = session.call("com.example.pending", ()).into_future();
        let reason = closed_reason("the pending call", call.await);
        assert_noticed_in_time(start.elapsed());
        assert_declared_dead(&reason, DEAD);
        assert_eq!(session.closed().await, reason);
        let later = tokio::time::timeout(Duration::from_secs(1), session.call("com.example.x", ()))
            .await
            .expect("a call on a closed session fails at once");
        closed_reason("a later call", later);

        done_tx.send(()).unwrap();
        let pings = finish(script).await;
        // The Pings went out although the session had nothing to send.
        assert!(pings >= 2, "only {pings} Pings reached the router");
    })
    .await;
}

#[tokio::test]
async fn websocket_without_keepalive_waits_on_a_silent_router() {
    bounded("WebSocket no keepalive", async {
        let (url, script) = serve_ws(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            let pings = count_ws_pings(&mut peer, TIMEOUT * 3).await;
            peer.expect_leave().await;
            pings
        })
        .await;

        let session = Session::builder(&url, REALM)
            .keepalive(INTERVAL, TIMEOUT)
            .no_keepalive()
            .connect()
            .await
            .unwrap();
        tokio::time::sleep(TIMEOUT * 3).await;
        assert!(!session.is_closed());
        session.leave().await.unwrap();
        assert_eq!(finish(script).await, 0, "no Pings without keepalive");
    })
    .await;
}

/// Publishes until the socket's buffers are full, with a call pending, and checks that the session
/// is declared dead within the timeout although the session task is stuck writing (and so reads
/// nothing: the EVENTs the router keeps sending do not help).
async fn check_blocked_writer(session: Session) {
    let start = Instant::now();
    let call = tokio::spawn({
        let session = session.clone();
        async move { session.call("com.example.pending", ()).await }
    });
    // 64 MiB: more than the loopback socket buffers of both ends hold.
    let chunk = "x".repeat(256 * 1024);
    for _ in 0..256 {
        if session
            .publish("com.example.flood", (&chunk,))
            .await
            .is_err()
        {
            break;
        }
    }
    let reason = closed_reason("the pending call", call.await.unwrap());
    let elapsed = start.elapsed();
    assert!(
        elapsed < TIMEOUT * 10,
        "declared dead only after {elapsed:?}"
    );
    assert_declared_dead(
        &reason,
        "the router has taken nothing of what this client sends and sent nothing for 0.4 s: \
         the connection is dead",
    );
}

/// An EVENT for a subscription the client does not have (which it ignores).
fn unknown_event() -> Message {
    Message::Event {
        subscription: 5,
        publication: 6,
        details: Dict::new(),
        payload: Payload::Empty,
    }
}

fn ws_event() -> wamp_testkit::scripted_router::Frame {
    let bytes = Serializer::Json.encode(&unknown_event()).unwrap();
    wamp_testkit::scripted_router::Frame::Text(String::from_utf8(bytes).unwrap())
}

// Two threads, so that the router keeps sending while the session task works through the flood.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_router_that_stops_reading_cannot_block_the_session() {
    bounded("WebSocket blocked writer", async {
        let (done_tx, done) = oneshot::channel::<()>();
        let (url, script) = serve_ws(|mut peer| async move {
            peer.welcome(SESSION_ID).await;
            // Never reads again, but sends an EVENT every 20 ms.
            tokio::pin!(done);
            loop {
                tokio::select! {
                    _ = &mut done => break,
                    () = tokio::time::sleep(Duration::from_millis(20)) => {
                        if peer.try_send_frame(ws_event()).await.is_err() {
                            break;
                        }
                    }
                }
            }
        })
        .await;
        check_blocked_writer(connect_ws(&url).await).await;
        // The script may have stopped already: its sends fail once the client is gone.
        let _ = done_tx.send(());
        finish(script).await;
    })
    .await;
}

// ===== RawSocket

/// Frame types.
const MESSAGE: u8 = 0;
const PING: u8 = 1;
const PONG: u8 = 2;

/// A RawSocket router on 127.0.0.1 speaking JSON; the test plays it frame by frame.
struct RawRouter {
    listener: TcpListener,
}

impl RawRouter {
    async fn start() -> (RawRouter, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("rs://{}", listener.local_addr().unwrap());
        (RawRouter { listener }, url)
    }

    /// Accepts a connection and answers the handshake (JSON, 16 MiB).
    async fn accept(&self) -> RawPeer {
        let (mut stream, _) = self.listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut hello = [0u8; 4];
        stream.read_exact(&mut hello).await.unwrap();
        assert_eq!(hello[0], 0x7F, "RawSocket magic");
        assert_eq!(hello[1] & 0x0F, 1, "the client asks for JSON");
        stream.write_all(&[0x7F, 0xF1, 0, 0]).await.unwrap();
        RawPeer {
            stream,
            buffer: Vec::new(),
            pings: 0,
            answer_pings: true,
        }
    }
}

struct RawPeer {
    stream: TcpStream,
    /// Received bytes not yet returned as frames.
    buffer: Vec<u8>,
    /// PING frames received so far.
    pings: usize,
    /// Whether [`recv`](RawPeer::recv) answers PINGs with PONGs.
    answer_pings: bool,
}

impl RawPeer {
    /// The next frame: its type and payload; `None` at the end of the connection. Cancel-safe:
    /// a partly received frame stays in the buffer.
    async fn read_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if let Some(&[kind, l1, l2, l3]) = self.buffer.get(..4) {
                let length = usize::from(l1) << 16 | usize::from(l2) << 8 | usize::from(l3);
                if self.buffer.len() >= 4 + length {
                    let frame: Vec<u8> = self.buffer.drain(..4 + length).skip(4).collect();
                    return Some((kind, frame));
                }
            }
            let mut chunk = [0u8; 4096];
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

    /// The next WAMP message, counting PINGs (and answering them if asked to) on the way.
    async fn recv(&mut self) -> Option<Message> {
        loop {
            let (kind, payload) = self.read_frame().await?;
            match kind {
                MESSAGE => return Some(Serializer::Json.decode(&payload).unwrap()),
                PING => {
                    self.pings += 1;
                    if self.answer_pings {
                        self.write_frame(PONG, &payload).await;
                    }
                }
                other => panic!("unexpected RawSocket frame type {other}"),
            }
        }
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

    async fn expect_call(&mut self) -> Id {
        match self.recv().await {
            Some(Message::Call { request, .. }) => request,
            other => panic!("expected a CALL, got {other:?}"),
        }
    }

    /// Receives GOODBYE, answers it, and waits for the end of the connection.
    async fn expect_leave(&mut self) {
        let goodbye = self.recv().await;
        assert!(
            matches!(goodbye, Some(Message::Goodbye { .. })),
            "{goodbye:?}"
        );
        self.send(&Message::Goodbye {
            details: Dict::new(),
            reason: "wamp.close.goodbye_and_out".to_owned(),
        })
        .await;
        let rest = self.recv().await;
        assert!(
            rest.is_none(),
            "expected the end of the connection, got {rest:?}"
        );
    }

    /// Reads (answering PINGs unless told otherwise) until `duration` has passed; panics on a
    /// WAMP message.
    async fn idle(&mut self, duration: Duration) {
        if let Ok(message) = tokio::time::timeout(duration, self.recv()).await {
            panic!("expected an idle client, got {message:?}");
        }
    }
}

/// Starts a RawSocket router whose connection `script` plays.
async fn serve_rs<F, Fut, T>(script: F) -> (String, tokio::task::JoinHandle<T>)
where
    F: FnOnce(RawPeer) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (router, url) = RawRouter::start().await;
    let task = tokio::spawn(async move {
        let peer = router.accept().await;
        script(peer).await
    });
    (url, task)
}

async fn connect_rs(url: &str) -> Session {
    Session::builder(url, REALM)
        .serializer(Serializer::Json)
        .keepalive(INTERVAL, TIMEOUT)
        .rawsocket_keepalive()
        .connect()
        .await
        .expect("joining the RawSocket router")
}

#[tokio::test]
async fn rawsocket_pongs_keep_an_idle_session_alive() {
    bounded("RawSocket keepalive answered", async {
        let (url, script) = serve_rs(|mut peer| async move {
            peer.welcome().await;
            peer.idle(TIMEOUT * 5).await;
            let request = peer.expect_call().await;
            peer.send(&result(request, args(("alive",)))).await;
            peer.expect_leave().await;
            peer.pings
        })
        .await;

        let session = connect_rs(&url).await;
        tokio::time::sleep(TIMEOUT * 5).await;
        assert!(!session.is_closed(), "{:?}", session.closed().await);
        let answer: String = session
            .call("com.example.ping", ())
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(answer, "alive");
        session.leave().await.unwrap();
        let pings = finish(script).await;
        assert!((10..=25).contains(&pings), "{pings} PINGs");
    })
    .await;
}

#[tokio::test]
async fn rawsocket_silent_router_is_declared_dead_and_pending_calls_fail() {
    bounded("RawSocket silent router", async {
        let (done_tx, done) = oneshot::channel::<()>();
        let (url, script) = serve_rs(|mut peer| async move {
            peer.welcome().await;
            peer.expect_call().await;
            // Silence: no reads, no PONGs, nothing sent, the socket kept open.
            let _ = done.await;
            peer.answer_pings = false;
            while peer.recv().await.is_some() {}
            peer.pings
        })
        .await;

        let start = Instant::now();
        let session = connect_rs(&url).await;
        let reason = closed_reason(
            "the pending call",
            session.call("com.example.pending", ()).await,
        );
        assert_noticed_in_time(start.elapsed());
        assert_declared_dead(&reason, DEAD);
        assert_eq!(session.closed().await, reason);
        done_tx.send(()).unwrap();
        let pings = finish(script).await;
        assert!(pings >= 2, "only {pings} PINGs reached the router");
    })
    .await;
}

#[tokio::test]
async fn rawsocket_keepalive_is_off_by_default() {
    bounded("RawSocket default", async {
        let (url, script) = serve_rs(|mut peer| async move {
            peer.welcome().await;
            peer.idle(TIMEOUT * 3).await;
            peer.expect_leave().await;
            peer.pings
        })
        .await;

        // The WebSocket keepalive settings do not turn RawSocket PINGs on.
        let session = Session::builder(&url, REALM)
            .serializer(Serializer::Json)
            .keepalive(INTERVAL, TIMEOUT)
            .connect()
            .await
            .unwrap();
        tokio::time::sleep(TIMEOUT * 3).await;
        assert!(!session.is_closed());
        session.leave().await.unwrap();
        assert_eq!(finish(script).await, 0, "no PING frames unless asked for");
    })
    .await;
}

#[tokio::test]
async fn rawsocket_any_traffic_counts_as_an_answer() {
    bounded("RawSocket traffic without PONGs", async {
        let (url, script) = serve_rs(|mut peer| async move {
            peer.welcome().await;
            peer.answer_pings = false;
            // No PONGs, but an EVENT (for a subscription the client does not have, which it
            // ignores) every 50 ms, for five timeouts.
            let event = unknown_event();
            loop {
                peer.send(&event).await;
                match tokio::time::timeout(Duration::from_millis(50), peer.recv()).await {
                    Err(_) => {}
                    Ok(Some(Message::Goodbye { .. })) => break,
                    Ok(other) => panic!("expected GOODBYE, got {other:?}"),
                }
            }
            peer.send(&Message::Goodbye {
                details: Dict::new(),
                reason: "wamp.close.goodbye_and_out".to_owned(),
            })
            .await;
        })
        .await;

        let session = connect_rs(&url).await;
        tokio::time::sleep(TIMEOUT * 5).await;
        assert!(!session.is_closed(), "{:?}", session.closed().await);
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

#[tokio::test]
async fn rawsocket_a_slowly_arriving_message_counts_as_an_answer() {
    bounded("RawSocket slow message", async {
        let (url, script) = serve_rs(|mut peer| async move {
            peer.welcome().await;
            peer.answer_pings = false;
            let request = peer.expect_call().await;
            // A RESULT trickling in over three timeouts, 64 bytes every 40 ms, and no PONGs.
            let padding = "p".repeat(1800);
            let bytes = Serializer::Json
                .encode(&result(request, args((padding,))))
                .unwrap();
            let length = u32::try_from(bytes.len()).unwrap().to_be_bytes();
            let mut frame = vec![MESSAGE, length[1], length[2], length[3]];
            frame.extend_from_slice(&bytes);
            for chunk in frame.chunks(64) {
                peer.stream.write_all(chunk).await.unwrap();
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            peer.expect_leave().await;
        })
        .await;

        let session = connect_rs(&url).await;
        let start = Instant::now();
        let answer: String = session
            .call("com.example.slow", ())
            .await
            .unwrap()
            .arg(0)
            .unwrap();
        assert_eq!(answer.len(), 1800);
        assert!(start.elapsed() > TIMEOUT * 2, "{:?}", start.elapsed());
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}

// Two threads, so that the router keeps sending while the session task works through the flood.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rawsocket_router_that_stops_reading_cannot_block_the_session() {
    bounded("RawSocket blocked writer", async {
        let (done_tx, done) = oneshot::channel::<()>();
        let (url, script) = serve_rs(|mut peer| async move {
            peer.welcome().await;
            // Never reads again, but sends an EVENT every 20 ms.
            tokio::pin!(done);
            loop {
                tokio::select! {
                    _ = &mut done => break,
                    () = tokio::time::sleep(Duration::from_millis(20)) => {
                        let bytes = Serializer::Json.encode(&unknown_event()).unwrap();
                        let length = u32::try_from(bytes.len()).unwrap().to_be_bytes();
                        let mut frame = vec![MESSAGE, length[1], length[2], length[3]];
                        frame.extend_from_slice(&bytes);
                        if peer.stream.write_all(&frame).await.is_err() {
                            break;
                        }
                    }
                }
            }
        })
        .await;
        check_blocked_writer(connect_rs(&url).await).await;
        // The script may have stopped already: its sends fail once the client is gone.
        let _ = done_tx.send(());
        finish(script).await;
    })
    .await;
}

/// The router's own PINGs are still answered with PONGs when keepalive is off.
#[tokio::test]
async fn rawsocket_router_pings_are_answered_without_keepalive() {
    bounded("RawSocket router PING", async {
        let (url, script) = serve_rs(|mut peer| async move {
            peer.welcome().await;
            peer.write_frame(PING, b"are you there").await;
            let (kind, payload) = peer.read_frame().await.unwrap();
            assert_eq!((kind, payload.as_slice()), (PONG, &b"are you there"[..]));
            peer.expect_leave().await;
        })
        .await;

        let session = Session::builder(&url, REALM)
            .serializer(Serializer::Json)
            .no_keepalive()
            .connect()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        session.leave().await.unwrap();
        finish(script).await;
    })
    .await;
}
