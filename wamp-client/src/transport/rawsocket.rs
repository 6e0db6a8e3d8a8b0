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
//! A message longer than the router's limit is never sent. Where the session can be told through
//! the protocol itself, the transport answers in the router's place: a CALL, acknowledged PUBLISH,
//! SUBSCRIBE or REGISTER gets a local `ERROR` with `wamp.error.payload_size_exceeded`, and an
//! oversized YIELD (or invocation ERROR) is replaced by an `ERROR` with that URI for the router,
//! which passes it on to the caller. An unacknowledged PUBLISH is dropped with a warning. Only the
//! session messages (HELLO, AUTHENTICATE, GOODBYE, ...), which cannot be refused this way, fail
//! the connection.
//!
//! Keepalive (see [`keepalive`](super::keepalive)) is opt-in here: when on, a PING frame goes out
//! every interval and the connection fails when nothing at all has arrived for the timeout (a
//! PONG, like any frame or part of one, counts). It is off by default because Crossbar.io's
//! RawSocket (Autobahn|Python on Twisted) reads a PING frame's header as the length of a 16 MiB
//! message and drops the connection.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};
use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio_util::codec::{Decoder, Encoder, Framed};

use super::keepalive::{ActivityIo, Keepalive, Liveness};
use super::{Connection, TransportError, TransportOptions};
use crate::error::{ConnectError, ErrorUri};
use crate::value::{Dict, Value};
use crate::wire::{Message, Payload, Serializer, code};

/// The first byte of both handshake halves.
const MAGIC: u8 = 0x7F;
/// The longest frame payload RawSocket can carry: 2^24 bytes (LLLL = 15, or the X bit).
pub(crate) const MAX_FRAME: usize = 1 << 24;
/// The shortest limit a handshake can announce: 2^9 bytes (LLLL = 0).
const MIN_ANNOUNCED: usize = 1 << 9;
/// How long the router may take to answer the handshake. Routers answer at once; a WebSocket
/// endpoint reached by mistake waits for the rest of an HTTP request and never does.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How many bytes of outgoing frames are collected before a write is forced.
const WRITE_BATCH: usize = 64 * 1024;

/// Anything a RawSocket runs over: TCP, TLS over TCP, a Unix domain socket.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// The RawSocket serializer id.
fn serializer_id(serializer: Serializer) -> u8 {
    match serializer {
        Serializer::Json => 1,
        Serializer::MsgPack => 2,
        Serializer::Cbor => 3,
    }
}

/// LLLL for a receive limit: the largest power of two not above it (so a router that honours
/// the announcement never sends what we would refuse), at least 2^9 (the smallest RawSocket can
/// say; a smaller limit is still enforced locally).
fn length_exponent(max_receive: usize) -> u8 {
    let mut exponent = 0u8;
    while exponent < 15 && (MIN_ANNOUNCED << (exponent + 1)) <= max_receive {
        exponent += 1;
    }
    exponent
}

/// The client half of the handshake.
pub(crate) fn client_hello(serializer: Serializer, max_receive: usize) -> [u8; 4] {
    [
        MAGIC,
        (length_exponent(max_receive) << 4) | serializer_id(serializer),
        0,
        0,
    ]
}

/// Why a handshake did not succeed.
#[derive(Debug)]
pub(crate) enum HandshakeError {
    /// The router refused the serializer (error 1), or closed the connection without an answer,
    /// which is how Crossbar.io refuses one: another serializer may work.
    SerializerRefused(String),
    /// Anything else: give up.
    Fatal(String),
}

