//! A hostile router: after WELCOME, with a CALL pending, it sends one bad thing, and the client
//! must answer as the checklist says (§2.6: `ABORT wamp.error.protocol_violation` for anything
//! that is not a valid WAMP message a router may send at that point; failing the connection for
//! transport-level breakage), give the user a typed error, resolve the pending call, and neither
//! panic nor hang.
//!
//! Table-driven: each [`Case`] runs against every serializer (or the ones it names) over
//! WebSocket, and a RawSocket table covers the framing. `session_edge_cases.rs` has the
//! detailed single cases (malformed JSON, second WELCOME, RESULT for an unissued request,
//! unknown code, ERROR for an INVOCATION, RESULT answering a SUBSCRIBE, abrupt disconnect); the
//! tables here add the rest, every serializer, and check everything the same way.
// Needs every serializer and RawSocket: compiled with those features only (`cargo test --workspace` has them).
#![cfg(all(feature = "msgpack", feature = "cbor", feature = "rawsocket"))]
#![cfg(test)] // clippy.toml's allow-*-in-tests then reaches the helpers too (rust-clippy#13981)

use std::time::Duration;
use wamp_testkit::ARITY;

use futures_util::SinkExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::Frame as WsFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use wampkit::wire::{Id, MAX_ID, Message, Payload, code};
use wampkit::{CloseReason, Dict, Error, Serializer, Session, Value, error::CloseInitiator};

use wamp_testkit::scripted_router::{
    RouterPeer, ScriptedRouter, args, dict, error, expect_message, result, welcome_details,
};

/// The longest one case may take, client and router together.
const CASE_TIMEOUT: Duration = Duration::from_secs(5);
const SESSION_ID: Id = 31_337;
const REALM: &str = "realm1";
/// The client's receive limit in these tests.
const MAX_MESSAGE_SIZE: usize = 4096;
/// The id of the pending CALL: request ids start at 1 and the CALL is the first request.
const CALL: Id = 1;
/// A request id the client never issued.
const UNISSUED: Id = 1000;

/// What the hostile router sends, with the pending CALL's id at hand.
#[derive(Debug, Clone)]
enum Send {
    /// A value (a message-like array, or anything else) encoded with the connection's
    /// serializer, in the right kind of WebSocket message.
    Value(Value),
    /// A well-formed message.
    Message(Message),
    /// A text WebSocket message with these bytes (not necessarily UTF-8).
    Text(Vec<u8>),
    /// A binary WebSocket message.
    Binary(Vec<u8>),
    /// This many nested one-element arrays, encoded for the connection's serializer.
    Nested(usize),
    /// Raw bytes on the TCP connection, under the WebSocket framing; `close` drops the
    /// connection right after.
    Tcp { bytes: Vec<u8>, close: bool },
}

/// What the client must do about it.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Send `ABORT wamp.error.protocol_violation` whose message contains this, and close.
    Abort(&'static str),
    /// Close the connection (no ABORT): the session ends with `CloseInitiator::Transport` and a
    /// message containing this.
    Transport(&'static str),
    /// Ignore it and go on: the CALL still gets its RESULT.
    Ignore,
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    send: Send,
    expect: Expect,
}

fn case(name: impl Into<String>, send: Send, expect: Expect) -> Case {
    Case {
        name: name.into(),
        send,
        expect,
    }
}

/// `[items...]` as a value.
fn list(items: impl IntoIterator<Item = Value>) -> Value {
    Value::List(items.into_iter().collect())
}

fn uint(n: u64) -> Value {
    Value::UInt(n)
}

fn empty() -> Value {
    Value::Dict(Dict::new())
}

fn text(s: &str) -> Value {
    Value::from(s)
}

/// Filler elements for arrays of a given length (the decoder checks the length first).
fn filler(index: usize) -> Value {
    match index % 4 {
        0 => uint(CALL),
        1 => empty(),
        2 => text("com.example.x"),
        _ => list([]),
    }
}

/// A small deterministic PRNG (xorshift64*), so that failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }
}

/// Builds a reply to a request id.
type Reply = fn(Id) -> Message;

