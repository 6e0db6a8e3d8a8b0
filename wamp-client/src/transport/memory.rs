//! An in-memory transport: a session and a router (or a test playing one) in the same process.
//!
//! [`pair`] gives two connected ends. The [`MemoryTransport`] end is a [`Transport`] for
//! [`SessionBuilder::connect_with`](crate::SessionBuilder::connect_with); the [`MemoryPeer`] end
//! is the router's side, which speaks [`Message`]s and encodes and decodes each one with the
//! serializer the pair was made with, so the codecs are exercised as over a socket. Raw bytes can
//! be sent and received too (a malformed message, say), and a transport error injected.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> wampkit::Result<()> {
//! use wampkit::transport::memory;
//! use wampkit::wire::{Message, Payload};
//! use wampkit::{Dict, Serializer, Session, Value};
//!
//! let (client, mut router) = memory::pair(Serializer::Json);
//! let script = tokio::spawn(async move {
//!     let Some(Ok(Message::Hello { .. })) = router.recv().await else { panic!("no HELLO") };
//!     let mut roles = Dict::new();
//!     roles.insert("dealer".into(), Value::Dict(Dict::new()));
//!     let mut details = Dict::new();
//!     details.insert("roles".into(), Value::Dict(roles));
//!     router.send(&Message::Welcome { session: 7, details }).await?;
//!     let Some(Ok(Message::Call { request, .. })) = router.recv().await else { panic!("no CALL") };
//!     let payload = Payload::Args { args: vec![Value::from(5)], kwargs: Dict::new() };
//!     router.send(&Message::Result { request, details: Dict::new(), payload }).await?;
//!     let Some(Ok(Message::Goodbye { .. })) = router.recv().await else { panic!("no GOODBYE") };
//!     let goodbye = Message::Goodbye {
//!         details: Dict::new(),
//!         reason: "wamp.close.goodbye_and_out".into(),
//!     };
//!     router.send(&goodbye).await
//! });
//!
//! let session = Session::builder("memory://router", "realm1").connect_with(client).await?;
//! let sum: i64 = session.call("com.example.add", (2, 3)).await?.arg(0)?;
//! assert_eq!(sum, 5);
//! session.leave().await?;
//! # script.await.ok();
//! # Ok(()) }
//! ```

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio::sync::mpsc;
use tokio_util::sync::PollSender;

use super::{Transport, TransportError};
use crate::wire::{InvalidMessage, Message, Serializer};

/// How many messages may be in flight in each direction before the sender waits: enough for
/// batches of messages, while a side that stops reading slows the other down.
pub const DEFAULT_CAPACITY: usize = 1024;

/// Two connected ends of an in-memory transport, each direction holding up to
/// [`DEFAULT_CAPACITY`] messages; the router end encodes and decodes with `serializer`.
pub fn pair(serializer: Serializer) -> (MemoryTransport, MemoryPeer) {
    pair_with_capacity(serializer, DEFAULT_CAPACITY, DEFAULT_CAPACITY)
}

/// [`pair`] with other bounds: the session's end may send `to_peer` messages (at least 1) the
/// peer has not read before its sends wait, and the peer `to_session` the other way.
pub fn pair_with_capacity(
    serializer: Serializer,
    to_peer: usize,
    to_session: usize,
) -> (MemoryTransport, MemoryPeer) {
    let (to_client, from_router) = mpsc::channel(to_session.max(1));
    let (to_router, from_client) = mpsc::channel(to_peer.max(1));
    let client = MemoryTransport {
        incoming: from_router,
        outgoing: PollSender::new(to_router),
    };
    let peer = MemoryPeer {
        serializer,
        incoming: from_client,
        outgoing: to_client,
    };
    (client, peer)
}

/// Two connected [`MemoryTransport`]s: what one sends, the other receives, up to `capacity`
/// messages (at least 1) in flight each way. For serving a session from a router of one's own,
/// which reads and writes encoded messages as over a socket.
pub fn duplex(capacity: usize) -> (MemoryTransport, MemoryTransport) {
    let (to_b, from_a) = mpsc::channel(capacity.max(1));
    let (to_a, from_b) = mpsc::channel(capacity.max(1));
    let a = MemoryTransport {
        incoming: from_b,
        outgoing: PollSender::new(to_b),
    };
    let b = MemoryTransport {
        incoming: from_a,
        outgoing: PollSender::new(to_a),
    };
    (a, b)
}

