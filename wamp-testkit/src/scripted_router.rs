//! A scripted fake WAMP router, to test what a real router (Crossbar.io) never does: protocol
//! violations, late or duplicated answers, revocations, abrupt disconnects, odd handshakes.
//!
//! It serves either in memory ([`ScriptedRouter::in_memory`]: each connection is a
//! [`memory::pair`], the session joins with
//! [`connect_with_factory`](wamp_client::SessionBuilder::connect_with_factory)) or as a
//! WebSocket server on `127.0.0.1:0` ([`ScriptedRouter::start`], tokio-tungstenite's server side)
//! for the tests about the socket itself. The test plays the router by hand: every message the
//! client sends is received and checked by the script, every message the client gets is written
//! by the script. Nothing is answered automatically (WebSocket pings aside, which tungstenite
//! answers itself).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> wamp_client::Result<()> {
//! use wamp_client::wire::Message;
//! use wamp_client::{Serializer, Session};
//! use wamp_testkit::expect_message;
//! use wamp_testkit::messages::{args, result};
//! use wamp_testkit::scripted_router::ScriptedRouter;
//!
//! let router = ScriptedRouter::in_memory(Serializer::Cbor);
//! let connecting = router.connect(Session::builder(router.url(), "realm1"));
//! let script = tokio::spawn(async move {
//!     let mut peer = router.accept().await;
//!     peer.welcome(42).await;
//!     let request = expect_message!(peer, Message::Call { request, .. } => request);
//!     peer.send(result(request, args((5,)))).await;
//!     peer.expect_leave().await;
//! });
//! let session = connecting.await?;
//! assert_eq!(session.call("com.example.add", (2, 3)).await?.arg::<i64>(0)?, 5);
//! session.leave().await?;
//! script.await.expect("the router script failed");
//! # Ok(()) }
//! ```
//!
//! The script runs on its own task; a failed expectation panics there (the panic message names
//! what was expected and what arrived), and awaiting the task's `JoinHandle` surfaces it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use wamp_client::transport::TransportError;
use wamp_client::transport::memory::{self, MemoryPeer, MemoryTransport};
use wamp_client::wire::{Id, Message};
use wamp_client::{Dict, Serializer, Session, SessionBuilder, Value};

// The message builders, for scripts that import everything from here.
pub use crate::messages::*;

/// Receives the next message from the client and matches it against a pattern, evaluating to the
/// expression after `=>` (or to `()`). Panics, naming the pattern and what arrived, otherwise.
///
/// ```ignore
/// let request = expect_message!(peer, Message::Call { request, .. } => request);
/// expect_message!(peer, Message::Goodbye { reason, .. } if reason == "wamp.close.close_realm");
/// ```
#[macro_export]
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
pub use expect_message;

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

/// A fake router, in memory or listening on a socket. Each [`accept`](ScriptedRouter::accept)
/// yields one client connection.
#[derive(Debug)]
pub struct ScriptedRouter {
    url: String,
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    WebSocket {
        listener: TcpListener,
        subprotocol: Subprotocol,
    },
    Memory {
        serializer: Serializer,
        capacity: usize,
        connections: mpsc::UnboundedSender<MemoryPeer>,
        accepted: tokio::sync::Mutex<mpsc::UnboundedReceiver<MemoryPeer>>,
    },
}

/// The URL that names an in-memory router in the session's logs and errors.
pub const MEMORY_URL: &str = "memory://scripted-router";

// A small read buffer: tungstenite zero-fills the spare buffer before every read, which a
// benchmark against this router would otherwise measure.
fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024)
}

impl ScriptedRouter {
    /// A router in memory that speaks `serializer`: sessions join it with
    /// [`connect`](ScriptedRouter::connect) or [`connector`](ScriptedRouter::connector), each
    /// connection (reconnects included) a new in-memory pair.
    pub fn in_memory(serializer: Serializer) -> ScriptedRouter {
        ScriptedRouter::in_memory_with_capacity(serializer, memory::DEFAULT_CAPACITY)
    }