/// The cases every serializer gets, as WAMP values or messages.
fn wamp_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let abort = |name: String, value: Value, part: &'static str| {
        case(name, Send::Value(value), Expect::Abort(part))
    };

    // Malformed arrays and things that are not arrays at all.
    let not_a_message = "must be a non-empty array starting with an integer type code";
    for (name, value) in [
        ("a dict", empty()),
        ("a string", text("RESULT")),
        ("an integer", uint(50)),
        ("null", Value::Null),
        ("a boolean", Value::Bool(true)),
        ("bytes", Value::Bytes(vec![50, 1])),
        ("an empty array", list([])),
        (
            "a string type code",
            list([text("50"), uint(CALL), empty()]),
        ),
        (
            "a float type code",
            list([Value::Float(50.0), uint(CALL), empty()]),
        ),
        (
            "a negative type code",
            list([Value::Int(-50), uint(CALL), empty()]),
        ),
        (
            "a list as type code",
            list([list([uint(50)]), uint(CALL), empty()]),
        ),
        ("a null type code", list([Value::Null, uint(CALL), empty()])),
    ] {
        cases.push(abort(
            format!("not a message: {name}"),
            value,
            not_a_message,
        ));
    }

    // Unknown type codes.
    for code in [0, 7, 9, 100, 255, 256, 1023, 1 << 53, u64::MAX] {
        cases.push(abort(
            format!("unknown type code {code}"),
            list([uint(code), uint(CALL), empty()]),
            "unknown WAMP message type code",
        ));
    }

    // Wrong arity for every message type: just the code, one element short, one too many.
    for &(code, name, min, max) in ARITY {
        let mut lengths = vec![1, min - 1, max + 1, max + 3];
        lengths.retain(|&len| len >= 1 && !(min..=max).contains(&len));
        lengths.dedup();
        for len in lengths {
            let value = list(std::iter::once(uint(code)).chain((1..len).map(filler)));
            cases.push(abort(
                format!("{name} with {len} elements"),
                value,
                "elements (expected",
            ));
        }
    }

    // Fields of the wrong type or out of range.
    for (name, id) in [
        ("0", uint(0)),
        ("2^53 + 1", uint(MAX_ID + 1)),
        ("u64::MAX", uint(u64::MAX)),
        ("-1", Value::Int(-1)),
        ("a float", Value::Float(1.0)),
        ("a string", text("1")),
        ("null", Value::Null),
        ("a list", list([uint(CALL)])),
    ] {
        cases.push(abort(
            format!("RESULT with request id {name}"),
            list([uint(50), id, empty()]),
            "must be an id",
        ));
    }
    let field_cases: Vec<(&str, Value, &'static str)> = vec![
        (
            "RESULT with a list as Details",
            list([uint(50), uint(CALL), list([])]),
            "must be a dict",
        ),
        (
            "RESULT with a string as Arguments",
            list([uint(50), uint(CALL), empty(), text("x")]),
            "Arguments",
        ),
        (
            "RESULT with a list as ArgumentsKw",
            list([uint(50), uint(CALL), empty(), list([]), list([])]),
            "ArgumentsKw",
        ),
        (
            "RESULT with bytes as Arguments and no ppt_scheme",
            list([uint(50), uint(CALL), empty(), Value::Bytes(vec![1, 2])]),
            "Arguments",
        ),
        (
            "RESULT with Details.progress a string",
            list([
                uint(50),
                uint(CALL),
                Value::Dict(dict([("progress", text("yes"))])),
            ]),
            "progress",
        ),
        (
            "EVENT with Details.publisher a string",
            list([
                uint(36),
                uint(5),
                uint(6),
                Value::Dict(dict([("publisher", text("me"))])),
            ]),
            "publisher",
        ),
        (
            "ERROR with REQUEST.Type 49 (CANCEL)",
            list([
                uint(8),
                uint(49),
                uint(CALL),
                empty(),
                text("wamp.error.canceled"),
            ]),
            "is not a request an ERROR can answer",
        ),
        (
            "ERROR with REQUEST.Type 2",
            list([uint(8), uint(2), uint(CALL), empty(), text("wamp.error.x")]),
            "is not a request an ERROR can answer",
        ),
        (
            "ERROR with a negative REQUEST.Type",
            list([
                uint(8),
                Value::Int(-48),
                uint(CALL),
                empty(),
                text("wamp.error.x"),
            ]),
            "REQUEST.Type",
        ),
        (
            "ERROR with an empty error URI",
            list([uint(8), uint(48), uint(CALL), empty(), text("")]),
            "non-empty URI",
        ),
        (
            "ERROR with an integer error URI",
            list([uint(8), uint(48), uint(CALL), empty(), uint(5)]),
            "must be a string",
        ),
        (
            "GOODBYE with an integer reason",
            list([uint(6), empty(), uint(5)]),
            "must be a string",
        ),
        (
            "ABORT with a list as Details",
            list([uint(3), list([]), text("wamp.error.x")]),
            "must be a dict",
        ),
        (
            "UNSUBSCRIBED revocation form with a non-zero request",
            list([uint(35), uint(CALL), empty()]),
            "must be 0",
        ),
        (
            "UNREGISTERED with request 0 and no Details",
            list([uint(67), uint(0)]),
            "must be an id",
        ),
        (
            "INTERRUPT with an unknown mode",
            list([
                uint(69),
                uint(7),
                Value::Dict(dict([("mode", text("explode"))])),
            ]),
            "mode",
        ),
    ];
    for (name, value, part) in field_cases {
        cases.push(abort(name.to_owned(), value, part));
    }

    // Messages out of place: a second WELCOME, a CHALLENGE, and what only clients send.
    let out_of_place: Vec<(Message, &'static str)> = vec![
        (
            Message::Welcome {
                session: SESSION_ID,
                details: welcome_details(),
            },
            "WELCOME received after the session was established",
        ),
        (
            Message::Challenge {
                method: "ticket".into(),
                extra: Dict::new(),
            },
            "CHALLENGE received after the session was established",
        ),
        (
            Message::Hello {
                realm: REALM.into(),
                details: Dict::new(),
            },
            "HELLO is not a message a router sends",
        ),
        (
            Message::Authenticate {
                signature: "x".into(),
                extra: Dict::new(),
            },
            "AUTHENTICATE is not a message a router sends",
        ),
        (
            Message::Publish {
                request: 1,
                options: Dict::new(),
                topic: "t".into(),
                payload: Payload::Empty,
            },
            "PUBLISH is not a message a router sends",
        ),
        (
            Message::Subscribe {
                request: 1,
                options: Dict::new(),
                topic: "t".into(),
            },
            "SUBSCRIBE is not a message a router sends",
        ),
        (
            Message::Unsubscribe {
                request: 1,
                subscription: 2,
            },
            "UNSUBSCRIBE is not a message a router sends",
        ),
        (
            Message::Call {
                request: 1,
                options: Dict::new(),
                procedure: "p".into(),
                payload: Payload::Empty,
            },
            "CALL is not a message a router sends",
        ),
        (
            Message::Cancel {
                request: CALL,
                options: Dict::new(),
            },
            "CANCEL is not a message a router sends",
        ),
        (
            Message::Register {
                request: 1,
                options: Dict::new(),
                procedure: "p".into(),
            },
            "REGISTER is not a message a router sends",
        ),
        (
            Message::Unregister {
                request: 1,
                registration: 2,
            },
            "UNREGISTER is not a message a router sends",
        ),
        (
            Message::Yield {
                request: CALL,
                options: Dict::new(),
                payload: Payload::Empty,
            },
            "YIELD is not a message a router sends",
        ),
        (
            error(code::INVOCATION, CALL, "wamp.error.runtime_error", vec![]),
            "ERROR for an INVOCATION",
        ),
    ];
    for (message, part) in out_of_place {
        cases.push(case(
            format!("{} after WELCOME", message.name()),
            Send::Message(message),
            Expect::Abort(part),
        ));
    }

    // Replies for requests never issued, and replies of the wrong kind for the pending CALL.
    let replies: Vec<(&str, Reply)> = vec![
        ("RESULT", |request| result(request, vec![])),
        ("PUBLISHED", |request| Message::Published {
            request,
            publication: 9,
        }),
        ("SUBSCRIBED", |request| Message::Subscribed {
            request,
            subscription: 9,
        }),
        ("UNSUBSCRIBED", |request| Message::Unsubscribed {
            request,
            details: None,
        }),
        ("REGISTERED", |request| Message::Registered {
            request,
            registration: 9,
        }),
        ("UNREGISTERED", |request| Message::Unregistered {
            request,
            details: None,
        }),
        ("ERROR for a CALL", |request| {
            error(code::CALL, request, "wamp.error.x", vec![])
        }),
        ("ERROR for a SUBSCRIBE", |request| {
            error(code::SUBSCRIBE, request, "wamp.error.x", vec![])
        }),
        ("ERROR for a PUBLISH", |request| {
            error(code::PUBLISH, request, "wamp.error.x", vec![])
        }),
        ("ERROR for an UNREGISTER", |request| {
            error(code::UNREGISTER, request, "wamp.error.x", vec![])
        }),
    ];
    for (name, build) in &replies {
        cases.push(case(
            format!("{name} for request {UNISSUED}, never issued"),
            Send::Message(build(UNISSUED)),
            Expect::Abort("which was never sent"),
        ));
        if !name.starts_with("RESULT") && *name != "ERROR for a CALL" {
            cases.push(case(
                format!("{name} answering the pending CALL"),
                Send::Message(build(CALL)),
                Expect::Abort("which is a CALL"),
            ));
        }
    }

    // Deep nesting: a decode error, not a stack overflow of the session task.
    cases.push(case(
        "4000 nested arrays",
        Send::Nested(4000),
        Expect::Abort(""),
    ));

    // What the client tolerates: the CALL still gets its answer afterwards.
    let tolerated: Vec<(&str, Message)> = vec![
        (
            "EVENT for an unknown subscription",
            Message::Event {
                subscription: 12345,
                publication: 1,
                details: Dict::new(),
                payload: Payload::new(args((1,)), Dict::new()),
            },
        ),
        (
            "INTERRUPT for an unknown invocation",
            Message::Interrupt {
                request: 777,
                options: dict([("mode", text("kill"))]),
            },
        ),
        (
            "a progressive RESULT the CALL did not ask for",
            Message::Result {
                request: CALL,
                details: dict([("progress", Value::Bool(true))]),
                payload: Payload::new(args(("partial",)), Dict::new()),
            },
        ),
        (
            "EVENT_RECEIVED (Crossbar extension)",
            Message::EventReceived { publication: 5 },
        ),
        (
            "subscription revocation for an unknown subscription",
            Message::Unsubscribed {
                request: 0,
                details: Some(dict([("subscription", uint(4242))])),
            },
        ),
        (
            "registration revocation for an unknown registration",
            Message::Unregistered {
                request: 0,
                details: Some(dict([("registration", uint(4242))])),
            },
        ),
        (
            "EVENT with unknown Details keys and nested payload",
            Message::Event {
                subscription: 12345,
                publication: 2,
                details: dict([("x_cb_node", text("n1")), ("_custom", list([empty()]))]),
                payload: Payload::new(
                    vec![list([list([list([Value::Bytes(vec![0; 3])])])])],
                    dict([("k", Value::Float(-0.0))]),
                ),
            },
        ),
    ];
    for (name, message) in tolerated {
        cases.push(case(name, Send::Message(message), Expect::Ignore));
    }
    cases
}

