//! Transports: carry encoded WAMP messages between this client and the router.
//!
//! A transport is a [`Stream`] of received messages and a [`Sink`] of messages to send, each one
//! complete WAMP message as bytes. The session task owns it; nothing else touches the socket.

mod websocket;

use std::fmt;

use bytes::Bytes;
use futures_util::{Sink, Stream};

use crate::error::ConnectError;
use crate::wire::Serializer;

pub(crate) use websocket::WebSocketOptions;

/// An I/O failure of an open transport.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub(crate) String);

/// Byte-message transport: what the session task reads from and writes to.
pub(crate) trait Transport:
    Stream<Item = Result<Bytes, TransportError>> + Sink<Bytes, Error = TransportError> + Send + Unpin
{
}

impl<T> Transport for T where
    T: Stream<Item = Result<Bytes, TransportError>>
        + Sink<Bytes, Error = TransportError>
        + Send
        + Unpin
{
}

/// An open transport and the serializer agreed with the router.
pub(crate) struct Connection {
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) serializer: Serializer,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("serializer", &self.serializer)
            .finish_non_exhaustive()
    }
}

/// Opens a transport to `url`, offering `serializers` in order of preference.
pub(crate) async fn connect(
    url: &str,
    serializers: &[Serializer],
    websocket: &WebSocketOptions,
) -> Result<Connection, ConnectError> {
    if serializers.is_empty() {
        return Err(ConnectError::new(
            url,
            "no serializer was offered; offer at least one",
        ));
    }
    let scheme = url
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("ws" | "wss") => websocket::connect(url, serializers, websocket).await,
        _ => Err(ConnectError::new(
            url,
            "unsupported URL scheme; use ws://host:port/path or wss://host:port/path",
        )),
    }
}