/// The session's end of an in-memory pair: a [`Transport`] of encoded messages.
///
/// The stream ends when the [`MemoryPeer`] is dropped or [closed](MemoryPeer::close); sending
/// fails once the peer is gone.
#[derive(Debug)]
pub struct MemoryTransport {
    incoming: mpsc::Receiver<Result<Bytes, TransportError>>,
    outgoing: PollSender<Result<Bytes, TransportError>>,
}

fn peer_gone() -> TransportError {
    TransportError::new("the other end of the in-memory transport is closed")
}

impl Stream for MemoryTransport {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.incoming.poll_recv(cx)
    }
}

impl Sink<Bytes> for MemoryTransport {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(ready!(self.outgoing.poll_reserve(cx)).map_err(|_| peer_gone()))
    }

    fn start_send(mut self: Pin<&mut Self>, item: Bytes) -> Result<(), Self::Error> {
        self.outgoing.send_item(Ok(item)).map_err(|_| peer_gone())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Result<(), Self::Error>> {
        self.outgoing.close();
        Poll::Ready(Ok(()))
    }
}

// Checked here so that a change to either type cannot silently break `connect_with`.
const _: fn() = || {
    fn is_transport<T: Transport>() {}
    is_transport::<MemoryTransport>();
};

/// The router's end of an in-memory pair: WAMP messages in and out, each encoded or decoded
/// with the pair's serializer.
#[derive(Debug)]
pub struct MemoryPeer {
    serializer: Serializer,
    incoming: mpsc::Receiver<Result<Bytes, TransportError>>,
    outgoing: mpsc::Sender<Result<Bytes, TransportError>>,
}

impl MemoryPeer {
    /// The serializer this end encodes and decodes with.
    pub fn serializer(&self) -> Serializer {
        self.serializer
    }

    /// The next message from the session, decoded: `None` once the session has closed its end
    /// (or dropped it), `Some(Err(_))` if the bytes are no valid message.
    pub async fn recv(&mut self) -> Option<Result<Message, InvalidMessage>> {
        let bytes = self.recv_bytes().await?;
        Some(self.serializer.decode(&bytes))
    }

    /// The next message from the session as it was encoded; `None` once the session has closed
    /// its end.
    pub async fn recv_bytes(&mut self) -> Option<Bytes> {
        // A session's end only ever sends bytes.
        self.incoming.recv().await.and_then(Result::ok)
    }

    /// A message from the session if one is waiting, without waiting (`None` if there is none
    /// or the session has closed its end).
    pub fn try_recv_bytes(&mut self) -> Option<Bytes> {
        self.incoming.try_recv().ok().and_then(Result::ok)
    }

    /// Encodes `message` and sends it to the session; fails if the message cannot be encoded or
    /// the session's end is gone.
    pub async fn send(&mut self, message: &Message) -> Result<(), TransportError> {
        let bytes = self
            .serializer
            .encode(message)
            .map_err(|e| TransportError::new(format!("cannot encode {message:?}: {e}")))?;
        self.send_bytes(Bytes::from(bytes)).await
    }

    /// Sends bytes to the session as one message, as they are (e.g. a malformed message).
    pub async fn send_bytes(&mut self, bytes: impl Into<Bytes>) -> Result<(), TransportError> {
        self.outgoing
            .send(Ok(bytes.into()))
            .await
            .map_err(|_| peer_gone())
    }

    /// Makes the session's next read fail with a transport error carrying `reason`, as a broken
    /// connection would.
    pub async fn fail(&mut self, reason: impl Into<String>) -> Result<(), TransportError> {
        self.outgoing
            .send(Err(TransportError::new(reason)))
            .await
            .map_err(|_| peer_gone())
    }

    /// Whether the session has closed or dropped its end.
    pub fn is_closed(&self) -> bool {
        self.outgoing.is_closed()
    }

    /// Closes this end: the session reads the end of the stream once it has read what was
    /// sent before, and its sends fail.
    pub fn close(self) {
        drop(self);
    }
}
