//! The router's side of one scripted connection: what the script sends, expects and checks.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use wampkit_client::transport::memory::MemoryPeer;
use wampkit_client::wire::{Id, Message};
use wampkit_client::{Dict, Serializer, Value};

use crate::messages::*;

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
    /// The router's side of an accepted WebSocket connection, with the handshake's outcome.
    pub(super) fn over_websocket(
        ws: WebSocketStream<TcpStream>,
        serializer: Serializer,
        offered: Vec<String>,
        chosen: Option<String>,
    ) -> RouterPeer {
        RouterPeer {
            link: Link::WebSocket(Box::new(ws)),
            serializer,
            offered,
            chosen,
            ended: None,
        }
    }

    /// The router's side of an in-memory connection made with [`memory::pair`](wampkit_client::transport::memory::pair).
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
            Link::WebSocket(ws) => ws.send(ws_message(frame)).await.map_err(|e| e.to_string()),
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
        self.send_frame(self.encoded(&message)).await;
    }

    /// Encodes `messages` and writes them all before flushing once: the client finds them in
    /// the socket together, many per read, as a router's burst arrives.
    pub async fn send_burst(&mut self, messages: impl IntoIterator<Item = Message>) {
        if let Err(e) = self.try_send_burst(messages).await {
            panic!("the scripted router could not send: {e}");
        }
    }

    /// [`send_burst`](Self::send_burst), returning the reason if the connection is gone.
    async fn try_send_burst(
        &mut self,
        messages: impl IntoIterator<Item = Message>,
    ) -> Result<(), String> {
        for message in messages {
            let frame = self.encoded(&message);
            match &mut self.link {
                Link::WebSocket(ws) => ws
                    .feed(ws_message(frame))
                    .await
                    .map_err(|e| e.to_string())?,
                Link::Memory(_) => self.try_send_frame(frame).await?,
            }
        }
        match &mut self.link {
            Link::WebSocket(ws) => ws.flush().await.map_err(|e| e.to_string()),
            Link::Memory(_) => Ok(()),
        }
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

    /// `message` encoded with this connection's serializer, as a frame.
    fn encoded(&self, message: &Message) -> Frame {
        match self.serializer.encode(message) {
            Ok(bytes) => self.frame(bytes),
            Err(e) => panic!("the scripted router cannot encode {message:?}: {e}"),
        }
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

/// A frame as the WebSocket message that carries it.
fn ws_message(frame: Frame) -> WsMessage {
    match frame {
        Frame::Text(text) => WsMessage::text(text),
        Frame::Binary(bytes) => WsMessage::binary(bytes),
    }
}