/// Checks the router's half of the handshake; returns the longest message it accepts.
pub(crate) fn check_reply(reply: [u8; 4], serializer: Serializer) -> Result<usize, HandshakeError> {
    let [magic, second, reserved1, reserved2] = reply;
    if magic != MAGIC {
        let hint = if &reply == b"HTTP" {
            " (it answered HTTP: this looks like a WebSocket endpoint; use ws:// or wss://)"
        } else {
            ""
        };
        return Err(HandshakeError::Fatal(format!(
            "the router did not answer with a RawSocket handshake (first byte 0x{magic:02X} \
             instead of 0x7F){hint}: is this a RawSocket endpoint?"
        )));
    }
    if reserved1 != 0 || reserved2 != 0 {
        return Err(HandshakeError::Fatal(format!(
            "the router's RawSocket handshake has non-zero reserved bytes (0x{reserved1:02X} \
             0x{reserved2:02X})"
        )));
    }
    let high = second >> 4;
    let low = second & 0x0F;
    if low == 0 {
        let name = serializer.name();
        return Err(match high {
            1 => HandshakeError::SerializerRefused(format!(
                "the router does not support serializer {name} over RawSocket (handshake error 1)"
            )),
            2 => HandshakeError::Fatal(
                "the router does not accept the maximum message length this client announced \
                 (RawSocket handshake error 2); try another max_message_size"
                    .to_owned(),
            ),
            3 => HandshakeError::Fatal(
                "the router reports the use of reserved bits (RawSocket handshake error 3): it \
                 may speak another RawSocket version"
                    .to_owned(),
            ),
            4 => HandshakeError::Fatal(
                "the router has reached its maximum number of connections (RawSocket handshake \
                 error 4); try again later"
                    .to_owned(),
            ),
            code => HandshakeError::Fatal(format!(
                "the router refused the RawSocket handshake with error code {code}, which this \
                 client does not know"
            )),
        });
    }
    let requested = serializer_id(serializer);
    if low != requested {
        return Err(HandshakeError::Fatal(format!(
            "the router answered the RawSocket handshake with serializer id {low}, not the \
             requested {requested} ({})",
            serializer.name()
        )));
    }
    Ok(MIN_ANNOUNCED << high)
}

/// Runs the handshake on a freshly opened stream.
async fn handshake(
    stream: &mut (dyn Io + '_),
    serializer: Serializer,
    max_receive: usize,
) -> Result<usize, HandshakeError> {
    let hello = client_hello(serializer, max_receive);
    let io_error = |e: io::Error| {
        if let Some(alert) = super::tls::alert_in(&e) {
            HandshakeError::Fatal(alert)
        } else if matches!(
            e.kind(),
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
        ) {
            HandshakeError::SerializerRefused(format!(
                "the router closed the connection during the RawSocket handshake: it may not \
                 support serializer {} over RawSocket (Crossbar.io closes the connection instead \
                 of answering error 1), or this is not a RawSocket endpoint",
                serializer.name()
            ))
        } else {
            HandshakeError::Fatal(format!("network error during the RawSocket handshake: {e}"))
        }
    };
    stream.write_all(&hello).await.map_err(io_error)?;
    stream.flush().await.map_err(io_error)?;
    let mut reply = [0u8; 4];
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.read_exact(&mut reply)).await {
        Ok(read) => read.map_err(io_error)?,
        Err(_) => {
            return Err(HandshakeError::Fatal(format!(
                "the router did not answer the RawSocket handshake within {} s: is this a \
                 RawSocket endpoint? (a WebSocket endpoint waits silently; use ws:// or wss:// \
                 for it)",
                HANDSHAKE_TIMEOUT.as_secs()
            )));
        }
    };
    check_reply(reply, serializer)
}

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

/// The kind of a RawSocket frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// A WAMP message.
    Message,
    /// A PING, to be answered with a PONG of the same payload.
    Ping,
    /// A PONG.
    Pong,
}

impl FrameKind {
    fn code(self) -> u8 {
        match self {
            FrameKind::Message => 0,
            FrameKind::Ping => 1,
            FrameKind::Pong => 2,
        }
    }
}

/// One RawSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) kind: FrameKind,
    pub(crate) payload: Bytes,
}

/// A framing failure: the connection cannot continue.
#[derive(Debug)]
pub(crate) struct FramingError(pub(crate) String);

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<io::Error> for FramingError {
    fn from(e: io::Error) -> Self {
        FramingError(format!("RawSocket I/O error: {e}"))
    }
}

/// Splits the byte stream into frames and writes frames into the send buffer.
#[derive(Debug)]
pub(crate) struct RawSocketCodec {
    /// The longest payload accepted from the router.
    pub(crate) max_receive: usize,
}