/// Garbage, oversized frames, frames of the wrong kind, broken WebSocket framing, abrupt closes.
fn transport_cases(serializer: Serializer) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ serializer.name().len() as u64);
    let right_kind = |bytes: Vec<u8>| {
        if serializer.is_binary() {
            Send::Binary(bytes)
        } else {
            Send::Text(String::from_utf8_lossy(&bytes).into_owned().into_bytes())
        }
    };

    // Random garbage in a frame of the right kind: a decode error.
    for len in [1, 2, 7, 64, 1000] {
        cases.push(case(
            format!("{len} bytes of garbage"),
            right_kind(rng.bytes(len)),
            Expect::Abort(""),
        ));
    }
    // A valid encoding with trailing data, and a truncated one.
    let valid = serializer.encode(&result(CALL, args(("ok",)))).unwrap();
    let mut trailing = valid.clone();
    trailing.extend_from_slice(b"  x");
    cases.push(case(
        "a RESULT with trailing bytes",
        right_kind(trailing),
        Expect::Abort(""),
    ));
    cases.push(case(
        "a truncated RESULT",
        right_kind(valid[..valid.len() - 2].to_vec()),
        Expect::Abort(""),
    ));

    // Larger than the client accepts.
    let big = serializer
        .encode(&result(CALL, args(("x".repeat(2 * MAX_MESSAGE_SIZE),))))
        .unwrap();
    cases.push(case(
        "a message beyond max_message_size",
        right_kind(big),
        Expect::Transport("more than the 4096 bytes this client accepts"),
    ));

    // The wrong kind of WebSocket message, although its content is a valid RESULT.
    let (wrong, kind) = if serializer.is_binary() {
        (Send::Text(b"[50,1,{}]".to_vec()), "text")
    } else {
        (Send::Binary(valid.clone()), "binary")
    };
    cases.push(case(
        format!("a {kind} WebSocket message on {}", serializer.subprotocol()),
        wrong,
        Expect::Transport("WebSocket message on wamp.2."),
    ));
    if !serializer.is_binary() {
        cases.push(case(
            "a text WebSocket message that is not UTF-8",
            Send::Text(vec![b'[', 0xC3, 0x28, 0xFF, b']']),
            Expect::Transport("UTF-8"),
        ));
    }

    // Broken WebSocket framing, and abrupt closes.
    cases.push(case(
        "garbage instead of a WebSocket frame",
        Send::Tcp {
            bytes: vec![0xFF; 16],
            close: false,
        },
        Expect::Transport("WebSocket error"),
    ));
    cases.push(case(
        "a masked frame from the server",
        Send::Tcp {
            bytes: vec![0x81, 0x82, 1, 2, 3, 4, b'[' ^ 1, b']' ^ 2],
            close: false,
        },
        Expect::Transport("WebSocket error"),
    ));
    cases.push(case(
        "close after half a frame header",
        Send::Tcp {
            bytes: vec![0x81],
            close: true,
        },
        Expect::Transport("the router closed the connection"),
    ));
    cases.push(case(
        "close in the middle of a frame",
        Send::Tcp {
            bytes: [&[0x82, 0x7E, 0x01, 0x00][..], &[b'['; 40]].concat(),
            close: true,
        },
        Expect::Transport("the router closed the connection"),
    ));
    cases.push(case(
        "close right after WELCOME, the CALL unanswered",
        Send::Tcp {
            bytes: Vec::new(),
            close: true,
        },
        Expect::Transport("the router closed the connection"),
    ));
    cases
}

