//! WebSocket transport (RFC 6455) through tokio-tungstenite, with TLS by rustls for `wss://`
//! (see `tls`, with the `tls` feature).
//! One WAMP message travels as one WebSocket message: text for JSON, binary otherwise. A message of
//! the other kind from the router fails the connection, as Autobahn|Python does.
//!
//! Keepalive (see [`keepalive`](super::keepalive)): a Ping goes out every interval, and the
//! connection fails when nothing at all has arrived for the timeout. Pings from the router are
//! answered by tungstenite itself.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, Utf8Bytes};

use super::keepalive::{ActivityIo, Liveness};
use super::{Connection, TransportError, TransportOptions};
use crate::error::ConnectError;
use crate::wire::Serializer;

/// WebSocket settings.
#[derive(Debug, Clone)]
pub(crate) struct WebSocketOptions {
    /// Largest message accepted from the router (on RawSocket too).
    pub(crate) max_message_size: usize,
}

impl Default for WebSocketOptions {
    fn default() -> Self {
        WebSocketOptions {
            max_message_size: 16 * 1024 * 1024,
        }
    }
}

pub(crate) async fn connect(
    url: &str,
    serializers: &[Serializer],
    options: &TransportOptions,
) -> Result<Connection, ConnectError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ConnectError::with_source(url, "the URL is not a valid WebSocket URL", e))?;
    let offered = serializers
        .iter()
        .map(|s| s.subprotocol())
        .collect::<Vec<_>>()
        .join(", ");
    let header = HeaderValue::from_str(&offered)
        .map_err(|e| ConnectError::with_source(url, "invalid subprotocol list", e))?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", header);

    // TCP and TLS are opened here rather than by tokio-tungstenite, so that TLS uses this
    // client's rustls configuration and its errors say what to check.
    let uri = request.uri();
    let secure = uri
        .scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("wss"));
    let host = uri
        .host()
        .ok_or_else(|| ConnectError::new(url, "the URL has no host"))?
        .to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = super::open_tcp(url, options, secure, &host, port).await?;
    let stream = ActivityIo::new(if secure {
        tls_stream(url, &host, tcp, options).await?
    } else {
        plain_stream(tcp)
    });

    // A 4 KiB read buffer: tungstenite zero-fills its spare read buffer before every read
    // attempt (even one that finds no data). With the 128 KiB default that memset was 87% of the
    // instructions of a call round trip; at 4 KiB it still holds dozens of small messages.
    let max_message_size = options.max_message_size();
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size));
    let (stream, response) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(|e| describe_connect_error(url, &offered, e))?;

    let chosen = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let serializer = Serializer::from_subprotocol(chosen)
        .filter(|s| serializers.contains(s))
        .ok_or_else(|| {
            ConnectError::new(
                url,
                format!(
                    "the router chose subprotocol `{chosen}`, which was not offered ({offered})"
                ),
            )
        })?;
    Ok(Connection {
        transport: Box::new(WebSocketTransport {
            inner: stream,
            serializer,
            liveness: Liveness::new(options.keepalive.websocket()),
            ping_queued: false,
            ping_unflushed: false,
        }),
        serializer,
    })
}

/// The stream a WebSocket runs over: TCP, or TLS over TCP.
#[cfg(feature = "__tls")]
type Io = tokio_util::either::Either<TcpStream, tokio_rustls::client::TlsStream<TcpStream>>;
/// The stream a WebSocket runs over: TCP (TLS is not in this build).
#[cfg(not(feature = "__tls"))]
type Io = TcpStream;

#[cfg(feature = "__tls")]
fn plain_stream(tcp: TcpStream) -> Io {
    tokio_util::either::Either::Left(tcp)
}

#[cfg(not(feature = "__tls"))]
fn plain_stream(tcp: TcpStream) -> Io {
    tcp
}

#[cfg(feature = "__tls")]
async fn tls_stream(
    url: &str,
    host: &str,
    tcp: TcpStream,
    options: &TransportOptions,
) -> Result<Io, ConnectError> {
    let tls = super::tls::connect(url, host, tcp, &options.tls).await?;
    Ok(tokio_util::either::Either::Right(tls))
}