    /// [`in_memory`](ScriptedRouter::in_memory) where the client may send only `capacity`
    /// messages the router has not read: a router that stops reading holds the client up, as
    /// full socket buffers do. (The router's messages to the client keep the default bound.)
    pub fn in_memory_with_capacity(serializer: Serializer, capacity: usize) -> ScriptedRouter {
        let (connections, accepted) = mpsc::unbounded_channel();
        ScriptedRouter {
            url: MEMORY_URL.to_owned(),
            mode: Mode::Memory {
                serializer,
                capacity,
                connections,
                accepted: tokio::sync::Mutex::new(accepted),
            },
        }
    }

    /// Starts a WebSocket router that speaks `serializer` only (it must be among the client's
    /// offers).
    pub async fn start(serializer: Serializer) -> ScriptedRouter {
        ScriptedRouter::with_subprotocol(Subprotocol::Pick(serializer)).await
    }

    /// Starts a WebSocket router that answers the subprotocol offer as `subprotocol` says.
    pub async fn with_subprotocol(subprotocol: Subprotocol) -> ScriptedRouter {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the scripted router cannot listen on 127.0.0.1");
        let address = listener
            .local_addr()
            .expect("the scripted router has no local address");
        ScriptedRouter {
            url: format!("ws://{address}/ws"),
            mode: Mode::WebSocket {
                listener,
                subprotocol,
            },
        }
    }

    /// The URL to connect to, `ws://127.0.0.1:<port>/ws` (or [`MEMORY_URL`], which only names
    /// an in-memory router).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Opens a new in-memory connection to this router for each call, for
    /// [`connect_with_factory`](wamp_client::SessionBuilder::connect_with_factory). Panics for a
    /// WebSocket router.
    pub fn connector(
        &self,
    ) -> impl Fn() -> std::future::Ready<Result<MemoryTransport, TransportError>> + Send + Sync + 'static
    {
        let Mode::Memory {
            serializer,
            capacity,
            connections,
            ..
        } = &self.mode
        else {
            panic!("a WebSocket scripted router is reached by its URL, not a connector");
        };
        let (serializer, capacity, connections) = (*serializer, *capacity, connections.clone());
        move || {
            let (client, peer) =
                memory::pair_with_capacity(serializer, capacity, memory::DEFAULT_CAPACITY);
            std::future::ready(
                connections
                    .send(peer)
                    .map(|()| client)
                    .map_err(|_| TransportError::new("the scripted router is gone")),
            )
        }
    }