/// Sends what the case says.
async fn act(peer: &mut RouterPeer, send: &Send) {
    match send {
        Send::Value(value) => peer.send_value(value).await,
        Send::Message(message) => peer.send(message.clone()).await,
        Send::Text(bytes) => match String::from_utf8(bytes.clone()) {
            Ok(text) => peer.send_raw_text(&text).await,
            Err(_) => {
                // Only a raw frame can carry a text message that is not UTF-8.
                let frame = WsFrame::message(bytes.clone(), OpCode::Data(Data::Text), true);
                peer.websocket()
                    .send(WsMessage::Frame(frame))
                    .await
                    .unwrap();
            }
        },
        Send::Binary(bytes) => peer.send_raw_binary(bytes).await,
        Send::Nested(depth) => match peer.serializer() {
            Serializer::Json => peer.send_raw_text(&"[".repeat(*depth)).await,
            Serializer::MsgPack => peer.send_raw_binary(&vec![0x91; *depth]).await,
            _ => peer.send_raw_binary(&vec![0x81; *depth]).await,
        },
        Send::Tcp { bytes, .. } => {
            peer.websocket().flush().await.unwrap();
            let tcp = peer.websocket().get_mut();
            tcp.write_all(bytes).await.unwrap();
            tcp.flush().await.unwrap();
        }
    }
}