#[cfg(not(feature = "__tls"))]
async fn tls_stream(
    url: &str,
    _host: &str,
    _tcp: TcpStream,
    _options: &TransportOptions,
) -> Result<Io, ConnectError> {
    Err(super::features::scheme_connect_error(url, "wss"))
}

fn describe_connect_error(url: &str, offered: &str, e: tungstenite::Error) -> ConnectError {
    let reason = match &e {
        tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(
            SubProtocolError::NoSubProtocol,
        )) => format!(
            "the router accepts none of the offered serializers ({offered}); offer another one"
        ),
        tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(
            SubProtocolError::InvalidSubProtocol
            | SubProtocolError::ServerSentSubProtocolNoneRequested,
        )) => format!(
            "the router chose a subprotocol that was not offered ({offered}); it speaks none of \
             the offered serializers"
        ),
        tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused: is the router running and listening on this address?".to_owned()
        }
        tungstenite::Error::Io(io) => {
            super::features::tls_alert_in(io).unwrap_or_else(|| match io.kind() {
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                    "the router closed the connection during the WebSocket handshake: is this a \
                     WebSocket endpoint? (for RawSocket use rs:// or rss://)"
                        .to_owned()
                }
                _ => format!("network error during the WebSocket handshake: {io}"),
            })
        }
        tungstenite::Error::Http(response) => {
            let body = response
                .body()
                .as_deref()
                .and_then(crate::error::http_body_text);
            format!(
                "the server answered HTTP {} instead of upgrading to WebSocket: check the URL path{}",
                response.status(),
                body.map(|body| format!(" (body: {body})"))
                    .unwrap_or_default()
            )
        }
        tungstenite::Error::Tls(_) => "TLS handshake failed: check the certificate".to_owned(),
        tungstenite::Error::Url(_) => "invalid URL".to_owned(),
        _ => "WebSocket handshake failed".to_owned(),
    };
    ConnectError::with_source(url, reason, e)
}

/// Adapts a tungstenite stream to the byte-message [`Transport`](super::Transport).
struct WebSocketTransport {
    inner: WebSocketStream<ActivityIo<Io>>,
    serializer: Serializer,
    /// The keepalive, and whether it declared the router dead (closing then skips the close
    /// handshake).
    liveness: Liveness,
    /// A Ping is due but not handed to tungstenite yet (its buffer was full).
    ping_queued: bool,
    /// A Ping sits in tungstenite's buffer, not flushed yet.
    ping_unflushed: bool,
}

fn transport_error(e: tungstenite::Error) -> TransportError {
    match e {
        tungstenite::Error::Capacity(tungstenite::error::CapacityError::MessageTooLong {
            size,
            max_size,
        }) => TransportError::new(format!(
            "the router sent a WebSocket message of {size} bytes, more than the {max_size} \
             bytes this client accepts (max_message_size)"
        )),
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            TransportError::new(
                "the router closed the connection abruptly (no WebSocket closing handshake)"
                    .to_owned(),
            )
        }
        // tungstenite shows its I/O errors as `IO error: …`.
        tungstenite::Error::Io(e) => TransportError::io("WebSocket error: IO error", e),
        e => TransportError::new(format!("WebSocket error: {e}")),
    }
}

/// The error for a WebSocket message of the wrong kind (text for a binary serializer, or binary
/// for JSON).
fn wrong_kind(serializer: Serializer, received: &str) -> TransportError {
    let expected = if serializer.is_binary() {
        "binary"
    } else {
        "text"
    };
    TransportError::new(format!(
        "the router sent a {received} WebSocket message on {}, which carries WAMP messages in \
         {expected} messages only",
        serializer.subprotocol()
    ))
}

