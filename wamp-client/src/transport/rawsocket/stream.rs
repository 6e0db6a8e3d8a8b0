//! [`RawSocketTransport`]: the byte-message stream and sink over an open RawSocket, with
//! batched writes, PING/PONG handling and answers in the peer's place to messages too long to
//! send.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio_util::codec::Framed;

use tokio::io::{AsyncRead, AsyncWrite};

use super::codec::{Frame, FrameKind, FramingError, RawSocketCodec, Role};
use super::{Io, ServerHandshake};
use crate::error::ErrorUri;
use crate::transport::TransportError;
use crate::transport::keepalive::{ActivityIo, Keepalive, Liveness};
use crate::value::{Dict, Value};
use crate::wire::{Message, Payload, Serializer, code};

/// How many bytes of outgoing frames are collected before a write is forced.
const WRITE_BATCH: usize = 64 * 1024;

/// The byte-message [`Transport`](crate::transport::Transport) over an open RawSocket: each
/// item one WAMP message, PINGs answered with PONGs, messages longer than the receive limit
/// refused (the stream ends with an error).
pub struct RawSocketTransport {
    framed: Framed<ActivityIo<Box<dyn Io>>, RawSocketCodec>,
    serializer: Serializer,
    /// Which end this is.
    role: Role,
    /// The longest message the peer accepts.
    max_send: usize,
    /// `ERROR` answers made up for requests too long to send; read before the socket.
    local_replies: VecDeque<Bytes>,
    /// The PONG answering the peer's latest PING, not yet handed to the send buffer. One at
    /// most: a newer PING replaces it, so a peer that sends PINGs but does not read cannot
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

impl std::fmt::Debug for RawSocketTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawSocketTransport")
            .field("serializer", &self.serializer)
            .field("role", &self.role)
            .field("max_send", &self.max_send)
            .finish_non_exhaustive()
    }
}

