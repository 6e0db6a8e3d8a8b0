//! A scripted fake WAMP router, to test what a real router (Crossbar.io) never does: protocol
//! violations, late or duplicated answers, revocations, abrupt disconnects, odd handshakes.
//!
//! It is a WebSocket server on `127.0.0.1:0` (tokio-tungstenite's server side). The test plays the
//! router by hand: every message the client sends is received and checked by the script, every
//! message the client gets is written by the script. Nothing is answered automatically (WebSocket
//! pings aside, which tungstenite answers itself).
//!
//! ```ignore
//! let router = ScriptedRouter::start(Serializer::Json).await;
//! let url = router.url();
//! let script = tokio::spawn(async move {
//!     let mut peer = router.accept().await;
//!     peer.welcome(42).await;
//!     let request = expect_message!(peer, Message::Call { request, .. } => request);
//!     peer.send(result(request, args((5,)))).await;
//!     peer.expect_leave().await;
//! });
//! let session = Session::connect(&url, "realm1").await?;
//! assert_eq!(session.call("com.example.add", (2, 3)).await?.arg::<i64>(0)?, 5);
//! session.leave().await?;
//! script.await.expect("the router script failed");
//! ```
//!
//! The script runs on its own task; a failed expectation panics there (the panic message names
//! what was expected and what arrived), and awaiting the task's `JoinHandle` surfaces it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use wamp_client::wire::{Id, Message, Payload};
use wamp_client::{Dict, Serializer, Value};

/// Receives the next message from the client and matches it against a pattern, evaluating to the
/// expression after `=>` (or to `()`). Panics, naming the pattern and what arrived, otherwise.
///
/// ```ignore
/// let request = expect_message!(peer, Message::Call { request, .. } => request);
/// expect_message!(peer, Message::Goodbye { reason, .. } if reason == "wamp.close.close_realm");
/// ```
macro_rules! expect_message {
    ($peer:expr, $pattern:pat $(if $guard:expr)? => $out:expr) => {
        match $peer.expect_message().await {
            $pattern $(if $guard)? => $out,
            other => panic!(
                "the scripted router expected `{}`, got {:?}",
                stringify!($pattern $(if $guard)?),
                other
            ),
        }
    };
    ($peer:expr, $pattern:pat $(if $guard:expr)?) => {
        match $peer.expect_message().await {
            $pattern $(if $guard)? => {}
            other => panic!(
                "the scripted router expected `{}`, got {:?}",
                stringify!($pattern $(if $guard)?),
                other
            ),
        }
    };
}
#[allow(unused_imports)]
pub(crate) use expect_message;

/// How the router answers the client's `Sec-WebSocket-Protocol` offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subprotocol {
    /// Chooses this serializer's subprotocol if the client offers it; otherwise answers without a
    /// subprotocol, as a router that speaks nothing else would.
    Pick(Serializer),
    /// Chooses the first WAMP subprotocol the client offers (its preferred one).
    FirstOffered,
    /// Answers without a `Sec-WebSocket-Protocol` header, whatever the offer.
    Omit,
    /// Answers with this header value, offered or not.
    Force(String),
}

impl Subprotocol {
    /// The header value to answer for `offered`, if any.
    fn choose(&self, offered: &[String]) -> Option<String> {
        let is_offered = |name: &str| offered.iter().any(|o| o == name);
        match self {
            Subprotocol::Pick(serializer) => {
                let name = serializer.subprotocol();
                is_offered(name).then(|| name.to_owned())
            }
            Subprotocol::FirstOffered => offered
                .iter()
                .find(|o| Serializer::from_subprotocol(o).is_some())
                .cloned(),
            Subprotocol::Omit => None,
            Subprotocol::Force(name) => Some(name.clone()),
        }
    }
}

/// A listening fake router. Each [`accept`](ScriptedRouter::accept) yields one client connection.
#[derive(Debug)]
pub struct ScriptedRouter {
    listener: TcpListener,
    url: String,
    subprotocol: Subprotocol,
}

impl ScriptedRouter {
    /// Starts a router that speaks `serializer` only (it must be among the client's offers).
    pub async fn start(serializer: Serializer) -> ScriptedRouter {
        ScriptedRouter::with_subprotocol(Subprotocol::Pick(serializer)).await
    }