impl Decoder for RawSocketCodec {
    type Item = Frame;
    type Error = FramingError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        let Some(&[first, l1, l2, l3]) = src.get(..4) else {
            return Ok(None);
        };
        if first & 0xF0 != 0 {
            return Err(FramingError(format!(
                "the router sent a RawSocket frame with reserved header bits set (first byte \
                 0x{first:02X})"
            )));
        }
        let low24 = usize::from(l1) << 16 | usize::from(l2) << 8 | usize::from(l3);
        let length = if first & 0x08 != 0 {
            if low24 != 0 {
                return Err(FramingError(format!(
                    "the router sent a RawSocket frame longer than 2^24 bytes ({} bytes)",
                    MAX_FRAME + low24
                )));
            }
            MAX_FRAME
        } else {
            low24
        };
        let kind = match first & 0x07 {
            0 => FrameKind::Message,
            1 => FrameKind::Ping,
            2 => FrameKind::Pong,
            other => {
                return Err(FramingError(format!(
                    "the router sent a RawSocket frame of reserved type {other}"
                )));
            }
        };
        if length > self.max_receive {
            return Err(FramingError(format!(
                "the router sent a RawSocket frame of {length} bytes, which exceeds this client's \
                 limit of {} bytes (max_message_size)",
                self.max_receive
            )));
        }
        let total = 4 + length;
        if src.len() < total {
            src.reserve(total - src.len());
            return Ok(None);
        }
        src.advance(4);
        let payload = src.split_to(length).freeze();
        Ok(Some(Frame { kind, payload }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(FramingError(format!(
                "the router closed the connection in the middle of a RawSocket frame ({} bytes \
                 of it received)",
                src.len()
            ))),
        }
    }
}

impl Encoder<Frame> for RawSocketCodec {
    type Error = FramingError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), FramingError> {
        let length = frame.payload.len();
        let (x, low24) = match length {
            MAX_FRAME => (0x08, 0),
            n if n < MAX_FRAME => (0, n),
            n => {
                return Err(FramingError(format!(
                    "a RawSocket frame cannot carry {n} bytes (at most 2^24)"
                )));
            }
        };
        let [_, l1, l2, l3] = u32::try_from(low24).unwrap_or(0).to_be_bytes();
        dst.reserve(4 + length);
        dst.put_u8(x | frame.kind.code());
        dst.put_slice(&[l1, l2, l3]);
        dst.put_slice(&frame.payload);
        Ok(())
    }
}

/// The byte-message [`Transport`](super::Transport) over an open RawSocket.
struct RawSocketTransport {
    framed: Framed<ActivityIo<Box<dyn Io>>, RawSocketCodec>,
    serializer: Serializer,
    /// The longest message the router accepts.
    max_send: usize,
    /// `ERROR` answers made up for requests too long to send; read before the socket.
    local_replies: VecDeque<Bytes>,
    /// The PONG answering the router's latest PING, not yet handed to the send buffer. One at
    /// most: a newer PING replaces it, so a router that sends PINGs but does not read cannot
    /// grow memory here.
    pending_pong: Option<Bytes>,
    /// A keepalive PING is due but not yet handed to the send buffer.
    ping_due: bool,
    /// Whether a PONG or PING sits in the send buffer unflushed.
    control_unflushed: bool,
    /// The task waiting for a received message, woken when a local reply is queued.
    read_waker: Option<Waker>,
    /// The keepalive, and whether it declared the router dead (closing then does not wait on
    /// the socket).
    liveness: Liveness,
}

impl RawSocketTransport {
    fn new(
        stream: Box<dyn Io>,
        serializer: Serializer,
        max_send: usize,
        max_receive: usize,
        keepalive: Option<Keepalive>,
    ) -> Self {
        let mut framed = Framed::new(ActivityIo::new(stream), RawSocketCodec { max_receive });
        // Buffer up to this much before `poll_ready` insists on writing: a burst of messages
        // goes out in few writes.
        framed.set_backpressure_boundary(WRITE_BATCH);
        RawSocketTransport {
            framed,
            serializer,
            max_send,
            local_replies: VecDeque::new(),
            pending_pong: None,
            ping_due: false,
            control_unflushed: false,
            read_waker: None,
            liveness: Liveness::new(keepalive),
        }
    }