/// What the router saw after acting: the ABORT message, or nothing.
type RouterOutcome = Option<String>;

async fn router_script(mut peer: RouterPeer, case: Case) -> RouterOutcome {
    peer.welcome(SESSION_ID).await;
    let call = expect_message!(peer, Message::Call { request, .. } => request);
    assert_eq!(call, CALL, "the CALL is the first request");
    act(&mut peer, &case.send).await;
    if let Send::Tcp { close: true, .. } = case.send {
        peer.close();
        return None;
    }
    match case.expect {
        Expect::Abort(_) => {
            let details = expect_message!(
                peer,
                Message::Abort { reason, details, .. }
                    if reason == "wamp.error.protocol_violation" => details
            );
            // Nothing after the ABORT: the client drops the connection.
            peer.expect_closed().await;
            details
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }
        Expect::Transport(_) => {
            // The client closes the connection without a WAMP message.
            if let Some(frame) = peer.recv_frame().await {
                panic!("expected the client to close the connection, got {frame:?}");
            }
            None
        }
        Expect::Ignore => {
            peer.send(result(CALL, args(("ok",)))).await;
            peer.expect_leave().await;
            None
        }
    }
}

/// Runs one case against one serializer; `Err` says what went wrong.
async fn run_case(serializer: Serializer, case: Case) -> Result<(), String> {
    let router = ScriptedRouter::start(serializer).await;
    let url = router.url();
    let script = tokio::spawn({
        let case = case.clone();
        async move { router_script(router.accept().await, case).await }
    });
    let client = async {
        let session = Session::builder(&url, REALM)
            .serializer(serializer)
            .max_message_size(MAX_MESSAGE_SIZE)
            .no_keepalive()
            .connect()
            .await
            .map_err(|e| format!("joining failed: {e}"))?;
        let outcome = session.call("com.example.pending", ()).await;
        match case.expect {
            Expect::Ignore => {
                let answer: String = outcome
                    .map_err(|e| format!("the CALL failed: {e:?}"))?
                    .arg(0)
                    .map_err(|e| format!("{e}"))?;
                if answer != "ok" {
                    return Err(format!("the CALL returned {answer:?}"));
                }
                let diagnostics = session.diagnostics().await.map_err(|e| format!("{e}"))?;
                if diagnostics.pending_requests != 0 {
                    return Err(format!("requests still pending: {diagnostics:?}"));
                }
                session.leave().await.map_err(|e| format!("leave: {e}"))?;
                Ok(None)
            }
            Expect::Abort(part) | Expect::Transport(part) => {
                let reason = match outcome {
                    Err(Error::SessionClosed(reason)) => reason,
                    other => return Err(format!("the CALL gave {other:?}, not SessionClosed")),
                };
                let (initiator, uri) = if let Expect::Abort(_) = case.expect {
                    (
                        CloseInitiator::ProtocolViolation,
                        "wamp.error.protocol_violation",
                    )
                } else {
                    (CloseInitiator::Transport, "wamp.close.system_shutdown")
                };
                let message = reason.message.as_deref().unwrap_or_default();
                if reason.initiator != initiator || reason.uri != uri || !message.contains(part) {
                    return Err(format!(
                        "expected a {initiator:?} close ({uri}) saying {part:?}, got {reason:?}"
                    ));
                }
                let closed = session.closed().await;
                if closed != reason {
                    return Err(format!("closed() says {closed:?}, the CALL {reason:?}"));
                }
                // Later requests fail at once, with the same reason.
                match tokio::time::timeout(Duration::from_secs(1), session.call("x.y", ())).await {
                    Ok(Err(Error::SessionClosed(later))) if later == reason => {}
                    other => return Err(format!("a later CALL gave {other:?}")),
                }
                Ok(Some(reason))
            }
        }
    };
    let run = async {
        let client: Result<Option<CloseReason>, String> = client.await;
        let router = script.await.map_err(|e| {
            let panic = e.try_into_panic().ok();
            let text = panic
                .as_ref()
                .and_then(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                })
                .unwrap_or_else(|| "cancelled".to_owned());
            format!("the router script failed: {text}")
        })?;
        let reason = client?;
        // The ABORT the router got says what the user is told.
        if let (Some(abort), Some(reason)) = (router, reason) {
            if reason.message.as_deref() != Some(abort.as_str()) {
                return Err(format!("ABORT said {abort:?}, the user got {reason:?}"));
            }
        }
        Ok(())
    };
    match tokio::time::timeout(CASE_TIMEOUT, run).await {
        Ok(result) => result,
        Err(_) => Err(format!("timed out after {CASE_TIMEOUT:?}: something hangs")),
    }
}