    /// Starts a router that answers the subprotocol offer as `subprotocol` says.
    pub async fn with_subprotocol(subprotocol: Subprotocol) -> ScriptedRouter {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the scripted router cannot listen on 127.0.0.1");
        let address = listener
            .local_addr()
            .expect("the scripted router has no local address");
        ScriptedRouter {
            listener,
            url: format!("ws://{address}/ws"),
            subprotocol,
        }
    }

    /// The URL to connect to, `ws://127.0.0.1:<port>/ws`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Accepts the next connection and completes the WebSocket handshake; panics on failure.
    pub async fn accept(&self) -> RouterPeer {
        match self.try_accept().await {
            Ok(peer) => peer,
            Err(e) => panic!("the scripted router could not accept a client: {e}"),
        }
    }

    /// Accepts the next connection and completes the WebSocket handshake (from the server's side:
    /// the client may still reject the answer).
    // The handshake callback's error type is tungstenite's.
    #[allow(clippy::result_large_err)]
    pub async fn try_accept(&self) -> Result<RouterPeer, tungstenite::Error> {
        let (stream, _) = self.listener.accept().await?;
        stream.set_nodelay(true)?;
        let negotiated = Arc::new(Mutex::new((Vec::new(), None)));
        let record = Arc::clone(&negotiated);
        let subprotocol = self.subprotocol.clone();
        let callback = move |request: &Request,
                             mut response: Response|
              -> Result<Response, ErrorResponse> {
            let offered: Vec<String> = request
                .headers()
                .get_all("Sec-WebSocket-Protocol")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .collect();
            let chosen = subprotocol.choose(&offered);
            if let Some(name) = &chosen {
                let value = HeaderValue::from_str(name).map_err(|_| {
                    let mut error = ErrorResponse::new(Some(format!("bad subprotocol {name:?}")));
                    *error.status_mut() = tungstenite::http::StatusCode::INTERNAL_SERVER_ERROR;
                    error
                })?;
                response
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", value);
            }
            *record.lock().expect("handshake record") = (offered, chosen);
            Ok(response)
        };
        let ws = tokio_tungstenite::accept_hdr_async(stream, callback).await?;
        let (offered, chosen) = std::mem::take(&mut *negotiated.lock().expect("handshake record"));
        let serializer = chosen
            .as_deref()
            .and_then(Serializer::from_subprotocol)
            .or(match self.subprotocol {
                Subprotocol::Pick(serializer) => Some(serializer),
                _ => None,
            })
            .unwrap_or(Serializer::Json);
        Ok(RouterPeer {
            ws,
            serializer,
            offered,
            chosen,
            ended: None,
        })
    }
}

/// One WebSocket message as it travelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// The HELLO a client sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Hello {
    /// The realm asked for.
    pub realm: String,
    /// The HELLO `Details` dict (roles, agent, auth fields).
    pub details: Dict,
}

/// The router's side of one client connection.
#[derive(Debug)]
pub struct RouterPeer {
    ws: WebSocketStream<TcpStream>,
    serializer: Serializer,
    offered: Vec<String>,
    chosen: Option<String>,
    ended: Option<String>,
}

impl RouterPeer {
    /// The serializer this connection uses: the chosen subprotocol's, else the one the router
    /// was started with, else JSON.
    pub fn serializer(&self) -> Serializer {
        self.serializer
    }

    /// The subprotocols the client offered, in its order of preference.
    pub fn offered(&self) -> &[String] {
        &self.offered
    }

    /// The subprotocol the router answered, if any.
    pub fn chosen(&self) -> Option<&str> {
        self.chosen.as_deref()
    }

    /// How the connection ended, once [`recv_frame`](RouterPeer::recv_frame) has returned `None`:
    /// `"close frame"`, `"end of stream"` or the error.
    pub fn ended(&self) -> Option<&str> {
        self.ended.as_deref()
    }

    /// The underlying WebSocket, for anything the helpers do not cover.
    pub fn websocket(&mut self) -> &mut WebSocketStream<TcpStream> {
        &mut self.ws
    }

    // ===== receiving