    /// Joins with `builder` (whose URL is only a name): over a new in-memory connection, with
    /// this router's serializer, for an in-memory router; to the URL for a WebSocket one.
    pub fn connect(
        &self,
        builder: SessionBuilder,
    ) -> impl Future<Output = wamp_client::Result<Session>> + Send + 'static {
        let memory = match &self.mode {
            Mode::Memory { serializer, .. } => Some((*serializer, self.connector())),
            Mode::WebSocket { .. } => None,
        };
        async move {
            match memory {
                Some((serializer, connector)) => {
                    builder
                        .serializer(serializer)
                        .connect_with_factory(connector)
                        .await
                }
                None => builder.connect().await,
            }
        }
    }

    /// Accepts the next connection (completing the WebSocket handshake); panics on failure.
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
        let (listener, subprotocol) = match &self.mode {
            Mode::WebSocket {
                listener,
                subprotocol,
            } => (listener, subprotocol),
            Mode::Memory { accepted, .. } => {
                let peer = accepted.lock().await.recv().await;
                // The router holds a sender itself, so the channel never ends.
                let peer = peer.ok_or(tungstenite::Error::ConnectionClosed)?;
                return Ok(RouterPeer::in_memory(peer));
            }
        };
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let negotiated = Arc::new(Mutex::new((Vec::new(), None)));
        let record = Arc::clone(&negotiated);
        let subprotocol = subprotocol.clone();
        let pick = match subprotocol {
            Subprotocol::Pick(serializer) => Some(serializer),
            _ => None,
        };
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
        let ws = tokio_tungstenite::accept_hdr_async_with_config(
            stream,
            callback,
            Some(websocket_config()),
        )
        .await?;
        let (offered, chosen) = std::mem::take(&mut *negotiated.lock().expect("handshake record"));
        let serializer = chosen
            .as_deref()
            .and_then(Serializer::from_subprotocol)
            .or(pick)
            .unwrap_or(Serializer::Json);
        Ok(RouterPeer {
            link: Link::WebSocket(Box::new(ws)),
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
    link: Link,
    serializer: Serializer,
    offered: Vec<String>,
    chosen: Option<String>,
    ended: Option<String>,
}

/// What carries the messages of one connection.
#[derive(Debug)]
enum Link {
    WebSocket(Box<WebSocketStream<TcpStream>>),
    Memory(MemoryPeer),
}

impl RouterPeer {
    /// The router's side of an in-memory connection made with [`memory::pair`].
    pub fn in_memory(peer: MemoryPeer) -> RouterPeer {
        RouterPeer {
            serializer: peer.serializer(),
            link: Link::Memory(peer),
            offered: Vec::new(),
            chosen: None,
            ended: None,
        }
    }

    /// The serializer this connection uses: the chosen subprotocol's, else the one the router
    /// was started with, else JSON.
    pub fn serializer(&self) -> Serializer {
        self.serializer
    }

    /// The subprotocols the client offered, in its order of preference (none in memory).
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

    /// The underlying WebSocket, for anything the helpers do not cover; panics in memory.
    pub fn websocket(&mut self) -> &mut WebSocketStream<TcpStream> {
        match &mut self.link {
            Link::WebSocket(ws) => ws,
            Link::Memory(_) => panic!("this scripted connection is in memory, not a WebSocket"),
        }
    }

    // ===== receiving

    /// The next text or binary message from the client; `None` once the connection has ended
    /// (WebSocket close, end of stream or error; see [`ended`](RouterPeer::ended)).
    pub async fn recv_frame(&mut self) -> Option<Frame> {
        if self.ended.is_some() {
            return None;
        }
        let ws = match &mut self.link {
            Link::WebSocket(ws) => ws,
            Link::Memory(peer) => {
                let Some(bytes) = peer.recv_bytes().await else {
                    self.ended = Some("end of stream".to_owned());
                    return None;
                };
                // JSON travels as text, the binary serializers as binary, as over a WebSocket.
                return Some(
                    match (
                        self.serializer.is_binary(),
                        String::from_utf8(bytes.to_vec()),
                    ) {
                        (false, Ok(text)) => Frame::Text(text),
                        _ => Frame::Binary(bytes.to_vec()),
                    },
                );
            }
        };
        loop {
            let ended = match ws.next().await {
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

    /// Discards the messages the client has sent and the router not read yet, without waiting;
    /// returns how many (in memory; over a WebSocket, none). A script that only sends can call
    /// it now and then so that the client never waits for room.
    pub fn discard_received(&mut self) -> usize {
        let Link::Memory(peer) = &mut self.link else {
            return 0;
        };
        std::iter::from_fn(|| peer.try_recv_bytes()).count()
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

    /// Sends one message (a WebSocket text or binary message, or bytes in memory); `Err` with
    /// the reason if the connection is gone.
    pub async fn try_send_frame(&mut self, frame: Frame) -> Result<(), String> {
        match &mut self.link {
            Link::WebSocket(ws) => {
                let message = match frame {
                    Frame::Text(text) => WsMessage::text(text),
                    Frame::Binary(bytes) => WsMessage::binary(bytes),
                };
                ws.send(message).await.map_err(|e| e.to_string())
            }
            Link::Memory(peer) => {
                let bytes = match frame {
                    Frame::Text(text) => text.into_bytes(),
                    Frame::Binary(bytes) => bytes,
                };
                peer.send_bytes(bytes).await.map_err(|e| e.to_string())
            }
        }
    }

    /// Fails the connection at the client with a transport error, as a broken socket would
    /// (in memory; over a WebSocket, drops the connection).
    pub async fn fail(self, reason: &str) {
        if let Link::Memory(mut peer) = self.link {
            let _ = peer.fail(reason).await;
        }
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

    /// Drops the connection abruptly: no GOODBYE, no WebSocket close handshake.
    pub fn close(self) {
        drop(self);
    }

    /// Closes the WebSocket properly (close frame), without a WAMP GOODBYE; in memory, ends the
    /// stream after what was sent.
    pub async fn close_websocket(mut self) {
        let Link::WebSocket(ws) = &mut self.link else {
            return;
        };
        let _ = (**ws).close(None).await;
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
