//! RawSocket transport (WAMP's own framing over TCP, TLS or a Unix domain socket).
//!
//! The client opens with four bytes, `0x7F, (LLLL << 4) | SSSS, 0, 0`: LLLL announces the longest
//! message this client accepts (2^(9+LLLL) bytes) and SSSS names the serializer (1 JSON,
//! 2 MessagePack, 3 CBOR). The router echoes the serializer with its own limit, or answers an
//! error code. After that, every frame is a 4-byte header (`RRRR XTTT` then a 24-bit length; R
//! reserved and zero, X the 25th length bit, TTT 0 message, 1 PING, 2 PONG) and the payload.
//!
//! Reading is cancel-safe (all state lives in the codec's buffer, the session task polls the
//! stream inside `select!`), and writes are batched: `start_send` appends to a buffer and
//! `poll_flush` writes it.
//!
//! On the client's end, a message longer than the router's limit is never sent. Where the session can be told through
//! the protocol itself, the transport answers in the router's place: a CALL, acknowledged PUBLISH,
//! SUBSCRIBE or REGISTER gets a local `ERROR` with `wamp.error.payload_size_exceeded`, and an
//! oversized YIELD (or invocation ERROR) is replaced by an `ERROR` with that URI for the router,
//! which passes it on to the caller. An unacknowledged PUBLISH is dropped with a warning. Only the
//! session messages (HELLO, AUTHENTICATE, GOODBYE, ...), which cannot be refused this way, fail
//! the connection.
//!
//! # The router's side
//! A router accepting RawSocket connections runs [`server_handshake`] on each accepted stream
//! (TCP, TLS, Unix socket), then turns the stream into a
//! [`Transport`](super::Transport) with [`RawSocketTransport::server`]. The same framing serves
//! both ends; the router's end answers PINGs, enforces its receive limit and never sends a
//! message too long for the client (see [`RawSocketTransport::server`]).
//!
//! # Keepalive
//! Keepalive (see `keepalive` in the transport module) is opt-in on the client: when on, a
//! PING frame goes out every interval and the connection fails when nothing at all has arrived for the timeout (a
//! PONG, like any frame or part of one, counts). It is off by default because Crossbar.io's
//! RawSocket (Autobahn|Python on Twisted) reads a PING frame's header as the length of a 16 MiB
//! message and drops the connection.

mod codec;
mod handshake;
mod stream;

use tokio::io::{AsyncRead, AsyncWrite};

use self::codec::Role;
use self::handshake::{HandshakeError, handshake};
pub use self::handshake::{ServerHandshake, server_handshake};
pub use self::stream::RawSocketTransport;
use super::{Connection, TransportOptions};
use crate::error::ConnectError;
use crate::wire::Serializer;

/// The longest frame payload RawSocket can carry: 2^24 bytes (LLLL = 15, or the X bit).
pub(crate) const MAX_FRAME: usize = 1 << 24;

/// Anything a RawSocket runs over: TCP, TLS over TCP, a Unix domain socket.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Opens a RawSocket over streams from `open`, offering one serializer per connection in the
/// order given and moving on to the next when the router refuses one.
pub(crate) async fn connect<F, Fut>(
    url: &str,
    serializers: &[Serializer],
    options: &TransportOptions,
    mut open: F,
) -> Result<Connection, ConnectError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Box<dyn Io>, ConnectError>>,
{
    let max_receive = options.max_message_size().min(MAX_FRAME);
    let mut refusals = Vec::new();
    for (index, &serializer) in serializers.iter().enumerate() {
        let mut stream = open().await?;
        match handshake(stream.as_mut(), serializer, max_receive).await {
            Ok(max_send) => {
                tracing::debug!(
                    serializer = serializer.name(),
                    max_send,
                    max_receive,
                    "RawSocket handshake done"
                );
                return Ok(Connection {
                    transport: Box::new(RawSocketTransport::new(
                        stream,
                        Role::Client,
                        serializer,
                        max_send,
                        max_receive,
                        options.keepalive.rawsocket(),
                    )),
                    serializer,
                });
            }
            Err(HandshakeError::SerializerRefused(reason)) => {
                if index + 1 < serializers.len() {
                    tracing::debug!(%reason, "trying the next serializer on a new connection");
                }
                refusals.push(reason);
            }
            Err(HandshakeError::Fatal(reason)) => return Err(ConnectError::new(url, reason)),
        }
    }
    Err(ConnectError::new(
        url,
        match refusals.as_slice() {
            [only] => only.clone(),
            all => format!(
                "the router accepts none of the offered serializers over RawSocket: {}",
                all.join("; ")
            ),
        },
    ))
}