    /// Hands queued PONGs and PINGs to the send buffer and flushes them, as far as the socket
    /// allows.
    fn poll_control(&mut self, cx: &mut Context<'_>) -> Result<(), TransportError> {
        while self.pending_pong.is_some() || self.ping_due {
            match Pin::new(&mut self.framed).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Err(framing_error(e)),
                Poll::Pending => return Ok(()),
            }
            let frame = match self.pending_pong.take() {
                Some(payload) => Frame {
                    kind: FrameKind::Pong,
                    payload,
                },
                None => {
                    self.ping_due = false;
                    Frame {
                        kind: FrameKind::Ping,
                        payload: Bytes::new(),
                    }
                }
            };
            Pin::new(&mut self.framed)
                .start_send(frame)
                .map_err(framing_error)?;
            self.control_unflushed = true;
        }
        if self.control_unflushed {
            match Pin::new(&mut self.framed).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.control_unflushed = false,
                Poll::Ready(Err(e)) => return Err(framing_error(e)),
                Poll::Pending => {}
            }
        }
        Ok(())
    }

    /// Deals with a message longer than the router accepts: answers in the router's place
    /// where the protocol allows it (see the module documentation).
    fn oversized(&mut self, item: &Bytes) -> Result<(), TransportError> {
        let size = item.len();
        let limit = self.max_send;
        let message = self.serializer.decode(item).map_err(|e| {
            TransportError(format!(
                "a message of {size} bytes exceeds the router's RawSocket limit of {limit} bytes \
                 and cannot be inspected: {e}"
            ))
        })?;
        let explanation = format!(
            "the {} message is {size} bytes, more than the {limit} bytes the router accepts over \
             RawSocket; it was not sent: send less data per message",
            message.name()
        );
        match message {
            Message::Call { request, .. } => self.reply_locally(code::CALL, request, explanation),
            Message::Subscribe { request, .. } => {
                self.reply_locally(code::SUBSCRIBE, request, explanation)
            }
            Message::Register { request, .. } => {
                self.reply_locally(code::REGISTER, request, explanation)
            }
            Message::Publish {
                request, options, ..
            } => {
                if matches!(options.get("acknowledge"), Some(Value::Bool(true))) {
                    self.reply_locally(code::PUBLISH, request, explanation)
                } else {
                    tracing::warn!("dropping an unacknowledged PUBLISH: {explanation}");
                    Ok(())
                }
            }
            Message::Yield { request, .. }
            | Message::Error {
                request_type: code::INVOCATION,
                request,
                ..
            } => {
                tracing::warn!(
                    "answering INVOCATION {request} with wamp.error.payload_size_exceeded: \
                     {explanation}"
                );
                let error = size_error(code::INVOCATION, request, explanation);
                let bytes = self.encode(&error)?;
                if bytes.len() > self.max_send {
                    return Err(TransportError(format!(
                        "even the error message replacing an oversized YIELD exceeds the \
                         router's RawSocket limit of {limit} bytes"
                    )));
                }
                Pin::new(&mut self.framed)
                    .start_send(Frame {
                        kind: FrameKind::Message,
                        payload: bytes,
                    })
                    .map_err(framing_error)
            }
            _ => Err(TransportError(format!(
                "{explanation}; the session cannot continue without it"
            ))),
        }
    }

    /// Queues an `ERROR` answer to one of our requests, as if the router had sent it.
    fn reply_locally(
        &mut self,
        request_type: u64,
        request: u64,
        explanation: String,
    ) -> Result<(), TransportError> {
        tracing::debug!("failing request {request} locally: {explanation}");
        let bytes = self.encode(&size_error(request_type, request, explanation))?;
        self.local_replies.push_back(bytes);
        if let Some(waker) = self.read_waker.take() {
            waker.wake();
        }
        Ok(())
    }

    fn encode(&self, message: &Message) -> Result<Bytes, TransportError> {
        self.serializer
            .encode(message)
            .map(Bytes::from)
            .map_err(|e| TransportError(format!("cannot encode a local error message: {e}")))
    }
}

/// `[ERROR, request_type, request, {}, "wamp.error.payload_size_exceeded", [explanation]]`
fn size_error(request_type: u64, request: u64, explanation: String) -> Message {
    Message::Error {
        request_type,
        request,
        details: Dict::new(),
        error: ErrorUri::PayloadSizeExceeded.as_str().to_owned(),
        payload: Payload::new(vec![Value::from(explanation)], Dict::new()),
    }
}

fn framing_error(e: FramingError) -> TransportError {
    TransportError(e.0)
}