    /// The next text or binary message from the client; `None` once the connection has ended
    /// (WebSocket close, end of stream or error; see [`ended`](RouterPeer::ended)).
    pub async fn recv_frame(&mut self) -> Option<Frame> {
        if self.ended.is_some() {
            return None;
        }
        loop {
            let ended = match self.ws.next().await {
                Some(Ok(WsMessage::Text(text))) => return Some(Frame::Text(text.to_string())),
                Some(Ok(WsMessage::Binary(bytes))) => return Some(Frame::Binary(bytes.to_vec())),
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => {
                    continue;
                }
                Some(Ok(WsMessage::Close(frame))) => format!("close frame {frame:?}"),
                Some(Err(e)) => format!("error: {e}"),
                None => "end of stream".to_owned(),
            };
            self.ended = Some(ended);
            return None;
        }
    }

    /// The next WAMP message from the client; `None` once the connection has ended.
    ///
    /// Panics if the client sent something this router cannot decode, or a frame of the wrong
    /// kind (JSON travels in text messages, MessagePack and CBOR in binary ones): a client bug.
    pub async fn recv(&mut self) -> Option<Message> {
        let frame = self.recv_frame().await?;
        let bytes = match (&frame, self.serializer.is_binary()) {
            (Frame::Text(text), false) => text.as_bytes(),
            (Frame::Binary(bytes), true) => bytes.as_slice(),
            (frame, _) => panic!(
                "the client sent {frame:?}, the wrong kind of WebSocket message for {}",
                self.serializer
            ),
        };
        match self.serializer.decode(bytes) {
            Ok(message) => Some(message),
            Err(e) => panic!("the client sent an invalid WAMP message ({e}): {frame:?}"),
        }
    }

    /// The next WAMP message from the client; panics if the connection ends instead.
    pub async fn expect_message(&mut self) -> Message {
        match self.recv().await {
            Some(message) => message,
            None => panic!(
                "the scripted router expected a message, but the connection ended ({})",
                self.ended.as_deref().unwrap_or("?")
            ),
        }
    }

    /// Waits for the connection to end; panics if a message arrives first.
    pub async fn expect_closed(&mut self) {
        if let Some(message) = self.recv().await {
            panic!("the scripted router expected the connection to end, got {message:?}");
        }
    }

    /// Panics if the client sends anything (or closes the connection) within `duration`.
    pub async fn expect_silence(&mut self, duration: Duration) {
        if let Ok(received) = tokio::time::timeout(duration, self.recv()).await {
            panic!("the scripted router expected silence for {duration:?}, got {received:?}");
        }
    }

    // ===== sending

    /// Sends one WebSocket message; `Err` if the connection is gone.
    pub async fn try_send_frame(&mut self, frame: Frame) -> Result<(), tungstenite::Error> {
        let message = match frame {
            Frame::Text(text) => WsMessage::text(text),
            Frame::Binary(bytes) => WsMessage::binary(bytes),
        };
        self.ws.send(message).await
    }

    /// Sends one WebSocket message; panics if the connection is gone.
    pub async fn send_frame(&mut self, frame: Frame) {
        if let Err(e) = self.try_send_frame(frame).await {
            panic!("the scripted router could not send: {e}");
        }
    }

    /// Encodes `message` with this connection's serializer and sends it.
    pub async fn send(&mut self, message: Message) {
        let bytes = match self.serializer.encode(&message) {
            Ok(bytes) => bytes,
            Err(e) => panic!("the scripted router cannot encode {message:?}: {e}"),
        };
        self.send_frame(self.frame(bytes)).await;
    }

    /// Encodes any value (a list for a message, however malformed) with this connection's
    /// serializer and sends it, e.g. an unknown message code or a message of the wrong arity.
    pub async fn send_value(&mut self, value: &Value) {
        let bytes = match self.serializer {
            Serializer::MsgPack => rmp_serde::to_vec(value).expect("encode as MessagePack"),
            Serializer::Cbor => {
                let mut out = Vec::new();
                ciborium::into_writer(value, &mut out).expect("encode as CBOR");
                out
            }
            // `Value` renders as JSON, bytes in the WAMP binary convention.
            _ => value.to_string().into_bytes(),
        };
        self.send_frame(self.frame(bytes)).await;
    }