impl WebSocketTransport {
    /// Hands a due Ping to tungstenite and flushes it, as far as the socket allows.
    fn poll_ping(&mut self, cx: &mut Context<'_>) -> Result<(), TransportError> {
        if self.ping_queued {
            match Pin::new(&mut self.inner).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Err(transport_error(e)),
                Poll::Pending => return Ok(()),
            }
            tracing::trace!("WebSocket keepalive Ping");
            Pin::new(&mut self.inner)
                .start_send(WsMessage::Ping(Bytes::new()))
                .map_err(transport_error)?;
            self.ping_queued = false;
            self.ping_unflushed = true;
        }
        if self.ping_unflushed {
            match Pin::new(&mut self.inner).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.ping_unflushed = false,
                Poll::Ready(Err(e)) => return Err(transport_error(e)),
                Poll::Pending => {}
            }
        }
        Ok(())
    }
}

impl Stream for WebSocketTransport {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Err(e) = this.poll_ping(cx) {
                return Poll::Ready(Some(Err(e)));
            }
            let polled = Pin::new(&mut this.inner).poll_next(cx);
            this.liveness
                .note_read(this.inner.get_mut().take_activity());
            let item = match polled {
                Poll::Ready(item) => item,
                Poll::Pending => {
                    // Nothing more to read: time for a Ping, or to give up on the router?
                    match this.liveness.poll_idle(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(())) => {
                            this.ping_queued = true;
                            continue;
                        }
                        Poll::Ready(Err(error)) => return Poll::Ready(Some(Err(error))),
                    }
                }
            };
            return Poll::Ready(match item {
                None => None,
                Some(Err(
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                )) => None,
                Some(Err(e)) => Some(Err(transport_error(e))),
                Some(Ok(WsMessage::Text(text))) if !this.serializer.is_binary() => {
                    Some(Ok(Bytes::from(text)))
                }
                Some(Ok(WsMessage::Binary(bytes))) if this.serializer.is_binary() => {
                    Some(Ok(bytes))
                }
                Some(Ok(WsMessage::Text(_))) => Some(Err(wrong_kind(this.serializer, "text"))),
                Some(Ok(WsMessage::Binary(_))) => Some(Err(wrong_kind(this.serializer, "binary"))),
                Some(Ok(WsMessage::Close(_))) => None,
                // Pings are answered by tungstenite itself on the next read, write or flush; any
                // frame already counted as a sign of life.
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => continue,
            });
        }
    }
}

impl Sink<Bytes> for WebSocketTransport {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match Pin::new(&mut self.inner).poll_ready(cx) {
            Poll::Ready(result) => {
                self.liveness.write_done();
                Poll::Ready(result.map_err(transport_error))
            }
            Poll::Pending => self.liveness.write_pending(cx),
        }
    }

    fn start_send(mut self: Pin<&mut Self>, item: Bytes) -> Result<(), Self::Error> {
        let message = if self.serializer.is_binary() {
            WsMessage::Binary(item)
        } else {
            let text = Utf8Bytes::try_from(item)
                .map_err(|_| TransportError::new("encoded JSON is not valid UTF-8"))?;
            WsMessage::Text(text)
        };
        Pin::new(&mut self.inner)
            .start_send(message)
            .map_err(transport_error)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(result) => {
                self.liveness.write_done();
                if result.is_ok() {
                    self.ping_unflushed = false;
                }
                Poll::Ready(result.map_err(transport_error))
            }
            Poll::Pending => self.liveness.write_pending(cx),
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.liveness.is_dead() {
            // No close handshake with a dead router: dropping the transport closes the socket.
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut self.inner).poll_close(cx) {
            Poll::Ready(Err(
                tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
            )) => Poll::Ready(Ok(())),
            other => other.map_err(transport_error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_errors_keep_their_io_error() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let text =
            tungstenite::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
                .to_string();
        let error = transport_error(tungstenite::Error::Io(reset));
        assert_eq!(error.to_string(), format!("WebSocket error: {text}"));
        assert_eq!(error.kind(), Some(std::io::ErrorKind::ConnectionReset));
        let other = transport_error(tungstenite::Error::ConnectionClosed);
        assert!(other.io_error().is_none(), "{other:?}");
    }
}