impl Stream for RawSocketTransport {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(reply) = this.local_replies.pop_front() {
                return Poll::Ready(Some(Ok(reply)));
            }
            if let Err(e) = this.poll_control(cx) {
                return Poll::Ready(Some(Err(e)));
            }
            let polled = Pin::new(&mut this.framed).poll_next(cx);
            this.liveness
                .note_read(this.framed.get_mut().take_activity());
            match polled {
                Poll::Pending => {
                    // Nothing more to read: time for a PING, or to give up on the router?
                    match this.liveness.poll_idle(cx) {
                        Poll::Pending => {}
                        Poll::Ready(Ok(())) => {
                            tracing::trace!("RawSocket keepalive PING");
                            this.ping_due = true;
                            continue;
                        }
                        Poll::Ready(Err(error)) => return Poll::Ready(Some(Err(error))),
                    }
                    this.read_waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(framing_error(e)))),
                Poll::Ready(Some(Ok(frame))) => match frame.kind {
                    FrameKind::Message => return Poll::Ready(Some(Ok(frame.payload))),
                    FrameKind::Ping => {
                        tracing::trace!(bytes = frame.payload.len(), "RawSocket PING");
                        if this.pending_pong.replace(frame.payload).is_some() {
                            tracing::trace!("an unanswered RawSocket PING was superseded");
                        }
                    }
                    // The answer to a keepalive PING (already counted as a sign of life), or an
                    // unsolicited PONG, which is allowed and ignored.
                    FrameKind::Pong => {}
                },
            }
        }
    }
}