    /// Sends a text message as is (e.g. malformed JSON).
    pub async fn send_raw_text(&mut self, text: &str) {
        self.send_frame(Frame::Text(text.to_owned())).await;
    }

    /// Sends a binary message as is (e.g. malformed MessagePack).
    pub async fn send_raw_binary(&mut self, bytes: &[u8]) {
        self.send_frame(Frame::Binary(bytes.to_vec())).await;
    }

    fn frame(&self, bytes: Vec<u8>) -> Frame {
        if self.serializer.is_binary() {
            Frame::Binary(bytes)
        } else {
            Frame::Text(String::from_utf8(bytes).expect("JSON is UTF-8"))
        }
    }

    // ===== conversations

    /// Receives the HELLO; panics on anything else.
    pub async fn expect_hello(&mut self) -> Hello {
        expect_message!(self, Message::Hello { realm, details } => Hello { realm, details })
    }

    /// Receives the HELLO and answers WELCOME with `session` and [`welcome_details`].
    pub async fn welcome(&mut self, session: Id) -> Hello {
        self.welcome_with(session, welcome_details()).await
    }

    /// Receives the HELLO and answers WELCOME with `session` and `details`.
    pub async fn welcome_with(&mut self, session: Id, details: Dict) -> Hello {
        let hello = self.expect_hello().await;
        self.send(Message::Welcome { session, details }).await;
        hello
    }

    /// Receives the HELLO and answers ABORT with `reason` and `Details.message`.
    pub async fn abort_hello(&mut self, reason: &str, message: &str) -> Hello {
        let hello = self.expect_hello().await;
        self.send(abort(reason, message)).await;
        hello
    }

    /// Receives a SUBSCRIBE and answers SUBSCRIBED with `subscription`; returns the request id
    /// and the topic.
    pub async fn accept_subscribe(&mut self, subscription: Id) -> (Id, String) {
        let (request, topic) =
            expect_message!(self, Message::Subscribe { request, topic, .. } => (request, topic));
        self.send(Message::Subscribed {
            request,
            subscription,
        })
        .await;
        (request, topic)
    }

    /// Receives a REGISTER and answers REGISTERED with `registration`; returns the request id
    /// and the procedure.
    pub async fn accept_register(&mut self, registration: Id) -> (Id, String) {
        let (request, procedure) = expect_message!(
            self,
            Message::Register { request, procedure, .. } => (request, procedure)
        );
        self.send(Message::Registered {
            request,
            registration,
        })
        .await;
        (request, procedure)
    }

    /// Receives a CALL and answers RESULT with `results`; returns the CALL.
    pub async fn answer_call(&mut self, results: Vec<Value>) -> CallRequest {
        let call = self.expect_call().await;
        self.send(result(call.request, results)).await;
        call
    }

    /// Receives a CALL; panics on anything else.
    pub async fn expect_call(&mut self) -> CallRequest {
        expect_message!(
            self,
            Message::Call { request, options, procedure, payload } => {
                let (args, kwargs) = payload.into_parts();
                CallRequest { request, options, procedure, args, kwargs }
            }
        )
    }

    /// The end of a client-initiated close: receives the client's GOODBYE, answers
    /// `wamp.close.goodbye_and_out`, then waits for the connection to end. Returns the client's
    /// reason.
    pub async fn expect_leave(&mut self) -> String {
        let reason = expect_message!(self, Message::Goodbye { reason, .. } => reason);
        self.send(goodbye("wamp.close.goodbye_and_out", None)).await;
        self.expect_closed().await;
        reason
    }

    // ===== ending the connection

    /// Drops the TCP connection abruptly: no GOODBYE, no WebSocket close handshake.
    pub fn close(self) {
        drop(self);
    }

    /// Closes the WebSocket properly (close frame), without a WAMP GOODBYE.
    pub async fn close_websocket(mut self) {
        let _ = self.ws.close(None).await;
        // Wait for the client's close frame so the connection ends cleanly on both sides.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while self.recv_frame().await.is_some() {}
        })
        .await;
    }
}

/// A CALL as the router received it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRequest {
    /// The request id.
    pub request: Id,
    /// The CALL options.
    pub options: Dict,
    /// The procedure.
    pub procedure: String,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: Dict,
}

// ===== message builders for what the router sends