impl RawSocketTransport {
    /// The router's end of a RawSocket whose handshake
    /// ([`server_handshake`](super::server_handshake)) is done: messages longer than the
    /// client announced are not sent (an EVENT is dropped, a RESULT replaced by an ERROR
    /// `wamp.error.payload_size_exceeded` for the caller, anything else fails the connection),
    /// and a message from the client longer than `handshake.max_receive` fails it.
    pub fn server<S>(stream: S, handshake: &ServerHandshake) -> Self
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        RawSocketTransport::new(
            Box::new(stream),
            Role::Router,
            handshake.serializer,
            handshake.max_send,
            handshake.max_receive,
            None,
        )
    }

    /// The client's end (`role` [`Role::Client`]) or the router's.
    pub(super) fn new(
        stream: Box<dyn Io>,
        role: Role,
        serializer: Serializer,
        max_send: usize,
        max_receive: usize,
        keepalive: Option<Keepalive>,
    ) -> Self {
        let codec = RawSocketCodec { max_receive, role };
        let mut framed = Framed::new(ActivityIo::new(stream), codec);
        // Buffer up to this much before `poll_ready` insists on writing: a burst of messages
        // goes out in few writes.
        framed.set_backpressure_boundary(WRITE_BATCH);
        RawSocketTransport {
            framed,
            serializer,
            role,
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

    /// Deals with a message longer than the peer accepts: answers in the peer's place where
    /// the protocol allows it (see the module documentation and [`server`](Self::server)).
    fn oversized(&mut self, item: &Bytes) -> Result<(), TransportError> {
        let size = item.len();
        let limit = self.max_send;
        let peer = self.role.peer();
        let message = self.serializer.decode(item).map_err(|e| {
            TransportError::new(format!(
                "a message of {size} bytes exceeds {peer}'s RawSocket limit of {limit} bytes and \
                 cannot be inspected: {e}"
            ))
        })?;
        let explanation = format!(
            "the {} message is {size} bytes, more than the {limit} bytes {peer} accepts over \
             RawSocket; it was not sent: send less data per message",
            message.name()
        );
        match self.role {
            Role::Client => self.oversized_request(message, explanation),
            Role::Router => self.oversized_delivery(message, explanation),
        }
    }

    /// A message from the router too long for the client: an EVENT is dropped, a RESULT
    /// replaced by an ERROR for the caller; anything else cannot be dropped silently.
    fn oversized_delivery(
        &mut self,
        message: Message,
        explanation: String,
    ) -> Result<(), TransportError> {
        match message {
            Message::Event { .. } => {
                tracing::warn!("dropping an EVENT: {explanation}");
                Ok(())
            }
            Message::Result { request, .. } => {
                tracing::warn!(
                    "answering CALL {request} with wamp.error.payload_size_exceeded: \
                     {explanation}"
                );
                self.send_instead(size_error(code::CALL, request, explanation))
            }
            _ => Err(TransportError::new(format!(
                "{explanation}; the session cannot continue without it"
            ))),
        }
    }

    /// A message from the client too long for the router (see the module documentation).
    fn oversized_request(
        &mut self,
        message: Message,
        explanation: String,
    ) -> Result<(), TransportError> {
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
                self.send_instead(size_error(code::INVOCATION, request, explanation))
            }
            _ => Err(TransportError::new(format!(
                "{explanation}; the session cannot continue without it"
            ))),
        }
    }

    /// Sends `error` in place of a message too long to send.
    fn send_instead(&mut self, error: Message) -> Result<(), TransportError> {
        let bytes = self.encode(&error)?;
        if bytes.len() > self.max_send {
            return Err(TransportError::new(format!(
                "even the error message replacing an oversized {} exceeds {}'s RawSocket limit \
                 of {} bytes",
                if self.role == Role::Client {
                    "YIELD"
                } else {
                    "RESULT"
                },
                self.role.peer(),
                self.max_send
            )));
        }
        Pin::new(&mut self.framed)
            .start_send(Frame {
                kind: FrameKind::Message,
                payload: bytes,
            })
            .map_err(framing_error)
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
            .map_err(|e| TransportError::new(format!("cannot encode a local error message: {e}")))
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
    e.0
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
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};

    use super::*;

    /// The router's end over an in-memory pipe, and the client's raw bytes.
    fn server(max_send: usize, max_receive: usize) -> (RawSocketTransport, DuplexStream) {
        let (client, server) = tokio::io::duplex(1 << 16);
        let handshake = ServerHandshake {
            serializer: Serializer::Json,
            max_send,
            max_receive,
        };
        (RawSocketTransport::server(server, &handshake), client)
    }

    async fn read_frame(client: &mut DuplexStream) -> (u8, Vec<u8>) {
        let mut header = [0u8; 4];
        assert!(client.read_exact(&mut header).await.is_ok());
        let [kind, l1, l2, l3] = header;
        let length = usize::from(l1) << 16 | usize::from(l2) << 8 | usize::from(l3);
        let mut payload = vec![0u8; length];
        assert!(client.read_exact(&mut payload).await.is_ok());
        (kind, payload)
    }

    #[tokio::test]
    async fn the_router_answers_pings_and_reads_messages() {
        let (mut transport, mut client) = server(1024, 1024);
        assert!(
            client
                .write_all(b"\x01\x00\x00\x02hi\x00\x00\x00\x02[]")
                .await
                .is_ok()
        );
        let message = transport.next().await;
        assert_eq!(
            message.and_then(Result::ok),
            Some(Bytes::from_static(b"[]"))
        );
        assert_eq!(read_frame(&mut client).await, (2, b"hi".to_vec()));
    }

    #[tokio::test]
    async fn the_router_refuses_long_messages() {
        let (mut transport, mut client) = server(1024, 16);
        assert!(client.write_all(b"\x00\x00\x00\x11").await.is_ok());
        let error = transport.next().await.and_then(Result::err);
        assert!(
            error.as_ref().is_some_and(|e| e
                .to_string()
                .contains("the client sent a RawSocket frame of 17 bytes")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn the_router_never_sends_what_the_client_refuses() {
        let (mut transport, mut client) = server(512, 1024);
        let big = "x".repeat(600);
        let event = format!("[36,1,2,{{}},[\"{big}\"]]");
        let result = format!("[50,7,{{}},[\"{big}\"]]");
        assert!(transport.send(Bytes::from(event)).await.is_ok());
        assert!(transport.send(Bytes::from(result)).await.is_ok());
        // The EVENT is dropped; the RESULT becomes an ERROR for the caller.
        let (kind, payload) = read_frame(&mut client).await;
        assert_eq!(kind, 0);
        let text = String::from_utf8(payload).unwrap_or_default();
        assert!(
            text.starts_with("[8,48,7,{},\"wamp.error.payload_size_exceeded\""),
            "{text}"
        );
        let welcome = Bytes::from(format!("[2,1,{{\"x\":\"{big}\"}}]"));
        assert!(transport.send(welcome).await.is_err());
    }
}