impl Sink<Bytes> for RawSocketTransport {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match Pin::new(&mut self.framed).poll_ready(cx) {
            Poll::Ready(result) => {
                self.liveness.write_done();
                Poll::Ready(result.map_err(framing_error))
            }
            Poll::Pending => self.liveness.write_pending(cx),
        }
    }

    fn start_send(mut self: Pin<&mut Self>, item: Bytes) -> Result<(), Self::Error> {
        if item.len() > self.max_send {
            return self.oversized(&item);
        }
        Pin::new(&mut self.framed)
            .start_send(Frame {
                kind: FrameKind::Message,
                payload: item,
            })
            .map_err(framing_error)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match Pin::new(&mut self.framed).poll_flush(cx) {
            Poll::Ready(result) => {
                self.liveness.write_done();
                if result.is_ok() {
                    self.control_unflushed = false;
                }
                Poll::Ready(result.map_err(framing_error))
            }
            Poll::Pending => self.liveness.write_pending(cx),
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.liveness.is_dead() {
            // Nothing more to tell a dead router: dropping the transport closes the socket.
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut self.framed).poll_close(cx) {
            // The router may have closed first; that is a clean end too.
            Poll::Ready(Err(FramingError(_))) => Poll::Ready(Ok(())),
            other => other.map_err(framing_error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_bytes() {
        assert_eq!(
            client_hello(Serializer::Json, MAX_FRAME),
            [0x7F, 0xF1, 0, 0]
        );
        assert_eq!(
            client_hello(Serializer::Cbor, MAX_FRAME),
            [0x7F, 0xF3, 0, 0]
        );
        assert_eq!(client_hello(Serializer::MsgPack, 512), [0x7F, 0x02, 0, 0]);
        // Below the smallest announceable limit: announce 512, enforce locally.
        assert_eq!(client_hello(Serializer::MsgPack, 100), [0x7F, 0x02, 0, 0]);
        // Not a power of two: round down.
        assert_eq!(client_hello(Serializer::Json, 65_535), [0x7F, 0x61, 0, 0]);
        assert_eq!(client_hello(Serializer::Json, 65_536), [0x7F, 0x71, 0, 0]);
        assert_eq!(
            client_hello(Serializer::Json, usize::MAX),
            [0x7F, 0xF1, 0, 0]
        );
    }

    #[test]
    fn replies() {
        assert_eq!(
            check_reply([0x7F, 0x71, 0, 0], Serializer::Json).ok(),
            Some(65_536)
        );
        assert_eq!(
            check_reply([0x7F, 0xF2, 0, 0], Serializer::MsgPack).ok(),
            Some(MAX_FRAME)
        );
        let refused = check_reply([0x7F, 0x10, 0, 0], Serializer::Cbor);
        assert!(
            matches!(&refused, Err(HandshakeError::SerializerRefused(m))
                if m.contains("does not support serializer cbor over RawSocket")),
            "{refused:?}"
        );
        for (byte, text) in [
            (0x20, "maximum message length"),
            (0x30, "reserved bits"),
            (0x40, "maximum number of connections"),
            (0x50, "error code 5"),
        ] {
            let reply = check_reply([0x7F, byte, 0, 0], Serializer::Json);
            assert!(
                matches!(&reply, Err(HandshakeError::Fatal(m)) if m.contains(text)),
                "{reply:?}"
            );
        }
        let http = check_reply(*b"HTTP", Serializer::Json);
        assert!(
            matches!(&http, Err(HandshakeError::Fatal(m)) if m.contains("WebSocket endpoint")),
            "{http:?}"
        );
        let reserved = check_reply([0x7F, 0xF1, 0, 1], Serializer::Json);
        assert!(matches!(reserved, Err(HandshakeError::Fatal(_))));
        let wrong = check_reply([0x7F, 0xF2, 0, 0], Serializer::Json);
        assert!(
            matches!(&wrong, Err(HandshakeError::Fatal(m)) if m.contains("serializer id 2")),
            "{wrong:?}"
        );
    }

    fn decode_all(codec: &mut RawSocketCodec, bytes: &[u8]) -> Result<Vec<Frame>, FramingError> {
        let mut buffer = BytesMut::from(bytes);
        let mut frames = Vec::new();
        while let Some(frame) = codec.decode(&mut buffer)? {
            frames.push(frame);
        }
        Ok(frames)
    }

    #[test]
    fn frames_round_trip() {
        let mut codec = RawSocketCodec {
            max_receive: MAX_FRAME,
        };
        let mut buffer = BytesMut::new();
        for (kind, payload) in [
            (FrameKind::Message, &b"[1,2]"[..]),
            (FrameKind::Ping, &b"ping"[..]),
            (FrameKind::Pong, &b""[..]),
        ] {
            let frame = Frame {
                kind,
                payload: Bytes::copy_from_slice(payload),
            };
            assert!(codec.encode(frame, &mut buffer).is_ok());
        }
        assert_eq!(buffer.get(..9), Some(&b"\x00\x00\x00\x05[1,2]"[..]));
        let frames = decode_all(&mut codec, &buffer).unwrap_or_default();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames.first().map(|f| f.kind), Some(FrameKind::Message));
        assert_eq!(frames.get(1).map(|f| &f.payload[..]), Some(&b"ping"[..]));
        assert_eq!(frames.get(2).map(|f| f.kind), Some(FrameKind::Pong));
    }

    #[test]
    fn partial_frames_wait() {
        let mut codec = RawSocketCodec { max_receive: 100 };
        let mut buffer = BytesMut::from(&b"\x00\x00"[..]);
        assert!(matches!(codec.decode(&mut buffer), Ok(None)));
        buffer.extend_from_slice(b"\x00\x03ab");
        assert!(matches!(codec.decode(&mut buffer), Ok(None)));
        buffer.extend_from_slice(b"c");
        let frame = codec.decode(&mut buffer).ok().flatten();
        assert_eq!(frame.map(|f| f.payload), Some(Bytes::from_static(b"abc")));
        assert!(buffer.is_empty());
    }

    #[test]
    fn bad_frames_fail() {
        let mut codec = RawSocketCodec { max_receive: 512 };
        let reserved = decode_all(&mut codec, b"\x10\x00\x00\x01x");
        assert!(matches!(&reserved, Err(e) if e.0.contains("reserved header bits")));
        let kind = decode_all(&mut codec, b"\x03\x00\x00\x01x");
        assert!(matches!(&kind, Err(e) if e.0.contains("reserved type 3")));
        // Refused as soon as the header is in, before the payload arrives.
        let long = decode_all(&mut codec, b"\x00\x00\x02\x01");
        assert!(
            matches!(&long, Err(e) if e.0.contains("513 bytes") && e.0.contains("limit of 512")),
            "{long:?}"
        );
        let too_long = decode_all(&mut codec, b"\x08\x00\x00\x01");
        assert!(matches!(&too_long, Err(e) if e.0.contains("longer than 2^24")));
        let mut truncated = BytesMut::from(&b"\x00\x00\x00\x05ab"[..]);
        assert!(codec.decode_eof(&mut truncated).is_err());
    }

    #[test]
    fn the_25th_length_bit() {
        let mut codec = RawSocketCodec {
            max_receive: MAX_FRAME,
        };
        let mut buffer = BytesMut::new();
        let frame = Frame {
            kind: FrameKind::Message,
            payload: Bytes::from(vec![0u8; MAX_FRAME]),
        };
        assert!(codec.encode(frame, &mut buffer).is_ok());
        assert_eq!(buffer.get(..4), Some(&[0x08, 0, 0, 0][..]));
        let decoded = codec.decode(&mut buffer).ok().flatten();
        assert_eq!(decoded.map(|f| f.payload.len()), Some(MAX_FRAME));
    }
}
