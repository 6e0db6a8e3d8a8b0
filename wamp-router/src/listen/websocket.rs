//! The WebSocket server side: the upgrade (path and WAMP subprotocol), and the byte-message
//! [`Transport`](wampkit_client::transport::Transport) over the upgraded connection. One WAMP
//! message travels as one WebSocket message: text for JSON, binary otherwise.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, Utf8Bytes};
use wampkit_client::Serializer;
use wampkit_client::transport::TransportError;

/// Upgrades `stream` to WebSocket if the client asks for `path` and offers a WAMP
/// subprotocol, or answers with an HTTP error saying why not.
// The upgrade callback's error type is tungstenite's `ErrorResponse`, large or not.
#[allow(clippy::result_large_err)]
pub(super) async fn accept<S>(
    stream: S,
    path: &str,
    max_message_size: usize,
) -> Result<(WebSocketTransport<S>, Serializer), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut chosen = None;
    let callback = |request: &Request, response: Response| {
        let serializer = negotiate(request, path)?;
        chosen = Some(serializer);
        let mut response = response;
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(serializer.subprotocol()),
        );
        Ok(response)
    };
    // A small read buffer: tungstenite zero-fills its spare buffer before every read.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size));
    let upgraded = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config))
        .await
        .map_err(|e| match e {
            tungstenite::Error::Http(response) => format!(
                "WebSocket upgrade refused with HTTP {}: {}",
                response.status(),
                String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
            ),
            e => format!("WebSocket handshake failed: {e}"),
        })?;
    let serializer = chosen.ok_or("WebSocket handshake ended without a subprotocol")?;
    Ok((
        WebSocketTransport {
            inner: upgraded,
            serializer,
        },
        serializer,
    ))
}

/// The serializer for an upgrade request: the first WAMP subprotocol the client offers (in its
/// order of preference), if the request is for `path`.
#[allow(clippy::result_large_err)]
fn negotiate(request: &Request, path: &str) -> Result<Serializer, ErrorResponse> {
    if request.uri().path() != path {
        return Err(refusal(
            StatusCode::NOT_FOUND,
            format!("no WAMP endpoint here; this router listens on {path}"),
        ));
    }
    request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|offered| Serializer::from_subprotocol(offered.trim()))
        .ok_or_else(|| {
            refusal(
                StatusCode::BAD_REQUEST,
                "no WAMP subprotocol offered; offer wamp.2.json, wamp.2.msgpack or wamp.2.cbor \
                 in Sec-WebSocket-Protocol"
                    .to_owned(),
            )
        })
}

fn refusal(status: StatusCode, reason: String) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(reason));
    *response.status_mut() = status;
    response
}

/// The byte-message transport over an upgraded WebSocket. Pings are answered by tungstenite.
pub(super) struct WebSocketTransport<S> {
    inner: WebSocketStream<S>,
    serializer: Serializer,
}

fn transport_error(e: tungstenite::Error) -> TransportError {
    match e {
        tungstenite::Error::Capacity(tungstenite::error::CapacityError::MessageTooLong {
            size,
            max_size,
        }) => TransportError::new(format!(
            "the client sent a WebSocket message of {size} bytes, more than the {max_size} bytes \
             this router accepts"
        )),
        tungstenite::Error::Io(e) => TransportError::io("WebSocket I/O error", e),
        e => TransportError::new(format!("WebSocket error: {e}")),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketTransport<S> {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let binary = self.serializer.is_binary();
        loop {
            let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) else {
                return Poll::Pending;
            };
            return Poll::Ready(match item {
                None
                | Some(Err(
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                ))
                | Some(Ok(WsMessage::Close(_))) => None,
                Some(Err(e)) => Some(Err(transport_error(e))),
                Some(Ok(WsMessage::Text(text))) if !binary => Some(Ok(Bytes::from(text))),
                Some(Ok(WsMessage::Binary(bytes))) if binary => Some(Ok(bytes)),
                Some(Ok(WsMessage::Text(_) | WsMessage::Binary(_))) => {
                    Some(Err(TransportError::new(format!(
                        "the client sent a WebSocket message of the wrong kind on {}, which \
                         carries WAMP messages in {} messages only",
                        self.serializer.subprotocol(),
                        if binary { "binary" } else { "text" }
                    ))))
                }
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => continue,
            });
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Bytes> for WebSocketTransport<S> {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.inner)
            .poll_ready(cx)
            .map_err(transport_error)
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
        Pin::new(&mut self.inner)
            .poll_flush(cx)
            .map_err(transport_error)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match Pin::new(&mut self.inner).poll_close(cx) {
            // The client may have closed first; that is a clean end too.
            Poll::Ready(Err(
                tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
            )) => Poll::Ready(Ok(())),
            other => other.map_err(transport_error),
        }
    }
}