/// Runs the cases (a few at a time) and fails with the list of every case that went wrong.
async fn run_table(serializer: Serializer, cases: Vec<Case>) {
    let total = cases.len();
    let mut failures = Vec::new();
    for chunk in cases.chunks(8) {
        let runs = chunk.iter().map(|case| {
            let case = case.clone();
            async move {
                let name = case.name.clone();
                (name, tokio::spawn(run_case(serializer, case)).await)
            }
        });
        for (name, outcome) in futures_util::future::join_all(runs).await {
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(problem)) => failures.push(format!("{serializer} / {name}: {problem}")),
                Err(e) => failures.push(format!("{serializer} / {name}: the test panicked: {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} hostile-router cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn all_cases(serializer: Serializer) -> Vec<Case> {
    let mut cases = wamp_cases();
    cases.extend(transport_cases(serializer));
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_router_over_json() {
    run_table(Serializer::Json, all_cases(Serializer::Json)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_router_over_msgpack() {
    run_table(Serializer::MsgPack, all_cases(Serializer::MsgPack)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_router_over_cbor() {
    run_table(Serializer::Cbor, all_cases(Serializer::Cbor)).await;
}

// ===== RawSocket framing

/// What a hostile RawSocket router sends after WELCOME, with a CALL pending.
struct RawCase {
    name: &'static str,
    bytes: Vec<u8>,
    /// Whether the router closes the connection right after.
    close: bool,
    expect: Expect,
}

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    [&[kind, length[1], length[2], length[3]][..], payload].concat()
}

fn raw_cases() -> Vec<RawCase> {
    let result_frame = frame(0, br#"[50,1,{},["ok"]]"#);
    vec![
        RawCase {
            name: "a frame longer than max_message_size",
            bytes: frame(0, &vec![b' '; MAX_MESSAGE_SIZE + 1]),
            close: false,
            expect: Expect::Transport("exceeds this client's limit of 4096 bytes"),
        },
        RawCase {
            name: "a header announcing more than 2^24 bytes",
            bytes: vec![0x08, 0, 0, 1],
            close: false,
            expect: Expect::Transport("longer than 2^24"),
        },
        RawCase {
            name: "a frame of reserved type 3",
            bytes: frame(3, b"[]"),
            close: false,
            expect: Expect::Transport("reserved type 3"),
        },
        RawCase {
            name: "reserved header bits",
            bytes: frame(0x40, b"[]"),
            close: false,
            expect: Expect::Transport("reserved header bits"),
        },
        RawCase {
            name: "close in the middle of a frame",
            bytes: result_frame[..7].to_vec(),
            close: true,
            expect: Expect::Transport("in the middle of a RawSocket frame"),
        },
        RawCase {
            name: "close in the middle of a frame header",
            bytes: vec![0, 0],
            close: true,
            expect: Expect::Transport("in the middle of a RawSocket frame"),
        },
        RawCase {
            name: "garbage in a message frame",
            bytes: frame(0, b"\x00\xff garbage"),
            close: false,
            expect: Expect::Abort("cannot decode json"),
        },
        RawCase {
            name: "an empty message frame",
            bytes: frame(0, b""),
            close: false,
            expect: Expect::Abort("cannot decode json"),
        },
        RawCase {
            name: "an unsolicited PONG, then the RESULT",
            bytes: [frame(2, b"?"), result_frame.clone()].concat(),
            close: false,
            expect: Expect::Ignore,
        },
        RawCase {
            name: "a PING, then the RESULT",
            bytes: [frame(1, b"hi"), result_frame].concat(),
            close: false,
            expect: Expect::Ignore,
        },
    ]
}

/// Reads one RawSocket frame; `None` at the end of the connection.
async fn read_raw_frame(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await.ok()?;
    let length =
        usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
    let mut payload = vec![0; length];
    stream.read_exact(&mut payload).await.ok()?;
    Some((header[0], payload))
}

/// The next WAMP message from the client, skipping (and checking) PONGs.
async fn read_raw_message(stream: &mut TcpStream) -> Option<Message> {
    loop {
        let (kind, payload) = read_raw_frame(stream).await?;
        match kind {
            0 => return Some(Serializer::Json.decode(&payload).unwrap()),
            2 => assert_eq!(payload, b"hi", "the PONG echoes the PING"),
            other => panic!("unexpected frame type {other} from the client"),
        }
    }
}

async fn run_raw_case(case: RawCase) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("rs://{}", listener.local_addr().unwrap());
    let expect = case.expect;
    let script = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut hello = [0u8; 4];
        stream.read_exact(&mut hello).await.unwrap();
        stream.write_all(&[0x7F, 0xF1, 0, 0]).await.unwrap();
        let hello = read_raw_message(&mut stream).await;
        assert!(matches!(hello, Some(Message::Hello { .. })), "{hello:?}");
        let welcome = Serializer::Json
            .encode(&Message::Welcome {
                session: SESSION_ID,
                details: welcome_details(),
            })
            .unwrap();
        stream.write_all(&frame(0, &welcome)).await.unwrap();
        let call = read_raw_message(&mut stream).await;
        assert!(
            matches!(call, Some(Message::Call { request: CALL, .. })),
            "{call:?}"
        );
        stream.write_all(&case.bytes).await.unwrap();
        if case.close {
            return;
        }
        match expect {
            Expect::Abort(_) => {
                let abort = read_raw_message(&mut stream).await;
                assert!(
                    matches!(&abort, Some(Message::Abort { reason, .. })
                        if reason == "wamp.error.protocol_violation"),
                    "{abort:?}"
                );
                let rest = read_raw_message(&mut stream).await;
                assert!(rest.is_none(), "nothing after the ABORT: {rest:?}");
            }
            Expect::Transport(_) => {
                let rest = read_raw_message(&mut stream).await;
                assert!(rest.is_none(), "expected the connection to end: {rest:?}");
            }
            Expect::Ignore => {
                let goodbye = read_raw_message(&mut stream).await;
                assert!(
                    matches!(goodbye, Some(Message::Goodbye { .. })),
                    "{goodbye:?}"
                );
                let bye = Serializer::Json
                    .encode(&Message::Goodbye {
                        details: Dict::new(),
                        reason: "wamp.close.goodbye_and_out".into(),
                    })
                    .unwrap();
                stream.write_all(&frame(0, &bye)).await.unwrap();
            }
        }
    });
    let run = async {
        let session = Session::builder(&url, REALM)
            .serializer(Serializer::Json)
            .max_message_size(MAX_MESSAGE_SIZE)
            .no_keepalive()
            .connect()
            .await
            .map_err(|e| format!("joining failed: {e}"))?;
        let outcome = session.call("com.example.pending", ()).await;
        match expect {
            Expect::Ignore => {
                let answer: String = outcome
                    .map_err(|e| format!("the CALL failed: {e:?}"))?
                    .arg(0)
                    .map_err(|e| format!("{e}"))?;
                if answer != "ok" {
                    return Err(format!("the CALL returned {answer:?}"));
                }
                session.leave().await.map_err(|e| format!("leave: {e}"))?;
            }
            Expect::Abort(part) | Expect::Transport(part) => {
                let initiator = if let Expect::Abort(_) = expect {
                    CloseInitiator::ProtocolViolation
                } else {
                    CloseInitiator::Transport
                };
                match outcome {
                    Err(Error::SessionClosed(reason))
                        if reason.initiator == initiator
                            && reason.message.as_deref().unwrap_or_default().contains(part) => {}
                    other => {
                        return Err(format!(
                            "expected a {initiator:?} close saying {part:?}, got {other:?}"
                        ));
                    }
                }
            }
        }
        script
            .await
            .map_err(|e| format!("the router script failed: {e}"))
    };
    match tokio::time::timeout(CASE_TIMEOUT, run).await {
        Ok(result) => result,
        Err(_) => Err(format!("timed out after {CASE_TIMEOUT:?}: something hangs")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_rawsocket_router() {
    let mut failures = Vec::new();
    for case in raw_cases() {
        let name = case.name;
        if let Err(problem) = run_raw_case(case).await {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