/// The WELCOME details: broker and dealer roles with the usual features, and an anonymous identity.
pub fn welcome_details() -> Dict {
    fn role(features: &[&str]) -> Value {
        let features: Dict = features
            .iter()
            .map(|f| ((*f).to_owned(), Value::Bool(true)))
            .collect();
        Value::Dict(dict([("features", Value::Dict(features))]))
    }
    let roles = dict([
        (
            "broker",
            role(&[
                "publisher_identification",
                "publisher_exclusion",
                "pattern_based_subscription",
                "subscription_revocation",
            ]),
        ),
        (
            "dealer",
            role(&[
                "caller_identification",
                "pattern_based_registration",
                "registration_revocation",
                "call_canceling",
            ]),
        ),
    ]);
    dict([
        ("roles", Value::Dict(roles)),
        ("agent", Value::from("scripted-router")),
        ("authid", Value::from("scripted-client")),
        ("authrole", Value::from("anonymous")),
        ("authmethod", Value::from("anonymous")),
        ("authprovider", Value::from("static")),
    ])
}

/// A dict from key/value pairs.
pub fn dict<const N: usize>(pairs: [(&str, Value); N]) -> Dict {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

/// Positional arguments from a tuple, `Vec` or array of serializable values (`()` for none).
pub fn args(values: impl Serialize) -> Vec<Value> {
    match wamp_client::to_value(&values).expect("arguments convert to values") {
        Value::List(list) => list,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// `[RESULT, request, {}, args]`.
pub fn result(request: Id, args: Vec<Value>) -> Message {
    Message::Result {
        request,
        details: Dict::new(),
        payload: Payload::new(args, Dict::new()),
    }
}

/// `[ERROR, request_type, request, {}, error, args]`.
pub fn error(request_type: u64, request: Id, error: &str, args: Vec<Value>) -> Message {
    Message::Error {
        request_type,
        request,
        details: Dict::new(),
        error: error.to_owned(),
        payload: Payload::new(args, Dict::new()),
    }
}

/// `[EVENT, subscription, publication, {}, args]`.
pub fn event(subscription: Id, publication: Id, args: Vec<Value>) -> Message {
    Message::Event {
        subscription,
        publication,
        details: Dict::new(),
        payload: Payload::new(args, Dict::new()),
    }
}

/// `[INVOCATION, request, registration, {}, args]`.
pub fn invocation(request: Id, registration: Id, args: Vec<Value>) -> Message {
    Message::Invocation {
        request,
        registration,
        details: Dict::new(),
        payload: Payload::new(args, Dict::new()),
    }
}

/// `[INTERRUPT, request, {"mode": mode}]`.
pub fn interrupt(request: Id, mode: &str) -> Message {
    Message::Interrupt {
        request,
        options: dict([("mode", Value::from(mode))]),
    }
}

/// `[UNSUBSCRIBED, 0, {"subscription": subscription}]`: the broker revokes a subscription.
pub fn revoke_subscription(subscription: Id) -> Message {
    Message::Unsubscribed {
        request: 0,
        details: Some(dict([("subscription", Value::from(subscription))])),
    }
}

/// `[GOODBYE, {"message": message}, reason]` (no `message` key for `None`).
pub fn goodbye(reason: &str, message: Option<&str>) -> Message {
    Message::Goodbye {
        details: message
            .map(|m| dict([("message", Value::from(m))]))
            .unwrap_or_default(),
        reason: reason.to_owned(),
    }
}

/// `[ABORT, {"message": message}, reason]`.
pub fn abort(reason: &str, message: &str) -> Message {
    Message::Abort {
        details: dict([("message", Value::from(message))]),
        reason: reason.to_owned(),
        payload: Payload::Empty,
    }
}

/// The request id of a message the client sends with one (CALL, PUBLISH, SUBSCRIBE, ...), with
/// the request type code.
pub fn request_of(message: &Message) -> Option<(u64, Id)> {
    let request = match message {
        Message::Call { request, .. }
        | Message::Publish { request, .. }
        | Message::Subscribe { request, .. }
        | Message::Unsubscribe { request, .. }
        | Message::Register { request, .. }
        | Message::Unregister { request, .. } => *request,
        _ => return None,
    };
    Some((message.code(), request))
}
